// Hardware in the loop: the controller runs on the emulated board (firmware built with the
// link entry, link.c), the device and the measurement chain are simulated here, and the two
// talk through the board's UART with the framed protocol (link.ts). trainOnBoard() runs the
// training loop of host/train.ts's trainTask() with the board as the controller: the same
// options give the same readings, so the same weights bit for bit, and returns the shared
// Result (host/methods/method.ts) with ranOn = the board.
import { existsSync } from "node:fs";
import { Controller, ControllerError } from "../host/controller.ts";
import type { Device } from "../host/devices/device.ts";
import { DopantNetwork } from "../host/devices/dopant.ts";
import { TASKS, buildTask, taskName } from "../host/tasks/index.ts";
import type { AnyTask, Task } from "../host/tasks/task.ts";
import { resumedTotals, type Progress, type Result } from "../host/methods/method.ts";
import { classThreshold, windowSpectrum, type LiveMessage } from "../host/live/server.ts";
import { DEFAULTS, TrainConfigError, TrainingRun, continuationOf, iterationLimit, planRun, tonesOf, type TrainOptions } from "../host/train.ts";
import { boardChain, definedBoard, deviceRefusal, loadBoard, requireEmulated, runnableBoard, type Board } from "./boards.ts";
import { buildBoard, requireTools, type BuildResult } from "./build.ts";
import { BoardController, BoardSession, BoardStopped, LinkError, LinkState, encodeConfig, encodeFrame, Frame, type Hello, type Stopped, type StopReason } from "./link.ts";

export interface BoardTrainOptions extends Partial<Omit<TrainOptions, "device" | "task">> {
  /** An emulated board (boards/<board>.json with "emulation"). */
  board: string;
  /** A gate name ("xor", "AND", ...) or any task with input cases (gates, sphere,
   *  regression); default XOR. A data set (iris) is refused: the module on the board trains
   *  input cases. */
  task?: string | AnyTask;
  /** The device simulated on the host. Default: DopantNetwork.default(). */
  device?: Device;
  /** The module to build in (default build/hge.wasm). */
  wasm?: string;
  /** A firmware already built with entry "link" (skips the build). */
  built?: BuildResult;
  /** For tests: at sample `afterSamples`, send a frame with a broken CRC, drop the link
   *  (close the socket, wait past the board's timeout, connect again), kill the emulated
   *  board's QEMU (the link is lost for good), or reset it (QEMU's system_reset: it boots
   *  again, unconfigured); in the first `times` runs on the board (default 1: after a reset the
   *  run goes on), in those after the first at sample `again` (default afterSamples), or, with
   *  `again: "configuring"`, just before the board is configured again after a restart. */
  inject?: { afterSamples: number; fault: "corrupt-frame" | "drop" | "kill" | "reset"; times?: number; again?: number | "configuring" };
  /** How many restarts of the board mid-run (a reset, a brown-out: it answers unconfigured) the
   *  run goes on after (default BOARD_RESTARTS; 0: the first ends it stopped "link"). */
  restarts?: number;
  onProgress?: (progress: Progress) => void;
  /** The live view (host/live): a start message, one update per update, an end. */
  live?: (message: LiveMessage) => void;
  /** A real board's serial port (e.g. /dev/ttyACM0) with the link firmware flashed and
   *  running: no QEMU, no build. */
  port?: string;
  /** Its baud rate (default 115200). */
  baudRate?: number;
  /** Aborted (Ctrl-C): training stops at the next sample, the board parks the controls and
   *  keeps its checkpoint, and the Result says stopped = "interrupted". The loop yields to the
   *  event loop every 50 ms so a SIGINT handler can abort it; given a signal, QEMU runs in a
   *  process group of its own (the terminal's Ctrl-C reaches only the host). */
  signal?: AbortSignal;
  quiet?: boolean;
}

/** What a run on a board has besides the shared Result. */
export interface BoardDetails {
  /** The board's name (also result.ranOn). */
  name: string;
  /** How the board stopped: its STOPPED frame (reason, parked voltages). A link lost for good
   *  (`lost`) has none: reason 0, reasonName saying so, no parked voltages known. */
  boardStop: Stopped;
  /** The learned state the board kept when it stopped (Controller.load() takes it); after a
   *  link lost for good, the last one the host fetched (after each update), or empty. */
  checkpoint: Uint8Array;
  /** Set when the link was lost for good (the board gone, no reconnection): why, and the update
   *  whose checkpoint the host kept (0: none). The result is then what the host had received. */
  lost?: { reason: string; checkpointUpdate: number };
  /** Each time the board restarted mid-run and the run went on (the result's resumedFrom holds
   *  the run before): why, and the update whose checkpoint it went on from (0: none, from the
   *  start). */
  restarts: Restart[];
  link: { hello: Hello; samples: number; microsecondsPerSample: number; buildSeconds: number };
  /** What the firmware printed (the parked DAC write is the last hex line). */
  console: string;
  /** The checkpoint the firmware stored when it stopped (hal_checkpoint_store: the emulated
   *  board's flash, a file). */
  storedCheckpoint: Uint8Array | null;
}

/** What a run on the board ended with: its result, the checkpoint the host has, how the board
 *  stopped or why the link was lost, and the update whose checkpoint was kept (0: none). */
interface Ended { result: Result; checkpoint: Uint8Array; boardStop: Stopped | null; lost: string | null; keptAt: number }

/** A restart of the board mid-run that the run went on after (BoardDetails.restarts). */
export interface Restart { reason: string; afterUpdate: number }

/** Where a run goes on from after its board restarted, kept at update `afterUpdate` (Restart). */
export function wentOnFrom(afterUpdate: number): string {
  return afterUpdate ? `the checkpoint of update ${afterUpdate}` : "where the run started (no update before the restart)";
}

/** The board restarts mid-run a run goes on after, by default (BoardTrainOptions.restarts): a
 *  board that keeps restarting (a failing supply) ends the run at the next. */
export const BOARD_RESTARTS = 3;

/** A training on a board: the shared Result (ranOn = the board; stopped = "link" when the
 *  board stopped training itself: a malformed frame, a lost link) and the board's details. */
export interface BoardTraining {
  result: Result;
  board: BoardDetails;
}

export function resolveTask(task: string | AnyTask | undefined, device: Device): Task {
  if (task && typeof task !== "string") {
    if (task.kind !== "cases") throw new TrainConfigError("task", `${task.name} is a data set; the controller on a board trains tasks with input cases (gates, sphere, regression)`);
    return task;
  }
  const name = taskName(task ?? "xor");
  if (!name) throw new TrainConfigError("task", `task ${task}: one of ${TASKS.join(", ")}`);
  return resolveTask(buildTask(name, device), device);
}


/** The configuration block `hge train --board <b>` sends for XOR on the default device (seed
 *  `seed`, the board's chain): what a main-loop build of the controller compiles in when no
 *  other is given (`hge board run --adc`, `hge board build --app reference`). */
export function defaultBoardConfiguration(b: Board, seed = DEFAULTS.seed): { block: Uint8Array; unitPerV: number } {
  const device = DopantNetwork.default();
  // planned as a training plans it (a window grown where the tones need a longer one)
  const run = new TrainingRun(new Controller(), { device, task: resolveTask("xor", device), seed, chain: boardChain(b, device) } as TrainOptions);
  const { block, error } = encodeConfig(run.config);
  if (error) throw error;
  return { block, unitPerV: b.adc.unitPerV };
}

/** Builds (unless given) the link firmware for an emulated board. */
export function buildLinkFirmware(board: string, o: { wasm?: string; quiet?: boolean; out?: string } = {}): BuildResult {
  const b = loadBoard(board);
  requireEmulated(b, "hardware in the loop");
  requireTools(b, { emulate: true });
  return buildBoard(b, { wasm: o.wasm, app: "hge", entry: "link", quiet: o.quiet, out: o.out });
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
/** How often the loop yields to the event loop (so an abort on SIGINT is seen). */
const YIELD_MS = 50;

/**
 * Trains a task on the simulated device with the controller on the emulated board. The loop
 * is trainTask's (host/train.ts TrainingRun) with the board in place of the Node controller.
 * Training ends as there (solved, iteration limit, fault, an abort), then the host sends STOP;
 * or the board ends it (malformed frame, lost link): either way the electrodes are parked and
 * the checkpoint kept. A device the board cannot drive, or a task the device does not fit, is
 * refused (TrainConfigError) before anything is built.
 */
export async function trainOnBoard(o: BoardTrainOptions): Promise<BoardTraining> {
  const started = performance.now();
  const device = o.device ?? DopantNetwork.default();
  const task = resolveTask(o.task, device);
  // a real board on its port need not be emulated; its firmware is flashed already
  const b = o.built?.board ?? (o.port ? definedBoard(o.board, "hge train --board --port") : runnableBoard(o.board, "hge train --board"));
  // the chain the host simulates is the board's converters (sample rate, ADC, transimpedance)
  const chain = { ...boardChain(b, device), ...o.chain };
  if (chain.transimpedancePerV !== b.adc.unitPerV) throw new TrainConfigError("unit", `the chain's transimpedance is ${chain.transimpedancePerV} ${device.outputUnit}/V; ${b.name}'s ADC front end is ${b.adc.unitPerV} ${b.adc.unit}/V (adc.unitPerV in its board file)`);
  const options: TrainOptions = { ...o, chain, seed: o.seed ?? DEFAULTS.seed, device, task } as TrainOptions;
  const refusal = deviceRefusal(b, device);
  if (refusal) throw new TrainConfigError("device", refusal);
  const planned = planRun(options); // a bad option is refused before anything is built
  if (planned.controller.sampleRateHz !== b.sampleRateHz) {
    throw new TrainConfigError("sampleRate", `the configuration samples at ${planned.controller.sampleRateHz} Hz; ${b.name} converts at ${b.sampleRateHz} Hz (sampleRateHz in its board file)`);
  }

  const built = o.built ?? (o.port ? ({ board: b, elf: "", seconds: 0 } as unknown as BuildResult) : buildLinkFirmware(o.board, { wasm: o.wasm, quiet: o.quiet }));
  if (!o.port && !existsSync(built.elf)) throw new Error(`${built.elf} missing`);
  const { session, hello } = await BoardSession.open(built.board, o.port ? null : built.elf, { ownProcessGroup: o.signal !== undefined, port: o.port, baudRate: o.baudRate });
  let controller = new BoardController(session, o.port ? undefined : built.wasm);
  let loopSamples = 0, loopSeconds = 0;
  try {
    // the host builds configurations in the unit the board's firmware passes to step(): a
    // firmware built for another ADC scale would read every value wrong by their ratio
    const expected = loadBoard(o.board);
    if (hello.adcUnitPerV !== expected.adc.unitPerV) {
      throw new TrainConfigError("unit", `${hello.board} reads ${hello.adcUnitPerV} ${expected.adc.unit} per ADC volt; boards/${o.board}.json says ${expected.adc.unitPerV}: the firmware was built for another board file (rebuild it)`);
    }
    // the live view: every reading kept in a ring (the last window's spectrum), and after
    // each update the Progress with the case outputs, the threshold and the controls
    const RING = 1 << 16;
    const ring = new Float64Array(RING);
    let received = 0;
    let liveStarted = false;
    const restarts: Restart[] = [];
    let earlier: Result | undefined; // the run before the board's last restart, which the next resumes
    let segment = options;
    // what the run on the board that restarted ended with, until the board is configured again
    let restart: Ended & { lost: string } | undefined;
    /** Whether the test's fault (o.inject) is due at `at`: a sample of the run on the board, or
     *  as the board is configured again after a restart. */
    const faultDue = (at: number | "configuring") => {
      if (!o.inject) return false;
      const nth = restarts.length + (restart ? 1 : 0); // the runs on the board before this one
      return nth < (o.inject.times ?? 1) && at === (nth ? o.inject.again ?? o.inject.afterSamples : o.inject.afterSamples);
    };
    /** Ends the run with what a run on the board ended with. */
    const end = async ({ result, checkpoint, boardStop, lost, keptAt }: Ended): Promise<BoardTraining> => {
      const kept = keptAt ? `the checkpoint of update ${keptAt}` : checkpoint.length ? "the checkpoint it started from" : "no checkpoint (no update before the loss)";
      const stopped = lost ? { reason: 0 as StopReason, reasonName: `the link was lost (${lost}); the run keeps what the host received: ${kept}, where the board parked its electrodes is not known`, checkpointBytes: checkpoint.length, parkedV: [] } : boardStop!;
      o.live?.({ type: "end", solved: result.solved, stopped: result.stopped });
      await session.exit(0);
      return {
        result,
        board: {
          name: built.board.name,
          boardStop: stopped,
          ...(lost ? { lost: { reason: lost, checkpointUpdate: keptAt } } : {}),
          restarts,
          checkpoint,
          link: { hello, samples: loopSamples, microsecondsPerSample: loopSamples ? (1e6 * loopSeconds) / loopSamples : 0, buildSeconds: built.seconds },
          console: session.console(),
          storedCheckpoint: session.storedCheckpoint(),
        },
      };
    };
    for (;;) {
      if (o.live) {
        const step = controller.step.bind(controller);
        controller.step = (reading: number) => { ring[received++ & (RING - 1)] = reading; return step(reading); };
      }
      // (the progress of the runs before a restart counted in: the user sees one run)
      const before = earlier ? resumedTotals(earlier) : { iterations: 0, deviceSeconds: 0 };
      let keptAt = restart?.keptAt ?? 0; // (the checkpoint it went on from, loaded and kept by the controller)
      const progress = (p: Progress) => {
        // the learned state after every update, kept here: a link lost for good leaves it
        controller.keepCheckpoint();
        p = { ...p, iteration: before.iterations + p.iteration, deviceSeconds: before.deviceSeconds + p.deviceSeconds };
        keptAt = p.iteration;
        o.onProgress?.(p);
        if (!o.live) return;
        if (!liveStarted) {
          liveStarted = true;
          o.live({ type: "start", title: `${task.name} on ${device.name}, controller on ${b.name}`, criterionName: p.criterionName, outputUnit: device.outputUnit, caseCount: task.inputCases.length, targets: task.targets, controlCount: device.controlCount });
        }
        const outputs = Array.from(controller.caseOutputs());
        const window = run.config.windowSamples;
        const last = Array.from({ length: Math.min(window, received) }, (_, t) => ring[(received - Math.min(window, received) + t) & (RING - 1)]);
        o.live({
          type: "update", iteration: p.iteration, deviceSeconds: p.deviceSeconds, loss: p.loss, criterion: p.criterion,
          caseOutputs: outputs, threshold: classThreshold(outputs, task.targets), weights: Array.from(controller.weights()),
          spectrum: last.length === window ? windowSpectrum(last, run.config.sampleRateHz, controller.toneBins()) : undefined,
        });
      };
      let run: TrainingRun;
      if (faultDue("configuring")) await injectFault(controller, o.inject!.fault, hello.linkTimeoutMs);
      try {
        run = new TrainingRun(controller, segment, progress);
      } catch (e) {
        // the board restarted again (or refused the checkpoint) while configured again: the run
        // ends with the one before, stopped "link"
        if (!restart || !(e instanceof LinkError || e instanceof ControllerError)) throw e;
        return await end({ ...restart, lost: `${restart.lost}; configuring it again failed: ${e.message.replace(/^link: /, "")}` });
      }
      if (restart) {
        restarts.push({ afterUpdate: restart.keptAt, reason: restart.lost });
        if (!o.quiet) process.stderr.write(`hge: ${restart.lost}; configured again, it goes on from ${wentOnFrom(restart.keptAt)}\n`);
        restart = undefined;
      }
      let boardStop: Stopped | null = null;
      let lost: string | null = null; // the link is gone for good: why
      let restarted = false; // the board restarted mid-run (it answers unconfigured)
      const loopStarted = performance.now();
      let yielded = loopStarted;
      try {
        for (let n = 0; ; n++) {
          if (faultDue(n)) await injectFault(controller, o.inject!.fault, hello.linkTimeoutMs);
          if (o.signal?.aborted) run.interrupt();
          if (!run.step()) break;
          if (performance.now() - yielded >= YIELD_MS) {
            await new Promise((resolve) => setImmediate(resolve));
            yielded = performance.now();
          }
        }
      } catch (e) {
        // The board stopped training itself; after a lost link, connect again to hear why.
        if (e instanceof BoardStopped) boardStop = e.stopped;
        else if (e instanceof LinkError) ({ boardStop, lost, restarted } = await reconnectAfterLoss(controller, e));
        else throw e;
      }
      const stoppedByBoard = boardStop !== null || lost !== null;
      loopSamples += run.sim.samples;
      loopSeconds += (performance.now() - loopStarted) / 1000;
      if (!boardStop && !lost) {
        try {
          boardStop = controller.stopped ?? controller.stop();
        } catch (e) {
          if (!(e instanceof LinkError)) throw e;
          lost = e.message; // lost just as the run ended: it is over, and what it learned is here
        }
      }
      // the link gone for good: the run ends with what the host received (its record of every
      // update, the last telemetry, the checkpoint of the last update), as other stops end
      if (lost) controller.offline();
      let result = run.finish(run.liveliestCase(), built.board.name);
      const checkpoint = controller.save();
      if (lost && !checkpoint.length) delete result.module?.checkpoint;
      result = { ...result, wallSeconds: (performance.now() - started) / 1000, stopped: stoppedByBoard ? "link" : result.stopped, ...(earlier ? { resumedFrom: earlier as unknown as Record<string, unknown> } : {}) };
      // a board that restarted is configured again and goes on from what the host kept, as
      // --resume would, the budget what is left of the run's
      const next = restarted && !o.signal?.aborted && restarts.length < (o.restarts ?? BOARD_RESTARTS) ? continuation(segment, result) : undefined;
      if (!next) return await end({ result, checkpoint, boardStop, lost, keptAt });
      restart = { result, checkpoint, boardStop, lost: lost!, keptAt };
      earlier = result;
      segment = next;
      controller = new BoardController(session, o.port ? undefined : built.wasm);
    }
  } finally {
    session.kill();
    session.cleanup();
  }
}

/** Test faults: a frame whose CRC is wrong, the connection dropped for longer than the
 *  board's link timeout, QEMU killed, or the board reset. */
async function injectFault(controller: BoardController, fault: "corrupt-frame" | "drop" | "kill" | "reset", linkTimeoutMs: number): Promise<void> {
  if (fault === "reset") {
    await controller.session.monitor("system_reset");
    return;
  }
  if (fault === "kill") {
    const pid = controller.session.qemuPid;
    if (pid === undefined) throw new Error("inject kill: no QEMU to kill (a board on a port)");
    process.kill(pid, "SIGKILL");
    return;
  }
  if (fault === "drop") {
    controller.session.drop();
    await sleep(linkTimeoutMs + 500); // past the board's link timeout
    return;
  }
  const frame = encodeFrame(Frame.Adc, new Uint8Array(4)); // a reading of 0 V
  frame[frame.length - 1] ^= 0x5a;
  controller.session.sendRaw(frame);
  controller.awaitStop(); // throws BoardStopped
}

/** After the link was lost: connect again; a board that timed out says it stopped, one that
 *  did not yet is stopped now (`boardStop`). When the board cannot be heard again, or restarted
 *  (a reset, a power cycle: it answers unconfigured), why (`lost`). */
async function reconnectAfterLoss(controller: BoardController, cause: LinkError): Promise<{ boardStop: Stopped | null; lost: string | null; restarted: boolean }> {
  const lost = cause.message.replace(/^link: /, "");
  try {
    const stopped = await controller.reconnect();
    if (stopped) return { boardStop: stopped, lost: null, restarted: false };
    // a board that restarted has lost its configuration and learned state; what the run learned
    // is the host's (the checkpoint of the last update)
    if (controller.session.hello.state === LinkState.Idle) return { boardStop: null, lost: `${lost}; the board restarted mid-run (it answers unconfigured): its learned state is gone`, restarted: true };
    return { boardStop: controller.stop(), lost: null, restarted: false };
  } catch (e) {
    if (!(e instanceof LinkError)) throw e;
    return { boardStop: null, lost: `${lost}; connecting again failed: ${e.message.replace(/^link: /, "")}`, restarted: false };
  }
}

/** The options that go on from `run` (what `options` ran) after its board restarted, as
 *  `--resume` would (host/train.ts continuationOf), with what is left of the budget and the
 *  device time counted on; undefined once the budget is spent. */
export function continuation(options: TrainOptions, run: Result): TrainOptions | undefined {
  const maxIterations = iterationLimit(options) - run.iterations;
  const maxDeviceSeconds = options.maxDeviceSeconds === undefined ? undefined : options.maxDeviceSeconds - run.deviceSeconds;
  if (maxIterations < 1 || (maxDeviceSeconds !== undefined && maxDeviceSeconds <= 0)) return undefined;
  const { planOrder, patience, ...from } = continuationOf(run, true);
  const tones = tonesOf(options);
  return {
    ...options, ...from, patience: patience ?? options.patience, maxIterations, maxDeviceSeconds, startSeconds: (options.startSeconds ?? 0) + run.deviceSeconds,
    ...(planOrder && "plan" in tones ? { tones: { plan: { ...tones.plan, planOrder } } } : {}),
  };
}
