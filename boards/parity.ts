// Bit-for-bit parity between the module under Node (V8) and the same module on a board:
// the firmware prints one line per sample, "FLAGS V0 V1 ...", every word the 8 hex digits of
// an i32 or of an f32's IEEE-754 bits; the reference below prints the same from Node.

const hex8 = (v: number) => (v >>> 0).toString(16).padStart(8, "0");

/** One line per sample, as the emulation HAL (firmware/hal_emu.c) prints it. */
export function formatSample(flags: number, outs: Uint32Array | number[]): string {
  return [hex8(flags), ...Array.from(outs, hex8)].join(" ");
}

/** The lines a run printed for its samples (diagnostics, "#"-lines and BENCH left out). */
export function sampleLines(stdout: string): string[] {
  return stdout.split("\n").filter((l) => /^[0-9a-f]{8}( [0-9a-f]{8})*$/.test(l));
}

/** A deterministic stream of readings with the awkward values in it: signed zeros,
 *  subnormals, huge and tiny magnitudes, +-Inf and NaN, values at the saturation bounds. */
export function testReadings(n: number, seed = 12345): Float32Array {
  const special = [0, -0, 1e-40, -1.4e-45, 3.4e38, -3.4e38, Infinity, -Infinity, NaN, 10, -10, 10.000001, 1e-8, 0.1, -0.3333333];
  const out = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    if (i % 7 === 3) out[i] = special[(s >>> 8) % special.length];
    else out[i] = 2.5 * Math.sin(i * 0.05) + ((s >>> 8) / 2 ** 24 - 0.5) * 0.2;
  }
  return out;
}

/** Runs the probe (boards/testdata/probe.ts) under Node and returns its lines. */
export function probeReference(wasm: Uint8Array<ArrayBuffer>, readings: Float32Array): string[] {
  const { exports } = new WebAssembly.Instance(new WebAssembly.Module(wasm), {}) as unknown as {
    exports: { memory: WebAssembly.Memory; reset(): number; step(x: number): number; OUT: WebAssembly.Global; CHANNELS: WebAssembly.Global };
  };
  exports.reset();
  const out = exports.OUT.value as number, channels = exports.CHANNELS.value as number;
  const lines: string[] = [];
  for (const x of readings) {
    const flags = exports.step(x);
    lines.push(formatSample(flags, new Uint32Array(exports.memory.buffer, out, channels)));
  }
  return lines;
}

/** The first difference between two runs' lines, or null when they are identical. */
export function firstDifference(expected: string[], actual: string[]): string | null {
  const n = Math.max(expected.length, actual.length);
  for (let i = 0; i < n; i++) {
    if (expected[i] !== actual[i]) return `sample ${i}: expected ${expected[i] ?? "(nothing)"}, got ${actual[i] ?? "(nothing)"}`;
  }
  return null;
}
