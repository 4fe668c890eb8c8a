// A stand-in for build/hge.wasm, used to prove the board pipeline (wasm2c -> cross-compile ->
// QEMU) bit for bit against Node. It has the same shape as the real module: no imports, one
// page of memory, scalar functions, immutable i32 globals holding addresses in linear memory.
// Its arithmetic touches the operations where a C compiler could diverge from V8: +,-,*,/,
// sqrt, min/max (NaN and -0 rules), floor/nearest, copysign, f32<->i32 conversions
// (saturating), a phase accumulator, a table lookup, bulk memory (fill/copy), sign-extension.

/** Number of channels the probe drives (its "controls"). */
export const CHANNELS: i32 = 8;
const TABLE_SIZE: i32 = 64;

// Static buffers (addresses exported as immutable globals, as the real module does).
const table = memory.data<f32>([
  0.0, 0.09801714, 0.19509032, 0.29028468, 0.38268343, 0.47139674, 0.55557023, 0.63439328,
  0.70710678, 0.77301045, 0.83146961, 0.88192126, 0.92387953, 0.95694034, 0.98078528, 0.99518473,
  1.0, 0.99518473, 0.98078528, 0.95694034, 0.92387953, 0.88192126, 0.83146961, 0.77301045,
  0.70710678, 0.63439328, 0.55557023, 0.47139674, 0.38268343, 0.29028468, 0.19509032, 0.09801714,
  0.0, -0.09801714, -0.19509032, -0.29028468, -0.38268343, -0.47139674, -0.55557023, -0.63439328,
  -0.70710678, -0.77301045, -0.83146961, -0.88192126, -0.92387953, -0.95694034, -0.98078528, -0.99518473,
  -1.0, -0.99518473, -0.98078528, -0.95694034, -0.92387953, -0.88192126, -0.83146961, -0.77301045,
  -0.70710678, -0.63439328, -0.55557023, -0.47139674, -0.38268343, -0.29028468, -0.19509032, -0.09801714,
]);
const stateBuf = memory.data(4 * 8 * 4); // phase[8], freq[8], weight[8], acc[8]
const outBuf = memory.data(4 * 8);        // the "DAC" voltages written by step()
const histBuf = memory.data(4 * 16);      // last 16 readings (shifted with memory.copy)

export const STATE: i32 = <i32>stateBuf;
export const OUT: i32 = <i32>outBuf;
export const HISTORY: i32 = <i32>histBuf;

let count: i32 = 0;

/** Resets the state; returns the number of channels. */
export function reset(): i32 {
  memory.fill(stateBuf, 0, 4 * 8 * 4);
  memory.fill(histBuf, 0, 4 * 16);
  for (let i = 0; i < CHANNELS; i++) {
    store<f32>(stateBuf + 4 * (8 + i), 0.013 * <f32>(i + 1) + 0.0007);  // freq (cycles/sample)
    store<f32>(stateBuf + 4 * (16 + i), 0.25 - 0.0625 * <f32>i);      // weight
  }
  count = 0;
  return CHANNELS;
}

/** One sample: takes a reading, writes CHANNELS voltages to OUT, returns flags. */
export function step(adc: f32): i32 {
  // history: shift by one (memory.copy), newest at the front
  memory.copy(histBuf + 4, histBuf, 4 * 15);
  store<f32>(histBuf, adc);
  let flags: i32 = 0;
  if (adc != adc) { flags |= 1; adc = 0; }           // NaN reading: discarded
  adc = max<f32>(-10.0, min<f32>(10.0, adc));        // saturate (handles +-Inf)
  let energy: f32 = 0;
  for (let i = 0; i < CHANNELS; i++) {
    const p = stateBuf + 4 * i;
    let phase = load<f32>(p) + load<f32>(p, 4 * 8);
    phase -= Mathf.floor(phase);                      // wrap to [0,1)
    store<f32>(p, phase);
    const x = phase * <f32>TABLE_SIZE;
    const k = <i32>x;                                 // trunc_sat
    const frac = x - <f32>k;
    const a = load<f32>(table + 4 * (k & (TABLE_SIZE - 1)));
    const b = load<f32>(table + 4 * ((k + 1) & (TABLE_SIZE - 1)));
    const s = a + (b - a) * frac;                     // linear interpolation
    const w = load<f32>(p, 4 * 16);
    let acc = load<f32>(p, 4 * 24) * 0.999 + adc * s;
    store<f32>(p, acc, 4 * 24);
    const nw = w - 0.001 * acc / (1.0 + Mathf.abs(acc));
    store<f32>(p, nw, 4 * 16);
    let v = nw + 0.1 * s;
    v = Mathf.min(1.5, Mathf.max(-1.5, v));
    store<f32>(outBuf + 4 * i, v);
    energy += v * v;
  }
  const rms = Mathf.sqrt(energy / <f32>CHANNELS);
  const q = <i32>nearest<f32>(rms * 1000.0);
  flags |= (<i32>(<i8>q)) << 8;                        // sign-extension op
  flags |= copysign<f32>(1.0, load<f32>(outBuf)) < 0 ? 2 : 0;
  count++;
  if ((count & 63) == 0) flags |= 4;                   // "window done"
  return flags;
}

/** n samples from HISTORY[0..n) (block variant, for DMA-style callers). */
export function process(n: i32): i32 {
  let f: i32 = 0;
  for (let i = 0; i < n; i++) f |= step(load<f32>(histBuf + 4 * (n - 1)));
  return f;
}
