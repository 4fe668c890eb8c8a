// Shared set-ups for the host tests: an analytic device with a known optimum, a controller
// configuration that matches it, and the `hge` command run as a user runs it.
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { AnalyticDevice } from "../host/devices/analytic.ts";
import { ResistorNetwork } from "../host/devices/resistor.ts";
import type { ControllerConfig } from "../host/controller.ts";
import { Rng } from "../host/noise.ts";
import { METHOD_NAMES } from "../host/methods/index.ts";
import { MODULE_METHODS } from "../host/methods/module.ts";

export const SAMPLE_RATE_HZ = 5000;

/** `count` input cases spread over the device's input ranges (seeded). */
export function inputCases(device: AnalyticDevice, count: number, seed = 7): number[][] {
  const rng = new Rng(seed);
  return Array.from({ length: count }, () => device.inputRangeV.map(([low, high]) => rng.between(low, high)));
}

/** A controller configuration for MSE regression onto targets the device realises exactly
 *  at device.knownOptimumV, starting from the middle of every range. */
export function analyticConfig(device: AnalyticDevice, overrides: Partial<ControllerConfig> = {}): ControllerConfig {
  const cases = inputCases(device, device.controlCount + 1);
  const targets = device.targetsFor(device.knownOptimumV, cases);
  return {
    sampleRateHz: SAMPLE_RATE_HZ,
    windowSamples: 1000,
    settleSamples: 40,
    tones: { plan: { bandLowHz: 100, bandHighHz: 1000 } },
    guardBins: 1,
    controls: device.controlRangeV.map(([minV, maxV]) => ({ amplitudeV: 0.01, minV, maxV, initialV: (minV + maxV) / 2 })),
    inputs: device.inputRangeV.map(([minV, maxV]) => ({ minV, maxV })),
    cases: cases.map((inputsV, p) => ({ inputsV, target: targets[p] })),
    loss: "mse",
    optimiser: "adam",
    learningRate: 0.02,
    beta1: 0.9,
    beta2: 0.99,
    calibrationEpochs: 0,
    reading: { min: -1000, max: 1000 },
    ...overrides,
  };
}

export { cosine, relativeError } from "../host/metrics.ts";

/** The `hge` command as installed (node bin/hge.mjs). */
export const BIN = fileURLToPath(new URL("../bin/hge.mjs", import.meta.url));

/** `hge args…` run to its end (at most five minutes). */
export function hge(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, [BIN, ...args], { encoding: "utf8", timeout: 300_000 });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** The module's estimators, by registry name (host/methods/module.ts). */
export const MODULE_NAMES = MODULE_METHODS.map((method) => method.name);

/** What `hge device` lists as the methods that can train `task` (its line "    and, or, …: a, b"). */
export function offeredFor(deviceStdout: string, task: string): string {
  const line = deviceStdout.split("\n").find((l) => l.startsWith("    ") && l.slice(4).split(": ")[0].split(", ").includes(task));
  assert.ok(line, `hge device lists no methods for ${task}:\n${deviceStdout}`);
  return line.slice(line.indexOf(": ") + 2);
}

/** `listed` ("a, b, c": the methods hge names as able to train a task) is registered methods in
 *  the registry's order, `offers` among them and `not` absent. A test names the methods its point
 *  is about, never the whole list: a method added to the registry (one file) changes no test. */
export function assertOffers(listed: string, { offers = [], not = [] }: { offers?: readonly string[]; not?: readonly string[] }): void {
  const names = listed.split(", ");
  assert.deepEqual(names, METHOD_NAMES.filter((name) => names.includes(name)), `not registered methods in the registry's order: ${listed}`);
  for (const name of offers) assert.ok(names.includes(name), `${name} is not offered: ${listed}`);
  for (const name of not) assert.ok(!names.includes(name), `${name} is offered: ${listed}`);
}

/** `hge train args… --live`, and the live view's URL once it says it waits for a page. */
export async function liveRun(out: string, ...args: string[]) {
  const child = spawn(process.execPath, [BIN, "train", ...args, "--live", "--out", out, "--no-progress"], { stdio: ["ignore", "pipe", "pipe"] });
  const exited = new Promise((resolve) => child.on("exit", (status) => resolve(status)));
  let stderr = "";
  const url = await new Promise<string>((resolve) => child.stderr.on("data", (chunk) => {
    stderr += chunk;
    const found = /live view at (http:\S+) — open it to start the run \(Ctrl-C to stop\)\n/.exec(stderr);
    if (found) resolve(found[1]);
  }));
  return { child, exited, url, stderr: () => stderr };
}

/** A new directory under the system's temporary one, removed when the test process exits. */
export function scratchDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  process.on("exit", () => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A resistor network that counts its measurements (`outputs`): a method that refuses its
 *  settings must do so before measuring anything. */
export function countingResistor(): ResistorNetwork & { outputs: number } {
  const device = new ResistorNetwork();
  const output = device.output.bind(device);
  const counted = Object.assign(device, { outputs: 0 });
  counted.output = (voltages) => {
    counted.outputs++;
    return output(voltages);
  };
  return counted;
}
