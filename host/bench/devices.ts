// Stand-in devices for measuring estimators: a linear device with a chosen gradient (the
// setting of the Cramér–Rao bound), the same plus a cubic term in every control (to make
// intermodulation), and a replay of recorded outputs (to run many noise seeds through the
// controller without solving the physical device again: the chain adds noise after the device).
import { DeviceView, type Device } from "../devices/device.ts";

/** y = y0 + Σ g_k (v_k − v0_k) + cubic · Σ_k (v_k − v0_k)³ (+ coupling of every pair, cubic and
 *  quadratic, if set). */
export class PolynomialDevice implements Device {
  readonly name: string;
  readonly electrodeCount: number;
  readonly controlCount: number;
  readonly inputCount = 0;
  readonly controlRangeV: Array<[number, number]>;
  readonly inputRangeV: Array<[number, number]> = [];
  readonly outputUnit = "V";
  readonly capabilities = [] as const;

  /** `gradient` ∂y/∂v at `centerV`; `cubic` the coefficient of each (v_k − v0_k)³ (V⁻²);
   *  `pairCubic` the coefficient of every (v_j − v0_j)²(v_k − v0_k) and (v_j − v0_j)(v_k − v0_k)²,
   *  the terms that put 2f_j ± f_k on other tones; `pairQuadratic` the coefficient of every
   *  (v_j − v0_j)(v_k − v0_k), j < k (V⁻¹), the terms that put f_j ± f_k on other tones (its
   *  tone-smoothed gradient is `gradient`: the mean of a tone is 0). */
  constructor(
    readonly gradient: ArrayLike<number>,
    readonly centerV: ArrayLike<number>,
    readonly y0 = 0,
    readonly cubic = 0,
    readonly pairCubic = 0,
    readonly pairQuadratic = 0,
  ) {
    this.controlCount = gradient.length;
    this.electrodeCount = gradient.length;
    this.controlRangeV = Array.from({ length: gradient.length }, () => [-1, 1]);
    this.name = cubic || pairCubic ? `cubic(${gradient.length})` : pairQuadratic ? `quadratic(${gradient.length})` : `linear(${gradient.length})`;
  }

  /** What a tone estimator with these peak amplitudes measures when no intermodulation product
   *  lands on a tone: ∂y/∂v_k averaged over the other tones' phases, g_k + (3/4)·cubic·a_k² +
   *  pairCubic·Σ_{j≠k} a_j²/2 (the mean of sin² is 1/2, of sin⁴ 3/8). Derived. */
  toneSmoothedGradient(amplitudesV: ArrayLike<number>): Float64Array {
    let total = 0;
    for (let k = 0; k < this.controlCount; k++) total += amplitudesV[k] ** 2 / 2;
    return Float64Array.from({ length: this.controlCount }, (_, k) =>
      this.gradient[k] + 0.75 * this.cubic * amplitudesV[k] ** 2 + this.pairCubic * (total - amplitudesV[k] ** 2 / 2));
  }

  output(voltages: Float64Array | Float32Array): number {
    let y = this.y0;
    let sum = 0;
    let sumSquares = 0;
    for (let k = 0; k < this.controlCount; k++) {
      const d = voltages[k] - this.centerV[k];
      y += this.gradient[k] * d + this.cubic * d * d * d;
      sum += d;
      sumSquares += d * d;
    }
    if (this.pairCubic) {
      // Σ_{j≠k} d_j² d_k + d_j d_k² = Σ_j d_j² · Σ_k d_k − Σ_k d_k³ (each unordered pair twice)
      let cubes = 0;
      for (let k = 0; k < this.controlCount; k++) {
        const d = voltages[k] - this.centerV[k];
        cubes += d * d * d;
      }
      y += this.pairCubic * (sumSquares * sum - cubes);
    }
    if (this.pairQuadratic) y += (this.pairQuadratic * (sum * sum - sumSquares)) / 2; // Σ_{j<k} d_j d_k
    return y;
  }
}

/** y = y0 + Σ g_k (v_k − v0_k) + pairQuadratic · Σ_{j<k} u_j u_k, u_k the control's excursion
 *  v_k − v0_k through a first-order low-pass (corner `cornerHz`, one sample per call): a device
 *  whose quadratic coupling responds late. A static device's products of zero-phase sine tones
 *  are cosines, in quadrature with the tones; this one's second-order products f_j ± f_k carry
 *  the low-pass's phases and land partly in phase. It has state: one instance per run (no
 *  RecordingDevice). Its tone-smoothed gradient is `gradient` (the mean of a tone is 0). */
export class LaggedQuadraticDevice implements Device {
  readonly name: string;
  readonly electrodeCount: number;
  readonly controlCount: number;
  readonly inputCount = 0;
  readonly controlRangeV: Array<[number, number]>;
  readonly inputRangeV: Array<[number, number]> = [];
  readonly outputUnit = "V";
  readonly capabilities = [] as const;
  private readonly lagged: Float64Array;
  private readonly alpha: number;

  constructor(
    readonly gradient: ArrayLike<number>,
    readonly centerV: ArrayLike<number>,
    readonly pairQuadratic: number,
    cornerHz: number,
    sampleRateHz: number,
  ) {
    this.controlCount = gradient.length;
    this.electrodeCount = gradient.length;
    this.controlRangeV = Array.from({ length: gradient.length }, () => [-1, 1]);
    this.name = `laggedQuadratic(${gradient.length})`;
    this.lagged = new Float64Array(gradient.length);
    this.alpha = 1 - Math.exp((-2 * Math.PI * cornerHz) / sampleRateHz);
  }

  output(voltages: Float64Array | Float32Array): number {
    let y = 0;
    let sum = 0;
    let sumSquares = 0;
    for (let k = 0; k < this.controlCount; k++) {
      const d = voltages[k] - this.centerV[k];
      y += this.gradient[k] * d;
      const u = (this.lagged[k] += this.alpha * (d - this.lagged[k]));
      sum += u;
      sumSquares += u * u;
    }
    return y + (this.pairQuadratic * (sum * sum - sumSquares)) / 2;
  }
}

/** Plays back outputs recorded from another device, one per call (then throws). */
export class ReplayDevice extends DeviceView {
  private at = 0;

  constructor(source: Device, readonly outputs: Float64Array) {
    super(source, `replay(${source.name})`);
  }

  output(): number {
    if (this.at >= this.outputs.length) throw new Error(`replay: only ${this.outputs.length} outputs were recorded`);
    return this.outputs[this.at++];
  }
}

/** Distinct voltage vectors a RecordingDevice remembers the output of: a Walsh window repeats
 *  N rounded up to a power of two vectors, a sequential one 2N + 1 (N ≤ 128 here). */
const REMEMBERED_VOLTAGES = 1024;

/** Records every output of `device` (up to `capacity`) while passing it through. The device
 *  must be static (its output a function of the voltages alone, no setTime): a voltage vector
 *  seen before is answered from memory, the same number without solving the device again. */
export class RecordingDevice extends DeviceView {
  readonly outputs: Float64Array;
  recorded = 0;
  private readonly remembered = new Map<string, number>();

  constructor(readonly device: Device, capacity: number) {
    super(device, device.name);
    if (device.setTime) throw new Error(`RecordingDevice: ${device.name} changes with time`);
    this.outputs = new Float64Array(capacity);
  }

  output(voltages: Float64Array | Float32Array): number {
    const key = Buffer.from(voltages.buffer, voltages.byteOffset, voltages.byteLength).toString("latin1");
    let y = this.remembered.get(key);
    if (y === undefined) {
      y = this.device.output(voltages);
      if (this.remembered.size < REMEMBERED_VOLTAGES) this.remembered.set(key, y);
    }
    this.outputs[this.recorded++] = y;
    return y;
  }
}
