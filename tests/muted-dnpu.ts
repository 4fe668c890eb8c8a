// A device file for the lag calibration's tests and the README's measurement of it: the
// default DNPU, muted (its output × 1e-4) wherever control 1 is below 0 V, so that about half
// the seeded starts are ones where no control moves the output and the calibration sees only
// noise. `hge train --device tests/muted-dnpu.ts --task xor --seed N`.
import type { Device } from "../host/devices/device.ts";
import { DopantNetwork } from "../host/devices/dopant.ts";

export function createDevice(): Device {
  const dnpu = DopantNetwork.default();
  return {
    name: "DNPU muted below 0 V on control 1",
    electrodeCount: dnpu.electrodeCount,
    controlCount: dnpu.controlCount,
    inputCount: dnpu.inputCount,
    controlRangeV: dnpu.controlRangeV,
    inputRangeV: dnpu.inputRangeV,
    outputUnit: dnpu.outputUnit,
    capabilities: [],
    output: (voltages) => dnpu.output(voltages) * (voltages[0] < 0 ? 1e-4 : 1),
  };
}
