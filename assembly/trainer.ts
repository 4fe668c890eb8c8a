// The sample-clocked state machine; read top to bottom, this file is the whole per-sample
// path. step() takes the reading that answers the voltages written by the previous call,
// feeds the lock-in, walks settle → acquire → next input case → loss → update, and writes
// the next electrode voltages, each inside its electrode's range and within the slew limit of
// the voltage before it (a jump becomes a ramp, and no window starts before the ramp is over).
// Streaming is the same walk with one case, the loss signal fed to low-pass filters instead of
// window sums.
import {
  MAX_CONTROLS, MAX_CASES, MAX_INPUTS, MAX_ELECTRODES, STATUS_WORDS, Field, Gradient, Event, Status, Perturbation,
  AMPLITUDE_WORD, MIN_WORD, MAX_WORD, CASE_INPUT_WORD, TARGET_WORD, INPUT_MIN_WORD, INPUT_MAX_WORD,
} from "./layout";
import { ACTIVE, configI32, configF32, wordAddress, maxStepOf, controlCount as controls, windowSamples } from "./config";
import { ncoConfigure, ncoSync, ncoPhaseAt, ncoNextPhase, cachedSine, cachedCosine, sineOfPhase, cosineOfPhase, sinesCached, NCO_SIN } from "./nco";
import { perturbConfigure, perturbRestart, perturbAdvance } from "./perturb";
import {
  lockinConfigure, lockinReset, lockinAccumulate, lockinCentred, lockinAdd, lockinDerivative, lockinSetLag, lockinCalibrationAdd,
  lockinCalibrate, lockinStream, lockinStreamDerivative, lockinProbeStart, lockinProbeEnd, lockinProbeControl,
} from "./lockin";
import { evaluateLoss } from "./loss";
import { STATUS, statusI32, setStatusI32, setStatusF32, bump } from "./status";
import { FULL, SHORTCUT } from "./features";
import { recordField, CENTRE_FIELD, AMPLITUDE_FIELD } from "./records";
import { WEIGHTS, optimiserReset, optimiserStep, clampTo, powerOf } from "./optim";

/** Voltages to write now: controls, then inputs. Kept across configurations: the next one
 *  ramps from them. Before the first configuration nothing is known of the electrodes, and
 *  its first voltages are written as they are (the caller brings the DACs there). */
export const ELECTRODES = memory.data(MAX_ELECTRODES << 2);
/** Each control's perturbation (records.ts): where it is centred (its weight, moved inward
 *  near a bound), and its amplitude now (SPSA shrinks it as c/(k+1)^0.101). */
@inline function centreOf(k: i32): usize { return recordField(k, CENTRE_FIELD); }
@inline function amplitudeOf(k: i32): usize { return recordField(k, AMPLITUDE_FIELD); }
/** The read-outs, f32 each, one block that a configuration clears at once: */
const READ_OUTS = memory.data((2 * MAX_CASES + MAX_CASES * MAX_CONTROLS + MAX_CONTROLS) << 2);
/** Mean output of each input case in its last window. */
export const CASE_OUTPUTS = READ_OUTS;
/** ∂L/∂ȳ for each case at the last update. */
export const LOSS_SLOPES = CASE_OUTPUTS + (MAX_CASES << 2);
/** One row per case: ∂ȳ_p/∂w_k (or, demodulating the loss signal, ∂L_p/∂w_k). */
export const JACOBIAN = LOSS_SLOPES + (MAX_CASES << 2);
/** ∂L/∂w at the last update. */
export const GRADIENT = JACOBIAN + (MAX_CASES * MAX_CONTROLS << 2);
const READ_OUTS_END = GRADIENT + (MAX_CONTROLS << 2);
/** The controls the last epoch measured (the weights before its update), if one updated
 *  since the last configuration or load. */
const MEASURED_WEIGHTS = memory.data(MAX_CONTROLS << 2);
let measuredKept = false;
/** After park(): the voltages to ramp to (controls, then inputs); each is held in its range. */
export const PARK = memory.data(MAX_ELECTRODES << 2);

const FAULT_AFTER_DISCARDS = 16;

let configured = false;
let parked = false;
let gradientMode = 0;
/** Largest change of a voltage per sample (SlewVPerS / SampleRateHz), and whether the last
 *  voltages written were held back by it (a ramp still under way). */
let maxStepV: f32 = 0;
let ramping = false;
let electrodesWritten = false;
let caseIndex = 0, calibrationEpochsLeft = 0;
/** While true (hold()), the controls do not move and carry no perturbation: each epoch reads
 *  them plainly (case outputs, loss, EpochDone), and JACOBIAN and GRADIENT keep the last update's. */
let holding = false;
/** −SettleSamples .. −1 while the device settles after a change of case, then 0 .. W − 1
 *  through the window. */
let samplesInStage = 0;
/** Σ readings over the window; NaN once a bad reading spoiled it (NaN + x stays NaN; good
 *  readings are finite and below 1e12, so 2^20 of them sum to a finite value). */
let readingSum: f32 = 0;
let caseTarget: f32 = 0;
/** The typical sample's conditions (typicalSample): tones demodulated over windows; every
 *  control's centre ± amplitude inside its range in f32 (trainerRefresh); every electrode at
 *  its target (the last general write held none back, and no target moved since); and
 *  whether NCO_SIN / NCO_COS lag behind the phases (typical samples do not write them). */
let tonesInWindows = false, centresInside = false, targetsReached = false, referencesStale = false;

/** Starts the configuration just copied into ACTIVE. */
export function trainerStart(): void {
  gradientMode = configI32(ACTIVE, Field.Gradient);
  const tones = configI32(ACTIVE, Field.Perturbation) == Perturbation.Sinusoid;
  tonesInWindows = tones && gradientMode != Gradient.Streaming;
  referencesStale = false;
  ncoConfigure();
  perturbConfigure();
  lockinConfigure();
  calibrationEpochsLeft = !FULL || gradientMode == Gradient.Streaming || !tones ? 0 : configI32(ACTIVE, Field.CalibrationEpochs);
  parked = false;
  holding = false;
  memory.fill(STATUS, 0, STATUS_WORDS << 2);
  optimiserReset();
  // codes are demodulated as they are sent: no lag model, nothing to calibrate
  lockinSetLag(tones ? configF32(ACTIVE, Field.LagDelaySamples) : 0, tones ? configF32(ACTIVE, Field.LagCornerHz) : 0);
  lockinProbeStart(configI32(ACTIVE, Field.GuardBins), calibrationEpochsLeft > 0); // during calibration
  memory.fill(READ_OUTS, 0, READ_OUTS_END - READ_OUTS);
  setStatusI32(Status.Configured, 1);
  configured = true;
  trainerRefresh();
  enterCase(0);
  // The first configuration's voltages are written as they are (nothing to ramp from yet). A
  // later one leaves each electrode where it is (brought inside its new range): the last step()
  // already moved it a step, and the device reads it so before the next step() ramps on.
  maxStepV = electrodesWritten ? 0 : Infinity;
  writeElectrodes();
  ramping = electrodesWritten; // (a window waits for the first step's write)
  targetsReached = false;
  maxStepV = maxStepOf(ACTIVE);
  electrodesWritten = true;
}

/** After the weights or the lag changed from outside (a loaded checkpoint), or hold(). The
 *  distortion probe's control (lockin.ts) is held unperturbed while it listens, and every
 *  control while held. */
export function trainerRefresh(): void {
  measuredKept = false;
  const shrink: f32 = FULL && configI32(ACTIVE, Field.Perturbation) == Perturbation.SPSA ? powerOf(<f32>(statusI32(Status.Updates) + 1), -0.101) : 1;
  const probe = lockinProbeControl();
  centresInside = true;
  for (let k = 0; k < controls; k++) {
    const a: f32 = k == probe || holding ? 0 : load<f32>(wordAddress(ACTIVE, AMPLITUDE_WORD, k)) * shrink;
    store<f32>(amplitudeOf(k), a);
    const min = load<f32>(wordAddress(ACTIVE, MIN_WORD, k)), max = load<f32>(wordAddress(ACTIVE, MAX_WORD, k));
    let centre = clampTo(load<f32>(WEIGHTS + (k << 2)), min + a, max - a);
    // the roundings of min + a and max − a may leave centre ± a an f32 step outside
    for (let i = 0; i < 4 && centre + a > max; i++) centre = nextBelow(centre);
    for (let i = 0; i < 4 && centre - a < min; i++) centre = -nextBelow(-centre);
    if (!(centre + a <= max && centre - a >= min)) centresInside = false;
    store<f32>(centreOf(k), centre);
  }
  targetsReached = false;
}

/** The f32 next below a finite x. */
@inline function nextBelow(x: f32): f32 {
  if (x == 0) return -1.4e-45;
  return reinterpret<f32>(reinterpret<i32>(x) + (x > 0 ? -1 : 1));
}

export function trainerConfigured(): bool { return configured; }

/** Stops training: from the next step() on, every electrode ramps to PARK (filled here with
 *  each control's weight and each input's present voltage; the caller may change it) and
 *  step() returns Event.Parked once all are there. configure() starts training again. */
export function trainerPark(): void {
  if (!configured) return;
  const inputs = configI32(ACTIVE, Field.InputCount);
  memory.copy(PARK, WEIGHTS, <usize>controls << 2);
  memory.copy(PARK + (<usize>controls << 2), ELECTRODES + (<usize>controls << 2), <usize>inputs << 2);
  parked = true;
  targetsReached = false;
}
export function trainerSkipCalibration(): void {
  calibrationEpochsLeft = 0;
  lockinProbeEnd();
}
/** Holds the controls (on != 0) at those the last epoch measured, undoing its update, or lets
 *  them move again, perturbed. While held, each epoch reads them plainly, without the
 *  perturbation, and ends with EpochDone but no update: a caller confirming that an epoch solved
 *  the task reads the same controls as they will be used (a tone's mean is shifted by the
 *  device's curvature, about a²y″/4; the ramp back counts as settling). configure() lets them move. */
export function trainerHold(on: i32): void {
  if (on != 0 && measuredKept) memory.copy(WEIGHTS, MEASURED_WEIGHTS, <usize>controls << 2);
  holding = on != 0;
  trainerRefresh();
}

/** One sample: the reading answering the last voltages in; the next voltages out. */
export function step(reading: f32): i32 {
  if (!configured) return Event.Fault;
  const samples = STATUS + (Status.Samples << 2); // a u64
  store<u64>(samples, load<u64>(samples) + 1);
  if (typicalSample(reading)) return 0;
  if (referencesStale) { ncoSync(); referencesStale = false; }
  let events = 0;
  if (parked) aimAtPark();
  else events = windowSample(reading);
  writeElectrodes();
  return parked ? (ramping ? 0 : Event.Parked) : events;
}

/** Most samples: a good reading inside a window (not its last), tones over windows, and every
 *  electrode at its target. Then one pass per control
 *  does all the work: the reading times the tone as last written, the tone's next phase, the
 *  control's next voltage. That voltage needs no clamp: centre ± amplitude is inside the
 *  range (trainerRefresh), and one sample of a tone moves less than the slew limit (config.ts:
 *  validateSlew); the inputs stay where they are. Anything else takes the general path
 *  (windowSample, writeElectrodes), which gives the same results for these samples. */
function typicalSample(reading: f32): bool {
  // samples 1 … window − 2 of the window (windows are ≥ 8 samples): its first sets the lock-in's
  // reference, its last ends it
  if (!(SHORTCUT && targetsReached && <u32>(samplesInStage - 1) < <u32>(windowSamples - 2) && goodReading(reading))) return false;
  readingSum += reading;
  samplesInStage++;
  const v = lockinCentred(signal(reading));
  const count = min(controls, MAX_CONTROLS); // = controls; the bound lets gcc drop bounds tests
  if (sinesCached) for (let k = 0; k < count; k++) controlSample(k, v, true);
  else for (let k = 0; k < count; k++) controlSample(k, v, false);
  referencesStale = true;
  return true;
}

/** Control k's part of a typical sample; `cached`: the window has its own sine table (nco.ts),
 *  else the sines are interpolated (a constant at each call: one loop for each). */
@inline function controlSample(k: i32, v: f32, cached: bool): void {
  const offset = <usize>k << 2;
  const phase = ncoPhaseAt(k);
  lockinAdd(k, v, cached ? cachedSine(phase) : sineOfPhase(phase), cached ? cachedCosine(phase) : cosineOfPhase(phase));
  const next = ncoNextPhase(k, phase);
  const sine = cached ? cachedSine(next) : sineOfPhase(next);
  store<f32>(ELECTRODES + offset, load<f32>(centreOf(k)) + load<f32>(amplitudeOf(k)) * sine);
}

/** Parked: each control aims at its PARK voltage, unperturbed (read every sample, so the
 *  caller may move it). */
function aimAtPark(): void {
  for (let k = 0; k < controls; k++) {
    store<f32>(centreOf(k), load<f32>(PARK + (<usize>k << 2)));
    store<f32>(amplitudeOf(k), 0);
  }
}

/** The value the lock-in demodulates: the reading, or the per-sample loss (MSE). */
@inline function signal(reading: f32): f32 {
  if (!FULL || gradientMode == Gradient.Jacobian) return reading;
  const error = reading - caseTarget;
  return error * error;
}

/** NaN, ±Inf and readings at or beyond the saturation limits are bad. */
@inline function goodReading(reading: f32): bool {
  return reading > configF32(ACTIVE, Field.ReadingMin) && reading < configF32(ACTIVE, Field.ReadingMax);
}

function windowSample(reading: f32): i32 {
  // a window's readings answer voltages at their targets: while a ramp lasts longer than the
  // settling, the window waits (a ramp counts as settling time)
  if (ramping && samplesInStage >= 0) samplesInStage = -1;
  if (samplesInStage < 0) { // settling
    if (++samplesInStage == 0) beginWindow();
    return 0;
  }
  if (goodReading(reading)) {
    readingSum += reading;
    const value = signal(reading);
    if (FULL && gradientMode == Gradient.Streaming) lockinStream(value);
    else lockinAccumulate(value);
  } else {
    readingSum = NaN;
  }
  if (++samplesInStage < windowSamples) return 0;
  if (isNaN(readingSum)) return discardWindow();
  setStatusI32(Status.Faults, 0);
  bump(Status.Windows);
  store<f32>(CASE_OUTPUTS + (<usize>caseIndex << 2), readingSum / <f32>windowSamples);
  let events = Event.WindowDone;
  if (FULL && calibrationEpochsLeft > 0) {
    lockinCalibrationAdd();
  } else if (!holding) {
    const row = JACOBIAN + (<usize>caseIndex * MAX_CONTROLS << 2);
    for (let k = 0; k < controls; k++) {
      const a = load<f32>(amplitudeOf(k));
      store<f32>(row + (k << 2), FULL && gradientMode == Gradient.Streaming ? lockinStreamDerivative(k, a) : lockinDerivative(k, a, configI32(ACTIVE, Field.Demodulation)));
    }
  }
  if (caseIndex + 1 < configI32(ACTIVE, Field.CaseCount)) {
    enterCase(caseIndex + 1);
    return events;
  }
  bump(Status.Epochs);
  events |= Event.EpochDone | endEpoch();
  enterCase(0);
  return events;
}

function beginWindow(): void {
  samplesInStage = 0;
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

/** Moves the input electrodes to case p (writeElectrodes ramps them) and waits for the
 *  device to settle. */
function enterCase(p: i32): void {
  caseIndex = p;
  targetsReached = false;
  setStatusI32(Status.Case, p);
  caseTarget = load<f32>(wordAddress(ACTIVE, TARGET_WORD, p));
  samplesInStage = -configI32(ACTIVE, Field.SettleSamples);
  if (samplesInStage == 0) beginWindow();
}

/** All cases measured: fit the lag if still calibrating, else loss, chain rule, update. */
function endEpoch(): i32 {
  if (FULL && calibrationEpochsLeft > 0) {
    if (--calibrationEpochsLeft > 0) return 0;
    const fitted = lockinCalibrate();
    trainerRefresh();
    return fitted ? Event.Calibrated : Event.LagUnfitted;
  }
  const cases = configI32(ACTIVE, Field.CaseCount);
  const loss = evaluateLoss(configI32(ACTIVE, Field.Loss), CASE_OUTPUTS, wordAddress(ACTIVE, TARGET_WORD, 0), cases,
    configF32(ACTIVE, Field.MarginScale), LOSS_SLOPES);
  setStatusF32(Status.Loss, loss);
  if (holding) return 0;
  if (FULL && gradientMode != Gradient.Jacobian) {
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
      measuredKept = false; // the weights are the ones this epoch measured: hold() keeps them
      return 0;
    }
  }
  // SPSA's gain sequence (Spall 1998): a_k = a / (k + 1 + A)^0.602
  const gain: f32 = FULL && configI32(ACTIVE, Field.Perturbation) == Perturbation.SPSA
    ? powerOf(<f32>statusI32(Status.Updates) + 1 + configF32(ACTIVE, Field.SpsaStability), -0.602) : 1;
  memory.copy(MEASURED_WEIGHTS, WEIGHTS, <usize>controls << 2);
  optimiserStep(GRADIENT, gain);
  bump(Status.Updates);
  trainerRefresh();
  measuredKept = true;
  return Event.UpdateDone;
}

/** Next voltages: each control's perturbation around its centre, inside its range by
 *  construction (|a·r| <= distance from centre to either bound), then each input's case
 *  voltage (parked: PARK's). Each moves at most maxStepV from the voltage before it: a
 *  target farther away is ramped to, and `ramping` says so. The perturbation alone never
 *  reaches the limit (config.ts: validateSlew). */
function writeElectrodes(): void {
  perturbAdvance();
  let limited = false;
  for (let k = 0; k < controls; k++) {
    const offset = <usize>k << 2;
    const v = load<f32>(centreOf(k)) + load<f32>(amplitudeOf(k)) * load<f32>(NCO_SIN + offset);
    limited |= slewTo(ELECTRODES + offset, v, load<f32>(wordAddress(ACTIVE, MIN_WORD, k)), load<f32>(wordAddress(ACTIVE, MAX_WORD, k)));
  }
  const firstInput = ELECTRODES + (<usize>controls << 2);
  const caseInputs = parked ? PARK + (<usize>controls << 2) : wordAddress(ACTIVE, CASE_INPUT_WORD, caseIndex * MAX_INPUTS);
  const inputs = configI32(ACTIVE, Field.InputCount);
  for (let i = 0; i < inputs; i++) {
    const offset = <usize>i << 2;
    limited |= slewTo(firstInput + offset, load<f32>(caseInputs + offset),
      load<f32>(wordAddress(ACTIVE, INPUT_MIN_WORD, i)), load<f32>(wordAddress(ACTIVE, INPUT_MAX_WORD, i)));
  }
  ramping = limited;
  targetsReached = !limited && !parked && centresInside && tonesInWindows;
}

/** Writes at `at` the voltage nearest `target` within maxStepV of the one there now, inside
 *  [low, high] (which wins: a voltage left outside the range by another configuration comes
 *  back at once). True if the slew limit held it back and it moved: a target outside the
 *  range (a caller's PARK; NaN, toward the low end) is as near as it gets at the range's end. */
@inline function slewTo(at: usize, target: f32, low: f32, high: f32): bool {
  const previous = load<f32>(at);
  const v = clampTo(target, previous - maxStepV, previous + maxStepV);
  const now = clampTo(v, low, high);
  store<f32>(at, now);
  return v != target && now != previous;
}
