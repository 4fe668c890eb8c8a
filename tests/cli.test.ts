// The `hge` command, run as a user runs it (node bin/hge.mjs): every class of bad input gets
// one readable line naming the problem and what is valid, with its own exit code, and never a
// stack trace; a good run writes the documented JSON and an HTML report with SVG plots.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { cpSync, existsSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import WebSocket from "ws";
import { BIN, MODULE_NAMES, assertOffers, hge, liveRun, offeredFor, scratchDir } from "./fixtures.ts";
import { METHOD_NAMES } from "../host/methods/index.ts";
import { DEFAULTS } from "../host/train.ts";
import { resumedTotals } from "../host/methods/method.ts";
import { MAX_WORKERS } from "../host/pool.ts";

const REPO = fileURLToPath(new URL("..", import.meta.url));
const scratch = scratchDir("hge-cli-");

/** A refusal: exactly one line on stderr, no stack trace, nothing on stdout. */
function refusal(args: string[], code: number, ...patterns: RegExp[]): string {
  const { status, stdout, stderr } = hge(...args, "--out", join(scratch, "refused"));
  const lines = stderr.trimEnd().split("\n");
  assert.equal(status, code, `exit ${status}, stderr: ${stderr}`);
  assert.equal(lines.length, 1, `more than one line: ${stderr}`);
  assert.match(lines[0], /^hge: /);
  assert.doesNotMatch(stderr, /\n\s+at |Error:/);
  assert.equal(stdout, "");
  for (const pattern of patterns) assert.match(lines[0], pattern);
  return lines[0];
}

const USAGE = 2;
const REFUSED = 3;

test("an unknown device exits 2 and lists the devices", () => {
  refusal(["train", "--device", "graphene"], USAGE, /'graphene'/, /dnpu, resistor, analytic, or a device file of your own \(\.ts, \.mts, \.js, \.mjs\) that exports createDevice/);
});

test("an unknown task exits 2 and lists the tasks", () => {
  refusal(["train", "--task", "nandor"], USAGE, /'nandor'/, /and, or, nand, nor, xor, xnor, sphere, regression, iris/);
});

test("an unknown command or option exits 2, naming the commands or where the options are listed", () => {
  refusal(["fly"], USAGE, /unknown command 'fly'/, /commands of hge: train, .*demo/);
  refusal(["help", "fly"], USAGE, /^hge: unknown command 'fly' \(the commands of hge: train, .*demo\)$/);
  refusal(["board", "help", "fly"], USAGE, /^hge: unknown command 'fly' \(the commands of hge board: list, .*\)$/);
  refusal(["train", "--speed", "9"], USAGE, /unknown option '--speed' \(Did you mean --seed\?\)/);
  refusal(["train", "--velocity", "9"], USAGE, /unknown option '--velocity'/, /hge train --help lists its options/);
});

test("a malformed, negative, too large or too small number exits 2 naming the option and the range it takes", () => {
  for (const seed of ["-1", "4294967296"]) refusal(["train", "--seed", seed], USAGE, /--seed/, /expected a whole number from 0 to 4294967295\.$/);
  // 1e-320 is > 0 but below the field's bound (an f32 1e-30): the range said is the one applied
  for (const rate of ["fast", "1e-320", "1e31"]) refusal(["train", "--learning-rate", rate], USAGE, /--learning-rate/, /expected a number 1e-30 \.\. 1e30 V\.$/);
  // 0.99999999 is below 1 but 1 as an f32: the range said is the f32 one applied (it said "0 .. < 1")
  refusal(["train", "--beta2", "0.99999999"], USAGE, /--beta2/, /expected a number 0 \.\. 0\.99999994, the largest f32 below 1\.$/);
  // a billion seeds ran the host out of memory (a V8 abort, exit 134) before any run
  refusal(["compare", "--seeds", "1e9"], USAGE, /--seeds/, /expected a whole number from 1 to 10000\.$/);
  refusal(["compare", "--methods", "walsh,spsa,walsh"], USAGE, /--methods/, /'walsh' is named twice; name each method once\.$/);
});
  // Number() alone took hexadecimal, binary, octal and padded numbers (a budget of "0x10" trained 16 s)
  for (const budget of ["0x10", "0b1", "0o7", " 5", "5 ", ""]) refusal(["train", "--budget", budget], USAGE, /--budget/, /expected a number > 0\.$/);
  refusal(["train", "--seed", "0x2"], USAGE, /--seed/, /expected a whole number from 0 to 4294967295\.$/);
  refusal(["train", "--window", "0x100"], USAGE, /--window/, /expected a whole number 8 \.\. 2\^20 samples/);
  refusal(["train", "--tones", "0x19,45,65,95,115"], USAGE, /--tones/, /positive numbers separated by commas/);
  refusal(["train", "--hold", "0x2"], USAGE, /--hold/, /expected control numbers from 1/);
  refusal(["train", "--initial-v", "0x0,0,0,0,0"], USAGE, /--initial-v/, /one voltage per control/);
  refusal(["train", "--lag", "2,0x3e8"], USAGE, /--lag/, /expected the lag as delay,corner/);
  refusal(["train", "--method", "pat", "--set", "windowSamples=0x10"], USAGE, /--set/, /expected name=value with a number/);

test("a number the controller refuses exits 3 naming the option and its valid range", () => {
  // Half of the DNPU's control range [−1.2, 0.6] V is 900 mV.
  refusal(["train", "--amplitude-mv", "2000"], REFUSED, /--amplitude-mv/, /≤ 900 mV/, /AmplitudeV/);
});

test("a field's flag outside the table's bounds exits 2 quoting them (host/config-fields.ts)", () => {
  refusal(["train", "--window", "4"], USAGE, /--window/, /expected a whole number 8 \.\. 2\^20 samples/);
  refusal(["train", "--beta2", "1"], USAGE, /--beta2/, /0 \.\. 0\.99999994, the largest f32 below 1/);
});

test("an impossible tone plan exits 3 and says which window would plan", () => {
  // Five planned tones need bins 17..33 (the default guard, 0): below 100 Hz that takes 1650 samples at 5 kHz.
  refusal(["train", "--band", "20,100", "--window", "500"], REFUSED, /no tone plan fits/, /at least 1650 samples/, /or --plan-order 2 on a device whose third-order distortion is below the noise\)$/);
  // order 2 needs bins 5..9 (450 samples), and a run that calibrates one bin more for the probe's (500)
  // (--guard 0 is offered where the guard is not 0 already: the default is 0)
  refusal(["train", "--band", "20,100", "--window", "100", "--plan-order", "2"], REFUSED, /at least 500 samples would plan \(--window, or a wider --band\)$/);
  refusal(["train", "--band", "20,100", "--window", "100", "--plan-order", "2", "--guard", "1"], REFUSED, /samples would plan \(--window, or a wider --band, or --guard 0\)$/);
});

test("below 2 kHz the default band ends at half the sample rate (it was refused, blaming a --band not given); a --band given is kept as given", () => {
  const out = join(scratch, "rate-1000");
  const r = hge("train", "--task", "and", "--sample-rate", "1000", "--max-iterations", "1", "--out", out, "--no-progress");
  assert.equal(r.status, 1, r.stdout + r.stderr); // (not solved in one iteration: trained, not refused)
  assert.deepEqual(JSON.parse(readFileSync(join(out, "run.json"), "utf8")).module.controller.tones.plan, { bandLowHz: 20, bandHighHz: 500 });
  refusal(["train", "--task", "and", "--sample-rate", "1000", "--band", "20,1000"], REFUSED, /--band's high edge must be above the low edge and at most half the sample rate \(500 Hz\)/);
});

test("--patience with --initial-v restarts as asked (it was ignored: one start, patience 0); --initial-v alone keeps its one start", () => {
  const attempts = (name: string, ...args: string[]) => {
    const out = join(scratch, name);
    hge("train", "--task", "regression", "--seed", "3", "--initial-v", "middle", "--max-iterations", "40", "--out", out, "--no-progress", ...args);
    const run = JSON.parse(readFileSync(join(out, "run.json"), "utf8"));
    return { starts: run.attempts.length, patience: run.settings.patience };
  };
  const asked = attempts("middle-patience", "--patience", "5");
  assert.equal(asked.patience, 5);
  assert.ok(asked.starts > 1, `${asked.starts} starts`);
  assert.deepEqual(attempts("middle-alone"), { starts: 1, patience: 0 });
});

test("another instance of a device (--device-seed, --fabrication-spread) gets a default report directory of its own: it replaced the default instance's run", () => {
  const cwd = scratchDir("hge-instances-");
  const args = ["train", "--device", "resistor", "--task", "and", "--max-iterations", "1", "--no-progress"];
  for (const extra of [[], ["--device-seed", "4"], ["--fabrication-spread", "0.05"]]) spawnSync(process.execPath, [BIN, ...args, ...extra], { cwd, encoding: "utf8" });
  assert.deepEqual(readdirSync(join(cwd, "reports")).sort(), ["resistor-and-multitone-seed1", "resistor-device4-and-multitone-seed1", "resistor-spread0.05-and-multitone-seed1"]);
});

test("hge demo on another device, instance or seed gets a default report directory of its own: every demo replaced the last one's (reports/demo)", () => {
  const cwd = scratchDir("hge-demos-");
  const args = ["demo", "--device", "resistor", "--max-iterations", "1", "--workers", "1", "--no-progress"];
  for (const extra of [[], ["--device-seed", "4"], ["--seed", "2"]]) spawnSync(process.execPath, [BIN, ...args, ...extra], { cwd, encoding: "utf8" });
  const made = readdirSync(join(cwd, "reports")).sort();
  assert.deepEqual(made, ["demo-resistor-device4-seed1", "demo-resistor-seed1", "demo-resistor-seed2"]);
  for (const dir of made) assert.ok(existsSync(join(cwd, "reports", dir, "index.html")), `${dir} has no index.html`);
});

test("explicit tones off the window's bins exit 3 and name a window that fits", () => {
  refusal(["train", "--tones", "25,45,65,95,115", "--window", "500"], REFUSED, /tone 25 Hz/, /multiple of 1000 samples/);
});

test("a method that cannot train the task or lacks a device capability exits 3 and names what is missing", () => {
  refusal(["train", "--method", "multitone", "--task", "iris"], REFUSED, /cannot train iris/, /methods that can train iris on it: .*pat/);
  refusal(["train", "--method", "published", "--task", "sphere"], REFUSED, /published preset drives 5 controls; this device has 4/);
  refusal(["train", "--tones", "25,45"], USAGE, /5 controls/);
  refusal(["train", "--method", "coupled", "--device", "dnpu", "--task", "regression"], REFUSED, /method coupled needs a device with clamp-outputs, edge-readouts/, /methods that can train regression\S* on it: multitone/);
  refusal(["train", "--method", "ep", "--device", "resistor", "--task", "and"], REFUSED, /trains with the mse loss; AND uses corrsig/);
});

test("a flag the method would not read is refused in one line naming the methods that read it, not ignored; so is a --hold that names a control twice or holds every control", () => {
  // (a list a method added to the registry may extend ends "[,)]")
  const module = /the methods that do: multitone, published, sequential, spsa, random, walsh[,)]/m;
  refusal(["train", "--method", "pat", "--tones", "25,45,65,95,115"], USAGE, /^hge: --tones: method pat does not use it \(the methods that do: multitone\)$/);
  // the module's estimators too: codes have no tones and fit no lag, the published preset keeps its own window
  refusal(["train", "--method", "walsh", "--calibration", "2"], USAGE, /^hge: --calibration: method walsh does not use it \(the methods that do: multitone\)$/);
  refusal(["train", "--method", "published", "--window", "500"], USAGE, /^hge: --window: method published does not use it/);
  refusal(["train", "--method", "multitone", "--chip-samples", "5"], USAGE, /the methods that do: sequential, spsa, random, walsh\)$/);
  // nor a flag the task would not read: a margin solves only the gates and the sphere
  refusal(["train", "--method", "pat", "--task", "iris", "--margin", "0.3"], USAGE, /^hge: --margin: iris is not solved by a margin between classes but by its held-out accuracy/);
  refusal(["train", "--device", "resistor", "--task", "regression", "--margin", "0.3"], USAGE, /--margin: regression-2to1 is not solved by a margin between classes but by its RMS error/);
  refusal(["train", "--method", "pat", "--loss", "mse"], USAGE, /--loss: method pat does not use it/, module);
  refusal(["train", "--method", "coupled", "--device", "resistor", "--task", "regression", "--hold", "1"], USAGE, /--hold: method coupled does not use it/, module);
  refusal(["train", "--method", "phyll", "--task", "iris", "--optimiser", "sgd"], USAGE, /--optimiser: method phyll does not use it \(the methods that do: .*pat, pat-hge, phyll-hge[,)]/m);
  refusal(["train", "--method", "analytic", "--device", "resistor", "--task", "regression", "--patience", "5"], USAGE, /--patience: method analytic does not use it \(the methods that do: .*, pat, pat-hge[,)]/m);
  // --hold naming a control twice, or every control (which spent the whole budget training nothing)
  refusal(["train", "--task", "and", "--hold", "1,1"], USAGE, /--hold.*control 1 is named twice/);
  refusal(["train", "--task", "and", "--hold", "1,2,3,4,5"], USAGE, /^hge: --hold 1,2,3,4,5 holds every control of .*: nothing would train; leave at least one free$/);
});

test("a flag another flag leaves unread is refused in one line saying why, not ignored", () => {
  refusal(["train", "--no-noise", "--white-noise", "5"], USAGE, /^hge: --white-noise: --no-noise turns every noise off/);
  refusal(["compare", "--no-noise", "--drift", "3"], USAGE, /^hge: --drift: --no-noise turns every noise off/);
  refusal(["train", "--spike-size", "5"], USAGE, /^hge: --spike-size: applies with --spikes/);
  refusal(["train", "--spikes", "0", "--spike-size", "5"], USAGE, /^hge: --spike-size: applies with --spikes \(events per second, above 0\)/); // (no spikes: it was ignored)
  refusal(["train", "--optimiser", "sgd", "--beta1", "0.5"], USAGE, /^hge: --beta1: .*--optimiser sgd has no momentum/);
  refusal(["train", "--optimiser", "momentum", "--epsilon", "1e-6"], USAGE, /^hge: --epsilon: Adam's denominator floor; --optimiser momentum has none/);
  refusal(["train", "--device", "resistor", "--task", "regression", "--margin-scale", "10"], USAGE, /^hge: --margin-scale: corrsig's scale; the loss here is mse/);
  refusal(["train", "--stream-tau", "100"], USAGE, /^hge: --stream-tau: applies with --gradient streaming/);
  refusal(["train", "--tones", "25,45,65,95,115", "--guard", "1"], USAGE, /^hge: --guard: plans tones; --tones gives them/);
  refusal(["train", "--initial-v", "middle", "--resume", join(REPO, "package.json")], USAGE, /^hge: --initial-v: --resume gives the starting controls/);
  refusal(["train", "--method", "analytic", "--device", "resistor", "--task", "regression", "--update-fraction", "0.5", "--set", "updateFraction=0.7"], USAGE, /^hge: --update-fraction: the same as --set updateFraction/);
  // (it named "--set updateFraction", a flag not given)
  refusal(["train", "--method", "coupled", "--device", "resistor", "--task", "regression", "--update-fraction", "0.5"], USAGE, /^hge: --update-fraction: method coupled has the settings clampFraction \(methods that have it: analytic\)$/);
  refusal(["train", "--method", "pat", "--window", "40", "--set", "windowSamples=60"], USAGE, /^hge: --set windowSamples: the same as --window; give one/);
  refusal(["train", "--method", "pat", "--set", "windowSamples=60", "--set", "windowSamples=50"], USAGE, /windowSamples is set twice/);
  refusal(["train", "--seed", "1", "--seed", "2"], USAGE, /^hge: --seed is given twice; give it once$/);
  refusal(["train", "--resume", ""], USAGE, /--resume/, /no such file/);
  // what reading would never finish: a device, a pipe
  refusal(["train", "--resume", "/dev/zero"], USAGE, /--resume/, /not a regular file/);
  refusal(["compare", "--resume", "/dev/zero"], USAGE, /--resume/, /not a regular file/);
  refusal(["train", "--lag", ","], USAGE, /--lag/, /expected the lag as delay,corner/);
  for (const spread of ["1e300", "-0.1", "NaN"]) refusal(["train", "--device", "resistor", "--fabrication-spread", spread], USAGE, /--fabrication-spread/, /expected a fraction from 0 to 1\.$/);
  const { status, stderr } = hge("train", "--out", "");
  assert.equal(status, USAGE, stderr);
  assert.match(stderr, /--out .* expected a directory, not an empty string/);
});

test("--pink-noise at a double's edge (1e308) is noise, not silently none: every window saturates and the warning names what reads the outputs, the chain or --no-chain's limit", () => {
  for (const [flags, reads] of [[[], /the chain reads ±285 nA: a device's outputs, noise included, go within it/], [["--no-chain"], /with --no-chain the readings, noise included, must be finite and within ±1000000000 nA$/m]] as const) {
    const { status, stdout, stderr } = hge("train", "--task", "xor", "--pink-noise", "1e308", ...flags, "--budget", "1", "--no-progress", "--out", join(scratch, "pink"));
    assert.equal(status, 1, stderr);
    assert.match(stdout, /warning: every window was discarded \(24\): the readings saturated or were not finite; nothing was learned/);
    assert.match(stdout, reads);
  }
});

test("spsa's refusal of a learning rate it would scale past the field's bound says the bound it has, (1 + A)^0.602 below the field's (it quoted the field's, 1e30, for 1e30); a rate under it is taken", () => {
  refusal(["train", "--task", "xor", "--method", "spsa", "--learning-rate", "1e30"], REFUSED, /^hge: configuration refused: --learning-rate must be at most 2\.36e\+29 V for spsa, which multiplies it by \(1 \+ A\)\^0\.602 = 4\.236 \(A: --spsa-stability\) \(controller field LearningRate\)$/);
  // (A = 0 scales by 1: the field's own bound)
  for (const taken of [["--learning-rate", "2.3e29"], ["--spsa-stability", "0", "--learning-rate", "1e30"]]) {
    const { status, stderr } = hge("train", "--task", "xor", "--method", "spsa", ...taken, "--max-iterations", "1", "--no-progress", "--out", join(scratch, "spsa-rate"));
    assert.ok(status === 0 || status === 1, `${taken.join(" ")}: exit ${status}: ${stderr}`);
  }
});

test("every flag of hge train reaches what it sets: --slew the controller's slew limit, --lag the calibration's corner", () => {
  refusal(["train", "--slew", "1e-9"], REFUSED, /^hge: configuration refused: --slew is below what electrode 1 needs/, /SlewVPerS/);
  refusal(["train", "--task", "xor", "--gradient", "streaming"], REFUSED, /--gradient streaming demodulates the loss itself, which needs --loss mse/);
  // --lag with a calibration: the corner it keeps unless the phases reject it, its delay fitted
  // (it was refused: "the calibration replaces it"); a corner twice the chain's, kept
  const { status, stdout, stderr } = hge("train", "--device", "resistor", "--task", "and", "--lag", "1,2000", "--no-progress", "--out", join(scratch, "lag"));
  assert.equal(status, 0, stderr);
  assert.match(stdout, /^ {2}lag fitted: 2\.\d\d samples, corner 2000 Hz;/m);
});

test("a starting voltage outside its range is refused for every method, given or resumed", () => {
  refusal(["train", "--method", "pat", "--initial-v", "5,0,0,0,0"], REFUSED, /control 1 would start at 5 V \(--initial-v or --resume\), outside its range \[-1\.2, 0\.6\] V/);
  refusal(["train", "--method", "coupled", "--device", "resistor", "--task", "regression", "--initial-v", "0,0,0,0,0,0,0,2"], REFUSED, /control 8 would start at 2 V/);
});

test("--resume takes only a run of this task on this device, and a checkpoint.bin only for the module", () => {
  const run = join(scratch, "and-run");
  assert.equal(hge("train", "--task", "and", "--max-iterations", "1", "--out", run, "--no-progress").status, 1);
  const weights = JSON.parse(readFileSync(join(run, "run.json"), "utf8")).finalWeights;
  refusal(["train", "--task", "xor", "--resume", join(run, "run.json")], REFUSED, /is a run of AND on .*, not of XOR on/, new RegExp(`give --initial-v ${weights.join(",").replace(/[.-]/g, "\\$&")}$`));
  refusal(["train", "--task", "and", "--calibration", "3", "--resume", join(run, "run.json")], USAGE, /^hge: --calibration: the resumed run's checkpoint carries the lag it fitted, which it keeps$/);
  refusal(["train", "--method", "pat", "--task", "and", "--resume", join(run, "checkpoint.bin")], USAGE, /a checkpoint\.bin is the controller module's state; method pat resumes from the run\.json beside it/);
  const edited = join(scratch, "edited.json");
  for (const [content, pattern] of [["null", /neither a run\.json nor a checkpoint\.bin/], ['{"format":"hge-run/2","finalWeights":{"length":5}}', /holds no control voltages/]] as const) {
    writeFileSync(edited, content);
    refusal(["train", "--task", "and", "--resume", edited], content === "null" ? USAGE : REFUSED, pattern);
  }
  const moved = JSON.parse(readFileSync(join(run, "run.json"), "utf8"));
  writeFileSync(edited, JSON.stringify({ ...moved, format: "hge-run/99" }));
  refusal(["train", "--task", "and", "--resume", edited], USAGE, new RegExp(`: a run\\.json of format hge-run/99; this hge reads hge-run/2; to start from its controls give --initial-v ${weights.join(",").replace(/[.-]/g, "\\$&")}$`));
  writeFileSync(edited, JSON.stringify({ ...moved, finalWeights: [0, null, 0, 0, 0] }));
  refusal(["train", "--task", "and", "--resume", edited], REFUSED, /: control 2's voltage is null, not a finite number of volts$/);
  writeFileSync(edited, JSON.stringify({ ...moved, finalWeights: [5, 0, 0, 0, 0] }));
  refusal(["train", "--method", "pat", "--task", "and", "--resume", edited], REFUSED, /control 1 would start at 5 V/);
  // a run.json edited by hand: no module (it said "internal error: Cannot read properties of
  // null", then went on from its controls alone, its optimiser's moments and lag dropped unsaid)
  // is refused, offering its controls; a resumedFrom that is no run (it summed to "NaN
  // iterations"): it goes on, and counts only the runs it can
  writeFileSync(edited, JSON.stringify({ ...moved, module: null }));
  refusal(["train", "--task", "and", "--resume", edited], REFUSED, /: a run of multitone without its module's state \(module\.checkpoint\): the run\.json is damaged; to start from its controls give --initial-v /);
  writeFileSync(edited, JSON.stringify({ ...moved, resumedFrom: "str" }));
  const { status, stdout, stderr } = hge("train", "--task", "and", "--max-iterations", "1", "--resume", edited, "--out", join(scratch, "edited-resumedFrom"), "--no-progress");
  assert.equal(status, 1, stderr);
  assert.doesNotMatch(stdout + stderr, /internal error|NaN/);
  assert.match(stderr, /^hge: --resume .*edited\.json: an iterations or deviceSeconds in it \(or in a run it resumed\) is not a count; the totals over the resumed runs are left out$/m);
  // a seed that is none --seed takes is refused (the default seed 1 was taken: another run, written over reports/…-seed1)
  for (const seed of [-3, "abc", 1e300]) {
    writeFileSync(edited, JSON.stringify({ ...moved, seed }));
    refusal(["train", "--task", "and", "--resume", edited], USAGE, new RegExp(`: its seed ${JSON.stringify(seed).replace(/[+]/g, "\\+")} is not one --seed takes \\(a whole number from 0 to 4294967295\\); give --seed to say which run this is$`));
  }
  // --lag with a resumed checkpoint: one refusal (it sent the user to --calibration 0, itself refused)
  refusal(["train", "--task", "and", "--lag", "2,1000", "--resume", join(run, "run.json")], USAGE, /^hge: --lag: the resumed run's checkpoint carries the lag it fitted, which it keeps$/);
});

test("--resume takes a run only on the device it ran on and only with that device's number of controls: AND on the DNPU is refused on the analytic device, and a run.json holding 4 voltages for the DNPU's 5", () => {
  const run = join(scratch, "and-run-devices");
  assert.equal(hge("train", "--task", "and", "--max-iterations", "1", "--out", run, "--no-progress").status, 1);
  const ran = JSON.parse(readFileSync(join(run, "run.json"), "utf8"));
  assert.equal(ran.finalWeights.length, 5);
  refusal(["train", "--task", "and", "--device", "analytic", "--resume", join(run, "run.json")], REFUSED, /is a run of AND on .*, not of AND on analytic\(/);
  const edited = join(scratch, "edited-four.json");
  writeFileSync(edited, JSON.stringify({ ...ran, finalWeights: ran.finalWeights.slice(0, 4) }));
  refusal(["train", "--task", "and", "--resume", edited], REFUSED, /: it holds 4 control voltages; .* has 5$/);
});

test("--plan-order takes 2, 3 or auto, and a resumed run keeps the order its run ended on unless given one", () => {
  refusal(["train", "--plan-order", "4"], USAGE, /--plan-order/, /expected 2, 3 or auto\.$/);
  const ran = (out: string, ...args: string[]) => {
    hge("train", "--device", "resistor", "--task", "and", "--max-iterations", "2", "--out", out, "--no-progress", ...args);
    return JSON.parse(readFileSync(join(out, "run.json"), "utf8")).module.controller;
  };
  // the eight-edge resistor network: calibrated at order 2 (in 200 samples, where order 3 needs
  // 500), the probe reads no distortion above the noise, and the run stays there
  const first = ran(join(scratch, "auto"));
  assert.deepEqual([first.planOrder, first.windowSamples, first.calibrationEpochs], [2, 200, 2]);
  const resumed = ran(join(scratch, "auto-resumed"), "--resume", join(scratch, "auto", "run.json"));
  assert.deepEqual([resumed.planOrder, resumed.windowSamples], [2, 200]);
  const given = ran(join(scratch, "auto-order3"), "--resume", join(scratch, "auto", "run.json"), "--plan-order", "3");
  assert.deepEqual([given.planOrder, given.windowSamples], [3, 500]);
});

test("a run into the directory of an earlier one leaves no checkpoint.bin that is not its own", () => {
  const out = join(scratch, "reused");
  assert.equal(hge("train", "--task", "and", "--max-iterations", "1", "--out", out, "--no-progress").status, 1);
  assert.ok(existsSync(join(out, "checkpoint.bin")));
  hge("train", "--method", "pat", "--task", "and", "--budget", "1", "--out", out, "--no-progress");
  assert.equal(JSON.parse(readFileSync(join(out, "run.json"), "utf8")).method, "pat");
  assert.ok(!existsSync(join(out, "checkpoint.bin")), "the multitone run's checkpoint is gone");
});

test("a board's serial port that cannot be opened exits 2 in one line; one that does not exist is said at once, with the ports there are (it was retried for 10 s)", () => {
  const started = performance.now();
  refusal(["train", "--board", "mps2-an386", "--port", join(scratch, "no-such-port")], USAGE, /^hge: link: no such port .*no-such-port; (the serial ports here: |this machine shows no serial port)/);
  assert.ok(performance.now() - started < 8000, "not retried until the link's 10 s timeout");
  const notAPort = join(scratch, "not-a-port");
  writeFileSync(notAPort, "");
  refusal(["train", "--board", "mps2-an386", "--port", notAPort], USAGE, /^hge: link: could not open .*not-a-port/);
});

test("hge train --board refuses in one line before it leaves anything behind: an unknown board with --port (it was an internal error, exit 4), a data set, a method with the host's peers left out of what it names", () => {
  const cases: Array<[string[], number, RegExp]> = [
    [["--board", "nosuch", "--port", join(scratch, "no-such-port"), "--task", "and"], USAGE, /^hge: unknown board "nosuch"; hge train --board --port knows .*mps2-an386.*stm32f4-discovery/],
    // (it named pat, phyll and phyll-hge as able to train iris: none runs on a board)
    [["--board", "mps2-an386", "--task", "iris"], 3, /^hge: configuration refused: iris is a data set; the controller on a board trains tasks with input cases/],
    [["--board", "mps2-an386", "--method", "published", "--device", "resistor", "--task", "and"], 3, /\(methods that can train AND on it: multitone, sequential, spsa, random, walsh\)$/],
    [["--board", "mps2-an386", "--method", "pat", "--task", "and"], 3, /--board runs the module's estimators/],
  ];
  for (const [args, code, pattern] of cases) {
    // (an --out made for the run and left empty by the refusal is removed: one was left behind)
    const out = join(scratch, "board-refused", String(cases.findIndex(([a]) => a === args)));
    const { status, stdout, stderr } = hge("train", ...args, "--out", out);
    assert.equal(status, code, stderr);
    assert.equal(stderr.trimEnd().split("\n").length, 1, stderr);
    assert.match(stderr.trimEnd(), pattern);
    assert.equal(stdout, "");
    assert.ok(!existsSync(out), `${args.join(" ")}: ${out} left behind`);
  }
  assert.ok(!existsSync(join(scratch, "board-refused")), "its parent, made for it, is removed too");
});

test("a device wider than the module's build: hge device does not offer the methods that measure through it, and hge train refuses them", () => {
  const file = join(scratch, "wide-device.mjs");
  writeFileSync(file, `export function createDevice() {
  return { name: "wide", controlCount: 200, inputCount: 2, electrodeCount: 202, outputUnit: "nA", capabilities: [],
    controlRangeV: Array.from({ length: 200 }, () => [-1, 1]), inputRangeV: [[-1, 1], [-1, 1]],
    output(v) { let s = 0; for (let i = 0; i < v.length; i++) s += Math.sin(v[i]); return s; } };
}
`);
  const { status, stdout } = hge("device", file);
  assert.equal(status, 0);
  assert.match(stdout, /^    and, or, nand, nor, xor, xnor, regression: /m);
  assertOffers(offeredFor(stdout, "xor"), { offers: ["pat"], not: [...MODULE_NAMES, "pat-hge"] });
  // (pat feeds iris's 4 features to 4 data inputs: this device has 2 and cannot reassign them)
  assertOffers(offeredFor(stdout, "iris"), { offers: ["phyll"], not: ["pat", "phyll-hge"] });
  for (const method of ["multitone", "walsh", "pat-hge"]) {
    refusal(["train", "--device", file, "--method", method], REFUSED, new RegExp(`method ${method}: the controller module drives at most 128 controls and 8 data inputs; wide has 200 and 2`));
  }
});

test("an unknown method exits 2 and lists the methods", () => {
  refusal(["train", "--method", "backprop"], USAGE, /'backprop'/, /multitone, published, sequential, spsa, random, walsh/);
});

/** Like refusal(), with the --out given here. */
function refusedOut(out: string, ...patterns: RegExp[]): void {
  const started = performance.now();
  const { status, stdout, stderr } = hge("train", "--task", "and", "--no-progress", "--out", out);
  assert.equal(status, USAGE, `exit ${status}, stderr: ${stderr}`);
  assert.equal(stderr.trimEnd().split("\n").length, 1, stderr);
  assert.equal(stdout, "");
  for (const pattern of patterns) assert.match(stderr, pattern);
  assert.ok(performance.now() - started < 20_000, "refused at once, before training");
}

test("an --out that cannot be written is refused before training, with exit 2", () => {
  const file = join(scratch, "a-file");
  writeFileSync(file, "");
  refusedOut(join(file, "report"), /--out .* is not writable \(ENOTDIR\)/);
});

test("an --out under /proc is refused at once, not hung on, also through a symbolic link", () => {
  refusedOut("/proc/hge-report", /kernel filesystem/);
  const link = join(scratch, "to-proc");
  symlinkSync("/proc/self", link);
  refusedOut(join(link, "a", "report"), /under \/proc, a kernel filesystem/);
});

test("a run writes run.json with the documented fields and a report with SVG plots", () => {
  const out = join(scratch, "and");
  const { status, stdout, stderr } = hge("train", "--device", "analytic", "--task", "and", "--seed", "3", "--out", out, "--no-progress");
  assert.equal(status, 0, stderr);
  assert.match(stdout, /^AND on analytic.* by multitone: solved in \d+ iterations/);
  const run = JSON.parse(readFileSync(join(out, "run.json"), "utf8"));
  assert.equal(run.module.lagFrom, "calibration");
  assert.match(stdout, new RegExp(`^  lag fitted: ${run.module.status.lagDelaySamples.toFixed(2)} samples, corner `, "m"));
  for (const field of ["format", "command", "method", "device", "task", "seed", "ranOn", "solved", "stopped", "iterations", "deviceSeconds", "criterion", "criterionName", "targets", "caseOutputs", "finalWeights", "counters", "history", "settings", "module"]) {
    assert.ok(field in run, `run.json lacks ${field}`);
  }
  assert.equal(run.format, "hge-run/2");
  assert.equal(run.seed, 3);
  assert.equal(run.solved, true);
  assert.equal(run.ranOn, "node");
  assert.equal(run.criterionName, "margin");
  assert.equal(run.history.loss.length, run.iterations);
  assert.equal(run.history.deviceSeconds.length, run.iterations);
  assert.equal(run.history.gradient.length, run.iterations);
  assert.equal(run.history.weights.length, run.iterations + 1);
  assert.equal(run.history.weights[0].length, 5);
  for (const counter of ["samples", "windows", "discardedWindows", "updates", "epochs", "skippedUpdates"]) assert.equal(typeof run.counters[counter], "number");
  for (const key of ["controller", "chain", "noise", "toneBins", "toneHz", "toneHits", "oneWindow", "checkpoint"]) assert.ok(key in run.module, `module lacks ${key}`);
  assert.equal(run.module.noise.pinkPsdAt1kHz, 1e-5); // the paper's 1/f level is the default
  const html = readFileSync(join(out, "report.html"), "utf8");
  assert.equal(html.match(/<svg/g)?.length, 8); // loss, margin, outputs, outputs per iteration, controls, gradient norm, against the exact gradient, spectrum
  assert.ok(html.includes(`fitted: ${run.module.status.lagDelaySamples.toFixed(2)} samples, corner `), "the report's lag row");
});

test("a run that does not solve its task exits 1; one no method can solve on its device (XOR on a passive network) says so before it trains, in its summary and in its report", () => {
  const { status, stdout, stderr } = hge("train", "--device", "resistor", "--task", "xor", "--max-iterations", "5", "--out", join(scratch, "xor"), "--no-progress");
  assert.match(readFileSync(join(scratch, "xor", "report.html"), "utf8"), /<td>⚠ warning<\/td><td>XOR is out of resistor-network\(.*\)&#39;s reach: its output never falls where an input rises/);
  assert.equal(status, 1);
  assert.match(stdout, /not solved after 5 iterations/);
  assert.match(stderr, /^hge: warning: XOR is out of resistor-network\(.*\)'s reach: its output never falls where an input rises, .*; no method can solve it there$/m);
  assert.match(stdout, /^  warning: XOR is out of resistor-network/m);
});

test("on a fresh clone (no build/), hge builds the module first and then trains", () => {
  const clone = join(scratch, "clone");
  const files = spawnSync("git", ["ls-files"], { cwd: REPO, encoding: "utf8" }).stdout.trim().split("\n");
  for (const file of files) cpSync(join(REPO, file), join(clone, file), { recursive: true });
  symlinkSync(join(REPO, "node_modules"), join(clone, "node_modules"));
  const out = join(scratch, "clone-run");
  const run = spawnSync(process.execPath, [join(clone, "bin", "hge.mjs"), "train", "--device", "analytic", "--task", "and", "--seed", "3", "--out", out, "--no-progress"], { encoding: "utf8", timeout: 120_000 });
  assert.match(run.stderr, /build\/hge\.wasm is missing \(a fresh clone\?\): building it first/);
  assert.equal(run.status, 0, run.stderr);
  assert.ok(existsSync(join(clone, "build", "hge.wasm")));
});

test("hge methods lists every registered method with what it needs; hge --version prints the version", () => {
  const methods = hge("methods");
  assert.equal(methods.status, 0, methods.stderr);
  // and which of hge train's flags each reads: the tones only multitone, pat its window but no tones
  const reads = Object.fromEntries([...methods.stdout.matchAll(/^(\S+): [^\n]*\n(?:  [^\n]*\n)*?  hge train's flags it reads [^:]*: ([^\n]*)$/gm)].map((m) => [m[1], m[2].split(", ")]));
  assert.deepEqual(Object.keys(reads).filter((name) => reads[name].includes("--tones")), ["multitone"]);
  assert.ok(reads.pat.includes("--window") && reads.pat.includes("--no-noise") && !reads.pat.includes("--loss"), reads.pat.join(" "));
  assert.deepEqual(Object.keys(reads), METHOD_NAMES); // every registered method, in the registry's order
  const version = hge("--version");
  assert.equal(version.status, 0);
  assert.match(version.stdout, /^\d+\.\d+\.\d+\n$/);
});

test("hge train --method walsh --task and trains the gate with Walsh codes", () => {
  const out = join(scratch, "walsh");
  const { status, stdout, stderr } = hge("train", "--method", "walsh", "--task", "and", "--out", out, "--no-progress");
  assert.equal(status, 0, stdout + stderr);
  assert.match(stdout, /^AND on dopant-network.* by walsh: solved/);
  const run = JSON.parse(readFileSync(join(out, "run.json"), "utf8"));
  assert.equal(run.method, "walsh");
  assert.equal(run.module.controller.perturbation, "walsh");
});

test("--resume continues from the checkpoint of run.json: the new run starts at the old final controls", () => {
  const first = join(scratch, "first");
  assert.equal(hge("train", "--task", "xor", "--seed", "4", "--max-iterations", "4", "--out", first, "--no-progress").status, 1);
  const before = JSON.parse(readFileSync(join(first, "run.json"), "utf8"));
  const second = join(scratch, "second");
  hge("train", "--task", "xor", "--max-iterations", "2", "--resume", join(first, "run.json"), "--out", second, "--no-progress");
  const after = JSON.parse(readFileSync(join(second, "run.json"), "utf8"));
  assert.deepEqual(after.history.weights[0], before.finalWeights, "starts where the first run ended");
  const third = join(scratch, "third");
  const bare = hge("train", "--task", "xor", "--max-iterations", "2", "--resume", join(first, "checkpoint.bin"), "--out", third, "--no-progress");
  assert.match(bare.stderr, /^hge: --resume .*checkpoint\.bin: a checkpoint\.bin says neither the task nor the device it was trained on; its state was taken as this run's/m);
  // a checkpoint the module refuses: one line, the refusal, not the notice besides
  const garbage = join(scratch, "garbage.bin");
  writeFileSync(garbage, "HGE1 and then nothing a checkpoint holds");
  refusal(["train", "--task", "xor", "--resume", garbage], REFUSED, /--resume: the checkpoint is corrupt, of another hge version, or for another configuration .*; nothing was trained \(controller field Checkpoint\)$/);
  // a run.json whose module state is gone, or that names no method of hge's, is damaged: it was
  // continued from its controls alone, the optimiser's moments and the fitted lag dropped unsaid
  const damaged = join(scratch, "damaged.json");
  for (const [damage, said] of [[(r: any) => delete r.module, /a run of multitone without its module's state \(module\.checkpoint\): the run\.json is damaged; to start from its controls give --initial-v /],
    [(r: any) => (r.module.checkpoint = 12), /without its module's state/], [(r: any) => (r.method = "foo"), /its method foo is none of hge's \(multitone, .*\): the run\.json is damaged/]] as const) {
    const run = JSON.parse(readFileSync(join(first, "run.json"), "utf8"));
    damage(run);
    writeFileSync(damaged, JSON.stringify(run));
    refusal(["train", "--task", "xor", "--resume", damaged], REFUSED, said);
  }
  assert.deepEqual(JSON.parse(readFileSync(join(third, "run.json"), "utf8")).history.weights[0], before.finalWeights, "checkpoint.bin resumes the same");
  // with the seed of its run, read from the run.json beside the checkpoint, where --seed is not given
  assert.deepEqual([after.seed, JSON.parse(readFileSync(join(third, "run.json"), "utf8")).seed], [4, 4]);
  assert.equal(after.module.status.lagDelaySamples, before.module.status.lagDelaySamples, "keeps the fitted lag");
  assert.equal(after.module.controller.calibrationEpochs, 0, "does not calibrate again");
  // codes continuing a run of tones (and tones one of codes) cannot take its checkpoint: they start
  // from its final controls, saying so (it was refused as "corrupt, of another hge version, or ...")
  const coded = join(scratch, "coded");
  const walsh = hge("train", "--method", "walsh", "--task", "xor", "--max-iterations", "1", "--resume", join(first, "run.json"), "--out", coded, "--no-progress");
  assert.match(walsh.stderr, /^hge: --resume .*run\.json: a run of tones; walsh perturbs with codes and cannot take its checkpoint: it starts from the run's final controls, with fresh optimiser moments$/m, walsh.stderr);
  const codedRun = JSON.parse(readFileSync(join(coded, "run.json"), "utf8"));
  assert.deepEqual(codedRun.history.weights[0], before.finalWeights);
  assert.ok(codedRun.resumedFrom, "the run it resumed is kept");
  const toned = hge("train", "--task", "xor", "--max-iterations", "1", "--resume", join(coded, "run.json"), "--out", join(scratch, "toned"), "--no-progress");
  assert.match(toned.stderr, /a run of codes; multitone perturbs with tones and cannot take its checkpoint: it starts from the run's final controls, with fresh optimiser moments and its own calibration$/m, toned.stderr);
  assert.ok(JSON.parse(readFileSync(join(scratch, "toned", "run.json"), "utf8")).module.controller.calibrationEpochs > 0, "it calibrates");
  // codes to codes carry over, as tones to tones
  const spsa = hge("train", "--method", "spsa", "--task", "xor", "--max-iterations", "1", "--resume", join(coded, "run.json"), "--out", join(scratch, "spsa"), "--no-progress");
  assert.doesNotMatch(spsa.stderr, /cannot take its checkpoint/);
});

test("the summary says a window was lengthened for the planned tones only when it was: not of a --window 1000 given (it said so of any window above 200)", () => {
  const tonesLine = (...args: string[]) => hge("train", ...args, "--max-iterations", "2", "--out", join(scratch, "lengthened"), "--no-progress").stdout.split("\n").find((l) => l.includes("tones (Hz)")) ?? "";
  assert.match(tonesLine("--task", "xor", "--window", "1000"), /in 1000-sample windows \(200 ms\)$/);
  assert.match(tonesLine("--device", "resistor", "--task", "and", "--plan-order", "3"), /in 500-sample windows \(100 ms, lengthened so the planned tones fit\)$/);
  // the published preset's given tones in its own 2000-sample window: nothing planned, nothing lengthened
  assert.match(tonesLine("--method", "published", "--task", "xor"), /in 2000-sample windows \(400 ms\); some hit by intermodulation products$/);
});

test("a resumed run restarts as the unbroken run would, at the same iteration and from its next seeded start (it never restarted: XNOR seed 2 then ran 1785 iterations unsolved; then it restarted 20 iterations late), with its own seed where --seed is not given (seed 1's starts were taken)", () => {
  const unbroken = join(scratch, "xnor-unbroken"), cut = join(scratch, "xnor-cut"), resumed = cut; // (resumed in its own --out)
  assert.equal(hge("train", "--task", "xnor", "--seed", "2", "--out", unbroken, "--no-progress").status, 0);
  const whole = JSON.parse(readFileSync(join(unbroken, "run.json"), "utf8"));
  assert.deepEqual(whole.attempts.map((a: { startIteration: number }) => a.startIteration), [0, 20], "(the unbroken run restarts once, at iteration 20)");
  assert.equal(hge("train", "--task", "xnor", "--seed", "2", "--max-iterations", "15", "--out", cut, "--no-progress").status, 1);
  const before = readFileSync(join(cut, "run.json"), "utf8");
  const run = hge("train", "--task", "xnor", "--resume", join(cut, "run.json"), "--out", resumed, "--no-progress");
  assert.equal(run.status, 0, run.stdout + run.stderr);
  const after = JSON.parse(readFileSync(join(resumed, "run.json"), "utf8"));
  assert.equal(after.seed, 2, "the resumed run's seed, not --seed's default");
  assert.equal(after.attempts.length, 2);
  assert.deepEqual(after.attempts[1].initialV, whole.attempts[1].initialV, "the unbroken run's second start, not its first again");
  // and when the unbroken run did: the patience counts the cut run's stuck iterations (it
  // counted from the resume, and restarted 20 iterations late)
  assert.equal(15 + after.attempts[1].startIteration, whole.attempts[1].startIteration);
  assert.ok(after.iterations < 100, `${after.iterations} iterations`);
  // its counters are its own: the cut run's 15 updates, restored by the checkpoint, are not counted again at its restart
  assert.equal(after.counters.updates, after.iterations - (DEFAULTS.solvedEpochs - 1), JSON.stringify(after.counters));
  // the run it went on from, in the same --out, is kept whole in the new run.json (it was lost) and counted
  const { format: _, ...earlier } = JSON.parse(before);
  assert.deepEqual(after.resumedFrom, earlier);
  assert.match(run.stdout, new RegExp(`with the run it resumed \\(kept in run\\.json: resumedFrom\\): ${15 + after.iterations} iterations, ${(earlier.deviceSeconds + after.deviceSeconds).toFixed(1)} s of device time in all`));
  // the lag the cut run fitted, kept (it said "given (not fitted)")
  assert.equal(after.module.lagFrom, "checkpoint");
  assert.equal(after.module.status.lagDelaySamples, earlier.module.status.lagDelaySamples);
  assert.match(run.stdout, new RegExp(`^  lag kept from the checkpoint resumed \\(fitted by the run before\\): ${earlier.module.status.lagDelaySamples.toFixed(2)} samples`, "m"));
});

test("a run stopped before its calibration ended is resumed calibrating, as it was to; a lag given to the run it resumes stays 'given (not fitted)'", () => {
  const cut = join(scratch, "cut-in-calibration");
  assert.equal(hge("train", "--task", "xor", "--budget", "0.1", "--out", cut, "--no-progress").status, 1);
  const before = JSON.parse(readFileSync(join(cut, "run.json"), "utf8"));
  assert.equal(before.module.lagFrom, "configuration");
  assert.equal(before.counters.updates, 0);
  const resumed = hge("train", "--task", "xor", "--resume", join(cut, "run.json"), "--out", join(scratch, "cut-resumed"), "--no-progress");
  const after = JSON.parse(readFileSync(join(scratch, "cut-resumed", "run.json"), "utf8"));
  assert.equal(after.module.lagFrom, "calibration", resumed.stdout);
  assert.match(resumed.stdout, /^  lag fitted: /m);
  assert.deepEqual(after.attempts[0].initialV, before.finalWeights, "from the controls it stopped at");
  assert.equal(hge("train", "--task", "xor", "--resume", join(cut, "run.json"), "--calibration", "3", "--max-iterations", "1", "--out", join(scratch, "cut-resumed-3"), "--no-progress").status, 1, "--calibration is the resumed run's own: no checkpoint carries a lag");
  const given = join(scratch, "given-lag");
  assert.equal(hge("train", "--task", "xor", "--calibration", "0", "--max-iterations", "3", "--out", given, "--no-progress").status, 1);
  const again = hge("train", "--task", "xor", "--resume", join(given, "run.json"), "--max-iterations", "2", "--out", join(scratch, "given-resumed"), "--no-progress");
  assert.equal(JSON.parse(readFileSync(join(scratch, "given-resumed", "run.json"), "utf8")).module.lagFrom, "configuration");
  assert.match(again.stdout, /^  lag given \(not fitted\): /m);
});

test("an --out directory that disappears in the middle of hge demo: the gates after it and the index are kept elsewhere, said on stderr, and the index links every gate's report", async () => {
  const literal = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  const slow = join(scratch, "slow-device.mjs"); // (the default dopant network, made slow: the demo takes seconds a gate)
  writeFileSync(slow, `import { DopantNetwork } from ${JSON.stringify(join(process.cwd(), "host/devices/dopant.ts"))};
export function createDevice({ inputCount = 2 }) { const d = DopantNetwork.default(); const o = d.output.bind(d); d.output = (v) => { const t = performance.now() + 0.2; while (performance.now() < t); return o(v); }; return d; }
`);
  const out = join(scratch, "vanishing-demo");
  const child = spawn(process.execPath, [BIN, "demo", "--device", slow, "--workers", "1", "--no-progress", "--out", out], { stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "", stderr = "";
  child.stdout.on("data", (chunk) => (stdout += chunk));
  child.stderr.on("data", (chunk) => (stderr += chunk));
  const exited = new Promise<number | null>((resolve) => child.on("exit", (status) => resolve(status)));
  while (!existsSync(join(out, "and", "report.html")) && child.exitCode === null) await new Promise((resolve) => setTimeout(resolve, 50));
  rmSync(out, { recursive: true, force: true });
  writeFileSync(out, "not a directory");
  const code = await exited;
  assert.ok(code === 0 || code === 1, `exit ${code}: ${stderr}`);
  const elsewhere = [...stderr.matchAll(new RegExp(`^hge: cannot write in ${literal(out)}(/\\w+)? \\((EEXIST|ENOTDIR)\\); kept in (.*) instead$`, "gm"))];
  assert.ok(elsewhere.length >= 2, stderr); // (the gates after the first, and the index)
  const index = join(elsewhere.at(-1)![3], "index.html");
  assert.match(stdout, new RegExp(`report: ${literal(index)}`));
  const links = [...readFileSync(index, "utf8").matchAll(/href="([^"]+\/report\.html)"/g)].map((m) => m[1]);
  assert.equal(links.length, 6);
  // the gates kept elsewhere are linked there; those kept before went with --out
  const [kept, gone] = [true, false].map((there) => links.filter((link) => existsSync(join(dirname(index), decodeURIComponent(link))) === there));
  assert.equal(kept.length, elsewhere.length - 1, `${kept.join(" ")}\n${stderr}`);
  for (const link of gone) assert.ok(join(dirname(index), decodeURIComponent(link)).startsWith(`${out}/`), link);
});

test("a run whose budget ends before its first window, or before every case had one: no number in its report is NaN or infinite, no plot fails, and it claims no case outputs (it showed 0s, 'NaN dB' and a Vega error)", () => {
  for (const [method, task, budget] of [["multitone", "xor", "0.001"], ["spsa", "xor", "0.001"], ["phyll", "iris", "0.001"], ["multitone", "xor", "0.1"]]) {
    const out = join(scratch, `tiny-${method}-${budget}`);
    const { status, stdout, stderr } = hge("train", "--method", method, "--task", task, "--budget", budget, "--out", out, "--no-progress");
    assert.equal(status, 1, stdout + stderr);
    assert.doesNotMatch(stdout, /case outputs/);
    const html = readFileSync(join(out, "report.html"), "utf8");
    assert.doesNotMatch(html, /NaN|Infinity|not drawn/, method);
    const run = JSON.parse(readFileSync(join(out, "run.json"), "utf8"));
    assert.deepEqual([run.iterations, run.caseOutputs], [0, []]);
    assert.ok(Object.values(run.counters).every((v) => typeof v === "number" && Number.isFinite(v)), JSON.stringify(run.counters));
  }
});

test("a run whose every window is discarded writes a report saying so and exits 1", () => {
  const out = join(scratch, "spikes");
  const { status, stdout, stderr } = hge("train", "--task", "and", "--spikes", "100000", "--out", out, "--no-progress");
  assert.equal(status, 1, stdout + stderr);
  assert.match(stdout, /not solved after 0 iterations \(controller fault\)/);
  const html = readFileSync(join(out, "report.html"), "utf8");
  assert.match(html, /every window was discarded/);
  assert.ok(existsSync(join(out, "run.json")));
});

test("Ctrl-C during training stops cleanly: a report, run.json with stopped = interrupted and a checkpoint, exit 130", async () => {
  const out = join(scratch, "interrupted");
  const child = spawn(process.execPath, [BIN, "train", "--device", "resistor", "--task", "xor", "--budget", "100000", "--max-iterations", "100000", "--out", out, "--no-progress"], { stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "", stderr = "";
  child.stdout.on("data", (chunk) => (stdout += chunk));
  child.stderr.on("data", (chunk) => (stderr += chunk));
  await new Promise((resolve) => setTimeout(resolve, 6000));
  child.kill("SIGINT");
  // a second Ctrl-C while the run is kept waits for it (it once killed the process: no run.json)
  await new Promise((resolve) => setTimeout(resolve, 100));
  child.kill("SIGINT");
  const code = await new Promise((resolve) => child.on("exit", (status) => resolve(status ?? child.signalCode)));
  assert.equal(code, 130, stdout);
  assert.match(stdout, /not solved after \d+ iterations \(interrupted\)/);
  assert.match(stderr, /^hge: interrupted; the same command with --resume \S*run\.json goes on from what it learned$/m);
  const run = JSON.parse(readFileSync(join(out, "run.json"), "utf8"));
  assert.equal(run.stopped, "interrupted");
  assert.ok(run.iterations > 0 && run.module.checkpoint.length > 0);
  assert.deepEqual(readFileSync(join(out, "checkpoint.bin")), Buffer.from(run.module.checkpoint, "base64"), "checkpoint.bin beside run.json");
  // a new run into that --out would replace it: refused, naming --resume (it was replaced silently)
  const again = hge("train", "--device", "resistor", "--task", "xor", "--max-iterations", "2", "--out", out, "--no-progress");
  assert.equal(again.status, 2, again.stderr);
  assert.match(again.stderr, /^hge: \S+ holds a run that was interrupted: --resume \S+run\.json goes on from it; to start again remove it or give another --out\n$/);
  assert.deepEqual(JSON.parse(readFileSync(join(out, "run.json"), "utf8")), run);
  // resuming it, from its run.json or its checkpoint.bin, is what the refusal asks for, by
  // whatever path (an --out through a symbolic link to it was taken for another and refused)
  const link = join(scratch, "interrupted-link");
  symlinkSync(out, link);
  const throughLink = hge("train", "--device", "resistor", "--task", "xor", "--max-iterations", "2", "--resume", join(out, "run.json"), "--out", link, "--no-progress");
  assert.ok(throughLink.status === 0 || throughLink.status === 1, throughLink.stderr);
  const resumed = hge("train", "--device", "resistor", "--task", "xor", "--max-iterations", "2", "--resume", join(out, "checkpoint.bin"), "--out", out, "--no-progress");
  assert.ok(resumed.status === 0 || resumed.status === 1, resumed.stderr);
});

test("an --out directory that disappears mid-run (here: replaced by a file) loses nothing: the journal's writes warn once and the run goes on; hge train and hge compare keep their results in a new directory and say where", async () => {
  const literal = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"); // (in a RegExp)
  const flags = ["--task", "iris", "--set", "configurations=2", "--set", "physicalEvery=5", "--max-iterations", "100", "--no-progress"]; // (about 20 s, journals written every 10 s)
  const started = [
    ["train", "--method", "phyll-hge", ...flags],
    ["compare", "--methods", "phyll-hge", "--seeds", "1", "--workers", "1", ...flags],
  ].map((args, i) => {
    const out = join(scratch, `vanishing-${i}`);
    const child = spawn(process.execPath, [BIN, ...args, "--out", out], { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "", stderr = "";
    child.stdout.on("data", (chunk) => (stdout += chunk));
    child.stderr.on("data", (chunk) => (stderr += chunk));
    const exited = new Promise<number | null>((resolve) => child.on("exit", (status) => resolve(status)));
    return { out, exited, output: () => ({ stdout, stderr }) };
  });
  await new Promise((resolve) => setTimeout(resolve, 5000)); // (both under way, before the first journal write)
  for (const { out } of started) {
    rmSync(out, { recursive: true, force: true });
    writeFileSync(out, "not a directory");
  }
  const [train, compare] = await Promise.all(started.map(async (s) => ({ code: await s.exited, ...s.output(), out: s.out })));
  // each file kept while running warns once (train: its journal; compare: the run's journal, then
  // compare.json after the run), and the end's writes go elsewhere
  for (const [{ stderr, out }, files] of [[train, ["journal"]], [compare, ["journals/phyll-hge-seed1", "compare"]]] as const) {
    const lines = stderr.trimEnd().split("\n").filter((line) => line.startsWith("hge: cannot"));
    assert.deepEqual(lines.slice(0, -1), files.map((file) => `hge: cannot keep ${out}/${file}.json (ENOTDIR); the run goes on, and tries again at the next write`), stderr);
    assert.match(lines.at(-1)!, new RegExp(`^hge: cannot write in ${literal(out)} \\((EEXIST|ENOTDIR)\\); kept in .* instead$`));
  }
  assert.ok(train.code === 0 || train.code === 1, train.stderr);
  const trainDir = /kept in (.*) instead/.exec(train.stderr)![1];
  assert.match(train.stdout, new RegExp(`data: +${literal(trainDir)}/run\\.json`));
  const run = JSON.parse(readFileSync(join(trainDir, "run.json"), "utf8"));
  assert.equal(run.iterations, 100, "the whole run, kept");
  assert.ok(existsSync(join(trainDir, "journal.json")) && existsSync(join(trainDir, "report.html")));
  assert.equal(compare.code, 0, compare.stderr);
  const compareDir = /kept in (.*) instead/.exec(compare.stderr)![1];
  const record = JSON.parse(readFileSync(join(compareDir, "compare.json"), "utf8"));
  assert.deepEqual(record.runs.map((r: { method: string; seed: number }) => `${r.method} ${r.seed}`), ["phyll-hge 1"]);
  assert.ok(existsSync(join(compareDir, "report.html")));
});

test("SIGTERM (a scheduler's, timeout's) and SIGHUP (a closed terminal) stop training as Ctrl-C does: run.json with stopped = interrupted and a checkpoint, exit 130", async () => {
  await Promise.all((["SIGTERM", "SIGHUP"] as const).map(async (signal) => {
    const out = join(scratch, `interrupted-${signal}`);
    const child = spawn(process.execPath, [BIN, "train", "--device", "resistor", "--task", "xor", "--budget", "100000", "--max-iterations", "100000", "--out", out, "--no-progress"], { stdio: "ignore" });
    const exited = new Promise((resolve) => child.on("exit", (status) => resolve(status ?? child.signalCode)));
    await new Promise((resolve) => setTimeout(resolve, 6000));
    child.kill(signal);
    assert.equal(await exited, 130, signal);
    const run = JSON.parse(readFileSync(join(out, "run.json"), "utf8"));
    assert.equal(run.stopped, "interrupted", signal);
    assert.ok(run.iterations > 0 && existsSync(join(out, "checkpoint.bin")), signal);
  }));
});

const PYTHON = spawnSync("python3", ["--version"]).status === 0;

test("a terminal that hangs up (a closed window, a dropped ssh session) stops training as Ctrl-C does, with the progress bar drawing or not: run.json kept, exit 130 (with the bar, its write's EIO ended hge at once, nothing kept; without, Node aborted at exit)", { skip: !PYTHON && "no python3 to own a pseudo-terminal" }, () => {
  // the run on a pseudo-terminal of its own, which this script closes once the run has drawn on it
  const script = `import os, pty, select, sys, time
pid, fd = pty.fork()
if pid == 0:
    os.execv(${JSON.stringify(process.execPath)}, [${JSON.stringify(process.execPath)}, ${JSON.stringify(BIN)}] + sys.argv[1:])
seen, start = b"", time.time()
while time.time() - start < (5 if "--no-progress" in sys.argv else 60) and b"XOR" not in seen:
    if select.select([fd], [], [], 0.2)[0]:
        try: seen += os.read(fd, 65536)
        except OSError: break
time.sleep(2)
os.close(fd)
print(os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]))
`;
  for (const bar of [[], ["--no-progress"]]) {
    const out = join(scratch, `hung-up${bar.length ? "-no-bar" : ""}`);
    const r = spawnSync("python3", ["-c", script, "train", "--device", "resistor", "--task", "xor", "--budget", "100000", "--out", out, ...bar], { encoding: "utf8", timeout: 120_000 });
    assert.equal(r.stdout.trim(), "130", `${bar}: ${r.stdout}${r.stderr}`);
    const run = JSON.parse(readFileSync(join(out, "run.json"), "utf8"));
    assert.equal(run.stopped, "interrupted");
    assert.ok(run.iterations > 0 && existsSync(join(out, "checkpoint.bin")));
  }
});

const SCRIPT = ["/usr/bin/script", "/bin/script"].find(existsSync);

test("the progress bar on a terminal: against the budget with an ETA, or, when the budget is too large to count in samples (--budget 1e308), the device-seconds alone", { skip: !SCRIPT && "no script(1) to give the run a terminal" }, () => {
  /** The bar's last render: stderr on a pseudo-terminal (util-linux script), escapes removed. */
  const lastBar = (...args: string[]) => {
    const r = spawnSync(SCRIPT!, ["-qec", [process.execPath, BIN, "train", "--task", "and", "--out", join(scratch, "bar"), ...args].join(" "), "/dev/null"], { encoding: "utf8", timeout: 120_000 });
    assert.equal(r.status, 0, r.stdout);
    const renders = r.stdout.replace(/\x1b(\[[0-9;?]*[a-zA-Z]|7|8)/g, "\r").split(/[\r\n]+/).filter((l) => l.startsWith("AND |"));
    return renders.at(-1)!;
  };
  assert.match(lastBar(), /^AND \|[█░]{10}\| [0-9.]+\/300 s \| margin [0-9.-]+ % \| loss +[0-9.]+ \| ETA \S+$/);
  assert.match(lastBar("--budget", "1e308"), /^AND \| [0-9.]+ s \| margin [0-9.-]+ % \| loss +[0-9.]+$/);
});

test("--live: the run waits for a page; an idle connection to it (a browser's preconnect) neither starts the run, nor holds its end, nor loses it", { timeout: 60_000 }, async () => {
  const out = join(scratch, "live-idle");
  const { exited, url, stderr } = await liveRun(out, "--task", "and", "--max-iterations", "3");
  const idle = connect(Number(new URL(url).port), "127.0.0.1"); // never sends a request
  idle.on("error", () => {});
  await new Promise((resolve) => setTimeout(resolve, 1500));
  assert.equal(existsSync(join(out, "run.json")), false, "the run did not wait for a page");
  // the page: its stream, which a browser's socket answers the server's close on
  const page = new WebSocket(`${url.replace(/^http/, "ws")}stream`);
  const first = new Promise((resolve) => page.once("message", (data) => resolve(JSON.parse(String(data)).type)));
  const started = performance.now();
  const code = await exited;
  idle.destroy();
  assert.equal(code, 1, stderr());
  assert.equal(await first, "start"); // the page saw the run from its start
  assert.ok(performance.now() - started < 20_000, `ended ${((performance.now() - started) / 1000).toFixed(1)} s after the page opened`);
  assert.equal(JSON.parse(readFileSync(join(out, "run.json"), "utf8")).iterations, 3);
});

test("--live: Ctrl-C while the run waits for a page exits 130 without training, a stack trace or an empty --out left behind (nor the directories made to hold it)", { timeout: 60_000 }, async () => {
  const out = join(scratch, "live-waiting", "nested", "out");
  const { child, exited, stderr } = await liveRun(out, "--task", "xor");
  child.kill("SIGINT");
  assert.equal(await exited, 130, stderr());
  assert.doesNotMatch(stderr(), /\n\s+at |Error/);
  assert.equal(existsSync(join(scratch, "live-waiting")), false); // the --out it made for the run is not left behind, empty
});

test("--live with a flag the run refuses (--port without --board): refused before a live view is offered", () => {
  refusal(["train", "--task", "xor", "--live", "--port", "8080"], USAGE, /--port applies with --board/);
});

test("the demo trains all six gates on the default dopant network and writes an index", () => {
  const out = join(scratch, "demo");
  const started = performance.now();
  const { status, stdout, stderr } = hge("demo", "--out", out, "--no-progress");
  const seconds = (performance.now() - started) / 1000;
  assert.equal(status, 0, stdout + stderr);
  for (const gate of ["AND", "OR", "NAND", "NOR", "XOR", "XNOR"]) assert.match(stdout, new RegExp(`^${gate} +yes +\\d+ +[\\d.]+ +[\\d.]+ %$`, "m"));
  assert.match(stdout, /^6\/6 gates solved on /m);
  assert.match(readFileSync(join(out, "index.html"), "utf8"), /<h1>hge demo: 6 of 6 gates solved on /);
  assert.ok(existsSync(join(out, "index.html")));
  for (const gate of ["and", "or", "nand", "nor", "xor", "xnor"]) assert.ok(existsSync(join(out, gate, "report.html")), gate);
  assert.ok(seconds < 120, `demo took ${seconds.toFixed(1)} s`); // the README's promise
});

test("Ctrl-C during the demo: the gates under way finish, the others do not start, and the finished ones are kept with an index (exit 130)", { timeout: 120_000 }, async () => {
  const out = join(scratch, "demo-interrupted");
  // one worker: the gates run one after another, XOR first (a line a gate off a terminal)
  const child = spawn(process.execPath, [BIN, "demo", "--out", out, "--workers", "1"], { stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "", stderr = "";
  child.stdout.on("data", (chunk) => (stdout += chunk));
  const exited = new Promise<number | null>((resolve) => child.on("exit", resolve));
  await new Promise<void>((resolve) => child.stderr.on("data", (chunk) => {
    stderr += chunk;
    if (/^ {2}XOR: /m.test(stderr)) resolve();
  }));
  child.kill("SIGINT");
  assert.equal(await exited, 130, stderr);
  const finished = [...stderr.matchAll(/^ {2}([A-Z]+): (?:solved|not solved)/gm)].map((m) => m[1]);
  assert.ok(finished.length >= 1 && finished.length < 6, stderr);
  assert.match(stderr, new RegExp(`^hge: interrupted: ${finished.length} of 6 gates finished, kept in .*index\\.html$`, "m"));
  const index = readFileSync(join(out, "index.html"), "utf8");
  assert.match(index, new RegExp(`Interrupted \\(Ctrl-C\\): ${finished.length} of 6 gates finished`));
  const solved = [...stderr.matchAll(/^ {2}[A-Z]+: solved/gm)].length;
  assert.match(index, new RegExp(`<h1>hge demo: ${solved} of ${finished.length} gates solved on `));
  assert.match(stdout, new RegExp(`^${solved}/${finished.length} gates solved \\(${6 - finished.length} of the 6 not trained\\) on `, "m"));
  for (const gate of ["XOR", "XNOR", "NAND", "NOR", "AND", "OR"]) {
    const kept = finished.includes(gate);
    assert.equal(existsSync(join(out, gate.toLowerCase(), "report.html")), kept, gate);
    assert.equal(new RegExp(`^${gate} +(yes|no) `, "m").test(stdout), kept, `${gate} in the table`);
  }
});

test("hge board list names the emulated boards, and hge board check accepts the release module on them", () => {
  const list = hge("board", "list");
  assert.equal(list.status, 0, list.stderr);
  assert.match(list.stdout, /mps2-an386\s+cortex-m4\s+emulated/);
  assert.match(list.stdout, /virt-rv32\s+rv32imafc\s+emulated/);
  const check = hge("board", "check", "mps2-an386");
  assert.equal(check.status, 0, check.stdout + check.stderr);
  assert.match(check.stdout, /mps2-an386: ok/);
});

test("a run resumed from a resumed run counts every run in the chain: runs, iterations and device time in all", () => {
  const first = { iterations: 15, deviceSeconds: 4.5 };
  const second = { iterations: 20, deviceSeconds: 6.25, resumedFrom: first };
  assert.deepEqual(resumedTotals({ iterations: 7, deviceSeconds: 2, resumedFrom: second }), { runs: 3, iterations: 42, deviceSeconds: 12.75 });
  assert.deepEqual(resumedTotals({ iterations: 7, deviceSeconds: 2 }), { runs: 1, iterations: 7, deviceSeconds: 2 });
});

test("a new run into an --out whose run.json is corrupt, truncated or missing beside a checkpoint.bin is refused, naming --resume checkpoint.bin; the checkpoint is kept (it was replaced)", () => {
  const out = join(scratch, "corrupt-run-json");
  assert.equal(hge("train", "--task", "and", "--max-iterations", "3", "--out", out, "--no-progress").status, 1);
  const runFile = join(out, "run.json"), checkpointFile = join(out, "checkpoint.bin");
  const checkpoint = readFileSync(checkpointFile);
  for (const damage of ["truncated", "missing"] as const) {
    if (damage === "truncated") writeFileSync(runFile, readFileSync(runFile).subarray(0, 200));
    else rmSync(runFile);
    const again = hge("train", "--task", "and", "--max-iterations", "1", "--out", out, "--no-progress");
    assert.equal(again.status, 2, again.stdout + again.stderr);
    const read = damage === "truncated" ? "cannot be read \\(not a run\\.json of hge's: corrupt or truncated\\)" : "is missing";
    assert.match(again.stderr, new RegExp(`^hge: \\S+run\\.json ${read}, beside \\S+checkpoint\\.bin, a run that may not have finished: --resume \\S+checkpoint\\.bin goes on from it; to start again remove them or give another --out\\n$`));
    assert.deepEqual(readFileSync(checkpointFile), checkpoint, "the checkpoint is kept");
  }
  // what the refusal asks for: resumed from the checkpoint.bin into the same --out
  assert.equal(hge("train", "--task", "and", "--max-iterations", "1", "--resume", checkpointFile, "--out", out, "--no-progress").status, 1);
});

test("--resume OUT/checkpoint.bin --out OUT keeps the run.json beside it in resumedFrom, as --resume run.json does (it was replaced, the earlier run's record lost)", () => {
  const out = join(scratch, "resume-checkpoint-history");
  assert.equal(hge("train", "--task", "and", "--max-iterations", "3", "--out", out, "--no-progress").status, 1);
  const { format: _, ...earlier } = JSON.parse(readFileSync(join(out, "run.json"), "utf8"));
  const run = hge("train", "--task", "and", "--max-iterations", "2", "--resume", join(out, "checkpoint.bin"), "--out", out, "--no-progress");
  assert.equal(run.status, 1, run.stdout + run.stderr);
  const after = JSON.parse(readFileSync(join(out, "run.json"), "utf8"));
  assert.deepEqual(after.resumedFrom, earlier);
  assert.match(run.stdout, new RegExp(`with the run it resumed \\(kept in run\\.json: resumedFrom\\): ${3 + after.iterations} iterations`));
  // a run.json beside it of another checkpoint (not this one's run) is not taken for its history
  const other = join(scratch, "resume-checkpoint-other");
  assert.equal(hge("train", "--task", "and", "--max-iterations", "1", "--seed", "2", "--out", other, "--no-progress").status, 1);
  cpSync(join(other, "run.json"), join(out, "run.json"));
  assert.equal(hge("train", "--task", "and", "--max-iterations", "1", "--resume", join(out, "checkpoint.bin"), "--out", out, "--no-progress").status, 1);
  assert.equal(JSON.parse(readFileSync(join(out, "run.json"), "utf8")).resumedFrom, undefined);
});

// A run.json keeps the run it resumed whole (resumedFrom), which keeps its own: a hand-made one
// nesting 100,000 runs was read, trained on, and then overflowed the stack when saved (exit 4,
// the run's run.json not written).
test("--resume of a run.json nesting more runs than hge keeps (1000 with the new one) is refused with one line before training, exit 3; one run fewer is resumed and counted", () => {
  const out = join(scratch, "resume-deep");
  assert.equal(hge("train", "--task", "and", "--max-iterations", "1", "--out", out, "--no-progress").status, 1);
  const run = JSON.parse(readFileSync(join(out, "run.json"), "utf8"));
  // the run.json's text, written out: JSON.stringify overflows the stack as hge's save did
  const nesting = (levels: number) => {
    let inner = `{"iterations":1,"deviceSeconds":0.5}`;
    for (let k = 1; k < levels; k++) inner = `{"iterations":1,"deviceSeconds":0.5,"resumedFrom":${inner}}`;
    return JSON.stringify(run).replace(/}$/, `,"resumedFrom":${inner}}`);
  };
  for (const levels of [999, 100_000]) {
    const file = join(scratch, `deep-${levels}.json`);
    writeFileSync(file, nesting(levels));
    const refused = hge("train", "--task", "and", "--max-iterations", "1", "--resume", file, "--out", join(scratch, `deep-${levels}`), "--no-progress");
    assert.equal(refused.status, 3, refused.stdout + refused.stderr);
    assert.match(refused.stderr, new RegExp(`^hge: configuration refused: --resume \\S+deep-${levels}\\.json keeps ${levels} runs it resumed, one inside another \\(resumedFrom\\); resumed, its run\\.json would hold ${levels + 2} runs, and hge keeps at most 1000; to start from its controls give --initial-v \\S+\\n$`));
    assert.equal(existsSync(join(scratch, `deep-${levels}`, "run.json")), false, "nothing trained");
  }
  const file = join(scratch, "deep-998.json");
  writeFileSync(file, nesting(998));
  const resumed = hge("train", "--task", "and", "--max-iterations", "1", "--resume", file, "--out", join(scratch, "deep-998"), "--no-progress");
  assert.equal(resumed.status, 1, resumed.stdout + resumed.stderr);
  assert.match(resumed.stdout, /with the 999 runs it resumed \(kept in run\.json: resumedFrom\): 1000 iterations/);
  assert.equal(resumedTotals(JSON.parse(readFileSync(join(scratch, "deep-998", "run.json"), "utf8"))).runs, 1000);
});

test("--resume of a run.json of another format version offers its controls as --initial-v, as the other refusals do, where they are finite volts", () => {
  const older = join(scratch, "older-format.json");
  writeFileSync(older, JSON.stringify({ format: "hge-run/1", task: "AND", finalWeights: [0.1, -0.25, 0, 0.3, -0.5] }));
  refusal(["train", "--task", "and", "--resume", older], USAGE, /^hge: --resume \S+older-format\.json: a run\.json of format hge-run\/1; this hge reads hge-run\/2; to start from its controls give --initial-v 0\.1,-0\.25,0,0\.3,-0\.5$/);
  writeFileSync(older, JSON.stringify({ format: "hge-run/1", finalWeights: [0.1, null, 0, 0.3, -0.5] }));
  refusal(["train", "--task", "and", "--resume", older], USAGE, /: a run\.json of format hge-run\/1; this hge reads hge-run\/2$/);
});

test("--workers beyond a few a core (MAX_WORKERS) is refused in one line naming the range, for hge compare and hge demo (32 on 2 cores took 1.5 GB)", () => {
  const beyond = String(MAX_WORKERS + 1);
  refusal(["compare", "--task", "and", "--methods", "walsh", "--seeds", "1", "--max-iterations", "1", "--no-progress", "--workers", beyond], USAGE, /--workers/, new RegExp(`expected a whole number from 1 to ${MAX_WORKERS}\\.$`));
  refusal(["demo", "--max-iterations", "1", "--no-progress", "--workers", beyond], USAGE, /--workers/, new RegExp(`expected a whole number from 1 to ${MAX_WORKERS}\\.$`));
});

test("the command a run keeps (run.json, report.html) is one a shell runs as given: a word with a space or a quote in single quotes, plain words as they are (it was joined with spaces)", () => {
  const out = join(scratchDir("hge-command-"), "it's my run");
  const r = hge("train", "--task", "xor", "--max-iterations", "1", "--band", "100,800", "--out", out, "--no-progress");
  assert.ok(r.status === 0 || r.status === 1, r.stderr);
  const command = JSON.parse(readFileSync(join(out, "run.json"), "utf8")).command;
  assert.equal(command, `hge train --task xor --max-iterations 1 --band 100,800 --out '${out.replace("it's", `it'"'"'s`)}' --no-progress`);
  // the shell gives the words back
  const words = spawnSync("sh", ["-c", `printf '%s\\n' ${command}`], { encoding: "utf8" }).stdout.trimEnd().split("\n");
  assert.deepEqual(words, ["hge", "train", "--task", "xor", "--max-iterations", "1", "--band", "100,800", "--out", out, "--no-progress"]);
});

test("--live refuses what the module would refuse before it waits for a page (it waited, and the refusal came only once a page opened, the page saying nothing of it)", () => {
  const out = join(scratchDir("hge-live-refused-"), "run");
  const r = hge("train", "--task", "xor", "--initial-v", "5,5,5,5,5", "--live", "--out", out);
  assert.equal(r.status, 3, r.stdout + r.stderr);
  assert.equal(r.stderr, "hge: configuration refused: control 1 would start at 5 V (--initial-v or --resume), outside its range [-1.2, 0.6] V\n");
  assert.ok(!existsSync(out));
});

test("a refusal that comes once the live page is open (pat's settings) is said on the page too: the stream ends with the reason (it ended with nothing)", async () => {
  const run = await liveRun(join(scratchDir("hge-live-reason-"), "run"), "--method", "pat", "--task", "and", "--set", "hiddenUnits=10000000");
  const socket = new WebSocket(`${run.url.replace("http", "ws")}stream`, { origin: run.url.replace(/\/$/, "") });
  const messages: string[] = [];
  socket.on("message", (message) => messages.push(String(message)));
  const closed = new Promise((resolve) => socket.on("close", resolve));
  assert.equal(await run.exited, 3, run.stderr());
  await closed;
  assert.deepEqual(messages.map((m) => JSON.parse(m)), [{ type: "end", solved: false, stopped: "error", reason: "pat: hiddenUnits must be a whole number 1 .. 256 (default 32), not 10000000" }]);
});
