// Lock-in bank: per tone, in-phase and quadrature sums of the signal over one window, turned
// into derivatives by the signed projection onto the measurement chain's phase lag (not a
// magnitude with a sign guess). Also the lag model (a sampled chain: held DAC, delay, first-order
// corner), its
// calibration from measured windows, the third-order distortion probe that runs with it, and a
// streaming mode with cascaded first-order low-passes.
import { MAX_CONTROLS, Demodulation, Status, Field } from "./layout";
import { setStatusF32, statusF32 } from "./status";
import { ACTIVE, configI32, configF32, controlCount, windowSamples } from "./config";
import { NCO_SIN, NCO_COS, TONE_BINS, sineTurns, ncoRetune } from "./nco";
import { thirdOrderProbe, probeTwice, probeOnce } from "./plan";
import { codeEnergy, REFERENCE_SUM } from "./perturb";
import { exponentialOf } from "./loss";
import { FULL } from "./features";
import { recordField, fillField, SUMS_FIELD } from "./records";

/** The window's sums, a pair of f32 per tone (one address for both, per sample):
 *  Σ (v − v0)·sin over the window, then Σ (v − v0)·cos. */
@inline function sumsOf(k: i32): usize { return recordField(k, SUMS_FIELD); }
const LAG_COS = memory.data(MAX_CONTROLS << 2); // 1/H of the chain at each tone (real,
const LAG_SIN = memory.data(MAX_CONTROLS << 2); //   imaginary part)
/** Calibration sums over windows: ΣX², ΣY², ΣXY per tone, MAX_CONTROLS f32 each. */
const CALIBRATION = memory.data(FULL ? 3 * MAX_CONTROLS << 2 : 4); // (the core has no calibration)
const CAL_XX = CALIBRATION;
const CAL_YY = CALIBRATION + (MAX_CONTROLS << 2);
const CAL_XY = CALIBRATION + (2 * MAX_CONTROLS << 2);
const MAX_ORDER = 4;
/** Streaming low-pass states: per tone, MAX_ORDER stages of (in-phase, quadrature). */
const STREAM = memory.data(FULL ? MAX_CONTROLS * MAX_ORDER * 8 : 4); // (nor streaming)
/** The calibration's toneTurns() of every tone (4 f32 each, half of STREAM) at the whole delay
 *  turnsWhole (−1: none yet): the fit tries thousands of lag models, and what each costs a
 *  tone in sines depends on the model only through its whole samples of delay (lagOf). In
 *  STREAM's memory: a configuration that calibrates never streams (trainer.ts: trainerStart). */
const TURNS = STREAM;
let turnsWhole: i32 = -1;

/** The window's first value (NaN until it arrives): keeps the f32 sums free of the DC level. */
let reference: f32 = NaN;
let sum: f32 = 0; //       Σ (v − v0)
let energy: f32 = 1; //    Σ r² over a window per unit amplitude (perturb.ts: codeEnergy)
let streamOrder: i32 = 1;
let streamAlpha: f32 = 1; // 1 / time constant in samples
let streamMean: f32 = 0; // running mean of the signal, from its first value on
let streamStarted = false;

/** Starts the active configuration's lock-in: the tones are the oscillator bank's, the
 *  references' energy the perturbation's (perturb.ts: codeEnergy), the low-passes' order
 *  and time constant from the configuration. */
export function lockinConfigure(): void {
  energy = codeEnergy();
  probeControl = -1; // the oscillators were just configured: nothing to give back
  if (FULL) {
    streamOrder = configI32(ACTIVE, Field.StreamOrder);
    streamAlpha = 1 / configF32(ACTIVE, Field.StreamTauSamples); // validated >= 1
    memory.fill(CALIBRATION, 0, 3 * MAX_CONTROLS << 2);
    calibrationWindows = 0;
    memory.fill(STREAM, 0, MAX_CONTROLS * MAX_ORDER * 8);
    streamStarted = false;
  }
  lockinReset();
}

export function lockinReset(): void {
  reference = NaN;
  sum = 0;
  fillField(SUMS_FIELD, 0);
  fillField(SUMS_FIELD + 4, 0);
}

/** One sample of the signal, multiplied by the references of the voltages it answers. */
@inline export function lockinAccumulate(value: f32): void {
  const v = lockinCentre(value);
  for (let k = 0; k < controlCount; k++) {
    const offset = <usize>k << 2;
    lockinAdd(k, v, load<f32>(NCO_SIN + offset), load<f32>(NCO_COS + offset));
  }
}

/** The sample about the window's first value (kept in Σ): what the references multiply. */
@inline export function lockinCentre(value: f32): f32 {
  if (isNaN(reference)) reference = value; // values are finite: the trainer passes good readings only
  return lockinCentred(value);
}
/** The same once the window's first value is in (a NaN reference after a bad first reading
 *  makes the sums NaN, in a window that is discarded anyway). */
@inline export function lockinCentred(value: f32): f32 {
  const v = value - reference;
  sum += v;
  return v;
}

/** Control k's share of one sample: v times its two references. */
@inline export function lockinAdd(k: i32, v: f32, sine: f32, cosine: f32): void {
  const at = sumsOf(k);
  store<f32>(at, load<f32>(at) + v * sine);
  store<f32>(at, load<f32>(at, 4) + v * cosine, 4);
}

/** ∂signal/∂control k perturbed with peak amplitude `amplitude`, from the window. For a
 *  tone the reading answers r = |H| a g sin(θ − φ) (chain response H = |H| e^{−jφ}); then
 *  g = (X cos φ − Y sin φ) / (|H| a Σsin²), with LAG_COS + j LAG_SIN = e^{jφ} / |H|. Codes
 *  have no quadrature and no lag: g = X / (a Σr²). X is taken about the window's mean. */
export function lockinDerivative(k: i32, amplitude: f32, demodulation: i32): f32 {
  const offset = <usize>k << 2;
  let x = load<f32>(sumsOf(k));
  if (FULL) x -= (sum / <f32>windowSamples) * load<f32>(REFERENCE_SUM + offset); // codes: Σr is 0 for tones
  const y = load<f32>(sumsOf(k), 4);
  const scale: f32 = 1 / (amplitude * energy);
  if (FULL && demodulation == Demodulation.MagnitudeSign) {
    const magnitude = Mathf.sqrt(x * x + y * y) * scale;
    return x >= 0 ? magnitude : -magnitude;
  }
  return (x * load<f32>(LAG_COS + offset) - y * load<f32>(LAG_SIN + offset)) * scale;
}

// ---- the lag model and its calibration -------------------------------------------------

let modelCos: f32 = 1;
let modelSin: f32 = 0;

/** The lag model in use by lagOf(): the corner's p = e^(−2π·fc/fs) and q = p^(1−μ) (0 without
 *  a corner) and the delay's whole samples L, for D = L + μ (chainOf). */
let chainP: f32 = 0, chainQ: f32 = 0, chainWhole: i32 = 0;

/** Sets the model lagOf() evaluates: a transport delay of `delay` samples and a corner of
 *  `corner` Hz (0 = none). */
function chainOf(delay: f32, corner: f32): void {
  const whole = Mathf.floor(delay);
  // a corner below about 2e-8 of the rate is taken as that: a lower one's pole p would round
  // to 1 in f32 and make 1/H 0/0 (and q would lose the fractional delay). Far below every
  // tone 1/H's phase hardly depends on the corner; its magnitude does, as 1/corner.
  const rate = min(-<f32>(2 * Math.PI) * corner / configF32(ACTIVE, Field.SampleRateHz), -1.2e-7);
  chainP = corner > 0 ? exponentialOf(max(rate, -80)) : 0;
  chainQ = corner > 0 ? exponentialOf(max(rate * (1 - (delay - whole)), -80)) : 0;
  chainWhole = <i32>whole;
}

/** Writes tone k's e^{jω} and e^{jωL} (L = chainWhole) at `at` (4 f32: cos ω, sin ω, cos ωL,
 *  sin ωL), ω = 2π·bin/W; the turns ω·L/2π = bin·L/W taken modulo 1 in integers, exact for
 *  any L. */
function toneTurns(k: i32, at: usize): void {
  const bin = load<i32>(TONE_BINS + (<usize>k << 2));
  const frequency = <f32>bin / <f32>windowSamples;
  const turns = <f32>(<i64>bin * <i64>chainWhole % <i64>windowSamples) / <f32>windowSamples;
  store<f32>(at, sineTurns(frequency + 0.25));
  store<f32>(at, sineTurns(frequency), 4);
  store<f32>(at, sineTurns(turns + 0.25), 8);
  store<f32>(at, sineTurns(turns), 12);
}
/** lockinSetLag's toneTurns(), one tone at a time. */
const ONE_TONE = memory.data(16);

/** Sets modelCos + j·modelSin to 1/H at the tone whose e^{jω} and e^{jωL} are at `turns`
 *  (toneTurns), H the response of the sampled chain chainOf() set: each value written held for
 *  one sample (zero-order hold), a transport delay of D = L + μ samples (L whole, 0 <= μ < 1),
 *  a first-order RC with corner fc, read at the end of each sample (the reading step() gets
 *  answers the voltages written one call earlier). Its impulse response is the held pulse
 *  through the RC, sampled: (derived)
 *    H(z) = z^−L·[(1 − q) + (q − p)·z^−1] / (1 − p·z^−1),  p = e^(−2π·fc/fs),  q = p^(1−μ),
 *  so 1/H = e^{jωL}·(1 − p·e^{−jω}) / ((1 − q) + (q − p)·e^{−jω}). At μ = 0 this is the one-pole
 *  y += (1 − p)(x − y) delayed L samples; without a corner (p = q = 0) a whole-sample delay of L
 *  (a held value has no fractional delay until something smooths it). The projection undoes
 *  both the lag and the attenuation. */
function lagOf(turns: usize): void {
  const p = chainP, q = chainQ, c = load<f32>(turns), s = load<f32>(turns, 4);
  const nr: f32 = 1 - p * c, ni = p * s; //                     1 − p·e^{−jω}
  const dr: f32 = 1 - q + (q - p) * c, di = (p - q) * s; //     (1 − q) + (q − p)·e^{−jω}
  const d2 = dr * dr + di * di;
  const rr = (nr * dr + ni * di) / d2, ri = (ni * dr - nr * di) / d2;
  const cl = load<f32>(turns, 8), sl = load<f32>(turns, 12);
  modelCos = rr * cl - ri * sl;
  modelSin = rr * sl + ri * cl;
}

/** Uses the lag model (delay, corner) from now on; STATUS shows it. */
export function lockinSetLag(delay: f32, corner: f32): void {
  setStatusF32(Status.LagDelaySamples, delay);
  setStatusF32(Status.LagCornerHz, corner);
  chainOf(delay, corner);
  for (let k = 0; k < controlCount; k++) {
    toneTurns(k, ONE_TONE);
    lagOf(ONE_TONE);
    store<f32>(LAG_COS + (k << 2), modelCos);
    store<f32>(LAG_SIN + (k << 2), modelSin);
  }
}

/** Adds the window just acquired to the calibration sums (the probe's channel to the probe's). */
export function lockinCalibrationAdd(): void {
  calibrationWindows++;
  for (let k = 0; k < controlCount; k++) {
    const offset = <usize>k << 2;
    const x = load<f32>(sumsOf(k)), y = load<f32>(sumsOf(k), 4);
    if (k == probeControl) {
      probeEnergy += x * x + y * y;
      continue;
    }
    store<f32>(CAL_XX + offset, load<f32>(CAL_XX + offset) + x * x);
    store<f32>(CAL_YY + offset, load<f32>(CAL_YY + offset) + y * y);
    store<f32>(CAL_XY + offset, load<f32>(CAL_XY + offset) + x * y);
  }
}

/** Delays the calibration searches: up to 64 samples, with room above so that noise cannot
 *  pin a fit of 64 to the edge (where it would slide down the valley to a slower corner). */
const MAX_DELAY_SAMPLES: f32 = 80;
/** A fit is taken where the energy it puts in phase exceeds what it leaves in quadrature by
 *  more than noise alone gives, over n = tones × windows phases: by a factor above
 *  1 + FIT_MARGIN/n + SPREAD_MARGIN/√n. Out of noise the fit picks about a fixed amount of
 *  energy (so a share falling as 1/n) and the ratio of the two energies spreads by 2/√n (each a
 *  sum of n squares): SPREAD_MARGIN is four of those. Measured on a device with no response
 *  (40 seeded starts each), noise alone reached 11.7 at n = 8, 10.0 at 12, 3.6 at 32 and 1.5 at
 *  120 (asked: 22.6, 15.8, 7.1, 3.0); the DNPU's default tones give at least 71 at n = 32 (XOR
 *  seeds 1–30), the bench's resistor networks 3.7 at n = 254 (128 controls, one window of
 *  4096 samples a calibration epoch; asked 2.1) and at least 33 at n = 14 and 62. */
const FIT_MARGIN: f32 = 150;
const SPREAD_MARGIN: f32 = 8;
/** The free corner replaces the one in use where it leaves less quadrature energy by more than
 *  this many times what one phase's noise carries: a fit with one parameter fewer leaves more by
 *  χ² of one degree of freedom times that, and 10.8 is its 99.9% point. */
const CORNER_CHI2: f32 = 10.8;
/** The best lag model the calibration has tried, and the quadrature share it leaves. */
let bestDelay: f32 = 0, bestCorner: f32 = 0, bestShare: f32 = 0;

/** The energy a lag model leaves in quadrature, summed over tones (Infinity for a delay
 *  outside 0..MAX_DELAY_SAMPLES). Summing energies, not per-tone shares, lets strong tones
 *  (reliable phases) decide; a tone whose derivative is zero carries only noise, and weighing
 *  it like the others lets its random phase pull the fit onto an alias. The sign of a
 *  derivative flips the phase by π and leaves the energy unchanged, so the fit works on phases
 *  modulo π and needs no guess of the signs. */
function quadratureOf(delay: f32, corner: f32): f32 {
  if (!(delay >= 0 && delay <= MAX_DELAY_SAMPLES)) return Infinity;
  chainOf(delay, corner);
  const turnsStale = chainWhole != turnsWhole;
  turnsWhole = chainWhole;
  let share: f32 = 0;
  for (let k = 0; k < controlCount; k++) {
    const offset = <usize>k << 2;
    const turns = TURNS + (offset << 2);
    if (turnsStale) toneTurns(k, turns);
    lagOf(turns);
    const xx = load<f32>(CAL_XX + offset), yy = load<f32>(CAL_YY + offset), xy = load<f32>(CAL_XY + offset);
    const c = modelCos, s = modelSin;
    share += (s * s * xx + 2 * s * c * xy + c * c * yy) / (c * c + s * s);
  }
  return share;
}

/** For a fixed corner, the delay near `delay` that leaves the least quadrature energy: a 1-D
 *  compass search (steps from 0.5 sample down to 1e-4). Keeps the best model overall in
 *  best*; returns the energy at the delay found. */
function fitDelay(delay: f32, corner: f32): f32 {
  let share = quadratureOf(delay, corner);
  for (let step: f32 = 0.5; step > 1e-4; ) {
    const up = quadratureOf(delay + step, corner), down = quadratureOf(delay - step, corner);
    if (up < share && up <= down) { delay += step; share = up; }
    else if (down < share) { delay -= step; share = down; }
    else step *= 0.5;
  }
  if (share < bestShare) { bestShare = share; bestDelay = delay; bestCorner = corner; }
  return share;
}

/** Fits the delay (0..80 samples, fractional) and corner (none, or 1/64..64 times the top
 *  tone) that leave the least energy in quadrature: a grid, then the best corner by a compass
 *  search in its logarithm, each corner tried with its own best delay. Delay and corner trade
 *  off along a narrow curved valley (a fast corner looks like a delay), where a search in both
 *  at once stalls short of the bottom; one dimension at a time follows it. The grid keeps the
 *  shorter delay unless a longer one leaves half its energy: where one tone dominates (its
 *  phase known only modulo π) the others barely separate the valley from aliases tens of
 *  samples away, and a chain's lag is far more often short (DNPU seeds 53 and 68 of 100 fitted
 *  41.5 and 42.2 samples for a 2-sample, 1 kHz chain).
 *  Over a narrow band the phases barely tell a corner from a delay (both turn the phase nearly
 *  in proportion to frequency there): the free pair wanders along that valley with the noise,
 *  its phases right and its gains not. On the eight-edge resistor network (tones 225–400 Hz) it
 *  fitted 1.49 samples and 507 Hz for a 2-sample, 1 kHz chain, and the gradients came out 13%
 *  off. So the corner in use (the configured one) stays, with its own best delay, unless the
 *  free pair does better than noise would (CORNER_CHI2).
 *  Returns whether the fit is taken (the rule at FIT_MARGIN); otherwise (a start where no
 *  control moves the output: its phases are noise, and a lag fitted to them, kept for the run,
 *  can turn derivatives' signs) the configured lag stays in use. */
export function lockinCalibrate(): bool {
  const probing = probeControl >= 0;
  lockinProbeEnd();
  turnsWhole = -1;
  let topBin = 0;
  for (let k = 0; k < controlCount; k++) topBin = max(topBin, load<i32>(TONE_BINS + (<usize>k << 2)));
  const lowestCorner = <f32>topBin * configF32(ACTIVE, Field.SampleRateHz) / <f32>windowSamples / 64;
  bestShare = Infinity;
  for (let delay: f32 = 0; delay <= MAX_DELAY_SAMPLES; delay += 0.5) {
    // corners 0, then lowestCorner·√2^j for j = 0..24 (to 4096·lowestCorner, whatever its rounding)
    for (let corner: f32 = 0; corner <= lowestCorner * 4100; corner = max(corner * Mathf.SQRT2, lowestCorner)) {
      const share = quadratureOf(delay, corner);
      if (share + share < bestShare) { bestShare = share; bestDelay = delay; bestCorner = corner; }
    }
  }
  let corner = bestCorner;
  let share = fitDelay(bestDelay, corner);
  for (let factor: f32 = 1.19; corner > 0 && factor > 1.0001; ) { // 2^(1/4), then its roots
    const delay = bestDelay;
    const up = fitDelay(delay, corner * factor), down = fitDelay(delay, corner / factor);
    if (up < share && up <= down) { corner *= factor; share = up; }
    else if (down < share) { corner /= factor; share = down; }
    else factor = Mathf.sqrt(factor);
  }
  // A sinusoid of amplitude A gives X² + Y² = (A·W/2)² over a window; noise gives the same
  // E[X² + Y²] at every bin, twice the quadrature energy the free fit leaves per tone and window.
  const windows = <f32>max(calibrationWindows, 1);
  const phases = <f32>max(controlCount - (probing ? 1 : 0), 1) * windows; // tones × windows
  const free = bestShare, freeDelay = bestDelay, freeCorner = bestCorner;
  bestShare = Infinity;
  fitDelay(statusF32(Status.LagDelaySamples), statusF32(Status.LagCornerHz));
  if (bestShare - free > CORNER_CHI2 * free / phases) { bestShare = free; bestDelay = freeDelay; bestCorner = freeCorner; }
  const toAmplitude: f32 = 2 / <f32>windowSamples;
  setStatusF32(Status.NoiseAmplitude, Mathf.sqrt(2 * free / phases) * toAmplitude);
  setStatusF32(Status.ThirdOrderAmplitude, probing ? Mathf.sqrt(probeEnergy / windows) * toAmplitude : NaN);
  let inPhase = -bestShare;
  for (let k = 0; k < controlCount; k++) inPhase += load<f32>(CAL_XX + (<usize>k << 2)) + load<f32>(CAL_YY + (<usize>k << 2));
  const fitted = inPhase > bestShare * (1 + FIT_MARGIN / phases + SPREAD_MARGIN / Mathf.sqrt(phases));
  if (fitted) lockinSetLag(bestDelay, bestCorner);
  return fitted;
}

// ---- the third-order distortion probe --------------------------------------------------

/** The control whose oscillator listens at the probe's bin during calibration (−1: none). */
let probeControl: i32 = -1;
let probeEnergy: f32 = 0; // Σ X² + Y² at the probe's bin over the calibration windows
let calibrationWindows: i32 = 0;

/** After lockinConfigure(), for a configuration that calibrates (`calibrating`): chooses a bin
 *  holding a third-order product 2f_i − f_j (at order 2 the sum of many) and no tone or
 *  second-order product (plan.ts:
 *  thirdOrderProbe) and a control other than i and j, whose oscillator moves there until
 *  lockinCalibrate() (the trainer holds that control's amplitude at 0 meanwhile:
 *  lockinProbeControl). Needs 3 tones; without a clear bin nothing is probed (status NaN). */
export function lockinProbeStart(guardBins: i32, calibrating: bool): void {
  probeEnergy = 0;
  setStatusF32(Status.ThirdOrderAmplitude, NaN);
  setStatusF32(Status.NoiseAmplitude, NaN);
  if (!calibrating || controlCount < 3) return;
  const bin = thirdOrderProbe(controlCount, windowSamples, TONE_BINS, guardBins, FULL && configI32(ACTIVE, Field.PlanOrder) == 2);
  if (bin == 0) return;
  let k = controlCount - 1;
  while (k == probeTwice || k == probeOnce) k--;
  probeControl = k;
  ncoRetune(k, bin);
}

/** Gives the probe's control its tone back (calibration over, or skipped). */
export function lockinProbeEnd(): void {
  if (probeControl >= 0) ncoRetune(probeControl, load<i32>(TONE_BINS + (<usize>probeControl << 2)));
  probeControl = -1;
}

/** The control listening at the probe's bin (its amplitude must be 0), or −1. */
export function lockinProbeControl(): i32 {
  return probeControl;
}

// ---- streaming: cascaded first-order low-passes instead of windows ---------------------

/** One sample of the signal: its running mean is removed, then each tone's mixer output
 *  goes through `streamOrder` identical first-order low-passes. */
@inline export function lockinStream(value: f32): void {
  const alpha = streamAlpha;
  if (!streamStarted) { streamMean = value; streamStarted = true; }
  streamMean += alpha * (value - streamMean);
  const v = value - streamMean;
  for (let k = 0; k < controlCount; k++) {
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
