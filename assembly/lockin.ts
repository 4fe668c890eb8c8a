// Lock-in bank: per tone, in-phase and quadrature sums of the signal over one window, turned
// into derivatives by the signed projection onto the measurement chain's phase lag (not a
// magnitude with a sign guess). Also the lag model (delay + first-order corner), its
// calibration from measured windows, and a streaming mode with cascaded first-order low-passes.
import { MAX_CONTROLS, Demodulation, Status } from "./layout";
import { setStatusF32 } from "./status";
import { NCO_SIN, NCO_COS, sineTurns } from "./nco";

const SUM_SIN = memory.data(MAX_CONTROLS << 2); // Σ (v − v0)·sin over the window
const SUM_COS = memory.data(MAX_CONTROLS << 2); // Σ (v − v0)·cos
const SUM_REF = memory.data(MAX_CONTROLS << 2); // Σ sin: removes the window's mean exactly
const LAG_COS = memory.data(MAX_CONTROLS << 2); // 1/H of the chain at each tone (real,
const LAG_SIN = memory.data(MAX_CONTROLS << 2); //   imaginary part)
const FREQUENCY = memory.data(MAX_CONTROLS << 2); // tone frequency, Hz
/** Calibration sums over windows: ΣX², ΣY², ΣXY per tone. */
const CAL_XX = memory.data(MAX_CONTROLS << 2);
const CAL_YY = memory.data(MAX_CONTROLS << 2);
const CAL_XY = memory.data(MAX_CONTROLS << 2);
const MAX_ORDER = 4;
/** Streaming low-pass states: per tone, MAX_ORDER stages of (in-phase, quadrature). */
const STREAM = memory.data(MAX_CONTROLS * MAX_ORDER * 8);

let toneCount: i32 = 0;
let windowSamples: i32 = 1;
let samplesInWindow: i32 = 0;
let reference: f32 = 0; // first value of the window: keeps the f32 sums free of the DC level
let sum: f32 = 0; //       Σ (v − v0)
let energy: f32 = 1; //    Σ r² over a window per unit amplitude (perturb.ts: codeEnergy)
let streamOrder: i32 = 1;
let streamAlpha: f32 = 1; // 1 / time constant in samples
let streamMean: f32 = 0;
let streamStarted = false;

export function lockinConfigure(count: i32, window: i32, sampleRateHz: f32, bins: usize, order: i32, tauSamples: f32, referenceEnergy: f32): void {
  toneCount = count;
  windowSamples = window;
  energy = referenceEnergy;
  streamOrder = order;
  streamAlpha = tauSamples >= 1 ? 1 / tauSamples : 1;
  for (let k = 0; k < count; k++) {
    store<f32>(FREQUENCY + (k << 2), (<f32>load<i32>(bins + (k << 2)) * sampleRateHz) / <f32>window);
    store<f32>(CAL_XX + (k << 2), 0);
    store<f32>(CAL_YY + (k << 2), 0);
    store<f32>(CAL_XY + (k << 2), 0);
  }
  memory.fill(STREAM, 0, MAX_CONTROLS * MAX_ORDER * 8);
  streamStarted = false;
  lockinReset();
}

export function lockinReset(): void {
  samplesInWindow = 0;
  sum = 0;
  memory.fill(SUM_SIN, 0, toneCount << 2);
  memory.fill(SUM_COS, 0, toneCount << 2);
  memory.fill(SUM_REF, 0, toneCount << 2);
}

/** One sample of the signal, multiplied by the references of the voltages it answers. */
@inline export function lockinAccumulate(value: f32): void {
  if (samplesInWindow == 0) reference = value;
  samplesInWindow++;
  const v = value - reference;
  sum += v;
  for (let k = 0; k < toneCount; k++) {
    const offset = <usize>k << 2;
    const r = load<f32>(NCO_SIN + offset);
    store<f32>(SUM_SIN + offset, load<f32>(SUM_SIN + offset) + v * r);
    store<f32>(SUM_COS + offset, load<f32>(SUM_COS + offset) + v * load<f32>(NCO_COS + offset));
    store<f32>(SUM_REF + offset, load<f32>(SUM_REF + offset) + r);
  }
}

/** ∂signal/∂control k perturbed with peak amplitude `amplitude`, from the window. For a
 *  tone the reading answers r = |H| a g sin(θ − φ) (chain response H = |H| e^{−jφ}); then
 *  g = (X cos φ − Y sin φ) / (|H| a Σsin²), with LAG_COS + j LAG_SIN = e^{jφ} / |H|. Codes
 *  have no quadrature and no lag: g = X / (a Σr²). X is taken about the window's mean. */
export function lockinDerivative(k: i32, amplitude: f32, demodulation: i32): f32 {
  const offset = <usize>k << 2;
  const x = load<f32>(SUM_SIN + offset) - (sum / <f32>windowSamples) * load<f32>(SUM_REF + offset);
  const y = load<f32>(SUM_COS + offset);
  const scale: f32 = 1 / (amplitude * energy);
  if (demodulation == Demodulation.MagnitudeSign) {
    const magnitude = Mathf.sqrt(x * x + y * y) * scale;
    return x >= 0 ? magnitude : -magnitude;
  }
  return (x * load<f32>(LAG_COS + offset) - y * load<f32>(LAG_SIN + offset)) * scale;
}

// ---- the lag model and its calibration -------------------------------------------------

let modelCos: f32 = 1;
let modelSin: f32 = 0;

/** Sets modelCos + j·modelSin to the inverse of the chain's response at tone k: a delay of
 *  `delay` samples then a first-order low-pass with corner `corner` Hz (0 = none), so
 *  1/H = e^{jωD}·(1 + j f/fc): the projection undoes both the lag and the attenuation. */
function lagOf(k: i32, delay: f32, corner: f32, sampleRateHz: f32): void {
  const frequency = load<f32>(FREQUENCY + (k << 2));
  const turns = (frequency * delay) / sampleRateHz;
  const dc = sineTurns(turns + 0.25), ds = sineTurns(turns);
  const u: f32 = corner > 0 ? frequency / corner : 0;
  modelCos = dc - ds * u;
  modelSin = ds + dc * u;
}

/** Uses the lag model (delay, corner) from now on; STATUS shows it. */
export function lockinSetLag(delay: f32, corner: f32, sampleRateHz: f32): void {
  setStatusF32(Status.LagDelaySamples, delay);
  setStatusF32(Status.LagCornerHz, corner);
  for (let k = 0; k < toneCount; k++) {
    lagOf(k, delay, corner, sampleRateHz);
    store<f32>(LAG_COS + (k << 2), modelCos);
    store<f32>(LAG_SIN + (k << 2), modelSin);
  }
}

/** Adds the window just acquired to the calibration sums. */
export function lockinCalibrationAdd(): void {
  for (let k = 0; k < toneCount; k++) {
    const offset = <usize>k << 2;
    const x = load<f32>(SUM_SIN + offset), y = load<f32>(SUM_COS + offset);
    store<f32>(CAL_XX + offset, load<f32>(CAL_XX + offset) + x * x);
    store<f32>(CAL_YY + offset, load<f32>(CAL_YY + offset) + y * y);
    store<f32>(CAL_XY + offset, load<f32>(CAL_XY + offset) + x * y);
  }
}

/** Share of each tone's energy left in quadrature by a lag model, summed over tones. The
 *  sign of a derivative flips the phase by π and leaves this unchanged, so the fit works on
 *  phases modulo π and needs no guess of the signs. */
function quadratureShare(delay: f32, corner: f32, sampleRateHz: f32): f32 {
  let total: f32 = 0;
  for (let k = 0; k < toneCount; k++) {
    const offset = <usize>k << 2;
    const xx = load<f32>(CAL_XX + offset), yy = load<f32>(CAL_YY + offset), xy = load<f32>(CAL_XY + offset);
    lagOf(k, delay, corner, sampleRateHz);
    const c = modelCos, s = modelSin;
    total += (s * s * xx + 2 * s * c * xy + c * c * yy) / ((c * c + s * s) * (xx + yy) + 1e-30);
  }
  return total;
}

const MAX_DELAY_SAMPLES: f32 = 64;

/** Fits the delay (0..64 samples) and corner (none, or 1/64..64 times the top tone) that
 *  leave the least energy in quadrature: a grid, then a compass search from the best point. */
export function lockinCalibrate(sampleRateHz: f32): void {
  let top: f32 = 0;
  for (let k = 0; k < toneCount; k++) top = max(top, load<f32>(FREQUENCY + (k << 2)));
  let bestDelay: f32 = 0, bestCorner: f32 = 0;
  let best = quadratureShare(0, 0, sampleRateHz);
  for (let delay: f32 = 0; delay <= MAX_DELAY_SAMPLES; delay += 0.5) {
    let corner: f32 = 0;
    for (let j = 0; j <= 24; j++) {
      const share = quadratureShare(delay, corner, sampleRateHz);
      if (share < best) { best = share; bestDelay = delay; bestCorner = corner; }
      corner = j == 0 ? top / 64 : corner * Mathf.SQRT2;
    }
  }
  // compass search: take any move that lowers the share, shrink the steps when none does
  let delayStep: f32 = 0.25, cornerStep: f32 = 1.19; // 2^(1/4)
  for (let round = 0; round < 400 && delayStep > 1e-4; round++) {
    let moved = false;
    for (let move = 0; move < 4; move++) {
      let delay = bestDelay, corner = bestCorner;
      if (move == 0) delay -= delayStep;
      else if (move == 1) delay += delayStep;
      else if (move == 2) corner /= cornerStep;
      else corner *= cornerStep;
      if (delay < 0 || delay > MAX_DELAY_SAMPLES) continue;
      const share = quadratureShare(delay, corner, sampleRateHz);
      if (share < best) { best = share; bestDelay = delay; bestCorner = corner; moved = true; }
    }
    if (!moved) {
      delayStep *= 0.5;
      cornerStep = Mathf.sqrt(cornerStep);
    }
  }
  lockinSetLag(bestDelay, bestCorner, sampleRateHz);
}

// ---- streaming: cascaded first-order low-passes instead of windows ---------------------

/** One sample of the signal: its running mean is removed, then each tone's mixer output
 *  goes through `streamOrder` identical first-order low-passes. */
@inline export function lockinStream(value: f32): void {
  const alpha = streamAlpha;
  if (!streamStarted) { streamMean = value; streamStarted = true; }
  streamMean += alpha * (value - streamMean);
  const v = value - streamMean;
  for (let k = 0; k < toneCount; k++) {
    let state = STREAM + (<usize>k * MAX_ORDER * 8);
    let x = v * load<f32>(NCO_SIN + (k << 2)), y = v * load<f32>(NCO_COS + (k << 2));
    for (let stage = 0; stage < streamOrder; stage++, state += 8) {
      x = load<f32>(state) + alpha * (x - load<f32>(state));
      y = load<f32>(state, 4) + alpha * (y - load<f32>(state, 4));
      store<f32>(state, x);
      store<f32>(state, y, 4);
    }
  }
}

/** Streaming derivative of tone k: the filtered mixer outputs are means, not sums. */
export function lockinStreamDerivative(k: i32, amplitude: f32): f32 {
  const state = STREAM + (<usize>k * MAX_ORDER * 8) + (<usize>(streamOrder - 1) << 3);
  const x = load<f32>(state), y = load<f32>(state, 4);
  return (2 * (x * load<f32>(LAG_COS + (k << 2)) - y * load<f32>(LAG_SIN + (k << 2)))) / amplitude;
}
