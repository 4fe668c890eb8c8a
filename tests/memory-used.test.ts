// A firmware gives the module only MEMORY_USED bytes of linear memory (boards/build.ts:
// HGE_WASM_MEMORY_BYTES), so no load, store, fill or copy may reach at or above it. Each build is
// rebuilt so that every access reports its span (binaryen's instrument-memory pass for loads and
// stores, a check wrapped around each memory.fill and memory.copy), then driven to the edges of
// its buffers: the most controls, inputs and cases it takes, every perturbation, gradient, loss
// and optimiser it offers, calibration, checkpoints (a refused one too), hold, park, hostile
// readings and a refused configure().
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import binaryen from "binaryen";
import { Controller, ControllerError, RELEASE_WASM, CORE_WASM, type ControllerConfig, type Layout } from "../host/controller.ts";
import { loadVariant } from "../host/variant.ts";
import { Rng } from "../host/noise.ts";
import * as L from "../assembly/layout.ts";
import { FIELDS } from "../host/config-fields.ts";

/** Where the module read or wrote: the end of its highest span, and the spans past `used`. */
interface Reach {
  used: number;
  highest: number;
  outside: string[];
}

/** `bytes` with every memory access reported to the returned Reach. */
function instrumented(bytes: Uint8Array<ArrayBuffer>): { module: WebAssembly.Module; imports: WebAssembly.Imports; reach: Reach } {
  const plain = new WebAssembly.Instance(new WebAssembly.Module(bytes), {}).exports;
  const reach: Reach = { used: (plain.MEMORY_USED as WebAssembly.Global).value as number, highest: 0, outside: [] };
  const touch = (what: string, address: number, length: number): void => {
    const end = (address >>> 0) + (length >>> 0);
    reach.highest = Math.max(reach.highest, end);
    if (end > reach.used && reach.outside.length < 10) reach.outside.push(`${what} of ${length >>> 0} bytes at ${address >>> 0}`);
  };
  const parsed = binaryen.readBinary(bytes);
  parsed.setFeatures(binaryen.Features.All);
  parsed.runPasses(["instrument-memory"]);
  let text = parsed.emitText();
  parsed.dispose();
  assert.match(text, /\(memory\.(fill|copy)\b/, "no memory.fill or memory.copy found: has binaryen's text format changed?");
  text = text
    .replace(/\(memory\.(fill|copy)\b/g, "(call $checked_$1")
    .replace(/\n \(memory /, '\n (import "check" "span" (func $span (param i32 i32 i32)))$&')
    .replace(/\)\s*$/, `
 (func $checked_fill (param i32 i32 i32) (call $span (i32.const 0) (local.get 0) (local.get 2)) (memory.fill (local.get 0) (local.get 1) (local.get 2)))
 (func $checked_copy (param i32 i32 i32) (call $span (i32.const 1) (local.get 0) (local.get 2)) (call $span (i32.const 2) (local.get 1) (local.get 2)) (memory.copy (local.get 0) (local.get 1) (local.get 2)))
)
`);
  const rebuilt = binaryen.parseText(text);
  rebuilt.setFeatures(binaryen.Features.All);
  const module = new WebAssembly.Module(rebuilt.emitBinary().slice());
  rebuilt.dispose();
  const passThrough = (_id: number, value: unknown) => value;
  const env: Record<string, unknown> = {
    load_ptr: (_id: number, length: number, offset: number, pointer: number) => (touch("load", (pointer >>> 0) + (offset >>> 0), length), pointer),
    store_ptr: (_id: number, length: number, offset: number, pointer: number) => (touch("store", (pointer >>> 0) + (offset >>> 0), length), pointer),
  };
  for (const { module: from, name } of WebAssembly.Module.imports(module)) if (from === "env" && !(name in env)) env[name] = passThrough;
  const bulkNames = ["fill", "copy to", "copy from"];
  return { module, imports: { env, check: { span: (kind: number, address: number, length: number) => touch(bulkNames[kind], address, length) } } as WebAssembly.Imports, reach };
}

/** `count` controls on given tones (bins 100, 101, …; `planned` overrides them), with the
 *  layout's most inputs and cases. */
function widest(layout: Layout, count: number, windowSamples: number, overrides: Partial<ControllerConfig> = {}): ControllerConfig {
  const inputs = layout.MAX_INPUTS, rng = new Rng(count + windowSamples);
  return {
    sampleRateHz: 5000,
    windowSamples,
    settleSamples: 3,
    tones: { explicit: true },
    controls: Array.from({ length: count }, (_, k) => ({ toneBin: 100 + k, amplitudeV: 0.01, minV: -1, maxV: 1, initialV: rng.between(-0.5, 0.5) })),
    inputs: Array.from({ length: inputs }, () => ({ minV: -1, maxV: 1 })),
    cases: Array.from({ length: layout.MAX_CASES }, (_, p) => ({ inputsV: Array.from({ length: inputs }, () => rng.between(-1, 1)), target: p % 2 })),
    loss: "mse",
    optimiser: "adam",
    learningRate: 0.01,
    calibrationEpochs: 0,
    reading: { min: -100, max: 100 },
    ...overrides,
  };
}
/** Planned tones in [lowHz, highHz] at 5 kHz. */
const planned = (lowHz: number, highHz: number) => ({ tones: { plan: { bandLowHz: lowHz, bandHighHz: highHz } }, guardBins: 0 });

/** Trains `config` for `updates` updates on a smooth device of every electrode (a hostile
 *  reading in about one window of five), then saves, refuses a corrupted checkpoint, loads,
 *  holds, parks and refuses a bad configure(). */
function drive(controller: Controller, config: ControllerConfig, updates: number): void {
  controller.configure(config);
  const rng = new Rng(config.controls.length);
  const hostile = [NaN, Infinity, -1e30, 1e30];
  const sample = () => {
    const v = controller.electrodes();
    let y = 0;
    for (let e = 0; e < v.length; e++) y += Math.sin(v[e] + e) * (1 + 0.1 * v[(e + 1) % v.length]);
    return controller.step(rng.uniform() < 0.2 / config.windowSamples ? hostile[Math.floor(rng.uniform() * hostile.length)] : y / v.length);
  };
  const windows = config.cases.length * (updates + (config.calibrationEpochs ?? 0) + 2);
  for (let n = 0, done = 0; done < updates && n < windows * (config.windowSamples + 64); n++) if (sample() & L.Event.UpdateDone) done++;
  assert.ok(controller.status().updates >= updates, `${controller.status().updates} of ${updates} updates`);
  const blob = controller.save();
  const corrupt = blob.slice();
  corrupt[corrupt.length >> 1] ^= 4;
  assert.throws(() => controller.load(corrupt), ControllerError);
  controller.load(blob);
  controller.hold(true);
  for (let n = 0; n < 2 * config.windowSamples; n++) sample();
  controller.hold(false);
  controller.park(Array.from({ length: config.controls.length + config.inputs.length }, (_, e) => (e % 2 ? 0.9 : -0.9)));
  let parked = false;
  for (let n = 0; n < 100_000 && !parked; n++) parked = (sample() & L.Event.Parked) !== 0;
  assert.ok(parked, "parked");
  assert.throws(() => controller.configure({ ...config, learningRate: NaN }), ControllerError);
  sample();
}

/** Drives an instrumented copy of the build `bytes` through `configs` (each trained for `updates`). */
function reachOf(bytes: Uint8Array<ArrayBuffer>, layout: Layout, configs: ControllerConfig[], updates: number): Reach {
  const { module, imports, reach } = instrumented(bytes);
  const controller = new Controller(module, layout, imports);
  for (const config of configs) drive(controller, config, updates);
  return reach;
}

/** No access at or above MEMORY_USED; `tight`: the drive reached MEMORY_USED itself (the top
 *  buffer's last byte), so the build reserves no more than it uses and the drive reached the top. */
const check = (name: string, reach: Reach, tight: boolean) => {
  assert.deepEqual(reach.outside, [], `${name}: accesses at or above MEMORY_USED (${reach.used})`);
  if (tight) assert.equal(reach.highest, reach.used, `${name}: the highest access ends at ${reach.highest}, below MEMORY_USED (${reach.used})`);
};

test("the release build never reads or writes at or above MEMORY_USED, at its widest in every mode", () => {
  const n = L.MAX_CONTROLS, cached = L.SINES_MAX_WINDOW;
  const configs: ControllerConfig[] = [
    widest(L, n, cached, { calibrationEpochs: 1 }),
    widest(L, n, 1024, { ...planned(1250, 2500), planOrder: 2, loss: "corrsig", optimiser: "momentum", demodulation: "magnitude-sign" }),
    widest(L, n, 512, { loss: "fisher", optimiser: "sgd" }),
    widest(L, n, 512, { gradient: "loss-signal" }),
    widest(L, n, 512, { gradient: "streaming", stream: { order: FIELDS.StreamOrder.high as number, tauSamples: 64 }, cases: [{ inputsV: new Array(L.MAX_INPUTS).fill(0), target: 0 }] }),
    ...(["sequential", "spsa", "random", "walsh"] as const).map((perturbation) => widest(L, n, 512, { perturbation, chipSamples: 2 })),
  ];
  check("release", reachOf(readFileSync(RELEASE_WASM), L, configs, 2), true);
});

test("the tones-only core never reads or writes at or above MEMORY_USED, at its widest", () => {
  const configs = [widest(L, 9, L.SINES_MAX_WINDOW, planned(600, 1250)), widest(L, 9, L.SINES_MAX_WINDOW, { ...planned(600, 1250), loss: "corrsig" })];
  // the core reserves the collision report (TONE_HITS, the top buffer) and never touches it
  const bytes = readFileSync(CORE_WASM);
  const reach = reachOf(bytes, L, configs, 2);
  check("core", reach, false);
  const toneHits = new WebAssembly.Instance(new WebAssembly.Module(bytes), {}).exports.TONE_HITS as WebAssembly.Global;
  assert.ok(reach.highest <= (toneHits.value as number), `core: an access ends at ${reach.highest}, inside TONE_HITS (${toneHits.value})`);
});

test("the 256-control build never reads or writes at or above MEMORY_USED, at its widest", async () => {
  const variant = await loadVariant(256);
  const configs = [widest(variant.layout, 256, variant.layout.SINES_MAX_WINDOW), widest(variant.layout, 256, 2048, { perturbation: "walsh" })];
  check("256 controls", reachOf(readFileSync(variant.path), variant.layout, configs, 1), true);
});
