// The tones-only core build (build/hge-core.wasm: the same sources with --use HGE_CORE=1,
// assembly/features.ts) against the full build: what both contain runs to the same bits, and
// what the core leaves out is refused naming the field.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { Controller, ControllerError, RELEASE_WASM, type ControllerConfig } from "../host/controller.ts";
import { CORE_WASM } from "../host/bench/cost.ts";
import { CoSimulation } from "../host/cosim.ts";
import { AnalyticDevice } from "../host/devices/analytic.ts";
import { WhiteNoise } from "../host/noise.ts";
import * as L from "../assembly/layout.ts";
import { analyticConfig, SAMPLE_RATE_HZ } from "./fixtures.ts";

const BUILDS = { full: RELEASE_WASM, core: CORE_WASM };
const modules = Object.fromEntries(Object.entries(BUILDS).map(([name, path]) => [name, new WebAssembly.Module(readFileSync(path))]));

/** Everything a run leaves behind, as bits: voltages written, weights, gradient, case outputs. */
function train(module: WebAssembly.Module, config: ControllerConfig, epochs: number) {
  const device = new AnalyticDevice();
  const controller = new Controller(module);
  controller.configure(config);
  const sim = new CoSimulation(controller, device, { sampleRateHz: SAMPLE_RATE_HZ, delaySamples: 2, cornerHz: 1500, noise: new WhiteNoise(0.01, 3) });
  const written: number[] = [];
  let updates = 0;
  sim.run(50_000_000, (events) => {
    written.push(...new Uint32Array(controller.electrodes().slice().buffer));
    if (events & L.Event.UpdateDone) updates++;
    return updates === epochs;
  });
  const bits = (a: Float32Array) => [...new Uint32Array(a.slice().buffer)];
  return { written, weights: bits(controller.weights()), gradient: bits(controller.gradient()), outputs: bits(controller.caseOutputs()), blob: controller.save() };
}

for (const windowSamples of [500, 1000]) {
  // 500 samples: the window's own sine table; 1000: the interpolated 1024-entry table
  test(`core and full builds train the analytic device to the same bits (window ${windowSamples}, 3 epochs: every voltage written, weights, gradient, checkpoint)`, () => {
    const config = analyticConfig(new AnalyticDevice(), { windowSamples, lag: { delaySamples: 2, cornerHz: 1500 } });
    const full = train(modules.full, config, 3), core = train(modules.core, config, 3);
    assert.ok(full.written.length > 3 * windowSamples);
    assert.deepEqual(core.written, full.written);
    assert.deepEqual(core.weights, full.weights);
    assert.deepEqual(core.gradient, full.gradient);
    assert.deepEqual(core.outputs, full.outputs);
    assert.deepEqual([...core.blob], [...full.blob]);
  });
}

test("a core checkpoint restores in a fresh core controller exactly", () => {
  const config = analyticConfig(new AnalyticDevice());
  const { blob, weights } = train(modules.core, config, 2);
  const fresh = new Controller(modules.core);
  fresh.configure(config);
  fresh.load(blob);
  assert.deepEqual([...new Uint32Array(fresh.weights().slice().buffer)], weights);
});

const refusals: [string, Partial<ControllerConfig>, number][] = [
  ["a code perturbation (SPSA)", { perturbation: "spsa", chipSamples: 10 }, L.Field.Perturbation],
  ["given tones", { tones: { explicit: true } }, L.Field.ToneMode],
  ["the streaming lock-in", { gradient: "streaming", loss: "mse" }, L.Field.Gradient],
  ["the published magnitude demodulation", { demodulation: "magnitude-sign" }, L.Field.Demodulation],
  ["calibration epochs", { calibrationEpochs: 1 }, L.Field.CalibrationEpochs],
];
for (const [what, overrides, field] of refusals) {
  test(`the core refuses ${what}, naming field ${L.Field[field]}; the full build accepts it`, () => {
    const device = new AnalyticDevice();
    let config = analyticConfig(device, overrides);
    if ("tones" in overrides) config = { ...config, controls: config.controls.map((c, k) => ({ ...c, toneBin: 20 + 7 * k })) };
    if (overrides.gradient === "streaming") config = { ...config, cases: config.cases.slice(0, 1) };
    new Controller(modules.full).configure(config);
    assert.throws(() => new Controller(modules.core).configure(config), (e) => e instanceof ControllerError && e.code === field);
  });
}

