// The simulated material a controller trains: electrode voltages in, one output out.
// Electrode order is fixed: voltages[0 .. controlCount−1] are the control electrodes
// (trainable), voltages[controlCount .. electrodeCount−1] the data inputs.

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
}

/** The midpoint of every control range: a neutral starting point for training. */
export function controlMidpointsV(device: Device): Float64Array {
  return Float64Array.from(device.controlRangeV, ([low, high]) => (low + high) / 2);
}
