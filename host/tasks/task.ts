// What a training task is: input cases (volts, already mapped to the device's input
// electrodes), one target per case and output, the loss to train with, and a success test.
// At most 16 cases and 8 inputs, so a task fits the controller's fixed-size tables.
import type { Device } from '../devices/device.ts';

export type LossName = 'mse' | 'corrsig' | 'fisher';

/** A task of at most 16 input cases with one target each (gates, sphere, regression): what
 *  the module trains. */
export interface Task {
  readonly kind: 'cases';
  readonly name: string;
  /** inputCases[p][i]: voltage on data input i in case p. */
  readonly inputCases: number[][];
  /** Row-major [case][output]; outputCount = 1 for classification tasks. */
  readonly targets: number[];
  readonly outputCount: number;
  readonly loss: LossName;
  /** What `solved` asks of the criterion: the class gap as a fraction of the output span
   *  (classification), or the largest RMS error (regression, output units). */
  readonly criterionTarget: number;
  /** Whether the device outputs (same layout as targets) solve the task. */
  solved(outputs: ArrayLike<number>): boolean;
  /** Whether the outputs of the epochs that confirm a solution, read at one setting of the
   *  controls, solve it beyond their scatter (classification: gates.ts separatedBeyondNoise).
   *  Absent: solved() is enough (regression's criterion is in output units, not a fraction). */
  separated?(epochs: ReadonlyArray<ArrayLike<number>>): boolean;
  /** One line for reports: what is asked and what counts as success. */
  readonly describe: string;
}

/** A labelled data set with a fixed held-out split (iris). Features are on the [−1, 1] level
 *  scale (levelToVolts maps them onto input electrodes); labels are class indices. */
export interface DatasetTask {
  readonly kind: 'dataset';
  readonly name: string;
  readonly featureCount: number;
  readonly classNames: string[];
  readonly train: { features: number[][]; labels: number[] };
  readonly test: { features: number[][]; labels: number[] };
  /** Solved when the held-out accuracy reaches this. */
  readonly solvedAccuracy: number;
  readonly describe: string;
}

export type AnyTask = Task | DatasetTask;

export const MAX_CASES = 16;
export const MAX_INPUTS = 8;

/** Map a level on the [−1, 1] scale linearly onto the voltage range [low, high]. */
export function levelToVolts(level: number, [lowV, highV]: [number, number]): number {
  return lowV + ((level + 1) / 2) * (highV - lowV);
}

export function checkTaskShape(task: Task): Task {
  if (task.inputCases.length > MAX_CASES) throw new Error(`${task.name}: ${task.inputCases.length} cases > ${MAX_CASES}`);
  if (task.inputCases.some((c) => c.length > MAX_INPUTS)) throw new Error(`${task.name}: more than ${MAX_INPUTS} inputs`);
  if (task.targets.length !== task.inputCases.length * task.outputCount) throw new Error(`${task.name}: targets do not match cases`);
  return task;
}

/** Why a device that declares risesWithInputs has tasks out of its reach. */
export const RISES_WITH_INPUTS = "its output never falls where an input rises, whatever the controls (risesWithInputs: a passive network's potential)";

/** Why no setting of `device`'s controls can solve `task`, where that is known, else
 *  undefined: an output that never falls where an input rises (Device.risesWithInputs) cannot
 *  put a class-1 case above a class-0 case whose every input is as high or higher (NAND, NOR,
 *  XOR, XNOR on a passive network). */
export function outOfReach(device: Pick<Device, 'name' | 'risesWithInputs'>, task: AnyTask): string | undefined {
  if (!device.risesWithInputs || task.kind !== 'cases' || task.loss === 'mse') return undefined;
  const volts = (p: number) => `(${task.inputCases[p].map((v) => `${+v.toFixed(3)}`).join(', ')}) V`;
  for (let p = 0; p < task.inputCases.length; p++) {
    if (task.targets[p] !== 1) continue;
    const q = task.inputCases.findIndex((inputs, q) => task.targets[q] === 0 && inputs.every((v, i) => v >= task.inputCases[p][i]));
    if (q >= 0) return `${task.name} is out of ${device.name}'s reach: ${RISES_WITH_INPUTS}, and ${task.name} needs it higher at inputs ${volts(p)} than at ${volts(q)}; no method can solve it there`;
  }
  return undefined;
}
