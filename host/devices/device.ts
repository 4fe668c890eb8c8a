// The simulated material a controller trains: electrode voltages in, one output out.
// Electrode order is fixed: voltages[0 .. controlCount−1] are the control electrodes
// (trainable), voltages[controlCount .. electrodeCount−1] the data inputs.
import { createHash } from "node:crypto";

/** What a device offers beyond output(voltages), for methods that need more (host/methods):
 * - assignable-inputs: any electrode may be a data input (withInputCount);
 * - clamp-outputs: output nodes can be held at given voltages while the rest settles;
 * - inject-current: a current can be pushed into the output nodes;
 * - edge-readouts: the voltage drop across every tunable edge can be read;
 * - nominal-model: a model of the device as designed (graph and nominal curves), which the
 *   fabricated instance matches only up to its spread;
 * - several-outputs: more than one output can be read. */
export type Capability = "assignable-inputs" | "clamp-outputs" | "inject-current" | "edge-readouts" | "nominal-model" | "several-outputs";
export const CAPABILITIES: readonly Capability[] = ["assignable-inputs", "clamp-outputs", "inject-current", "edge-readouts", "nominal-model", "several-outputs"];

export interface Device {
  readonly name: string;
  /** controlCount + inputCount. */
  readonly electrodeCount: number;
  readonly controlCount: number;
  readonly inputCount: number;
  /** Safe [low, high] range per control electrode, volts. */
  readonly controlRangeV: Array<[number, number]>;
  /** [low, high] range per data-input electrode, volts. */
  readonly inputRangeV: Array<[number, number]>;
  /** Output (in `outputUnit`) for the given electrode voltages. Pure, deterministic, fast. */
  output(voltages: Float64Array | Float32Array): number;
  /** 'nA' for the DNPU and analytic devices, 'V' for resistor networks. */
  readonly outputUnit: string;
  readonly capabilities: readonly Capability[];
  /** assignable-inputs: the same device instance with `inputCount` of its electrodes as data
   *  inputs and the rest as controls. */
  withInputCount?(inputCount: number): Device;
  /** Devices with a known exact gradient (simulations): ∂output/∂control for every control at
   *  `voltages`, for judging estimates against the truth (reports, tests, bench). */
  outputGradient?(voltages: Float64Array | Float32Array): Float64Array;
  /** Devices that change with time (drift scenarios, devices/drift.ts): told the device time,
   *  in seconds, before each evaluation by whatever drives them. */
  setTime?(deviceSeconds: number): void;
  /** A device behind I/O (an asynchronous device file: an instrument, or a model served
   *  elsewhere) is in one state at a time: hge compare and hge demo run one job at a time on it
   *  unless --workers says otherwise. */
  readonly exclusive?: boolean;
  /** The output never falls where a data input's voltage rises, whatever the controls (a
   *  passive network's potential: a positive-weighted average of the potentials held on it).
   *  Tasks that need it to fall are out of the device's reach (tasks/task.ts: outOfReach). */
  readonly risesWithInputs?: boolean;
}

/** The midpoint of every control range: a neutral starting point for training. */
export function controlMidpointsV(device: Device): Float64Array {
  return Float64Array.from(device.controlRangeV, ([low, high]) => (low + high) / 2);
}

/** Every electrode's declared range, controls then inputs (V). */
export function electrodeRangesV(device: Pick<Device, "controlRangeV" | "inputRangeV">): Array<[number, number]> {
  return [...device.controlRangeV, ...device.inputRangeV];
}

/** Every electrode (controls, then inputs) at the midpoint of its range. */
export function electrodeMidpointsV(device: Device): Float64Array {
  return Float64Array.from(electrodeRangesV(device), ([low, high]) => (low + high) / 2);
}

/** Fixed point `p` (1, 2, …) of every electrode, spread over the middle 80% of its range by
 *  golden-ratio steps: where hge checks a device file's gradient, and fingerprints a device. */
export function checkPointV(device: Pick<Device, "controlRangeV" | "inputRangeV">, p: number): Float64Array {
  return Float64Array.from(electrodeRangesV(device), ([low, high], e) => low + (high - low) * (0.1 + 0.8 * ((p * 0.6180339887 + e * 0.7548776662) % 1)));
}

/** What tells one device from another of the same name: its outputs at 4 check points, hashed
 *  (a device file edited, another --device-seed of a file whose name leaves it out, another
 *  file of the same name). A resumed run or comparison must be on the device its runs were.
 *  None for an exclusive device: an instrument's readings carry their own noise. */
export function deviceFingerprint(device: Device): string | undefined {
  if (device.exclusive) return undefined;
  const outputs = Float64Array.from({ length: 4 }, (_, p) => device.output(checkPointV(device, p + 1)));
  return createHash("sha256").update(new Uint8Array(outputs.buffer)).digest("hex").slice(0, 16);
}

/** A device that takes another's electrodes, ranges and unit (or a shape of its own: one
 *  configuration of a physical layer, phyll-hge.ts) and answers output() its own way
 *  (recordings, replays, drift, checks: device-file.ts): outputs only, so no capabilities
 *  unless a subclass offers them. */
export abstract class DeviceView implements Device {
  readonly electrodeCount: number;
  readonly controlCount: number;
  readonly inputCount: number;
  readonly controlRangeV: Array<[number, number]>;
  readonly inputRangeV: Array<[number, number]>;
  readonly outputUnit: string;
  readonly capabilities: readonly Capability[] = [];

  constructor(source: Pick<Device, "electrodeCount" | "controlCount" | "inputCount" | "outputUnit" | "controlRangeV" | "inputRangeV">, readonly name: string) {
    ({ electrodeCount: this.electrodeCount, controlCount: this.controlCount, inputCount: this.inputCount, outputUnit: this.outputUnit } = source);
    this.controlRangeV = source.controlRangeV;
    this.inputRangeV = source.inputRangeV;
  }

  abstract output(voltages: Float64Array | Float32Array): number;
}
