// The configuration block the host writes (CONFIG) and the validated copy the controller runs
// on (ACTIVE). validate() checks every field and names the first bad one; only a block that
// passes is copied, so a failed configure leaves the previous configuration running.
import {
  Field, ToneMode, Loss, Gradient, Perturbation, CONFIG_VERSION, CONFIG_WORDS, PERTURBATION_KINDS, MAX_WINDOW_SAMPLES, codePeriod,
  MAX_CONTROLS, MAX_INPUTS, MAX_CASES, MAX_ABS_VOLTS, TONE_BIN_WORD, AMPLITUDE_WORD, MIN_WORD, MAX_WORD,
  INITIAL_WORD, TRAINABLE_WORD, INPUT_MIN_WORD, INPUT_MAX_WORD, CASE_INPUT_WORD, TARGET_WORD,
  Demodulation, Optimiser,
} from "./layout";
import { FULL, LONGEST_WINDOW } from "./features";

export const CONFIG = memory.data(CONFIG_WORDS << 2, 16);
export const ACTIVE = memory.data(CONFIG_WORDS << 2, 16);

const MAX_VOLTS: f32 = <f32>MAX_ABS_VOLTS;
const MAX_ABS_READING: f32 = 1e12;

/** Element of the array field named by the last error. */
export let errorIndex: i32 = 0;
/** The running configuration's control count and window (samples), which every module's
 *  per-sample loop needs: cached here once, by activate(). */
export let controlCount: i32 = 0;
export let windowSamples: i32 = 1;

@inline export function configI32(block: usize, field: i32): i32 { return load<i32>(block + (<usize>field << 2)); }
@inline export function configF32(block: usize, field: i32): f32 { return load<f32>(block + (<usize>field << 2)); }
@inline export function wordAddress(block: usize, word: i32, index: i32): usize { return block + (<usize>(word + index) << 2); }

@inline function within(x: f32, low: f32, high: f32): bool { return x >= low && x <= high; } // false for NaN

// Every header field must hold a valid value, used or not: a low and a high bound (inclusive)
// per field id 1..LAST_HEADER_FIELD (f32 values; an i32 field is compared in f64, exactly).
const F32_FIELDS: u64 = (1 << Field.SampleRateHz) | (1 << Field.BandLowHz) | (1 << Field.BandHighHz) |
  (1 << Field.MarginScale) | (1 << Field.LearningRate) | (1 << Field.Beta1) | (1 << Field.Beta2) |
  (1 << Field.Epsilon) | (1 << Field.LagDelaySamples) | (1 << Field.LagCornerHz) |
  (1 << Field.StreamTauSamples) | (1 << Field.ReadingMin) | (1 << Field.ReadingMax) | (1 << Field.SpsaStability) | (1 << Field.SlewVPerS);
/** The last header field: validate() checks fields 1 .. LAST_HEADER_FIELD. */
export const LAST_HEADER_FIELD = Field.PlanOrder;
const BELOW_ONE: f32 = 0.99999994; // the largest f32 < 1
const TINY: f32 = 1e-30;
// The bounds are 19 distinct values, each stored once; a field's two bounds are one byte of
// BOUNDS, the low nibble indexing BOUND_VALUES[0..15] (L_*), the high one BOUND_VALUES[3..18]
// (H_*). 110 bytes where two f32 tables took 228.
// prettier-ignore
const BOUND_VALUES = memory.data<f32>([
  0, TINY, -MAX_ABS_READING, <f32>CONFIG_VERSION, <f32>MAX_INPUTS, 1e9, <f32>MAX_WINDOW_SAMPLES, 16777216,
  <f32>MAX_CONTROLS, <f32>MAX_CASES, 64, 2, 1e30, BELOW_ONE, <f32>(PERTURBATION_KINDS - 1), 1e6, 1024, MAX_ABS_READING, 3]);
const L_0: u8 = 0, L_TINY: u8 = 1, L_READING: u8 = 2, L_1: u8 = 3, L_8: u8 = 4, L_2: u8 = 11;
const H_1: u8 = 0 << 4, H_8: u8 = 1 << 4, H_1E9: u8 = 2 << 4, H_WINDOW: u8 = 3 << 4, H_2_24: u8 = 4 << 4, H_CONTROLS: u8 = 5 << 4,
  H_CASES: u8 = 6 << 4, H_64: u8 = 7 << 4, H_2: u8 = 8 << 4, H_1E30: u8 = 9 << 4, H_BELOW_ONE: u8 = 10 << 4, H_KINDS: u8 = 11 << 4,
  H_1E6: u8 = 12 << 4, H_1024: u8 = 13 << 4, H_READING: u8 = 14 << 4, H_3: u8 = 15 << 4;
// prettier-ignore
const BOUNDS = memory.data<u8>([0,
  L_1 | H_1, L_1 | H_1E9, L_8 | H_WINDOW, L_0 | H_2_24, L_1 | H_CONTROLS, //          Version .. ControlCount
  L_0 | H_8, L_1 | H_CASES, L_0 | H_1, L_0 | H_1E9, L_0 | H_1E9, //                     InputCount .. BandHighHz
  L_0 | H_64, L_0 | H_2, L_TINY | H_1E30, L_0 | H_2, L_TINY | H_1E30, //              GuardBins .. LearningRate
  L_0 | H_BELOW_ONE, L_0 | H_BELOW_ONE, L_TINY | H_1E30, L_0 | H_KINDS, L_0 | H_2, // Beta1 .. Gradient
  L_0 | H_1, L_0 | H_1E6, L_0 | H_1E9, L_0 | H_1024, L_1 | H_KINDS, //                Demodulation .. StreamOrder
  L_1 | H_1E9, L_READING | H_READING, L_READING | H_READING, L_1 | H_WINDOW, L_1 | H_2_24, // .. Seed
  L_0 | H_1E9, L_TINY | H_1E30, L_2 | H_3]); //                                      SpsaStability .. PlanOrder

/** The low (or high) bound of header field `field`, 1..LAST_HEADER_FIELD. */
@inline export function fieldBound(field: i32, high: bool): f32 {
  const packed = <usize>load<u8>(BOUNDS + field);
  return load<f32>(BOUND_VALUES + ((high ? (packed >> 4) + 3 : packed & 15) << 2));
}

/** Returns 0 if the block at CONFIG is valid, else the id of the first invalid field
 *  (errorIndex names the element of an array field). Reads nothing outside the block. */
export function validate(): i32 {
  const b = CONFIG;
  errorIndex = 0;
  for (let field = Field.Version; field <= LAST_HEADER_FIELD; field++) {
    // in f64: an i32 such as 2^24 + 1 has no f32 of its own
    const value: f64 = (F32_FIELDS >> field) & 1 ? <f64>configF32(b, field) : <f64>configI32(b, field);
    if (!(value >= <f64>fieldBound(field, false) && value <= <f64>fieldBound(field, true))) return field; // false for NaN
  }
  const sampleRateHz = configF32(b, Field.SampleRateHz);
  if (configF32(b, Field.BandLowHz) >= sampleRateHz / 2) return Field.BandLowHz;
  const high = configF32(b, Field.BandHighHz);
  if (high <= configF32(b, Field.BandLowHz) || high > sampleRateHz / 2) return Field.BandHighHz;
  if (configF32(b, Field.ReadingMax) <= configF32(b, Field.ReadingMin)) return Field.ReadingMax;
  const loss = configI32(b, Field.Loss);
  const gradient = configI32(b, Field.Gradient);
  const window = configI32(b, Field.WindowSamples);
  const controls = configI32(b, Field.ControlCount);
  const inputs = configI32(b, Field.InputCount);
  const cases = configI32(b, Field.CaseCount);
  const toneMode = configI32(b, Field.ToneMode);
  const perturbation = configI32(b, Field.Perturbation);
  if (!FULL) { // the core build (features.ts): planned order-3 tones over windows with their
    //            own sine table, the projection onto a given lag, a Jacobian, corrsig or MSE, Adam
    if (window > LONGEST_WINDOW) return Field.WindowSamples;
    if (toneMode != ToneMode.Plan) return Field.ToneMode;
    if (loss == Loss.Fisher) return Field.Loss;
    if (configI32(b, Field.Optimiser) != Optimiser.Adam) return Field.Optimiser;
    if (perturbation != Perturbation.Sinusoid) return Field.Perturbation;
    if (gradient != Gradient.Jacobian) return Field.Gradient;
    if (configI32(b, Field.Demodulation) != Demodulation.Projection) return Field.Demodulation;
    if (configI32(b, Field.CalibrationEpochs) != 0) return Field.CalibrationEpochs;
    if (configI32(b, Field.PlanOrder) == 2) return Field.PlanOrder; // (the bounds allow 2 and 3)
  } else { // the combinations of what the full build has
    if (gradient != Gradient.Jacobian && loss != Loss.MSE) return Field.Gradient;
    if (gradient == Gradient.Streaming && cases != 1) return Field.CaseCount; // no input cases
    // streaming is a lock-in of tones: its low-passes expect sinusoids
    if (gradient == Gradient.Streaming && perturbation != Perturbation.Sinusoid) return Field.Perturbation;
    // a code's window holds whole periods of it (ChipSamples is a code's: tones have bins)
    if (perturbation != Perturbation.Sinusoid && window % (configI32(b, Field.ChipSamples) * codePeriod(perturbation, controls)) != 0) return Field.WindowSamples;
    // one tone's phase is known only modulo π (lockin.ts: the fit needs no signs): from it a
    // lag may come out half a turn off, and every derivative with the wrong sign
    const calibrates = configI32(b, Field.CalibrationEpochs) != 0 && perturbation == Perturbation.Sinusoid && gradient != Gradient.Streaming;
    if (calibrates && controls < 2) return Field.CalibrationEpochs;
  }

  for (let k = 0; k < controls; k++) {
    errorIndex = k;
    if (FULL && toneMode == ToneMode.Explicit && perturbation == Perturbation.Sinusoid) {
      const bin = load<i32>(wordAddress(b, TONE_BIN_WORD, k));
      if (bin < 1 || bin > (window - 1) >> 1) return Field.ToneBin; // below Nyquist
      for (let j = 0; j < k; j++) if (load<i32>(wordAddress(b, TONE_BIN_WORD, j)) == bin) return Field.ToneBin;
    }
    const low = load<f32>(wordAddress(b, MIN_WORD, k)), high = load<f32>(wordAddress(b, MAX_WORD, k));
    if (!within(low, -MAX_VOLTS, MAX_VOLTS)) return Field.MinV;
    if (!within(high, low, MAX_VOLTS) || high == low) return Field.MaxV;
    const amplitude = load<f32>(wordAddress(b, AMPLITUDE_WORD, k));
    // (in f64: high − low rounded up in f32 let an amplitude an ulp too large through)
    if (!(amplitude > 0 && <f64>amplitude * 2 <= <f64>high - <f64>low)) return Field.AmplitudeV;
    if (!within(load<f32>(wordAddress(b, INITIAL_WORD, k)), low, high)) return Field.InitialV;
    if (load<u32>(wordAddress(b, TRAINABLE_WORD, k)) > 1) return Field.Trainable;
  }
  for (let i = 0; i < inputs; i++) {
    errorIndex = i;
    const low = load<f32>(wordAddress(b, INPUT_MIN_WORD, i)), high = load<f32>(wordAddress(b, INPUT_MAX_WORD, i));
    if (!within(low, -MAX_VOLTS, MAX_VOLTS)) return Field.InputMinV;
    if (!within(high, low, MAX_VOLTS)) return Field.InputMaxV;
  }
  let classes = 0; // bit 0: a target 0 seen, bit 1: a target 1 seen
  for (let p = 0; p < cases; p++) {
    for (let i = 0; i < inputs; i++) {
      errorIndex = p * MAX_INPUTS + i;
      const v = load<f32>(wordAddress(b, CASE_INPUT_WORD, p * MAX_INPUTS + i));
      if (!within(v, load<f32>(wordAddress(b, INPUT_MIN_WORD, i)), load<f32>(wordAddress(b, INPUT_MAX_WORD, i)))) return Field.CaseInputV;
    }
    errorIndex = p;
    const target = load<f32>(wordAddress(b, TARGET_WORD, p));
    if (!within(target, -MAX_ABS_READING, MAX_ABS_READING)) return Field.Target;
    if (loss != Loss.MSE) {
      if (target != 0 && target != 1) return Field.Target;
      classes |= 1 << <i32>target;
    }
  }
  if (loss != Loss.MSE && classes != 3) return Field.Target; // both classes are needed
  errorIndex = 0;
  return 0;
}

/** Largest change of an electrode's voltage per sample, in volts, for a block's slew limit
 *  (SlewVPerS / SampleRateHz). */
@inline export function maxStepOf(block: usize): f32 {
  return configF32(block, Field.SlewVPerS) / configF32(block, Field.SampleRateHz);
}

/** The perturbation alone must never reach the slew limit, so that the limit only ever bites
 *  on ramps (a window is never measured on clipped references). A sinusoid moves at most
 *  2π·a·bin/W per sample, a ±a code 2a; the margin covers the sine table's interpolation
 *  (1e-5·a) and f32 rounding of voltages up to |MinV|, |MaxV| (and keeps each ramp step above
 *  the rounding of the voltage it moves, so a ramp always ends). Returns 0 or Field.SlewVPerS,
 *  errorIndex naming the electrode (controls, then inputs). The tones are the block's ToneBin
 *  words (given, or planned there by configure; ignored for codes). */
export function validateSlew(): i32 {
  const b = CONFIG;
  const maxStep = maxStepOf(b);
  const tones = configI32(b, Field.Perturbation) == Perturbation.Sinusoid;
  const radiansPerBin: f32 = <f32>(2 * Math.PI) / <f32>configI32(b, Field.WindowSamples);
  for (let k = 0; k < configI32(b, Field.ControlCount); k++) {
    errorIndex = k;
    const a = load<f32>(wordAddress(b, AMPLITUDE_WORD, k));
    const bound = max(Mathf.abs(load<f32>(wordAddress(b, MIN_WORD, k))), Mathf.abs(load<f32>(wordAddress(b, MAX_WORD, k))));
    const perSample: f32 = tones ? radiansPerBin * <f32>load<i32>(wordAddress(b, TONE_BIN_WORD, k)) : 2;
    if (!(a * (perSample + <f32>1.5e-5) + bound * <f32>1e-6 <= maxStep)) return Field.SlewVPerS;
  }
  for (let i = 0; i < configI32(b, Field.InputCount); i++) { // a ramp step must move an input's voltage
    errorIndex = configI32(b, Field.ControlCount) + i; //        the electrode: controls come first
    const bound = max(Mathf.abs(load<f32>(wordAddress(b, INPUT_MIN_WORD, i))), Mathf.abs(load<f32>(wordAddress(b, INPUT_MAX_WORD, i))));
    if (!(bound * <f32>1e-6 <= maxStep)) return Field.SlewVPerS;
  }
  errorIndex = 0;
  return 0;
}

/** Copies the validated block into ACTIVE. */
export function activate(): void {
  memory.copy(ACTIVE, CONFIG, CONFIG_WORDS << 2);
  controlCount = configI32(ACTIVE, Field.ControlCount);
  windowSamples = configI32(ACTIVE, Field.WindowSamples);
}
