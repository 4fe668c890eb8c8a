// Replay parity: a Node co-simulation of XOR on the default dopant network records every
// reading fed to the controller, every sample's events and electrode voltages, and the
// telemetry records (gradients after each update, the final weights); the firmware, built with
// the same configuration block, is fed the same readings in QEMU and must print the same bits.
import { readFileSync, rmSync, existsSync } from "node:fs";
import { join } from "node:path";
import * as L from "../assembly/layout.ts";
import { Controller, type ControllerConfig } from "../host/controller.ts";
import { CoSimulation, firmwareReading } from "../host/cosim.ts";
import { DopantNetwork } from "../host/devices/dopant.ts";
import { gateTask } from "../host/tasks/gates.ts";
import { DEFAULTS, buildNoise, chainModel, planRun, type TrainOptions } from "../host/train.ts";
import { electrodeRanges, type Board } from "./boards.ts";
import { buildBoard, type BuildOptions } from "./build.ts";
import { REPORT_FINAL, TELEMETRY_EVENTS, adcVoltsFor, encodeConfig, telemetryOf } from "./link.ts";
import { formatSample, sampleLines, firstDifference } from "./parity.ts";
import { runQemu } from "./qemu.ts";

export interface Recording {
  config: ControllerConfig;
  /** The configuration block (hge_config_t bytes) the firmware is built with. */
  block: Uint8Array;
  /** Every reading the controller was fed, as the f32 it received. */
  readings: Float32Array;
  /** What the DACs were written: the configuration's first step (events 0), then per sample
   *  the events and the electrode voltages, 8 hex digits each (parity.ts). */
  samples: string[];
  /** The telemetry records ("T" lines): after epochs, updates, faults, and the final one. */
  telemetry: string[];
  /** The checkpoint blob at the end. */
  checkpoint: Uint8Array;
  updates: number;
  /** Where the electrodes start, as on the board it is recorded for: its DACs' park voltages
   *  (the firmware's app_init() configures again from there, and the controller ramps). */
  powerOnV: number[];
  /** The ADC scale of the board it is recorded for (adc.unitPerV): the readings are those its
   *  firmware makes from volts. */
  unitPerV: number;
}

const hex8 = (v: number) => (v >>> 0).toString(16).padStart(8, "0");
export const telemetryLine = (words: Uint32Array) => `T ${Array.from(words, hex8).join(" ")}`;
export const telemetryLines = (stdout: string) => stdout.split("\n").filter((l) => l.startsWith("T "));

export interface RecordOptions extends Partial<Omit<TrainOptions, "device" | "task">> {
  /** Updates to run before stopping (default 3). */
  updates?: number;
}

/** The park voltages of the board's first `n` DAC channels: where its electrodes start. */
const powerOnOf = (board: Board, n: number) => electrodeRanges(board).slice(0, n).map((r) => r.parkV);

/** Runs XOR on DopantNetwork.default() in Node for `updates` updates, starting from `board`'s
 *  power-on voltages as its firmware does, and records it. */
export function recordCoSimulation(board: Board, o: RecordOptions = {}): Recording {
  const device = DopantNetwork.default();
  const task = gateTask("XOR", device.inputRangeV);
  // (an undefined seed, `--replay` without --seed, must not override the default: it replayed seed 0)
  const options: TrainOptions = { ...o, seed: o.seed ?? DEFAULTS.seed, device, task };
  const { controller: config, chain, noise } = planRun(options);
  const controller = new Controller();
  controller.configure(config);
  const powerOnV = powerOnOf(board, config.controls.length + config.inputs.length);
  controller.electrodes().set(powerOnV);
  controller.configure(config);
  const { block } = encodeConfig(config);
  const written = (events: number) => formatSample(events, new Uint32Array(controller.electrodes().slice().buffer));
  const sim = new CoSimulation(controller, device, chainModel(chain, buildNoise(noise, chain.sampleRateHz, options.seed)));
  const updates = o.updates ?? 3;
  const inputs = config.inputs.length;
  const readings: number[] = [], samples = [written(0)], telemetry: string[] = []; // (the configuration's first step)
  const samplesPerEpoch = config.cases.length * (config.settleSamples + config.windowSamples);
  const limit = (updates + (config.calibrationEpochs ?? 0) + 2) * samplesPerEpoch * 4;
  let done = 0;
  for (let n = 0; n < limit && done < updates; n++) {
    // the reading as the board's firmware makes it from its ADC's volts (the same f32 unless the
    // board's scale is not a power of two, which reaches only some readings)
    const reading = firmwareReading(adcVoltsFor(sim.measure(sim.deviceOutput()), board.adc.unitPerV), board.adc.unitPerV);
    sim.samples++;
    readings.push(reading);
    const events = controller.step(reading);
    samples.push(written(events));
    if (events & TELEMETRY_EVENTS) telemetry.push(telemetryLine(telemetryOf(controller, events, inputs)));
    if (events & L.Event.UpdateDone) done++;
  }
  telemetry.push(telemetryLine(telemetryOf(controller, REPORT_FINAL, inputs)));
  return { config, block, readings: Float32Array.from(readings), samples, telemetry, checkpoint: controller.save(), updates: done, powerOnV, unitPerV: board.adc.unitPerV };
}

export interface ReplayReport {
  board: string;
  samples: number;
  /** null when identical; else the first difference. */
  sampleDifference: string | null;
  telemetryDifference: string | null;
  checkpointIdentical: boolean;
  /** Telemetry records compared (each holds the gradient, weights, case outputs, status). */
  records: number;
  buildSeconds: number;
  runSeconds: number;
  identical: boolean;
}

/** Builds the firmware with the recording's configuration and replays its readings in QEMU. */
export async function replayOnBoard(board: string | Board, recording: Recording, o: Pick<BuildOptions, "wasm" | "out" | "quiet" | "unchecked"> = {}): Promise<ReplayReport> {
  const built = buildBoard(board, { ...o, app: "hge", config: recording.block, entry: "main" });
  if (JSON.stringify(powerOnOf(built.board, recording.powerOnV.length)) !== JSON.stringify(recording.powerOnV)) {
    throw new Error(`${built.board.name}: the recording starts from power-on voltages ${recording.powerOnV.join(", ")} V, not this board's: record it for ${built.board.name}`);
  }
  if (recording.unitPerV !== built.board.adc.unitPerV) {
    throw new Error(`${built.board.name}: the recording's readings are made at ${recording.unitPerV} per ADC volt, not this board's ${built.board.adc.unitPerV}: record it for ${built.board.name}`);
  }
  // the ADC file holds what the converter reads, volts: the firmware multiplies by the board's
  // adc.unitPerV, back to the recorded readings exactly
  const volts = recording.readings.map((r) => adcVoltsFor(r, built.board.adc.unitPerV));
  const run = await runQemu(built.board, built.elf, { adc: volts, keep: true, timeoutMs: 120_000 });
  try {
    if (run.code !== 0) throw new Error(`${built.board.name}: QEMU exited ${run.code}\n${run.stdout.slice(-2000)}\n${run.stderr}`);
    const sampleDifference = firstDifference(recording.samples, sampleLines(run.stdout));
    const telemetryDifference = firstDifference(recording.telemetry, telemetryLines(run.stdout));
    const stored = join(run.dir, "checkpoint.bin");
    const checkpointIdentical = existsSync(stored) && Buffer.from(readFileSync(stored)).equals(Buffer.from(recording.checkpoint));
    return {
      board: built.board.name, samples: recording.readings.length, sampleDifference, telemetryDifference, checkpointIdentical,
      records: recording.telemetry.length, buildSeconds: built.seconds, runSeconds: run.seconds,
      identical: sampleDifference === null && telemetryDifference === null && checkpointIdentical,
    };
  } finally {
    rmSync(run.dir, { recursive: true, force: true });
  }
}
