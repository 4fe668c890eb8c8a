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

/** Fills the table by rotating a unit vector in f64 (step from a 3-term Taylor series,
 *  error < 1e-19; 1024 rotations add < 1e-13): every entry is sin rounded to f32. */
function fillTable(): void {
  const step = (Math.PI * 2.0) / <f64>TABLE_SIZE;
  const stepSin = step - (step * step * step) / 6 + (step * step * step * step * step) / 120;
  const stepCos = 1 - (step * step) / 2 + (step * step * step * step) / 24 - (step * step * step * step * step * step) / 720;
  let s: f64 = 0, c: f64 = 1;
  for (let i = 0; i <= TABLE_SIZE; i++) {
    store<f32>(SINE_TABLE + (i << 2), <f32>s);
    const next = s * stepCos + c * stepSin;
    c = c * stepCos - s * stepSin;
    s = next;
  }
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
