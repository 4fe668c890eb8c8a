// The registry of tasks by the names the CLI, the bench and the boards take: which data inputs
// a task needs of a device, and how it is built for a device's input ranges.
import type { Device } from "../devices/device.ts";
import { GATE_NAMES, gateTask, type GateName } from "./gates.ts";
import { irisTask } from "./iris.ts";
import { regressionTask } from "./regression.ts";
import { sphereTask } from "./sphere.ts";
import type { AnyTask } from "./task.ts";

export const TASKS = ["and", "or", "nand", "nor", "xor", "xnor", "sphere", "regression", "iris"] as const;
export type TaskName = (typeof TASKS)[number];

/** The data inputs a case task needs of the device; a data set's methods assign inputs
 *  themselves (undefined). */
export function taskInputs(name: TaskName): number | undefined {
  return name === "iris" ? undefined : name === "sphere" ? 3 : 2;
}

export interface TaskSettings {
  /** Classification: the class gap, as a fraction of the output span, that counts as solved. */
  marginFraction?: number;
  /** Regression: solved when MSE < this fraction of the targets' variance. */
  varianceFraction?: number;
}

/** `name` built for `device`'s input ranges. */
export function buildTask(name: TaskName, device: Device, settings: TaskSettings = {}): AnyTask {
  if (name === "iris") return irisTask();
  if (name === "sphere") return sphereTask(device.inputRangeV, 1, 16, settings.marginFraction);
  if (name === "regression") return regressionTask({ inputRangeV: device.inputRangeV, seed: 1, ...(settings.varianceFraction !== undefined ? { varianceFraction: settings.varianceFraction } : {}) });
  return gateTask(name.toUpperCase() as GateName, device.inputRangeV, settings.marginFraction);
}

/** A task name in any case ("XOR", "xor"), or undefined. */
export function taskName(text: string): TaskName | undefined {
  return TASKS.find((name) => name === text.toLowerCase());
}

export { GATE_NAMES };
