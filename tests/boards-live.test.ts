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
    assert.equal(state.spectrum, 250); // a 500-sample window: bins 1 … 250
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
