// Update rules: SGD, momentum and Adam over the control voltages, with a per-control mask,
// every control clamped to its electrode's range after each step. The caller guarantees a
// finite gradient; the weights are therefore always finite and inside their ranges. A moment
// that overflows (Adam squares gradients: above about 1e19 the second moment is infinite) is
// counted in STATUS and that control's state restarts from the gradient alone.
import { MAX_CONTROLS, Field, Optimiser, Status, MIN_WORD, MAX_WORD, INITIAL_WORD, TRAINABLE_WORD } from "./layout";
import { statusF32, setStatusF32, bump } from "./status";
import { ACTIVE, configI32, configF32, wordAddress, controlCount } from "./config";
import { exponentialOf } from "./loss";
import { FULL } from "./features";

/** The learned arrays, MAX_CONTROLS f32 each, one after the other (a checkpoint walks them). */
export const LEARNED_ARRAYS = memory.data(3 * MAX_CONTROLS << 2);
/** Control voltages being learned. */
export const WEIGHTS = LEARNED_ARRAYS;
/** Optimiser state: momentum / Adam first moment, and Adam second moment. */
export const MOMENT1 = LEARNED_ARRAYS + (MAX_CONTROLS << 2);
export const MOMENT2 = LEARNED_ARRAYS + (2 * MAX_CONTROLS << 2);

@inline export function clampTo(v: f32, low: f32, high: f32): f32 {
  v = v > low ? v : low; // a NaN becomes `low`
  return v < high ? v : high;
}

/** Weights to their initial values, optimiser state to zero. */
export function optimiserReset(): void {
  for (let k = 0; k < controlCount; k++) {
    store<f32>(WEIGHTS + (k << 2), load<f32>(wordAddress(ACTIVE, INITIAL_WORD, k)));
  }
  memory.fill(MOMENT1, 0, 2 * MAX_CONTROLS << 2); // and MOMENT2
  setStatusF32(Status.Beta1Power, 1);
  setStatusF32(Status.Beta2Power, 1);
}

/** base^exponent for base >= 1: e^(exponent · ln base), ln from the atanh series of the
 *  mantissa (relative error < 1e-6), e^x from loss.ts. For SPSA's gain sequences. */
export function powerOf(base: f32, exponent: f32): f32 {
  const bits = reinterpret<i32>(base);
  const mantissa = reinterpret<f32>((bits & 0x007FFFFF) | 0x3F800000); // in [1, 2)
  const s = (mantissa - 1) / (mantissa + 1), s2 = s * s; //              s <= 1/3
  const logMantissa: f32 = <f32>2 * s * (1 + s2 * (<f32>(1.0 / 3) + s2 * (<f32>0.2 + s2 * (<f32>(1.0 / 7) + s2 * <f32>(1.0 / 9)))));
  return exponentialOf(exponent * (<f32>((bits >> 23) - 127) * <f32>0.6931472 + logMantissa));
}

/** One step downhill along `gradient` (f32 per control), the learning rate times `gain`. */
export function optimiserStep(gradient: usize, gain: f32): void {
  const kind = configI32(ACTIVE, Field.Optimiser);
  const rate = configF32(ACTIVE, Field.LearningRate) * gain;
  const beta1 = configF32(ACTIVE, Field.Beta1), beta2 = configF32(ACTIVE, Field.Beta2);
  const epsilon = configF32(ACTIVE, Field.Epsilon);
  // β1^t and β2^t for Adam's bias correction, kept as products (no pow), in STATUS
  const beta1Power = statusF32(Status.Beta1Power) * beta1, beta2Power = statusF32(Status.Beta2Power) * beta2;
  setStatusF32(Status.Beta1Power, beta1Power);
  setStatusF32(Status.Beta2Power, beta2Power);
  for (let k = 0; k < controlCount; k++) {
    if (load<i32>(wordAddress(ACTIVE, TRAINABLE_WORD, k)) == 0) continue;
    const offset = <usize>k << 2;
    const g = load<f32>(gradient + offset);
    let change: f32 = g; // SGD
    if (FULL && kind == Optimiser.Momentum) {
      change = beta1 * load<f32>(MOMENT1 + offset) + g;
      if (!isFinite(change)) { // overflowed: the momentum restarts from this gradient
        bump(Status.OptimiserResets);
        change = g;
      }
      store<f32>(MOMENT1 + offset, change);
    } else if (!FULL || kind == Optimiser.Adam) { // the core's one rule (config.ts)
      let m = beta1 * load<f32>(MOMENT1 + offset) + (1 - beta1) * g;
      let v = beta2 * load<f32>(MOMENT2 + offset) + (1 - beta2) * g * g;
      const vHat = v / (1 - beta2Power); // ∞ would freeze the control: m/∞ = 0
      change = m / (1 - beta1Power) / (Mathf.sqrt(vHat) + epsilon);
      if (!isFinite(vHat + change)) { // g² overflowed: the moments restart, and this step is
        bump(Status.OptimiserResets); // Adam's first from zero state, ±1
        m = 0;
        v = 0;
        change = g > 0 ? 1 : -1;
      }
      store<f32>(MOMENT1 + offset, m);
      store<f32>(MOMENT2 + offset, v);
    }
    const w = load<f32>(WEIGHTS + offset) - rate * change;
    store<f32>(WEIGHTS + offset, clampTo(w, load<f32>(wordAddress(ACTIVE, MIN_WORD, k)), load<f32>(wordAddress(ACTIVE, MAX_WORD, k))));
  }
}
