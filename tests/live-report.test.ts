// What the live view and the report show a reader: only what was measured (no device panels a
// method did not drive sample by sample, no empty plots, no warning about a run that merely
// stopped early), and the same names and numbers in both (cases from 1, the criterion as the
// command prints it).
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import WebSocket from "ws";
import puppeteer from "puppeteer-core";
import { liveRun, scratchDir } from "./fixtures.ts";
import { startLive, type LiveMessage, type LiveStart, type LiveUpdate } from "../host/live/server.ts";
import { findMethod } from "../host/methods/index.ts";
import { DopantNetwork } from "../host/devices/dopant.ts";
import { gateTask } from "../host/tasks/gates.ts";
import { TRANSPARENT_CHAIN, trainTask } from "../host/train.ts";
import { diagnose, lagText } from "../host/report/diagnose.ts";
import { controlsSpec, gradientNormSpec, outputsHistorySpec, runPlots, spectrumSpec } from "../host/report/plots.ts";
import { ResistorNetwork } from "../host/devices/resistor.ts";
import { regressionTask } from "../host/tasks/regression.ts";
import type { Result } from "../host/methods/method.ts";
import { writeRunReport } from "../host/report/html.ts";

const scratch = scratchDir("hge-live-report-");
const CHROMIUM = ["/usr/bin/chromium", "/usr/bin/chromium-browser"].find(existsSync);

/** Every message a page on `url`'s stream receives until the run ends. */
function stream(url: string): Promise<LiveMessage[]> {
  const messages: LiveMessage[] = [];
  const socket = new WebSocket(`${url.replace(/^http/, "ws")}stream`);
  return new Promise((resolve, reject) => {
    socket.on("message", (data) => {
      messages.push(JSON.parse(String(data)));
      if (messages.at(-1)!.type === "end") { socket.close(); resolve(messages); }
    });
    socket.on("error", reject);
  });
}

test("--live with a method measuring through the Instrument (analytic): loss and criterion, a note why the device panels are missing, never cases, controls or tones", { timeout: 60_000 }, async () => {
  const { exited, url, stderr } = await liveRun(join(scratch, "analytic"), "--device", "resistor", "--task", "regression", "--method", "analytic");
  const [messages, code] = await Promise.all([stream(url), exited]);
  assert.equal(code, 0, stderr());
  const start = messages[0] as LiveStart;
  assert.equal(start.type, "start");
  assert.match(start.unobserved!, /observed only for the module's estimators .* not for --method analytic/);
  const updates = messages.filter((m): m is LiveUpdate => m.type === "update");
  assert.ok(updates.length > 0);
  for (const u of updates) {
    assert.deepEqual([u.spectrum, u.caseOutputs, u.weights], [undefined, undefined, undefined], `update ${u.iteration}`);
    assert.match(u.criterionText!, /^\d\.\d+ V$/); // RMS error, as the summary prints it
  }
});

test("the live view and the report name cases alike, from 1, with short targets; the live criterion is the summary's; the page's icon is no 404", async () => {
  const live = await startLive();
  try {
    const targets = [0, 0.1 + 0.2]; // 0.30000000000000004
    live.publish({ type: "start", title: "t", criterionName: "margin", outputUnit: "nA", caseCount: 2, targets, controlCount: 1 });
    live.publish({ type: "update", iteration: 1, deviceSeconds: 0.1, loss: 1, criterion: 0.123 });
    live.publish({ type: "end", solved: false, stopped: "budget" });
    const [start, update] = await stream(live.url) as [LiveStart, LiveUpdate];
    assert.deepEqual(start.caseNames, ["case 1 → 0", "case 2 → 0.3"]);
    assert.equal(update.criterionText, "12.3 %");
    const spec = outputsHistorySpec({ targets, criterionName: "margin", history: { caseOutputs: [[1, 2]] } } as never) as { encoding: { color: { sort: string[] } } };
    assert.deepEqual(spec.encoding.color.sort.slice(0, 2), start.caseNames);
    assert.equal((await fetch(`${live.url}favicon.ico`)).status, 204);
  } finally {
    await live.close();
  }
});

test("a run interrupted before its first update (pat in its sweep): no warning that nothing was measured cleanly, and the report names its empty plots in one line instead of drawing them", async () => {
  const device = new DopantNetwork();
  const abort = new AbortController();
  abort.abort();
  const run = await findMethod("pat")!.train(device, gateTask("XOR", device.inputRangeV), { deviceSeconds: 100 }, { seed: 1, signal: abort.signal });
  assert.deepEqual([run.iterations, run.stopped], [0, "interrupted"]);
  assert.deepEqual(diagnose(run).filter((w) => /not finite/.test(w)), []);
  const plots = await runPlots(run);
  assert.deepEqual(plots.map((p) => p.title), ["Not drawn"]);
  assert.match(plots[0].svg, /^<p>Not drawn, no data \(no update was measured\): Loss, margin, Control voltages<\/p>$/);
});

test("the report: the spectrum's case is numbered from 1, and the distortion row names the distortion once", async () => {
  const device = new DopantNetwork();
  const run = trainTask({ device, task: gateTask("XOR", device.inputRangeV), seed: 1, maxIterations: 2 });
  assert.ok(run.module!.distortion);
  const title = (spectrumSpec(run) as { title: { text: string } }).title.text;
  assert.match(title, new RegExp(`\\(case ${run.module!.oneWindow.case + 1}, `));
  const report = readFileSync(await writeRunReport(run, scratchDir("hge-live-report-html-"), "hge train"), "utf8");
  assert.match(report, /third-order distortion/);
  assert.doesNotMatch(report, /third-order distortion(<[^>]*>|\s)*third-order distortion/);
});

test("the live page in Chromium: a regression's cases without a threshold, a method's unobserved panels replaced by its note, the summary's criterion, no console errors", { skip: !CHROMIUM && "no chromium (apt-get install chromium)" }, async () => {
  const browser = await puppeteer.launch({ executablePath: CHROMIUM, headless: true, args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"] });
  try {
    for (const unobserved of [undefined, "the device-level panels are not observed for --method pat"]) {
      const live = await startLive();
      try {
        const page = await browser.newPage();
        const errors: string[] = [];
        page.on("console", (m) => { if (m.type() === "error") errors.push(m.text()); });
        await page.goto(live.url);
        await page.waitForFunction(() => document.getElementById("status")?.textContent?.startsWith("connected"));
        live.publish({ type: "start", title: "regression", criterionName: "RMS error", outputUnit: "V", caseCount: 2, targets: [0.1, 0.2], controlCount: 1, ...(unobserved ? { unobserved } : {}) });
        live.publish({ type: "update", iteration: 1, deviceSeconds: 0.2, loss: 0.01, criterion: 0.04, ...(unobserved ? {} : { caseOutputs: [0.1, 0.3], threshold: 0.2, weights: [0.5], spectrum: { hz: [1, 2], magnitude: [1, 2], tonesHz: [1] } }) });
        await page.waitForFunction(() => (window as unknown as { hgeLive: { updates: number } }).hgeLive.updates === 1);
        const seen = await page.evaluate(() => ({
          status: document.getElementById("status")!.textContent,
          note: document.getElementById("note")!.textContent,
          casesTitle: document.querySelector("#c-cases h2")?.textContent,
          cases: (window as unknown as { hgeLive: { cases: unknown[] | null } }).hgeLive.cases?.length,
          canvases: document.querySelectorAll("canvas").length,
          legend: [...document.querySelectorAll("#c-cases .u-legend th")].map((th) => th.textContent),
        }));
        assert.match(seen.status!, /RMS error 0\.0400 V$/);
        assert.deepEqual(errors, []);
        if (unobserved) assert.deepEqual([seen.note, seen.casesTitle, seen.canvases], [unobserved, undefined, 1]);
        else {
          assert.deepEqual([seen.casesTitle, seen.cases], ["each case's output", 1 + 2]); // updates and two cases: no threshold
          assert.ok(seen.legend.some((t) => t?.includes("case 2 → 0.2")), seen.legend.join("|"));
        }
        await page.close();
      } finally {
        await live.close();
      }
    }
  } finally {
    await browser.close();
  }
});

test("the live stream: another site's page is refused (its Origin), the page's own taken; a page that opens late gets every update, the spectrum only with the latest", async () => {
  const live = await startLive();
  try {
    const spectrum = (k: number) => ({ hz: [1, 2], magnitude: [k, k], tonesHz: [1] });
    live.publish({ type: "start", title: "t", criterionName: "margin", outputUnit: "nA" });
    for (let k = 1; k <= 3; k++) live.publish({ type: "update", iteration: k, deviceSeconds: k, loss: 1, criterion: 0, spectrum: spectrum(k) });
    live.publish({ type: "end", solved: false, stopped: "budget" });
    const port = new URL(live.url).port;
    const refused = await new Promise((resolve) => {
      const socket = new WebSocket(`ws://127.0.0.1:${port}/stream`, { origin: "http://evil.example" });
      socket.on("open", () => resolve("opened"));
      socket.on("unexpected-response", (_, response) => resolve(response.statusCode));
      socket.on("error", () => resolve("error"));
    });
    assert.equal(refused, 401);
    for (const origin of [`http://127.0.0.1:${port}`, `http://localhost:${port}`]) {
      const messages = await new Promise<LiveMessage[]>((resolve, reject) => {
        const got: LiveMessage[] = [];
        const socket = new WebSocket(`ws://127.0.0.1:${port}/stream`, { origin });
        socket.on("message", (data) => { got.push(JSON.parse(String(data))); if (got.at(-1)!.type === "end") { socket.close(); resolve(got); } });
        socket.on("error", reject);
      });
      const updates = messages.filter((m): m is LiveUpdate => m.type === "update");
      assert.deepEqual(updates.map((u) => [u.iteration, u.spectrum?.magnitude[0]]), [[1, undefined], [2, undefined], [3, 3]], origin);
    }
  } finally {
    await live.close();
  }
});

test("the report's chain and lag: --no-chain's transparent chain is named as none, not as converters and a 0 Hz RC; a run stopped inside its calibration says its lag is the configured one, not given", async () => {
  const device = new DopantNetwork();
  const task = gateTask("XOR", device.inputRangeV);
  const plain = readFileSync(await writeRunReport(trainTask({ device, task, seed: 1, maxIterations: 1, chain: TRANSPARENT_CHAIN }), scratchDir("hge-live-report-nochain-"), "hge train"), "utf8");
  assert.match(plain, /none \(--no-chain\): the device's outputs read as they are/);
  assert.match(plain, /no simulated chain \(--no-chain\)/);
  assert.doesNotMatch(plain, /0 Hz RC|DAC 52 bit/);
  const chained = readFileSync(await writeRunReport(trainTask({ device, task, seed: 1, maxIterations: 1 }), scratchDir("hge-live-report-chain-"), "hge train"), "utf8");
  assert.match(chained, /the simulated chain is 2 samples and a 1000 Hz RC of that form/);
  assert.match(chained, /DAC \d+ bit over/);
  // 0.3 device-s end the first of the two calibration epochs
  const cut = trainTask({ device, task, seed: 1, maxDeviceSeconds: 0.3 });
  assert.deepEqual([cut.module!.lagFrom, cut.module!.controller.calibrationEpochs, cut.iterations], ["configuration", 2, 0]);
  assert.match(lagText(cut.module!), /^configured \(not fitted: the calibration did not finish\): /);
  const given = trainTask({ device, task, seed: 1, maxIterations: 1, calibrationEpochs: 0 });
  assert.match(lagText(given.module!), /^given \(not fitted\): /);
});

test("the control-voltage plot marks a restart between the old start's last update and the new start (weights[startIteration] is the new start)", () => {
  const device = new DopantNetwork();
  const run = trainTask({ device, task: gateTask("XOR", device.inputRangeV), seed: 1, maxIterations: 60, patience: 15 });
  assert.ok(run.attempts.length > 1, "the run restarted");
  const layers = (controlsSpec(run) as { layer: Array<{ data?: { values: Array<{ iteration?: number }> } }> }).layer;
  const marks = layers.flatMap((l) => l.data?.values ?? []).filter((v) => v.iteration !== undefined).map((v) => v.iteration);
  assert.deepEqual(marks, run.attempts.slice(1).map((a) => a.startIteration - 0.5));
  for (const { startIteration, initialV } of run.attempts.slice(1)) {
    run.history.weights[startIteration].forEach((v, k) => assert.ok(Math.abs(v - initialV[k]) < 1e-6, `control ${k + 1} at ${startIteration}`));
  }
});

test("the gradient-norm plot's unit is the loss's per volt: an MSE's output unit squared (V² per V on the resistor regression), none for corrsig", () => {
  const title = (run: Result) => ((gradientNormSpec(run) as { encoding: { y: { title: string } } }).encoding.y.title);
  const dnpu = new DopantNetwork();
  assert.equal(title(trainTask({ device: dnpu, task: gateTask("XOR", dnpu.inputRangeV), seed: 1, maxIterations: 1 })), "‖∂L/∂w‖ (per V)");
  const network = new ResistorNetwork();
  const regression = trainTask({ device: network, task: regressionTask({ inputRangeV: network.inputRangeV }), seed: 1, maxIterations: 1 });
  assert.equal(regression.lossName, "mse");
  assert.equal(title(regression), "‖∂L/∂w‖ (V² per V)");
});

test("a live view that cannot listen (127.0.0.1 not available: an IPv6-only sandbox) is one line and exit 2, the --out it made removed (it was an unhandled 'error' event's stack trace, the empty --out left)", async () => {
  const { spawnSync } = await import("node:child_process");
  const { writeFileSync } = await import("node:fs");
  const { BIN } = await import("./fixtures.ts");
  const preload = join(scratch, "no-listen.mjs");
  writeFileSync(preload, `import net from "node:net";
net.Server.prototype.listen = function () {
  process.nextTick(() => this.emit("error", Object.assign(new Error("listen EADDRNOTAVAIL"), { code: "EADDRNOTAVAIL" })));
  return this;
};
`);
  const out = join(scratch, "no-listen");
  const r = spawnSync(process.execPath, ["--import", preload, BIN, "train", "--task", "xor", "--live", "--out", out], { encoding: "utf8", timeout: 120_000 });
  assert.equal(r.status, 2, r.stderr);
  assert.equal(r.stderr, "hge: cannot serve the live view on 127.0.0.1 (EADDRNOTAVAIL); leave out --live\n");
  assert.ok(!existsSync(out));
});
