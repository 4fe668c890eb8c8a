// The tones-only core build (build/hge-core.wasm: the same sources with --use HGE_CORE=1,
// assembly/features.ts) against the full build: what both contain runs to the same bits, the
// core solves a gate on the simulated dopant network, and what it leaves out is refused naming
// the field.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { Controller, ControllerError, RELEASE_WASM, CORE_WASM, type ControllerConfig } from "../host/controller.ts";
import { CoSimulation } from "../host/cosim.ts";
import { AnalyticDevice } from "../host/devices/analytic.ts";
import { WhiteNoise } from "../host/noise.ts";
import * as L from "../assembly/layout.ts";
import { DopantNetwork } from "../host/devices/dopant.ts";
import { gateTask } from "../host/tasks/gates.ts";
import { MSE_WINDOW_SAMPLES, TrainingRun } from "../host/train.ts";
import { analyticConfig, SAMPLE_RATE_HZ } from "./fixtures.ts";
import { measureCoreBytes, unfoldedPath, CORE_REPORT_DIR } from "../host/bench/cost.ts";
import { join } from "node:path";

const BUILDS = { full: RELEASE_WASM, core: CORE_WASM };
const modules = Object.fromEntries(Object.entries(BUILDS).map(([name, path]) => [name, new WebAssembly.Module(readFileSync(path))]));

/** Everything a run leaves behind, as bits: voltages written, weights, gradient, case outputs.
 *  `poison`: after each of the first four windows a NaN reading, in turn at the last settling
 *  sample and at the next window's samples 0, 1 and 2 (those windows are discarded and repeated). */
function train(module: WebAssembly.Module, config: ControllerConfig, epochs: number, poison = false) {
  const device = new AnalyticDevice();
  const controller = new Controller(module);
  controller.configure(config);
  let readingsToNaN = -1, windowEnds = 0;
  const reader = { step: (reading: number) => controller.step(readingsToNaN-- === 0 ? NaN : reading), electrodes: () => controller.electrodes() };
  const sim = new CoSimulation(reader, device, { sampleRateHz: SAMPLE_RATE_HZ, delaySamples: 2, cornerHz: 1500, noise: new WhiteNoise(0.01, 3) });
  const written: number[] = [];
  let updates = 0;
  sim.run(50_000_000, (events) => {
    written.push(...new Uint32Array(controller.electrodes().slice().buffer));
    if (events & L.Event.UpdateDone) updates++;
    if (poison && events & L.Event.WindowDone && windowEnds < 4) readingsToNaN = config.settleSamples - 1 + windowEnds++;
    return updates === epochs;
  });
  const bits = (a: Float32Array) => [...new Uint32Array(a.slice().buffer)];
  return { written, weights: bits(controller.weights()), gradient: bits(controller.gradient()), outputs: bits(controller.caseOutputs()), blob: controller.save() };
}

// The host's window for MSE tasks (500 samples), inside the window's own sine table (the core's
// limit, SINES_MAX_WINDOW), for the analytic fixture's MSE regression through a lag with a corner
const CORE_WINDOW = MSE_WINDOW_SAMPLES;

test(`core and full builds train the analytic device to the same bits (window ${CORE_WINDOW}, 3 epochs: every voltage written, weights, gradient, checkpoint)`, () => {
  const config = analyticConfig(new AnalyticDevice(), { windowSamples: CORE_WINDOW, lag: { delaySamples: 2, cornerHz: 1500 } });
  const full = train(modules.full, config, 3), core = train(modules.core, config, 3);
  assert.ok(full.written.length > 3 * CORE_WINDOW);
  assert.deepEqual(core.written, full.written);
  assert.deepEqual(core.weights, full.weights);
  assert.deepEqual(core.gradient, full.gradient);
  assert.deepEqual(core.outputs, full.outputs);
  assert.deepEqual([...core.blob], [...full.blob]);
});

// scripts/fold-offsets.mjs: each build is kept as it was before its constant addresses were
// folded into load and store offsets; both forms must read and write the same bytes
const UNFOLDED = (path: string) => new WebAssembly.Module(readFileSync(unfoldedPath(path)));
const FOLD_CONFIGS: Record<string, Partial<ControllerConfig>> = {
  "tones, MSE, Adam": {},
  "the lag calibrated": { calibrationEpochs: 2 },
  "SPSA codes, momentum": { perturbation: "spsa", optimiser: "momentum", chipSamples: 2 },
  "Walsh codes, SGD": { perturbation: "walsh", optimiser: "sgd", chipSamples: 2, windowSamples: 1024 },
  "the loss signal demodulated": { gradient: "loss-signal" },
};
test("the release module and the core, their addresses folded into offsets, run to the same bits as before the fold (five configurations of the full build, the core's own)", () => {
  for (const [name, path] of Object.entries(BUILDS)) {
    assert.ok(readFileSync(path).length < readFileSync(unfoldedPath(path)).length, `${name}: the fold saved nothing`);
  }
  const run = (module: WebAssembly.Module, overrides: Partial<ControllerConfig>) =>
    train(module, analyticConfig(new AnalyticDevice(), { windowSamples: CORE_WINDOW, lag: { delaySamples: 2, cornerHz: 1500 }, ...overrides }), 3);
  for (const [label, overrides] of Object.entries(FOLD_CONFIGS)) {
    const folded = run(modules.full, overrides), unfolded = run(UNFOLDED(RELEASE_WASM), overrides);
    assert.ok(folded.written.length > 3 * CORE_WINDOW, label);
    assert.deepEqual(folded, unfolded, label);
  }
  assert.deepEqual(run(modules.core, {}), run(UNFOLDED(CORE_WASM), {}));
});

test("the core's size report (npm run bench): the core without the typical-sample shortcut (HGE_NO_SHORTCUT) is smaller and trains to the same bits, with bad readings about windows' starts too", () => {
  const figures = measureCoreBytes();
  const core = readFileSync(CORE_WASM).length;
  assert.ok(figures["levers.noShortcut"] < core, `${figures["levers.noShortcut"]} bytes against ${core}`);
  assert.ok(figures["parts.shortcut"] > 0 && figures["parts.trainer"] > 0 && figures.nonCodeBytes > 0 && figures.nonCodeBytes < core);
  const config = analyticConfig(new AnalyticDevice(), { windowSamples: CORE_WINDOW, lag: { delaySamples: 2, cornerHz: 1500 } });
  const noShortcut = new WebAssembly.Module(readFileSync(join(CORE_REPORT_DIR, "noShortcut.wasm")));
  const plain = train(noShortcut, config, 3);
  const shortcut = train(modules.core, config, 3);
  assert.deepEqual(plain.written, shortcut.written);
  assert.deepEqual(plain.weights, shortcut.weights);
  assert.deepEqual([...plain.blob], [...shortcut.blob]);
  const [plainPoisoned, shortcutPoisoned] = [noShortcut, modules.core].map((m) => train(m, config, 3, true));
  assert.ok(plainPoisoned.written.length > plain.written.length, "the bad readings discarded windows");
  assert.deepEqual(plainPoisoned, shortcutPoisoned);
});

test("a core checkpoint restores in a fresh core controller exactly", () => {
  const config = analyticConfig(new AnalyticDevice(), { windowSamples: CORE_WINDOW });
  const { blob, weights } = train(modules.core, config, 2);
  const fresh = new Controller(modules.core);
  fresh.configure(config);
  fresh.load(blob);
  assert.deepEqual([...new Uint32Array(fresh.weights().slice().buffer)], weights);
});

/** XOR on the default dopant network with the host's defaults (planned order-3 tones in
 *  200-sample windows, corrsig, Adam, patience restarts), the lag given by the host (the
 *  simulated chain's: no calibration), trained by `module` from seed 1. */
function trainXor(module: WebAssembly.Module) {
  const device = DopantNetwork.default();
  const task = gateTask("XOR", device.inputRangeV);
  const run = new TrainingRun(new Controller(module), { device, task, seed: 1, calibrationEpochs: 0 });
  while (run.step());
  return { task, result: run.finish(run.liveliestCase()) };
}

test("the core solves XOR on the default dopant network from seed 1, the lag given by the host: three held epochs at a margin of at least 5% of the output span", () => {
  const { task, result } = trainXor(modules.core);
  assert.equal(result.stopped, "solved", `stopped: ${result.stopped}, margin ${result.criterion}`);
  assert.ok(task.solved(result.caseOutputs), `outputs ${result.caseOutputs}`);
  assert.ok(result.criterion >= task.criterionTarget!, `margin ${result.criterion}`); // gateTask's 5%
  assert.deepEqual(result.module!.toneHits, [0, 0, 0, 0, 0]);
});

test("the full build trains the same XOR run to the same history", () => {
  const core = trainXor(modules.core).result, full = trainXor(modules.full).result;
  assert.deepEqual(core.history.weights, full.history.weights);
  assert.deepEqual(core.history.loss, full.history.loss);
  assert.deepEqual(core.attempts, full.attempts);
});

test(`the core's planner names only windows the core takes: 7 controls, which plan in 730 samples, get PlanMinWindow 0 (none up to ${L.SINES_MAX_WINDOW})`, () => {
  const config = analyticConfig(new AnalyticDevice({ controlCount: 7 }), { windowSamples: CORE_WINDOW });
  const planMinWindow = (module: WebAssembly.Module) => {
    const controller = new Controller(module);
    assert.throws(() => controller.configure(config), (e) => e instanceof ControllerError && e.code === L.Field.Plan);
    return new Int32Array(controller.exports.memory.buffer, controller.exports.STATUS.value as number, L.STATUS_WORDS)[L.Status.PlanMinWindow];
  };
  assert.equal(planMinWindow(modules.full), 730);
  assert.equal(planMinWindow(modules.core), 0);
});

/** Class targets (0, 1, 0, 1, ..) for the losses that classify. */
const classes = (config: ControllerConfig): ControllerConfig => ({ ...config, cases: config.cases.map((c, p) => ({ ...c, target: p % 2 })) });
const refusals: [string, (config: ControllerConfig) => ControllerConfig, number][] = [
  ["a window longer than its own sine table (1000 samples)", (c) => ({ ...c, windowSamples: 1000 }), L.Field.WindowSamples],
  ["given tones", (c) => ({ ...c, tones: { explicit: true }, controls: c.controls.map((control, k) => ({ ...control, toneBin: 20 + 7 * k })) }), L.Field.ToneMode],
  ["the fisher loss", (c) => classes({ ...c, loss: "fisher" }), L.Field.Loss],
  ["SGD", (c) => ({ ...c, optimiser: "sgd" }), L.Field.Optimiser],
  ["momentum", (c) => ({ ...c, optimiser: "momentum" }), L.Field.Optimiser],
  ["a code perturbation (SPSA)", (c) => ({ ...c, perturbation: "spsa", chipSamples: 10 }), L.Field.Perturbation],
  ["a code perturbation (random codes)", (c) => ({ ...c, perturbation: "random", chipSamples: 10 }), L.Field.Perturbation],
  ["the demodulated loss signal", (c) => ({ ...c, gradient: "loss-signal" }), L.Field.Gradient],
  ["the streaming lock-in", (c) => ({ ...c, gradient: "streaming", cases: c.cases.slice(0, 1) }), L.Field.Gradient],
  ["the published magnitude demodulation", (c) => ({ ...c, demodulation: "magnitude-sign" }), L.Field.Demodulation],
  ["calibration epochs", (c) => ({ ...c, calibrationEpochs: 1 }), L.Field.CalibrationEpochs],
  ["order-2 plans", (c) => ({ ...c, planOrder: 2 }), L.Field.PlanOrder],
];
for (const [what, change, field] of refusals) {
  test(`the core refuses ${what}, naming field ${L.Field[field]} and saying the full build takes it; the full build accepts it`, () => {
    const config = change(analyticConfig(new AnalyticDevice(), { windowSamples: CORE_WINDOW }));
    new Controller(modules.full).configure(config);
    assert.throws(() => new Controller(modules.core).configure(config), (e) => e instanceof ControllerError && e.code === field &&
      e.message.startsWith(`configuration refused: ${L.Field[field]} = `) && e.message.includes("is left out of this build (the tones-only core"));
  });
}
