// The bench's reuse of work (host/bench): every reuse must give the number the run itself gives.
// A drifting run taken from the undrifted one that solved before the drift began, a twin fitted
// once for runs that measured the same sweep, a static device's output remembered per voltage
// vector.
import { test } from "node:test";
import assert from "node:assert/strict";
import { groupMethodJobs, runMethod, runMethodGroup, type MethodJob } from "../host/bench/methods.ts";
import { RecordingDevice } from "../host/bench/devices.ts";
import { ResistorNetwork } from "../host/devices/resistor.ts";
import { PAT_HGE_METHOD, PAT_METHOD } from "../host/methods/pat.ts";
import { workWallSeconds } from "../host/methods/method.ts";
import { regressionTask } from "../host/tasks/regression.ts";

const drift = { thermalFraction: 0.1, startSeconds: 20, endSeconds: 25 };
const xor = (method: string, seed: number, drifting = false): MethodJob => ({ kind: "method", task: "XOR", method, seed, capSeconds: 120, ...(drifting ? { drift } : {}) });

test("method jobs are grouped by task, seed and instance, undrifted runs first", () => {
  const groups = groupMethodJobs([xor("pat", 1, true), xor("pat", 1), xor("pat", 2), { ...xor("multitone", 1), task: "regression", fabricationSpread: 0.2 }]);
  assert.deepEqual(groups.map((g) => g.jobs.map((j) => `${j.task} ${j.method} ${j.seed}${j.drift ? " drift" : ""}`)), [
    ["XOR pat 1", "XOR pat 1 drift"],
    ["XOR pat 2"],
    ["regression multitone 1"],
  ]);
});

test("a drifting run whose undrifted run solved before the drift is that run, as if run", async () => {
  const { results } = await runMethodGroup({ kind: "methods", jobs: [xor("multitone", 2), xor("multitone", 2, true)] });
  assert.ok(results[0].solved && results[0].deviceSeconds <= drift.startSeconds);
  const run = await runMethod(xor("multitone", 2, true));
  for (const key of ["solved", "deviceSeconds", "criterion", "iterations", "restarts"] as const) assert.equal(results[1][key], run[key]);
  assert.deepEqual(results[1].job, run.job);
});

test("pat and pat-hge from one seed fit their twin once, and train as with a twin of their own", async () => {
  const device = new ResistorNetwork();
  const task = regressionTask({ inputRangeV: device.inputRangeV });
  const budget = { deviceSeconds: 1e9, maxIterations: 20 };
  const context = { seed: 5, options: { sweepPoints: 60, twinEpochs: 20 } };
  const first = await PAT_METHOD.train(device, task, budget, context);
  const hge = await PAT_HGE_METHOD.train(device, task, budget, context);
  const again = await PAT_METHOD.train(device, task, budget, context);
  assert.equal(first.counters.twinFitReused, 0);
  assert.equal(hge.counters.twinFitReused, 1);
  assert.equal(again.counters.twinFitReused, 1);
  assert.equal(again.counters.twinFitWallSeconds, first.counters.twinFitWallSeconds);
  assert.deepEqual(again.history, first.history);
  // the reused fit is still the reusing run's work (workWallSeconds: the bench's and compare's
  // wall seconds); the first run's fit is already inside its own wall time
  assert.ok(first.counters.twinFitWallSeconds > 0);
  assert.equal(workWallSeconds(0.5, again), 0.5 + first.counters.twinFitWallSeconds);
  assert.equal(workWallSeconds(0.5, hge), 0.5 + first.counters.twinFitWallSeconds);
  assert.equal(workWallSeconds(0.5, first), 0.5);
  // another seed measures another sweep: a fit of its own
  const other = await PAT_METHOD.train(device, task, budget, { ...context, seed: 6 });
  assert.equal(other.counters.twinFitReused, 0);
});

test("a recording device answers a repeated voltage vector from memory, with the device's number", () => {
  const network = new ResistorNetwork({ edgeCount: 8, seed: 1 });
  let solves = 0;
  const counting = Object.assign(Object.create(network), { output: (v: Float64Array) => (solves++, network.output(v)) });
  const recorder = new RecordingDevice(counting, 40);
  const vectors = Array.from({ length: 4 }, (_, k) => Float64Array.from({ length: network.electrodeCount }, (_, e) => 0.01 * k + 0.001 * e));
  for (let n = 0; n < 40; n++) assert.equal(recorder.output(vectors[n % 4]), network.output(vectors[n % 4]));
  assert.equal(solves, 4);
  assert.equal(recorder.recorded, 40);
});
