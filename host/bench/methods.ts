// Time to solve, per task and per training method: every method in the registry
// (host/methods) that can train the task on its device runs on the same device instance,
// noise, task and success criterion, from the same seeds; the clock is device time (every
// second the device is driven: settling, calibration, data collected for a model, every
// equilibrium). Solved means the task's own test on three consecutive epochs (held-out
// accuracy for data sets); a run not solved within the cap is censored at the cap.
import type { Device } from "../devices/device.ts";
import { DopantNetwork } from "../devices/dopant.ts";
import { ResistorNetwork } from "../devices/resistor.ts";
import { warmingDnpu } from "../devices/drift.ts";
import { GATE_NAMES, type GateName } from "../tasks/gates.ts";
import { buildTask, taskName } from "../tasks/index.ts";
import type { AnyTask } from "../tasks/task.ts";
import { plainCheck } from "../train.ts";
import { METHODS, findMethod, refusal } from "../methods/index.ts";
import { trainWithinBudget, workWallSeconds } from "../methods/method.ts";

export type BenchTask = GateName | "regression" | "iris";
export const BENCH_TASKS: readonly BenchTask[] = [...GATE_NAMES, "regression", "iris"];

export interface MethodJob {
  kind: "method";
  task: BenchTask;
  method: string;
  seed: number;
  /** Device seconds after which an unsolved run is censored. */
  capSeconds: number;
  /** Resistor networks: the instance's fabrication spread (default: the device's). */
  fabricationSpread?: number;
  /** The DNPU warms by this share of kT between two device times (devices/drift.ts). */
  drift?: Drift;
  /** Options the run takes instead of the defaults (RunContext.options; scripts/time-to-solve.ts
   *  --set: the bench's own jobs give none). */
  options?: Record<string, unknown>;
}

export interface Drift {
  thermalFraction: number;
  startSeconds: number;
  endSeconds: number;
}

export interface MethodResult {
  job: MethodJob;
  solved: boolean;
  /** Device time when solved (or the cap). */
  deviceSeconds: number;
  /** The criterion at the end (margin, RMS error, held-out accuracy). */
  criterion: number;
  iterations: number;
  restarts: number;
  wallSeconds: number;
  /** Input-case tasks, solved runs: whether the final controls solve the task read plainly,
   *  the simulated device's own output at them, with no perturbation and no noise (plainSolved). */
  plainSolved?: boolean;
}

/** The regression device: five gates, so that the published preset (five tones) runs too. */
export const REGRESSION_NETWORK = { edgeCount: 5, seed: 2 };
/** The regression target: MSE below this fraction of the targets' variance. */
export const REGRESSION_TARGET_FRACTION = 0.01;

/** The device and task of a bench task (gates and iris on the default DNPU). */
export function problem(name: BenchTask, fabricationSpread?: number, drift?: Drift): { device: Device; task: AnyTask } {
  const device = name === "regression"
    ? new ResistorNetwork({ ...REGRESSION_NETWORK, ...(fabricationSpread !== undefined ? { fabricationSpread } : {}) })
    : drift ? warmingDnpu(drift.thermalFraction, drift.startSeconds, drift.endSeconds) : DopantNetwork.default();
  return { device, task: buildTask(taskName(name)!, device, { varianceFraction: REGRESSION_TARGET_FRACTION }) };
}

/** The registered methods that can train `task` on its bench device, in registry order. */
export function methodsFor(name: BenchTask): string[] {
  const { device, task } = problem(name);
  return METHODS.filter((method) => refusal(method, device, task) === undefined).map((method) => method.name);
}

export async function runMethod(job: MethodJob): Promise<MethodResult> {
  const started = performance.now();
  const { device, task } = problem(job.task, job.fabricationSpread, job.drift);
  const result = await trainWithinBudget(findMethod(job.method)!, device, task, { deviceSeconds: job.capSeconds }, { seed: job.seed, options: job.options });
  return {
    job,
    solved: result.solved,
    deviceSeconds: result.solved ? result.deviceSeconds : job.capSeconds,
    criterion: result.criterion,
    iterations: result.iterations,
    restarts: result.attempts.length - 1,
    wallSeconds: workWallSeconds((performance.now() - started) / 1000, result),
    ...(result.solved && task.kind === "cases" ? { plainSolved: plainCheck(device, task, result.finalWeights)?.solved } : {}),
  };
}

/** Method runs on one task, seed and device instance, run in order in one worker, so that a
 *  run can reuse what an earlier one computed: pat and pat-hge measure the same sweep and
 *  share its twin (pat-training.ts), and a run on a drifting device is the undrifted run
 *  (same method, task, seed and cap) when that one solved before the drift began: until then
 *  the two devices answer alike. */
export interface MethodGroup {
  kind: "methods";
  jobs: MethodJob[];
}

export interface MethodGroupResult {
  job: MethodGroup;
  results: MethodResult[];
  /** The group's own wall time (reused work not counted again). */
  wallSeconds: number;
}

/** Groups method jobs by task, seed and instance, undrifted runs before drifting ones. */
export function groupMethodJobs(jobs: MethodJob[]): MethodGroup[] {
  const groups = new Map<string, MethodJob[]>();
  for (const job of [...jobs.filter((j) => !j.drift), ...jobs.filter((j) => j.drift)]) {
    const key = `${job.task}/${job.seed}/${job.fabricationSpread ?? ""}`;
    groups.set(key, [...(groups.get(key) ?? []), job]);
  }
  return [...groups.values()].map((group) => ({ kind: "methods", jobs: group }));
}

export async function runMethodGroup(group: MethodGroup): Promise<MethodGroupResult> {
  const started = performance.now();
  const results: MethodResult[] = [];
  for (const job of group.jobs) {
    const undrifted = job.drift && results.find((r) => !r.job.drift && r.job.method === job.method && r.job.capSeconds === job.capSeconds);
    const before = undrifted && undrifted.solved && undrifted.deviceSeconds <= job.drift!.startSeconds;
    results.push(before ? { ...undrifted, job } : await runMethod(job));
  }
  return { job: group, results, wallSeconds: (performance.now() - started) / 1000 };
}
