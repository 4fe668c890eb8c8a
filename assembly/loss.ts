// Losses over the input cases' mean outputs, each with its exact derivative with respect to every
// case's output (the chain rule then gives ∂L/∂control). Single precision throughout (the boards'
// FPUs), with two-pass means. Assumes |outputs| and |targets| below 1e15, so every square fits f32.
import { Loss } from "./layout";
import { FULL } from "./features";

/** Added to every sum of squared deviations (output units²): keeps ρ and the Fisher ratio finite
 *  when outputs are all equal. Shifts ρ by a relative 5e-13/Σ(y−ȳ)², nothing at real noise. */
const VARIANCE_FLOOR: f32 = 1e-12;
/** Fisher: the denominator also gets FISHER_CAP_RATIO·(m1−m0)², so the loss stays above −1e6. */
const FISHER_CAP_RATIO: f32 = 1e-6;
/** Corrsig: |Δ/marginScale| is clamped to this (sigmoid(−40) = 4e-18); beyond it the loss is flat
 *  in Δ and only ρ has a gradient. marginScale is floored at 1e-12 so Δ/marginScale is finite. */
const MARGIN_CLAMP: f32 = 40;
const MARGIN_SCALE_FLOOR: f32 = 1e-12;

/** Loss of `count` case outputs (f32 at `outputs`) against targets (f32 at `targets`); writes
 *  ∂L/∂y_p (f32) to gradOut for p < count and returns L. Targets are classes for Corrsig and
 *  Fisher: class 1 if t > 0.5. Finite for finite inputs:
 *  - MSE: mean of (y−t)², gradient 2(y−t)/count. count < 1 gives 0.
 *  - Corrsig: (1.1 − ρ)·(1 + e^(−Δ/marginScale)), ρ the Pearson correlation of y and t with
 *    VARIANCE_FLOOR added to both sums of squares (all outputs equal: ρ = 0 and a finite but
 *    large gradient along the targets, (t − t̄)/√(VARIANCE_FLOOR·Σ(t − t̄)²) ≈ 1e6 for a gate),
 *    Δ = min(y | class 1) − max(y | class 0) with its gradient on the first arg-min and arg-max.
 *    A class empty: 2.2 (ρ = 0, Δ = 0) and a zero gradient.
 *  - Fisher: −(m1−m0)²/(s0 + s1 + FISHER_CAP_RATIO·(m1−m0)² + VARIANCE_FLOOR), s = within-class
 *    variance (divided by the class size); a class empty: 0 with zero gradient. */
export function evaluateLoss(
  kind: i32,
  outputs: usize,
  targets: usize,
  count: i32,
  marginScale: f32,
  gradOut: usize,
): f32 {
  if (count < 1) return 0;
  let size = <f32>count;
  // Pass 1: sums, class sizes, the class-1 minimum and the class-0 maximum.
  let size1: f32 = 0;
  let sum1: f32 = 0;
  let sum0: f32 = 0;
  let sumTarget: f32 = 0;
  let squaredErrors: f32 = 0;
  let lowest1 = -1; // index of the smallest class-1 output
  let highest0 = -1; // index of the largest class-0 output
  for (let p = 0; p < count; p++) {
    let y = output(outputs, p);
    let target = output(targets, p);
    squaredErrors += (y - target) * (y - target);
    sumTarget += target;
    if (target > 0.5) {
      size1++;
      sum1 += y;
      if (lowest1 < 0 || y < output(outputs, lowest1)) lowest1 = p;
    } else {
      sum0 += y;
      if (highest0 < 0 || y > output(outputs, highest0)) highest0 = p;
    }
  }
  let size0 = size - size1;
  let mean1 = sum1 / size1;
  let mean0 = sum0 / size0;
  let meanAll = (sum1 + sum0) / size;
  let meanTarget = sumTarget / size;
  // Pass 2: sums of squares about those means.
  let squares1: f32 = 0; // Σ over class 1 of (y − mean1)²
  let squares0: f32 = 0;
  let squaresAll: f32 = VARIANCE_FLOOR; // Σ (y − ȳ)²
  let squaresTarget: f32 = VARIANCE_FLOOR; // Σ (t − t̄)²
  let products: f32 = 0; // Σ (y − ȳ)(t − t̄)
  for (let p = 0; p < count; p++) {
    let y = output(outputs, p);
    let target = output(targets, p);
    let deviation = y - meanAll;
    let targetDeviation = target - meanTarget;
    squaresAll += deviation * deviation;
    squaresTarget += targetDeviation * targetDeviation;
    products += deviation * targetDeviation;
    if (FULL) { // (Fisher's: not in the core)
      if (target > 0.5) squares1 += (y - mean1) * (y - mean1);
      else squares0 += (y - mean0) * (y - mean0);
    }
  }
  // Every gradient is slope_k (y_p − center_k) + targetSlope t_p + offset_k, k the case's class.
  let slope1: f32 = 0;
  let slope0: f32 = 0;
  let center1: f32 = 0;
  let center0: f32 = 0;
  let offset1: f32 = 0;
  let offset0: f32 = 0;
  let targetSlope: f32 = 0;
  let loss: f32 = kind == Loss.Fisher ? 0 : 2.2; // a class empty: nothing to separate
  let pull: f32 = 0; // Corrsig: ∂L/∂Δ
  if (kind == Loss.MSE) {
    slope1 = slope0 = 2 / size;
    targetSlope = -slope1;
    loss = squaredErrors / size;
  } else if (size1 > 0 && size0 > 0) {
    if (FULL && kind == Loss.Fisher) { // (not in the core: config.ts)
      // L = −R, R = D²/Q, D = m1 − m0, Q = s0 + s1 + cD² + floor. From ∂D = ±1/n_k and
      // ∂s_k = 2(y_p − m_k)/n_k: ∂L/∂y_p = 2/(n_k Q) · (R (y_p − m_k) ∓ D (1 − cR)).
      let difference = mean1 - mean0;
      let squared = difference * difference;
      let within = squares1 / size1 + squares0 / size0; // s1 + s0
      let denominator = within + FISHER_CAP_RATIO * squared + VARIANCE_FLOOR;
      let ratio = squared / denominator;
      let scale1: f32 = 2 / (size1 * denominator);
      let scale0: f32 = 2 / (size0 * denominator);
      slope1 = scale1 * ratio;
      slope0 = scale0 * ratio;
      center1 = mean1;
      center0 = mean0;
      let shift = difference * (1 - FISHER_CAP_RATIO * ratio);
      offset1 = -scale1 * shift;
      offset0 = scale0 * shift;
      loss = -ratio;
    } else {
      // Corrsig: ρ = S_yt / √(S_yy S_tt), ∂ρ/∂y_p = (t_p − t̄)/√(S_yy S_tt) − ρ (y_p − ȳ)/S_yy;
      // L = (1.1 − ρ)(1 + E), E = e^(−Δ/s); ∂L/∂Δ = −(1.1 − ρ) E / s (zero where clamped).
      let root = Mathf.sqrt(squaresAll) * Mathf.sqrt(squaresTarget);
      let correlation = products / root;
      let scale = max(marginScale, MARGIN_SCALE_FLOOR);
      let exponent = (output(outputs, highest0) - output(outputs, lowest1)) / scale;
      let growth = exponentialOf(min(max(exponent, -MARGIN_CLAMP), MARGIN_CLAMP)); // 1/sigmoid − 1
      let factor: f32 = 1 + growth;
      let shortfall: f32 = 1.1 - correlation;
      slope1 = slope0 = factor * correlation / squaresAll;
      center1 = center0 = meanAll;
      targetSlope = -factor / root;
      offset1 = offset0 = factor * meanTarget / root;
      if (abs(exponent) <= MARGIN_CLAMP) pull = -shortfall * growth / scale;
      loss = shortfall * factor;
    }
  }
  for (let p = 0; p < count; p++) {
    let one = output(targets, p) > 0.5;
    store<f32>(
      gradOut + (<usize>p << 2),
      (one ? slope1 : slope0) * (output(outputs, p) - (one ? center1 : center0)) +
        targetSlope * output(targets, p) + (one ? offset1 : offset0),
    );
  }
  // ∂Δ/∂y is +1 at the class-1 minimum and −1 at the class-0 maximum (pull is 0 but for Corrsig).
  if (pull != 0) {
    let at = gradOut + (<usize>lowest1 << 2);
    store<f32>(at, load<f32>(at) + pull);
    at = gradOut + (<usize>highest0 << 2);
    store<f32>(at, load<f32>(at) - pull);
  }
  return loss;
}

// @ts-ignore: decorator
@inline function output(values: usize, index: i32): f32 {
  return load<f32>(values + (<usize>index << 2));
}

/** e^x for |x| <= 80 (Corrsig uses |x| <= 40), about 110 bytes where Mathf.exp costs 400.
 *  x = k·ln2 + r with |r| <= ln2/2 (ln2 split so that k·LN2_HIGH is exact), e^r by its degree-6
 *  Taylor polynomial (truncation 1.2e-7 relative), 2^k from the exponent bits. Max relative error
 *  2.5e-7 (about 2 f32 ulp), measured against f64 exp at 800001 points of [−40, 40]. */
export function exponentialOf(x: f32): f32 {
  const LN2_HIGH: f32 = 0.693145751953125; // 0x3f317200: 12 trailing zero bits
  const LN2_LOW: f32 = 1.428606765330187e-6;
  let k = nearest<f32>(x * 1.4426950408889634);
  let r = x - k * LN2_HIGH - k * LN2_LOW;
  // e^r = 1 + r(1 + r/2 (1 + r/3 (… (1 + r/6)))) to degree 6
  let taylor: f32 = 1;
  for (let n = 6; n > 0; n--) taylor = 1 + r * taylor / <f32>n;
  return taylor * reinterpret<f32>((<i32>k + 127) << 23);
}
