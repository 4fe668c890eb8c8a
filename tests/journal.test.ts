// Specification of host/methods/journal.ts: a data-set run interrupted and resumed from its
// journal ends where the unbroken run ends, to the bit, without driving the device for what it
// had measured; a run on another path replays what still matches and measures the rest.

import { test } from "node:test";
import assert from "node:assert/strict";
import { DopantNetwork } from "../host/devices/dopant.ts";
import { irisTask } from "../host/tasks/iris.ts";
import { findMethod } from "../host/methods/index.ts";
import { Journal, journalProblem, type JournalData } from "../host/methods/journal.ts";
import { trainMetered, type Progress, type Result } from "../host/methods/method.ts";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { BIN, hge, scratchDir } from "./fixtures.ts";

const task = irisTask();
const budget = { deviceSeconds: 2000 };
const dnpu = DopantNetwork.default(); // built once: a new instance reads 256 outputs for its scale
const RUN = { method: "phyll-hge", device: dnpu.name, task: task.name, seed: 2 }; // (the header: hge train checks it)
const journal = (replay?: JournalData) => new Journal(RUN, replay);

/** Calls of every dopant network's output() while `run` runs (phyll-hge's module windows call
 *  it once a sample, an instrument once a reading), less those that set a new instance's
 *  output scale (withInputCount). */
async function counted<T>(run: () => Promise<T>): Promise<{ value: T; outputs: number }> {
  const { output, withInputCount } = DopantNetwork.prototype;
  let outputs = 0;
  let building = 0;
  DopantNetwork.prototype.output = function (this: DopantNetwork, voltages) {
    if (!building) outputs++;
    return output.call(this, voltages);
  };
  DopantNetwork.prototype.withInputCount = function (this: DopantNetwork, ...args) {
    building++;
    try {
      return withInputCount.apply(this, args);
    } finally {
      building--;
    }
  };
  try {
    return { value: await run(), outputs };
  } finally {
    Object.assign(DopantNetwork.prototype, { output, withInputCount });
  }
}

/** The method's run of iris on the default DNPU, seed 2, recording into `journal`; aborted
 *  (Ctrl-C) once its device time passes `stopAfterSeconds`. */
function train(method: string, options: Record<string, unknown>, journal: Journal, stopAfterSeconds = Infinity): Promise<Result> {
  const abort = new AbortController();
  const progress = (p: Progress) => p.deviceSeconds > stopAfterSeconds && abort.abort();
  return trainMetered(findMethod(method)!, dnpu, task, budget, { seed: 2, options, journal, signal: abort.signal, progress }); // (metered, as hge runs it: a replayed reading is no reading)
}

const sameRun = (a: Result, b: Result) => {
  assert.deepEqual(b.history, a.history);
  assert.deepEqual(b.finalWeights, a.finalWeights);
  assert.deepEqual([b.deviceSeconds, b.criterion, b.iterations, b.stopped], [a.deviceSeconds, a.criterion, a.iterations, a.stopped]);
};

for (const [method, options, noise] of [
  ["phyll-hge", { configurations: 2, physicalEvery: 5, epochs: 20 }, ""],
  // a drift runs on in device time through the lock-in windows a resumed run replays, as through
  // those it measures (module.ts: HgeJacobian.measure)
  ["phyll-hge", { configurations: 2, physicalEvery: 5, epochs: 20, noise: { drift: { randomWalkPerSqrtS: 1, slopePerS: 0.01 } } }, " with drift"],
  ["pat", {}, ""],
] as const) {
  test(`${method} on iris${noise} interrupted halfway and resumed from its journal ends as the unbroken run does, driving the device only for what it had not measured`, async () => {
    const whole = journal();
    const unbroken = await counted(() => train(method, options, whole));
    const cut = journal();
    const interrupted = await counted(() => train(method, options, cut, unbroken.value.deviceSeconds / 2));
    assert.equal(interrupted.value.stopped, "interrupted");
    assert.ok(interrupted.value.deviceSeconds < unbroken.value.deviceSeconds * 0.75, `stopped at ${interrupted.value.deviceSeconds} of ${unbroken.value.deviceSeconds} device-s`);
    const replay = journal(JSON.parse(JSON.stringify(cut.data)) as JournalData); // as journal.json holds it
    const resumed = await counted(() => train(method, options, replay));
    sameRun(unbroken.value, resumed.value);
    assert.equal(replay.replayed, replay.offered);
    assert.equal(replay.left, true, "past the journal's end it measured the rest");
    assert.equal(replay.replayedSeconds.toFixed(6), interrupted.value.deviceSeconds.toFixed(6));
    assert.equal(resumed.outputs, unbroken.outputs - interrupted.outputs, "the device is driven for the rest alone");
    assert.deepEqual(replay.data, whole.data, "the resumed run's journal is the unbroken run's");
    // interrupted again while still replaying, a run keeps the whole journal: what it replayed
    // and what it had not reached yet
    const again = journal(whole.data);
    const early = await train(method, options, again, 1e-9);
    assert.equal(early.stopped, "interrupted");
    assert.ok(again.replayed < again.offered);
    assert.equal(again.left, false, "it ended on the recorded path");
    assert.deepEqual(again.kept(), whole.data);
  });
}

test("phyll-hge resumed with another physical learning rate replays its first sweep, calibration and first Jacobian, then measures: it ends as a fresh run with that rate", async () => {
  const options = { configurations: 2, physicalEvery: 5, epochs: 10 };
  const first = journal();
  await train("phyll-hge", options, first);
  const other = { ...options, physicalLearningRate: 0.02 };
  const replay = journal(first.data);
  const resumed = await counted(() => train("phyll-hge", other, replay));
  const fresh = await counted(() => train("phyll-hge", other, journal()));
  sameRun(fresh.value, resumed.value);
  // the first sweep (450 rows × 2 configurations through the instrument), then the calibration
  // and the training split's 2 × 20 batches of lock-in windows (16 rows each) before the first step
  assert.equal(replay.replayed, 450 * 2 + 1 + 2 * Math.ceil(306 / 16));
  assert.ok(replay.replayed < replay.offered);
  assert.equal(replay.left, true);
  assert.ok(resumed.outputs < fresh.outputs * 0.8, `${resumed.outputs} outputs resumed, ${fresh.outputs} fresh`);
});

test("hge train --resume of a data-set run says whether the run left the journal's path or ended before its end: a smaller --budget ends on the path, another setting leaves it", () => {
  const scratch = scratchDir("hge-journal-end-");
  const args = ["train", "--method", "pat", "--task", "iris", "--no-progress"];
  hge(...args, "--budget", "16", "--out", join(scratch, "first"));
  const shorter = hge(...args, "--budget", "14", "--resume", join(scratch, "first", "run.json"), "--out", join(scratch, "shorter"));
  // (it said "the run left the recorded path there and measured the rest", though it measured nothing)
  assert.match(shorter.stderr, /^hge: replayed (\d+) of the journal's (\d+) measurements \(\d+\.\d device-s, the device not driven\); the run ended before the rest \(its budget, its iteration limit, or solved\)$/m, shorter.stderr);
  // another setting leaves the path at its first measurement the journal did not record
  const other = hge(...args, "--budget", "16", "--set", "learningRate=0.2", "--resume", join(scratch, "first", "run.json"), "--out", join(scratch, "other"));
  assert.match(other.stderr, /^hge: replayed (\d+) of the journal's (\d+) measurements \(\d+\.\d device-s, the device not driven\); the run left the recorded path there and measured the rest$/m, other.stderr);
  // a larger budget replays it all, then measures on (as a killed run resumed does): nothing to add
  const longer = hge(...args, "--budget", "20", "--resume", join(scratch, "first", "run.json"), "--out", join(scratch, "longer"));
  assert.match(longer.stderr, /^hge: replayed (\d+) of the journal's \1 measurements \(\d+\.\d device-s, the device not driven\)$/m, longer.stderr);
});

test("hge train writes a data-set run's journal while it runs: killed outright after the first write, --resume journal.json replays it and ends as the unbroken run does", async () => {
  const scratch = scratchDir("hge-journal-");
  const out = join(scratch, "killed"), kept = join(out, "journal.json");
  // about 18 s of wall time here; the first write comes after JOURNAL_EVERY_SECONDS (10)
  const args = ["train", "--method", "phyll-hge", "--task", "iris", "--set", "configurations=2", "--set", "physicalEvery=5", "--max-iterations", "500", "--seed", "2", "--no-progress"];
  const child = spawn(process.execPath, [BIN, ...args, "--out", out], { stdio: "ignore" });
  const exited = once(child, "exit");
  while (!existsSync(kept) && child.exitCode === null) await sleep(50);
  child.kill("SIGKILL");
  await exited;
  assert.ok(existsSync(kept) && !existsSync(join(out, "run.json")), "killed after the journal's first write and before the run's end");
  const journalOf = JSON.parse(readFileSync(kept, "utf8")) as JournalData;
  const entries = journalOf.outputs.length + journalOf.hge.length;
  assert.ok(entries > 0);
  const resumed = hge(...args, "--out", out, "--resume", kept);
  assert.match(resumed.stderr, new RegExp(`^hge: replayed ${entries} of the journal's ${entries} measurements \\(\\d+\\.\\d device-s, the device not driven\\)\\n$`));
  const unbroken = hge(...args, "--out", join(scratch, "unbroken"));
  assert.equal(resumed.status, unbroken.status);
  const [a, b] = [out, join(scratch, "unbroken")].map((dir) => JSON.parse(readFileSync(join(dir, "run.json"), "utf8")));
  for (const key of ["history", "finalWeights", "deviceSeconds", "criterion", "stopped"]) assert.deepEqual(a[key], b[key], key);
});

test("a data-set run killed outright beside an earlier run's run.json is not replaced by the same command: refused, naming --resume journal.json (it started again, the killed run's measurements lost)", () => {
  const out = join(scratchDir("hge-journal-"), "killed-beside"), kept = join(out, "journal.json");
  const args = ["train", "--method", "phyll", "--task", "iris", "--set", "configurations=1", "--max-iterations", "1", "--no-progress", "--out", out];
  // a finished run's journal ended with its run.json: the same command replaces it
  for (let run = 0; run < 2; run++) assert.equal(hge(...args).status, 1);
  // a later run into it, killed outright after its journal's first write: that journal (written
  // while the run went on, not ended) beside the finished run's run.json
  const { ended: _, ...running } = JSON.parse(readFileSync(kept, "utf8")) as JournalData;
  writeFileSync(kept, JSON.stringify(running));
  const again = hge(...args);
  assert.equal(again.status, 2, again.stderr);
  assert.match(again.stderr, /^hge: \S+ holds a run that was interrupted: --resume \S+journal\.json goes on from it; to start again remove it or give another --out\n$/);
  assert.deepEqual(JSON.parse(readFileSync(kept, "utf8")), running);
});

test("a journal that is not what hge train writes is named, not replayed", () => {
  const good: JournalData = { format: "hge-journal/2", run: RUN, outputs: [1.5], outputChecks: [7], hge: [] };
  assert.equal(journalProblem(good), undefined);
  assert.match(journalProblem({ ...good, format: "hge-journal/1" })!, /format is "hge-journal\/1"/); // (readings: the chain could not be replayed)
  assert.match(journalProblem({ ...good, outputs: [null] })!, /outputs and their checks do not match/);
  assert.match(journalProblem({ ...good, outputChecks: [] })!, /outputs and their checks do not match/);
  const entry = { check: 1, seconds: 0.1, lag: { delaySamples: 2, cornerHz: 1000 }, planOrder: 3, outputs: [1, 2], jacobian: [[0.1], [0.2]] };
  assert.equal(journalProblem({ ...good, hge: [entry] }), undefined);
  assert.match(journalProblem({ ...good, hge: [entry, { ...entry, jacobian: [[0.1]] }] })!, /lock-in entry 2 is malformed/);
  assert.match(journalProblem({ ...good, hge: [{ ...entry, planOrder: 4 }] })!, /lock-in entry 1 is malformed/);
  assert.match(journalProblem({ ...good, run: { ...RUN, seed: "2" } })!, /does not name its run/);
  assert.match(journalProblem([])!, /format/);
});

test("a replay takes recorded lock-in batches in order while they match and fit the budget; the first that does not ends the replay for good, and is measured", () => {
  const entry = (check: number, seconds: number) => ({ check, seconds, lag: { delaySamples: 2, cornerHz: 1000 }, planOrder: 3, outputs: [check], jacobian: [[0.1]] });
  const recorded: JournalData = { format: "hge-journal/2", run: RUN, outputs: [], outputChecks: [], hge: [entry(7, 5), entry(8, 5), entry(9, 5)] };
  // a batch that took longer than the budget left (a resumed run given less time) is measured,
  // where the budget stops it, not replayed past the budget
  const short = journal(recorded);
  assert.equal(short.replayBatch(7, 4.9), undefined);
  assert.deepEqual([short.replayed, short.replayedSeconds], [0, 0]);
  assert.equal(short.replayBatch(8, 100), undefined, "off the path: never replayed again");
  // exactly within the budget: replayed and counted; a batch that asks for something else
  // leaves the path, and a later one matching the record does not rejoin it
  const diverged = journal(recorded);
  assert.deepEqual(diverged.replayBatch(7, 5), entry(7, 5));
  assert.deepEqual([diverged.replayed, diverged.replayedSeconds], [1, 5]);
  assert.equal(diverged.replayBatch(99, 100), undefined);
  assert.equal(diverged.replayBatch(8, 100), undefined);
  assert.deepEqual(diverged.kept().hge, [entry(7, 5)], "the rest of the record is no longer this run's future");
});
