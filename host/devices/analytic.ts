// A smooth stand-in device with an exact gradient: a seeded sum of tanh terms, one per
// control, each coupled to every other electrode. For checking gradient estimators and
// training loops against ground truth (outputGradient, and a known optimum knownOptimumV).
//
//   y(v, u) = Σ_k c_k · tanh(a_k),   a_k = Σ_j M_kj (v_j − m_j) + Σ_i E_ki (u_i − μ_i) + h_k   (nA)
//
// v = controls (midpoints m), u = inputs (midpoints μ). M is strictly diagonally dominant
// (M_kk = b_k, Σ_{j≠k} |M_kj| = 0.3 b_k), so v ↦ (Σ_j M_kj v_j)_k is one-to-one; each term
// sees the inputs along its own direction.

import type { Device } from './device.ts';
import { Rng } from '../noise.ts';

export interface AnalyticOptions {
  seed?: number;
  /** 1..64, default 5. */
  controlCount?: number;
  /** Default 2. */
  inputCount?: number;
}

export class AnalyticDevice implements Device {
  readonly name: string;
  readonly electrodeCount: number;
  readonly controlCount: number;
  readonly inputCount: number;
  readonly controlRangeV: Array<[number, number]>;
  readonly inputRangeV: Array<[number, number]>;
  readonly outputUnit = 'nA';
  readonly capabilities = [] as const;
  /**
   * A control vector strictly inside the ranges (middle 60%). Targets made from it by
   * targetsFor(knownOptimumV, cases) give an MSE loss whose global minimum (zero) is at
   * knownOptimumV. It is an isolated minimiser when the cases outnumber the controls (the
   * Jacobian has full column rank); Adam from the range midpoints reaches it for 18 of seeds
   * 1–20 with 16 cases on a 4×4 input grid (seed 1 among them; seeds 15 and 17 stall in
   * another basin). tests/devices.test.ts checks the default seed.
   */
  readonly knownOptimumV: Float64Array;

  private readonly amplitudeNA: Float64Array; // c_k
  private readonly coupling: Float64Array; // M, controlCount × controlCount
  private readonly inputCoupling: Float64Array; // E, controlCount × inputCount
  private readonly offset: Float64Array; // h_k
  private readonly controlMidV: Float64Array;
  private readonly inputMidV: Float64Array;
  private readonly argument: Float64Array; // a_k work buffer

  constructor(options: AnalyticOptions = {}) {
    const { seed = 1, controlCount = 5, inputCount = 2 } = options;
    if (controlCount < 1 || controlCount > 64) throw new Error(`AnalyticDevice: controlCount ${controlCount} not in 1..64`);
    this.name = `analytic(seed=${seed}, controls=${controlCount})`;
    this.controlCount = controlCount;
    this.inputCount = inputCount;
    this.electrodeCount = controlCount + inputCount;
    this.controlRangeV = Array.from({ length: controlCount }, () => [-1.2, 0.6]);
    this.inputRangeV = Array.from({ length: inputCount }, () => [-0.7, 0.3]);
    this.controlMidV = Float64Array.from(this.controlRangeV, ([low, high]) => (low + high) / 2);
    this.inputMidV = Float64Array.from(this.inputRangeV, ([low, high]) => (low + high) / 2);

    const rng = new Rng(seed);
    const sign = () => (rng.uniform() < 0.5 ? -1 : 1);
    // Output magnitude stays in the tens of nA for any control count.
    const amplitudeScale = Math.sqrt(5 / Math.max(5, controlCount));
    this.amplitudeNA = Float64Array.from({ length: controlCount }, () => sign() * rng.between(8, 24) * amplitudeScale);
    this.coupling = new Float64Array(controlCount * controlCount);
    for (let k = 0; k < controlCount; k++) {
      const slopePerV = rng.between(1, 2);
      const raw = Float64Array.from({ length: controlCount }, (_, j) => (j === k ? 0 : rng.between(-1, 1)));
      const rawSum = raw.reduce((sum, x) => sum + Math.abs(x), 0) || 1;
      for (let j = 0; j < controlCount; j++) {
        this.coupling[k * controlCount + j] = j === k ? slopePerV : (0.3 * slopePerV * raw[j]) / rawSum;
      }
    }
    // Each term sees the first two inputs along its own direction, spread evenly round the
    // circle (jittered): distinct directions make the controls identifiable from outputs.
    // Further inputs couple randomly.
    this.inputCoupling = new Float64Array(controlCount * inputCount);
    for (let k = 0; k < controlCount; k++) {
      const angle = (2 * Math.PI * (k + rng.between(-0.25, 0.25))) / controlCount;
      for (let i = 0; i < inputCount; i++) {
        const strength = i === 0 ? 2 * Math.cos(angle) : i === 1 ? 2 * Math.sin(angle) : rng.between(-2, 2);
        this.inputCoupling[k * inputCount + i] = strength;
      }
    }
    this.offset = Float64Array.from({ length: controlCount }, () => rng.between(-0.5, 0.5));
    this.knownOptimumV = Float64Array.from(this.controlRangeV, ([low, high]) => low + (high - low) * rng.between(0.2, 0.8));
    this.argument = new Float64Array(controlCount);
  }

  output(voltages: Float64Array | Float32Array): number {
    this.computeArguments(voltages);
    let y = 0;
    for (let k = 0; k < this.controlCount; k++) y += this.amplitudeNA[k] * Math.tanh(this.argument[k]);
    return y;
  }

  /** ∂y/∂v_m for every control m, nA/V: Σ_k c_k sech²(a_k) M_km. */
  outputGradient(voltages: Float64Array | Float32Array): Float64Array {
    this.computeArguments(voltages);
    const n = this.controlCount;
    const gradient = new Float64Array(n);
    for (let k = 0; k < n; k++) {
      const t = Math.tanh(this.argument[k]);
      const weight = this.amplitudeNA[k] * (1 - t * t);
      for (let m = 0; m < n; m++) gradient[m] += weight * this.coupling[k * n + m];
    }
    return gradient;
  }

  /** Outputs at the given controls for each input case: targets a device can realise exactly. */
  targetsFor(controlsV: ArrayLike<number>, inputCases: number[][]): number[] {
    const v = new Float64Array(this.electrodeCount);
    for (let k = 0; k < this.controlCount; k++) v[k] = controlsV[k];
    return inputCases.map((inputs) => {
      for (let i = 0; i < this.inputCount; i++) v[this.controlCount + i] = inputs[i];
      return this.output(v);
    });
  }

  private computeArguments(voltages: Float64Array | Float32Array): void {
    const n = this.controlCount;
    for (let k = 0; k < n; k++) {
      let a = this.offset[k];
      for (let j = 0; j < n; j++) a += this.coupling[k * n + j] * (voltages[j] - this.controlMidV[j]);
      for (let i = 0; i < this.inputCount; i++) {
        a += this.inputCoupling[k * this.inputCount + i] * (voltages[n + i] - this.inputMidV[i]);
      }
      this.argument[k] = a;
    }
  }
}
