// Oscillator bank: one bin-exact tone per control, sine and cosine, no Math.sin.
// A tone's phase is an integer, (bin × sample) modulo the window, so every tone returns to
// phase exactly 0 after each window and cannot drift, however long it runs. Values come
// from one 1024-entry period table with linear interpolation: max error (2π/1024)²/8 = 4.7e-6.
// A window of at most SINES_MAX_WINDOW samples gets its own table of those values, sine and
// cosine per phase (SINES), filled once at configure: a sample then reads a tone's sine
// and cosine with no arithmetic at all (the per-sample path, trainer.ts, runs on it).
import { MAX_CONTROLS, SINES_MAX_WINDOW, TONE_BIN_WORD } from "./layout";
import { ACTIVE, controlCount, windowSamples } from "./config";
import { FULL } from "./features";
import { recordField, fillField, PHASE_FIELD, STEP_FIELD } from "./records";

const TABLE_SIZE: i32 = 1024;
const QUARTER: f32 = 256;
/** f32 sine over one period, plus a guard entry so interpolation never wraps. */
const SINE_TABLE = memory.data((TABLE_SIZE + 1) << 2, 16);
/** Per phase p of the window, 0 <= p < W: sin(2π p / W), then cos(2π p / W), each the value
 *  the interpolation gives (sineOfPhase, cosineOfPhase without the table). */
const SINES = memory.data(SINES_MAX_WINDOW << 3, 16);
/** The tone bin of each control (cycles per window, planned or given): the running
 *  configuration's ToneBin words (configure plans into the block's, activate copies them). */
export const TONE_BINS: usize = ACTIVE + (<usize>TONE_BIN_WORD << 2);
/** Sine and cosine of each tone at its current phase (the values last written out). */
export const NCO_SIN = memory.data(MAX_CONTROLS << 2);
export const NCO_COS = memory.data(MAX_CONTROLS << 2);

let tableScale: f32 = 0; // table entries per phase step: TABLE_SIZE / window

/** Whether the active window has its table. */
export let sinesCached = false;

/** Fills the table with the recurrence sin((n+1)θ) = 2cos θ·sin(nθ) − sin((n−1)θ), θ = 2π/1024,
 *  in f64 (constants: f64 roundings of the exact values). Each entry is within 6e-12 of the
 *  exact sine before its rounding to f32; checked against 40-digit values, every entry is the
 *  sine rounded to f32 except sin π and sin 2π, which hold −3e-12 and 6e-12 instead of 0. */
function fillTable(): void {
  const TWO_COS_STEP: f64 = 1.9999623505652022; // 2cos θ
  let previous: f64 = -0.006135884649154475, s: f64 = 0; // sin(−θ), sin 0
  for (let i = 0; i <= TABLE_SIZE; i++) {
    store<f32>(SINE_TABLE + (i << 2), <f32>s);
    const next = TWO_COS_STEP * s - previous;
    previous = s;
    s = next;
  }
}
fillTable(); // once, when the module starts

/** Sine of an angle given in table entries, 0 <= x < TABLE_SIZE. Not inlined: the window's own
 *  table (SINES) serves the per-sample path of windows up to 512 samples, and one copy keeps the
 *  full build under 12 KiB (a C compiler inlines it again on a board). */
export function sineAt(x: f32): f32 {
  const i = <i32>x & (TABLE_SIZE - 1);
  const fraction = x - <f32>i;
  const a = load<f32>(SINE_TABLE + (i << 2));
  const b = load<f32>(SINE_TABLE + (i << 2), 4);
  return a + fraction * (b - a);
}

/** Sine of 2π·turns, for any finite `turns` (used off the per-sample path). */
export function sineTurns(turns: f32): f32 {
  const whole = Mathf.floor(turns);
  return sineAt((turns - whole) * <f32>TABLE_SIZE);
}

/** Starts one tone per control (config.ts: controlCount, windowSamples) at phase 0, with
 *  the validated bins at TONE_BINS: 1 <= bin < window / 2. NCO_SIN / NCO_COS hold values once
 *  ncoAdvance() has run: the first sample written is the first advance. */
export function ncoConfigure(): void {
  const window = windowSamples;
  tableScale = <f32>TABLE_SIZE / <f32>window;
  for (let k = 0; k < controlCount; k++) store<i32>(recordField(k, STEP_FIELD), load<i32>(TONE_BINS + (<usize>k << 2)));
  fillField(PHASE_FIELD, 0);
  sinesCached = false;
  if (window > SINES_MAX_WINDOW) return; // (the core refuses such windows: config.ts)
  for (let p = 0; p < window; p++) {
    store<f32>(SINES + (<usize>p << 3), interpolatedSine(p));
    store<f32>(SINES + (<usize>p << 3), interpolatedCosine(p), 4);
  }
  sinesCached = true;
}

/** Sine and cosine of a tone at integer phase p, 0 <= p < window: the window's table if it has
 *  one (always, in the core), else interpolated. */
@inline export function sineOfPhase(p: i32): f32 {
  return !FULL || sinesCached ? cachedSine(p) : interpolatedSine(p);
}
@inline export function cosineOfPhase(p: i32): f32 {
  return !FULL || sinesCached ? cachedCosine(p) : interpolatedCosine(p);
}
@inline function interpolatedSine(p: i32): f32 {
  return sineAt(<f32>p * tableScale);
}
@inline function interpolatedCosine(p: i32): f32 {
  let x = <f32>p * tableScale + QUARTER;
  if (x >= <f32>TABLE_SIZE) x -= <f32>TABLE_SIZE;
  return sineAt(x);
}
/** The cached sine and cosine (sinesCached only): the per-sample path's reads. The byte
 *  offset is masked (SINES_OFFSETS: the power of two above the table's bytes, less 8), which
 *  changes no valid offset (phases below SINES_MAX_WINDOW) but tells a compiler of the module
 *  (wasm2c, then gcc) that the reads stay inside memory: no bounds test remains. */
const SINES_OFFSETS: usize = (<usize>1 << (32 - clz<u32>((SINES_MAX_WINDOW << 3) - 1))) - 8;
@inline export function cachedSine(p: i32): f32 {
  return load<f32>(SINES + ((<usize>p << 3) & SINES_OFFSETS));
}
@inline export function cachedCosine(p: i32): f32 {
  return load<f32>(SINES + ((<usize>p << 3) & SINES_OFFSETS), 4);
}

/** Tone k's phase before and after one sample: the next phase is stored and returned. */
@inline export function ncoPhaseAt(k: i32): i32 { return load<i32>(recordField(k, PHASE_FIELD)); }
@inline export function ncoNextPhase(k: i32, phase: i32): i32 {
  let next = phase + load<i32>(recordField(k, STEP_FIELD));
  if (next >= windowSamples) next -= windowSamples;
  store<i32>(recordField(k, PHASE_FIELD), next);
  return next;
}

/** Advances every tone by one sample and updates NCO_SIN / NCO_COS. */
@inline export function ncoAdvance(): void {
  for (let k = 0; k < controlCount; k++) ncoNextPhase(k, ncoPhaseAt(k));
  ncoSync();
}

/** NCO_SIN / NCO_COS from the phases (after samples that did not write them: trainer.ts). */
export function ncoSync(): void {
  for (let k = 0; k < controlCount; k++) {
    const offset = <usize>k << 2, phase = ncoPhaseAt(k);
    store<f32>(NCO_SIN + offset, sineOfPhase(phase));
    store<f32>(NCO_COS + offset, cosineOfPhase(phase));
  }
}

/** Moves oscillator k to `bin` (1 <= bin < window / 2; its tone bin gives the tone back) from
 *  its next advance on; TONE_BINS keeps the tone. The phase runs on, so a window still holds
 *  whole periods. For the distortion probe (lockin.ts). */
export function ncoRetune(k: i32, bin: i32): void {
  store<i32>(recordField(k, STEP_FIELD), bin);
}

/** The integer phase of tone k, in [0, window): exposed for the drift test. */
export function ncoPhase(k: i32): i32 {
  return ncoPhaseAt(k);
}
