// A device file that throws where nothing catches it (a timer's callback, a promise nothing
// awaited) is a device fault as a throw from output() is (host/devices/device-file.ts:
// LoadedFile): one line naming the file and what it threw, exit 2, what the run learned kept;
// never Node's stack trace and exit 1.
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { spawnSync } from "node:child_process";
import { hge, scratchDir } from "./fixtures.ts";

const scratch = scratchDir("hge-device-file-async-");

/** A plain-JavaScript device file (the README's least one) named `name`, with `top` at its top
 *  level, `made` run in createDevice and `measured` at the start of every output(). */
function deviceFile(name: string, { top = "", made = "", measured = "" }): string {
  const path = join(scratch, `${name}.mjs`);
  writeFileSync(path, `${top}
let outputs = 0;
export function createDevice({ inputCount = 2 }) {
  ${made}
  return {
    name: "${name}",
    controlCount: 5,
    inputCount,
    electrodeCount: 5 + inputCount,
    controlRangeV: Array.from({ length: 5 }, () => [-1, 1]),
    inputRangeV: Array.from({ length: inputCount }, () => [-1, 1]),
    outputUnit: "nA",
    capabilities: [],
    output(v) {
      outputs++;
      ${measured}
      const [a, b, c, d, e, x, y] = v;
      return 80 * Math.tanh(a * x - b * y + 2 * c * x * y + d - 0.5 * e * e);
    },
  };
}
`);
  return path;
}

/** The one line a failed command gives: `hge: `, the file, what it threw; no stack trace. */
function oneLine(stderr: string, path: string, message: string): void {
  assert.doesNotMatch(stderr, /\n\s+at /, stderr);
  const lines = stderr.split("\n").filter((line) => line !== "");
  assert.equal(lines.length, 1, stderr);
  assert.ok(lines[0].startsWith(`hge: --device ${path}: `), stderr);
  assert.ok(lines[0].includes(message), stderr);
}

test("a device file's timer that throws while hge trains stops the run as a throw from output() does: one line, exit 2, the report and run.json kept", () => {
  // (thrown from a timer set at the 200th output: the run is under way when it fires, and a
  // constant output never solves XOR, so the run is still going however fast the machine)
  const path = deviceFile("throws-in-a-timer", { measured: 'if (outputs === 200) setTimeout(() => { throw new Error("the link dropped"); }, 0); return 1;' });
  const out = join(scratch, "timer");
  const { status, stderr } = hge("train", "--device", path, "--task", "xor", "--max-iterations", "400", "--out", out, "--no-progress");
  assert.equal(status, 2, stderr);
  oneLine(stderr, path, "the link dropped");
  assert.ok(existsSync(join(out, "report.html")));
  const run = JSON.parse(readFileSync(join(out, "run.json"), "utf8"));
  assert.equal(run.stopped, "device");
  assert.equal(`hge: ${run.deviceFault}\n`, stderr);
});

test("a device file whose createDevice throws from a timer 300 ms later: one line, exit 2, whether the run is under way or over then (kept either way)", () => {
  const path = deviceFile("throws-late", { made: 'setTimeout(() => { throw new Error("late uncaught"); }, 300);' });
  const out = join(scratch, "late");
  const { status, stderr } = hge("train", "--device", path, "--task", "and", "--max-iterations", "40", "--out", out, "--no-progress");
  assert.equal(status, 2, stderr);
  oneLine(stderr, path, "late uncaught");
  // (its load and its checks take far less than 300 ms: the run had started)
  assert.ok(existsSync(join(out, "report.html")) && existsSync(join(out, "run.json")), "the run's report and run.json are kept");
});

test("an asynchronous device file that throws on its thread where nothing caught it after the last call, or in a call whose caller let it pass (hge train's plain check), is told at exit: one line, exit 2 (it exited 0 with nothing said)", () => {
  const path = deviceFile("throws-after", { top: "export const asynchronous = true;", measured: 'if (outputs === 1) setTimeout(() => { throw new Error("the instrument went away"); }, 20);' });
  const module = join(import.meta.dirname, "..", "host", "devices", "device-file.ts");
  for (const [what, after] of [["nothing called after", ""], ["a call that let it pass", "try { device.output(voltages); } catch {}"]]) {
    const script = `import { loadDeviceFile } from ${JSON.stringify(module)};
const device = await loadDeviceFile(${JSON.stringify(path)}, { inputCount: 2 });
const voltages = new Float64Array(7);
device.output(voltages);
await new Promise((resolve) => setTimeout(resolve, 300));
${after}`;
    const caller = join(scratch, "caller.mjs"); // (not -e: the device thread would inherit --input-type)
    writeFileSync(caller, script);
    const { status, stdout, stderr } = spawnSync(process.execPath, ["--import", "tsx", caller], { encoding: "utf8", timeout: 60_000 });
    assert.equal(status, 2, `${what}: ${stdout}${stderr}`);
    oneLine(stderr, path, "threw where nothing caught it (a timer, an event handler or a promise nothing awaited): the instrument went away");
  }
});

test("a device file that leaves a rejected promise unhandled at its top level is refused at load: one line, exit 2", () => {
  const path = deviceFile("rejects-at-top", { top: 'Promise.reject(new Error("no weights file"));' });
  const out = join(scratch, "rejects");
  const { status, stdout, stderr } = hge("train", "--device", path, "--task", "and", "--max-iterations", "40", "--out", out, "--no-progress");
  assert.equal(status, 2, stdout + stderr);
  oneLine(stderr, path, "no weights file");
  for (const command of [["demo"], ["compare", "--task", "and", "--seeds", "1"]]) {
    const other = hge(...command, "--device", path, "--max-iterations", "10", "--out", join(scratch, command[0]), "--no-progress");
    assert.equal(other.status, 2, other.stdout + other.stderr);
    oneLine(other.stderr, path, "no weights file");
  }
});
