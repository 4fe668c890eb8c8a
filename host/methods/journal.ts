// What a data-set run measured, in order, so that `hge train --resume` loses none of it. A
// data-set method's state is its digital layers (TensorFlow.js tensors, Adam's moments, seeded
// shuffles) and its controls; all of it follows, deterministically, from the seed, the settings
// and what the device answered. So the run keeps those answers (journal.json beside run.json)
// and a resumed run is the same run replayed: each measurement that asks for exactly the
// voltages recorded at its place takes the recorded answer without driving the device, and
// from the first one that does not (the journal ended, or the run took another path: other
// settings) every measurement is live. A replayed run ends where the uninterrupted one would, to the bit, and
// its device time counts the replayed seconds too (they were spent, once).
//
// hge train writes the journal every JOURNAL_EVERY_SECONDS of wall time while the run goes on,
// and with run.json at its end, so that even a process killed outright loses at most that much;
// its header names the run (method, device, task, seed), so it resumes on its own too.
//
// Two kinds of entry, each checked by a hash of what was asked: the device's outputs the
// Instrument read (pat, phyll: one number per settle + window; a replay reads it through the
// chain and the noise again, so that the reading and the chain's state after it are as they
// were: hge-journal/1 kept the readings, and a replay could not restore the chain) and
// HgeJacobian's lock-in measurements (phyll-hge: case outputs and Jacobian rows of a batch,
// with the lag and plan order the module ended on and the device-seconds it spent).
import { createHash } from "node:crypto";

export interface HgeEntry {
  check: number;
  seconds: number;
  lag: { delaySamples: number; cornerHz: number };
  planOrder: number;
  outputs: number[];
  jacobian: number[][];
}

/** The run a journal belongs to: a resumed run must be the same. */
export interface JournalRun {
  method: string;
  device: string;
  task: string;
  seed: number;
}

export interface JournalData {
  format: typeof JOURNAL_FORMAT;
  run: JournalRun;
  outputs: number[];
  outputChecks: number[];
  hge: HgeEntry[];
  /** Written with its run.json when the run ended (report/keep.ts keepRun); a journal without it
   *  was written while its run went on, and that run was killed outright. */
  ended?: true;
}

export const JOURNAL_FORMAT = "hge-journal/2";
/** Wall seconds between two writes of a running data-set run's journal (hge train). */
export const JOURNAL_EVERY_SECONDS = 10;

/** A 32-bit hash of what a measurement asks for: the voltages (in order) and how it is read
 *  (`setup`: the chain, noise, window and seed, as text). */
export function checkOf(values: ArrayLike<number>, setup: string): number {
  return createHash("sha256").update(new Uint8Array(Float64Array.from(values).buffer)).update(setup).digest().readUInt32LE(0);
}

export class Journal {
  readonly data: JournalData;
  /** Entries the replayed journal offered, those taken from it, and the device-seconds they
   *  stand for. */
  readonly offered: number;
  replayed = 0;
  replayedSeconds = 0;
  /** The run asked for a measurement the journal did not record (another setting, past its end)
   *  and measured from there; a run that ended before the journal's end did not. */
  left = false;
  private replay?: JournalData;
  private output = 0;
  private batch = 0;

  constructor(run: JournalRun, replay?: JournalData) {
    this.data = { format: JOURNAL_FORMAT, run, outputs: [], outputChecks: [], hge: [] };
    this.replay = replay;
    this.offered = replay ? replay.outputs.length + replay.hge.length : 0;
  }

  /** What to keep: the entries so far, and while the run is still on the replayed journal's
   *  path, the entries of it not yet replayed (they are this run's future, measured once). */
  kept(): JournalData {
    const replay = this.replay;
    if (!replay) return this.data;
    return {
      ...this.data,
      outputs: [...this.data.outputs, ...replay.outputs.slice(this.output)],
      outputChecks: [...this.data.outputChecks, ...replay.outputChecks.slice(this.output)],
      hge: [...this.data.hge, ...replay.hge.slice(this.batch)],
    };
  }

  /** The recorded output for a measurement asking `check` (kept in this run's journal too), or
   *  undefined: measure it. */
  replayOutput(check: number, seconds: number): number | undefined {
    const replay = this.replay;
    if (!replay || this.output >= replay.outputs.length || replay.outputChecks[this.output] !== check) return this.leave();
    this.replayed++;
    this.replayedSeconds += seconds;
    const value = replay.outputs[this.output++];
    this.recordOutput(check, value);
    return value;
  }

  recordOutput(check: number, value: number): void {
    this.data.outputChecks.push(check);
    this.data.outputs.push(value);
  }

  /** The recorded lock-in measurement for a batch asking `check` that took at most
   *  `budgetSeconds` (kept in this run's journal too), or undefined: measure it. */
  replayBatch(check: number, budgetSeconds: number): HgeEntry | undefined {
    const replay = this.replay;
    if (!replay || this.batch >= replay.hge.length || replay.hge[this.batch].check !== check || replay.hge[this.batch].seconds > budgetSeconds) return this.leave();
    const entry = replay.hge[this.batch++];
    this.replayed++;
    this.replayedSeconds += entry.seconds;
    this.recordBatch(entry);
    return entry;
  }

  recordBatch(entry: HgeEntry): void {
    this.data.hge.push(entry);
  }

  /** Off the recorded path: from here on everything is measured (and recorded anew). */
  private leave(): undefined {
    if (this.replay) this.left = true;
    this.replay = undefined;
    return undefined;
  }
}

/** Checks a journal read from a file: the shape replay relies on, or a one-line reason. */
export function journalProblem(value: unknown): string | undefined {
  if (typeof value !== "object" || value === null) return "not a journal";
  const j = value as Partial<JournalData>;
  if (j.format !== JOURNAL_FORMAT) return `its format is ${JSON.stringify(j.format)}, not ${JOURNAL_FORMAT}`;
  const run = j.run as Partial<JournalRun> | undefined;
  if (typeof run?.method !== "string" || typeof run.device !== "string" || typeof run.task !== "string" || !Number.isInteger(run.seed)) return "it does not name its run";
  const numbers = (a: unknown) => Array.isArray(a) && a.every((x) => Number.isFinite(x));
  if (!numbers(j.outputs) || !numbers(j.outputChecks) || j.outputs!.length !== j.outputChecks!.length) return "its outputs and their checks do not match";
  if (!Array.isArray(j.hge)) return "it has no lock-in entries";
  const bad = j.hge.findIndex((e: Partial<HgeEntry>) =>
    typeof e !== "object" || e === null || !Number.isFinite(e.check) || !(typeof e.seconds === "number" && e.seconds >= 0) || (e.planOrder !== 2 && e.planOrder !== 3) ||
    !Number.isFinite(e.lag?.delaySamples) || !Number.isFinite(e.lag?.cornerHz) || !numbers(e.outputs) || !Array.isArray(e.jacobian) || e.jacobian.length !== e.outputs!.length || !e.jacobian.every((row) => numbers(row)));
  return bad >= 0 ? `lock-in entry ${bad + 1} is malformed` : undefined;
}
