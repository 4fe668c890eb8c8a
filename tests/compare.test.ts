// `hge compare`, run as a user runs it: every run is the one `hge train` gives for the same
// method and seed, methods are ranked by their median device-seconds to solve with unsolved runs
// counted as never, a method that cannot train the task is refused in one line, and Ctrl-C
// keeps the runs that finished.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { cpSync, existsSync, mkdirSync, readFileSync, renameSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { once } from "node:events";
import { setTimeout as sleep } from "node:timers/promises";
import { keptRuns, lateKeptRuns, summarise, type CompareRun, type CompareSetup } from "../host/compare.ts";
import { medianCriterionText } from "../host/report/format.ts";
import { medianInterval, INTERVAL_MIN_RUNS } from "../host/metrics.ts";
import { Rng } from "../host/noise.ts";
import { BIN, hge, scratchDir } from "./fixtures.ts";
import { DEFAULTS, TRANSPARENT_CHAIN, measurementOn, type TrainOptions } from "../host/train.ts";
import { ResistorNetwork } from "../host/devices/resistor.ts";
import { METHOD_NAMES } from "../host/methods/index.ts";
import type { JournalData } from "../host/methods/journal.ts";

const scratch = scratchDir("hge-compare-");

interface Record {
  runs: CompareRun[];
  summary: ReturnType<typeof summarise>;
  methods: string[];
}

test("hge compare: each run is the one hge train gives for that method and seed, and the methods are ranked by median device-seconds", () => {
  const out = join(scratch, "and");
  const { status, stdout, stderr } = hge("compare", "--task", "and", "--methods", "published,walsh,pat", "--seeds", "2", "--workers", "2", "--out", out, "--no-progress");
  assert.equal(status, 0, stderr);
  const record = JSON.parse(readFileSync(join(out, "compare.json"), "utf8")) as Record;
  assert.equal(record.runs.length, 6);
  for (const [method, seed] of [["published", 1], ["walsh", 2], ["pat", 1]] as const) {
    const trained = join(scratch, `${method}-${seed}`);
    const train = hge("train", "--task", "and", "--method", method, "--seed", String(seed), "--out", trained, "--no-progress");
    assert.ok(train.status === 0 || train.status === 1, train.stderr);
    const expected = JSON.parse(readFileSync(join(trained, "run.json"), "utf8"));
    const run = record.runs.find((r) => r.method === method && r.seed === seed)!;
    assert.deepEqual([run.solved, run.deviceSeconds, run.iterations, run.criterion], [expected.solved, expected.deviceSeconds, expected.iterations, expected.criterion], `${method} seed ${seed}`);
  }
  // the ranking: fastest median first, each median the middle of that method's solved times
  const medians = record.summary.map((row) => row.medianDeviceSeconds!);
  assert.deepEqual(medians, [...medians].sort((a, b) => a - b));
  for (const row of record.summary) {
    const times = record.runs.filter((r) => r.method === row.method).map((r) => r.deviceSeconds);
    assert.equal(row.solved, 2);
    assert.ok(Math.abs(row.medianDeviceSeconds! - (times[0] + times[1]) / 2) < 1e-9);
  }
  // the report: the ranking and the plot of every run
  const report = readFileSync(join(out, "report.html"), "utf8");
  assert.match(report, /<svg/);
  assert.ok(record.summary.every((row) => report.includes(`<td>${row.method}</td>`)), "a method missing from report.html");
  // the table lists the methods in the same order
  const order = record.summary.map((row) => stdout.indexOf(`\n${row.method} `));
  assert.ok(order.every((at, i) => at > 0 && (i === 0 || at > order[i - 1])), stdout);
});

test("hge compare takes hge train's noise flags: a noisier device's run is the one hge train gives with the same flags", () => {
  const noisy = ["--white-noise", "5", "--pink-noise", "0.5"];
  const out = join(scratch, "noisy");
  const compare = hge("compare", "--task", "xor", "--methods", "spsa", "--seeds", "1", ...noisy, "--out", out, "--no-progress");
  assert.equal(compare.status, 0, compare.stderr);
  const [run] = (JSON.parse(readFileSync(join(out, "compare.json"), "utf8")) as Record).runs;
  const trained = join(scratch, "noisy-train");
  const train = hge("train", "--task", "xor", "--method", "spsa", "--seed", "1", ...noisy, "--out", trained, "--no-progress");
  assert.ok(train.status === 0 || train.status === 1, train.stderr);
  const expected = JSON.parse(readFileSync(join(trained, "run.json"), "utf8"));
  const quiet = hge("train", "--task", "xor", "--method", "spsa", "--seed", "1", "--out", join(scratch, "quiet"), "--no-progress");
  assert.ok(quiet.status === 0 || quiet.status === 1, quiet.stderr);
  const quietRun = JSON.parse(readFileSync(join(scratch, "quiet", "run.json"), "utf8"));
  assert.deepEqual([run.solved, run.deviceSeconds, run.iterations, run.criterion], [expected.solved, expected.deviceSeconds, expected.iterations, expected.criterion]);
  assert.notEqual(run.criterion, quietRun.criterion); // the flags reached the device
});

test("the noise flags reach the peers' measurements too: pat's twin is fitted to the noisier sweep, phyll's features carry the noise", () => {
  const run = (method: string, task: string, flags: string[], name: string) => {
    const out = join(scratch, name);
    const { status, stderr } = hge("train", "--method", method, "--task", task, ...flags, "--out", out, "--no-progress");
    assert.ok(status === 0 || status === 1, stderr);
    return JSON.parse(readFileSync(join(out, "run.json"), "utf8"));
  };
  // pat: the twin's fit to its sweep (RMS error, nA) is worse through 5 nA of white noise than through none
  const [quietPat, noisyPat] = [["--no-noise"], ["--white-noise", "5"]].map((flags, i) => run("pat", "and", flags, `pat-noise-${i}`));
  assert.ok(noisyPat.counters.twinFitRmsError > quietPat.counters.twinFitRmsError + 0.1, `${quietPat.counters.twinFitRmsError} → ${noisyPat.counters.twinFitRmsError}`);
  // phyll: features measured through 500 nA of white noise (35 nA on a window's mean) no longer separate the classes
  const [quietPhyll, noisyPhyll] = [[], ["--white-noise", "500"]].map((flags, i) => run("phyll", "iris", flags, `phyll-noise-${i}`));
  assert.equal(quietPhyll.solved, true);
  assert.ok(noisyPhyll.criterion < 0.75, `accuracy ${noisyPhyll.criterion} through 500 nA of noise`);
});

test("hge compare --set gives a method's own setting to the compared methods that have it, as hge train --set does; a setting none has is refused; one that others read as a flag of hge train is said to reach only the first", () => {
  const out = join(scratch, "iris");
  const compare = hge("compare", "--task", "iris", "--methods", "phyll,pat", "--seeds", "1", "--set", "configurations=4", "--budget", "100", "--out", out, "--no-progress");
  assert.equal(compare.status, 0, compare.stderr);
  const run = (JSON.parse(readFileSync(join(out, "compare.json"), "utf8")) as Record).runs.find((r) => r.method === "phyll")!;
  const trained = join(scratch, "iris-train");
  const train = hge("train", "--task", "iris", "--method", "phyll", "--seed", "1", "--set", "configurations=4", "--budget", "100", "--out", trained, "--no-progress");
  assert.ok(train.status === 0 || train.status === 1, train.stderr);
  const expected = JSON.parse(readFileSync(join(trained, "run.json"), "utf8"));
  assert.deepEqual([run.deviceSeconds, run.iterations, run.criterion], [expected.deviceSeconds, expected.iterations, expected.criterion]);
  // and the setting reached phyll: its default 16 configurations run otherwise, within a data
  // set's default budget, and solve
  const plain = hge("compare", "--task", "iris", "--methods", "phyll", "--seeds", "1", "--out", join(scratch, "iris-plain"), "--no-progress");
  assert.equal(plain.status, 0, plain.stderr);
  const plainRecord = JSON.parse(readFileSync(join(scratch, "iris-plain", "compare.json"), "utf8"));
  assert.equal(plainRecord.setup.budget.deviceSeconds, DEFAULTS.datasetBudgetSeconds);
  const [defaultRun] = (plainRecord as Record).runs;
  assert.notDeepEqual([defaultRun.deviceSeconds, defaultRun.iterations], [run.deviceSeconds, run.iterations]);
  assert.ok(defaultRun.solved, `${defaultRun.deviceSeconds} device-s`);
  const unclaimed = hge("compare", "--task", "and", "--methods", "walsh,multitone", "--set", "configurations=4", "--no-progress");
  assert.equal(unclaimed.status, 2);
  assert.match(unclaimed.stderr, /^hge: --set configurations: no compared method has that setting/);
  // a name other compared methods read as one of hge train's flags reaches only the methods
  // that have it as a setting, and that is said (it went to pat alone without a word)
  const flagged = hge("compare", "--task", "and", "--methods", "walsh", "--set", "learningRate=0.1", "--no-progress");
  assert.equal(flagged.status, 2);
  assert.match(flagged.stderr, /^hge: --set learningRate: no compared method has that setting \(none of them has settings of its own\); walsh reads learningRate as hge train's --learning-rate, which hge compare leaves at each one's default\n$/);
  const partly = hge("compare", "--task", "and", "--methods", "walsh,multitone,pat", "--set", "windowSamples=100", "--seeds", "1", "--max-iterations", "1", "--out", join(scratch, "partly"), "--no-progress");
  assert.equal(partly.status, 0, partly.stderr);
  assert.match(partly.stderr, /^hge: warning: --set windowSamples goes to pat only; walsh, multitone read windowSamples as hge train's --window, which hge compare leaves at each one's default$/m);
});

test("a new comparison in a directory removes only the journals its own runs would write: another file in journals/ stays (the whole folder was removed)", () => {
  const out = join(scratch, "journals-kept");
  mkdirSync(join(out, "journals"), { recursive: true });
  writeFileSync(join(out, "journals", "mine.json"), "x");
  writeFileSync(join(out, "journals", "walsh-seed1.json"), "an earlier comparison's");
  const { status, stderr } = hge("compare", "--task", "and", "--methods", "walsh", "--seeds", "1", "--max-iterations", "3", "--out", out, "--no-progress");
  assert.ok(status === 0 || status === 1, stderr);
  assert.equal(readFileSync(join(out, "journals", "mine.json"), "utf8"), "x");
  assert.equal(existsSync(join(out, "journals", "walsh-seed1.json")), false);
});

test("summarise counts an unsolved run as never: a method whose median run did not solve ranks after every method whose median run did", () => {
  const run = (method: string, seed: number, solved: boolean, deviceSeconds: number): CompareRun =>
    ({ method, seed, solved, deviceSeconds, criterion: 0, criterionName: "margin" as const, iterations: 10, wallSeconds: 1 });
  const rows = summarise([
    run("slow", 1, true, 40), run("slow", 2, true, 50), run("slow", 3, true, 60),
    run("fast-but-fragile", 1, true, 1), run("fast-but-fragile", 2, false, 300), run("fast-but-fragile", 3, false, 300),
    run("fast", 1, true, 5), run("fast", 2, false, 300), run("fast", 3, true, 7),
  ]);
  assert.deepEqual(rows.map((r) => [r.method, r.solved, r.medianDeviceSeconds, r.totalDeviceSeconds, r.interval]), [
    ["fast", 2, 7, 312, null], // three runs: too few for a 90% interval
    ["slow", 3, 50, 150, null],
    ["fast-but-fragile", 1, null, 601, null],
  ]);
  const five = summarise([1, 2, 3, 4, 5].map((seed) => run("m", seed, seed !== 4, 10 * seed)));
  assert.deepEqual(five[0].interval, [10, null]); // the slowest of five runs did not solve
});

test("summarise with an even number of runs: the median is the mean of the middle two (4 seeds: 10, 20, 30, 40 s give 25 s), and an unsolved one of the middle two makes it null", () => {
  const run = (method: string, seed: number, solved: boolean, deviceSeconds: number, criterion = 0): CompareRun =>
    ({ method, seed, solved, deviceSeconds, criterion, criterionName: "margin" as const, iterations: 2 * seed, wallSeconds: seed });
  const rows = summarise([
    ...[10, 20, 30, 40].map((s, k) => run("even", k + 1, true, s, 0.01 * (k + 1))),
    ...[10, 20, 30, 40].map((s, k) => run("half", k + 1, k < 2, s)),
  ]);
  assert.deepEqual(rows.map((r) => [r.method, r.medianDeviceSeconds, r.medianIterations, r.medianWallSeconds]), [["even", 25, 5, 2.5], ["half", null, 5, 2.5]]);
  assert.ok(Math.abs(rows[0].medianCriterion - 0.025) < 1e-15);
});

test("summarise ranks the methods whose median run did not solve by how many runs they solved, most first", () => {
  const run = (method: string, seed: number, solved: boolean): CompareRun =>
    ({ method, seed, solved, deviceSeconds: solved ? 10 * seed : 300, criterion: 0, criterionName: "margin" as const, iterations: 10, wallSeconds: 1 });
  const rows = summarise([
    run("none", 1, false), run("none", 2, false), run("none", 3, false),
    run("one", 1, true), run("one", 2, false), run("one", 3, false),
  ]);
  assert.deepEqual(rows.map((r) => [r.method, r.solved, r.medianDeviceSeconds]), [["one", 1, null], ["none", 0, null]]);
});

test("summarise gives the same table whatever order the runs finished in: the median criterion is of the runs that measured one (said how many), and tied methods rank by the device time all runs took, then by name", () => {
  const run = (method: string, seed: number, deviceSeconds: number, criterion: number): CompareRun =>
    ({ method, seed, solved: deviceSeconds < 5, deviceSeconds, criterion, criterionName: "margin" as const, iterations: 1, wallSeconds: 1 });
  // a comparison seen in the field (--spikes 20, budget 1.1 s): two of five runs measured no margin
  const spiky = [run("multitone", 1, 1.1, NaN), run("multitone", 2, 1.1, 0.149), run("multitone", 3, 1.1, NaN), run("multitone", 4, 1.1, 0.472), run("multitone", 5, 1.1, 0.037)];
  // three methods tied on their median and solved count
  // (medians 2 s, 3/3 solved each; a took 7 s in all, b and c 6 s)
  const tied = [run("a", 1, 1, 0.3), run("a", 2, 2, 0.3), run("a", 3, 4, 0.3), run("c", 1, 2, 0.3), run("c", 2, 2, 0.3), run("c", 3, 2, 0.3), run("b", 1, 2, 0.3), run("b", 2, 2, 0.3), run("b", 3, 2, 0.3)];
  const orders = (list: CompareRun[]): CompareRun[][] => (list.length <= 1 ? [list] : list.flatMap((r, i) => orders([...list.slice(0, i), ...list.slice(i + 1)]).map((rest) => [r, ...rest])));
  for (const order of orders(spiky)) {
    const [row] = summarise(order);
    assert.equal(row.medianCriterion, 0.149);
    assert.equal(row.criterionRuns, 3);
    assert.equal(medianCriterionText(row, "margin", "nA"), "14.9 % (3 of 5 runs)");
  }
  for (let k = 0; k < 200; k++) {
    const rng = new Rng(k), order = tied.slice();
    for (let i = order.length - 1; i > 0; i--) {
      const j = Math.floor(rng.uniform() * (i + 1));
      [order[i], order[j]] = [order[j], order[i]];
    }
    assert.deepEqual(summarise(order).map((r) => r.method), ["b", "c", "a"]);
  }
  assert.equal(medianCriterionText(summarise(tied)[0], "margin", "nA"), "30.0 %");
  assert.ok(Number.isNaN(summarise([run("m", 1, 1.1, NaN)])[0].medianCriterion));
});

test("a resumed comparison takes its --set settings in any order: the same settings are the same setup", () => {
  const device = new ResistorNetwork();
  const setup = (set: Array<[string, number]>): CompareSetup => ({ device: "resistor", task: "and", budget: { deviceSeconds: 300 }, ...measurementOn(device, {}), set });
  const kept = { format: "hge-compare/1", setup: setup([["patience", 5], ["learningRate", 0.2]]), runs: [{ method: "pat", seed: 1, solved: true, criterion: 0.3, criterionName: "margin", iterations: 4, deviceSeconds: 12, wallSeconds: 3 }] };
  assert.equal(keptRuns("c.json", kept, setup([["learningRate", 0.2], ["patience", 5]]), [{ method: "pat", seed: 1 }], device, "margin").length, 1);
  assert.throws(() => keptRuns("c.json", kept, setup([["learningRate", 0.2], ["patience", 6]]), [{ method: "pat", seed: 1 }], device, "margin"), /its runs were made with set \[\["patience",5\],\["learningRate",0.2\]\], not \[\["learningRate",0.2\],\["patience",6\]\]; give --set as in/);
});

test("a resumed comparison keeps a run hge's module loop took up to half a sample past a budget that ended between samples (it rounded to the nearest sample until it stopped at the last whole one), and says so; a run further past is refused", () => {
  const device = new ResistorNetwork();
  const setup: CompareSetup = { device: "resistor", task: "and", budget: { deviceSeconds: 0.77771 }, ...measurementOn(device, {}), set: [] }; // 3888.55 samples at 5 kHz
  const kept = (deviceSeconds: number) => ({ format: "hge-compare/1", setup, methods: ["walsh"], seeds: [1], runs: [{ method: "walsh", seed: 1, solved: false, criterion: 0.1, criterionName: "margin", iterations: 4, deviceSeconds, wallSeconds: 1 }] });
  const resumed = (deviceSeconds: number) => keptRuns("c.json", kept(deviceSeconds), setup, [{ method: "walsh", seed: 1 }], device, "margin");
  assert.match(lateKeptRuns(resumed(0.7778), setup.budget)!, /^1 kept runs \(walsh seed 1\) went up to half a sample past the budget/); // 3889 samples
  assert.equal(lateKeptRuns(resumed(0.7776), setup.budget), undefined); // 3888
  assert.throws(() => resumed(0.7779), /not a comparison hge compare kept: run 1: walsh spent 0.7779 device-s, over its budget of 0.77771$/); // 3889.5
});

test("a resumed comparison compares the noise and the chain its runs took, not the flags that gave them: a comparison kept with the flags as given (the defaults left out) resumes; more noise, drift or --no-chain is another setup", () => {
  const device = new ResistorNetwork();
  const setup = (measurement: Pick<CompareSetup, "noise" | "chain">): CompareSetup => ({ device: "resistor", task: "and", budget: { deviceSeconds: 300 }, ...measurement, set: [] });
  const jobs = [{ method: "pat", seed: 1 }];
  const keptWith = (measurement: Pick<CompareSetup, "noise" | "chain">) => ({ format: "hge-compare/1", setup: setup(measurement), methods: ["pat"], seeds: [1], runs: [{ method: "pat", seed: 1, solved: true, criterion: 0.3, criterionName: "margin", iterations: 4, deviceSeconds: 12, wallSeconds: 3 }] });
  const asGiven = keptWith({ noise: {}, chain: {} });
  const resumed = (measurement: Pick<TrainOptions, "noise" | "chain">) => () => keptRuns("c.json", asGiven, setup(measurementOn(device, measurement)), jobs, device, "margin");
  assert.equal(resumed({})().length, 1);
  assert.equal(resumed({ noise: { whiteSigma: 1e-4 } })().length, 1); // the resistor network's default
  assert.equal(keptRuns("c.json", keptWith({ noise: { whiteSigma: 1e-4 }, chain: {} }), setup(measurementOn(device, {})), jobs, device, "margin").length, 1);
  // runs judged by another criterion than the task's are no runs of it (a hand-edited "bogus" headed the table, its RMS errors printed as %)
  assert.throws(() => keptRuns("c.json", keptWith({ noise: {}, chain: {} }), setup(measurementOn(device, {})), jobs, device, "RMS error"), /run 1 is judged by margin, the task by RMS error/);
  assert.throws(resumed({ noise: { whiteSigma: 2e-4 } }), /its runs were made with noise \{\}, not \{"whiteSigma":0.0002,"pinkPsdAt1kHz":1e-11\}; give the noise flags/);
  assert.throws(resumed({ noise: { drift: { randomWalkPerSqrtS: 0.01 } } }), /its runs were made with noise \{\}, not \{.*"drift":\{"randomWalkPerSqrtS":0.01\}\}/);
  assert.throws(resumed({ chain: TRANSPARENT_CHAIN }), /its runs were made with chain \{\}, not \{.*"dacBits":52,.*\}; give the chain flag/);
});

test("medianInterval: the order statistics whose binomial coverage of the median reaches the confidence", () => {
  const ranks = (n: number) => medianInterval(Array.from({ length: n }, (_, i) => n - i), 0.9); // values n..1, unsorted
  assert.equal(ranks(4), null); //         [min, max] of 4 covers 1 − 2/16 = 87.5%
  assert.equal(INTERVAL_MIN_RUNS, 5);
  assert.deepEqual(ranks(5), [1, 5]); //   93.75%
  assert.deepEqual(ranks(10), [2, 9]); //  1 − 2·11/1024 = 97.9%; [3, 8] would be 89.1%
  assert.deepEqual(ranks(20), [6, 15]); // 95.9%; [7, 14] would be 88.5%
  // coverage checked by simulation: the true median of an exponential is ln 2
  let covered = 0;
  const rng = new Rng(7);
  for (let trial = 0; trial < 4000; trial++) {
    const [low, high] = medianInterval(Array.from({ length: 10 }, () => -Math.log(1 - rng.uniform())), 0.9)!;
    if (low <= Math.LN2 && Math.LN2 <= high) covered++;
  }
  assert.ok(Math.abs(covered / 4000 - 0.979) < 0.01, `covered ${covered / 4000}`);
});

test("without --methods, hge compare runs every registered method that can train the task on the device, and says why each other cannot", () => {
  const out = join(scratch, "default-methods");
  const { status, stdout, stderr } = hge("compare", "--task", "iris", "--seeds", "1", "--out", out, "--no-progress");
  assert.equal(status, 0, stderr);
  const record = JSON.parse(readFileSync(join(out, "compare.json"), "utf8"));
  assert.deepEqual(record.methods, ["pat", "phyll", "phyll-hge"]); // the dnpu offers outputs only; iris is a data set
  assert.deepEqual([...record.methods, ...Object.keys(record.cannotTrain)].sort(), [...METHOD_NAMES].sort());
  assert.match(record.cannotTrain.coupled, /needs a device with clamp-outputs, edge-readouts/);
  assert.match(record.cannotTrain.multitone, /cannot train iris \(a labelled data set\)/);
  assert.match(stdout, /not run, the device or task lacks what they need \(hge methods\): multitone, published, .*coupled/);
  assert.match(readFileSync(join(out, "report.html"), "utf8"), /Not run: the device or the task lacks what they need/);
});

test("hge compare refuses in one line: a method that cannot train the task on the device (exit 3), an unknown method or no seeds (exit 2)", () => {
  const refused = hge("compare", "--task", "and", "--methods", "walsh,coupled", "--out", join(scratch, "refused"));
  assert.equal(refused.status, 3, refused.stderr);
  assert.equal(refused.stderr.trimEnd().split("\n").length, 1);
  assert.match(refused.stderr, /^hge: configuration refused: method coupled needs a device with .*methods that can train AND on it: multitone/);
  const unknown = hge("compare", "--methods", "walsh,nope");
  assert.equal(unknown.status, 2);
  assert.match(unknown.stderr, /^hge: .*'nope' is not a method\. Allowed choices are multitone, published, /);
  assert.equal(hge("compare", "--seeds", "0").status, 2);
  assert.ok(!existsSync(join(scratch, "refused", "compare.json")));
});

test("a method that refuses when its run sets up is left out of the ranking with what it said; if every method refuses, exit 3", () => {
  // phyll checks its settings when it starts (pat has no such setting and runs)
  const out = join(scratch, "set-up");
  const { status, stdout, stderr } = hge("compare", "--task", "iris", "--methods", "phyll,pat", "--set", "configurations=0", "--seeds", "1", "--out", out, "--no-progress");
  assert.equal(status, 0, stderr);
  assert.match(stdout, /not compared, refused at set-up: phyll \(phyll option configurations must be a whole number 1 \.\. 64 \(default 16\), not 0\)/);
  const record = JSON.parse(readFileSync(join(out, "compare.json"), "utf8")) as Record & { refused: { [method: string]: string } };
  assert.deepEqual(record.summary.map((row) => [row.method, row.runs]), [["pat", 1]]);
  assert.match(record.refused.phyll, /configurations must be a whole number/);
  const none = hge("compare", "--task", "iris", "--methods", "phyll", "--set", "configurations=0", "--seeds", "1", "--out", join(scratch, "none"), "--no-progress");
  assert.equal(none.status, 3);
  assert.match(none.stderr, /^hge: configuration refused: every method refused iris on dopant-network.*: phyll \(phyll option configurations must be/);
  assert.equal(none.stderr.trimEnd().split("\n").length, 1);
});

test("a preset that cannot drive the device's controls is known before anything runs: left out by default with why, refused when asked for", () => {
  const out = join(scratch, "published");
  const { status, stdout, stderr } = hge("compare", "--device", "resistor", "--task", "and", "--seeds", "1", "--methods", "published,walsh", "--out", out, "--no-progress");
  assert.equal(status, 3, stdout + stderr);
  assert.match(stderr, /^hge: configuration refused: method published: the published preset drives 5 controls; this device has 8 \(use --method multitone\) \(methods that can train AND on it: multitone, (?!.*published).*\)\n$/);
  assert.ok(!existsSync(join(out, "compare.json")));
  const defaults = hge("compare", "--device", "resistor", "--task", "and", "--seeds", "1", "--out", out, "--no-progress");
  assert.equal(defaults.status, 0, defaults.stderr);
  assert.match(JSON.parse(readFileSync(join(out, "compare.json"), "utf8")).cannotTrain.published, /drives 5 controls; this device has 8/);
});


test("hge compare's summary line and report say the iteration limit a run had beside its budget: a run it stopped counts as never solving", () => {
  const out = join(scratch, "iteration-limit");
  const limited = hge("compare", "--task", "and", "--methods", "walsh", "--seeds", "1", "--max-iterations", "2", "--out", out, "--no-progress");
  assert.match(limited.stdout, /^AND on dopant-network\(seed=21\), seeds 1–1, a budget of 300 device-s and 2 iterations a run; [\d.]+ s wall$/m, limited.stderr);
  assert.match(readFileSync(join(out, "report.html"), "utf8"), /with a budget of 300 device-s and 2 iterations a run; ranked by the median device time to solve, a run unsolved within it counted as never solving/);
  const plain = hge("compare", "--task", "and", "--methods", "walsh", "--seeds", "1", "--budget", "20", "--out", join(scratch, "budget-only"), "--no-progress");
  assert.match(plain.stdout, /, seeds 1–1, a budget of 20 device-s a run; /, plain.stderr);
});

test("Ctrl-C during hge compare counts the runs asked of the methods that did not refuse: a method refused at set-up has none to finish", async () => {
  const out = join(scratch, "interrupted-refused");
  const child = spawn(process.execPath, [BIN, "compare", "--task", "xor", "--methods", "pat-hge,pat", "--set", "hgeEvery=0", "--seeds", "3", "--workers", "1", "--out", out, "--no-progress"]);
  let stderr = "";
  child.stderr.on("data", (chunk) => (stderr += chunk));
  const file = join(out, "compare.json");
  const finished = () => (existsSync(file) ? (JSON.parse(readFileSync(file, "utf8")) as Record).runs.length : 0);
  const deadline = Date.now() + 120_000;
  while (finished() < 1 && Date.now() < deadline) await sleep(100);
  child.kill("SIGINT");
  assert.equal(await new Promise<number | null>((resolve) => child.on("close", resolve)), 130, stderr);
  const kept = JSON.parse(readFileSync(file, "utf8")) as Record & { refused: { [method: string]: string } };
  assert.match(kept.refused["pat-hge"], /hgeEvery must be a whole number ≥ 1/);
  // (it said "of 6": pat-hge's three runs too, which never run)
  assert.match(stderr, new RegExp(`hge: interrupted: ${kept.runs.length} of 3 runs finished`));
});

test("Ctrl-C during hge compare exits 130 and keeps every run that finished; --resume runs only the others, and the comparison is the unbroken one", async () => {
  const out = join(scratch, "interrupted");
  const flags = ["compare", "--task", "xor", "--methods", "pat", "--seeds", "4"];
  const child = spawn(process.execPath, [BIN, ...flags, "--workers", "1", "--out", out, "--no-progress"]);
  let stderr = "";
  child.stderr.on("data", (chunk) => (stderr += chunk));
  const file = join(out, "compare.json");
  const finished = () => (existsSync(file) ? (JSON.parse(readFileSync(file, "utf8")) as Record).runs.length : 0);
  const deadline = Date.now() + 120_000;
  while (finished() < 1 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
  assert.ok(finished() >= 1, "no run finished in 120 s");
  child.kill("SIGINT");
  const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
  assert.equal(code, 130, stderr);
  const kept = JSON.parse(readFileSync(file, "utf8")) as Record;
  assert.ok(kept.runs.length >= 1 && kept.runs.length < 4, `${kept.runs.length} runs kept`);
  assert.equal(kept.summary[0].runs, kept.runs.length);
  assert.match(stderr, new RegExp(`hge: interrupted: ${kept.runs.length} of 4 runs finished, kept in .*; --resume .*compare.json runs the rest`));

  // started again without --resume: refused, the kept runs untouched
  const again = hge(...flags, "--out", out, "--no-progress");
  assert.equal(again.status, 2, again.stderr);
  assert.equal(again.stderr, `hge: ${file} holds a comparison that did not finish (${kept.runs.length} runs kept, ${4 - kept.runs.length} left): --resume ${file} continues it; to start again remove it or give another --out\n`);
  assert.deepEqual(JSON.parse(readFileSync(file, "utf8")), kept);
  // resumed: the kept runs are taken as they are (their wall times too: not run again), the rest
  // run; by whatever path (an --out through a symbolic link to it was taken for another and refused)
  const link = join(scratch, "interrupted-link");
  symlinkSync(out, link);
  const resumed = hge(...flags, "--resume", file, "--out", link);
  assert.equal(resumed.status, 0, resumed.stderr);
  assert.match(resumed.stderr, new RegExp(`^${kept.runs.length} runs kept in .* are this comparison's; ${4 - kept.runs.length} to run`));
  const whole = JSON.parse(readFileSync(file, "utf8")) as Record;
  for (const run of kept.runs) assert.deepEqual(whole.runs.find((r) => r.seed === run.seed), run);
  const unbroken = join(scratch, "unbroken");
  assert.equal(hge(...flags, "--out", unbroken, "--no-progress").status, 0);
  const outcome = (record: Record) => record.runs.map(({ seed, solved, deviceSeconds, iterations, criterion }) => ({ seed, solved, deviceSeconds, iterations, criterion })).sort((a, b) => a.seed - b.seed);
  const expected = JSON.parse(readFileSync(join(unbroken, "compare.json"), "utf8")) as Record;
  assert.deepEqual(outcome(whole), outcome(expected));
  assert.deepEqual(whole.summary.map((row) => [row.runs, row.solved, row.medianDeviceSeconds]), expected.summary.map((row) => [row.runs, row.solved, row.medianDeviceSeconds]));
});

test("hge compare --resume adds seeds and methods to a kept comparison; another setup, a kept run left out or a file it did not write is refused in one line, the file untouched", () => {
  const out = join(scratch, "extended");
  const file = join(out, "compare.json");
  assert.equal(hge("compare", "--task", "and", "--methods", "walsh", "--seeds", "2", "--out", out, "--no-progress").status, 0);
  const before = readFileSync(file, "utf8");
  const refusals: Array<[string[], number, RegExp]> = [
    [["--methods", "walsh", "--seeds", "2", "--budget", "100"], 3, /its runs were made with budget \{"deviceSeconds":300\}, not \{"deviceSeconds":100\}; give --budget and --max-iterations as in `hge compare --task and --methods walsh --seeds 2 --out .*`/],
    [["--methods", "walsh", "--seeds", "2", "--white-noise", "3"], 3, /its runs were made with noise \{"whiteSigma":0.05,"pinkPsdAt1kHz":0.00001\}, not \{"whiteSigma":3,"pinkPsdAt1kHz":0.00001\}/],
    [["--methods", "walsh", "--seeds", "2", "--device-seed", "5"], 3, /its runs were made with deviceSeed none, not 5; give --device-seed as in/],
    // (it named --sample-rate, which hge compare does not take)
    [["--methods", "walsh", "--seeds", "2", "--no-chain"], 3, /its runs were made with chain \{"sampleRateHz":5000,"dacBits":16,.*\}, not \{"sampleRateHz":5000,"dacBits":52,.*\}; give the chain flag \(--no-chain\) as in/],
    [["--methods", "published", "--seeds", "2"], 3, /it keeps a run of walsh seed [12], which this comparison leaves out; give --methods and --seeds that include every kept run \(walsh, seeds 1–2\)/],
    [["--methods", "walsh", "--seeds", "1"], 3, /it keeps a run of walsh seed 2, which this comparison leaves out/],
  ];
  for (const [more, status, message] of refusals) {
    const refused = hge("compare", "--task", "and", ...more, "--resume", file, "--no-progress");
    assert.equal(refused.status, status, `${more.join(" ")}: ${refused.stderr}`);
    assert.equal(refused.stderr.trimEnd().split("\n").length, 1, refused.stderr);
    assert.match(refused.stderr, message);
    assert.equal(readFileSync(file, "utf8"), before);
  }
  const damaged = join(scratch, "damaged.json");
  for (const [content, message] of [[before.slice(0, 200), /is not JSON/], ['{"format":"hge-run/1"}', /not a comparison hge compare kept: format "hge-run\/1"/],
    [before.replace('"solved": true', '"solved": "yes"'), /not a comparison hge compare kept: run 1 is damaged/],
    ...[{ deviceSeconds: -5 }, { iterations: 2.5 }, { seed: 0 }, { replayedDeviceSeconds: 1e9 }, { criterionName: undefined }].map((wrong) =>
      [JSON.stringify({ ...JSON.parse(before), runs: [{ ...JSON.parse(before).runs[0], ...wrong }] }), /not a comparison hge compare kept: run 1 is damaged/] as const),
    [JSON.stringify({ ...JSON.parse(before), runs: [...JSON.parse(before).runs, JSON.parse(before).runs[0]] }), /not a comparison hge compare kept: run 3 repeats walsh seed [12]/],
    // (the table's header said "median undefined", or named the first run's criterion for all)
    [JSON.stringify({ ...JSON.parse(before), runs: [JSON.parse(before).runs[0], { ...JSON.parse(before).runs[1], criterionName: "accuracy" }] }), /not a comparison hge compare kept: run 2 is judged by accuracy, the task by margin/],
    // (every method stops at its budget, 300 device-s here: a run past it was ranked as if it had not)
    [JSON.stringify({ ...JSON.parse(before), runs: [JSON.parse(before).runs[0], { ...JSON.parse(before).runs[1], deviceSeconds: 300.5 }] }), /not a comparison hge compare kept: run 2: walsh spent 300.5 device-s, over its budget of 300$/m]] as const) {
    writeFileSync(damaged, content);
    const refused = hge("compare", "--task", "and", "--methods", "walsh", "--seeds", "2", "--resume", damaged, "--no-progress");
    assert.equal(refused.status, 2, refused.stderr);
    assert.match(refused.stderr, message);
  }
  // two more seeds and a method: the two kept runs stay as they were, six run
  const extended = hge("compare", "--task", "and", "--methods", "walsh,published", "--seeds", "4", "--resume", file);
  assert.equal(extended.status, 0, extended.stderr);
  assert.match(extended.stderr, /^2 runs kept in .* are this comparison's; 6 to run/);
  const record = JSON.parse(readFileSync(file, "utf8")) as Record;
  const kept = (JSON.parse(before) as Record).runs;
  assert.deepEqual(record.runs.slice(0, 2), kept);
  assert.deepEqual(record.runs.map((r) => `${r.method} ${r.seed}`).sort(), ["published 1", "published 2", "published 3", "published 4", "walsh 1", "walsh 2", "walsh 3", "walsh 4"]);
  assert.deepEqual(record.summary.map((row) => row.runs), [4, 4]);
  // a finished comparison is replaced by a new one
  const replaced = hge("compare", "--task", "and", "--methods", "walsh", "--seeds", "1", "--out", out, "--no-progress");
  assert.equal(replaced.status, 0, replaced.stderr);
  assert.deepEqual((JSON.parse(readFileSync(file, "utf8")) as Record).runs.map((r) => `${r.method} ${r.seed}`), ["walsh 1"]);
});

test("a resumed comparison is on the same device however it is named (the DNPU's default instance given by its seed, 21: it was refused), with the same noise however given (the defaults given: they were refused against none), and may not leave out the runs it asked for and has not (they were dropped without a word)", () => {
  const out = join(scratch, "asked");
  const file = join(out, "compare.json");
  assert.equal(hge("compare", "--task", "and", "--methods", "walsh", "--seeds", "2", "--out", out, "--no-progress").status, 0);
  // as an interrupted comparison of two methods over three seeds keeps it: two runs of six
  writeFileSync(file, JSON.stringify({ ...JSON.parse(readFileSync(file, "utf8")), methods: ["walsh", "random"], seeds: [1, 2, 3] }));
  for (const more of [["--methods", "walsh", "--seeds", "3"], ["--methods", "walsh,random", "--seeds", "2"]]) {
    const refused = hge("compare", "--task", "and", ...more, "--resume", file, "--no-progress");
    assert.equal(refused.status, 3, `${more.join(" ")}: ${refused.stderr}`);
    assert.match(refused.stderr, /^hge: configuration refused: --resume .*: it asked for walsh,random over seeds 1–3, and a resumed comparison may add --seeds and --methods, not leave any out/);
  }
  const resumed = hge("compare", "--task", "and", "--methods", "walsh,random", "--seeds", "3", "--device-seed", "21", "--white-noise", "0.05", "--pink-noise", "1e-5", "--resume", file);
  assert.equal(resumed.status, 0, resumed.stderr);
  assert.match(resumed.stderr, /^2 runs kept in .* are this comparison's; 4 to run/);
});

test("a comparison whose runs measured no criterion (the budget ran out before an update: NaN, null in compare.json) resumes like any other", () => {
  const out = join(scratch, "no-criterion");
  const args = ["compare", "--task", "and", "--budget", "0.1", "--methods", "walsh", "--out", out, "--no-progress"];
  assert.equal(hge(...args, "--seeds", "1").status, 0);
  assert.equal(JSON.parse(readFileSync(join(out, "compare.json"), "utf8")).runs[0].criterion, null);
  const resumed = hge(...args, "--seeds", "2", "--resume", join(out, "compare.json"));
  assert.equal(resumed.status, 0, resumed.stderr);
  const runs = JSON.parse(readFileSync(join(out, "compare.json"), "utf8")).runs as CompareRun[];
  assert.deepEqual(runs.map((r) => [r.seed, r.criterion]), [[1, null], [2, null]]);
});

test("SIGTERM (a scheduler's, as Ctrl-C) with several workers: every data-set run under way on a worker thread writes its journal before hge exits", async () => {
  const out = join(scratch, "journalled-workers");
  const child = spawn(process.execPath, [BIN, "compare", "--task", "iris", "--methods", "phyll-hge", "--set", "configurations=2", "--set", "physicalEvery=5", "--seeds", "2", "--workers", "2", "--out", out, "--no-progress"], { stdio: "ignore" });
  const exited = once(child, "exit");
  const journals = [1, 2].map((seed) => join(out, "journals", `phyll-hge-seed${seed}.json`));
  while (!existsSync(join(out, "compare.json")) && child.exitCode === null) await sleep(50);
  await sleep(4000); // (both workers started and training; the journals' first timed write is 10 s in)
  assert.ok(journals.every((j) => !existsSync(j)) && child.exitCode === null, "the runs are under way and no journal is written yet");
  child.kill("SIGTERM");
  assert.equal((await exited)[0], 130);
  // (what it measured by then: its plain sweep's readings, and on an unloaded machine the module's
  // windows too; under load 4 s may not reach them)
  for (const journal of journals) {
    const kept = JSON.parse(readFileSync(journal, "utf8")) as JournalData;
    assert.ok(kept.outputs.length + kept.hge.length > 0, `${journal} kept what its run measured`);
  }
});

test("a data-set run under way keeps its journal: a comparison interrupted in the middle of it resumes by replaying what it measured, and the run is the unbroken one", async () => {
  const out = join(scratch, "journalled");
  // about 20 s of wall time here; on one worker Ctrl-C writes the journal at once, 5 s in
  // (before its first write, JOURNAL_EVERY_SECONDS after the run started)
  const flags = ["compare", "--task", "iris", "--methods", "phyll-hge", "--set", "configurations=2", "--set", "physicalEvery=5", "--max-iterations", "500", "--seeds", "1", "--workers", "1"];
  const child = spawn(process.execPath, [BIN, ...flags, "--out", out, "--no-progress"], { stdio: "ignore" });
  const exited = once(child, "exit");
  const journal = join(out, "journals", "phyll-hge-seed1.json");
  while (!existsSync(join(out, "compare.json")) && child.exitCode === null) await sleep(50);
  await sleep(5000);
  assert.ok(!existsSync(journal) && child.exitCode === null, "the run is under way and its journal not yet written");
  child.kill("SIGINT");
  assert.equal((await exited)[0], 130);
  const kept = JSON.parse(readFileSync(join(out, "compare.json"), "utf8")) as Record;
  assert.equal(kept.runs.length, 0, "interrupted before its one run ended");
  const entries = (JSON.parse(readFileSync(journal, "utf8")) as JournalData).hge.length;
  assert.ok(entries > 0);
  // a journal damaged meanwhile is named (exit 2), not replayed
  const damaged = join(scratch, "journalled-damaged");
  cpSync(out, damaged, { recursive: true });
  writeFileSync(join(damaged, "journals", "phyll-hge-seed1.json"), readFileSync(journal, "utf8").slice(0, 1000));
  const refused = hge(...flags, "--resume", join(damaged, "compare.json"));
  assert.equal(refused.status, 2, refused.stderr);
  assert.match(refused.stderr, /^hge: --resume .*compare\.json: .*phyll-hge-seed1\.json is not JSON; remove it, and that run starts again from its beginning\n$/);
  // resumed from its own directory under another name (--out that directory): the journals
  // beside it are replayed (it removed them first, as another comparison's)
  const renamed = join(scratch, "journalled-renamed");
  cpSync(out, renamed, { recursive: true });
  renameSync(join(renamed, "compare.json"), join(renamed, "old.json"));
  const fromRenamed = hge(...flags, "--resume", join(renamed, "old.json"));
  assert.equal(fromRenamed.status, 0, fromRenamed.stderr);
  assert.match(fromRenamed.stderr, /phyll-hge seed 1: not solved after [\d.]+ device-s \([\d.]+ of them replayed from its journal\)/);
  const resumed = hge(...flags, "--resume", join(out, "compare.json"));
  assert.equal(resumed.status, 0, resumed.stderr);
  const [run] = (JSON.parse(readFileSync(join(out, "compare.json"), "utf8")) as Record).runs;
  assert.match(resumed.stderr, new RegExp(`phyll-hge seed 1: not solved after ${run.deviceSeconds.toFixed(1)} device-s \\(${run.replayedDeviceSeconds!.toFixed(1)} of them replayed from its journal\\)`));
  assert.ok(run.replayedDeviceSeconds! > 0 && run.replayedDeviceSeconds! < run.deviceSeconds, `${run.replayedDeviceSeconds} of ${run.deviceSeconds} device-s replayed`);
  assert.ok(!existsSync(journal), "a finished run's journal is removed: the run is in compare.json");
  const trained = join(scratch, "journalled-train");
  const train = hge("train", "--task", "iris", "--method", "phyll-hge", "--set", "configurations=2", "--set", "physicalEvery=5", "--max-iterations", "500", "--seed", "1", "--out", trained, "--no-progress");
  assert.ok(train.status === 0 || train.status === 1, train.stderr);
  const expected = JSON.parse(readFileSync(join(trained, "run.json"), "utf8"));
  assert.deepEqual([run.solved, run.deviceSeconds, run.iterations, run.criterion], [expected.solved, expected.deviceSeconds, expected.iterations, expected.criterion]);
});

test("a new comparison into an --out whose compare.json is not JSON (corrupt or truncated) is refused, the file untouched (it was replaced silently)", () => {
  const out = join(scratch, "corrupt");
  mkdirSync(out, { recursive: true });
  const file = join(out, "compare.json");
  const truncated = '{"format":"hge-compare/1","runs":[{"met';
  writeFileSync(file, truncated);
  const again = hge("compare", "--task", "and", "--methods", "walsh", "--seeds", "1", "--workers", "1", "--max-iterations", "2", "--out", out, "--no-progress");
  assert.equal(again.status, 2, again.stdout + again.stderr);
  assert.equal(again.stderr, `hge: ${file} is not JSON (corrupt or truncated), so nothing says whether its comparison finished; to start again remove it or give another --out\n`);
  assert.equal(readFileSync(file, "utf8"), truncated);
});
