// The simulated devices by name, as `hge train` and `hge compare` build them.
import type { Device } from "./device.ts";
import { DopantNetwork } from "./dopant.ts";
import { AnalyticDevice } from "./analytic.ts";
import { ResistorNetwork } from "./resistor.ts";
import { taskInputs, type TaskName } from "../tasks/index.ts";
import { UsageError } from "../errors.ts";

export const DEVICES = ["dnpu", "resistor", "analytic"] as const;
export type DeviceName = (typeof DEVICES)[number];

/** The simulated device for a task: the DNPU's electrodes are assignable, so the sphere task
 *  gets three of them as inputs; `deviceSeed` picks another instance. */
export function buildDevice(name: DeviceName, task: TaskName, deviceSeed?: number, fabricationSpread?: number): Device {
  if (fabricationSpread !== undefined && name !== "resistor") throw new UsageError(`--fabrication-spread is a resistor network's (--device resistor), not the ${name}'s`);
  const inputCount = taskInputs(task) ?? DopantNetwork.default().inputCount;
  if (name === "dnpu") {
    const device = deviceSeed === undefined ? DopantNetwork.default() : new DopantNetwork({ seed: deviceSeed });
    return device.inputCount === inputCount ? device : device.withInputCount(inputCount);
  }
  if (name === "analytic") return new AnalyticDevice({ inputCount, ...(deviceSeed !== undefined ? { seed: deviceSeed } : {}) });
  return new ResistorNetwork({ inputCount, ...(deviceSeed !== undefined ? { seed: deviceSeed } : {}), ...(fabricationSpread !== undefined ? { fabricationSpread } : {}) });
}
