// A resumed run's measurement noise (host/train.ts: buildNoise's skipSamples, run.json's
// module.noiseSamples): a noisy run cut (as Ctrl-C cuts it) and resumed from its run.json counts
// as the unbroken run of the same seed does. Its noise was seeded afresh at the resume, so the
// resumed run heard the start's noise again: XNOR seed 4 cut at 19 iterations took 95 iterations
// and 16.4 device-s in all, where the unbroken run then solved in 99 and 17.0 (now 111 and 19.0).
// Not every cut: the resumed module starts its tones' phases afresh and the chain's low-pass at
// rest (readings about 1e-5 nA off), and where a decision is on its edge the run goes elsewhere
// (cuts at 35 and 57: 90 and 115 iterations; README "--resume").

import { test } from "node:test";
import assert from "node:assert/strict";
import { Controller } from "../host/controller.ts";
import { DopantNetwork } from "../host/devices/dopant.ts";
import { findMethod } from "../host/methods/index.ts";
import type { Progress, Result } from "../host/methods/method.ts";
import { buildTask } from "../host/tasks/index.ts";
import type { Task } from "../host/tasks/task.ts";
import { DEFAULTS, TrainingRun, budgetFor, continuationOf, type TrainOptions } from "../host/train.ts";

const device = DopantNetwork.default(); // (hge train's default device: built once)
const task = buildTask("xnor", device) as Task;
const SEED = 4;
const budget = { deviceSeconds: budgetFor(task) };
// hge train's defaults: the default chain and noise (NOISE_DEFAULTS), planned tones
const OPTIONS: Partial<TrainOptions> = { noise: {}, chain: {} };

/** The options `hge train --resume run.json` adds for `cut` (bin/cli.ts readResume and
 *  trainOptionsFrom), read back from its JSON as the run.json is. */
function resuming(cut: Result): Partial<TrainOptions> {
  const run = JSON.parse(JSON.stringify(cut));
  const { planOrder, patience, ...resumed } = continuationOf({ finalWeights: run.finalWeights, module: run.module, attempts: run.attempts, settings: run.settings, stall: run.stall }, true);
  return { ...OPTIONS, tones: { plan: { ...DEFAULTS.band, ...(planOrder ? { planOrder } : {}) } }, patience, ...resumed };
}

/** The module's run as hge train runs it (multitone), stopped by Ctrl-C (its abort signal) at
 *  the update of iteration `cutAt`. */
function train(options: Partial<TrainOptions>, cutAt = Infinity, maxIterations?: number): Promise<Result> {
  const abort = new AbortController();
  const progress = (p: Progress) => p.iteration >= cutAt && abort.abort();
  return findMethod("multitone")!.train(device, task, { ...budget, maxIterations }, { seed: SEED, options, signal: abort.signal, progress });
}

/** The same loop run sample by sample, Ctrl-C'd after `cutAt` samples (mid-epoch, between two
 *  updates, where hge's interrupt lands: its loop hears it every 256 samples). */
function trainSamples(options: Partial<TrainOptions>, cutAt = Infinity): Result {
  const run = new TrainingRun(new Controller(), { ...options, device, task, seed: SEED, maxDeviceSeconds: budget.deviceSeconds } as TrainOptions);
  for (let n = 1; run.step(); n++) if (n >= cutAt) run.interrupt();
  return run.finish(0);
}

const unbroken = await train(OPTIONS);

test("the unbroken noisy run (XNOR seed 4, hge train's defaults) solves in 111 iterations, 19.0 device-s", () => {
  assert.equal(unbroken.stopped, "solved");
  assert.deepEqual([unbroken.iterations, unbroken.deviceSeconds.toFixed(1)], [111, "19.0"]);
});

test("a noisy run Ctrl-C'd at an update (19 or 80) and resumed from its run.json counts as the unbroken run: the same iterations, device-seconds and final controls", async () => {
  for (const at of [19, 80]) {
  const cut = await train(OPTIONS, at);
  assert.deepEqual([cut.stopped, cut.iterations], ["interrupted", at]);
  // (stopped at the update: nothing measured after it, and the noise drawn up to it is the run's)
  assert.equal(cut.deviceSeconds, cut.history.deviceSeconds.at(-1));
  const resumed = await train(resuming(cut));
  assert.equal(resumed.stopped, "solved");
  assert.deepEqual(
    { iterations: cut.iterations + resumed.iterations, deviceSeconds: (cut.deviceSeconds + resumed.deviceSeconds).toFixed(6), finalWeights: resumed.finalWeights },
    { iterations: unbroken.iterations, deviceSeconds: unbroken.deviceSeconds.toFixed(6), finalWeights: unbroken.finalWeights },
  );
  // and it restarted where the unbroken run did, from the same starts
  assert.deepEqual(resumed.attempts.slice(1).map((a) => [cut.iterations + a.startIteration, a.initialV]), unbroken.attempts.filter((a) => a.startIteration > cut.iterations).map((a) => [a.startIteration, a.initialV]));
  // its noise went on from the sample after the cut run's last update (module.noiseSamples)
  assert.equal(cut.module!.noiseSamples, Math.round(cut.deviceSeconds * 5000));
  }
});

test("cut mid-epoch (as Ctrl-C lands) twice and resumed twice, a noisy run goes on as the unbroken one: the same iterations and final controls, and the device time of the two epochs begun again", () => {
  const whole = trainSamples(OPTIONS);
  assert.deepEqual([whole.iterations, whole.deviceSeconds, whole.finalWeights], [unbroken.iterations, unbroken.deviceSeconds, unbroken.finalWeights]);
  const first = trainSamples(OPTIONS, 10_000); // 9 iterations, into the 10th's epoch
  const second = trainSamples(resuming(first), 20_000); // and 24 more
  const last = trainSamples(resuming(second));
  assert.equal(last.stopped, "solved");
  // the epochs the cuts stopped in are measured again from their start: their device time, spent, counts twice
  const begunAgain = [first, second].reduce((sum, run) => sum + run.deviceSeconds - run.history.deviceSeconds.at(-1)!, 0);
  assert.ok(begunAgain > 0 && begunAgain < 2 * 0.2, `${begunAgain} s begun again`);
  assert.deepEqual(
    { iterations: first.iterations + second.iterations + last.iterations, deviceSeconds: (first.deviceSeconds + second.deviceSeconds + last.deviceSeconds).toFixed(6), finalWeights: last.finalWeights },
    { iterations: unbroken.iterations, deviceSeconds: (unbroken.deviceSeconds + begunAgain).toFixed(6), finalWeights: unbroken.finalWeights },
  );
  // the noise of each went on from the last update of the run before it: module.noiseSamples, adding up
  assert.equal(first.module!.noiseSamples, Math.round(first.history.deviceSeconds.at(-1)! * 5000));
  assert.equal(second.module!.noiseSamples, first.module!.noiseSamples! + Math.round(second.history.deviceSeconds.at(-1)! * 5000));
});

test("a run cut by --max-iterations, and resumed, restarts where the unbroken run did (no noise: XNOR seed 4 cut at each restart, at 50 and every 7th iteration)", async () => {
  // It counted its patience without its last iteration (the limit was checked first) and did not
  // restart at the limit, so its continuation restarted late or not at all: cut at 20 iterations it
  // took 28 in all, and cut at 50, 98, where the unbroken run took 97. (Without noise: with it, a
  // resumed run's fresh tone phases and chain at rest send some cuts elsewhere, top of this file.
  // Without it the chain at rest still leaves the first window's readings a trace off the
  // unbroken run's, e^-10 of a ramp step: a control may end an f32 step or two apart, 3e-8 V.)
  const QUIET: Partial<TrainOptions> = { noise: { whiteSigma: 0, pinkPsdAt1kHz: 0 }, chain: {} };
  const whole = await train(QUIET);
  const restarts = whole.attempts.slice(1).map((a) => a.startIteration);
  assert.ok(whole.stopped === "solved" && restarts.length >= 2, `restarts at ${restarts}`);
  for (const at of [...restarts, 50, ...Array.from({ length: 13 }, (_, k) => 7 * k + 7)].filter((at) => at < whole.iterations)) {
    const cut = await train(QUIET, Infinity, at);
    assert.deepEqual([cut.stopped, cut.iterations], ["iterations", at]);
    const resumed = await train({ ...resuming(cut), ...QUIET });
    assert.deepEqual([cut.iterations + resumed.iterations, (cut.deviceSeconds + resumed.deviceSeconds).toFixed(6)], [whole.iterations, whole.deviceSeconds.toFixed(6)], `cut at ${at}`);
    resumed.finalWeights.forEach((w, k) => assert.ok(Math.abs(w - whole.finalWeights[k]) <= 1e-7, `cut at ${at}: control ${k} ends at ${w} V, the unbroken run at ${whole.finalWeights[k]}`));
  }
});
