// The configuration block the host writes (CONFIG) and the validated copy the controller runs
// on (ACTIVE). validate() checks every field and names the first bad one; only a block that
// passes is copied, so a failed configure leaves the previous configuration running.
import {
  Field, ToneMode, Loss, Optimiser, Perturbation, Gradient, Demodulation, CONFIG_VERSION, CONFIG_WORDS,
  MAX_CONTROLS, MAX_INPUTS, MAX_CASES, TONE_BIN_WORD, AMPLITUDE_WORD, MIN_WORD, MAX_WORD,
  INITIAL_WORD, TRAINABLE_WORD, INPUT_MIN_WORD, INPUT_MAX_WORD, CASE_INPUT_WORD, TARGET_WORD,
} from "./layout";

export const CONFIG = memory.data(CONFIG_WORDS << 2, 16);
export const ACTIVE = memory.data(CONFIG_WORDS << 2, 16);

export const MAX_WINDOW_SAMPLES = 1 << 20;
const MAX_SETTLE_SAMPLES = 1 << 24;
const MAX_ABS_VOLTS: f32 = 1000;
const MAX_ABS_READING: f32 = 1e12;

/** Element of the array field named by the last error. */
export let errorIndex: i32 = 0;

@inline export function configI32(block: usize, field: i32): i32 { return load<i32>(block + (<usize>field << 2)); }
@inline export function configF32(block: usize, field: i32): f32 { return load<f32>(block + (<usize>field << 2)); }
@inline export function wordAddress(block: usize, word: i32, index: i32): usize { return block + (<usize>(word + index) << 2); }

@inline function finite(x: f32): bool { return x - x == 0; }
@inline function within(x: f32, low: f32, high: f32): bool { return x >= low && x <= high; } // false for NaN
@inline function choice(x: i32, count: i32): bool { return x >= 0 && x < count; }

/** Returns 0 if the block at CONFIG is valid, else the id of the first invalid field
 *  (errorIndex names the element of an array field). Reads nothing outside the block. */
export function validate(): i32 {
  const b = CONFIG;
  errorIndex = 0;
  if (configI32(b, Field.Version) != CONFIG_VERSION) return Field.Version;
  const sampleRateHz = configF32(b, Field.SampleRateHz);
  if (!within(sampleRateHz, 1, 1e9)) return Field.SampleRateHz;
  const window = configI32(b, Field.WindowSamples);
  if (window < 8 || window > MAX_WINDOW_SAMPLES) return Field.WindowSamples;
  if (!choice(configI32(b, Field.SettleSamples), MAX_SETTLE_SAMPLES + 1)) return Field.SettleSamples;
  const controls = configI32(b, Field.ControlCount);
  if (controls < 1 || controls > MAX_CONTROLS) return Field.ControlCount;
  const inputs = configI32(b, Field.InputCount);
  if (!choice(inputs, MAX_INPUTS + 1)) return Field.InputCount;
  const cases = configI32(b, Field.CaseCount);
  if (cases < 1 || cases > MAX_CASES) return Field.CaseCount;
  const toneMode = configI32(b, Field.ToneMode);
  if (!choice(toneMode, 2)) return Field.ToneMode;
  if (toneMode == ToneMode.Plan) {
    const low = configF32(b, Field.BandLowHz);
    if (!within(low, 0, sampleRateHz / 2)) return Field.BandLowHz;
    if (!within(configF32(b, Field.BandHighHz), low, sampleRateHz / 2) || configF32(b, Field.BandHighHz) == low) return Field.BandHighHz;
  }
  if (!choice(configI32(b, Field.GuardBins), 65)) return Field.GuardBins;
  const loss = configI32(b, Field.Loss);
  if (!choice(loss, 3)) return Field.Loss;
  if (loss == Loss.Corrsig && !(configF32(b, Field.MarginScale) > 0 && finite(configF32(b, Field.MarginScale)))) return Field.MarginScale;
  const optimiser = configI32(b, Field.Optimiser);
  if (!choice(optimiser, 3)) return Field.Optimiser;
  if (!(configF32(b, Field.LearningRate) > 0 && finite(configF32(b, Field.LearningRate)))) return Field.LearningRate;
  if (optimiser != Optimiser.SGD && !(within(configF32(b, Field.Beta1), 0, 1) && configF32(b, Field.Beta1) < 1)) return Field.Beta1;
  if (optimiser == Optimiser.Adam) {
    if (!(within(configF32(b, Field.Beta2), 0, 1) && configF32(b, Field.Beta2) < 1)) return Field.Beta2;
    if (!within(configF32(b, Field.Epsilon), 1e-30, 1e30)) return Field.Epsilon;
  }
  if (configI32(b, Field.Perturbation) != Perturbation.Sinusoid) return Field.Perturbation;
  const gradient = configI32(b, Field.Gradient);
  if (!choice(gradient, 3) || (gradient != Gradient.Jacobian && loss != Loss.MSE)) return Field.Gradient;
  if (!choice(configI32(b, Field.Demodulation), 2)) return Field.Demodulation;
  if (!within(configF32(b, Field.LagDelaySamples), 0, 1e6)) return Field.LagDelaySamples;
  if (!within(configF32(b, Field.LagCornerHz), 0, 1e9)) return Field.LagCornerHz;
  if (!choice(configI32(b, Field.CalibrationWindows), 1025)) return Field.CalibrationWindows;
  if (gradient == Gradient.Streaming) {
    if (!within(<f32>configI32(b, Field.StreamOrder), 1, 4)) return Field.StreamOrder;
    if (!within(configF32(b, Field.StreamTauSamples), 1, 1e9)) return Field.StreamTauSamples;
  }
  const readingMin = configF32(b, Field.ReadingMin);
  if (!within(readingMin, -MAX_ABS_READING, MAX_ABS_READING)) return Field.ReadingMin;
  const readingMax = configF32(b, Field.ReadingMax);
  if (!within(readingMax, readingMin, MAX_ABS_READING) || readingMax == readingMin) return Field.ReadingMax;

  for (let k = 0; k < controls; k++) {
    errorIndex = k;
    if (toneMode == ToneMode.Explicit) {
      const bin = load<i32>(wordAddress(b, TONE_BIN_WORD, k));
      if (bin < 1 || bin * 2 >= window) return Field.ToneBin;
      for (let j = 0; j < k; j++) if (load<i32>(wordAddress(b, TONE_BIN_WORD, j)) == bin) return Field.ToneBin;
    }
    const low = load<f32>(wordAddress(b, MIN_WORD, k)), high = load<f32>(wordAddress(b, MAX_WORD, k));
    if (!within(low, -MAX_ABS_VOLTS, MAX_ABS_VOLTS)) return Field.MinV;
    if (!within(high, low, MAX_ABS_VOLTS) || high == low) return Field.MaxV;
    const amplitude = load<f32>(wordAddress(b, AMPLITUDE_WORD, k));
    if (!(amplitude > 0 && amplitude * 2 <= high - low)) return Field.AmplitudeV;
    if (!within(load<f32>(wordAddress(b, INITIAL_WORD, k)), low, high)) return Field.InitialV;
    if (!choice(load<i32>(wordAddress(b, TRAINABLE_WORD, k)), 2)) return Field.Trainable;
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
