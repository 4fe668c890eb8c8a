// A device that changes while it is trained: its output moves linearly from one instance's
// (`before`) to another's (`after`) between two device times. Time is device time, told by
// whatever drives the device (the co-simulation each sample, an Instrument each measurement),
// so every method sees the same drift at the same device-second. The bench's drift scenario
// uses it for "the device changes after a twin is fitted or a model is taken".
import { DeviceView, type Device } from "./device.ts";
import { DopantNetwork } from "./dopant.ts";

export class DriftingDevice extends DeviceView {
  /** 0 before the drift, 1 after it. */
  private share = 0;

  constructor(readonly before: Device, readonly after: Device, readonly startSeconds: number, readonly endSeconds: number) {
    super(before, `${before.name} drifting to ${after.name} over ${startSeconds}–${endSeconds} device-s`);
    if (after.electrodeCount !== before.electrodeCount || after.controlCount !== before.controlCount) throw new RangeError("a device drifts into one with the same electrodes");
  }

  setTime(deviceSeconds: number): void {
    this.share = Math.min(1, Math.max(0, (deviceSeconds - this.startSeconds) / (this.endSeconds - this.startSeconds)));
  }

  output(voltages: Float64Array | Float32Array): number {
    if (this.share === 0) return this.before.output(voltages);
    if (this.share === 1) return this.after.output(voltages);
    return (1 - this.share) * this.before.output(voltages) + this.share * this.after.output(voltages);
  }
}

/** The default DNPU warming from 77 K by `fraction` of kT (the same instance at another
 *  temperature, on the same output scale). 10% (to 85 K) changes its outputs by about 7% RMS
 *  over random voltages. */
export function warmingDnpu(fraction: number, startSeconds: number, endSeconds: number): DriftingDevice {
  const before = DopantNetwork.default();
  const after = new DopantNetwork({ ...before.parameters, thermalEnergyEV: before.parameters.thermalEnergyEV * (1 + fraction), outputScaleNA: before.outputScaleNA });
  return new DriftingDevice(before, after, startSeconds, endSeconds);
}
