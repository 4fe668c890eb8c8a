// A device file, as you would write one for a device of your own: `hge train --device
// host/devices/example-device.ts` (README: "Your own device"; device-file.ts says what hge
// asks of it). This one is an integrated-optics mesh read by a photodiode: light split over
// PATHS waveguides, each through phase shifters driven by every electrode (controls and data
// inputs alike, with seeded couplings: fabrication is not exact), then recombined.
//
//   y(v) = PEAK_NA · |Σ_k a_k e^{iθ_k(v)}|² / (Σ_k a_k)²,   θ_k(v) = φ_k + Σ_j M_kj v_j
//
// a_k the paths' transmissions, φ_k their phases at 0 V, M_kj radians per volt. The exact
// gradient is outputGradient, which hge checks against finite differences when it loads the file.
import type { Device } from "./device.ts";
import { Rng } from "../noise.ts";

const PATHS = 6;
/** Photocurrent with every path in phase, nA. */
const PEAK_NA = 200;
/** Largest phase shift per volt of an electrode on a path, radians. */
const MAX_RADIANS_PER_V = Math.PI / 2;

/** What hge calls: options.inputCount is the data inputs the task needs (undefined: the
 *  device's own), options.seed is --device-seed (undefined: the device as built). */
export function createDevice(options: { inputCount?: number; seed?: number }): Device {
  return new PhotonicMesh(options.inputCount ?? 2, options.seed ?? 1);
}

class PhotonicMesh implements Device {
  readonly name: string;
  readonly controlCount = 5;
  readonly inputCount: number;
  readonly electrodeCount: number;
  readonly controlRangeV: Array<[number, number]>;
  readonly inputRangeV: Array<[number, number]>;
  readonly outputUnit = "nA";
  readonly capabilities = [] as const;
  private readonly transmission: Float64Array; // a_k
  private readonly phase: Float64Array; // φ_k
  private readonly radiansPerV: Float64Array; // M, PATHS × electrodeCount

  constructor(inputCount: number, seed: number) {
    this.name = `photonic mesh (seed ${seed})`;
    this.inputCount = inputCount;
    this.electrodeCount = this.controlCount + inputCount;
    this.controlRangeV = Array.from({ length: this.controlCount }, () => [-1, 1]);
    this.inputRangeV = Array.from({ length: inputCount }, () => [-1, 1]);
    const rng = new Rng(seed);
    this.transmission = Float64Array.from({ length: PATHS }, () => rng.between(0.5, 1));
    this.phase = Float64Array.from({ length: PATHS }, () => rng.between(0, 2 * Math.PI));
    this.radiansPerV = Float64Array.from({ length: PATHS * this.electrodeCount }, () => rng.between(-MAX_RADIANS_PER_V, MAX_RADIANS_PER_V));
  }

  /** The recombined field Σ a_k e^{iθ_k}, as [re, im], and each path's θ_k in `angles`. */
  private field(voltages: ArrayLike<number>, angles: Float64Array): [number, number] {
    let re = 0, im = 0;
    for (let k = 0; k < PATHS; k++) {
      let theta = this.phase[k];
      for (let j = 0; j < this.electrodeCount; j++) theta += this.radiansPerV[k * this.electrodeCount + j] * voltages[j];
      angles[k] = theta;
      re += this.transmission[k] * Math.cos(theta);
      im += this.transmission[k] * Math.sin(theta);
    }
    return [re, im];
  }

  private get scale(): number {
    const total = this.transmission.reduce((sum, a) => sum + a, 0);
    return PEAK_NA / (total * total);
  }

  output(voltages: Float64Array | Float32Array): number {
    const [re, im] = this.field(voltages, new Float64Array(PATHS));
    return this.scale * (re * re + im * im);
  }

  /** ∂y/∂v_j = scale · 2 Σ_k a_k M_kj (im cos θ_k − re sin θ_k), for each control j. */
  outputGradient(voltages: Float64Array | Float32Array): Float64Array {
    const angles = new Float64Array(PATHS);
    const [re, im] = this.field(voltages, angles);
    const gradient = new Float64Array(this.controlCount);
    for (let k = 0; k < PATHS; k++) {
      const along = 2 * this.scale * this.transmission[k] * (im * Math.cos(angles[k]) - re * Math.sin(angles[k]));
      for (let j = 0; j < this.controlCount; j++) gradient[j] += along * this.radiansPerV[k * this.electrodeCount + j];
    }
    return gradient;
  }
}
