// Oscillator bank: one bin-exact tone per control, sine and cosine, no Math.sin.
// A tone's phase is an integer, (bin × sample) modulo the window, so every tone returns to
// phase exactly 0 after each window and cannot drift, however long it runs. Values come
// from one 1024-entry period table with linear interpolation: max error (2π/1024)²/8 = 4.7e-6.
import { MAX_CONTROLS } from "./layout";

const TABLE_SIZE: i32 = 1024;
const QUARTER: f32 = 256;
/** f32 sine over one period, plus a guard entry so interpolation never wraps. */
const SINE_TABLE = memory.data((TABLE_SIZE + 1) << 2, 16);
const PHASE = memory.data(MAX_CONTROLS << 2); // i32, in [0, window)
const BIN = memory.data(MAX_CONTROLS << 2); //   i32, cycles per window
/** Sine and cosine of each tone at its current phase (the values last written out). */
export const NCO_SIN = memory.data(MAX_CONTROLS << 2);
export const NCO_COS = memory.data(MAX_CONTROLS << 2);

let tableFilled = false;
let windowSamples: i32 = 1;
let toneCount: i32 = 0;
let tableScale: f32 = 0; // table entries per phase step: TABLE_SIZE / window

/** Fills the table: Taylor series in f64 on [0, π/2] (truncation < 1e-15), mirrored. */
function fillTable(): void {
  const quarter = TABLE_SIZE >> 2;
  for (let i = 0; i <= quarter; i++) {
    const x = (<f64>i * Math.PI * 2.0) / <f64>TABLE_SIZE;
    let term = x, sum = x;
    for (let n = 1; n < 12; n++) {
      term *= (-x * x) / <f64>((2 * n) * (2 * n + 1));
      sum += term;
    }
    const s = <f32>sum;
    store<f32>(SINE_TABLE + (i << 2), s);
    store<f32>(SINE_TABLE + ((2 * quarter - i) << 2), s);
    store<f32>(SINE_TABLE + ((2 * quarter + i) << 2), -s);
    store<f32>(SINE_TABLE + (((4 * quarter - i) & (TABLE_SIZE - 1)) << 2), -s);
  }
  store<f32>(SINE_TABLE + (TABLE_SIZE << 2), 0); // guard: sin(2π)
}

/** Sine of an angle given in table entries, 0 <= x < TABLE_SIZE. */
@inline export function sineAt(x: f32): f32 {
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

/** Starts `count` tones at phase 0; bins were validated: 1 <= bin < window / 2. */
export function ncoConfigure(count: i32, window: i32, bins: usize): void {
  if (!tableFilled) fillTable();
  tableFilled = true;
  toneCount = count;
  windowSamples = window;
  tableScale = <f32>TABLE_SIZE / <f32>window;
  for (let k = 0; k < count; k++) {
    store<i32>(BIN + (k << 2), load<i32>(bins + (k << 2)));
    store<i32>(PHASE + (k << 2), 0);
    store<f32>(NCO_SIN + (k << 2), 0);
    store<f32>(NCO_COS + (k << 2), 1);
  }
}

/** Advances every tone by one sample and updates NCO_SIN / NCO_COS. */
@inline export function ncoAdvance(): void {
  const window = windowSamples, scale = tableScale;
  for (let k = 0; k < toneCount; k++) {
    const offset = <usize>k << 2;
    let phase = load<i32>(PHASE + offset) + load<i32>(BIN + offset);
    if (phase >= window) phase -= window;
    store<i32>(PHASE + offset, phase);
    const x = <f32>phase * scale;
    let xc = x + QUARTER;
    if (xc >= <f32>TABLE_SIZE) xc -= <f32>TABLE_SIZE;
    store<f32>(NCO_SIN + offset, sineAt(x));
    store<f32>(NCO_COS + offset, sineAt(xc));
  }
}

/** The integer phase of tone k, in [0, window): exposed for the drift test. */
export function ncoPhase(k: i32): i32 {
  return load<i32>(PHASE + (k << 2));
}
