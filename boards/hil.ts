// Hardware in the loop: the controller runs on the emulated board (firmware built with the
// link entry, link.c), the device and the measurement chain are simulated here, and the two
// talk through the board's UART with the framed protocol (link.ts). trainOnBoard() runs the
// training loop of host/train.ts's trainTask() with the board as the controller: the same
// options give the same readings, so the same weights bit for bit.
import { existsSync } from "node:fs";
import * as L from "../assembly/layout.ts";
import { ControllerError, type Controller, type ControllerStatus } from "../host/controller.ts";
import { CoSimulation } from "../host/cosim.ts";
import type { Device } from "../host/devices/device.ts";
import { DopantNetwork } from "../host/devices/dopant.ts";
import { GATE_NAMES, gateTask, type GateName } from "../host/tasks/gates.ts";
import type { Task } from "../host/tasks/task.ts";
import { DEFAULTS, TrainConfigError, buildNoise, chainModel, planRun, startingVoltages, taskMargin, type TrainOptions, type TrainProgress, type TrainResult } from "../host/train.ts";
import { loadBoard } from "./boards.ts";
import { buildBoard, defaultOut, ensureToolchain, type BuildResult } from "./build.ts";
import { BoardController, BoardSession, BoardStopped, LinkError, encodeFrame, Frame, type Hello, type Stopped } from "./link.ts";

/** An improvement of the margin smaller than this is not progress (as in trainTask). */
const MARGIN_PROGRESS = 0.01;

export interface BoardTrainOptions extends Partial<Omit<TrainOptions, "device" | "task">> {
  /** An emulated board (boards/<board>.json with "emulation"). */
  board: string;
  /** A gate name ("xor", "AND", ...) or a task; default XOR. */
  task?: string | Task;
  /** Default: DopantNetwork.default(). */
  device?: Device;
  /** The module to build in (default build/hge.wasm). */
  wasm?: string;
  /** A firmware already built with entry "link" (skips the build). */
  built?: BuildResult;
  /** For tests: at sample `afterSamples`, send a frame with a broken CRC, or drop the link
   *  (close the socket, wait past the board's timeout, connect again). */
  inject?: { afterSamples: number; fault: "corrupt-frame" | "drop" };
  onProgress?: (progress: TrainProgress) => void;
  quiet?: boolean;
}

export interface BoardTrainResult extends Omit<TrainResult, "stopped"> {
  board: string;
  /** "link": the board stopped training itself (a malformed frame, a lost link). */
  stopped: TrainResult["stopped"] | "link";
  /** How the board stopped: its STOPPED frame (reason, parked voltages). */
  boardStop: Stopped;
  /** The learned state the board kept when it stopped (Controller.load() takes it). */
  checkpoint: Uint8Array;
  link: { hello: Hello; samples: number; microsecondsPerSample: number; buildSeconds: number };
  /** What the firmware printed (the parked DAC write is the last hex line). */
  console: string;
  /** The checkpoint the firmware stored when it stopped (hal_checkpoint_store: the emulated
   *  board's flash, a file). */
  storedCheckpoint: Uint8Array | null;
}

export function resolveTask(task: string | Task | undefined, device: Device): Task {
  if (task && typeof task !== "string") return task;
  const gate = (task ?? "xor").toUpperCase();
  if (!(GATE_NAMES as readonly string[]).includes(gate)) throw new TrainConfigError("task", `task ${task}: the board runs the gates ${GATE_NAMES.join(", ").toLowerCase()}`);
  return gateTask(gate as GateName, device.inputRangeV);
}

/** Builds (unless given) the link firmware for an emulated board. */
export function buildLinkFirmware(board: string, o: { wasm?: string; quiet?: boolean; out?: string } = {}): BuildResult {
  const b = loadBoard(board);
  if (!b.emulation) throw new Error(`${board} is not emulated: hardware in the loop needs QEMU (or a real board on a serial port)`);
  ensureToolchain();
  return buildBoard(b, { wasm: o.wasm, app: "hge", entry: "link", quiet: o.quiet, out: o.out ?? defaultOut(b.name, { app: "hge", entry: "link" }) });
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Trains a gate on the simulated device with the controller on the emulated board. The loop
 * is trainTask's (host/train.ts) with the board in place of the Node controller. Training ends
 * as there (solved, iteration limit, fault), then the host sends STOP; or the board ends it
 * (malformed frame, lost link): either way the electrodes are parked and the checkpoint kept.
 */
export async function trainOnBoard(o: BoardTrainOptions): Promise<BoardTrainResult> {
  const started = performance.now();
  const device = o.device ?? DopantNetwork.default();
  const task = resolveTask(o.task, device);
  const options: TrainOptions = { ...o, seed: o.seed ?? DEFAULTS.seed, device, task } as TrainOptions;
  const { controller: config0, chain, noise } = planRun(options);
  const maxIterations = options.maxIterations ?? DEFAULTS.maxIterations;
  const solvedEpochs = options.solvedEpochs ?? DEFAULTS.solvedEpochs;
  const canRestart = (options.initialV ?? "random") === "random";
  const patience = canRestart ? (options.patience ?? DEFAULTS.patience) : 0;
  if (!(Number.isInteger(maxIterations) && maxIterations >= 1)) throw new TrainConfigError("maxIterations", `iteration limit ${maxIterations} is not a whole number ≥ 1`);

  const built = o.built ?? buildLinkFirmware(o.board, { wasm: o.wasm, quiet: o.quiet });
  if (!existsSync(built.elf)) throw new Error(`${built.elf} missing`);
  const { session, hello } = BoardSession.open(built.board, built.elf);
  const controller = new BoardController(session);
  let config = config0;
  try {
    try {
      controller.configure(config);
    } catch (error) {
      // as trainTask: a planned tone set that does not fit the default window
      const minimum = error instanceof ControllerError && error.field === "Plan" && options.windowSamples === undefined
        ? new Int32Array(controller.exports.memory.buffer, controller.exports.STATUS.value as number, L.STATUS_WORDS)[L.Status.PlanMinWindow] : 0;
      if (!minimum) throw error;
      const retry = planRun({ ...options, windowSamples: Math.ceil(minimum / 50) * 50 });
      config = retry.controller;
      controller.configure(config);
    }
    const sim = new CoSimulation(controller as unknown as Controller, device, chainModel(chain, buildNoise(noise, chain.sampleRateHz, options.seed)));

    const window = config.windowSamples;
    const cases = config.cases.length;
    const ring = new Float64Array(window);
    let ringAt = 0;
    const lastWindows = Array.from({ length: cases }, () => new Float64Array(window));
    let windowsDone = 0;
    const lossHistory: number[] = [];
    const weightsHistory: number[][] = [Array.from(controller.weights())];
    const caseOutputsHistory: number[][] = [];
    const attempts: TrainResult["attempts"] = [{ startIteration: 0, initialV: config.controls.map((c) => c.initialV) }];
    const totals = { samples: 0, windows: 0, discardedWindows: 0, updates: 0, epochs: 0, skippedUpdates: 0 };
    const addCounters = () => {
      const status = controller.status();
      for (const key of Object.keys(totals) as Array<keyof typeof totals>) totals[key] += status[key];
    };
    let iteration = 0, solvedRun = 0, margin = Number.NaN, bestMargin = -Infinity, bestAt = 0;
    let stopped: BoardTrainResult["stopped"] = "iterations";
    let boardStop: Stopped | null = null;
    const samplesPerEpoch = cases * (config.settleSamples + window);
    const sampleLimit = (maxIterations + config.calibrationWindows! + 2) * samplesPerEpoch * 4;
    const loopStarted = performance.now();

    try {
      for (let n = 0; n < sampleLimit; n++) {
        const reading = sim.measure(sim.deviceOutput());
        sim.samples++;
        ring[ringAt] = reading;
        ringAt = ringAt + 1 === window ? 0 : ringAt + 1;
        if (o.inject && n === o.inject.afterSamples) await injectFault(controller, o.inject.fault, reading, hello.linkTimeoutMs);
        const events = controller.step(reading);
        if (events === 0) continue;
        if (events & L.Event.WindowDone) {
          const p = windowsDone % cases;
          lastWindows[p].set(ring.subarray(ringAt), 0);
          lastWindows[p].set(ring.subarray(0, ringAt), window - ringAt);
          windowsDone++;
        }
        if (events & L.Event.Fault) {
          stopped = "fault";
          break;
        }
        if (!(events & L.Event.UpdateDone)) continue;
        iteration++;
        const outputs = Array.from(controller.caseOutputs());
        const loss = controller.status().loss;
        lossHistory.push(loss);
        weightsHistory.push(Array.from(controller.weights()));
        caseOutputsHistory.push(outputs);
        margin = taskMargin(task, outputs);
        const solvedNow = task.solved(outputs);
        solvedRun = solvedNow ? solvedRun + 1 : 0;
        o.onProgress?.({ iteration, maxIterations, loss, margin, deviceSeconds: sim.samples / chain.sampleRateHz, solved: solvedNow, attempt: attempts.length });
        if (solvedEpochs > 0 && solvedRun >= solvedEpochs) {
          stopped = "solved";
          break;
        }
        if (iteration >= maxIterations) break;
        if (margin > bestMargin + MARGIN_PROGRESS) {
          bestMargin = margin;
          bestAt = iteration;
        }
        if (patience > 0 && iteration - bestAt >= patience && maxIterations - iteration >= patience) {
          const status = controller.status();
          addCounters();
          const initialV = startingVoltages(device, options.seed, attempts.length);
          controller.configure({
            ...config,
            controls: config.controls.map((c, k) => ({ ...c, initialV: initialV[k] })),
            calibrationWindows: 0,
            lag: { delaySamples: status.lagDelaySamples, cornerHz: status.lagCornerHz },
          });
          attempts.push({ startIteration: iteration, initialV });
          weightsHistory[weightsHistory.length - 1] = initialV.slice();
          bestMargin = -Infinity;
          bestAt = iteration;
          solvedRun = 0;
          windowsDone = 0;
        }
      }
    } catch (e) {
      // The board stopped training itself; after a lost link, connect again to hear why.
      if (e instanceof BoardStopped) boardStop = e.stopped;
      else if (e instanceof LinkError) boardStop = reconnectAfterLoss(controller, e);
      else throw e;
      stopped = "link";
    }
    const loopSamples = sim.samples;
    const loopSeconds = (performance.now() - loopStarted) / 1000;
    if (!boardStop) boardStop = controller.stopped ?? controller.stop();
    const last = controller.status();
    addCounters();
    const counters: ControllerStatus = { ...last, ...totals };
    const checkpoint = controller.save();
    const toneBins = Array.from(controller.toneBins());
    const finalWeights = Array.from(controller.weights());
    await session.exit(0);
    return {
      device: device.name,
      task: task.name,
      seed: options.seed,
      solved: stopped === "solved" || (solvedEpochs === 0 && solvedRun > 0),
      iterations: iteration,
      deviceSeconds: sim.samples / chain.sampleRateHz,
      wallSeconds: (performance.now() - started) / 1000,
      margin,
      lossHistory,
      weightsHistory,
      caseOutputsHistory,
      caseOutputs: caseOutputsHistory.at(-1) ?? Array.from(controller.caseOutputs()),
      targets: task.targets.slice(),
      finalWeights,
      counters,
      attempts,
      config: { controller: config, chain, noise, maxIterations, solvedEpochs, patience },
      toneBins,
      toneHz: toneBins.map((m) => (m * chain.sampleRateHz) / window),
      toneHits: Array.from(controller.toneHits()),
      outputUnit: device.outputUnit,
      oneWindow: { case: 0, sampleRateHz: chain.sampleRateHz, readings: Array.from(lastWindows[0]) },
      stopped,
      board: built.board.name,
      boardStop,
      checkpoint,
      link: { hello, samples: loopSamples, microsecondsPerSample: loopSamples ? (1e6 * loopSeconds) / loopSamples : 0, buildSeconds: built.seconds },
      console: session.console(),
      storedCheckpoint: session.storedCheckpoint(),
    };
  } finally {
    session.kill();
    session.cleanup();
  }
}

/** Test faults: a frame whose CRC is wrong, or the connection dropped for longer than the
 *  board's link timeout. */
async function injectFault(controller: BoardController, fault: "corrupt-frame" | "drop", reading: number, linkTimeoutMs: number): Promise<void> {
  if (fault === "drop") {
    controller.session.drop();
    await sleep(linkTimeoutMs + 500); // past the board's link timeout
    return;
  }
  const payload = new Uint8Array(4);
  new DataView(payload.buffer).setFloat32(0, reading, true);
  const frame = encodeFrame(Frame.Adc, payload);
  frame[frame.length - 1] ^= 0x5a;
  controller.session.sendRaw(frame);
  controller.awaitStop(); // throws BoardStopped
}

/** After the link was lost: connect again; a board that timed out says it stopped. */
function reconnectAfterLoss(controller: BoardController, cause: LinkError): Stopped {
  let stopped: Stopped | null;
  try {
    stopped = controller.reconnect();
  } catch (e) {
    throw new LinkError(`${cause.message}; connecting again failed: ${(e as Error).message}`);
  }
  if (!stopped) throw new LinkError(`${cause.message}; the board did not stop`);
  return stopped;
}
