// The devices `hge train` and `hge compare` train: the simulated ones by name, or a device file
// of your own (device-file.ts).
import type { Device } from "./device.ts";
import { DopantNetwork } from "./dopant.ts";
import { AnalyticDevice } from "./analytic.ts";
import { ResistorNetwork } from "./resistor.ts";
import { taskInputs, type TaskName } from "../tasks/index.ts";
import { UsageError } from "../errors.ts";
import { DEVICE_FILE_EXTENSIONS, deviceFileStem, isDeviceFile, loadDeviceFile } from "./device-file.ts";

export const DEVICES = ["dnpu", "resistor", "analytic"] as const;
export type DeviceName = (typeof DEVICES)[number];

/** `--device`: a simulated device's name, or the path of a device file. */
export type DeviceSpec = DeviceName | string;

/** The --device values there are, for an error line. */
export const DEVICE_CHOICES = `${DEVICES.join(", ")}, or a device file of your own (${DEVICE_FILE_EXTENSIONS.join(", ")}) that exports createDevice`;

/** `text` as a --device value, or undefined if it is neither a device's name nor a device file's. */
export function deviceSpec(text: string): DeviceSpec | undefined {
  return (DEVICES as readonly string[]).includes(text) || isDeviceFile(text) ? text : undefined;
}

/** A short name of the device, for directory names. */
export function deviceLabel(spec: DeviceSpec): string {
  return isDeviceFile(spec) ? deviceFileStem(spec) : spec;
}

/** The device for a task: the DNPU's electrodes are assignable, so the sphere task gets three
 *  of them as inputs; `deviceSeed` picks another instance. A device file is made with the
 *  task's inputs and the seed (device-file.ts). */
export async function loadDevice(spec: DeviceSpec, task: TaskName, deviceSeed?: number, fabricationSpread?: number): Promise<Device> {
  if (fabricationSpread !== undefined && spec !== "resistor") throw new UsageError(`--fabrication-spread is a resistor network's (--device resistor), not the ${deviceLabel(spec)}'s`);
  if (isDeviceFile(spec)) return loadDeviceFile(spec, { inputCount: taskInputs(task), ...(deviceSeed !== undefined ? { seed: deviceSeed } : {}) });
  const inputCount = taskInputs(task) ?? DopantNetwork.default().inputCount;
  if (spec === "dnpu") {
    const device = deviceSeed === undefined ? DopantNetwork.default() : new DopantNetwork({ seed: deviceSeed });
    return device.inputCount === inputCount ? device : device.withInputCount(inputCount);
  }
  if (spec === "analytic") return new AnalyticDevice({ inputCount, ...(deviceSeed !== undefined ? { seed: deviceSeed } : {}) });
  return new ResistorNetwork({ inputCount, ...(deviceSeed !== undefined ? { seed: deviceSeed } : {}), ...(fabricationSpread !== undefined ? { fabricationSpread } : {}) });
}
