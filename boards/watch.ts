// `hge board watch <board>`: prints the live telemetry of a standalone board (firmware/
// standalone.c sends a TELEMETRY frame after every update and a STOPPED frame at the end), from
// its serial port (--port, a real board) or, for an emulated board, from QEMU's pseudo-terminal
// with the standalone firmware built and started here (the test stand-in device inside it).
// Both are opened with the `serialport` package. With a live view (host/live) the records are
// plotted too: loss and margin, case outputs and threshold, controls (no spectrum: a standalone
// board does not send its readings).
import type { LiveMessage } from "../host/live/server.ts";
import { classThreshold } from "../host/live/server.ts";
import { gateMargin, gateTargets, GATE_NAMES, type GateName } from "../host/tasks/gates.ts";
import * as L from "../assembly/layout.ts";
import { loadBoard, type Board } from "./boards.ts";
import { BoardSession, decodeStopped, decodeTelemetry, Frame, StopReason, telemetryParts, type Stopped } from "./link.ts";
import { buildStandalone, parseFrames } from "./standalone.ts";

export interface WatchOptions {
  /** A real board's port; without it the emulated board's standalone firmware is started. */
  port?: string;
  baudRate?: number;
  /** The gate the board trains (its targets give the margin and the threshold). */
  task?: string;
  seed?: number;
  wasm?: string;
  signal?: AbortSignal;
  onLine?: (line: string) => void;
  live?: (message: LiveMessage) => void;
  /** Give up when no frame came for this long (ms; default 30 s). */
  quietMs?: number;
}

export interface Watched { records: number; stopped: Stopped | null; lastUpdate: number }

const fmt = (values: ArrayLike<number>, digits: number) => Array.from(values, (v) => v.toFixed(digits)).join(" ");

/** Watches a board until it stops (STOPPED frame), goes quiet, or the signal aborts. */
export async function watchBoard(boardName: string | Board, o: WatchOptions = {}): Promise<Watched> {
  const board: Board = typeof boardName === "string" ? loadBoard(boardName) : boardName;
  const print = o.onLine ?? ((line: string) => console.log(line));
  const gate = (o.task ?? "xor").toUpperCase();
  const targets = (GATE_NAMES as readonly string[]).includes(gate) ? gateTargets(gate as GateName) : undefined;
  let elf: string | null = null;
  if (!o.port) {
    const { built } = buildStandalone(board, { task: o.task, seed: o.seed, wasm: o.wasm, quiet: true });
    elf = built.elf;
  }
  // (QEMU in a process group of its own: a Ctrl-C at the terminal is the watch's to answer)
  const { session } = await BoardSession.open(board, elf, { port: o.port, baudRate: o.baudRate, noHello: true, ownProcessGroup: o.signal !== undefined });
  print(`watching ${board.name} on ${session.portPath} (${o.port ? `${o.baudRate ?? 115200} baud` : "QEMU's pseudo-terminal, standalone firmware with the test stand-in device"})`);
  const gone = () => `the board is gone: ${o.port ? `${session.portPath} closed` : session.qemuExit === null ? "QEMU was killed" : `QEMU exited ${session.qemuExit ?? ""}`}`;
  let pending: Uint8Array = new Uint8Array(0);
  let records = 0, lastUpdate = 0, skippedUpdates = 0, stopped: Stopped | null = null, quietSince = performance.now(), started = false;
  // device time since the watch began: the module counts its samples from 0 again at every
  // restart, so the samples of the starts before it are carried (as far as their frames showed)
  let samplesBefore = 0, samplesThisStart = 0;
  try {
    while (!stopped && !o.signal?.aborted) {
      const bytes = session.transport.readSome(50);
      if (bytes === null) { print(gone()); break; }
      if (bytes.length) {
        const joined = new Uint8Array(pending.length + bytes.length);
        joined.set(pending);
        joined.set(bytes, pending.length);
        const { frames, rest } = parseFrames(joined);
        pending = rest;
        if (frames.length) quietSince = performance.now();
        for (const frame of frames) {
          if (frame.type === Frame.Stopped) {
            stopped = decodeStopped(frame.payload);
            print(`stopped: ${StopReason[stopped.reason] ?? stopped.reason}; parked at ${fmt(stopped.parkedV, 3)} V; checkpoint ${stopped.checkpointBytes} bytes kept`);
            continue;
          }
          if (frame.type !== Frame.Telemetry || !frame.payload.length) continue;
          const t = decodeTelemetry(frame.payload);
          const parts = telemetryParts(t);
          records++;
          const updates = parts.status[L.Status.Updates];
          const samples = parts.status[L.Status.Samples] >>> 0;
          if (samples < samplesThisStart) samplesBefore += samplesThisStart;
          samplesThisStart = samples;
          if (t.events & L.Event.Fault) {
            // the start cannot be measured: standalone.c starts again (before any update too,
            // which the restart line below cannot see) or stops, "fault"
            print(`fault at update ${updates}: ${parts.status[L.Status.Faults]} windows in a row discarded (readings saturated or not finite); the board starts again from its next start, or stops`);
            continue;
          }
          // an iteration: an update, or after one an epoch without (the controls held to confirm a solved epoch)
          // (or a skipped update: a gradient that was not finite)
          const held = !(t.events & L.Event.UpdateDone) && (t.events & L.Event.EpochDone) !== 0 && updates > 0;
          if (!(t.events & L.Event.UpdateDone) && !held) continue;
          const skipped = parts.status[L.Status.SkippedUpdates] > skippedUpdates;
          skippedUpdates = parts.status[L.Status.SkippedUpdates];
          const deviceSeconds = (samplesBefore + samples) / board.sampleRateHz;
          const loss = parts.statusF32[L.Status.Loss];
          const margin = targets && targets.length === t.cases ? gateMargin(parts.caseOutputs, targets) : NaN;
          // a restart (stuck or faulted: standalone.c) configures again: the module counts from 0
          if (updates < lastUpdate) print(`restart: a new start after ${lastUpdate} updates (the module counts its updates from 0 again)`);
          lastUpdate = updates;
          print(`${skipped ? "skipped" : held ? "held" : "update"} ${updates}  ${deviceSeconds.toFixed(2)} s  loss ${loss.toFixed(4)}${Number.isNaN(margin) ? "" : `  margin ${(100 * margin).toFixed(1)} %`}  outputs ${fmt(parts.caseOutputs, 2)} ${board.adc.unit}  controls ${fmt(parts.weights, 3)} V`);
          if (o.live) {
            if (!started) o.live({ type: "start", title: `${gate} on ${board.name} (standalone)`, criterionName: "margin", outputUnit: board.adc.unit, caseCount: t.cases, targets, controlCount: t.controls });
            started = true;
            o.live({ type: "update", iteration: updates, deviceSeconds, loss, criterion: margin, caseOutputs: Array.from(parts.caseOutputs), threshold: targets ? classThreshold(parts.caseOutputs, targets) : undefined, weights: Array.from(parts.weights) });
          }
        }
      } else {
        if (session.qemuExit !== undefined && !o.port) { print(gone()); break; }
        if (performance.now() - quietSince > (o.quietMs ?? 30_000)) { print(`no telemetry for ${((o.quietMs ?? 30_000) / 1000).toFixed(0)} s`); break; }
      }
      await new Promise((resolve) => setImmediate(resolve)); // (a Ctrl-C is heard between reads)
    }
    if (o.live && stopped) o.live({ type: "end", solved: stopped.reason === StopReason.Solved, stopped: StopReason[stopped.reason] ?? String(stopped.reason) });
    return { records, stopped, lastUpdate };
  } finally {
    session.kill();
    session.cleanup();
  }
}
