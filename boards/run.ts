// `hge board run <board> --replay | --hil`: the controller on an emulated board, either fed
// the readings of a recorded Node co-simulation (replay: bit-for-bit parity), or training
// XOR with the device simulated on the host over the board's UART (hardware in the loop).
import { DopantNetwork } from "../host/devices/dopant.ts";
import { trainTask, type TrainOptions } from "../host/train.ts";
import { resumedTotals } from "../host/methods/method.ts";
import { boardChain, loadBoard, requireEmulated } from "./boards.ts";
import { resolveTask, trainOnBoard, wentOnFrom, type BoardTrainOptions, type BoardTraining } from "./hil.ts";
import { recordCoSimulation, replayOnBoard, type ReplayReport } from "./replay.ts";

export interface RunBoardOptions extends Omit<BoardTrainOptions, "board"> {
  mode: "replay" | "hil";
  /** Replay: updates recorded (default 3). */
  updates?: number;
  /** Hardware in the loop: also run the same training in Node and compare the weights bit for
   *  bit (default true). */
  compare?: boolean;
}

export interface RunBoardResult {
  /** Replay: bit for bit the Node run's. In the loop: solved, with (compare) the Node run's weights. */
  ok: boolean;
  /** A few lines for the terminal. */
  text: string;
  replay?: ReplayReport;
  training?: BoardTraining;
  /** Hardware in the loop with compare: the weights after every update equal the Node run's. */
  identicalToNode?: boolean;
}

const bitsOf = (rows: number[][]) => JSON.stringify(rows.map((r) => Array.from(new Uint32Array(Float32Array.from(r).buffer))));

export async function runBoard(board: string, o: RunBoardOptions): Promise<RunBoardResult> {
  const b = loadBoard(board);
  requireEmulated(b, "hge board run");
  if (o.mode === "replay") {
    const recording = recordCoSimulation(b, { updates: o.updates, seed: o.seed });
    const r = await replayOnBoard(board, recording, { wasm: o.wasm, quiet: o.quiet });
    const text = [
      `${board}: replayed ${r.samples} readings of a Node co-simulation (XOR, dopant network, ${recording.updates} updates)`,
      `  electrode outputs and events: ${r.sampleDifference ?? "bit-identical"}`,
      `  telemetry (${r.records} records: status, gradients, weights, case outputs): ${r.telemetryDifference ?? "bit-identical"}`,
      `  final checkpoint: ${r.checkpointIdentical ? "bit-identical" : "DIFFERS"}`,
      `  build ${r.buildSeconds.toFixed(1)} s, QEMU ${r.runSeconds.toFixed(2)} s`,
    ].join("\n");
    return { ok: r.identical, text, replay: r };
  }
  const training = await trainOnBoard({ ...o, board });
  const { result, board: details } = training;
  const lines = [
    `${board}: trained ${result.task} in the loop: ${result.solved ? "solved" : `not solved (stopped: ${result.stopped})`}, ${resumedTotals(result).iterations} updates, ${result.criterionName} ${Number.isFinite(result.criterion) ? result.criterion.toFixed(3) : "not measured"}`,
    ...details.restarts.map((r) => `  the board restarted mid-run; configured again, the run went on from ${wentOnFrom(r.afterUpdate)}`),
    details.lost
      ? `  ${details.link.samples} samples over the UART, ${details.link.microsecondsPerSample.toFixed(0)} µs each; ${details.boardStop.reasonName}`
      : `  ${details.link.samples} samples over the UART, ${details.link.microsecondsPerSample.toFixed(0)} µs each; stopped (${details.boardStop.reasonName}) with the electrodes parked at ${details.boardStop.parkedV.map((v) => v.toFixed(4)).join(", ")} V`,
    `  final weights ${result.finalWeights.map((v) => v.toFixed(4)).join(", ")} V; checkpoint ${details.checkpoint.length} bytes`,
  ];
  let identicalToNode: boolean | undefined;
  // (a run cut short, by Ctrl-C or a lost link, or gone on after a restart of the board, has
  // nothing to compare with a whole one)
  if ((o.compare ?? true) && result.stopped !== "interrupted" && result.stopped !== "link" && !details.restarts.length) {
    const device = o.device ?? DopantNetwork.default();
    // the same chain as on the board (the board file's converters), the same loop (solved epochs
    // confirmed on held controls: the link's HOLD frame)
    const node = trainTask({ ...o, chain: boardChain(loadBoard(board), device), seed: o.seed ?? result.seed, device, task: resolveTask(o.task, device) } as TrainOptions);
    identicalToNode = bitsOf(node.history.weights) === bitsOf(result.history.weights) && bitsOf([node.history.loss]) === bitsOf([result.history.loss]);
    lines.push(`  the same training in Node: ${identicalToNode ? "the same weights after every update, bit for bit" : "DIFFERENT weights"} (${node.iterations} updates, ${node.stopped})`);
  }
  return { ok: result.solved && identicalToNode !== false, text: lines.join("\n"), training, identicalToNode };
}
