// The losses: every gradient against a central difference of an f64 reference written here from
// the documented definitions, hand-computed values, the e^x approximation's error, and finite
// results on degenerate inputs.
import { evaluateLoss, exponentialOf } from "../../assembly/loss";
import { Loss } from "../../assembly/layout";

const OUTPUTS = memory.data(16 << 2);
const TARGETS = memory.data(16 << 2);
const GRADIENT = memory.data(16 << 2);

function setOutput(p: i32, value: f32): void {
  store<f32>(OUTPUTS + (p << 2), value);
}
function setTarget(p: i32, value: f32): void {
  store<f32>(TARGETS + (p << 2), value);
}
function outputAt(p: i32): f64 {
  return <f64>load<f32>(OUTPUTS + (p << 2));
}
function targetAt(p: i32): f64 {
  return <f64>load<f32>(TARGETS + (p << 2));
}
function gradientAt(p: i32): f64 {
  return <f64>load<f32>(GRADIENT + (p << 2));
}

/** The outputs as f64 (so the reference sees exactly what the module sees), one perturbable. */
const values = new StaticArray<f64>(16);

/** f64 reference of each loss on `values`, from the definitions in loss.ts, floors included. */
function reference(kind: i32, count: i32, marginScale: f64): f64 {
  let n1 = 0.0, n0 = 0.0, sum1 = 0.0, sum0 = 0.0, sumTarget = 0.0, squaredErrors = 0.0;
  let lowest1 = Infinity, highest0 = -Infinity;
  for (let p = 0; p < count; p++) {
    const y = values[p];
    const t = targetAt(p);
    squaredErrors += (y - t) * (y - t);
    sumTarget += t;
    if (t > 0.5) { n1 += 1; sum1 += y; lowest1 = Math.min(lowest1, y); }
    else { n0 += 1; sum0 += y; highest0 = Math.max(highest0, y); }
  }
  if (kind == Loss.MSE) return squaredErrors / count;
  if (n1 == 0 || n0 == 0) return kind == Loss.Fisher ? 0 : 2.2;
  const mean1 = sum1 / n1, mean0 = sum0 / n0;
  const meanAll = (sum1 + sum0) / count, meanTarget = sumTarget / count;
  let squares1 = 0.0, squares0 = 0.0, squaresAll = 1e-12, squaresTarget = 1e-12, products = 0.0;
  for (let p = 0; p < count; p++) {
    const y = values[p];
    const t = targetAt(p);
    squaresAll += (y - meanAll) * (y - meanAll);
    squaresTarget += (t - meanTarget) * (t - meanTarget);
    products += (y - meanAll) * (t - meanTarget);
    if (t > 0.5) squares1 += (y - mean1) * (y - mean1);
    else squares0 += (y - mean0) * (y - mean0);
  }
  if (kind == Loss.Fisher) {
    const d2 = (mean1 - mean0) * (mean1 - mean0);
    return -d2 / (squares1 / n1 + squares0 / n0 + 1e-6 * d2 + 1e-12);
  }
  const rho = products / Math.sqrt(squaresAll * squaresTarget);
  const exponent = Math.min(Math.max(-(lowest1 - highest0) / Math.max(marginScale, 1e-12), -40), 40);
  return (1.1 - rho) * (1 + Math.exp(exponent)); // (1.1 − ρ) / sigmoid(Δ/s)
}

/** Evaluates the module's loss and compares every gradient component with an f64 central
 *  difference of the reference (step 1e-5 on outputs of order 10: truncation ~1e-10, rounding
 *  ~1e-11, both far below f32's ~1e-7). Returns the largest |module − difference| divided by the
 *  largest |difference| (the gradient's scale), and checks the loss value to 1e-5 relative. */
function gradientError(kind: i32, count: i32, marginScale: f32): f64 {
  const loss = evaluateLoss(kind, OUTPUTS, TARGETS, count, marginScale, GRADIENT);
  for (let p = 0; p < count; p++) values[p] = outputAt(p);
  const exact = reference(kind, count, marginScale);
  expect(Math.abs(<f64>loss - exact)).toBeLessThanOrEqual(1e-5 * Math.abs(exact) + 1e-6);
  let worst = 0.0, scale = 0.0;
  for (let p = 0; p < count; p++) {
    const y = values[p];
    const step = 1e-5 * Math.max(1, Math.abs(y));
    values[p] = y + step;
    const above = reference(kind, count, marginScale);
    values[p] = y - step;
    const below = reference(kind, count, marginScale);
    values[p] = y;
    const difference = (above - below) / (2 * step);
    worst = Math.max(worst, Math.abs(gradientAt(p) - difference));
    scale = Math.max(scale, Math.abs(difference));
  }
  return worst / scale;
}

let seed: u32 = 2024;
/** Uniform in [−50, 50): outputs of order 10 (nA-like). */
function randomOutput(): f32 {
  seed = seed * 1664525 + 1013904223;
  return <f32>(<f64>(seed >> 8) / 16777216.0 * 100 - 50);
}

/** The worst relative gradient error over all 14 non-constant 4-case labellings (every Boolean
 *  gate), 3 random output vectors each, and 20 random 16-case problems. */
function worstOverProblems(kind: i32, marginScale: f32): f64 {
  let worst = 0.0;
  for (let labels = 1; labels < 15; labels++) {
    for (let trial = 0; trial < 3; trial++) {
      for (let p = 0; p < 4; p++) {
        setTarget(p, <f32>((labels >> p) & 1));
        setOutput(p, randomOutput());
      }
      worst = Math.max(worst, gradientError(kind, 4, marginScale));
    }
  }
  for (let trial = 0; trial < 20; trial++) {
    for (let p = 0; p < 16; p++) {
      seed = seed * 1664525 + 1013904223;
      setTarget(p, p == 0 ? 0 : p == 1 ? 1 : <f32>(seed >> 31)); // both classes present
      setOutput(p, randomOutput());
    }
    worst = Math.max(worst, gradientError(kind, 16, marginScale));
  }
  return worst;
}

/** True if the returned loss and every gradient component written are finite. */
function allFinite(kind: i32, count: i32, marginScale: f32): bool {
  const loss = evaluateLoss(kind, OUTPUTS, TARGETS, count, marginScale, GRADIENT);
  let finite = isFinite(loss);
  for (let p = 0; p < count; p++) finite = finite && isFinite(gradientAt(p));
  return finite;
}

function setCase(outputs: f32[], targets: f32[]): void {
  for (let p = 0; p < outputs.length; p++) {
    setOutput(p, outputs[p]);
    setTarget(p, targets[p]);
  }
}

describe("loss gradients (f32 module against an f64 central difference)", () => {
  // f32 arithmetic gives errors of 2e-8 (MSE), 8e-7 (Corrsig) and 5e-6 (Fisher) of the gradient's
  // largest component (measured); 1e-4 leaves a margin of 20 or more, yet any wrong term is off
  // by O(1) (checked by breaking the sign of ∂L/∂Δ, a Fisher offset and the Corrsig slope).
  it("MSE: within 1e-4 of the gradient's largest component, 4-case gates and 16 cases", () => {
    expect(worstOverProblems(Loss.MSE, 10)).toBeLessThan(1e-4);
  });

  it("Corrsig (marginScale 10): within 1e-4 of the gradient's largest component", () => {
    expect(worstOverProblems(Loss.Corrsig, 10)).toBeLessThan(1e-4);
  });

  it("Corrsig (marginScale 0.5, so |Δ/s| often passes the clamp at 40): within 1e-4", () => {
    expect(worstOverProblems(Loss.Corrsig, 0.5)).toBeLessThan(1e-4);
  });

  it("Fisher: within 1e-4 of the gradient's largest component", () => {
    expect(worstOverProblems(Loss.Fisher, 10)).toBeLessThan(1e-4);
  });
});

describe("loss values", () => {
  it("MSE of outputs 1, 2, 3, 4 against 0, 2, 5, 4 is (1 + 4)/4 = 1.25, gradient 2(y−t)/4", () => {
    setCase([1, 2, 3, 4], [0, 2, 5, 4]);
    expect(evaluateLoss(Loss.MSE, OUTPUTS, TARGETS, 4, 1, GRADIENT)).toBe(1.25);
    expect(gradientAt(0)).toBe(0.5);
    expect(gradientAt(1)).toBe(0);
    expect(gradientAt(2)).toBe(-1);
    expect(gradientAt(3)).toBe(0);
  });

  it("Corrsig of XOR outputs −1, 1, 3, 1: ρ = 2/√8, Δ = 0, so (1.1 − 1/√2)·2 = 0.7857864", () => {
    setCase([-1, 1, 3, 1], [0, 1, 1, 0]);
    expect(evaluateLoss(Loss.Corrsig, OUTPUTS, TARGETS, 4, 1, GRADIENT)).toBeCloseTo(0.7857864, 6);
  });

  it("Corrsig of XOR outputs −1, 2, 3, 0 at scale 2: ρ = 3/√10, Δ = 2, (1.1 − ρ)/sigmoid(1) = 0.2069830", () => {
    setCase([-1, 2, 3, 0], [0, 1, 1, 0]);
    expect(evaluateLoss(Loss.Corrsig, OUTPUTS, TARGETS, 4, 2, GRADIENT)).toBeCloseTo(0.206983, 6);
  });

  it("Fisher of XOR outputs 0, 2, 4, 0: −(3 − 0)²/(1 + 0 + 1e-6·9) = −8.999919", () => {
    setCase([0, 2, 4, 0], [0, 1, 1, 0]);
    expect(evaluateLoss(Loss.Fisher, OUTPUTS, TARGETS, 4, 1, GRADIENT)).toBeCloseTo(-8.999919, 5);
  });
});

describe("degenerate inputs stay finite", () => {
  it("all outputs equal: MSE finite, Corrsig 2.2 (ρ = 0, Δ = 0) with a finite gradient, Fisher 0", () => {
    setCase([3, 3, 3, 3], [0, 1, 1, 0]);
    expect(allFinite(Loss.MSE, 4, 1)).toBe(true);
    expect(allFinite(Loss.Corrsig, 4, 1)).toBe(true);
    expect(evaluateLoss(Loss.Corrsig, OUTPUTS, TARGETS, 4, 1, GRADIENT)).toBeCloseTo(2.2, 6);
    expect(allFinite(Loss.Fisher, 4, 1)).toBe(true);
    expect(evaluateLoss(Loss.Fisher, OUTPUTS, TARGETS, 4, 1, GRADIENT)).toBe(0);
    for (let p = 0; p < 4; p++) expect(gradientAt(p)).toBe(0);
  });

  it("a class empty: Corrsig 2.2 and Fisher 0, both with a zero gradient", () => {
    setCase([1, 2, 3, 4], [1, 1, 1, 1]);
    expect(evaluateLoss(Loss.Corrsig, OUTPUTS, TARGETS, 4, 1, GRADIENT)).toBeCloseTo(2.2, 6);
    for (let p = 0; p < 4; p++) expect(gradientAt(p)).toBe(0);
    expect(evaluateLoss(Loss.Fisher, OUTPUTS, TARGETS, 4, 1, GRADIENT)).toBe(0);
    for (let p = 0; p < 4; p++) expect(gradientAt(p)).toBe(0);
  });

  it("separated classes with no spread (s0 + s1 = 0): Fisher is capped near −1e6, finite gradient", () => {
    setCase([0, 5, 5, 0], [0, 1, 1, 0]);
    expect(allFinite(Loss.Fisher, 4, 1)).toBe(true);
    const loss = evaluateLoss(Loss.Fisher, OUTPUTS, TARGETS, 4, 1, GRADIENT);
    expect(loss).toBeLessThan(-0.99e6);
    expect(loss).toBeGreaterThanOrEqual(-1e6);
    expect(allFinite(Loss.Corrsig, 4, 1)).toBe(true);
  });

  it("at the cap (no spread) Fisher is flat and so is its gradient (exactly 0.008 a case: 2D·1e-12/(25e-6)² / 2): below 0.1, not the uncapped ratio's 2e5", () => {
    // L = −D²/(1e-6·D² + 1e-12): ∂L/∂D = −2D·1e-12/(1e-6·D² + 1e-12)² = −0.016 at D = 5, half of it
    // on each case; without the cap's (1 − cR) factor the offsets are 2/(n·Q)·D = 2e5
    setCase([0, 5, 5, 0], [0, 1, 1, 0]);
    evaluateLoss(Loss.Fisher, OUTPUTS, TARGETS, 4, 1, GRADIENT);
    for (let p = 0; p < 4; p++) expect(Math.abs(gradientAt(p))).toBeLessThan(0.1);
  });

  it("outputs of ±1e15, marginScale 0, and classes inverted by 1e15 (clamped Δ): all finite", () => {
    setCase([1e15, -1e15, -1e15, 1e15], [0, 1, 1, 0]);
    for (let kind = 0; kind < 3; kind++) expect(allFinite(kind, 4, 0)).toBe(true);
    setCase([1e-20, 0, 0, 0], [0, 1, 1, 0]); // nearly equal, tiny spread
    for (let kind = 0; kind < 3; kind++) expect(allFinite(kind, 4, 1e-12)).toBe(true);
  });

  it("ties at the class minimum and maximum, a single case, and no cases: finite", () => {
    setCase([1, 1, 1, 1, 0, 0], [1, 1, 0, 0, 1, 0]);
    for (let kind = 0; kind < 3; kind++) expect(allFinite(kind, 6, 1)).toBe(true);
    for (let kind = 0; kind < 3; kind++) expect(allFinite(kind, 1, 1)).toBe(true);
    for (let kind = 0; kind < 3; kind++) expect(evaluateLoss(kind, OUTPUTS, TARGETS, 0, 1, GRADIENT)).toBe(0);
  });
});

describe("exponentialOf", () => {
  it("is within 3e-7 relative of e^x over [−40, 40] (range reduction + degree-6 Taylor)", () => {
    let worst = 0.0;
    for (let i = -400000; i <= 400000; i++) {
      const x = <f32>(<f64>i * 1e-4);
      const exact = Math.exp(<f64>x);
      worst = Math.max(worst, Math.abs(<f64>exponentialOf(x) - exact) / exact);
    }
    expect(worst).toBeLessThan(3e-7); // measured 2.5e-7, about 2 f32 ulp
  });
});
