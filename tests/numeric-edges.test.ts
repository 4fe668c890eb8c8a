// Numbers at the edges of what a double or a call can hold, as `hge train` and `hge device` meet
// them: a subnormal nudge (--set clampFraction=1e-315, injectionS=5e-324) overflowed coupled
// learning's and EP's estimate to ∞ and ended in "internal error: choleskyFactor" (exit 4);
// a device of 123,567 controls or more overflowed the stack in Math.max(...electrodes)
// (train.ts defaultChain: "Maximum call stack size exceeded", exit 4). Each is now refused with
// one line (or, for the device, described), never exit 4.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { MODULE_NAMES, assertOffers, hge, offeredFor, scratchDir } from "./fixtures.ts";
import { patSettings } from "../host/methods/pat-training.ts";
import { TrainConfigError } from "../host/errors.ts";

const dir = scratchDir("hge-numeric-");

/** One stderr line, starting "hge: ". */
function oneLine(stderr: string, context: string): string {
  const lines = stderr.split("\n").filter((line) => line.length);
  assert.equal(lines.length, 1, `${context}: one line on stderr, got: ${stderr}`);
  assert.match(lines[0], /^hge: /, context);
  return lines[0];
}

test("a subnormal nudge (coupled clampFraction=1e-315, ep injectionS=5e-324) is refused with one line naming the setting and its range, exit 3; the floors themselves train", () => {
  for (const [method, setting, range] of [["coupled", "clampFraction=1e-315", "[1e-12, 1]"], ["ep", "injectionS=5e-324", "[1e-15, 1] S"]] as const) {
    const { status, stdout, stderr } = hge("train", "--device", "resistor", "--task", "regression", "--method", method, "--set", setting, "--max-iterations", "2", "--no-progress", "--out", join(dir, method));
    const line = oneLine(stderr, `${method} --set ${setting}`);
    assert.equal(status, 3, stdout + stderr);
    const [name, value] = setting.split("=");
    assert.ok(line.startsWith(`hge: configuration refused: ${name} ${Number(value)} is not `), line);
    assert.ok(line.includes(range), `names the range ${range}: ${line}`);
    assert.match(line, /\(default [0-9.e-]+;/, line);
  }
  // the floors are taken and give a run (solved or not: exit 0 or 1)
  for (const [method, setting] of [["coupled", "clampFraction=1e-12"], ["ep", "injectionS=1e-15"]] as const) {
    const { status, stdout, stderr } = hge("train", "--device", "resistor", "--task", "regression", "--method", method, "--set", setting, "--max-iterations", "2", "--no-progress", "--out", join(dir, `${method}-floor`));
    assert.ok(status === 0 || status === 1, `${method} --set ${setting}: exit ${status}: ${stdout}${stderr}`);
  }
});

test("pat has no hgeEvery: --set hgeEvery is refused naming pat's settings (exit 2), not pat-hge's; pat-hge takes it from 1", () => {
  const { status, stdout, stderr } = hge("train", "--task", "xor", "--method", "pat", "--set", "hgeEvery=0.5", "--max-iterations", "1", "--no-progress", "--out", join(dir, "pat"));
  const line = oneLine(stderr, "pat --set hgeEvery=0.5");
  assert.equal(status, 2, stdout + stderr);
  assert.match(line, /^hge: --set hgeEvery: method pat has the settings windowSamples, .*sweepPoints, .*readoutLearningRate$/);
  assert.doesNotMatch(line, /pat-hge/);
  for (const value of [0, 0.5]) {
    assert.throws(() => patSettings({ hgeEvery: value }, "pat-hge"), (error: unknown) => {
      assert.ok(error instanceof TrainConfigError);
      assert.equal(error.message, `pat-hge: hgeEvery must be a whole number ≥ 1 (default 10), not ${value}`);
      return true;
    });
  }
  assert.equal(patSettings({ hgeEvery: 3 }, "pat-hge").hgeEvery, 3);
  assert.equal(patSettings({}, "pat-hge").hgeEvery, 10);
  assert.equal(patSettings({}).hgeEvery, 0, "pat never measures an HGE Jacobian");
});

/** A device file of `controls` controls whose output is the mean of its voltages (nA); with
 *  `stamps`, each output() call appends its wall time (ms) to that file, a line each. */
function wideDevice(controls: number, stamps?: string): string {
  const file = join(dir, `wide-${controls}.mjs`);
  writeFileSync(file, `import { appendFileSync } from "node:fs";
export function createDevice({ inputCount = 2 }) {
  return {
    name: "linear ${controls}",
    controlCount: ${controls},
    inputCount,
    electrodeCount: ${controls} + inputCount,
    controlRangeV: Array.from({ length: ${controls} }, () => [-1, 1]),
    inputRangeV: Array.from({ length: inputCount }, () => [-1, 1]),
    outputUnit: "nA",
    capabilities: [],
    output(v) {${stamps ? `
      appendFileSync(${JSON.stringify(stamps)}, Date.now() + "\\n");` : ""}
      let sum = 0;
      for (let i = 0; i < v.length; i++) sum += v[i];
      return sum / v.length;
    },
  };
}
`);
  return file;
}

// `hge device` spends about 5 s on 1000 random settings at this width; 123,567 controls was the
// fewest that overflowed here (Node 20), 125,000 leaves a margin for a deeper stack.
test("hge device describes a device of 125,000 controls (the stack overflowed from 123,567): exit 0, its default chain named", () => {
  const { status, stdout, stderr } = hge("device", wideDevice(125_000));
  assert.equal(status, 0, stdout + stderr);
  assert.match(stdout, /^linear 125000: 125000 controls, 2 data inputs, output in nA$/m);
  assert.match(stdout, /the chain reads -285 to 285/);
});

// The survey's drawing of a setting grows with the electrodes as output() does; until this
// version only output()'s time counted against the 5 s, and at 500,000 controls the survey ran
// all 1000 settings, 10 s and more here, while output() took 3 of them.
test("hge device's survey of random settings stops at 5 s of wall time, drawing included: at 500,000 controls its output() calls span at most 5.5 s", () => {
  const stamps = join(dir, "survey-stamps.txt");
  const { status, stdout, stderr } = hge("device", wideDevice(500_000, stamps));
  assert.equal(status, 0, stdout + stderr);
  const settings = Number(/outputs over (\d+) random settings/.exec(stdout)?.[1]);
  const times = readFileSync(stamps, "utf8").trim().split("\n").map(Number);
  // the survey's calls are `settings` consecutive ones among the file's (others check it and
  // read its midpoints): the shortest span of that many consecutive calls is at most theirs
  let shortest = Infinity;
  for (let first = 0; first + settings <= times.length; first++) shortest = Math.min(shortest, times[first + settings - 1] - times[first]);
  assert.ok(shortest <= 5500, `${settings} settings spanned ${shortest} ms at least`);
});

test("hge train on a device of 1,000,000 controls: pat (which overflowed the stack), multitone and phyll (whose run.json outgrew JSON.stringify after minutes) are refused with one line, exit 3, naming their limits", () => {
  const file = wideDevice(1_000_000);
  for (const [method, task, limit] of [["pat", "and", /^hge: configuration refused: method pat: its twin takes at most 4096 electrodes.* linear 1000000 has 1000002/],
    ["multitone", "and", /^hge: configuration refused: method multitone: .*drives at most 128 controls.* linear 1000000 has 1000000/],
    ["phyll", "iris", /^hge: configuration refused: phyll holds at most 1048576 configuration voltages .*: 16 × 1 × 1000002 electrodes of linear 1000000/]] as const) {
    const started = performance.now();
    const { status, stdout, stderr } = hge("train", "--task", task, "--method", method, "--device", file, "--max-iterations", "1", "--no-progress", "--out", join(dir, `wide-${method}`));
    const line = oneLine(stderr, method);
    assert.equal(status, 3, stdout + stderr);
    assert.match(line, limit, line);
    assert.ok(performance.now() - started < 30_000, `${method}: refused within 30 s`);
  }
});

test("maxOf, minOf and hypotOf give Math.max, Math.min and Math.hypot's numbers to the bit, and take 1,000,000 values", async () => {
  const { maxOf, minOf, hypotOf } = await import("../host/metrics.ts"); // (here: the file's other tests run without them)
  const specials = [0, -0, NaN, Infinity, -Infinity, 1e300, -1e-300, 5e-324, 1.7976931348623157e308];
  let state = 12345;
  const uniform = () => ((state = (state * 1103515245 + 12345) % 2147483648) / 2147483648);
  for (let trial = 0; trial < 5000; trial++) {
    const values = Array.from({ length: Math.floor(uniform() * 30) }, () =>
      uniform() < 0.05 ? specials[Math.floor(uniform() * specials.length)] : (uniform() - 0.5) * 10 ** Math.floor(uniform() * 40 - 20));
    assert.ok(Object.is(maxOf(values), Math.max(...values)), `max of ${values}`);
    assert.ok(Object.is(minOf(values), Math.min(...values)), `min of ${values}`);
    assert.ok(Object.is(hypotOf(values), Math.hypot(...values)), `hypot of ${values}`);
  }
  const many = Float64Array.from({ length: 1_000_000 }, (_, i) => Math.sin(i));
  assert.throws(() => Math.max(...many), RangeError, "a spread of 1,000,000 overflows the stack");
  assert.ok(maxOf(many) > 0.9999 && minOf(many) < -0.9999);
  assert.ok(Math.abs(hypotOf(many) - Math.sqrt(500_000)) < 1);
});

test("hge compare on a device no method can train: one line naming each method and why, exit 3", () => {
  const { status, stdout, stderr } = hge("compare", "--task", "and", "--device", wideDevice(5000), "--seeds", "1", "--no-progress", "--out", join(dir, "compare-none"));
  assert.equal(status, 3, stdout + stderr);
  const lines = stderr.trimEnd().split("\n");
  assert.equal(lines.length, 1, stderr);
  assert.match(lines[0], /^hge: configuration refused: no method can train AND on linear 5000: /);
  assert.match(lines[0], /multitone \(.*128 controls.*\)/);
  assert.match(lines[0], /pat \(.*4096 electrodes.*\)/);
});

test("a device of one control: pat-hge and phyll-hge, which fit the chain's lag from its tones, are refused before any device time (pat-hge was exit 4 after 12 device-s); multitone trains on the chain's lag at the defaults (it was refused until --calibration 0 was given), refuses --calibration 2 naming --calibration 0, takes --lag", () => {
  const file = wideDevice(1);
  for (const [method, task] of [["pat-hge", "and"], ["phyll-hge", "iris"]]) {
    const { status, stdout, stderr } = hge("train", "--task", task, "--method", method, "--device", file, "--no-progress", "--out", join(dir, `one-${method}`));
    assert.equal(status, 3, stdout + stderr);
    assert.match(oneLine(stderr, method), new RegExp(`^hge: configuration refused: method ${method}: it fits the chain's lag from the tones of two controls or more .*; linear 1 has one control \\(methods that can train ${method === "pat-hge" ? "AND" : "iris"} on it: .*\\)$`));
  }
  const trained = hge("train", "--task", "and", "--device", file, "--max-iterations", "3", "--no-progress", "--out", join(dir, "one-multitone"));
  assert.match(trained.stdout, /^AND on linear 1 by multitone: (solved|not solved) /m, trained.stderr);
  assert.match(trained.stdout, /^ {2}lag given \(not fitted\): 2\.00 samples, corner 1000 Hz;/m);
  const refused = hge("train", "--task", "and", "--device", file, "--calibration", "2", "--no-progress", "--out", join(dir, "one-multitone-2"));
  assert.equal(refused.status, 3, refused.stderr);
  assert.match(oneLine(refused.stderr, "multitone"), /^hge: configuration refused: one control's lag cannot be fitted .*: give --calibration 0, and --lag SAMPLES,HZ if the chain's lag is not the simulated chain's \(controller field CalibrationEpochs\)$/);
  const lag = hge("train", "--task", "and", "--device", file, "--lag", "2,1000", "--max-iterations", "3", "--no-progress", "--out", join(dir, "one-multitone-lag"));
  assert.match(lag.stdout, /^AND on linear 1 by multitone: (solved|not solved) /m, lag.stderr);
  const listed = hge("device", file);
  assertOffers(offeredFor(listed.stdout, "and"), { offers: ["multitone", "sequential", "spsa", "random", "walsh", "pat"], not: ["published", "pat-hge"] });
  // (pat feeds iris's 4 features to 4 data inputs: this device has 2 and cannot reassign them)
  assertOffers(offeredFor(listed.stdout, "iris"), { offers: ["phyll"], not: ["pat", "phyll-hge"] });
});

test("a device with an electrode's range beyond the module's ±1000 V: hge device offers only the methods that do not drive it through the module, and hge train refuses the module's methods before any device time, naming the electrode", () => {
  const file = join(dir, "wide-range.mjs");
  writeFileSync(file, readFileSync(wideDevice(5), "utf8").replace("controlRangeV: Array.from({ length: 5 }, () => [-1, 1]),", "controlRangeV: [[-1, 1], [-1, 1], [-2000, 1], [-1, 1], [-1, 1]],"));
  const listed = hge("device", file);
  assertOffers(offeredFor(listed.stdout, "and"), { offers: ["pat"], not: [...MODULE_NAMES, "pat-hge"] }); // (it listed multitone, published, sequential, spsa, random, walsh and pat-hge)
  const refused = hge("train", "--task", "and", "--device", file, "--no-progress", "--out", join(dir, "wide-range"));
  assert.equal(refused.status, 3, refused.stderr);
  const line = oneLine(refused.stderr, "multitone");
  assert.match(line, /^hge: configuration refused: method multitone: the controller module takes electrode ranges within ±1000 V; linear 5's electrode 3 spans \[-2000, 1\] V \(methods that can train AND on it: [^)]*\)$/);
  assertOffers(/methods that can train AND on it: ([^)]*)\)$/.exec(line)![1], { offers: ["pat"], not: [...MODULE_NAMES, "pat-hge"] });
});

test("the module's refusal of a configuration made after measuring began stays a refusal (exit 3) that names the device time lost, not an internal error", async () => {
  const { measuredWorkLost } = await import("../host/methods/method.ts");
  const { ControllerError } = await import("../host/controller.ts");
  const { TrainConfigError } = await import("../host/errors.ts");
  const refused = measuredWorkLost("pat-hge", 12, new ControllerError(31, "CalibrationEpochs", -1, "configuration refused: CalibrationEpochs = 2 …"));
  assert.ok(refused instanceof TrainConfigError && refused.option === "CalibrationEpochs", String(refused));
  assert.equal((refused as Error).message, "pat-hge, after 12.0 device-s of measurement, which are lost: CalibrationEpochs = 2 …"); // (the CLI says "configuration refused: " once, before it)
  assert.ok(!(measuredWorkLost("pat-hge", 12, new RangeError("heap")) instanceof TrainConfigError));
});
