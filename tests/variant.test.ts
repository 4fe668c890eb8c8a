// A wider build of the controller (scripts/build.mjs --max-controls 256, host/variant.ts): the
// same code for 256 electrodes, driven through the copy of the layout it was built with.
import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { Controller, ControllerError, LayoutMismatch, RELEASE_WASM, CORE_WASM, type ControllerConfig } from "../host/controller.ts";
import { CoSimulation } from "../host/cosim.ts";
import type { Device } from "../host/devices/device.ts";
import { Rng } from "../host/noise.ts";
import { loadVariant } from "../host/variant.ts";
import * as L from "../assembly/layout.ts";
import { readFileSync } from "node:fs";
import { cosine, hge, relativeError } from "./fixtures.ts";

const N = 256;
const variant = await loadVariant(N);

/** y = g·v + c (h·v)²: every pair of tones mixes in the square (f_i ± f_j products). */
class QuadraticDevice implements Device {
  readonly name = `quadratic(${N})`;
  readonly electrodeCount = N;
  readonly controlCount = N;
  readonly inputCount = 0;
  readonly controlRangeV = Array.from({ length: N }, (): [number, number] => [-1, 1]);
  readonly inputRangeV: Array<[number, number]> = [];
  readonly outputUnit = "V";
  readonly capabilities = [] as const;
  readonly g: Float64Array;
  readonly h: Float64Array;
  constructor(readonly c: number, seed = 3) {
    const rng = new Rng(seed);
    this.g = Float64Array.from({ length: N }, () => rng.between(-1, 1));
    this.h = Float64Array.from({ length: N }, () => rng.between(-1, 1));
  }
  output(v: Float64Array | Float32Array): number {
    let linear = 0, mixed = 0;
    for (let k = 0; k < N; k++) {
      linear += this.g[k] * v[k];
      mixed += this.h[k] * v[k];
    }
    return linear + this.c * mixed * mixed;
  }
  gradient(v: ArrayLike<number>): Float64Array {
    let mixed = 0;
    for (let k = 0; k < N; k++) mixed += this.h[k] * v[k];
    return this.g.map((g, k) => g + 2 * this.c * mixed * this.h[k]);
  }
}

function wideConfig(initialV: number[]): ControllerConfig {
  return {
    sampleRateHz: 5000,
    windowSamples: 506605, // the shortest window that plans 256 tones in 1-2500 Hz, folded products included (the module names it)
    settleSamples: 0,
    tones: { plan: { bandLowHz: 1, bandHighHz: 2500 } },
    guardBins: 0,
    controls: initialV.map((v) => ({ amplitudeV: 0.01, minV: -0.5, maxV: 0.5, initialV: v })),
    inputs: [],
    cases: [{ inputsV: [], target: 0 }],
    loss: "mse",
    optimiser: "adam",
    learningRate: 0.01,
    calibrationEpochs: 0,
    reading: { min: -1e3, max: 1e3 },
  };
}

describe(`a ${N}-control build`, () => {
  test("has no imports, the release module's exports, and only the pages its buffers need", () => {
    assert.deepEqual(WebAssembly.Module.imports(variant.module), []);
    const names = (m: WebAssembly.Module) => WebAssembly.Module.exports(m).map((e) => e.name).sort();
    assert.deepEqual(names(variant.module), names(new WebAssembly.Module(readFileSync(RELEASE_WASM))));
    const controller = new Controller(variant.module, variant.layout);
    const used = controller.exports.MEMORY_USED.value as number;
    assert.equal(controller.exports.memory.buffer.byteLength, Math.ceil(used / 65536) * 65536);
    assert.equal(variant.layout.MAX_CONTROLS, N);
    assert.equal(variant.layout.CONFIG_WORDS - L.CONFIG_WORDS, 6 * (N - L.MAX_CONTROLS), "six per-control arrays grow, nothing else");
  });

  test("256 planned tones on a quadratic device: one window's gradient within 2% of the exact one, every voltage in range", () => {
    const device = new QuadraticDevice(2);
    const rng = new Rng(11);
    const initialV = Array.from({ length: N }, () => rng.between(-0.3, 0.3));
    const controller = new Controller(variant.module, variant.layout);
    controller.configure(wideConfig(initialV));
    assert.equal(controller.status().hitTones, 0);
    const sim = new CoSimulation(controller, device, { sampleRateHz: 5000 });
    let lowest = Infinity, highest = -Infinity;
    sim.run(600_000, (events) => {
      for (const v of controller.electrodes()) {
        lowest = Math.min(lowest, v);
        highest = Math.max(highest, v);
      }
      return (events & L.Event.WindowDone) !== 0;
    });
    assert.ok(lowest >= -0.5 && highest <= 0.5, `voltages ${lowest}..${highest}`);
    const exact = device.gradient(initialV);
    const measured = controller.jacobianRow(0);
    assert.ok(relativeError(measured, exact) < 0.02, `relative error ${relativeError(measured, exact)}`);
    assert.ok(cosine(measured, exact) > 0.999);
  });

  test("257 controls are refused naming ControlCount; a checkpoint of 256 controls round-trips", () => {
    const controller = new Controller(variant.module, variant.layout);
    assert.throws(() => controller.configure(wideConfig(new Array(N + 1).fill(0))), (e: unknown) => e instanceof ControllerError && e.field === "ControlCount");
    const config: ControllerConfig = { ...wideConfig(new Array(N).fill(0.1)), windowSamples: 4096, perturbation: "walsh" };
    controller.configure(config);
    const device = new QuadraticDevice(0);
    new CoSimulation(controller, device, { sampleRateHz: 5000 }).runUpdates(2, 20_000);
    assert.equal(controller.status().updates, 2);
    const blob = controller.save();
    const restored = new Controller(variant.module, variant.layout);
    restored.configure(config);
    restored.load(blob);
    assert.deepEqual(restored.weights(), controller.weights());
    assert.equal(restored.weights().length, N);
  });

  test("driven with another layout it is refused at once, naming both limits; so is --wasm of it on the boards' command line, before anything is built", () => {
    const release = new WebAssembly.Module(readFileSync(RELEASE_WASM));
    const mismatch = (module: WebAssembly.Module, layout: typeof L | typeof variant.layout, built: number, driven: number) =>
      assert.throws(() => new Controller(module, layout), (e: unknown) => e instanceof LayoutMismatch && e.moduleMaxControls === built && e.layoutMaxControls === driven);
    mismatch(variant.module, L, N, L.MAX_CONTROLS);
    mismatch(release, variant.layout, L.MAX_CONTROLS, N);
    // each with its own layout: constructed, and 8 planned tones in a 512-sample window configure
    for (const [module, layout] of [[variant.module, variant.layout], [release, L], [new WebAssembly.Module(readFileSync(CORE_WASM)), L]] as const) {
      const controller = new Controller(module, layout);
      controller.configure({ ...wideConfig(new Array(8).fill(0.1)), windowSamples: 512 });
      assert.equal(controller.status().configured, true);
    }
    for (const argv of [["check", "mps2-an386"], ["run", "mps2-an386", "--replay"]]) {
      const started = Date.now();
      const r = hge("board", ...argv, "--wasm", variant.path);
      assert.equal(r.status, 2, r.stderr);
      assert.equal(r.stdout, "");
      assert.match(r.stderr, new RegExp(`^hge: option '--wasm <file>' argument '.*hge-c${N}\\.wasm' is invalid\\. built for ${N} controls \\(a wider build\\); the boards build and run the release layout \\(assembly/layout\\.ts, MAX_CONTROLS ${L.MAX_CONTROLS}\\).*\\n$`));
      assert.ok(Date.now() - started < 20_000, "refused before building");
    }
  });
});
