// `hge compare`: which method, on this device and task, costs how many device-seconds. Every
// method asked for trains the task from the same seeds with the defaults `hge train` uses, so
// each run is the one `hge train --method M --seed S` gives; a run not solved within the budget
// is censored there. The unit of work runs on the worker pool (host/pool.ts).
import { loadDevice, type DeviceSpec } from "./devices/index.ts";
import { buildTask, type TaskName } from "./tasks/index.ts";
import { findMethod } from "./methods/index.ts";
import type { Budget, CriterionName } from "./methods/method.ts";
import type { TrainOptions } from "./train.ts";
import { censoredMedian, censoredMedianInterval, median } from "./metrics.ts";
import { TrainConfigError } from "./errors.ts";
import { ControllerError } from "./controller.ts";
import { DeviceFileError } from "./devices/device-file.ts";

export interface CompareJob {
  method: string;
  device: DeviceSpec;
  deviceSeed?: number;
  task: TaskName;
  seed: number;
  budget: Budget;
  /** The noise added to the device's output and the chain it is read through, as `hge
   *  train`'s flags give them. */
  noise: TrainOptions["noise"];
  chain: TrainOptions["chain"];
  /** The method's own settings (`--set`). */
  settings: { [name: string]: number | boolean };
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
  const device = await loadDevice(job.device, job.task, job.deviceSeed);
  const { method, seed } = job;
  try {
    const run = await findMethod(method)!.train(device, buildTask(job.task, device), job.budget, { seed, options: { noise: job.noise, chain: job.chain, ...job.settings } });
    if (run.deviceFault) return { method, seed, deviceFault: run.deviceFault };
    const { solved, deviceSeconds, criterion, criterionName, iterations, wallSeconds } = run;
    return { method, seed, solved, deviceSeconds, criterion, criterionName, iterations, wallSeconds };
  } catch (error) {
    if (error instanceof TrainConfigError || error instanceof ControllerError) return { method, seed, refused: error.message };
    if (error instanceof DeviceFileError) return { method, seed, deviceFault: error.message };
    throw error;
  }
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
  /** Median of the task's criterion at the end of each run (margin, RMS error, held-out accuracy). */
  medianCriterion: number;
  medianIterations: number;
  medianWallSeconds: number;
}

/** What `hge compare` keeps in compare.json (after every finished run) and reports from. */
export interface CompareRecord {
  format: "hge-compare/1";
  command: string;
  device: string;
  outputUnit: string;
  task: string;
  budget: Budget;
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

/** One row per method, fastest median first; methods whose median run did not solve last, by
 *  how many runs they solved. */
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
      medianCriterion: median(mine.map((r) => r.criterion)),
      medianIterations: median(mine.map((r) => r.iterations)),
      medianWallSeconds: median(mine.map((r) => r.wallSeconds)),
    };
  });
  return rows.sort((a, b) => (a.medianDeviceSeconds ?? Infinity) - (b.medianDeviceSeconds ?? Infinity) || b.solved - a.solved);
}
