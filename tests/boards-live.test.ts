// The live view (host/live) in a real browser: Debian's chromium driven by puppeteer-core (no
// browser download). A page opened before training starts must receive points while the
// controller trains on the emulated board (hge train --board … --live), and end with one
// point per update on every chart: loss and criterion, case outputs and the threshold, the
// controls, and the last window's spectrum with the tones marked.
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import puppeteer from "puppeteer-core";
import { startLive } from "../host/live/server.ts";
import { ensureToolchain } from "../boards/build.ts";
import { buildLinkFirmware, trainOnBoard } from "../boards/hil.ts";
import { observeDevice } from "../host/live/observe.ts";
import { findMethod } from "../host/methods/index.ts";
import { estimatorUsesTones } from "../host/methods/module.ts";
import { AnalyticDevice } from "../host/devices/analytic.ts";
import { gateTask } from "../host/tasks/gates.ts";
import { DEFAULTS } from "../host/train.ts";

const CHROMIUM = ["/usr/bin/chromium", "/usr/bin/chromium-browser"].find(existsSync);
let noToolchain: string | false = false;
try { ensureToolchain(); } catch (e) { noToolchain = `board toolchain unavailable: ${(e as Error).message}`; }
const skip = { skip: !CHROMIUM ? "no chromium (apt-get install chromium)" : noToolchain };

test("hge train --board mps2-an386 --live: Chromium plots points while the run trains", skip, async () => {
  const built = buildLinkFirmware("mps2-an386", { quiet: true });
  const live = await startLive();
  assert.match(live.url, /^http:\/\/127\.0\.0\.1:\d+\/$/); // localhost only
  const browser = await puppeteer.launch({ executablePath: CHROMIUM, headless: true, args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"] });
  try {
    const page = await browser.newPage();
    await page.goto(live.url);
    await page.waitForFunction(() => document.getElementById("status")?.textContent?.startsWith("connected"));
    let done = false;
    const training = trainOnBoard({ board: "mps2-an386", built, task: "and", live: live.publish }).finally(() => { done = true; });
    // poll the page while the board trains: the count of updates it has drawn
    const seenWhileTraining: number[] = [];
    while (!done) {
      const updates = await page.evaluate(() => (window as unknown as { hgeLive: { updates: number } }).hgeLive.updates);
      if (!done) seenWhileTraining.push(updates);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    const { result } = await training;
    assert.ok(result.solved);
    // points arrived while the board was still training: the page drew some updates, not all
    assert.ok(seenWhileTraining.some((n) => n > 0 && n < result.iterations), `updates drawn at each poll during training: ${seenWhileTraining.join(",")}`);
    await page.waitForFunction((n) => (window as unknown as { hgeLive: { updates: number } }).hgeLive.updates === n, {}, result.iterations);
    const state = await page.evaluate(() => {
      const s = (window as unknown as { hgeLive: { loss: number[][]; cases: (number | null)[][]; controls: number[][]; spectrum: number[][]; tones: number[]; ended: { solved: boolean } } }).hgeLive;
      return { loss: s.loss[0].length, cases: s.cases.map((c) => c.length), controls: s.controls.map((c) => c.length), spectrum: s.spectrum[0].length, tones: s.tones, ended: s.ended, canvases: document.querySelectorAll("canvas").length, title: document.getElementById("title")!.textContent };
    });
    assert.equal(state.loss, result.iterations);
    assert.equal(state.cases.length, 1 + 4 + 1); // updates, 4 cases, the threshold
    assert.ok(state.cases.every((n) => n === result.iterations));
    assert.equal(state.controls.length, 1 + result.finalWeights.length);
    assert.equal(state.spectrum, result.module!.controller.windowSamples / 2); // bins 1 … W/2
    assert.deepEqual(state.tones.map((hz) => Math.round(hz)), result.module!.toneHz.map((hz) => Math.round(hz)));
    assert.equal(state.canvases, 4);
    assert.equal(state.ended.solved, true);
    assert.match(state.title!, /^AND on dopant-network.*controller on mps2-an386$/);
    process.stderr.write(`live: the page had ${seenWhileTraining.filter((n) => n > 0).length} polls with points before training ended (${seenWhileTraining.join(",")}); ${result.iterations} updates in all\n`);
  } finally {
    await browser.close();
    await live.close();
  }
});

test("a run on the host: what the live view observes at the device matches what the controller measured", async () => {
  const device = new AnalyticDevice();
  const task = gateTask("AND", device.inputRangeV);
  const observer = observeDevice(device, task, { windowSamples: DEFAULTS.windowSamples, sampleRateHz: DEFAULTS.sampleRateHz, tones: true });
  const snapshots: ReturnType<typeof observer.snapshot>[] = [];
  const result = await findMethod("multitone")!.train(observer.device, task, { deviceSeconds: 60, maxIterations: 20 }, { seed: 1, progress: () => snapshots.push(observer.snapshot()) });
  assert.equal(snapshots.length, result.iterations);
  const last = snapshots.at(-1)!;
  // the tones: where each control's voltage peaks, bin-exact with the module's plan (in the last
  // window that perturbed: the held confirmations after it give no spectrum)
  assert.deepEqual(snapshots.filter((s) => s.spectrum).at(-1)!.spectrum!.tonesHz, result.module!.toneHz);
  // each case's output: the device's mean output over the case's last window, within 0.5 nA of
  // the controller's demodulated value (chain noise, quantization, the perturbation's curvature)
  const measured = result.history.caseOutputs!.at(-1)!;
  for (let p = 0; p < 4; p++) assert.ok(Math.abs(last.caseOutputs![p] - measured[p]) < 0.5, `case ${p + 1}: ${last.caseOutputs![p]} vs ${measured[p]}`);
  // the controls: the mean over the last window is the weights before the update (within 1 mV)
  const before = result.history.weights.at(-2)!;
  for (let k = 0; k < before.length; k++) assert.ok(Math.abs(last.weights![k] - before[k]) < 1e-3, `control ${k + 1}: ${last.weights![k]} vs ${before[k]}`);
  assert.ok(last.threshold! > Math.min(...measured) && last.threshold! < Math.max(...measured));
});

test("the live view observes the window the method measured over, not the one it guessed: published's 2000 samples, walsh's whole code periods; no tone where a held confirmation read its controls plainly, nor for codes", async () => {
  for (const name of ["published", "walsh"] as const) {
    const device = new AnalyticDevice();
    // XOR: unsolved in 6 updates, every window perturbed (a solved epoch's confirmation reads
    // its held controls plainly: no tone to find there)
    const task = gateTask("XOR", device.inputRangeV);
    // what bin/cli.ts guesses before the run: the default window (200 samples)
    const observer = observeDevice(device, task, { windowSamples: DEFAULTS.windowSamples, sampleRateHz: DEFAULTS.sampleRateHz, tones: estimatorUsesTones(name) });
    const windows: number[] = [];
    const snapshots: ReturnType<typeof observer.snapshot>[] = [];
    const result = await findMethod(name)!.train(observer.device, task, { deviceSeconds: 60, maxIterations: 6 }, {
      seed: 1, progress: (p) => { windows.push(p.windowSamples!); snapshots.push(observer.snapshot(p.windowSamples)); },
    });
    const window = result.module!.controller.windowSamples;
    assert.notEqual(window, DEFAULTS.windowSamples, `${name} measures over its own window`);
    assert.ok(windows.every((w) => w === window), `${name}: Progress says ${windows}`);
    const last = snapshots.at(-1)!;
    // the spectrum's bins are the method's: fs / window apart
    assert.ok(Math.abs(last.spectrum!.hz[0] - DEFAULTS.sampleRateHz / window) < 1e-9, `${name}: first bin ${last.spectrum!.hz[0]} Hz`);
    // tones where the method has them; walsh's codes have none (each control's code spectrum
    // peaks somewhere, and two controls' at one frequency: those were marked as tones)
    assert.deepEqual(last.spectrum!.tonesHz, name === "published" ? result.module!.toneHz : []);
    // each case's output: the device's mean over the case's last window, within 0.5 nA of the controller's
    const measured = result.history.caseOutputs!.at(-1)!;
    for (let p = 0; p < 4; p++) assert.ok(Math.abs(last.caseOutputs![p] - measured[p]) < 0.5, `${name} case ${p + 1}: ${last.caseOutputs![p]} vs ${measured[p]}`);
  }
  // AND solves in 3 updates: every window seen in published's own 2000 samples is a held
  // confirmation, read plainly; no spectrum is given rather than one with invented tones, or the
  // flat one of held controls (the page keeps the last it had)
  const device = new AnalyticDevice();
  const and = gateTask("AND", device.inputRangeV);
  const observer = observeDevice(device, and, { windowSamples: DEFAULTS.windowSamples, sampleRateHz: DEFAULTS.sampleRateHz, tones: true });
  let last: ReturnType<typeof observer.snapshot> = {};
  const result = await findMethod("published")!.train(observer.device, and, { deviceSeconds: 60, maxIterations: 6 }, { seed: 1, progress: (p) => { last = observer.snapshot(p.windowSamples); } });
  assert.equal(result.stopped, "solved");
  assert.equal(last.spectrum, undefined);
  assert.ok(last.caseOutputs?.length === 4 && last.weights?.length === 5);
});
