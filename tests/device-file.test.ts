// A device of the user's own (`--device my-device.ts`, host/devices/device-file.ts): hge trains
// and compares on it as on its own devices, measures its gradient as well, and refuses a file
// that does something wrong in one line naming what, at load or in the middle of a run.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { DeviceFileError, loadDeviceFile } from "../host/devices/device-file.ts";
import { median } from "../host/metrics.ts";
import { hge, scratchDir } from "./fixtures.ts";

const EXAMPLE = fileURLToPath(new URL("../host/devices/example-device.ts", import.meta.url));
const scratch = scratchDir("hge-device-file-");

/** A device file in the scratch directory (no package.json there: hge must load it as an ES
 *  module all the same) that takes the example device and changes it by `change` (code run
 *  with `device` bound), or the file's whole text. */
let files = 0;
function deviceFile(change: string, whole = false): string {
  const path = join(scratch, `device-${++files}.ts`);
  writeFileSync(path, whole ? change : `import { createDevice as make } from ${JSON.stringify(EXAMPLE)};
export function createDevice(options: { inputCount?: number; seed?: number }) {
  const device: any = make(options);
  ${change}
  return device;
}
`);
  return path;
}

test("a device file trains from the command line, and the gradient hge measures on it is its exact gradient within a few percent", () => {
  const out = join(scratch, "xor");
  const { status, stdout, stderr } = hge("train", "--device", EXAMPLE, "--task", "and", "--out", out, "--no-progress");
  assert.equal(status, 0, stderr);
  assert.match(stdout, /AND on photonic mesh \(seed 1\) by multitone: solved/);
  const run = JSON.parse(readFileSync(join(out, "run.json"), "utf8"));
  assert.equal(run.device, "photonic mesh (seed 1)");
  // each update's measured gradient against the file's outputGradient, chain-ruled the same way
  const errors = run.history.gradient.map((g: number[], i: number) => {
    const exact: number[] = run.history.exactGradient[i];
    return Math.hypot(...g.map((x, k) => x - exact[k])) / Math.hypot(...exact);
  });
  assert.ok(errors.length >= 3, `${errors.length} updates`);
  assert.ok(median(errors) < 0.05, `median relative error ${median(errors)}`);
  // --device-seed is createDevice's seed: another device
  const other = hge("train", "--device", EXAMPLE, "--device-seed", "2", "--task", "and", "--out", join(scratch, "seed2"), "--no-progress");
  assert.match(other.stdout, /on photonic mesh \(seed 2\)/, other.stderr);
});

test("hge demo --device trains the six gates on a device file", () => {
  const out = join(scratch, "demo");
  const { status, stdout, stderr } = hge("demo", "--device", EXAMPLE, "--out", out, "--no-progress");
  assert.equal(status, 0, stdout + stderr);
  assert.match(stdout, /^6\/6 gates solved on photonic mesh \(seed 1\)/m);
  assert.equal(stderr, ""); // --no-progress: nothing but errors
  assert.equal(JSON.parse(readFileSync(join(out, "xor", "run.json"), "utf8")).device, "photonic mesh (seed 1)");
});

test("hge device shows what hge sees of a device file and which methods can train each task on it; a bad file is refused in one line", () => {
  const { status, stdout, stderr } = hge("device", EXAMPLE);
  assert.equal(status, 0, stderr);
  assert.match(stdout, /^photonic mesh \(seed 1\): 5 controls, 2 data inputs, output in nA$/m);
  assert.match(stdout, /^  control ranges \(V\): \[-1, 1\] × 5$/m);
  assert.match(stdout, /^  exact gradient: given/m);
  assert.match(stdout, /^    and, or, nand, nor, xor, xnor, sphere, regression: multitone, published, sequential, spsa, random, walsh, pat, pat-hge$/m);
  assert.match(stdout, /^    iris: pat, phyll, phyll-hge$/m);
  assert.match(stdout, /^  outputs over 1000 random settings: [\d.]+ to [\d.]+ nA; the chain reads -285 to 285$/m);
  // a device whose outputs reach beyond what the chain reads is told so
  const loud = hge("device", deviceFile("const f = device.output.bind(device); device.output = (v: any) => 10 * f(v); device.outputGradient = undefined;"));
  assert.match(loud.stdout, /the chain reads -285 to 285: beyond it readings saturate and their windows are discarded/, loud.stderr);
  // the resistor network's capabilities bring its own methods to the regression, and its 8
  // controls are more than the published preset drives
  const resistor = hge("device", "resistor", "--device-seed", "1");
  assert.match(resistor.stdout, /^    and, or, nand, nor, xor, xnor, sphere: multitone, sequential, spsa, random, walsh, pat, pat-hge$/m);
  assert.match(resistor.stdout, /^    regression: multitone, sequential, spsa, random, walsh, analytic, coupled, ep, pat, pat-hge$/m);
  const bad = hge("device", deviceFile("device.inputRangeV = [];"));
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /^hge: --device .*: inputRangeV must be an array of 2 \[low, high\] pairs, volts\n$/);
});

test("the README's least device file, in plain JavaScript, trains XOR", () => {
  const readme = readFileSync(new URL("../README.md", import.meta.url), "utf8");
  const block = /```js\n(\/\/ my-device\.mjs:[\s\S]*?)```/.exec(readme)?.[1];
  assert.ok(block, "the README's my-device.mjs block");
  const path = join(scratch, "my-device.mjs");
  writeFileSync(path, block);
  const { status, stdout, stderr } = hge("train", "--device", path, "--task", "xor", "--out", join(scratch, "least"), "--no-progress");
  assert.equal(status, 0, stderr);
  assert.match(stdout, /^XOR on my device by multitone: solved/);
});

test("hge compare on a device file: each run is the one hge train gives (the worker threads load the file too)", () => {
  const out = join(scratch, "compare");
  const { status, stderr } = hge("compare", "--device", EXAMPLE, "--task", "xor", "--methods", "multitone,walsh", "--seeds", "2", "--workers", "2", "--out", out, "--no-progress");
  assert.equal(status, 0, stderr);
  const record = JSON.parse(readFileSync(join(out, "compare.json"), "utf8"));
  assert.equal(record.device, "photonic mesh (seed 1)");
  assert.equal(record.runs.length, 4);
  const trained = join(scratch, "walsh-2");
  assert.equal(hge("train", "--device", EXAMPLE, "--task", "xor", "--method", "walsh", "--seed", "2", "--out", trained, "--no-progress").status, 0);
  const expected = JSON.parse(readFileSync(join(trained, "run.json"), "utf8"));
  const run = record.runs.find((r: { method: string; seed: number }) => r.method === "walsh" && r.seed === 2);
  assert.deepEqual([run.deviceSeconds, run.iterations, run.criterion], [expected.deviceSeconds, expected.iterations, expected.criterion]);
});

test("a device file that does something wrong is refused at load, with one line naming the file and what is wrong", async () => {
  const cases: Array<[string, string, RegExp]> = [
    ["a control range the wrong way round", deviceFile("device.controlRangeV[1] = [1, -1];"), /controlRangeV\[1\] is \[1,-1\]; it must be \[low, high\]/],
    ["electrodes that do not add up", deviceFile("device.electrodeCount = 9;"), /electrodeCount is 9; it must be controlCount \+ inputCount = 7/],
    ["a unit hge has no chain for", deviceFile('device.outputUnit = "mA";'), /outputUnit is "mA"; .* for nA or V/],
    ["a resistor network's capability", deviceFile('device.capabilities = ["clamp-outputs"];'), /capability clamp-outputs is the resistor network model's/],
    ["assignable inputs without withInputCount", deviceFile('device.capabilities = ["assignable-inputs"];'), /offers assignable-inputs but has no withInputCount/],
    ["an output that is not deterministic", deviceFile("const f = device.output.bind(device); device.output = (v: any) => f(v) + Math.random();"), /output\(\) gave two values at the same voltages/],
    ["an exact gradient 10% off", deviceFile("const g = device.outputGradient.bind(device); device.outputGradient = (v: any) => g(v).map((x: number) => 1.1 * x);"), /outputGradient\(\) at the range midpoints is .* central differences .* within 2%/],
    ["a gradient of the wrong length", deviceFile("device.outputGradient = () => new Float64Array(2);"), /must give 5 finite numbers, one a control/],
    ["the wrong number of inputs", deviceFile("return make({ inputCount: 3 });"), /2 data inputs were asked for; createDevice\(\{ inputCount: 2 \}\) returned a device with inputCount 3/],
    ["createDevice throwing", deviceFile('throw new Error("no such instrument");'), /createDevice\(\{"inputCount":2\}\) threw: no such instrument/],
    ["no createDevice", deviceFile("export const device = 1;\n", true), /exports no createDevice\(options\) function \(its exports: device\)/],
    ["a syntax error", deviceFile("export function createDevice( {\n", true), /cannot be loaded: .*Expected identifier but found end of file/],
    ["no such file", join(scratch, "missing.ts"), /no such file/],
  ];
  for (const [what, path, expected] of cases) {
    await assert.rejects(loadDeviceFile(path, { inputCount: 2 }), (error: Error) => {
      assert.ok(error instanceof DeviceFileError, `${what}: ${error.stack}`);
      assert.ok(error.message.startsWith(`--device ${path}: `), `${what}: ${error.message}`);
      assert.match(error.message, expected, what);
      assert.ok(!error.message.includes("\n"), `${what}: more than one line`);
      return true;
    }, what);
  }
  // assignable inputs: withInputCount's device is checked as createDevice's is
  const assignable = (inputs: string) => deviceFile(`device.capabilities = ["assignable-inputs"]; device.withInputCount = (n: number) => make({ ...options, inputCount: ${inputs} });`);
  assert.equal((await loadDeviceFile(assignable("n"), { inputCount: 2 })).withInputCount!(4).inputCount, 4);
  const fixed = await loadDeviceFile(assignable("2"), { inputCount: 2 });
  assert.throws(() => fixed.withInputCount!(4), /: 4 data inputs were asked for; withInputCount\(4\) returned a device with inputCount 2$/);
  // an exact gradient as a plain array is taken (and checked) as a Float64Array is
  const plain = await loadDeviceFile(deviceFile("const g = device.outputGradient.bind(device); device.outputGradient = (v: any) => Array.from(g(v));"), { inputCount: 2 });
  assert.ok(plain.outputGradient!(new Float64Array(7)) instanceof Float64Array);
  // a promise of a device is a device (one that loads a surrogate model's weights first)
  const later = deviceFile("return new Promise((resolve) => setTimeout(() => resolve(device), 10));");
  assert.equal((await loadDeviceFile(later, { inputCount: 2, seed: 3 })).name, "photonic mesh (seed 3)");
  await assert.rejects(loadDeviceFile(deviceFile('return Promise.reject(new Error("no weights file"));'), { inputCount: 2 }), /createDevice\(\{"inputCount":2\}\) threw: no weights file/);
  // the example passes every check, its exact gradient among them
  const device = await loadDeviceFile(EXAMPLE, { inputCount: 2 });
  assert.equal(device.controlCount, 5);
  assert.ok(device.outputGradient);
});

test("a device file that fails in the middle of a run stops hge train, hge demo and hge compare with one line and exit 2, not a stack trace", () => {
  const failing = (calls: number) => deviceFile(`const f = device.output.bind(device); let calls = 0; device.output = (v: any) => (++calls > ${calls} ? NaN : f(v));`);
  const early = failing(1000);
  const runs = [["train", "--task", "xor", "--out", join(scratch, "nan-train")], ["demo", "--out", join(scratch, "nan-demo")],
    ["compare", "--task", "xor", "--seeds", "2", "--methods", "multitone,walsh", "--out", join(scratch, "nan-compare")]];
  for (const args of runs) {
    const { status, stdout, stderr } = hge(...args, "--device", early, "--no-progress");
    assert.equal(status, 2, `${args[0]}: ${stdout}${stderr}`);
    assert.match(stderr, new RegExp(`^hge: --device ${early.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}: output\\(\\) gave NaN at \\[[^\\]]+\\] V; it must be a finite number of nA`), args[0]);
    assert.equal(stderr.trimEnd().split("\n").length, 1, stderr);
    // compare keeps what finished, and says where
    if (args[0] === "compare") {
      const kept = join(args.at(-1)!, "compare.json");
      assert.ok(stderr.includes(`runs that finished are in ${kept}`), stderr);
      assert.ok(Array.isArray(JSON.parse(readFileSync(kept, "utf8")).runs));
    }
  }
});

test("what the module learned before a device file failed is kept, as on Ctrl-C: the report, run.json and a checkpoint that --resume continues from", () => {
  const out = join(scratch, "fault-kept");
  const failed = hge("train", "--device", deviceFile("const f = device.output.bind(device); let calls = 0; device.output = (v: any) => (++calls > 4000 ? NaN : f(v));"), "--task", "and", "--out", out, "--no-progress");
  assert.equal(failed.status, 2, failed.stderr);
  assert.match(failed.stdout, /not solved after \d+ iterations \(the device file failed\)/);
  const run = JSON.parse(readFileSync(join(out, "run.json"), "utf8"));
  assert.equal(run.stopped, "device");
  assert.equal(`hge: ${run.deviceFault}\n`, failed.stderr);
  assert.ok(run.iterations >= 1, `${run.iterations} updates before the fault`);
  assert.equal(run.history.weights.length, run.iterations + 1);
  assert.equal(run.history.exactGradient.length, run.iterations);
  const resumed = join(scratch, "fault-resumed");
  const again = hge("train", "--device", EXAMPLE, "--task", "and", "--resume", join(out, "checkpoint.bin"), "--out", resumed, "--no-progress");
  assert.equal(again.status, 0, again.stderr);
  assert.deepEqual(JSON.parse(readFileSync(join(resumed, "run.json"), "utf8")).history.weights[0], run.finalWeights);
});

