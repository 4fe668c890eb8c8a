// The configuration block the host writes (CONFIG) and the validated copy the controller runs
// on (ACTIVE). validate() checks every field and names the first bad one; only a block that
// passes is copied, so a failed configure leaves the previous configuration running.
import {
  Field, ToneMode, Loss, Gradient, Perturbation, CONFIG_VERSION, CONFIG_WORDS, PERTURBATION_KINDS,
  MAX_CONTROLS, MAX_INPUTS, MAX_CASES, TONE_BIN_WORD, AMPLITUDE_WORD, MIN_WORD, MAX_WORD,
  INITIAL_WORD, TRAINABLE_WORD, INPUT_MIN_WORD, INPUT_MAX_WORD, CASE_INPUT_WORD, TARGET_WORD,
} from "./layout";
import { codePeriod } from "./perturb";

export const CONFIG = memory.data(CONFIG_WORDS << 2, 16);
export const ACTIVE = memory.data(CONFIG_WORDS << 2, 16);

export const MAX_WINDOW_SAMPLES = 1 << 20;
const MAX_ABS_VOLTS: f32 = 1000;
const MAX_ABS_READING: f32 = 1e12;

/** Element of the array field named by the last error. */
export let errorIndex: i32 = 0;

@inline export function configI32(block: usize, field: i32): i32 { return load<i32>(block + (<usize>field << 2)); }
@inline export function configF32(block: usize, field: i32): f32 { return load<f32>(block + (<usize>field << 2)); }
@inline export function wordAddress(block: usize, word: i32, index: i32): usize { return block + (<usize>(word + index) << 2); }

@inline function within(x: f32, low: f32, high: f32): bool { return x >= low && x <= high; } // false for NaN

// Every header field must hold a valid value, used or not: low and high bounds (inclusive)
// per field id 1..31, compared as f32 (exact for the i32 fields' ranges).
const F32_FIELDS: u32 = (1 << Field.SampleRateHz) | (1 << Field.BandLowHz) | (1 << Field.BandHighHz) |
  (1 << Field.MarginScale) | (1 << Field.LearningRate) | (1 << Field.Beta1) | (1 << Field.Beta2) |
  (1 << Field.Epsilon) | (1 << Field.LagDelaySamples) | (1 << Field.LagCornerHz) |
  (1 << Field.StreamTauSamples) | (1 << Field.ReadingMin) | (1 << Field.ReadingMax) | (1 << Field.SpsaStability);
const BELOW_ONE: f32 = 0.99999994; // the largest f32 < 1
const TINY: f32 = 1e-30;
// prettier-ignore
const LOW = memory.data<f32>([0,
  <f32>CONFIG_VERSION, 1, 8, 0, 1, 0, 1, 0, 0, 0, //     Version .. BandHighHz
  0, 0, TINY, 0, TINY, 0, 0, TINY, 0, 0, //         GuardBins .. Gradient
  0, 0, 0, 0, 1, 1, -1e12, -1e12, 1, 1, 0]); //     Demodulation .. SpsaStability
// prettier-ignore
const HIGH = memory.data<f32>([0,
  <f32>CONFIG_VERSION, 1e9, <f32>MAX_WINDOW_SAMPLES, 16777216, <f32>MAX_CONTROLS, <f32>MAX_INPUTS, <f32>MAX_CASES, 1, 1e9, 1e9,
  64, 2, 1e30, 2, 1e30, BELOW_ONE, BELOW_ONE, 1e30, <f32>(PERTURBATION_KINDS - 1), 2,
  1, 1e6, 1e9, 1024, 4, 1e9, 1e12, 1e12, <f32>MAX_WINDOW_SAMPLES, 16777216, 1e9]);

/** Returns 0 if the block at CONFIG is valid, else the id of the first invalid field
 *  (errorIndex names the element of an array field). Reads nothing outside the block. */
export function validate(): i32 {
  const b = CONFIG;
  errorIndex = 0;
  for (let field = Field.Version; field <= Field.SpsaStability; field++) {
    const value: f32 = (F32_FIELDS >> field) & 1 ? configF32(b, field) : <f32>configI32(b, field);
    if (!within(value, load<f32>(LOW + (field << 2)), load<f32>(HIGH + (field << 2)))) return field;
  }
  const sampleRateHz = configF32(b, Field.SampleRateHz);
  if (configF32(b, Field.BandLowHz) >= sampleRateHz / 2) return Field.BandLowHz;
  const high = configF32(b, Field.BandHighHz);
  if (high <= configF32(b, Field.BandLowHz) || high > sampleRateHz / 2) return Field.BandHighHz;
  if (configF32(b, Field.ReadingMax) <= configF32(b, Field.ReadingMin)) return Field.ReadingMax;
  const loss = configI32(b, Field.Loss);
  const gradient = configI32(b, Field.Gradient);
  if (gradient != Gradient.Jacobian && loss != Loss.MSE) return Field.Gradient;
  const window = configI32(b, Field.WindowSamples);
  const controls = configI32(b, Field.ControlCount);
  const inputs = configI32(b, Field.InputCount);
  const cases = configI32(b, Field.CaseCount);
  if (gradient == Gradient.Streaming && cases != 1) return Field.CaseCount; // no input cases
  const toneMode = configI32(b, Field.ToneMode);
  const perturbation = configI32(b, Field.Perturbation);
  // a code's window holds whole periods of it
  if (window % (configI32(b, Field.ChipSamples) * codePeriod(perturbation, controls)) != 0) return Field.WindowSamples;

  for (let k = 0; k < controls; k++) {
    errorIndex = k;
    if (toneMode == ToneMode.Explicit && perturbation == Perturbation.Sinusoid) {
      const bin = load<i32>(wordAddress(b, TONE_BIN_WORD, k));
      if (bin < 1 || bin > (window - 1) >> 1) return Field.ToneBin; // below Nyquist
      for (let j = 0; j < k; j++) if (load<i32>(wordAddress(b, TONE_BIN_WORD, j)) == bin) return Field.ToneBin;
    }
    const low = load<f32>(wordAddress(b, MIN_WORD, k)), high = load<f32>(wordAddress(b, MAX_WORD, k));
    if (!within(low, -MAX_ABS_VOLTS, MAX_ABS_VOLTS)) return Field.MinV;
    if (!within(high, low, MAX_ABS_VOLTS) || high == low) return Field.MaxV;
    const amplitude = load<f32>(wordAddress(b, AMPLITUDE_WORD, k));
    if (!(amplitude > 0 && amplitude * 2 <= high - low)) return Field.AmplitudeV;
    if (!within(load<f32>(wordAddress(b, INITIAL_WORD, k)), low, high)) return Field.InitialV;
    if (load<u32>(wordAddress(b, TRAINABLE_WORD, k)) > 1) return Field.Trainable;
  }
  for (let i = 0; i < inputs; i++) {
    errorIndex = i;
    const low = load<f32>(wordAddress(b, INPUT_MIN_WORD, i)), high = load<f32>(wordAddress(b, INPUT_MAX_WORD, i));
    if (!within(low, -MAX_ABS_VOLTS, MAX_ABS_VOLTS)) return Field.InputMinV;
    if (!within(high, low, MAX_ABS_VOLTS)) return Field.InputMaxV;
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

/** Copies the validated block into ACTIVE. */
export function activate(): void {
  memory.copy(ACTIVE, CONFIG, CONFIG_WORDS << 2);
}
