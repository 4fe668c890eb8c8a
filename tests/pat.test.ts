// Physics-aware training (host/methods/pat.ts, pat-training.ts): with the device itself as its twin it is
// exact-gradient training; with its fitted MLP twin it trains iris through one physical
// feature and XOR on the DNPU; it honours budget, abort and bad settings.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { BIN, countingResistor, hge, scratchDir } from "./fixtures.ts";
import { DopantNetwork } from "../host/devices/dopant.ts";
import { DeviceView } from "../host/devices/device.ts";
import { ResistorNetwork } from "../host/devices/resistor.ts";
import { TrainConfigError } from "../host/errors.ts";
import { cosine } from "../host/metrics.ts";
import { refusal } from "../host/methods/index.ts";
import { diagnose } from "../host/report/diagnose.ts";
import { PAT_DATASET_ONLY, PAT_DEFAULTS, PAT_HGE_METHOD, PAT_METHOD } from "../host/methods/pat.ts";
import { PAT_LIMITS, patSettings, trainPat } from "../host/methods/pat-training.ts";
import { ControlOptimiser, optimiserSettings } from "../host/methods/optimiser.ts";
import type { Twin } from "../host/methods/twin.ts";
import { gateTask } from "../host/tasks/gates.ts";
import { irisTask } from "../host/tasks/iris.ts";
import { DEFAULTS } from "../host/train.ts";
import { FIELDS } from "../host/config-fields.ts";
import { meanSquaredError, regressionTask } from "../host/tasks/regression.ts";

const resistor = new ResistorNetwork();
const regression = regressionTask({ inputRangeV: resistor.inputRangeV });

/** The resistor network as its own twin: control derivatives by its adjoint, input
 *  derivatives by central differences (pat uses only the controls'). */
const exactTwin: Twin = {
  description: "the device itself (adjoint gradient)",
  weightedGradients: (voltages, weights) =>
    voltages.map((v, r) => {
      const controls = Array.from(resistor.outputGradient(Float64Array.from(v)));
      const inputs = v.slice(resistor.controlCount).map((_, i) => {
        const up = Float64Array.from(v);
        const down = Float64Array.from(v);
        up[resistor.controlCount + i] += 1e-6;
        down[resistor.controlCount + i] -= 1e-6;
        return (resistor.output(up) - resistor.output(down)) / 2e-6;
      });
      return [...controls, ...inputs].map((g) => weights[r] * g);
    }),
};

/** The exact loss and ∂L/∂controls at controls `v` (noise-free outputs, adjoint Jacobian). */
function exactLossAndGradient(v: number[]) {
  const cases = regression.inputCases.map((inputs) => Float64Array.from([...v, ...inputs]));
  const outputs = cases.map((c) => resistor.output(c));
  const gradient = new Array(resistor.controlCount).fill(0);
  const jacobian = cases.map((c) => Array.from(resistor.outputGradient(c)));
  jacobian.forEach((row, p) => {
    const dLdy = (2 * (outputs[p] - regression.targets[p])) / outputs.length;
    row.forEach((g, k) => (gradient[k] += dLdy * g));
  });
  return { loss: meanSquaredError(outputs, regression.targets), gradient, jacobian, outputs };
}

const ITERATIONS = 60;
const exactRun = () =>
  trainPat(resistor, regression, { deviceSeconds: 1e9, maxIterations: ITERATIONS }, { seed: 3, options: { solvedEpochs: 0, patience: 0 } }, { twin: exactTwin });

test("with the device as its twin, every pat step follows the exact gradient (cosine ≥ 0.99)", async () => {
  const run = await exactRun();
  assert.equal(run.iterations, ITERATIONS);
  let worst = 1;
  run.history.gradient!.forEach((step, i) => (worst = Math.min(worst, cosine(step, exactLossAndGradient(run.history.weights[i]).gradient))));
  console.log(`exact twin on ${resistor.name}: worst step cosine ${worst.toFixed(5)} over ${ITERATIONS} steps`);
  assert.ok(worst >= 0.99, `worst cosine ${worst}`);
});

test("with the device as its twin, pat's gradient at every step is the exact Jacobian chained with the loss slopes of the outputs it measured (1e-9), those outputs are the device's own within 1 mV (the chain: converters, low-pass, noise), and it descends as exact-gradient Adam from its start does", async () => {
  const run = await exactRun();
  // compared at the controls pat reached, not along a second trajectory: noisy steps and exact
  // ones drift apart as Adam's steps shrink near the minimum
  let worst = 0;
  run.history.gradient!.forEach((g, i) => {
    const measured = run.history.caseOutputs![i];
    const { jacobian, outputs } = exactLossAndGradient(run.history.weights[i]);
    measured.forEach((y, p) => (worst = Math.max(worst, Math.abs(y - outputs[p]))));
    const chained = g.map((_, k) => jacobian.reduce((sum, row, p) => sum + ((2 * (measured[p] - regression.targets[p])) / measured.length) * row[k], 0));
    const error = Math.hypot(...g.map((x, k) => x - chained[k])) / Math.hypot(...chained);
    assert.ok(error < 1e-9, `step ${i}: gradient ${error} from the exact chain rule`);
  });
  assert.ok(worst < 1e-3, `a measured output ${worst} V from the device's own`);
  // The reference: the same Adam from the same start, on exact outputs and exact gradients.
  const optimiser = new ControlOptimiser(Float64Array.from(run.history.weights[0]), resistor.controlRangeV, optimiserSettings({ learningRate: PAT_DEFAULTS.learningRate }));
  const reference: number[] = [];
  for (let i = 0; i < ITERATIONS; i++) {
    const { loss, gradient } = exactLossAndGradient(optimiser.values());
    reference.push(loss);
    optimiser.step(gradient);
  }
  console.log(`loss ${reference[0].toExponential(3)} → ${reference.at(-1)!.toExponential(3)} V² exact, → ${run.history.loss.at(-1)!.toExponential(3)} V² by pat; its measured outputs at most ${worst.toExponential(2)} V from the device's own`);
  assert.equal(run.history.loss.length, ITERATIONS);
  for (const curve of [reference, run.history.loss]) assert.ok(curve.at(-1)! < curve[0] / 100, "the descent trains");
});

test("pat is deterministic for a seed", async () => {
  const [a, b] = [await exactRun(), await exactRun()];
  assert.deepEqual(a.history.loss, b.history.loss);
});

test("pat trains iris through one physical feature to ≥ 90% held-out accuracy (seed 1)", async () => {
  const started = performance.now();
  const run = await trainPat(DopantNetwork.default(), irisTask(), { deviceSeconds: 300 }, { seed: 1 });
  console.log(`iris: accuracy ${run.history.criterion.map((a) => a.toFixed(3)).join(" ")}; ${run.deviceSeconds.toFixed(1)} device-s (sweep ${run.counters.sweepDeviceSeconds} s), ${((performance.now() - started) / 1000).toFixed(1)} s wall`);
  assert.ok(run.history.criterion[0] < 0.9, "the seeded starting setting alone does not solve it: the physical training does");
  assert.equal(run.stopped, "solved");
  assert.ok(run.criterion >= 0.9);
  assert.equal(run.criterionName, "accuracy");
  assert.equal(run.device, DopantNetwork.default().withInputCount(4).name);
  // the epochs that confirm the solved one hold its controls and readout and read the held-out
  // split alone, each row once per feature setting (they read the training split too and trained
  // the readout on it: 1.8 device-s each, and the model confirmed was not the one that solved)
  const confirming = DEFAULTS.solvedEpochs - 1;
  const perReading = (PAT_DEFAULTS.settleSamples + PAT_DEFAULTS.windowSamples) / DEFAULTS.sampleRateHz;
  const seconds = run.history.deviceSeconds;
  for (let e = seconds.length - confirming; e < seconds.length; e++) {
    assert.ok(Math.abs(seconds[e] - seconds[e - 1] - irisTask().test.labels.length * PAT_DEFAULTS.featureSettings * perReading) < 1e-9, `epoch ${e + 1}: ${seconds[e] - seconds[e - 1]} device-s`);
    assert.deepEqual(run.history.weights[e + 1], run.history.weights[e]);
  }
  // and the counters count those readings as made: every measurement is the sweep's or training's
  assert.equal(run.counters.sweepMeasurements + run.counters.trainingMeasurements, run.counters.measurements);
  assert.ok(!("patience" in run.settings) && !("hgeEvery" in run.settings), "a data set's run reads no patience (no restarts), pat no hgeEvery");
  assert.equal(run.settings.readoutSteps, PAT_DEFAULTS.readoutSteps);
});

test("pat trains XOR on the DNPU (seed 1) within 120 device-seconds", async () => {
  const device = DopantNetwork.default();
  const started = performance.now();
  let updates = 0;
  const run = await PAT_METHOD.train(device, gateTask("XOR", device.inputRangeV), { deviceSeconds: 120 }, { seed: 1, progress: () => updates++ });
  console.log(`XOR: ${run.stopped} after ${run.iterations} updates, ${run.attempts.length} starts, ${run.deviceSeconds.toFixed(1)} device-s (sweep ${run.counters.sweepDeviceSeconds} s), margin ${run.criterion.toFixed(3)}, twin RMS error ${run.counters.twinForwardRmsError.toFixed(2)} nA, ${((performance.now() - started) / 1000).toFixed(1)} s wall`);
  assert.equal(run.stopped, "solved");
  assert.ok(run.deviceSeconds <= 120);
  assert.equal(updates, run.iterations);
  // it ends on the controls its last solved readings measured, not on a step taken after them
  // (that step left 4 of 10 seeds' final controls with margins of 3.7% to −17%), and those are
  // the controls all three solved epochs read (Confirmation: no step while confirming)
  for (const back of [2, 3, 4]) assert.deepEqual(run.finalWeights, run.history.weights.at(-back), `weights.at(-${back})`);
  // its settings are the ones it read: not the data sets' readout, nor pat-hge's refresh
  for (const key of [...PAT_DATASET_ONLY, "hgeEvery"]) assert.ok(!(key in run.settings), key);
  assert.equal(run.settings.patience, PAT_DEFAULTS.patience);
});

test("hge train stops a run on its device-time budget, not on an iteration count: pat on sphere (which no method solves on the DNPU) spends its 300 device-s in more than 500 updates (a cap of 500 once ended XNOR seed 2 unsolved at 36 device-s)", () => {
  const out = scratchDir("hge-pat-limit-");
  const { status } = hge("train", "--method", "pat", "--task", "sphere", "--seed", "1", "--out", out, "--no-progress");
  const run = JSON.parse(readFileSync(join(out, "run.json"), "utf8"));
  assert.equal(status, 1);
  assert.equal(run.stopped, "budget");
  assert.ok(run.iterations > 500 && run.deviceSeconds > 299 && run.deviceSeconds <= 300, `${run.iterations} updates, ${run.deviceSeconds} device-s`);
});

// Gradient quality alone: one start each (no restarts), so a wrong Jacobian cannot be escaped by
// starting elsewhere. With restarts (the default) pat also gets there on seed 1: see the report.
test("a twin whose gradient is not finite (one diverged: twinLearningRate=1e308 made hge train's run an internal error, NaN volts reaching the DNPU) moves no control: each step is refused and counted", async () => {
  const device = DopantNetwork.default();
  const nanTwin: Twin = { description: "a diverged fit", weightedGradients: (voltages) => voltages.map((v) => v.map(() => Number.NaN)) };
  const run = await trainPat(device, gateTask("XOR", device.inputRangeV), { deviceSeconds: 100, maxIterations: 5 }, { seed: 1, options: { patience: 0 } }, { twin: nanTwin });
  assert.equal(run.stopped, "iterations");
  assert.equal(run.counters.skippedUpdates, 5);
  for (const weights of run.history.weights) assert.deepEqual(weights, run.history.weights[0]);
  // and the reader is told why (nothing said it: the run just spent its budget)
  assert.ok(diagnose(run).includes("the twin did not fit: 5 of 5 updates were skipped, the twin's gradient not finite; give a smaller --set twinLearningRate (this run's 0.005)"), diagnose(run).join("\n"));
});

test("a twin whose fit diverged (twinLearningRate=1e20: RMS error NaN) stops pat at once on input cases, its sweep kept, with stopped = twin and a warning suggesting a smaller twinLearningRate (it spent its whole budget on skipped updates, saying nothing); on a data set it warns and goes on", () => {
  const out = join(scratchDir("hge-pat-diverged-"), "run");
  const { status, stdout, stderr } = hge("train", "--method", "pat", "--task", "and", "--set", "twinLearningRate=1e20", "--set", "sweepPoints=100", "--set", "twinEpochs=20", "--budget", "20", "--out", out, "--no-progress");
  assert.equal(status, 1, stdout + stderr);
  assert.match(stdout, /not solved after 0 iterations \(its twin did not fit\)/);
  assert.match(stdout, /^  warning: the twin did not fit: its fit diverged \(RMS error not finite\) and the run stopped; give a smaller --set twinLearningRate \(this run's 100000000000000000000\)$/m);
  assert.doesNotMatch(stdout, /not finite: no epoch was measured/);
  const run = JSON.parse(readFileSync(join(out, "run.json"), "utf8"));
  assert.equal(run.stopped, "twin");
  assert.equal(run.counters.twinFitRmsError, null);
  assert.equal(run.counters.sweepMeasurements, 100);
  assert.ok(run.deviceSeconds < 2, `${run.deviceSeconds} device-s: the sweep's, not the budget's 20`);
  // on a data set the digital readout still learns on the measured features: the run goes on, warned
  const iris = hge("train", "--method", "pat", "--task", "iris", "--set", "twinLearningRate=1e20", "--set", "sweepPoints=100", "--set", "twinEpochs=20", "--max-iterations", "2", "--out", join(out, "iris"), "--no-progress");
  assert.match(iris.stdout, /not solved after 2 iterations \(iteration limit\)/, iris.stdout + iris.stderr);
  assert.match(iris.stdout, /^  warning: the twin did not fit: its fit diverged \(RMS error not finite\); give a smaller --set twinLearningRate/m);
});

test("a readout that diverged on a data set (readoutLearningRate=1e308: its cross-entropy NaN) stops pat after the first sweep, stopped = readout, with a warning naming readoutLearningRate (it spent the whole budget on skipped updates and blamed the twin)", () => {
  const out = join(scratchDir("hge-pat-readout-"), "run");
  const { status, stdout, stderr } = hge("train", "--method", "pat", "--task", "iris", "--set", "readoutLearningRate=1e308", "--budget", "40", "--out", out, "--no-progress");
  assert.equal(status, 1, stdout + stderr);
  assert.match(stdout, /not solved after 0 iterations \(its readout diverged\)/);
  assert.match(stdout, /^  warning: the readout diverged \(its cross-entropy not finite\) and the run stopped; give a smaller --set readoutLearningRate \(this run's 1e\+308\)$/m);
  assert.doesNotMatch(stdout, /the twin did not fit|not finite: no epoch was measured/);
  const run = JSON.parse(readFileSync(join(out, "run.json"), "utf8"));
  assert.equal(run.stopped, "readout");
  assert.ok(run.deviceSeconds < 20, `${run.deviceSeconds} device-s: the first sweep's, not the budget's 40`);
});

test("HGE Jacobians rescue a crude twin: from one start with a 30-point twin, pat misses regression in 300 updates, pat-hge solves it", async () => {
  // (on the network before every edge moved the output, 50 points were crude enough; on this
  // one pat solves with 50 in 20 updates, and misses with 30, 20 and 10, which pat-hge solves)
  const budget = { deviceSeconds: 1e9, maxIterations: 300 };
  const context = { seed: 1, options: { sweepPoints: 30, patience: 0 } };
  const plain = await PAT_METHOD.train(resistor, regression, budget, context);
  const corrected = await PAT_HGE_METHOD.train(resistor, regression, budget, context);
  console.log(`30-point twin: pat ${plain.stopped}, RMS error ${plain.criterion.toExponential(2)} V after ${plain.iterations} updates, ${plain.deviceSeconds.toFixed(1)} device-s; ` +
    `pat-hge ${corrected.stopped} after ${corrected.iterations} updates (${corrected.counters.hgeEpochs} HGE epochs, twin/HGE Jacobian cosine ${corrected.counters.twinJacobianCosine.toFixed(2)}), RMS error ${corrected.criterion.toExponential(2)} V, ${corrected.deviceSeconds.toFixed(1)} device-s`);
  assert.equal(plain.solved, false);
  assert.equal(corrected.solved, true);
  assert.equal(corrected.method, "pat-hge");
});

test("pat stops inside its device-time budget, even during the sweep", async () => {
  const run = await trainPat(resistor, regression, { deviceSeconds: 5 }, { seed: 1 });
  assert.equal(run.stopped, "budget");
  assert.equal(run.iterations, 0);
  assert.ok(run.deviceSeconds <= 5);
});

test("pat returns what it has when aborted", async () => {
  const abort = new AbortController();
  abort.abort();
  const run = await trainPat(resistor, regression, { deviceSeconds: 100 }, { seed: 1, signal: abort.signal });
  assert.equal(run.stopped, "interrupted");
});

test("pat runs on any device (needs nothing) and names a bad setting and its valid values", async () => {
  assert.equal(refusal(PAT_METHOD, DopantNetwork.default(), gateTask("XOR", DopantNetwork.default().inputRangeV)), undefined);
  assert.equal(refusal(PAT_METHOD, resistor, regression), undefined);
  await assert.rejects(trainPat(resistor, regression, { deviceSeconds: 1 }, { seed: 1, options: { sweepPoints: 2.5 } }), (error: unknown) => {
    assert.ok(error instanceof TrainConfigError);
    assert.equal(error.message, "pat: sweepPoints must be a whole number 1 .. 20000 (default 1000), not 2.5");
    return true;
  });
  // its window takes the module's range, as --window does (a window of 4 was taken by --set, refused by --window)
  await assert.rejects(trainPat(resistor, regression, { deviceSeconds: 1 }, { seed: 1, options: { windowSamples: 4 } }), /^TrainConfigError: pat: windowSamples must be a whole number 8 \.\. 1048576 \(default 50\), not 4$/);
  await assert.rejects(trainPat(resistor, irisTask(), { deviceSeconds: 1 }, { seed: 1 }), /^TrainConfigError: pat: it trains iris through 4 data inputs; resistor-network\(.*\) has 2 and cannot reassign its electrodes$/);
  assert.match(refusal(PAT_METHOD, resistor, irisTask())!, /^method pat: it trains iris through 4 data inputs; resistor-network\(.*\) has 2 and cannot reassign its electrodes \(methods that can train iris on it: phyll, phyll-hge\)$/);
});

test("pat's settings are the ones its run reads: a data set's on an input-case task, the restarts' on a data set and the success rule (every method's) are refused, naming why", () => {
  const refused: Array<[string[], number, RegExp]> = [
    [["--method", "pat", "--task", "and", "--set", "solvedEpochs=1"], 2, /--set solvedEpochs: method pat has the settings /],
    [["--method", "pat-hge", "--task", "and", "--set", "featureSettings=64"], 2, /--set featureSettings: method pat-hge has the settings /],
    [["--method", "pat", "--task", "and", "--set", "readoutSteps=10"], 3, /pat: readoutSteps is read by data-set tasks only, and this task has input cases/],
    [["--method", "pat", "--task", "iris", "--set", "patience=3"], 3, /pat: patience is read by tasks of input cases only, and this task is a data set/],
  ];
  const scratch = scratchDir("hge-pat-settings-");
  for (const [args, status, message] of refused) {
    const r = hge("train", ...args, "--out", join(scratch, "refused"), "--no-progress");
    assert.equal(r.status, status, args.join(" "));
    assert.match(r.stderr, message);
  }
  const compared = hge("compare", "--task", "and", "--methods", "multitone,pat", "--seeds", "1", "--set", "solvedEpochs=1", "--out", join(scratch, "refused-compare"), "--no-progress");
  assert.equal(compared.status, 2, "one comparison, one success rule: no method has solvedEpochs of its own");
});

test("pat and pat-hge refuse every size, count and epoch beyond its limit, naming the setting, its range and default, before measuring anything", async () => {
  const device = countingResistor();
  for (const [key, limit] of Object.entries(PAT_LIMITS) as Array<[keyof typeof PAT_LIMITS, number]>) {
    const kind = (PAT_DATASET_ONLY as readonly string[]).includes(key) ? "dataset" : "cases";
    assert.equal(patSettings({ [key]: limit }, "pat", kind)[key], limit, `${key} at its limit is taken`);
    const lowest = key === "windowSamples" ? FIELDS.WindowSamples.low : key === "settleSamples" || key === "readoutSteps" ? 0 : 1; // (a window: the module's bound, as --window's)
    for (const [method, name] of [[PAT_METHOD, "pat"], [PAT_HGE_METHOD, "pat-hge"]] as const) {
      await assert.rejects(method.train(device, regression, { deviceSeconds: 100 }, { seed: 1, options: { [key]: limit + 1 } }), (error: unknown) => {
        assert.ok(error instanceof TrainConfigError);
        assert.equal(error.option, key);
        assert.equal(error.message, `${name}: ${key} must be a whole number ${lowest} .. ${limit} (default ${PAT_DEFAULTS[key]}), not ${limit + 1}`);
        return true;
      });
    }
  }
  assert.equal(device.outputs, 0, "refused before any device time");
});

test("hge train refuses the sizes that exhausted memory or hung (hiddenUnits=1e7, hiddenLayers=1e4, twinEpochs=1e9) with one line and exit 3", () => {
  const out = join(scratchDir("hge-pat-"), "refused");
  for (const [setting, limit, fallback] of [["hiddenUnits=1e7", 256, 32], ["hiddenLayers=1e4", 16, 2], ["twinEpochs=1e9", 5000, 150]] as const) {
    const started = performance.now();
    const { status, stdout, stderr } = hge("train", "--method", "pat", "--task", "xor", "--set", setting, "--budget", "20", "--out", out, "--no-progress");
    const [name, value] = setting.split("=");
    assert.equal(status, 3, stdout + stderr);
    assert.equal(stderr, `hge: configuration refused: pat: ${name} must be a whole number 1 .. ${limit} (default ${fallback}), not ${Number(value)}\n`);
    assert.ok(performance.now() - started < 30_000);
  }
});

test("an abort during the twin's fit stops it within a second or two: stopped = interrupted, the sweep counted, no twin", async () => {
  const abort = new AbortController();
  const started = performance.now();
  setTimeout(() => abort.abort(), 500); // the 50-point sweep takes milliseconds; 5000 epochs of the fit about 10 s
  const run = await trainPat(resistor, regression, { deviceSeconds: 1e9 }, { seed: 1, signal: abort.signal, options: { sweepPoints: 50, twinEpochs: PAT_LIMITS.twinEpochs } });
  const seconds = (performance.now() - started) / 1000;
  console.log(`aborted at 0.5 s: returned after ${seconds.toFixed(2)} s (${run.counters.twinFitWallSeconds.toFixed(2)} s of fitting)`);
  assert.equal(run.stopped, "interrupted");
  assert.ok(seconds < 2, `returned ${seconds.toFixed(2)} s after the start`);
  assert.equal(run.iterations, 0);
  assert.equal(run.counters.sweepMeasurements, 50);
  assert.ok(run.counters.twinFitWallSeconds > 0, "it was fitting");
  assert.match(String(run.settings.twin), /^none/);
  assert.ok(run.deviceSeconds > 0);
});

test("Ctrl-C during pat's twin fit (twinEpochs at its limit): exit 130 at once, run.json with stopped = interrupted and the sweep", async () => {
  const out = join(scratchDir("hge-pat-"), "interrupted");
  const child = spawn(process.execPath, [BIN, "train", "--method", "pat", "--task", "xor", "--set", `twinEpochs=${PAT_LIMITS.twinEpochs}`, "--out", out, "--no-progress"], { stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  child.stdout.on("data", (chunk) => (stdout += chunk));
  const exited = new Promise<number | string | null>((resolve) => child.on("exit", (status) => resolve(status ?? child.signalCode)));
  await new Promise((resolve) => setTimeout(resolve, 6000)); // start-up and the 1000-point sweep take about 2 s; the fit about 90 s
  const signalled = performance.now();
  child.kill("SIGINT");
  const code = await exited;
  const seconds = (performance.now() - signalled) / 1000;
  assert.equal(code, 130, stdout);
  assert.ok(seconds < 3, `exited ${seconds.toFixed(1)} s after SIGINT`);
  assert.match(stdout, /not solved after 0 iterations \(interrupted\)/);
  const run = JSON.parse(readFileSync(join(out, "run.json"), "utf8"));
  assert.equal(run.stopped, "interrupted");
  assert.equal(run.counters.sweepMeasurements, PAT_DEFAULTS.sweepPoints);
  assert.ok(run.counters.twinFitWallSeconds > 0, "it was fitting");
});

test("an error after measuring began ends the run with one line that says the device time it lost", async () => {
  const progress = () => {
    throw new Error("the digital side failed");
  };
  await assert.rejects(trainPat(resistor, regression, { deviceSeconds: 100 }, { seed: 1, progress, options: { sweepPoints: 50, twinEpochs: 2 } }), (error: unknown) => {
    assert.ok(error instanceof Error && !(error instanceof TrainConfigError));
    assert.match(error.message, /^pat failed after \d+\.\d device-s of measurement, which are lost: the digital side failed$/);
    return true;
  });
});

test("pat-hge's twin/HGE Jacobian cosine is the mean over the refreshes that measured a Jacobian: one the budget cut short counts in hgeEpochs, not in the mean (it halved the mean here)", async () => {
  const device = DopantNetwork.default();
  const task = gateTask("XOR", device.inputRangeV);
  // seed 1: update 10 ends at 12.984 device-s; its cases take 0.048 and a refresh 0.168 more,
  // so 13.0 s stops before that refresh and 13.1 s starts it and runs out
  const before = await PAT_HGE_METHOD.train(device, task, { deviceSeconds: 13.0 }, { seed: 1 });
  const cut = await PAT_HGE_METHOD.train(device, task, { deviceSeconds: 13.1 }, { seed: 1 });
  for (const run of [before, cut]) assert.deepEqual([run.stopped, run.iterations], ["budget", 10]);
  assert.equal(cut.counters.hgeEpochs, before.counters.hgeEpochs + 1);
  assert.ok(before.counters.twinJacobianCosine > 0.9, `${before.counters.twinJacobianCosine}`);
  assert.equal(cut.counters.twinJacobianCosine, before.counters.twinJacobianCosine);
});

test("a module fault (every lock-in window discarded: spikes saturating the readings) stops pat-hge with stopped = fault, long before its budget (it said the budget was spent and asked for a larger one)", async () => {
  const spiking = { noise: { spikes: { ratePerS: 200, amplitude: 1e6 } } };
  const run = await PAT_HGE_METHOD.train(resistor, regression, { deviceSeconds: 1000 }, { seed: 1, options: spiking });
  assert.equal(run.stopped, "fault");
  assert.ok(run.deviceSeconds < 100, `${run.deviceSeconds} device-s`);
});

test("pat-hge's device clock runs forward through its lock-in windows: the time the device is told never goes back and ends at the run's device time (plain readings were stamped without the HGE seconds: 0.660 s after 1.152 s, and a drifting device saw its drift late)", async () => {
  const dnpu = DopantNetwork.default();
  const told: number[] = [];
  const device = new (class extends DeviceView {
    output(voltages: Float64Array | Float32Array) {
      return dnpu.output(voltages);
    }
    setTime(seconds: number) {
      told.push(seconds);
    }
  })(dnpu, dnpu.name);
  const run = await PAT_HGE_METHOD.train(device, gateTask("XOR", dnpu.inputRangeV), { deviceSeconds: 300, maxIterations: 12 }, { seed: 1, options: { sweepPoints: 50, twinEpochs: 5, hgeEvery: 5 } });
  assert.ok(run.counters.hgeDeviceSeconds > 0.5, `${run.counters.hgeDeviceSeconds}`);
  const back = told.findIndex((t, i) => i > 0 && t < told[i - 1]);
  assert.equal(back, -1, `told ${told[back - 1]} s, then ${told[back]} s`);
  assert.ok(Math.abs(told.at(-1)! - run.deviceSeconds) < 1e-9, `last told ${told.at(-1)} s; the run spent ${run.deviceSeconds} s`);
});
