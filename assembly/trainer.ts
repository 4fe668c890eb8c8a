// The sample-clocked state machine; read top to bottom, this file is the whole per-sample
// path. step() takes the reading that answers the voltages written by the previous call,
// feeds the lock-in, walks settle → acquire → next input case → loss → update, and writes
// the next electrode voltages, each inside its electrode's range. Streaming is the same walk
// with one case, the loss signal fed to low-pass filters instead of window sums.
import {
  MAX_CONTROLS, MAX_CASES, MAX_INPUTS, MAX_ELECTRODES, STATUS_WORDS, Field, Gradient, Event, Status, Perturbation,
  AMPLITUDE_WORD, MIN_WORD, MAX_WORD, CASE_INPUT_WORD, TARGET_WORD,
} from "./layout";
import { ACTIVE, configI32, configF32, wordAddress } from "./config";
import { ncoConfigure, NCO_SIN } from "./nco";
import { perturbConfigure, perturbRestart, perturbAdvance, codeEnergy } from "./perturb";
import {
  lockinConfigure, lockinReset, lockinAccumulate, lockinDerivative, lockinSetLag, lockinCalibrationAdd,
  lockinCalibrate, lockinStream, lockinStreamDerivative,
} from "./lockin";
import { evaluateLoss } from "./loss";
import { STATUS, statusI32, setStatusI32, setStatusF32, bump } from "./status";
import { WEIGHTS, optimiserReset, optimiserStep, clampTo, powerOf } from "./optim";

/** Voltages to write now: controls, then inputs. */
export const ELECTRODES = memory.data(MAX_ELECTRODES << 2);
/** Mean output of each input case in its last window. */
export const CASE_OUTPUTS = memory.data(MAX_CASES << 2);
/** ∂L/∂ȳ for each case at the last update. */
export const LOSS_SLOPES = memory.data(MAX_CASES << 2);
/** One row per case: ∂ȳ_p/∂w_k (or, demodulating the loss signal, ∂L_p/∂w_k). */
export const JACOBIAN = memory.data(MAX_CASES * MAX_CONTROLS * 4);
/** ∂L/∂w at the last update. */
export const GRADIENT = memory.data(MAX_CONTROLS << 2);
/** The tone bin of each control (planned or given). */
export const TONE_BINS = memory.data(MAX_CONTROLS << 2);
/** Where each control's perturbation is centred: its weight, moved inward near a bound. */
const CENTER = memory.data(MAX_CONTROLS << 2);
/** Each control's perturbation amplitude now (SPSA shrinks it as c/(k+1)^0.101). */
const AMPLITUDE = memory.data(MAX_CONTROLS << 2);

const FAULT_AFTER_DISCARDS = 16;
const enum Stage { Settle, Acquire }

let configured = false;
let controls = 0, inputs = 0, cases = 0, windowSamples = 1, settleSamples = 0;
let gradientMode = 0, demodulation = 0, lossKind = 0, perturbation = 0;
let sampleRateHz: f32 = 1, readingMin: f32 = 0, readingMax: f32 = 0, marginScale: f32 = 1;
let stage = Stage.Settle;
let caseIndex = 0, samplesInStage = 0, calibrationEpochsLeft = 0;
let windowBad = false;
let readingSum: f32 = 0;
let caseTarget: f32 = 0;


/** Starts the configuration just copied into ACTIVE, with tones `bins`. */
export function trainerStart(bins: usize): void {
  controls = configI32(ACTIVE, Field.ControlCount);
  inputs = configI32(ACTIVE, Field.InputCount);
  cases = configI32(ACTIVE, Field.CaseCount);
  windowSamples = configI32(ACTIVE, Field.WindowSamples);
  settleSamples = configI32(ACTIVE, Field.SettleSamples);
  gradientMode = configI32(ACTIVE, Field.Gradient);
  demodulation = configI32(ACTIVE, Field.Demodulation);
  lossKind = configI32(ACTIVE, Field.Loss);
  sampleRateHz = configF32(ACTIVE, Field.SampleRateHz);
  readingMin = configF32(ACTIVE, Field.ReadingMin);
  readingMax = configF32(ACTIVE, Field.ReadingMax);
  marginScale = configF32(ACTIVE, Field.MarginScale);
  perturbation = configI32(ACTIVE, Field.Perturbation);
  const tones = perturbation == Perturbation.Sinusoid;
  memory.copy(TONE_BINS, bins, <usize>controls << 2);
  ncoConfigure(controls, windowSamples, TONE_BINS);
  perturbConfigure(perturbation, controls, configI32(ACTIVE, Field.ChipSamples), configI32(ACTIVE, Field.Seed));
  lockinConfigure(controls, windowSamples, sampleRateHz, TONE_BINS,
    configI32(ACTIVE, Field.StreamOrder), configF32(ACTIVE, Field.StreamTauSamples), codeEnergy(windowSamples));
  calibrationEpochsLeft = gradientMode == Gradient.Streaming || !tones ? 0 : configI32(ACTIVE, Field.CalibrationWindows);
  memory.fill(STATUS, 0, STATUS_WORDS << 2);
  optimiserReset(controls);
  // codes are demodulated as they are sent: no lag model, nothing to calibrate
  lockinSetLag(tones ? configF32(ACTIVE, Field.LagDelaySamples) : 0, tones ? configF32(ACTIVE, Field.LagCornerHz) : 0, sampleRateHz);
  memory.fill(CASE_OUTPUTS, 0, MAX_CASES << 2);
  memory.fill(GRADIENT, 0, MAX_CONTROLS << 2);
  memory.fill(ELECTRODES, 0, MAX_ELECTRODES << 2);
  setStatusI32(Status.Configured, 1);
  configured = true;
  trainerRefresh();
  enterCase(0);
  writeElectrodes();
}

/** After the weights or the lag changed from outside (a loaded checkpoint). */
export function trainerRefresh(): void {
  const shrink: f32 = perturbation == Perturbation.SPSA ? powerOf(<f32>(statusI32(Status.Updates) + 1), -0.101) : 1;
  for (let k = 0; k < controls; k++) {
    const a = load<f32>(wordAddress(ACTIVE, AMPLITUDE_WORD, k)) * shrink;
    store<f32>(AMPLITUDE + (k << 2), a);
    const low = load<f32>(wordAddress(ACTIVE, MIN_WORD, k)) + a;
    const high = load<f32>(wordAddress(ACTIVE, MAX_WORD, k)) - a;
    store<f32>(CENTER + (k << 2), clampTo(load<f32>(WEIGHTS + (k << 2)), low, high));
  }
}

export function trainerConfigured(): bool { return configured; }
export function trainerSkipCalibration(): void { calibrationEpochsLeft = 0; }

/** One sample: the reading answering the last voltages in; the next voltages out. */
export function step(reading: f32): i32 {
  if (!configured) return Event.Fault;
  const low = statusI32(Status.Samples);
  setStatusI32(Status.Samples, low + 1);
  if (low == -1) bump(Status.Samples + 1);
  const events = windowSample(reading);
  writeElectrodes();
  return events;
}

/** The value the lock-in demodulates: the reading, or the per-sample loss (MSE). */
@inline function signal(reading: f32): f32 {
  if (gradientMode == Gradient.Jacobian) return reading;
  const error = reading - caseTarget;
  return error * error;
}

/** NaN, ±Inf and readings at or beyond the saturation limits are bad. */
@inline function goodReading(reading: f32): bool {
  return reading > readingMin && reading < readingMax;
}

function windowSample(reading: f32): i32 {
  if (stage == Stage.Settle) {
    if (++samplesInStage >= settleSamples) beginWindow();
    return 0;
  }
  if (goodReading(reading)) {
    readingSum += reading;
    if (gradientMode == Gradient.Streaming) lockinStream(signal(reading));
    else lockinAccumulate(signal(reading));
  } else {
    windowBad = true;
  }
  if (++samplesInStage < windowSamples) return 0;
  if (windowBad) return discardWindow();
  setStatusI32(Status.Faults, 0);
  bump(Status.Windows);
  store<f32>(CASE_OUTPUTS + (<usize>caseIndex << 2), readingSum / <f32>windowSamples);
  let events = Event.WindowDone;
  if (calibrationEpochsLeft > 0) {
    lockinCalibrationAdd();
  } else {
    const row = JACOBIAN + (<usize>caseIndex * MAX_CONTROLS << 2);
    for (let k = 0; k < controls; k++) {
      const a = load<f32>(AMPLITUDE + (k << 2));
      store<f32>(row + (k << 2), gradientMode == Gradient.Streaming ? lockinStreamDerivative(k, a) : lockinDerivative(k, a, demodulation));
    }
  }
  if (caseIndex + 1 < cases) {
    enterCase(caseIndex + 1);
    return events;
  }
  bump(Status.Epochs);
  events |= Event.EpochDone | endEpoch();
  enterCase(0);
  return events;
}

function beginWindow(): void {
  stage = Stage.Acquire;
  samplesInStage = 0;
  windowBad = false;
  readingSum = 0;
  lockinReset();
  perturbRestart();
}

/** A bad reading spoiled the window: it never reaches the weights; measure again. */
function discardWindow(): i32 {
  bump(Status.DiscardedWindows);
  bump(Status.Faults);
  beginWindow();
  return Event.WindowDiscarded | (statusI32(Status.Faults) >= FAULT_AFTER_DISCARDS ? Event.Fault : 0);
}

/** Sets the input electrodes for case p and waits for the device to settle. */
function enterCase(p: i32): void {
  caseIndex = p;
  setStatusI32(Status.Case, p);
  caseTarget = load<f32>(wordAddress(ACTIVE, TARGET_WORD, p));
  for (let i = 0; i < inputs; i++) {
    store<f32>(ELECTRODES + (<usize>(controls + i) << 2), load<f32>(wordAddress(ACTIVE, CASE_INPUT_WORD, p * MAX_INPUTS + i)));
  }
  stage = Stage.Settle;
  samplesInStage = 0;
  if (settleSamples == 0) beginWindow();
}

/** All cases measured: fit the lag if still calibrating, else loss, chain rule, update. */
function endEpoch(): i32 {
  if (calibrationEpochsLeft > 0) {
    if (--calibrationEpochsLeft > 0) return 0;
    lockinCalibrate(sampleRateHz);
    trainerRefresh();
    return Event.Calibrated;
  }
  const loss = evaluateLoss(lossKind, CASE_OUTPUTS, wordAddress(ACTIVE, TARGET_WORD, 0), cases, marginScale, LOSS_SLOPES);
  setStatusF32(Status.Loss, loss);
  if (gradientMode != Gradient.Jacobian) {
    // the rows already hold ∂L_p/∂w; the loss is their mean over cases
    for (let p = 0; p < cases; p++) store<f32>(LOSS_SLOPES + (<usize>p << 2), 1 / <f32>cases);
  }
  for (let k = 0; k < controls; k++) {
    let g: f32 = 0;
    for (let p = 0; p < cases; p++) {
      g += load<f32>(LOSS_SLOPES + (<usize>p << 2)) * load<f32>(JACOBIAN + ((<usize>p * MAX_CONTROLS + k) << 2));
    }
    store<f32>(GRADIENT + (<usize>k << 2), g);
  }
  return update();
}

/** Moves the controls along GRADIENT, unless it is not finite. */
function update(): i32 {
  for (let k = 0; k < controls; k++) {
    const g = load<f32>(GRADIENT + (<usize>k << 2));
    if (g - g != 0) {
      bump(Status.SkippedUpdates);
      return 0;
    }
  }
  // SPSA's gain sequence (Spall 1998): a_k = a / (k + 1 + A)^0.602
  const gain: f32 = perturbation == Perturbation.SPSA
    ? powerOf(<f32>statusI32(Status.Updates) + 1 + configF32(ACTIVE, Field.SpsaStability), -0.602) : 1;
  optimiserStep(controls, GRADIENT, gain);
  bump(Status.Updates);
  trainerRefresh();
  return Event.UpdateDone;
}

/** Next voltages: each control's perturbation around its centre, inside its range by
 *  construction (|a·r| <= distance from centre to either bound); the clamp only absorbs f32
 *  rounding. */
function writeElectrodes(): void {
  perturbAdvance();
  for (let k = 0; k < controls; k++) {
    const offset = <usize>k << 2;
    const v = load<f32>(CENTER + offset) + load<f32>(AMPLITUDE + offset) * load<f32>(NCO_SIN + offset);
    store<f32>(ELECTRODES + offset, clampTo(v, load<f32>(wordAddress(ACTIVE, MIN_WORD, k)), load<f32>(wordAddress(ACTIVE, MAX_WORD, k))));
  }
}
