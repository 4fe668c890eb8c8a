// Standalone firmware (issue 13): a board that configures itself, trains with no host device
// (the emulated boards play a test stand-in in C, firmware/hal_emu_device.c), stores its
// learned state after every update and resumes from it after a reset; the converters' scales
// and sample rate, from the board file, checked wherever a configuration meets a board.
// The board toolchain is installed by boards/install.sh --yes when missing (the tests ask).
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { existsSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative } from "node:path";
import { TrainConfigError } from "../host/errors.ts";
import * as L from "../assembly/layout.ts";
import { boardChain, loadBoard, type Board } from "../boards/boards.ts";
import { buildBoard, ensureToolchain } from "../boards/build.ts";
import { buildStandalone, iterationLimitText, runStandalone, standaloneConfiguration, standInDevice } from "../boards/standalone.ts";
import { buildLinkFirmware, trainOnBoard } from "../boards/hil.ts";
import { Frame, StopReason, telemetryParts } from "../boards/link.ts";
import { DEFAULTS, TrainingRun, restartVoltages } from "../host/train.ts";
import { Controller } from "../host/controller.ts";
import { gateTask, MARGIN_FRACTION } from "../host/tasks/gates.ts";
import { BIN } from "./fixtures.ts";

/** Device-seconds of a standalone AND solved after 3 updates at the defaults: the calibration
 *  epochs and 3 epochs, each of the 4 cases settled and measured once. */
const AND_SECONDS = ((DEFAULTS.calibrationEpochs + 3) * 4 * (DEFAULTS.settleSamples + DEFAULTS.windowSamples)) / DEFAULTS.sampleRateHz;

let noToolchain: string | false = false;
try { ensureToolchain(); } catch (e) { noToolchain = `board toolchain unavailable: ${(e as Error).message}`; }
const skip = { skip: noToolchain };

/** The firmware's iteration lines ("update N loss L margin M %[ held] at T s") by number:
 *  `text` is the loss and margin, `held` whether the epoch was measured on held controls. */
const updates = (log: string[]) => new Map([...log.join("\n").matchAll(/^update (\d+) (loss \S+ margin (\S+) %)( held)? at ([\d.]+) s$/gm)].map((m) => [Number(m[1]), { text: m[2], margin: Number(m[3]), held: m[4] !== undefined, at: Number(m[5]) }]));

/** A copy of a board file with another ADC scale (the front end of another board). */
const withScale = (name: string, unitPerV: number): Board => { const b = loadBoard(name); return { ...b, adc: { ...b.adc, unitPerV } }; };

for (const board of ["mps2-an386", "virt-rv32", "mps2-an386-m0plus"]) {
  test(`${board}: standalone AND trains with no host device and is solved`, skip, async () => {
    const { built, configuration } = buildStandalone(board, { task: "and", quiet: true });
    assert.equal(configuration.config.sampleRateHz, loadBoard(board).sampleRateHz);
    const r = await runStandalone(built);
    assert.equal(r.code, 0, r.log.join("\n"));
    assert.ok(r.solved);
    // seed 1: the stand-in device is solved at the first update and confirmed on its controls,
    // held, by the next two epochs (3 iterations, as the host counts them); device time is the
    // calibration epochs and the 3 epochs, each case settled and measured once
    const c = configuration.config;
    assert.equal(r.updates, 3);
    assert.ok(Math.abs(r.deviceSeconds - ((c.calibrationEpochs ?? 0) + 3) * c.cases.length * (c.settleSamples + c.windowSamples) / c.sampleRateHz) < 0.01, `${r.deviceSeconds} s`);
    assert.match(r.log[0], /^hge: no stored checkpoint; training from the start \(AND, 5000 Hz, readings in nA\)$/);
    assert.deepEqual([...updates(r.log).values()].map((u) => u.held), [false, true, true]);
    // a telemetry frame on the UART after every epoch (the calibration's, the update's, the held
    // ones) and at the end; one update
    assert.equal(r.telemetry.filter((t) => t.events & L.Event.EpochDone).length, (c.calibrationEpochs ?? 0) + 3);
    assert.equal(r.telemetry.filter((t) => t.events & L.Event.UpdateDone).length, 1);
    assert.equal(r.stopped?.reason, StopReason.Solved);
    const b = loadBoard(board);
    for (const v of r.stopped!.parkedV) assert.ok(v >= b.electrodeSafeV.minV && v <= b.electrodeSafeV.maxV);
  });
}

// The standalone loop is the host's (host/train.ts TrainingRun): the same iterations, held
// confirmations and restarts from the same starts. The stand-in in C has no noise, so the host
// runs without noise too; its device is the same instance in f64. On a board whose ADC reads
// ±1.5 V (48 nA), the seed-3 stand-in's first start saturates it during the calibration, and
// the seed-6 one's after 4 updates: 16 windows in a row are discarded, the controller faults,
// and the run starts again (it used to stop there), calibrating again or with the lag kept.
// (The stand-in's readings are not the host's to the bit: cases where a start saturates only
// just, as seed 12's third does on a ±2 V ADC, may fault on one and not the other.)
const FAULTED = { 0: "", 1: "calibrating again", 2: "the lag kept" } as const;
/** Standalone XOR on the seed's stand-in, on mps2-an386 with a ±adcV V ADC, and the host's
 *  TrainingRun on the same device: both solved, with the same restarts, iterations and device
 *  time. Returns both for the test's own checks. */
async function standaloneAndHost(seed: number, adcV = 10, silentBelowV?: number) {
  const mps2 = loadBoard("mps2-an386");
  const board = { ...mps2, adc: { ...mps2.adc, minV: -adcV, maxV: adcV } };
  const { built } = buildStandalone(board, { task: "xor", seed, standIn: { silentBelowV }, quiet: true });
  const r = await runStandalone(built);
  assert.equal(r.code, 0, r.log.join("\n"));
  assert.ok(r.solved);
  const device = standInDevice(5, 2, seed, silentBelowV);
  const host = new TrainingRun(new Controller(), {
    device, task: gateTask("XOR", device.inputRangeV, MARGIN_FRACTION), seed, chain: boardChain(board, device), noise: { whiteSigma: 0, pinkPsdAt1kHz: 0 },
  });
  while (host.step());
  const result = host.finish(0);
  assert.equal(result.stopped, "solved");
  const boardRestarts = r.log.flatMap((l) => /^restart \d+ after (?:a fault at )?update (\d+):/.exec(l)?.[1] ?? []).map(Number);
  assert.deepEqual(boardRestarts, result.attempts.slice(1).map((a) => a.startIteration));
  assert.equal(r.updates, result.iterations);
  assert.equal(r.deviceSeconds.toFixed(2), result.deviceSeconds.toFixed(2));
  /** what each restart line says of the lag: "calibrating again" or "the lag kept" */
  const restartsSay = r.log.filter((l) => /^restart \d+ /.test(l)).map((l) => l.replace(/^.*: the host's next start, /, ""));
  return { board: r, host: result, restartsSay };
}

for (const [seed, restarts, adcV, faulted] of [[2, 0, 10, 0], [12, 2, 10, 0], [3, 2, 1.5, 1], [6, 1, 1.5, 2]] as const) {
  test(`mps2-an386${adcV === 10 ? "" : ` with a ±${adcV} V ADC`}: standalone XOR on the seed-${seed} stand-in runs the host's loop (${restarts} restarts${faulted ? `, one after a fault, ${FAULTED[faulted]}` : ""}): the same iterations, restarts and device time`, skip, async () => {
    const { board: r, host, restartsSay } = await standaloneAndHost(seed, adcV);
    assert.equal(restartsSay.length, restarts);
    assert.deepEqual(r.log.filter((l) => /^restart \d+ after a fault/.test(l)).map((l) => l.replace(/^.*: the host's next start, /, "")), faulted ? [FAULTED[faulted]] : []);
    assert.equal(host.counters.discardedWindows, faulted ? 16 : 0);
  });
}

// A start where no control moves the output: the stand-in silent (0 nA) wherever control 1 is
// below −0.25 V, where seed 18's first start is (−0.73 V). Its calibration finds no tones
// (step() returns LagUnfitted, 128, not Calibrated, 32), the start is stuck for 10 updates, and
// the restart calibrates again, on the board as on the host (the board kept the configured lag
// until this was tested: a stuck start's restart never calibrated).
test("mps2-an386: standalone XOR on a stand-in silent at its first start: the calibration fits no lag, and the restart after 10 updates calibrates again, as the host's loop does", skip, async () => {
  const { board: r, host, restartsSay } = await standaloneAndHost(18, 10, -0.25);
  assert.deepEqual(restartsSay, ["calibrating again"]);
  assert.deepEqual(host.attempts.map((a) => a.startIteration), [0, 10]);
  assert.equal(host.counters.calibrationsInNoise, 1);
  const events = r.telemetry.map((t) => t.events);
  assert.equal(events.filter((e) => e & L.Event.LagUnfitted).length, 1);
  assert.equal(events.filter((e) => e & L.Event.Calibrated).length, 1);
  assert.ok(events.findIndex((e) => e & L.Event.LagUnfitted) < events.findIndex((e) => e & L.Event.Calibrated));
});

// A reset before any lag was fitted: the checkpoint holds the configured lag. The board used
// to resume on it and never calibrate again (a resumed run ran on its checkpoint's lag); now it
// goes on from the stored controls and calibrates, as `hge train --resume` does.
test("mps2-an386: a reset before any lag was fitted (the stand-in silent at the first start) resumes from the stored controls and calibrates, and the restart calibrates again", skip, async () => {
  const { built } = buildStandalone("mps2-an386", { task: "xor", seed: 18, standIn: { silentBelowV: -0.25 }, quiet: true, out: "build/boards/test-silent-reset" });
  const r = await runStandalone(built, { resetAfterUpdates: 4 });
  assert.ok(r.solved, r.log.join("\n"));
  const resumed = r.log.findIndex((l) => /^hge: resumed from the stored checkpoint at update \d+, no lag fitted yet: calibrating from its controls /.test(l));
  assert.ok(resumed > 0, r.log.join("\n"));
  assert.deepEqual(r.log.slice(resumed).filter((l) => l.startsWith("restart ")).map((l) => l.replace(/^.*: the host's next start, /, "")), ["calibrating again"]);
  // the silent start's calibration, again after the reset (still silent), then the live start's
  const events = r.telemetry.map((t) => t.events);
  assert.deepEqual(events.filter((e) => e & (L.Event.LagUnfitted | L.Event.Calibrated)).map((e) => (e & L.Event.Calibrated ? "fitted" : "unfitted")), ["unfitted", "unfitted", "fitted"]);
});

// A device that does not respond, read as noise, separates the cases by the margin now and then,
// three epochs in a row within a few hundred. The host takes a solution only where the classes'
// gap stands above 3 times the scatter of the held readings (gates.ts: separatedBeyondNoise);
// the board did not, and stopped "solved" at update 53 on this stand-in (silent everywhere,
// 0.5 nA of noise). The same noise on the responding stand-in does not stop a real solution.
test("mps2-an386: standalone AND on a stand-in that does not respond (0.5 nA of noise) is not taken as solved where the noise separates the cases, as on the host; with the same noise, the responding stand-in is solved", skip, async () => {
  const dead = buildStandalone("mps2-an386", { task: "and", seed: 1, maxIterations: 120, standIn: { silentBelowV: 1, noiseRms: 0.5 }, quiet: true, out: "build/boards/test-dead" });
  const r = await runStandalone(dead.built);
  assert.equal(r.code, 1, r.log.join("\n"));
  assert.equal(r.updates, 120);
  assert.ok(!r.solved);
  const refused = r.log.filter((l) => l === "solved within the noise, not taken: a gap within 3 times the held readings' scatter").length;
  assert.ok(refused >= 1, r.log.join("\n"));
  for (const seed of [1, 2, 3]) {
    const live = buildStandalone("mps2-an386", { task: "and", seed, maxIterations: 120, standIn: { noiseRms: 0.5 }, quiet: true, out: "build/boards/test-dead" });
    const solved = await runStandalone(live.built);
    assert.ok(solved.solved && solved.updates <= 10, `seed ${seed}: ${solved.log.join("\n")}`);
    assert.ok(!solved.log.some((l) => l.startsWith("solved within the noise")));
  }
});

// The stand-in (firmware/hal_emu_device.c) says any step of an electrode past the slew limit
// (SlewVPerS / SampleRateHz: 0.2 V a sample at the defaults). At power-up the firmware wrote the
// first configuration's voltages straight over the park voltages (0.86 V on a control, 0.45 V
// on an input), and at the end the park voltages straight over the last case's inputs (0.45 V).
for (const [task, seed, what] of [["and", 1, "solved"], ["xor", 12, "two restarts, solved"]] as const) {
  test(`mps2-an386: no electrode steps past the slew limit from power-up to the park at the end (${task.toUpperCase()} seed ${seed}: ${what})`, skip, async () => {
    const { built, configuration } = buildStandalone("mps2-an386", { task, seed, quiet: true, out: `build/boards/test-slew-${task}` });
    const r = await runStandalone(built);
    assert.ok(r.solved, r.log.join("\n"));
    assert.deepEqual(r.log.filter((l) => l.startsWith("stand-in:")), []);
    // parked where it was: the inputs at the board's park voltage, the controls at their weights
    const park = loadBoard("mps2-an386").electrodeSafeV.parkV, controls = configuration.config.controls.length;
    assert.deepEqual(r.stopped?.parkedV.slice(controls), configuration.config.inputs.map(() => park));
    assert.deepEqual(r.stopped?.parkedV.slice(0, controls), Array.from(telemetryParts(r.telemetry.at(-1)!).weights));
  });
}

test("mps2-an386: a reset mid-training resumes from the stored checkpoint, not from the start", skip, async () => {
  // seed 5: solved after more updates than the reset comes after, without a reset
  const { built } = buildStandalone("mps2-an386", { task: "and", seed: 5, quiet: true });
  const plain = await runStandalone(built);
  assert.ok(plain.solved);
  assert.ok(plain.updates >= 6, `${plain.updates} updates: room for a reset after update 4`);
  const r = await runStandalone(built, { resetAfterUpdates: 4 });
  assert.ok(r.solved, r.log.join("\n"));
  // the reset reaches QEMU a moment after the request: the board may finish another update,
  // and the report names the last one it logged before the reset
  const resumed = r.log.findIndex((l) => l.startsWith("hge: resumed from the stored checkpoint at update"));
  assert.ok(resumed > 0, r.log.join("\n"));
  const before = r.log.slice(0, resumed).filter((l) => l.startsWith("update ")).length;
  assert.ok(before >= 4 && before < plain.updates, r.log.join("\n"));
  assert.equal(r.reset?.afterUpdate, before);
  // it resumes at the last update it stored, and goes on from there: never update 1 again. The
  // firmware stores an update before it logs it (nothing learned is lost), so a reset between
  // the two resumes one update past the log, whose device time the log then never shows
  const resumedAt = r.reset?.resumedAt ?? NaN;
  assert.ok(resumedAt === before || resumedAt === before + 1, r.log.join("\n"));
  const unlogged = resumedAt - before;
  assert.match(r.log[resumed + 1], new RegExp(`^update ${resumedAt + 1} `));
  assert.ok(!r.log.slice(resumed).some((l) => { const m = /^update (\d+) /.exec(l); return m !== null && Number(m[1]) <= resumedAt; }));
  // nothing learned is lost: every update after the resume has the loss and margin the run
  // without a reset had (only the clock since power-up differs). A reset inside the solved row
  // starts the row again: the resumed run measures the row's first solved epoch (its controls
  // held, as stored) once more, then confirms it as the run without a reset did (CI: resumed at
  // 5, inside the row 5–7: its update 6 was that run's update 5, and so on, one later)
  const plainUpdates = updates(plain.log);
  let first = resumedAt + 1;
  if (plainUpdates.get(first)?.held) while (plainUpdates.get(first)?.held) first--;
  const shift = resumedAt + 1 - first;
  for (const [n, u] of updates(r.log.slice(resumed))) {
    const expected = plainUpdates.get(n - shift);
    if (expected) assert.deepEqual([u.text, u.held], [expected.text, expected.held], `update ${n} (the run without a reset's update ${n - shift})`);
  }
  assert.equal(r.updates, plain.updates + shift, r.log.join("\n"));
  // the solved row is confirmed again after a reset (it confirms outputs measured since power-up):
  // at most SOLVED_EPOCHS − 1 updates more than without the reset, each taking the same device time
  assert.ok(r.updates >= plain.updates && r.updates <= plain.updates + DEFAULTS.solvedEpochs - 1, r.log.join("\n"));
  // (the board logs device time to 0.01 s: the total sums two logged times, the expectation
  // three, so they agree to within three half-hundredths; which update the reset lands after
  // moves the roundings)
  const interval = plainUpdates.get(plain.updates)!.at - plainUpdates.get(plain.updates - 1)!.at;
  const expected = plain.deviceSeconds + (r.updates - plain.updates - unlogged) * interval;
  assert.ok(Math.abs(r.totalDeviceSeconds - expected) <= 0.015 + 1e-9, `${r.totalDeviceSeconds} device-s, expected ${expected.toFixed(3)}`);
});

test("units: a configuration made for one ADC scale is refused on a board of another; one whose electrodes the board cannot drive (a range past its safe one, more than its DAC channels) before it is built", skip, () => {
  const made = standaloneConfiguration("mps2-an386", { task: "and" });
  assert.equal(made.unitPerV, 32);
  assert.match(made.header, /HGE_TASK_NAME "AND"/);
  const other = withScale("mps2-an386", 10);
  assert.throws(() => buildStandalone(other, { configuration: made, quiet: true }),
    (e: unknown) => e instanceof TrainConfigError && /built for 32 nA per ADC volt; mps2-an386 reads 10 nA\/V .* off by 0\.313×/.test((e as Error).message));
  // past the host's check, the C build stops on the block's stamp
  assert.throws(() => buildBoard(other, { app: "hge", entry: "standalone", config: made.block, configUnitPerV: made.unitPerV, standaloneHeader: made.header, blockSamples: 1, quiet: true, out: "build/boards/test-scale" }),
    /configuration built for another ADC scale than this board/);
  // a run made on the host (its default chain: 28.5 nA/V) given with --from
  const fromHost = join(mkdtempSync(join(tmpdir(), "hge-from-")), "run.json");
  writeFileSync(fromHost, JSON.stringify({ task: "AND", ranOn: "node", outputUnit: "nA", targets: made.targets, module: { controller: made.config, chain: { transimpedancePerV: 28.5 }, solvedEpochs: 3, maxIterations: 20 } }));
  assert.throws(() => standaloneConfiguration("mps2-an386", { from: fromHost }),
    (e: unknown) => e instanceof TrainConfigError && /made for 28\.5 nA per ADC volt \(the host's default chain\); mps2-an386 reads 32 nA\/V/.test((e as Error).message));
  // the same configuration made for the board's converters is taken
  writeFileSync(fromHost, JSON.stringify({ task: "AND", ranOn: "mps2-an386", outputUnit: "nA", targets: made.targets, module: { controller: made.config, chain: { transimpedancePerV: 32 }, solvedEpochs: 3, maxIterations: 20 } }));
  assert.deepEqual(standaloneConfiguration("mps2-an386", { from: fromHost }).block, made.block);
  // one whose control reaches beyond the board's safe range is refused here (it was built, and
  // the firmware refused it at power-up: "did not finish", exit 1); so are more electrodes than channels
  const wide = { ...made.config, controls: made.config.controls.map((c, k) => (k === 2 ? { ...c, maxV: 50 } : c)) };
  const many = { ...made.config, inputs: [...made.config.inputs, ...made.config.inputs] };
  for (const [controller, pattern] of [[wide, /the run in --from .*'s control 3 spans \[-?[0-9.]+, 50\] V; mps2-an386's DAC channel 2 is safe in \[-1\.5, 1\.5\] V only$/], [many, /the run in --from .* has 9 electrodes \(5 controls, 4 inputs\); mps2-an386 drives 8 DAC channels$/]] as const) {
    writeFileSync(fromHost, JSON.stringify({ task: "AND", ranOn: "mps2-an386", outputUnit: "nA", targets: made.targets, module: { controller, chain: { transimpedancePerV: 32 }, solvedEpochs: 3, maxIterations: 20 } }));
    assert.throws(() => standaloneConfiguration("mps2-an386", { from: fromHost }), (e: unknown) => e instanceof TrainConfigError && pattern.test((e as Error).message));
  }
  // and a sample rate the board does not run at
  const slow = { ...loadBoard("mps2-an386"), sampleRateHz: 10000 };
  assert.throws(() => buildStandalone(slow, { configuration: made, quiet: true }), (e: unknown) => e instanceof TrainConfigError && /samples at 5000 Hz; mps2-an386 converts at 10000 Hz/.test((e as Error).message));
});

test("--from a run with no iteration limit (a budget of device time ended it; the host's 2^53 − 1) builds firmware with none, said so (HGE_MAX_ITERATIONS 0: 2^53 − 1 went in as it was, past what the firmware's 32-bit count reaches, and it never stopped); --iterations gives one", skip, async () => {
  const made = standaloneConfiguration("mps2-an386", { task: "and" });
  const from = join(mkdtempSync(join(tmpdir(), "hge-from-")), "run.json");
  writeFileSync(from, JSON.stringify({ task: "AND", ranOn: "mps2-an386", outputUnit: "nA", targets: made.targets, module: { controller: made.config, chain: { transimpedancePerV: 32 }, solvedEpochs: 3, maxIterations: Number.MAX_SAFE_INTEGER } }));
  const unlimited = standaloneConfiguration("mps2-an386", { from });
  assert.equal(unlimited.maxIterations, Infinity);
  assert.match(unlimited.header, /^#define HGE_MAX_ITERATIONS 0$/m);
  assert.match(iterationLimitText(unlimited), /^no iteration limit/);
  // the firmware builds with it, and runs to its end: solved
  const r = await runStandalone(buildStandalone("mps2-an386", { configuration: unlimited, quiet: true }).built);
  assert.ok(r.solved, r.log.join("\n"));
  const limited = standaloneConfiguration("mps2-an386", { from, maxIterations: 7 });
  assert.match(limited.header, /^#define HGE_MAX_ITERATIONS 7$/m);
  assert.equal(iterationLimitText(limited), "at most 7 iterations");
});

// A --from run that restarted goes on restarting, as hge train --resume does (continuationOf):
// with its patience, from the next of its seeded starts. The firmware held no starts for a
// --from run and never restarted: from a stuck start it trained to its limit (the host's
// --resume did so until it was fixed: XNOR seed 2 ran 1785 iterations unsolved). Here the run
// ended on a start where the stand-in is silent (control 1 below −0.25 V) after 2 attempts; the
// next of seed 10's starts (its 3rd) is live.
test("--from a run that restarted: the board goes on restarting from the run's next seeded starts after its patience, as hge train --resume does on the host, with the same iterations and device time", skip, async () => {
  const seed = 10, silentBelowV = -0.25;
  const made = standaloneConfiguration("mps2-an386", { task: "xor", seed });
  const device = standInDevice(5, 2, seed, silentBelowV);
  const finalWeights = [-0.9, ...made.config.controls.slice(1).map((c) => c.initialV)];
  const from = join(mkdtempSync(join(tmpdir(), "hge-from-")), "run.json");
  writeFileSync(from, JSON.stringify({
    task: "XOR", ranOn: "mps2-an386", outputUnit: "nA", seed, targets: made.targets, finalWeights, settings: { patience: 10 },
    attempts: [{ startIteration: 0 }, { startIteration: 10 }], module: { controller: made.config, chain: { transimpedancePerV: 32 }, solvedEpochs: 3, maxIterations: 80 },
  }));
  const { built, configuration } = buildStandalone("mps2-an386", { from, seed, standIn: { silentBelowV }, quiet: true, out: "build/boards/test-from-restarts" });
  assert.match(configuration.header, /^#define HGE_PATIENCE 10$/m);
  const r = await runStandalone(built);
  assert.ok(r.solved, r.log.join("\n"));
  const host = new TrainingRun(new Controller(), {
    device, task: gateTask("XOR", device.inputRangeV, MARGIN_FRACTION), seed, chain: boardChain(loadBoard("mps2-an386"), device), noise: { whiteSigma: 0, pinkPsdAt1kHz: 0 },
    initialV: finalWeights, resumedAttempts: 2, patience: 10, maxIterations: 80,
  });
  while (host.step());
  const result = host.finish(0);
  assert.equal(result.stopped, "solved");
  assert.deepEqual(result.attempts.map((a) => a.startIteration), [0, 10], "the host restarted once, after its patience");
  assert.deepEqual(result.attempts[1].initialV, restartVoltages(device, seed, 1, 2));
  assert.deepEqual(r.log.flatMap((l) => /^restart \d+ after update (\d+):/.exec(l)?.[1] ?? []).map(Number), [10]);
  assert.equal(r.updates, result.iterations);
  assert.equal(r.deviceSeconds.toFixed(2), result.deviceSeconds.toFixed(2));
  // a held control (--hold) stays where the run left it in every start, as on the host
  const held = { ...made.config, controls: made.config.controls.map((c, k) => (k === 1 ? { ...c, trainable: false } : c)) };
  writeFileSync(from, JSON.stringify({ task: "XOR", ranOn: "mps2-an386", outputUnit: "nA", seed, targets: made.targets, finalWeights, settings: { patience: 10 }, attempts: [{ startIteration: 0 }], module: { controller: held, chain: { transimpedancePerV: 32 }, solvedEpochs: 3, maxIterations: 80 } }));
  const starts = /^#define HGE_RESTART_STARTS_V \{ (.*) \}$/m.exec(standaloneConfiguration("mps2-an386", { from }).header)![1].split(", ").slice(0, -1).map((x) => Number(x.replace(/f$/, "")));
  assert.equal(starts.length, 8 * 5, "8 restarts in 80 iterations");
  for (let r = 0; r < 8; r++) {
    assert.equal(Math.fround(starts[5 * r + 1]), Math.fround(finalWeights[1]), `restart ${r + 1} moved the held control`);
    assert.equal(Math.fround(starts[5 * r]), Math.fround(restartVoltages(device, seed, r + 1, 1)[0]));
  }
  // a run.json with no restarts to go on with (none made, or hand-made without them) builds none
  writeFileSync(from, JSON.stringify({ task: "XOR", ranOn: "mps2-an386", outputUnit: "nA", targets: made.targets, module: { controller: made.config, chain: { transimpedancePerV: 32 }, solvedEpochs: 3, maxIterations: 80 } }));
  assert.match(standaloneConfiguration("mps2-an386", { from }).header, /^#define HGE_RESTARTS 0$/m);
});

test("firmware that does not fit a board's flash is refused in one line naming the bytes it overflows by (it was an internal error with the linker's output)", skip, () => {
  const small = { ...loadBoard("mps2-an386"), flashBytes: 16384 };
  assert.throws(() => buildBoard(small, { app: "hge", entry: "link", quiet: true, out: "build/boards/test-small-flash" }),
    (e: unknown) => e instanceof TrainConfigError && e.option === "flash" && /^mps2-an386: the firmware overflows its flash by \d+ bytes \(16384 bytes; what takes it: .*hge\.map\)$/.test((e as Error).message));
});

test("units: link firmware built for another ADC scale is caught when the host connects", skip, async () => {
  const built = buildLinkFirmware("mps2-an386", { quiet: true, out: "build/boards/test-link-scale8" });
  const other = withScale("mps2-an386", 8);
  const wrong = buildBoard(other, { app: "hge", entry: "link", quiet: true, out: "build/boards/test-link-scale8" });
  await assert.rejects(trainOnBoard({ board: "mps2-an386", built: wrong, maxIterations: 1 }),
    (e: unknown) => e instanceof TrainConfigError && /mps2-an386 reads 8 nA per ADC volt; boards\/mps2-an386\.json says 32/.test((e as Error).message));
  assert.ok(built.elf);
});

test("hge board run mps2-an386 --standalone --task and: exit 0, solved", skip, async () => {
  const r = await promisify(execFile)(process.execPath, ["--import", "tsx", "bin/cli.ts", "board", "run", "mps2-an386", "--standalone", "--task", "and"], { encoding: "utf8" });
  assert.match(r.stdout, new RegExp(`^mps2-an386: solved in 3 updates, ${AND_SECONDS.toFixed(2)} device-seconds`, "m"));
  assert.equal(Frame.Telemetry, 0x84);
});

test("parallel runs on one board each build in a directory of their own (they used to remove each other's files); a build into a directory another process uses is refused; a killed run's directory goes at the next build", skip, async () => {
  const { spawn } = await import("node:child_process");
  const cli = (args: string[], o: { detached?: boolean } = {}) => {
    const child = spawn(process.execPath, [BIN, "board", ...args], { stdio: ["ignore", "pipe", "pipe"], ...o });
    let stdout = "", stderr = "";
    child.stdout.on("data", (chunk) => void (stdout += chunk));
    child.stderr.on("data", (chunk) => void (stderr += chunk));
    const exited = new Promise<number | null>((resolve) => child.on("exit", resolve));
    return { child, exited, out: () => stdout + stderr };
  };
  // this process uses the default standalone directory (its other tests build there too)
  const { built } = buildStandalone("mps2-an386", { task: "and", quiet: true });
  const shared = built.dir;
  const runs = [2, 3, 4].map((seed) => ({ seed, run: cli(["run", "mps2-an386", "--standalone", "--task", "and", "--seed", String(seed)]) }));
  const elves = new Set<string>();
  for (const { seed, run } of runs) {
    assert.equal(await run.exited, 0, run.out());
    assert.match(run.out(), /^mps2-an386: solved in \d+ updates/m, `seed ${seed}`);
    const elf = /firmware (\S+hge\.elf),/.exec(run.out())![1];
    assert.equal(elf, `${relative(process.cwd(), shared)}.${run.child.pid}/hge.elf`);
    elves.add(elf);
    assert.ok(!existsSync(dirname(elf)), `${elf}: its directory is removed when the run ends`);
  }
  assert.equal(elves.size, 3);
  assert.ok(existsSync(built.elf), "the directory this process uses is left alone");
  // a build made to be kept goes where it says, or nowhere
  const refused = cli(["build", "mps2-an386", "--standalone", "--task", "and"]);
  assert.equal(await refused.exited, 2, refused.out());
  assert.match(refused.out(), new RegExp(`^hge: build/boards/mps2-an386/hge-standalone is in use by another hge process \\(pid ${process.pid}\\), which builds or runs its firmware there; wait for it to end, or give another directory\n$`));
  // a run killed with its QEMU (no exit handler runs) leaves its directory, until the next build
  const killed = cli(["run", "mps2-an386", "--standalone", "--task", "xor", "--iterations", "30000"], { detached: true });
  while (!/^update 30 /m.test(killed.out())) await new Promise((resolve) => setTimeout(resolve, 50));
  const left = `${shared}.${killed.child.pid}`;
  assert.ok(existsSync(join(left, "hge.elf")));
  process.kill(-killed.child.pid!, "SIGKILL");
  await killed.exited;
  assert.ok(existsSync(left));
  buildStandalone("mps2-an386", { task: "and", quiet: true });
  assert.ok(!existsSync(left), "removed by the next build");
});

test("hge board watch: the standalone board's telemetry over its pseudo-terminal (serialport), to the STOPPED frame", skip, async () => {
  const { watchBoard } = await import("../boards/watch.ts");
  const lines: string[] = [];
  const r = await watchBoard("virt-rv32", { task: "and", onLine: (line) => lines.push(line) });
  assert.match(lines[0], /^watching virt-rv32 on \/dev\/pts\/\d+ /);
  // one line per iteration: the update that solved AND, then the two epochs that confirmed it, held
  const iterations = lines.filter((l) => /^(update|held) /.test(l));
  assert.deepEqual(iterations.map((l) => l.split(" ")[0]), ["update", "held", "held"], lines.join("\n"));
  assert.match(iterations[2], new RegExp(`^held 1  ${AND_SECONDS.toFixed(2)} s  loss [0-9.]+  margin [0-9.]+ %  outputs( -?[0-9.]+){4} nA  controls( -?[0-9.]+){5} V$`));
  assert.equal(r.stopped?.reason, StopReason.Solved);
  assert.equal(r.lastUpdate, 1);
  assert.match(lines.at(-1)!, /^stopped: Solved; parked at .* V; checkpoint \d+ bytes kept$/);
});

test("hge board watch says a fault restart that comes before any update (on a ±1.5 V ADC the seed-3 stand-in saturates it while calibrating; the watch showed nothing of it)", skip, async () => {
  const { watchBoard } = await import("../boards/watch.ts");
  const mps2 = loadBoard("mps2-an386");
  const lines: string[] = [];
  const r = await watchBoard({ ...mps2, adc: { ...mps2.adc, minV: -1.5, maxV: 1.5 } }, { task: "xor", seed: 3, onLine: (line) => lines.push(line) });
  const first = lines.findIndex((l) => /^(update|held) /.test(l));
  assert.deepEqual(lines.slice(1, first), ["fault at update 0: 16 windows in a row discarded (readings saturated or not finite); the board starts again from its next start, or stops"], lines.join("\n"));
  assert.equal(lines.filter((l) => /^(fault|restart)/.test(l)).length, 2, "the fault, then the restart of a stuck start (the standalone test's count: 2 restarts, one after the fault)");
  assert.equal(r.stopped?.reason, StopReason.Solved);
});

test("hge board watch --live: the emulated board starts when a page opens, and the page gets every record to the end; Ctrl-C before a page exits 130 with nothing run", skip, async () => {
  const { spawn } = await import("node:child_process");
  const { default: WebSocket } = await import("ws");
  const watch = () => {
    const child = spawn(process.execPath, [BIN, "board", "watch", "virt-rv32", "--task", "and", "--live"], { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "", stderr = "";
    child.stdout.on("data", (chunk) => (stdout += chunk));
    const exited = new Promise<number | null>((resolve) => child.on("exit", resolve));
    const url = new Promise<string>((resolve) => child.stderr.on("data", (chunk) => {
      stderr += chunk;
      const found = /live view at (http:\S+) — open it to start the run \(Ctrl-C to stop\)\n/.exec(stderr);
      if (found) resolve(found[1]);
    }));
    return { child, exited, url, out: () => stdout, err: () => stderr };
  };
  const idle = watch();
  await idle.url;
  await new Promise((resolve) => setTimeout(resolve, 1500));
  assert.equal(idle.out(), ""); // nothing started without a page
  idle.child.kill("SIGINT");
  assert.equal(await idle.exited, 130);
  assert.match(idle.err(), /interrupted before the run started\n$/);
  assert.equal(idle.out(), "");

  const run = watch();
  const socket = new WebSocket((await run.url).replace(/^http/, "ws") + "stream");
  const messages: { type: string; solved?: boolean }[] = [];
  socket.on("message", (data) => messages.push(JSON.parse(String(data))));
  assert.equal(await run.exited, 0, run.err());
  const lines = run.out().split("\n").filter((l) => /^(update|held) /.test(l));
  assert.deepEqual(messages.map((m) => m.type), ["start", ...lines.map(() => "update"), "end"], run.out());
  assert.equal(messages.at(-1)!.solved, true);
  socket.close();
});

test("hge board watch: Ctrl-C while telemetry streams in stops the watch at once, exit 0 (it used to be heard only when the board went quiet)", skip, async () => {
  const { spawn } = await import("node:child_process");
  // XOR seed 7 runs to its iteration limit, a record every few hundred milliseconds
  const child = spawn(process.execPath, [BIN, "board", "watch", "mps2-an386", "--seed", "7"], { stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  const exited = new Promise<number | null>((resolve) => child.on("exit", resolve));
  await new Promise<void>((resolve) => child.stdout.on("data", (chunk) => { stdout += chunk; if (/^update 2 /m.test(stdout)) resolve(); }));
  const sent = performance.now();
  child.kill("SIGINT");
  assert.equal(await exited, 0, stdout);
  assert.ok(performance.now() - sent < 5000, `heard within ${((performance.now() - sent) / 1000).toFixed(1)} s`);
  assert.doesNotMatch(stdout, /^stopped: /m, "the watch stopped, not the board's run");
});

test("hge board run --standalone: Ctrl-C stops the board's run where it is (exit 130), and a QEMU killed is said to be, with the last update it logged (exit 1)", skip, async () => {
  const { spawn, execFileSync } = await import("node:child_process");
  const start = () => {
    const child = spawn(process.execPath, [BIN, "board", "run", "mps2-an386", "--standalone", "--iterations", "30000"], { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    const exited = new Promise<number | null>((resolve) => child.on("exit", resolve));
    const running = new Promise<void>((resolve) => child.stdout.on("data", (chunk) => { stdout += chunk; if (/^update 30 /m.test(stdout)) resolve(); }));
    return { child, exited, running, out: () => stdout };
  };
  const lastLogged = (out: string) => Number([...out.matchAll(/^update (\d+) /gm)].at(-1)![1]);
  const interrupted = start();
  await interrupted.running;
  interrupted.child.kill("SIGINT");
  assert.equal(await interrupted.exited, 130, interrupted.out());
  assert.match(interrupted.out(), new RegExp(`^mps2-an386: interrupted after update ${lastLogged(interrupted.out())}, [0-9.]+ s wall\n$`, "m"));
  const killed = start();
  await killed.running;
  execFileSync("pkill", ["-KILL", "-P", String(killed.child.pid), "qemu-system"]);
  assert.equal(await killed.exited, 1, killed.out());
  assert.match(killed.out(), new RegExp(`^mps2-an386: the firmware did not finish: QEMU was killed after update ${lastLogged(killed.out())}, `, "m"));
});

test("hge board watch says where the firmware restarts (XOR seed 5: once, after update 21), from where the module's count of updates begins again, and its device time runs on (it began again at 0 with the module's count)", skip, async () => {
  const { watchBoard } = await import("../boards/watch.ts");
  const lines: string[] = [];
  const r = await watchBoard("virt-rv32", { task: "xor", seed: 5, onLine: (line) => lines.push(line) });
  assert.equal(r.stopped?.reason, StopReason.Solved);
  const restarts = lines.flatMap((l, i) => (/^restart: /.test(l) ? [i] : []));
  assert.equal(restarts.length, 1, lines.join("\n"));
  assert.match(lines[restarts[0]], /^restart: a new start after 21 updates \(the module counts its updates from 0 again\)$/);
  assert.match(lines[restarts[0] - 1], /^update 21 /);
  assert.match(lines[restarts[0] + 1], /^update 1 /);
  // its device time runs on through the restart (it began again at 0.17 s) and ends where the
  // firmware's own count since power-up does
  const seconds = lines.flatMap((l) => /^(?:update|held|skipped) \d+ {2}([0-9.]+) s /.exec(l)?.slice(1).map(Number) ?? []);
  assert.ok(seconds.every((t, i) => i === 0 || t >= seconds[i - 1]), seconds.join(" "));
  const own = await runStandalone(buildStandalone("virt-rv32", { task: "xor", seed: 5, quiet: true }).built);
  assert.equal(seconds.at(-1)!.toFixed(2), own.totalDeviceSeconds.toFixed(2));
});

test("hge train --board --port: a board already running on a serial port (no QEMU started by the host), its boot HELLO long gone; a second session finds it running (the first sent it EXIT, which stops a real board's firmware for good)", skip, async () => {
  const { spawn } = await import("node:child_process");
  const { readFileSync, openSync, closeSync, existsSync: exists } = await import("node:fs");
  const { qemuCommand } = await import("../boards/qemu.ts");
  const built = buildLinkFirmware("mps2-an386", { quiet: true });
  const dir = mkdtempSync(join(tmpdir(), "hge-port-"));
  const log = join(dir, "qemu.log");
  const out = openSync(log, "w");
  // the "real board": QEMU running on its own, its UART a pseudo-terminal the test did not open yet
  const [cmd, ...args] = qemuCommand(built.board, built.elf, { serial: "pty" }, dir);
  const qemu = spawn(cmd, args, { cwd: dir, stdio: ["ignore", out, out] });
  closeSync(out);
  try {
    let pty: string | undefined;
    for (let i = 0; i < 200 && !pty; i++) {
      await new Promise((resolve) => setTimeout(resolve, 25));
      pty = exists(log) ? /char device redirected to (\/dev\/pts\/\d+)/.exec(readFileSync(log, "utf8"))?.[1] : undefined;
    }
    assert.ok(pty, "QEMU named its pty");
    await new Promise((resolve) => setTimeout(resolve, 300)); // the board has booted and said HELLO to nobody
    // twice: the first session leaves the board running (it was sent EXIT, and a real board's
    // firmware then spins in hal_exit: the next session found no board)
    for (const session of [1, 2]) {
      const { result, board } = await trainOnBoard({ board: "mps2-an386", port: pty, baudRate: 115200, task: "and", maxIterations: 2 });
      assert.equal(board.link.hello.board, "mps2-an386");
      assert.equal(result.iterations, 2);
      assert.equal(result.ranOn, "mps2-an386");
      assert.equal(board.boardStop.reason, StopReason.Host);
      assert.equal(qemu.exitCode, null, `session ${session} ended the board's firmware`);
      process.stderr.write(`--port, session ${session}: ${board.link.samples} samples, ${board.link.microsecondsPerSample.toFixed(0)} us each, ${result.wallSeconds.toFixed(1)} s wall\n`);
    }
  } finally {
    qemu.kill("SIGKILL");
  }
});
