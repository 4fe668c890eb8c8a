// `hge compare`: which method, on this device and task, costs how many device-seconds. Every
// method asked for trains the task from the same seeds with the defaults `hge train` uses, so
// each run is the one `hge train --method M --seed S` gives; a run not solved within the budget
// is censored there. The unit of work runs on the worker pool (host/pool.ts).
import { join } from "node:path";
import { isDeepStrictEqual } from "node:util";
import { loadDevice, type DeviceSpec } from "./devices/index.ts";
import { buildTask, type TaskName } from "./tasks/index.ts";
import { findMethod } from "./methods/index.ts";
import { BUDGET_SLACK_SECONDS, budgetOverrun, trainWithinBudget, workWallSeconds, type Budget, type CriterionName } from "./methods/method.ts";
import { measurementOn, type TrainOptions } from "./train.ts";
import type { Device } from "./devices/device.ts";
import { censoredMedian, censoredMedianInterval, maxOf, median, medianMeasured } from "./metrics.ts";
import { TrainConfigError, UsageError } from "./errors.ts";
import { ControllerError } from "./controller.ts";
import { DeviceFileError } from "./devices/device-file.ts";
import { JOURNAL_EVERY_SECONDS, Journal, type JournalData } from "./methods/journal.ts";
import { keeper } from "./report/keep.ts";

/** The most seeds a comparison takes: every run is a job in memory and a record in compare.json
 *  (a billion seeds ran the host out of memory before the first run); with 10,000 runs of a
 *  method a median's 90% interval spans the runs ranked within 0.8% of it. */
export const MAX_SEEDS = 10_000;

/** What every run of a comparison shares, whatever its method and seed. A resumed comparison
 *  (`--resume compare.json`) shares it too: the runs kept there are then its own. */
export interface CompareSetup {
  device: DeviceSpec;
  deviceSeed?: number;
  task: TaskName;
  budget: Budget;
  /** The noise added to the device's output and the chain it is read through: the device's
   *  defaults with `hge train`'s flags over them (train.ts: measurementOn). */
  noise: TrainOptions["noise"];
  chain: TrainOptions["chain"];
  /** `--set` as given: each method takes the settings it has. */
  set: Array<[string, number | boolean]>;
  /** The device's answers at the voltages hge checks, hashed (devices/device.ts
   *  deviceFingerprint; none for an instrument): a resumed comparison runs on the same device. */
  deviceFingerprint?: string;
}

/** One run of a comparison. */
export interface CompareJob extends Omit<CompareSetup, "set" | "deviceFingerprint"> {
  method: string;
  seed: number;
  /** The method's own settings (of `--set`, those it has). */
  settings: { [name: string]: number | boolean };
  /** A data-set run: where it keeps its journal while it runs (journalPath), and the journal
   *  an interrupted run of it left, to replay (host/methods/journal.ts). */
  journal?: { path: string; replay?: JournalData };
}

/** Where a comparison kept in `dir` keeps the journal of a data-set run while it runs. */
export function journalPath(dir: string, job: Pick<CompareJob, "method" | "seed">): string {
  return join(dir, "journals", `${job.method}-seed${job.seed}.json`);
}

export interface CompareRun {
  method: string;
  seed: number;
  solved: boolean;
  /** Device time when it stopped (solved, or out of budget or iterations). */
  deviceSeconds: number;
  /** The task's criterion at the end (margin, RMS error, held-out accuracy) and its name. */
  criterion: number;
  criterionName: CriterionName;
  iterations: number;
  wallSeconds: number;
  /** Device-seconds of it replayed from the journal an interrupted run of it left (counted in
   *  deviceSeconds too: they were spent, once). */
  replayedDeviceSeconds?: number;
}

/** A method that refused this device or task when it set up (a preset's fixed control count,
 *  a configuration the controller refuses): what it said, as `hge train` would. */
export interface CompareRefusal {
  method: string;
  seed: number;
  refused: string;
}

/** A device file that failed in a run (device-file.ts: a throw, a non-finite output): what hge
 *  said. The comparison stops there. */
export interface CompareDeviceFault {
  method: string;
  seed: number;
  deviceFault: string;
}

export async function runJob(job: CompareJob): Promise<CompareRun | CompareRefusal | CompareDeviceFault> {
  const { method, seed } = job;
  let device;
  try {
    device = await loadDevice(job.device, job.task, job.deviceSeed);
  } catch (error) {
    // (a device file that this thread cannot load, gone or changed since the comparison began)
    if (error instanceof DeviceFileError) return { method, seed, deviceFault: error.message };
    throw error;
  }
  const task = buildTask(job.task, device);
  // a data-set run's journal is written while it runs, as hge train writes it, and when the device fails
  const journal = job.journal && new Journal({ method, device: device.name, task: task.name, seed }, job.journal.replay);
  const keepJournal = journal ? keeper(job.journal!.path, () => JSON.stringify(journal.kept())) : () => {};
  const saver = journal && setInterval(keepJournal, JOURNAL_EVERY_SECONDS * 1000).unref();
  if (journal) journalsUnderWay.add(keepJournal);
  try {
    const run = await trainWithinBudget(findMethod(method)!, device, task, job.budget, { seed, options: { noise: job.noise, chain: job.chain, ...job.settings }, journal });
    if (run.deviceFault) {
      keepJournal();
      return { method, seed, deviceFault: run.deviceFault };
    }
    const { solved, deviceSeconds, criterion, criterionName, iterations, wallSeconds } = run;
    return { method, seed, solved, deviceSeconds, criterion, criterionName, iterations, wallSeconds: workWallSeconds(wallSeconds, run), ...(journal?.replayed ? { replayedDeviceSeconds: journal.replayedSeconds } : {}) };
  } catch (error) {
    if (error instanceof TrainConfigError || error instanceof ControllerError) return { method, seed, refused: error.message };
    if (error instanceof DeviceFileError) {
      keepJournal();
      return { method, seed, deviceFault: error.message };
    }
    throw error;
  } finally {
    clearInterval(saver);
    journalsUnderWay.delete(keepJournal);
  }
}

/** The journals of the data-set runs under way on this thread, each as the function that
 *  writes it. */
const journalsUnderWay = new Set<() => void>();

/** The pool's flush (pool.ts: flushPools, on Ctrl-C): writes the journal of every data-set run
 *  under way on this thread, so that none of its device time is lost. */
export function flush(): void {
  for (const keep of journalsUnderWay) keep();
}

export interface MethodSummary {
  method: string;
  runs: number;
  solved: number;
  /** Median device-seconds to solve, unsolved runs counted as never: null when the median run
   *  did not solve. */
  medianDeviceSeconds: number | null;
  /** An interval that holds the method's true median device-seconds to solve with probability
   *  at least INTERVAL_CONFIDENCE, from the runs alone (metrics.ts: censoredMedianInterval). */
  interval: [number | null, number | null] | null;
  /** Device-seconds of all runs, solved or not: what the comparison cost on the device. */
  totalDeviceSeconds: number;
  /** Median of the task's criterion at the end of each run that measured one (margin, RMS
   *  error, held-out accuracy): NaN if none did. */
  medianCriterion: number;
  /** The runs that measured a criterion (a run whose every window was discarded measured none). */
  criterionRuns: number;
  medianIterations: number;
  medianWallSeconds: number;
}

/** What `hge compare` keeps in compare.json (after every finished run) and reports from. */
export interface CompareRecord {
  format: "hge-compare/1";
  command: string;
  /** The device's and the task's names, for the report. */
  device: string;
  outputUnit: string;
  task: string;
  setup: CompareSetup;
  seeds: number[];
  methods: string[];
  runs: CompareRun[];
  /** Method → what it said when it refused the device or task at set-up. */
  refused: { [method: string]: string };
  /** Without --methods: each registered method left out because the device or the task lacks
   *  what it needs, and why (methods/index.ts: refusal). */
  cannotTrain: { [method: string]: string };
  summary: MethodSummary[];
}

/** The flags that give each part of a comparison's setup, for a refused --resume. */
const SETUP_FLAGS: Record<keyof CompareSetup, string> = {
  device: "--device", deviceSeed: "--device-seed", task: "--task", budget: "--budget and --max-iterations",
  noise: "the noise flags", chain: "the chain flag (--no-chain)", set: "--set",
  deviceFingerprint: "the device it ran on (this one answers otherwise at the voltages hge checks: an edited device file, or another of the same name)",
};

/** The runs kept in `record` (compare.json at `path`, parsed) that a comparison of `setup` over
 *  `jobs` takes as its own rather than run again: all of them. A resumed comparison may add
 *  seeds and methods; it may not change the setup (exit 3, naming what differs; the device may
 *  be named otherwise where it answers the same) or leave out a kept run (its file would lose
 *  it) or one it asked for. A record hge compare did not write is exit 2. */
export function keptRuns(path: string, record: unknown, setup: CompareSetup, jobs: Array<Pick<CompareJob, "method" | "seed">>, device: Device, criterion: CriterionName): CompareRun[] {
  const kept = (typeof record === "object" && record !== null ? record : {}) as Partial<CompareRecord>;
  const damaged = (why: string) => new UsageError(`--resume ${path}: not a comparison hge compare kept: ${why}`);
  if (kept.format !== "hge-compare/1") throw damaged(`format ${JSON.stringify(kept.format)}`);
  if (typeof kept.setup !== "object" || kept.setup === null) throw damaged("no setup");
  if (!Array.isArray(kept.runs)) throw damaged("no runs");
  const seconds = (x: unknown) => typeof x === "number" && x >= 0; // JSON holds no NaN or infinity
  const bad = kept.runs.findIndex((r: Partial<CompareRun>) => typeof r !== "object" || r === null || typeof r.method !== "string" ||
    !(Number.isInteger(r.seed) && r.seed! >= 1) || typeof r.solved !== "boolean" || typeof r.criterionName !== "string" || !(typeof r.criterion === "number" || r.criterion === null) ||
    !(Number.isInteger(r.iterations) && r.iterations! >= 0) || ![r.deviceSeconds, r.wallSeconds].every(seconds) ||
    !(r.replayedDeviceSeconds === undefined || (seconds(r.replayedDeviceSeconds) && r.replayedDeviceSeconds <= r.deviceSeconds!)));
  if (bad >= 0) throw damaged(`run ${bad + 1} is damaged`);
  // (one task, one criterion, the task's: the table's header is the first run's)
  const otherCriterion = kept.runs.findIndex((r) => r.criterionName !== criterion);
  if (otherCriterion >= 0) throw damaged(`run ${otherCriterion + 1} is judged by ${kept.runs[otherCriterion].criterionName}, the task by ${criterion}`);
  const repeated = kept.runs.findIndex((r, i) => kept.runs!.findIndex((q) => q.method === r.method && q.seed === r.seed) < i);
  if (repeated >= 0) throw damaged(`run ${repeated + 1} repeats ${kept.runs[repeated].method} seed ${kept.runs[repeated].seed}`);
  const asKept = JSON.parse(JSON.stringify(setup)) as CompareSetup; // what compare.json would hold
  // (--set's settings in any order are the same settings)
  const entries = (value: unknown): value is Array<[string, unknown]> => Array.isArray(value) && value.every((e) => Array.isArray(e) && e.length === 2);
  // (the noise and the chain as the runs took them: a default given is the default; a
  // comparison kept before compare.json held them so took the device's defaults for the rest)
  const comparable = (key: keyof CompareSetup, value: unknown) =>
    key === "set" && entries(value) ? Object.fromEntries(value)
    : (key === "noise" || key === "chain") && typeof value === "object" && value !== null && !Array.isArray(value) ? measurementOn(device, { [key]: value })[key]
    : value;
  // the same device however it is named (a device file's path typed from another directory, the
  // default --device-seed given): the device's answers at the check points tell
  const sameDevice = kept.setup.deviceFingerprint !== undefined && kept.setup.deviceFingerprint === asKept.deviceFingerprint;
  for (const key of Object.keys(SETUP_FLAGS) as Array<keyof CompareSetup>) {
    if (sameDevice && (key === "device" || key === "deviceSeed")) continue;
    if (!isDeepStrictEqual(comparable(key, kept.setup[key]), comparable(key, asKept[key]))) {
      const shown = (value: unknown) => (value === undefined ? "none" : JSON.stringify(value));
      throw new TrainConfigError("resume", `--resume ${path}: its runs were made with ${key} ${shown(kept.setup[key])}, not ${shown(asKept[key])}; give ${SETUP_FLAGS[key]} as in \`${kept.command ?? "its command"}\` (a resumed comparison may add --seeds and --methods, nothing else)`);
    }
  }
  // (every method stops at its budget: a run past it was not made by one, or not under this
  // budget; but for the rounding of hge's module loop until 2026-12-04, up to half a sample over a
  // budget that ended between two samples: those runs are kept, and lateKeptRuns says so)
  const halfSample = 0.5 / measurementOn(device, { chain: setup.chain }).chain.sampleRateHz;
  const overruns = kept.runs.map((r) => budgetOverrun(r, setup.budget, halfSample + 2 * BUDGET_SLACK_SECONDS));
  const over = overruns.findIndex((overrun) => overrun !== undefined);
  if (over >= 0) throw damaged(`run ${over + 1}: ${overruns[over]}`);
  const extra = kept.runs.find((r) => !jobs.some((job) => job.method === r.method && job.seed === r.seed));
  if (extra) throw new TrainConfigError("resume", `--resume ${path}: it keeps a run of ${extra.method} seed ${extra.seed}, which this comparison leaves out; give --methods and --seeds that include every kept run (${kept.methods?.join(",")}, seeds 1–${maxOf(kept.runs.map((r) => r.seed))})`);
  // (nor the runs it asked for and has not: it dropped them without a word)
  const askedMethods = Array.isArray(kept.methods) ? kept.methods : [];
  const askedSeeds = Array.isArray(kept.seeds) ? kept.seeds.length : 0;
  const dropped = askedMethods.find((method) => !jobs.some((job) => job.method === method));
  if (dropped !== undefined || !jobs.some((job) => job.seed >= askedSeeds)) {
    throw new TrainConfigError("resume", `--resume ${path}: it asked for ${askedMethods.join(",")} over seeds 1–${askedSeeds}, and a resumed comparison may add --seeds and --methods, not leave any out; give --methods and --seeds that include them`);
  }
  // (a run that measured no criterion kept NaN, which JSON writes as null)
  return kept.runs.map((r) => (r.criterion === null ? { ...r, criterion: Number.NaN } : r));
}

/** A warning for the kept runs (keptRuns) that went past `budget` by the half sample hge's module
 *  loop once rounded to, or undefined where none did. */
export function lateKeptRuns(runs: CompareRun[], budget: Budget): string | undefined {
  const late = runs.filter((r) => budgetOverrun(r, budget) !== undefined);
  if (!late.length) return undefined;
  return `${late.length} kept runs (${late.map((r) => `${r.method} seed ${r.seed}`).join(", ")}) went up to half a sample past the budget, as hge's module loop did before it stopped at the budget's last whole sample; they are compared as kept`;
}

/** The runs a kept comparison asked for that it has not (it was interrupted, or its device
 *  failed); a method that refused at set-up has none to run. */
export function runsLeft(record: Pick<CompareRecord, "seeds" | "methods" | "runs" | "refused">): number {
  const asked = record.methods.filter((method) => !(method in record.refused));
  return asked.length * record.seeds.length - record.runs.filter((r) => asked.includes(r.method)).length;
}

/** One row per method, fastest median first; methods whose median run did not solve last, by
 *  how many runs they solved; a tie by the device time all runs took, then by name (never by the
 *  order the runs finished in, which a resumed comparison does not share with an unbroken one). */
export function summarise(runs: CompareRun[]): MethodSummary[] {
  const methods = [...new Set(runs.map((r) => r.method))];
  const rows = methods.map((method) => {
    const mine = runs.filter((r) => r.method === method);
    return {
      method,
      runs: mine.length,
      solved: mine.filter((r) => r.solved).length,
      medianDeviceSeconds: censoredMedian(mine),
      interval: censoredMedianInterval(mine),
      totalDeviceSeconds: mine.reduce((sum, r) => sum + r.deviceSeconds, 0),
      medianCriterion: medianMeasured(mine.map((r) => r.criterion)),
      criterionRuns: mine.filter((r) => !Number.isNaN(r.criterion)).length,
      medianIterations: median(mine.map((r) => r.iterations)),
      medianWallSeconds: median(mine.map((r) => r.wallSeconds)),
    };
  });
  return rows.sort((a, b) => (a.medianDeviceSeconds ?? Infinity) - (b.medianDeviceSeconds ?? Infinity) || b.solved - a.solved || a.totalDeviceSeconds - b.totalDeviceSeconds || (a.method < b.method ? -1 : 1));
}
