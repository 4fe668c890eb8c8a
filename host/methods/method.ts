// What a training method is: anything that trains a device on a task within a device-time
// budget and returns one Result. The module's estimators are methods (host/methods/module.ts);
// so are the peers that are not configurations of the module (pat, coupled, ep, analytic,
// phyll). A method declares what it needs of a device and of a task; the registry
// (host/methods/index.ts) refuses a pairing that lacks it, naming what is missing.
import type { Capability, Device } from "../devices/device.ts";
import type { AnyTask, LossName, Task } from "../tasks/task.ts";
import type { ModuleDetails, TrainOptions } from "../train.ts";
import { DeviceFileError } from "../devices/device-file.ts";
import { TrainConfigError } from "../errors.ts";
import { ControllerError } from "../controller.ts";
import type { Journal } from "./journal.ts";

/** How much a run may spend. Device time counts every second the physical device is driven
 *  (settling, calibration, data collection for a model, every equilibrium). A method reads the
 *  device only through instrument.ts's Instrument (or the module's co-simulation), which counts
 *  it, and stops at the budget itself (trainWithinBudget holds it to that); a reading neither
 *  counted is an error (meteredDevice). */
export interface Budget {
  deviceSeconds: number;
  /** Updates of the controls; undefined = only the device-time budget stops the run. */
  maxIterations?: number;
}

/** Reported after every update. `criterion` is what decides success, named by criterionName. */
export interface Progress {
  iteration: number;
  deviceSeconds: number;
  budget: Budget;
  loss: number;
  criterion: number;
  criterionName: CriterionName;
  solved: boolean;
  /** 1 for the first start, 2 after the first restart, ... */
  attempt: number;
  /** The samples of one measurement window of this update, for a method that measures in
   *  windows (the live view observes the device over the same stretch). */
  windowSamples?: number;
}

/** margin: class gap over the output span (gates, sphere); "RMS error": regression, in the
 *  output unit (lower is better); accuracy: held-out share correct (data sets). */
export type CriterionName = "margin" | "RMS error" | "accuracy";

/** Everything a run gets besides device, task and budget. */
export interface RunContext {
  seed: number;
  progress?: (progress: Progress) => void;
  /** Aborted on Ctrl-C: the method stops at its next update and returns what it has, with
   *  stopped = "interrupted". */
  signal?: AbortSignal;
  /** The shared options (TrainOptions, from the CLI's flags) and the method's own settings, by
   *  name; it reads those in Method.reads and Method.settings (hge train refuses a flag for any
   *  other), and says its settings in Result.settings. */
  options?: Record<string, unknown>;
  /** A data-set run's journal (journal.ts: `hge train` keeps it as journal.json): its methods
   *  record every measurement there, and replay what it holds from an earlier run (--resume). */
  journal?: Journal;
}

export interface Method {
  /** As `hge train --method` takes it. */
  readonly name: string;
  /** One line for `hge methods`: what it is. */
  readonly summary: string;
  /** What the device must offer (beyond output(voltages)). */
  readonly needs: readonly Capability[];
  /** Why it cannot drive this device on this task although the device offers what it needs (a
   *  preset's fixed number of controls, a data set's features with no inputs to take them), or
   *  undefined when it can. */
  readonly misfit?: (device: Device, task: AnyTask) => string | undefined;
  /** Which tasks it trains: "cases" (at most 16 input cases, one output: gates, sphere,
   *  regression) and/or "dataset" (a labelled data set with a held-out split: iris). */
  readonly tasks: ReadonlyArray<AnyTask["kind"]>;
  /** Case tasks: the losses it trains with (undefined: any). */
  readonly losses?: readonly LossName[];
  /** Its own settings with their defaults, each settable by name (`hge train --set
   *  name=value`, RunContext.options); the method checks the values. */
  readonly settings?: Readonly<Record<string, number | boolean>>;
  /** The shared options (TrainOptions: hge train's flags such as --window or --white-noise) it
   *  reads besides its own settings. hge train refuses a flag for an option the method would not
   *  read (readsOption). */
  readonly reads: readonly (keyof TrainOptions)[];
  /** What it needs that homodyne gradient extraction does not (a model, local circuits at
   *  every edge, digital layers), for `hge methods` and the bench; "" for none. */
  readonly requires: string;
  /** Throws what train would refuse before it measures (a configuration the module refuses),
   *  measuring nothing: hge train --live asks before it waits for a page. */
  readonly check?: (device: Device, task: AnyTask, budget: Budget, context: RunContext) => void;
  train(device: Device, task: AnyTask, budget: Budget, context: RunContext): Promise<Result>;
}

/** fault: the controller's (16 windows in a row discarded); device: a device file's
 *  (devices/device-file.ts), said in Result.deviceFault; epochs: a method with a schedule of
 *  its own (phyll's blocks × epochs) ran all of it; twin: pat's twin did not fit (its fit
 *  diverged) on a task of input cases, so no update could follow it; readout: pat's digital
 *  readout on a data set diverged (its loss not finite), so no update could follow it. */
export type StopReason = "solved" | "budget" | "iterations" | "epochs" | "fault" | "interrupted" | "link" | "device" | "twin" | "readout";

/** Whether `method` reads the shared option `option` (Method.reads), or has a setting of that
 *  name (pat's windowSamples and learningRate). */
export function readsOption(method: Method, option: keyof TrainOptions): boolean {
  return method.reads.includes(option) || option in (method.settings ?? {});
}

/** A device file's fault (devices/device-file.ts: a throw, a NaN, a link that dropped), caught
 *  where a method measures: its message, for Result.deviceFault. The run ends there with what it
 *  learned up to its last update, as on Ctrl-C (stopped = "device"). Any other error is thrown
 *  on. */
export function deviceFaultOf(error: unknown): string {
  if (error instanceof DeviceFileError) return error.message;
  throw error;
}

/** What failed in `method` once the device had been measured for `deviceSeconds` (TensorFlow.js
 *  out of its WebAssembly heap, a bug): an error whose one line says the device time thrown away;
 *  the module's refusal of a configuration made only then stays a refusal (exit 3) that says so.
 *  A refusal, a device file's fault, or anything before the first measurement passes as it is. */
export function measuredWorkLost(method: string, deviceSeconds: number, error: unknown): unknown {
  if (deviceSeconds === 0 || error instanceof TrainConfigError || error instanceof DeviceFileError) return error;
  if (error instanceof ControllerError) return new TrainConfigError(error.field, `${method}, after ${deviceSeconds.toFixed(1)} device-s of measurement, which are lost: ${error.message.replace(/^configuration refused: /, "")}`);
  return new Error(`${method} failed after ${deviceSeconds.toFixed(1)} device-s of measurement, which are lost: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
}

/** Device time a method may spend past its budget, seconds: the rounding of its clock's sums,
 *  which every stop rule allows (train.ts's sample limit, pat's and the resistor methods' next
 *  measurement, phyll's next row) and budgetOverrun allows twice over. */
export const BUDGET_SLACK_SECONDS = 1e-9;

/** What `run` spent beyond `budget` (device time, or updates beyond maxIterations), said in one
 *  line, or undefined when it kept to it (device time `slackSeconds` past it passes). Every
 *  method stops at its budget itself (Budget; the registered methods are tested to:
 *  tests/budget.test.ts): a run that went past it is a defect of its method, and a comparison at
 *  equal budgets cannot rank it. */
export function budgetOverrun(run: Pick<Result, "method" | "deviceSeconds" | "iterations">, budget: Budget, slackSeconds = 2 * BUDGET_SLACK_SECONDS): string | undefined {
  if (run.deviceSeconds > budget.deviceSeconds + slackSeconds) return `${run.method} spent ${run.deviceSeconds} device-s, over its budget of ${budget.deviceSeconds}`;
  if (budget.maxIterations !== undefined && run.iterations > budget.maxIterations) return `${run.method} took ${run.iterations} iterations, over its limit of ${budget.maxIterations}`;
  return undefined;
}

/** What a method may call on a device without device time: what makes another view of it, and
 *  what a simulation knows that no instrument reads (its model as designed; exact gradients, for
 *  judging estimates, never for training). Any other call is a reading (output(), a resistor
 *  network's equilibrium() or node potentials, ...). */
const FREE_CALLS: ReadonlySet<PropertyKey> = new Set(["withInputCount", "nominalModel", "outputGradient", "gradient"]);

/** `device` as `method` gets it: each reading must follow a setTime(), which Instrument.measure()
 *  and the module's co-simulation give just before every reading they count, so that a reading
 *  that did not count device time (a method calling device.output() itself) is an error naming
 *  the method rather than free. A device made from it (withInputCount) is metered too; its
 *  ranges and FREE_CALLS pass through. */
export function meteredDevice<D extends Device>(device: D, method: string): D {
  let charged = false;
  return new Proxy(device, {
    get(target, key) {
      if (key === "setTime") {
        return (seconds: number) => {
          charged = true;
          target.setTime?.(seconds);
        };
      }
      const value: unknown = Reflect.get(target, key, target);
      if (typeof value !== "function") return value;
      if (key === "withInputCount") return (...args: unknown[]) => meteredDevice(value.apply(target, args) as Device, method);
      if (typeof key !== "string" || FREE_CALLS.has(key) || key in Object.prototype) return value.bind(target);
      return (...args: unknown[]) => {
        if (!charged) throw new Error(`${method} read the device (${key}) without counting device time: a method reads it through an Instrument (instrument.ts)`);
        charged = false;
        return value.apply(target, args);
      };
    },
  });
}

/** `method`'s run on the metered device (meteredDevice). */
export function trainMetered(method: Method, device: Device, task: AnyTask, budget: Budget, context: RunContext): Promise<Result> {
  return method.train(meteredDevice(device, method.name), task, budget, context);
}

/** `method`'s run, metered and checked against its budget (budgetOverrun): an overrun is thrown
 *  as hge's own error (a defect of the method, not of the user's input). */
export async function trainWithinBudget(method: Method, device: Device, task: AnyTask, budget: Budget, context: RunContext): Promise<Result> {
  const run = await trainMetered(method, device, task, budget, context);
  const overrun = budgetOverrun(run, budget);
  if (overrun) throw new Error(`${overrun}: every method stops at its budget`);
  return run;
}

/** One shape for every method and every place it ran. Histories have one entry per update
 *  (the start first for weights). */
export interface Result {
  method: string;
  device: string;
  task: string;
  seed: number;
  /** "node", or the board the controller ran on. */
  ranOn: string;
  solved: boolean;
  stopped: StopReason;
  /** stopped = "device": what the device file did wrong (one line). */
  deviceFault?: string;
  iterations: number;
  deviceSeconds: number;
  wallSeconds: number;
  lossName: string;
  criterionName: CriterionName;
  /** The last value of the criterion, as named: a margin, a positive RMS error, an accuracy
   *  (train.ts's taskMargin gives minus the RMS error for MSE tasks: negate it). */
  criterion: number;
  /** What the task asks of the criterion to be solved (Task.criterionTarget, or a data set's
   *  solvedAccuracy). */
  criterionTarget: number;
  outputUnit: string;
  history: {
    deviceSeconds: number[];
    loss: number[];
    criterion: number[];
    /** Control voltages: the start, then after each update. */
    weights: number[][];
    /** The gradient the update used, where the method has one (∂L/∂control). */
    gradient?: number[][];
    /** On a device with an exact gradient (Device.outputGradient): the exact ∂L/∂control at
     *  the same controls, chained with the same loss slopes, so that it differs from
     *  `gradient` by the estimate's error alone. */
    exactGradient?: number[][];
    /** Case outputs before each update (case tasks). */
    caseOutputs?: number[][];
  };
  finalWeights: number[];
  controlRangeV: Array<[number, number]>;
  /** Case tasks: the last outputs, the targets and each case's input voltages. */
  caseOutputs: number[];
  targets: number[];
  caseInputsV: number[][];
  /** Where each start began (restarts). */
  attempts: Array<{ startIteration: number; initialV: number[] }>;
  /** Where the method restarts when stuck (patience): train.ts's StallWatch of the present start,
   *  in the measure its patience watches (its own: the module's margin, pat's gain). */
  stall?: Stall;
  /** Method counters (windows, equilibria, twin fits, ...). */
  counters: Record<string, number>;
  /** The settings the method ran with, by name (for the report and run.json). */
  settings: Record<string, unknown>;
  /** Runs of the hge module only: its configuration, chain, noise, tones and one window. */
  module?: ModuleDetails;
  /** A run resumed from a run.json (input cases): that run.json whole, so that a run resumed
   *  in its own --out loses nothing of the run it goes on from (which may hold its own). */
  resumedFrom?: Record<string, unknown>;
  /** The device's fingerprint (devices/device.ts deviceFingerprint), where hge train has one: a
   *  run resumes on the device it ran on. */
  deviceFingerprint?: string;
}

/** Result.stall: the best value so far (in the method's own measure) and the iterations since. */
export interface Stall { best: number; iterations: number }

/** The wall seconds a run's work took: `wallSeconds`, plus the fit of a twin an earlier run on
 *  the same thread fitted and this one reused (pat-training.ts), which still counts as its work. */
export function workWallSeconds(wallSeconds: number, run: Pick<Result, "counters">): number {
  return wallSeconds + (run.counters.twinFitReused ? run.counters.twinFitWallSeconds : 0);
}

/** The iterations and device time of `run` and of every run it resumed (Result.resumedFrom). */
export function resumedTotals(run: Pick<Result, "iterations" | "deviceSeconds" | "resumedFrom">): { runs: number; iterations: number; deviceSeconds: number } {
  const earlier = run.resumedFrom as Pick<Result, "iterations" | "deviceSeconds" | "resumedFrom"> | undefined;
  const before = earlier ? resumedTotals(earlier) : { runs: 0, iterations: 0, deviceSeconds: 0 };
  return { runs: before.runs + 1, iterations: before.iterations + run.iterations, deviceSeconds: before.deviceSeconds + run.deviceSeconds };
}

/** Lets the event loop run (Ctrl-C, progress output) at most every 50 ms of wall time: a
 *  method's loop calls `breathe()` often; it answers false once the run was aborted. */
export class Breather {
  static readonly EVERY_MS = 50;
  private next = performance.now() + Breather.EVERY_MS;
  constructor(private readonly signal?: AbortSignal) {}

  /** Whether breathe() would let the event loop run now (for a loop that calls it only every
   *  so many steps, each of which may be slow: a device file's answer). */
  get due(): boolean {
    return performance.now() >= this.next;
  }

  async breathe(): Promise<boolean> {
    if (this.due) {
      await new Promise((resolve) => setImmediate(resolve));
      this.next = performance.now() + Breather.EVERY_MS;
    }
    return !this.signal?.aborted;
  }
}

/** "Solved", one rule for every method: the task solved on `epochs` epochs in a row, all read
 *  on the controls of the first. While a solved epoch is confirmed the controls
 *  hold: the module undoes the update and reads them plainly (hold()); a method of its own
 *  takes no step and reads only what the test needs. A step after each solved epoch could
 *  leave the solved region and start the count again: methods that took it (coupled, ep,
 *  analytic, pat) paid up to twice the device time of a held confirmation for the same result.
 *  0 epochs: never solved. */
export class Confirmation {
  private run = 0;
  /** The case outputs of the solved epochs in a row. */
  private readonly confirming: ArrayLike<number>[] = [];
  /** Confirmations the task refused as within the noise (Task.separated): the count starts again. */
  withinNoise = 0;
  /** `task`: its separated() judges the confirming epochs' outputs, given to count(). */
  constructor(readonly epochs: number, private readonly task?: Pick<Task, "separated">) {}
  /** Counts an epoch (with the case outputs it read, where the task judges them); true once
   *  the task is solved. */
  count(solvedNow: boolean, outputs?: ArrayLike<number>): boolean {
    this.run = solvedNow ? this.run + 1 : 0;
    if (!solvedNow) this.confirming.length = 0;
    else if (outputs) this.confirming.push(Array.from(outputs));
    if (this.solved && this.task?.separated && this.confirming.length === this.run && !this.task.separated(this.confirming)) {
      this.withinNoise++;
      this.restart();
    }
    return this.solved;
  }
  get solved(): boolean {
    return this.epochs > 0 && this.run >= this.epochs;
  }
  /** A solved epoch is being confirmed: the controls stay where it read them. */
  get holding(): boolean {
    return this.run > 0 && this.run < this.epochs;
  }
  /** Solved on the last epoch read (the report's "solved" for a run that never stops early). */
  get lastSolved(): boolean {
    return this.run > 0;
  }
  restart(): void {
    this.run = 0;
    this.confirming.length = 0;
  }
  /** For a run's counters: confirmationsWithinNoise where there were any. */
  get counters(): Record<string, number> {
    return this.withinNoise ? { confirmationsWithinNoise: this.withinNoise } : {};
  }
}
