// The training driver: solves gates from fixed seeds, is reproducible, counts device time
// exactly, records the window the spectrum plot shows, and refuses impossible tone sets.
import { test } from "node:test";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { basename, join } from "node:path";
import assert from "node:assert/strict";
import { DopantNetwork } from "../host/devices/dopant.ts";
import { AnalyticDevice } from "../host/devices/analytic.ts";
import { ResistorNetwork } from "../host/devices/resistor.ts";
import type { Device } from "../host/devices/device.ts";
import type { Result } from "../host/methods/method.ts";
import { gateMargin, gateTask } from "../host/tasks/gates.ts";
import { DEFAULTS, MARGIN_PROGRESS, TrainConfigError, binsForHz, defaultWindowFor, plainCheck, trainTask } from "../host/train.ts";
import { hge, scratchDir } from "./fixtures.ts";
import { planOrderFor } from "../host/controller.ts";
import { findMethod } from "../host/methods/index.ts";
import { amplitudeSpectrum } from "../host/spectrum.ts";
import { createDevice as createMuted } from "./muted-dnpu.ts";

const dnpu = DopantNetwork.default();
const analytic = new AnalyticDevice();

test("XOR, the hardest gate, is trained on the default dopant network from seed 1 with a 5% margin", () => {
  const run = trainTask({ device: dnpu, task: gateTask("XOR", dnpu.inputRangeV), seed: 1 });
  assert.equal(run.solved, true, `not solved: margin ${run.criterion}`);
  assert.equal(run.stopped, "solved");
  // gateTask's default success criterion: a class gap of at least 5% of the output span.
  assert.ok(run.criterion >= 0.05, `margin ${run.criterion}`);
  assert.ok(run.iterations < DEFAULTS.maxIterations);
  // Every control stayed inside its safe range (as the controller's f32) on every iteration.
  for (const weights of run.history.weights) {
    weights.forEach((v, k) => assert.ok(v >= Math.fround(dnpu.controlRangeV[k][0]) && v <= Math.fround(dnpu.controlRangeV[k][1]), `control ${k} at ${v} V`));
  }
});

test("a solved epoch is confirmed on the controls it measured: held for the next solvedEpochs − 1 epochs, without updates", () => {
  const run = trainTask({ device: dnpu, task: gateTask("XOR", dnpu.inputRangeV), seed: 1 });
  assert.equal(run.stopped, "solved");
  // the controls the solved epoch measured, then those after it and after each confirming epoch
  const last = run.history.weights.slice(-DEFAULTS.solvedEpochs - 1);
  for (const weights of last) assert.deepEqual(weights, last[0]);
  assert.ok(run.history.caseOutputs!.slice(-DEFAULTS.solvedEpochs).every((outputs) => gateTask("XOR", dnpu.inputRangeV).solved(outputs)));
  // the solved epoch's update is made and undone, the confirming epochs make none
  assert.equal(run.counters.updates, run.iterations - (DEFAULTS.solvedEpochs - 1));
});

test("AND is trained on the analytic device within 10 iterations", () => {
  const run = trainTask({ device: analytic, task: gateTask("AND", analytic.inputRangeV), seed: 1 });
  assert.equal(run.solved, true);
  assert.ok(run.iterations <= 10, `${run.iterations} iterations`);
});

test("the same seed gives bit-identical histories; another seed does not", () => {
  const options = { device: dnpu, task: gateTask("NAND", dnpu.inputRangeV), maxIterations: 8, solvedEpochs: 0 };
  const first = trainTask({ ...options, seed: 7 });
  const again = trainTask({ ...options, seed: 7 });
  const other = trainTask({ ...options, seed: 8 });
  assert.deepEqual(again.history.loss, first.history.loss);
  assert.deepEqual(again.history.weights, first.history.weights);
  assert.deepEqual(again.module!.oneWindow.readings, first.module!.oneWindow.readings);
  assert.notDeepEqual(other.history.weights, first.history.weights);
});

test("device time is samples / sample rate, the two calibration epochs included: 7 × 4 × 210 / 5000 = 1.176 s", () => {
  // 2 calibration epochs + 5 training epochs, each 4 cases × (10 settle + 200 window) samples.
  const run = trainTask({ device: analytic, task: gateTask("XOR", analytic.inputRangeV), seed: 1, maxIterations: 5, solvedEpochs: 0 });
  assert.equal(run.iterations, 5);
  assert.equal(run.counters.samples, 7 * 4 * 210);
  assert.equal(run.deviceSeconds, 1.176);
  assert.equal(run.history.loss.length, 5);
  assert.equal(run.history.weights.length, 6); // the start, then one per update
  assert.equal(run.history.caseOutputs!.length, 5);
});

test("the recorded window is one lock-in window whose largest spectral line is a tone, also when the run ends on held confirmations read without tones", () => {
  for (const solvedEpochs of [0, DEFAULTS.solvedEpochs]) {
    const run = trainTask({ device: dnpu, task: gateTask("OR", dnpu.inputRangeV), seed: 2, maxIterations: solvedEpochs ? 50 : 3, solvedEpochs });
    if (solvedEpochs) assert.equal(run.stopped, "solved");
    assert.equal(run.module!.oneWindow.readings.length, run.module!.controller.windowSamples);
    const spectrum = amplitudeSpectrum(run.module!.oneWindow.readings);
    let largest = 1;
    for (let m = 2; m < spectrum.length; m++) if (spectrum[m] > spectrum[largest]) largest = m;
    assert.ok(run.module!.toneBins.includes(largest), `largest line at bin ${largest}, tones ${run.module!.toneBins}`);
  }
});

test("the planned tones are bin-exact: f = bin × fs / window, with no intermodulation hits", () => {
  const run = trainTask({ device: analytic, task: gateTask("AND", analytic.inputRangeV), seed: 1, maxIterations: 1, solvedEpochs: 0 });
  assert.deepEqual(run.module!.toneHz, run.module!.toneBins.map((m) => (m * 5000) / run.module!.controller.windowSamples));
  assert.deepEqual(run.module!.toneHits, [0, 0, 0, 0, 0]);
});

test("explicit tones off the window's bins are refused, naming the tone and a window that fits", () => {
  assert.throws(
    () => trainTask({ device: dnpu, task: gateTask("AND", dnpu.inputRangeV), seed: 1, tones: { explicitHz: [25, 45, 65, 95, 115] }, windowSamples: 500 }),
    (error: unknown) => error instanceof TrainConfigError && /tone 25 Hz/.test(error.message) && /multiple of 1000 samples/.test(error.message),
  );
  // The paper's tones fit 1000-sample windows at 5 kHz (5 Hz bins): bins 5, 9, 13, 19, 23.
  assert.deepEqual(binsForHz([25, 45, 65, 95, 115], 1000, 5000), [5, 9, 13, 19, 23]);
  assert.equal(defaultWindowFor([25, 45, 65, 95, 115], 5000), 1000);
});

test("the paper's explicit tones train, and their intermodulation hits are reported", () => {
  const run = trainTask({ device: dnpu, task: gateTask("AND", dnpu.inputRangeV), seed: 1, tones: { explicitHz: [25, 45, 65, 95, 115] }, maxIterations: 2, solvedEpochs: 0 });
  assert.equal(run.module!.controller.windowSamples, 1000);
  // 2·25 + 45 = 95 and 2·45 + 25 = 115 (DOMAIN.md): at least those two tones are hit.
  assert.ok(run.module!.toneHits[3] !== 0 && run.module!.toneHits[4] !== 0, `hits ${run.module!.toneHits}`);
});

test("eight controls, whose order-3 plan does not fit the default 200 samples, get the shortest window that plans", () => {
  const resistor = new ResistorNetwork();
  const tones = { plan: { ...DEFAULTS.band, planOrder: 3 as const } };
  const run = trainTask({ device: resistor, task: gateTask("AND", resistor.inputRangeV), seed: 1, maxIterations: 1, solvedEpochs: 0, tones });
  const window = run.module!.controller.windowSamples;
  assert.ok(window > DEFAULTS.windowSamples && window % 50 === 0, `window ${window}`);
  assert.equal(new Set(run.module!.toneBins).size, 8);
});

test("a stuck attempt restarts from a new seeded start; iterations count every attempt", () => {
  // No monotonic resistor network computes XOR, so training never succeeds and must restart.
  const resistor = new ResistorNetwork();
  const run = trainTask({ device: resistor, task: gateTask("XOR", resistor.inputRangeV), seed: 1, maxIterations: 60, patience: 15 });
  assert.equal(run.solved, false);
  assert.equal(run.iterations, 60);
  assert.ok(run.attempts.length >= 2, `${run.attempts.length} attempts`);
  assert.notDeepEqual(run.attempts[1].initialV, run.attempts[0].initialV);
  assert.equal(run.counters.updates, 60);
});

test("an attempt restarts as soon as its margin has not improved (by MARGIN_PROGRESS) for `patience` iterations, not one later", () => {
  const resistor = new ResistorNetwork();
  const patience = 15;
  const run = trainTask({ device: resistor, task: gateTask("XOR", resistor.inputRangeV), seed: 1, maxIterations: 60, patience });
  const starts = run.attempts.map((a) => a.startIteration);
  assert.ok(starts.length >= 2, `${starts.length} attempts`);
  // replay the rule on the recorded margins: each attempt starts its best afresh at its start
  for (let a = 0; a + 1 < starts.length; a++) {
    let best = -Infinity;
    let bestAt = starts[a];
    let stuckAt = -1;
    for (let iteration = starts[a] + 1; iteration <= run.iterations && stuckAt < 0; iteration++) {
      const margin = run.history.criterion[iteration - 1];
      if (margin > best + MARGIN_PROGRESS) {
        best = margin;
        bestAt = iteration;
      }
      if (iteration - bestAt >= patience) stuckAt = iteration;
    }
    assert.equal(starts[a + 1], stuckAt, `attempt ${a + 1} (from iteration ${starts[a]}, best at ${bestAt})`);
  }
});

test("a margin that creeps up by less than MARGIN_PROGRESS an iteration is not progress: the attempt still restarts after `patience` iterations", () => {
  // XOR's margin on this device is (0.225·a − 1.5)/3 for control 1 at a (the other controls do
  // nothing): training raises a by about the learning rate an iteration, the margin by about
  // 0.075 × 0.02 = 0.0015, under MARGIN_PROGRESS (0.01), so every attempt is stuck.
  const device: Device = {
    name: "creeping-margin", controlCount: 5, inputCount: 2, electrodeCount: 7, outputUnit: "nA", capabilities: [],
    controlRangeV: Array.from({ length: 5 }, () => [-1, 1] as [number, number]), inputRangeV: [[-1, 1], [-1, 1]],
    output: (v) => 40 * (-0.1 * v[0] * (v[5] + v[6] - 0.5) ** 2 + v[5] + v[6]),
  };
  const patience = 4;
  const run = trainTask({ device, task: gateTask("XOR", device.inputRangeV), seed: 1, maxIterations: 20, patience, learningRate: 0.02 });
  // the first attempt's margins (iterations 1 .. 1 + patience) creep up, never by MARGIN_PROGRESS
  const first = run.history.criterion.slice(0, 1 + patience);
  assert.ok(first.at(-1)! > first[0], `the margin crept up: ${first.map((m) => m.toFixed(4)).join(" ")}`);
  assert.ok(Math.max(...first) - first[0] < MARGIN_PROGRESS, `by less than MARGIN_PROGRESS: ${first.map((m) => m.toFixed(4)).join(" ")}`);
  assert.ok(first.every((m, i) => i === 0 || m - first[i - 1] < MARGIN_PROGRESS));
  // so the attempt is stuck from its first iteration and restarts `patience` iterations later,
  // and so is every one after (it never restarted: each small gain counted as progress)
  assert.deepEqual(run.attempts.map((a) => a.startIteration), [0, 5, 10, 15]);
  assert.equal(run.iterations, 20);
});

test("a start where the readings saturate (the controller faults: 16 windows in a row discarded) is left for the next start, as a stuck one is (the run used to stop there); three in a row stop the run", () => {
  const dir = scratchDir("hge-faulted-starts-");
  // the README's least device, its output ×12.5 (past the chain's ±285 nA) where control 1 is below −0.5 V, or everywhere
  const device = (name: string, saturated: string) => {
    const file = join(dir, `${name}.mjs`);
    writeFileSync(file, `export function createDevice({ inputCount = 2 }) {
  return { name: "${name}", controlCount: 5, inputCount, electrodeCount: 5 + inputCount, outputUnit: "nA", capabilities: [],
    controlRangeV: Array.from({ length: 5 }, () => [-1, 1]), inputRangeV: Array.from({ length: inputCount }, () => [-1, 1]),
    output(v) {
      const [a, b, c, d, e, x, y] = v;
      return (${saturated} ? 1000 : 80) * Math.tanh(a * x - b * y + 2 * c * x * y + d - 0.5 * e * e);
    } };
}
`);
    return file;
  };
  const run = (file: string) => {
    const out = join(dir, basename(file, ".mjs"));
    const r = hge("train", "--device", file, "--task", "xor", "--seed", "1", "--out", out, "--no-progress");
    return { ...r, json: JSON.parse(readFileSync(join(out, "run.json"), "utf8")) };
  };
  // seed 1's first start has control 1 at −0.633 V: every window saturates during the calibration
  const region = run(device("region", "a < -0.5"));
  assert.equal(region.status, 0, region.stderr);
  assert.match(region.stdout, /^XOR on region by multitone: solved in \d+ iterations, 2 starts, /);
  assert.deepEqual(region.json.attempts.map((a: { startIteration: number }) => a.startIteration), [0, 0]);
  assert.ok(region.json.attempts[0].initialV[0] < -0.5 && region.json.attempts[1].initialV[0] >= -0.5);
  assert.equal(region.json.counters.discardedWindows, 16);
  assert.equal(region.json.module.lagFrom, "calibration", "the second start calibrates, as the first was to");
  assert.doesNotMatch(region.stdout, /windows were discarded|every window was discarded/, "16 of 37 windows: no warning (it said every window was discarded, nothing learned)");
  const everywhere = run(device("everywhere", "true"));
  assert.equal(everywhere.status, 1);
  assert.match(everywhere.stdout, /^XOR on everywhere by multitone: not solved after 0 iterations \(controller fault\), 3 starts, /);
  assert.equal(everywhere.json.counters.discardedWindows, 48);
  assert.match(everywhere.stdout, /^ {2}warning: most windows were discarded \(48 of 49\): check the noise, spikes and the ADC range; the chain reads ±285 nA/m);
});

test("faulted starts count only in a row: an update between them starts the count again, so three faulted starts with working ones between do not end the run", () => {
  // Saturated (1000 nA, past the chain's ±285 nA: every window discarded, a fault) wherever
  // control 5 is below 0; elsewhere a device no control can make compute XOR, so every working
  // start is stuck after `patience` and restarts. Seed 3's starts put control 5 at −0.40, 0.76,
  // −0.71, 0.46, 0.39, −0.76, 0.50: starts 1, 3 and 6 fault, each after a start that updated.
  // (Its small learning rate keeps control 5 near its start while an attempt runs.)
  const device: Device = {
    name: "faults-apart", controlCount: 5, inputCount: 2, electrodeCount: 7, outputUnit: "nA", capabilities: [],
    controlRangeV: Array.from({ length: 5 }, () => [-1, 1] as [number, number]), inputRangeV: [[-1, 1], [-1, 1]],
    output: (v) => (v[4] < 0 ? 1000 : 40 * (v[5] + v[6]) + 5 * v[0]),
  };
  const run = trainTask({ device, task: gateTask("XOR", device.inputRangeV), seed: 3, maxIterations: 18, patience: 3, learningRate: 0.02 });
  const faulted = run.attempts.flatMap((a, k) => (a.initialV[4] < 0 ? [k] : []));
  assert.deepEqual(faulted, [0, 2, 5], "three faulted starts, none next to another");
  assert.equal(run.counters.discardedWindows, 3 * 16, "each faulted start: 16 windows discarded");
  assert.equal(run.stopped, "iterations", "the third faulted start is left for the next as the first two were (it ended the run, stopped: fault)");
  assert.equal(run.iterations, 18);
  assert.equal(run.attempts.length, 7);
});

test("a held control (--hold) stays at its start through restarts, which move every other control", () => {
  const resistor = new ResistorNetwork();
  const run = trainTask({ device: resistor, task: gateTask("XOR", resistor.inputRangeV), seed: 1, maxIterations: 60, patience: 15, hold: [2] });
  assert.ok(run.attempts.length >= 2, `${run.attempts.length} attempts`);
  const start = run.attempts[0].initialV;
  for (const attempt of run.attempts.slice(1)) {
    assert.equal(attempt.initialV[2], start[2], "the held control starts again where it started");
    assert.ok(attempt.initialV.every((v, k) => k === 2 || v !== start[k]), "the others start elsewhere");
  }
  for (const weights of run.history.weights) assert.equal(Math.fround(weights[2]), Math.fround(start[2])); // (a start is kept in f64)
});

test("a run whose budget ends before its first update says why: an epoch's device time, the calibration before it, and what to give", async () => {
  const { diagnose } = await import("../host/report/diagnose.ts");
  const device = new AnalyticDevice();
  const task = gateTask("AND", device.inputRangeV);
  // an epoch: 4 cases × (10 settling + 200 window samples) / 5 kHz = 0.168 s; two calibrate first
  const short = trainTask({ device, task, seed: 1, maxDeviceSeconds: 0.4 });
  assert.equal(short.iterations, 0);
  assert.equal(short.stopped, "budget");
  const warnings = diagnose(short);
  assert.equal(warnings.length, 1, warnings.join("\n"));
  assert.match(warnings[0], /budget ran out before the first update: an epoch takes 0\.168 s \(4 cases of 10 settling and 200 window samples\), and 2 epochs calibrate the lag first; give --budget several times 0\.504 s$/);
  // the calibration's probe found distortion above the noise on this device: no shorter plan is offered
  const { thirdOrderAmplitude, noiseAmplitude, planOrder } = short.module!.distortion!;
  assert.ok(thirdOrderAmplitude > noiseAmplitude && planOrder === 3, `${thirdOrderAmplitude} vs ${noiseAmplitude}`);
  // where the rule allows order 2, the warning offers it where its plan is shorter (five tones
  // plan at order 3 in these 200 samples: nothing shorter, nothing offered)
  assert.equal(short.module!.order2WindowSamples, undefined);
  const distortion = { thirdOrderAmplitude: 0.5 * noiseAmplitude, noiseAmplitude, planOrder: 2 as const };
  assert.doesNotMatch(diagnose({ ...short, module: { ...short.module!, distortion } })[0], /plan-order/);
  const linear = { ...short, module: { ...short.module!, distortion, order2WindowSamples: 120 } };
  assert.match(diagnose(linear)[0], /0\.504 s, or --plan-order 2 \(windows that grow as the number of controls, not its square\), 120-sample windows against 200: the calibration found/);
  // codes have no plan order to offer (--plan-order is refused for them): it was offered
  const walsh = await findMethod("walsh")!.train(device, task, { deviceSeconds: 0.1 }, { seed: 1 });
  assert.equal(walsh.iterations, 0);
  assert.equal(walsh.module!.order2WindowSamples, undefined);
  assert.doesNotMatch(diagnose(walsh).join("\n"), /plan-order/);
  const long = trainTask({ device, task, seed: 1, maxDeviceSeconds: 1 });
  assert.ok(long.iterations > 0);
  assert.deepEqual(diagnose(long).filter((w) => w.includes("budget")), []);
});

test("the calibration's distortion measurement is kept through restarts (whose configurations do not calibrate), with the rule's plan order", async () => {
  const { planOrderFor } = await import("../host/controller.ts");
  const device = new DopantNetwork();
  const run = trainTask({ device, task: gateTask("XOR", device.inputRangeV), seed: 1 });
  assert.ok(run.attempts.length > 1, "restarted");
  assert.ok(Number.isNaN(run.module!.status.thirdOrderAmplitude), "the last start's status has no measurement");
  const d = run.module!.distortion!;
  assert.ok(d.thirdOrderAmplitude > 0 && d.noiseAmplitude > 0);
  assert.equal(d.planOrder, planOrderFor(d, 2 * 4));
});

/** Each update's gradient's relative distance from the exact (adjoint) one. */
function gradientErrors(run: Result): number[] {
  return run.history.gradient!.map((g, i) => {
    const exact = run.history.exactGradient![i];
    return Math.hypot(...g.map((x, k) => x - exact[k])) / Math.hypot(...exact);
  });
}

test("the order-2 calibration on the eight-edge network (tones 225–400 Hz barely tell a corner from a delay) keeps the configured corner and fits its delay: gradients within 5% of the exact ones, seeds 1–3 (the free pair fitted 1.49 samples and 507 Hz there, 13% off); a corner the phases reject is fitted free", () => {
  const device = new ResistorNetwork();
  const run = (seed: number, lag?: { delaySamples: number; cornerHz: number }) =>
    trainTask({ device, task: gateTask("AND", device.inputRangeV), seed, lag, tones: { plan: { ...DEFAULTS.band, guardBins: 0, planOrder: "auto" } } });
  for (const seed of [1, 2, 3]) {
    const fitted = run(seed);
    const { lagDelaySamples, lagCornerHz } = fitted.module!.status;
    assert.deepEqual([fitted.module!.lagFrom, fitted.module!.controller.planOrder, lagCornerHz], ["calibration", 2, 1000], `seed ${seed}`);
    assert.ok(Math.abs(lagDelaySamples - 2) < 0.05, `seed ${seed}: delay ${lagDelaySamples}`);
    assert.deepEqual(gradientErrors(fitted).filter((error) => !(error < 0.05)), [], `seed ${seed}`);
  }
  // no corner configured: the phases reject it, and the free pair is taken
  const cornerless = run(1, { delaySamples: 0, cornerHz: 0 }).module!.status;
  assert.ok(cornerless.lagCornerHz > 0, `corner ${cornerless.lagCornerHz}`);
  // a corner twice the chain's is kept, its delay longer to make up the phase: 3.6% from exact
  const fast = run(1, { delaySamples: 1, cornerHz: 2000 });
  assert.equal(fast.module!.status.lagCornerHz, 2000);
  assert.ok(fast.module!.status.lagDelaySamples > 2.3, `delay ${fast.module!.status.lagDelaySamples}`);
  assert.deepEqual(gradientErrors(fast).filter((error) => !(error < 0.05)), []);
});

test("--plan-order auto: on a device whose distortion is below the noise the run calibrates on an order-2 plan with room for the probe and trains at order 2: a fraction of order 3's device time", async () => {
  const task = (device: ResistorNetwork) => gateTask("AND", device.inputRangeV);
  const tones = (planOrder: 2 | 3 | "auto", guardBins = 0) => ({ plan: { ...DEFAULTS.band, guardBins, planOrder } });
  // eight edges: order 3 needs 500-sample windows; order 2 with the probe's room (tones from bin
  // 9, one above the shortest plan's) fits the default 200, where it calibrates and stays
  const device = new ResistorNetwork();
  const auto = trainTask({ device, task: task(device), seed: 1, tones: tones("auto") });
  const order3 = trainTask({ device, task: task(device), seed: 1, tones: tones(3) });
  const d = auto.module!.distortion!;
  assert.ok(d.thirdOrderAmplitude < 1.5 * d.noiseAmplitude && d.planOrder === 2, `${d.thirdOrderAmplitude} vs ${d.noiseAmplitude}`);
  assert.deepEqual([d.switchedFrom, d.atOrder2], [undefined, undefined]);
  const ran = auto.module!.controller;
  assert.deepEqual([ran.planOrder, ran.windowSamples, ran.calibrationEpochs, order3.module!.controller.windowSamples], [2, 200, 2, 500]);
  assert.deepEqual(auto.module!.toneBins, [9, 10, 11, 12, 13, 14, 15, 16]);
  const { distortionText } = await import("../host/report/diagnose.ts");
  assert.match(distortionText(auto.module!, "V"), /: plan order 2 is safe here, and the run trained at it$/, "no flag offered that the run already took");
  assert.ok(auto.solved && order3.solved);
  assert.ok(auto.deviceSeconds < 0.5 * order3.deviceSeconds, `auto ${auto.deviceSeconds} s, order 3 ${order3.deviceSeconds} s`);
  // order 2's gradients against the network's exact (adjoint) one, on the chain's own lag (not
  // fitted: see the todo below): within 5% at every update (3.0–4.1% here)
  const given = trainTask({ device, task: task(device), seed: 1, tones: tones(2), calibrationEpochs: 0 });
  assert.deepEqual([given.module!.controller.windowSamples, given.module!.lagFrom], [200, "configuration"]);
  assert.ok(given.history.gradient!.length >= 3);
  assert.deepEqual(gradientErrors(given).filter((error) => !(error < 0.05)), [], "order 2's products do not reach the gradients");
  // with a guard of 9 bins the probe's room costs a longer window (800 samples, the shortest
  // order-2 plan 750): the run calibrates there and continues on the shorter plan, the lag kept
  const guarded = trainTask({ device, task: task(device), seed: 1, tones: tones("auto", 9) });
  const order2 = trainTask({ device, task: task(device), seed: 1, tones: tones(2, 9) });
  assert.equal(guarded.module!.distortion!.switchedFrom, 800);
  assert.deepEqual([guarded.module!.controller.planOrder, guarded.module!.controller.windowSamples, guarded.module!.controller.calibrationEpochs], [2, 750, 0]);
  assert.deepEqual(guarded.module!.controller.lag, { delaySamples: guarded.module!.status.lagDelaySamples, cornerHz: guarded.module!.status.lagCornerHz }, "the calibrated lag carried over");
  assert.equal(guarded.counters.samples, guarded.deviceSeconds * 5000, "the counters span both configurations");
  assert.deepEqual(guarded.module!.toneBins, order2.module!.toneBins, "--plan-order 2 calibrates with the probe's room and moves the same way");
  assert.equal(order2.module!.distortion!.switchedFrom, 800);
  assert.match(distortionText(guarded.module!, "V"), /: plan order 2 is safe here, and the run continued on it in shorter windows than the calibration's 800 samples$/);
  // thirty-two edges: order 3 needs 9450-sample windows, auto trains in 350
  const wide = new ResistorNetwork({ edgeCount: 32 });
  const wideAuto = trainTask({ device: wide, task: task(wide), seed: 1, tones: tones("auto") });
  const wide3 = trainTask({ device: wide, task: task(wide), seed: 1, tones: tones(3) });
  assert.deepEqual([wideAuto.module!.controller.windowSamples, wide3.module!.controller.windowSamples], [350, 9450]);
  assert.ok(wideAuto.solved && wide3.solved && wideAuto.deviceSeconds < 0.1 * wide3.deviceSeconds, `auto ${wideAuto.deviceSeconds} s, order 3 ${wide3.deviceSeconds} s`);
});

test("--plan-order auto calibrates again at order 3 and keeps it where the order-2 probe found distortion above the noise, and keeps order 3 where order 2 would not shorten the window; a given --plan-order 2 there is told what it let in", async () => {
  const device = DopantNetwork.default();
  const task = gateTask("XOR", device.inputRangeV);
  // a 100 mV perturbation in 20..500 Hz: order 3 needs 350-sample windows, order 2 with the probe's room 200
  const loud = trainTask({ device, task, seed: 1, amplitudesV: 0.1, maxDeviceSeconds: 5, tones: { plan: { ...DEFAULTS.band, bandHighHz: 500, planOrder: "auto" } } });
  const d = loud.module!.distortion!;
  assert.ok(d.atOrder2 && d.atOrder2.thirdOrderAmplitude > 1.8 * d.atOrder2.noiseAmplitude && d.atOrder2.windowSamples === 200, JSON.stringify(d));
  assert.ok(d.thirdOrderAmplitude > 5 * d.noiseAmplitude && d.planOrder === 3, "order 3's own calibration, and its probe");
  assert.equal(d.switchedFrom, undefined);
  assert.deepEqual([loud.module!.controller.planOrder, loud.module!.controller.windowSamples], [3, 350]);
  // a given --plan-order 2 on it trains at 2 where the probe says 3, and the summary says what that lets in
  const { distortionText } = await import("../host/report/diagnose.ts");
  const given = trainTask({ device, task, seed: 1, amplitudesV: 0.1, maxDeviceSeconds: 1, tones: { plan: { ...DEFAULTS.band, bandHighHz: 500, planOrder: 2 } } });
  assert.deepEqual([given.module!.controller.planOrder, given.module!.distortion!.planOrder], [2, 3]);
  assert.match(distortionText(given.module!, "nA"), /: keep plan order 3: it keeps third-order products off the tones, and this run's --plan-order 2 let them land there$/);
  assert.match(distortionText(loud.module!, "nA"), /: keep plan order 3: --plan-order auto measured order 2 first \([\d.]+ nA, noise [\d.]+ nA, in its 200-sample window\) and went back to order 3$/);
  // where order 3's own probe reads below the noise (one product's bin, not the N² of an order-2
  // plan) the order-2 measurement stands: the summary advised --plan-order 2 here, after the run
  // had measured order 2 distorted and left it (60 mV, seed 10)
  const quieter = trainTask({ device, task, seed: 10, amplitudesV: 0.06, maxDeviceSeconds: 2, tones: { plan: { ...DEFAULTS.band, bandHighHz: 500, planOrder: "auto" } } });
  const q = quieter.module!.distortion!;
  assert.ok(q.atOrder2 && planOrderFor(q.atOrder2, 8) === 3, JSON.stringify(q));
  assert.equal(planOrderFor(q, 8), 2, "order 3's probe alone would allow order 2");
  assert.deepEqual([q.planOrder, quieter.module!.controller.planOrder], [3, 3]);
  assert.match(distortionText(quieter.module!, "nA"), /: keep plan order 3: --plan-order auto measured order 2 first/);
  // the same where a guard of 9 bins makes the probe's room cost a longer window: the run calibrated
  // at 1000 samples and went on at 900 as asked, but the probe's 0.44 nA against 0.024 of noise
  // is not "safe" (it said so, and named --plan-order auto and order 3's window, both wrong)
  const guarded = trainTask({ device, task, seed: 1, amplitudesV: 0.1, maxDeviceSeconds: 2.5, tones: { plan: { ...DEFAULTS.band, bandHighHz: 500, guardBins: 9, planOrder: 2 } } });
  const g = guarded.module!.distortion!;
  assert.deepEqual([g.switchedFrom, g.planOrder, guarded.module!.controller.windowSamples], [1000, 3, 900]);
  assert.match(distortionText(guarded.module!, "nA"), /: keep plan order 3: it keeps third-order products off the tones, and this run's --plan-order 2 let them land there$/);
  // device time: both calibrations (2 epochs × 4 cases × 210 samples, then × 360) before the first update
  assert.ok(loud.history.deviceSeconds[0] >= (2 * 4 * 210 + 2 * 4 * 360 + 4 * 360) / 5000 - 1e-9);
  // the default band: five tones plan at order 3 in the default 200 samples, so nothing is switched
  const plain = trainTask({ device, task, seed: 1, maxDeviceSeconds: 2 });
  assert.equal(plain.module!.controller.planOrder, 3);
  assert.equal(plain.module!.distortion!.switchedFrom, undefined);
  assert.equal(plain.module!.distortion!.atOrder2, undefined);
  // and --plan-order 2 would buy nothing there: the summary no longer offers it (it did, for
  // "windows that grow as the number of controls"), where on the resistor network's eight tones it does
  assert.equal(plain.module!.order2WindowSamples, undefined);
  const seed3 = trainTask({ device, task, seed: 3, maxDeviceSeconds: 2 }); // (its probe allows order 2)
  assert.deepEqual([seed3.module!.distortion!.planOrder, seed3.module!.order2WindowSamples], [2, undefined]);
  assert.match(distortionText(seed3.module!, "nA"), /plan order 2 is safe here, but an order-2 plan's window is no shorter \(200 samples\)$/);
  const resistor = new ResistorNetwork({ seed: 1 });
  const wide = trainTask({ device: resistor, task: gateTask("AND", resistor.inputRangeV), seed: 1, maxDeviceSeconds: 2, tones: { plan: { ...DEFAULTS.band, planOrder: 3 } } });
  assert.deepEqual([wide.module!.controller.windowSamples, wide.module!.order2WindowSamples], [500, 200]);
  assert.match(distortionText(wide.module!, "V"), /plan order 2 is safe here, --plan-order 2 \(windows that grow as the number of controls, not its square\): 200-sample windows against this run's 500$/);
});

test("a solved epoch is confirmed read plainly (held, no perturbation): XOR seed 10's epochs solved through the tones do not hold and training goes on, to controls that hold (13.4% exact); Walsh's seed 2, solved through its noisy readings, reads 3.8% plainly and says so", () => {
  const device = DopantNetwork.default();
  const task = gateTask("XOR", device.inputRangeV);
  const run = trainTask({ device, task, seed: 10 });
  const { criterion, weights } = run.history;
  // an epoch solved through its tones, then the same controls held and read plainly: not solved, let go
  const released = criterion.filter((c, i) => i > 0 && criterion[i - 1] >= 0.05 && c < 0.05 && weights[i].every((w, k) => w === weights[i - 1][k]));
  assert.ok(released.length >= 3, `${released.length} confirmations let go`);
  assert.ok(run.solved);
  const plain = plainCheck(device, task, run.finalWeights)!;
  const exact = task.inputCases.map((inputs) => device.output(Float64Array.from([...run.finalWeights, ...inputs])));
  assert.equal(plain.criterion, gateMargin(exact, task.targets));
  assert.ok(plain.solved && Math.abs(plain.criterion - run.criterion) < 0.005, `${run.criterion} read by the module, ${plain.criterion} exact`); // only the noise between them
  const summary = hge("train", "--task", "xor", "--seed", "10", "--out", scratchDir("hge-plain-"), "--no-progress").stdout;
  assert.match(summary, /read plainly \(.*\): margin 13\.4 %\n(?!  warning)/);
  // (pat's seed 6 did not hold either until pat confirmed on held controls too: method.ts Confirmation)
  const walsh = hge("train", "--method", "walsh", "--task", "xor", "--seed", "2", "--out", scratchDir("hge-plain-"), "--no-progress").stdout;
  assert.match(walsh, /margin 5\.0 %\n(.*\n)*  read plainly \(.*\): margin 3\.8 %\n  warning: read plainly, these controls do not solve XOR/);
});

test("lag calibration at XOR starts where one control's tone dominates (seeds 53 and 68; the chain: 2 samples, 1 kHz) lands on the chain's valley, not on an alias 40 samples off; seed 53 then solves XOR in 21.8 s (it spent its 300 s before)", () => {
  const task = gateTask("XOR", dnpu.inputRangeV);
  for (const seed of [53, 68]) {
    const status = trainTask({ device: dnpu, task, seed, maxIterations: 1 }).module!.status;
    assert.ok(status.lagDelaySamples < 4, `seed ${seed}: ${status.lagDelaySamples} samples, ${status.lagCornerHz} Hz`);
  }
  const run = trainTask({ device: dnpu, task, seed: 53, maxDeviceSeconds: 300 });
  assert.ok(run.solved && run.deviceSeconds < 30, `${run.deviceSeconds} device-s`);
});

test("a calibration at a start where the controls do not move the output (tests/muted-dnpu.ts: the DNPU muted while control 1 is below 0) fits no lag: the chain model's stays, the next start calibrates again, and every run ends on a fitted lag near the chain's (2 samples, 1 kHz), not on one fitted to noise", async () => {
  const { diagnose, lagPhaseOff } = await import("../host/report/diagnose.ts");
  const muted = createMuted();
  const task = gateTask("XOR", dnpu.inputRangeV);
  let dead = 0;
  for (let seed = 1; seed <= 8; seed++) {
    const first = trainTask({ device: muted, task, seed, maxIterations: 1 });
    const silent = first.attempts[0].initialV[0] < 0;
    if (!silent) continue;
    dead++;
    assert.equal(first.counters.calibrationsInNoise, 1, `seed ${seed}`);
    assert.equal(first.module!.lagFrom, "configuration");
    assert.deepEqual([first.module!.status.lagDelaySamples, first.module!.status.lagCornerHz], [2, 1000]);
    assert.match(diagnose(first).join("\n"), /every calibration \(1\) found the tones' phases within the noise .*: the run demodulated with the configured lag \(2\.00 samples, corner 1000 Hz\)/);
    const run = trainTask({ device: muted, task, seed, maxDeviceSeconds: 300 });
    const { lagDelaySamples, lagCornerHz } = run.module!.status;
    assert.ok(run.solved, `seed ${seed}: ${run.deviceSeconds} device-s`);
    assert.ok(run.counters.calibrationsInNoise >= 1 && run.module!.lagFrom === "calibration", `seed ${seed}`);
    // the fit may sit anywhere along the valley where delay and corner trade off (README: "The
    // chain's lag"), but at every tone its phase is within 30° of the chain's (a lag fitted to
    // noise, 0 samples and no corner, was 72–135° off at these tones)
    for (const hz of run.module!.toneHz) {
      const off = lagPhaseOff({ delaySamples: lagDelaySamples, cornerHz: lagCornerHz }, { delaySamples: 2, cornerHz: 1000 }, hz, DEFAULTS.sampleRateHz);
      assert.ok(off < Math.PI / 6, `seed ${seed}: ${lagDelaySamples} samples, ${lagCornerHz} Hz: ${((off * 180) / Math.PI).toFixed(0)}° off at ${hz} Hz`);
    }
    assert.match(diagnose(run).join("\n"), /calibrations? found the tones' phases within the noise .* until a later start's calibration fitted one/);
  }
  assert.ok(dead >= 3, `${dead} of 8 seeds start muted`);
});

test("the fitted-lag warning judges a fit by its phase at the tones: fits along the valley where delay and corner trade off pass (2.90 samples, 8827 Hz: within 3°; 1.68, 400: 10°), a lag fitted to noise (0, no corner) and an alias (13.68 samples, 747 Hz) are named with how far off they demodulate", async () => {
  const { diagnose } = await import("../host/report/diagnose.ts");
  const run = trainTask({ device: dnpu, task: gateTask("XOR", dnpu.inputRangeV), seed: 1, maxIterations: 2 });
  assert.equal(run.module!.lagFrom, "calibration");
  assert.deepEqual(run.module!.toneHz, [425, 550, 750, 800, 825]);
  const warning = (delay: number, corner: number) => {
    const module = { ...run.module!, status: { ...run.module!.status, lagDelaySamples: delay, lagCornerHz: corner } };
    return diagnose({ ...run, module }).find((w) => w.startsWith("the fitted lag"));
  };
  assert.equal(diagnose(run).find((w) => w.startsWith("the fitted lag")), undefined, "its own fit");
  assert.equal(warning(2.9, 8827), undefined);
  assert.equal(warning(1.68, 400), undefined);
  assert.match(warning(0, 0) ?? "", /^the fitted lag \(0\.00 samples, corner 0 Hz\) demodulates a tone 135° off the chain's phase \(2 samples, 1000 Hz\)/);
  assert.match(warning(13.68, 747) ?? "", / demodulates a tone 105° off /); // 360° at 425 Hz is no error
});

test("a Ctrl-C that came before the module's run began (the live page's start ran in between) stops it at once, not after the whole budget", async () => {
  const { findMethod } = await import("../host/methods/index.ts");
  const device = DopantNetwork.default();
  const abort = new AbortController();
  abort.abort();
  const run = await findMethod("multitone")!.train(device, gateTask("XOR", device.inputRangeV), { deviceSeconds: 300 }, { seed: 1, signal: abort.signal });
  assert.equal(run.stopped, "interrupted");
  assert.equal(run.iterations, 0);
  assert.ok(run.deviceSeconds < 1, `${run.deviceSeconds} device-s`);
});

test("a report shows tones, their SNR, the lag model and the spectrum only for a run of tones, and calls a lag fitted only where the calibration fitted it", async () => {
  const { writeRunReport } = await import("../host/report/html.ts");
  const device = new AnalyticDevice();
  const task = gateTask("AND", device.inputRangeV);
  const dir = scratchDir("hge-report-rows-");
  const rows = async (method: string) => {
    const run = await findMethod(method)!.train(device, task, { deviceSeconds: 3 }, { seed: 1 });
    mkdirSync(join(dir, method));
    return readFileSync(await writeRunReport(run, join(dir, method), "test"), "utf8");
  };
  // codes: no tones (they showed 0 Hz, bin 0), no SNR per tone (NaN dB), no lag model ("fitted"),
  // no spectrum ("not drawn (Unrecognized signal name: "Infinity")")
  const walsh = await rows("walsh");
  for (const absent of [">tones<", "SNR per tone", "lag model", "NaN", "Spectrum", "not drawn"]) assert.ok(!walsh.includes(absent), absent);
  // the published preset demodulates with the lag it is given: not "fitted at the tones"
  const published = await rows("published");
  assert.match(published, /lag model<\/td><td>given \(not fitted\): /);
  assert.ok(!published.includes("fitted at the tones"));
  const multitone = await rows("multitone");
  assert.match(multitone, /lag model<\/td><td>fitted: [\d.]+ samples, corner \d+ Hz \(the sampled-chain model: .*; fitted at the tones\)/);
  assert.match(multitone, /SNR per tone<\/td><td>c1 \d+ dB/);
});

test("a run that stops on a start it never measured (a restart after its last update, cut short by faults) claims no margin or outputs for the controls it ended on, and says so", async () => {
  const out = scratchDir("hge-unmeasured-start-");
  const { stdout } = hge("train", "--task", "and", "--spikes", "50", "--spike-size", "1000", "--budget", "20", "--no-progress", "--out", out);
  const run = JSON.parse(readFileSync(join(out, "run.json"), "utf8"));
  assert.equal(run.stopped, "fault");
  assert.ok(run.attempts.length > 1 && run.attempts.at(-1).startIteration === run.iterations, JSON.stringify(run.attempts.map((a: { startIteration: number }) => a.startIteration)));
  assert.deepEqual(run.finalWeights, run.attempts.at(-1).initialV.map(Math.fround), "it ends on the last start's controls (in the module's f32)");
  // (it printed margin 27.6 % and the outputs measured at update 3's controls beside them)
  assert.equal(run.criterion, null);
  assert.deepEqual(run.caseOutputs, []);
  assert.match(stdout, /controller fault\), \d+ starts, [\d.]+ s of device time \([\d.]+ s wall\), margin —$/m);
  assert.doesNotMatch(stdout, /case outputs/);
  assert.match(stdout, new RegExp(`warning: the controls it ended on, start ${run.attempts.length} after update ${run.iterations}, were never measured \\(the run stopped: fault\\); the margin of earlier starts is in the history`));
});
