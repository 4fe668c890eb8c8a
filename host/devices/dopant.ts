// A dopant-network processing unit (DNPU) as a hopping-conductance network: seeded dopant
// sites in a disk, 8 electrodes on its rim (5 controls, 2 data inputs, 1 grounded output).
// Electrode voltages shift the site energies electrostatically, which makes the output
// current non-monotonic in the voltages (what lets a DNPU compute XOR).
//
// Physics (linear response, Ambegaokar–Halperin–Langer style, quasi-static):
// - Electrostatics: φ_i = Σ_e w_ie V_e, with w_ie the Poisson-kernel weight of electrode
//   arc e seen from site i: the exact Laplace solution in the disk when the rim between
//   electrodes is held at 0 V (grounded surroundings).
// - Site energy relative to the Fermi level: ε_i = ε0_i − leverArm · φ_i (eV), ε0 uniform
//   disorder. Electrodes are metals at the Fermi level (ε = 0).
// - Miller–Abrahams equilibrium hopping conductance between i and j (x = ε/kT, f Fermi):
//   G_ij ∝ exp(−2 r_ij / a) · f(x_i) (1 − f(x_j)) · min(1, e^{x_i − x_j})
//        = exp(−2 r_ij / a) · e^{min(x_i, x_j)} / ((1 + e^{x_i}) (1 + e^{x_j})),
//   symmetric and largest when both levels sit at the Fermi level. e^{min(x, y)} is replaced
//   by the harmonic soft-min 1/(e^{−x} + e^{−y}) (within a factor 2), so the network is
//   analytic in the voltages.
// - Kirchhoff: electrodes are clamped nodes, sites free; L_ff V_f = −L_fb V_b by Cholesky.
//   Output = current from the network into the grounded output electrode, in nA.
//
// Evaluation cost (issue 12): the output is c·φ with L_ff φ = b, so with L_ff = L·Lᵀ it is
// (L⁻¹c)·(L⁻¹b). Both forward substitutions ride along the factorisation as two extra rows,
// and no back substitution is needed for the output. Everything that depends on the voltages
// runs in dopant-kernel.wat (WebAssembly SIMD, including its own e^x, within 1 ulp of
// Math.exp); this class lays out the fixed quantities in the kernel's memory once.

import type { Device } from './device.ts';
import { instantiateDopantKernel, type DopantKernel } from './dopant-kernel.ts';
import { Rng } from '../noise.ts';

export interface DopantParameters {
  seed: number;
  siteCount: number;
  /** Disk radius in units of the localisation length a. */
  radiusOverLocalisationLength: number;
  /** Fraction of the rim covered by the 8 electrode arcs. */
  electrodeCoverage: number;
  /** Thermal energy kT, eV (77 K ≈ 0.00664 eV). */
  thermalEnergyEV: number;
  /** Full width of the uniform site-energy disorder, eV. */
  disorderEV: number;
  /** Site-energy shift per volt of local electrostatic potential, eV/V. */
  leverArmEVPerV: number;
  /** Angular slot (0..7, counter-clockwise) of each electrode, in voltage order, then the output. */
  electrodeSlots: number[];
  /** Output scale: nA per unit of dimensionless network current. 0 = choose so that the
   *  largest |output| over 256 seeded random voltage vectors is 100 nA. */
  outputScaleNA: number;
  /** How many of the 7 activation electrodes are data inputs; the rest are controls. Any
   *  count 1..6 is the same instance (same sites, same electrodes, same ranges): only the
   *  roles change, as on a real DNPU. */
  inputCount: number;
  /** Which activation electrodes are the data inputs, in input order, by electrode number
   *  (0..6: an electrode's number fixes its slot and its safe range, ELECTRODE_RANGES_V);
   *  [] = the last inputCount electrodes. Voltages are then ordered controls (ascending
   *  electrode number), then inputs in this order: each range stays with its electrode. */
  inputElectrodes: number[];
}

/**
 * The default device: 30 sites in a disk of radius 5 a at 77 K (the temperature of Boon et
 * al.'s HGE experiments), lever arm 0.5 eV/V, 0.2 eV disorder, electrodes covering half the
 * rim, output electrode between the second data input and the first control. Parameters and
 * seed 21 were chosen by trying about 60 combinations with a gate optimiser: this one
 * realises all six 2-input gates with ≥ 15 nA separation. Seeds 17 and 19 with the same
 * parameters cannot make NAND or XOR: realisable gates depend on the sample, as in hardware.
 */
export const DEFAULT_DOPANT_PARAMETERS: DopantParameters = {
  seed: 21,
  siteCount: 30,
  radiusOverLocalisationLength: 5,
  electrodeCoverage: 0.5,
  thermalEnergyEV: 0.00664,
  disorderEV: 0.2,
  leverArmEVPerV: 0.5,
  electrodeSlots: [0, 1, 2, 3, 4, 5, 6, 7],
  outputScaleNA: 0,
  inputCount: 2,
  inputElectrodes: [],
};

const ELECTRODES = 8; // 7 activation + 1 output
/** Safe range of each activation electrode by electrode number (brains-py: five at [−1.2, 0.6] V,
 *  two at [−0.7, 0.3] V); an electrode keeps its range whatever its role. */
const ELECTRODE_RANGES_V: ReadonlyArray<[number, number]> = [
  [-1.2, 0.6], [-1.2, 0.6], [-1.2, 0.6], [-1.2, 0.6], [-1.2, 0.6], [-0.7, 0.3], [-0.7, 0.3],
];
const ACTIVATION = ELECTRODES - 1; // electrodes 0..6 carry voltages; 7 is the grounded output
const OUTPUT = ELECTRODES - 1;
const ARC_SAMPLES = 16;

export class DopantNetwork implements Device {
  readonly name: string;
  readonly electrodeCount = ELECTRODES - 1;
  readonly controlCount: number;
  readonly inputCount: number;
  readonly controlRangeV: Array<[number, number]>;
  readonly inputRangeV: Array<[number, number]>;
  /** The electrode numbers (0..6) of the data inputs, in input order. */
  readonly inputElectrodes: readonly number[];
  readonly outputUnit = 'nA';
  readonly capabilities = ['assignable-inputs'] as const;
  readonly parameters: DopantParameters;
  readonly siteXY: Float64Array; // site positions, in localisation lengths, interleaved x, y
  readonly outputScaleNA: number;

  private readonly sites: number;
  private readonly padded: number; // p: sites rounded up to even (the kernel works on site pairs)
  private readonly columnRows: number; // R: n + 2 rounded up to even, entries per matrix column
  // The kernel (dopant-kernel.wat) and views of its memory, in its layout. Fixed at construction:
  private readonly kernel: DopantKernel;
  private readonly siteHopping: Float64Array; // exp(−2 r_ij / a) for i > j, at [j·R + i] (column-major)
  private readonly baseEnergyKT: Float64Array; // ε0_i / kT
  private readonly electrostaticWeight: Float64Array; // w_ie, 7 rows (activation electrode) of p
  private readonly electrodeHopping: Float64Array; // exp(−2 r_ie / a), 8 rows (electrode 0..7) of p
  private readonly electrodeHoppingSum: Float64Array; // Σ over the 8 electrodes of exp(−2 r_ie / a)
  // Written by every evaluation:
  private readonly system: Float64Array; // p columns of R: L, and rows n, n + 1: L⁻¹b, L⁻¹c (see evaluate)
  private readonly occupancy: Float64Array; // 1/(1+e^{ε_i/kT})
  private readonly boltzmann: Float64Array; // e^{−ε_i/kT}
  private readonly electrodeFactor: Float64Array; // site–electrode conductance / hopping factor
  private readonly potentialV: Float64Array; // site potentials, filled by solvePotentials only

  /** The default instance: 6 Boolean gates including XOR realisable (see tests/devices.test.ts). */
  static default(): DopantNetwork {
    return new DopantNetwork(DEFAULT_DOPANT_PARAMETERS);
  }

  constructor(parameters: Partial<DopantParameters> = {}) {
    const p = { ...DEFAULT_DOPANT_PARAMETERS, ...parameters };
    this.parameters = p;
    if (!(Number.isInteger(p.inputCount) && p.inputCount >= 1 && p.inputCount < ACTIVATION)) {
      throw new RangeError(`a DNPU has ${ACTIVATION} activation electrodes: 1 to ${ACTIVATION - 1} of them can be data inputs, not ${p.inputCount}`);
    }
    const inputElectrodes = p.inputElectrodes.length ? p.inputElectrodes : Array.from({ length: p.inputCount }, (_, i) => ACTIVATION - p.inputCount + i);
    if (inputElectrodes.length !== p.inputCount || new Set(inputElectrodes).size !== inputElectrodes.length || inputElectrodes.some((e) => !(Number.isInteger(e) && e >= 0 && e < ACTIVATION))) {
      throw new RangeError(`inputElectrodes: ${p.inputCount} distinct electrode numbers from 0 to ${ACTIVATION - 1} expected, not [${inputElectrodes.join(", ")}]`);
    }
    /** electrodeOf[e]: the electrode number driven by voltages[e] (controls, then inputs). */
    const electrodeOf = [...Array.from({ length: ACTIVATION }, (_, e) => e).filter((e) => !inputElectrodes.includes(e)), ...inputElectrodes];
    this.inputElectrodes = inputElectrodes;
    this.inputCount = p.inputCount;
    this.controlCount = ACTIVATION - p.inputCount;
    const rangesV = electrodeOf.map((e): [number, number] => [ELECTRODE_RANGES_V[e][0], ELECTRODE_RANGES_V[e][1]]);
    this.controlRangeV = rangesV.slice(0, this.controlCount);
    this.inputRangeV = rangesV.slice(this.controlCount);
    const defaultRoles = p.inputCount === DEFAULT_DOPANT_PARAMETERS.inputCount && !p.inputElectrodes.length;
    const roles = p.inputElectrodes.length ? `, inputs on electrodes ${inputElectrodes.join(',')}` : `, ${p.inputCount} inputs`;
    this.name = `dopant-network(seed=${p.seed}${defaultRoles ? '' : roles})`;
    const n = (this.sites = p.siteCount);
    const rng = new Rng(p.seed);
    const radius = p.radiusOverLocalisationLength;

    // Sites uniformly in the disk (rejection from the square), at least 0.5 a from the rim.
    this.siteXY = new Float64Array(2 * n);
    for (let i = 0; i < n; ) {
      const x = rng.between(-radius, radius);
      const y = rng.between(-radius, radius);
      if (Math.hypot(x, y) > radius - 0.5) continue;
      this.siteXY[2 * i] = x;
      this.siteXY[2 * i + 1] = y;
      i++;
    }
    const baseEnergyKT = Float64Array.from({ length: n }, () => (p.disorderEV * (rng.uniform() - 0.5)) / p.thermalEnergyEV);

    // The kernel's memory: arrays of f64 one after another; matrices column-major in columns of
    // R entries, per-site arrays in rows of p entries (see dopant-kernel.wat).
    const padded = (this.padded = n + (n % 2));
    const columnRows = (this.columnRows = n + 2 + (n % 2));
    const kernelArrays = { system: padded * columnRows, siteHopping: n * columnRows, baseEnergyKT: padded, electrostaticWeight: ACTIVATION * padded,
      electrodeHopping: ELECTRODES * padded, electrodeHoppingSum: padded, occupancy: padded, boltzmann: padded,
      electrodeFactor: padded, diagonal: padded };
    const address: Record<keyof typeof kernelArrays, number> = { ...kernelArrays };
    let bytes = 0;
    for (const name of Object.keys(kernelArrays) as Array<keyof typeof kernelArrays>) {
      address[name] = bytes;
      bytes += kernelArrays[name] * Float64Array.BYTES_PER_ELEMENT;
    }
    this.kernel = instantiateDopantKernel(bytes);
    const view = (name: keyof typeof kernelArrays) => new Float64Array(this.kernel.memory.buffer, address[name], kernelArrays[name]);
    this.system = view('system');
    this.siteHopping = view('siteHopping');
    this.baseEnergyKT = view('baseEnergyKT');
    this.electrostaticWeight = view('electrostaticWeight');
    this.electrodeHopping = view('electrodeHopping');
    this.electrodeHoppingSum = view('electrodeHoppingSum');
    this.occupancy = view('occupancy');
    this.boltzmann = view('boltzmann');
    this.electrodeFactor = view('electrodeFactor');
    this.baseEnergyKT.set(baseEnergyKT);

    // Electrode arcs: slot s centred at angle 2πs/8, arc width coverage·2π/8.
    const arcWidthRad = (p.electrodeCoverage * 2 * Math.PI) / ELECTRODES;
    for (let i = 0; i < n; i++) {
      const x = this.siteXY[2 * i];
      const y = this.siteXY[2 * i + 1];
      const r2 = x * x + y * y;
      for (let e = 0; e < ELECTRODES; e++) {
        const centreRad = (2 * Math.PI * p.electrodeSlots[e < ACTIVATION ? electrodeOf[e] : e]) / ELECTRODES;
        let weight = 0;
        let nearest = Infinity;
        for (let k = 0; k < ARC_SAMPLES; k++) {
          const angle = centreRad + arcWidthRad * ((k + 0.5) / ARC_SAMPLES - 0.5);
          const dx = radius * Math.cos(angle) - x;
          const dy = radius * Math.sin(angle) - y;
          const d2 = dx * dx + dy * dy;
          // Poisson kernel of the disk: (R² − r²) / |x − x'|², averaged over the arc.
          weight += ((radius * radius - r2) / d2) * (arcWidthRad / ARC_SAMPLES / (2 * Math.PI));
          nearest = Math.min(nearest, Math.sqrt(d2));
        }
        if (e < ACTIVATION) this.electrostaticWeight[e * padded + i] = weight;
        this.electrodeHopping[e * padded + i] = Math.exp(-2 * nearest);
      }
      // Output electrode first, then the activation electrodes: the order the sum was always taken in.
      let sum = this.electrodeHopping[OUTPUT * padded + i];
      for (let e = 0; e < ACTIVATION; e++) sum += this.electrodeHopping[e * padded + i];
      this.electrodeHoppingSum[i] = sum;
    }
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < i; j++) {
        const r = Math.hypot(this.siteXY[2 * i] - this.siteXY[2 * j], this.siteXY[2 * i + 1] - this.siteXY[2 * j + 1]);
        this.siteHopping[j * columnRows + i] = Math.exp(-2 * r);
      }
    }
    this.kernel.configure(n, padded, columnRows, address.siteHopping, address.baseEnergyKT, address.electrostaticWeight, address.electrodeHopping,
      address.electrodeHoppingSum, address.occupancy, address.boltzmann, address.electrodeFactor, address.diagonal,
      p.leverArmEVPerV / p.thermalEnergyEV);
    this.potentialV = new Float64Array(n);

    this.outputScaleNA = 1;
    if (p.outputScaleNA > 0) {
      this.outputScaleNA = p.outputScaleNA;
    } else {
      const sampleRng = new Rng(0x5ca1e);
      const v = new Float64Array(this.electrodeCount);
      let largest = 0;
      // Drawn by electrode number, so the scale is the instance's whatever the roles.
      for (let s = 0; s < 256; s++) {
        for (let electrode = 0; electrode < ACTIVATION; electrode++) {
          v[electrodeOf.indexOf(electrode)] = sampleRng.between(ELECTRODE_RANGES_V[electrode][0], ELECTRODE_RANGES_V[electrode][1]);
        }
        largest = Math.max(largest, Math.abs(this.output(v)));
      }
      this.outputScaleNA = 100 / largest;
    }
  }

  /** The same instance with `inputCount` data inputs: the given electrodes, or by default the
   *  last ones by electrode number. */
  withInputCount(inputCount: number, inputElectrodes: number[] = []): DopantNetwork {
    return new DopantNetwork({ ...this.parameters, inputCount, inputElectrodes });
  }

  /** Output current into the grounded output electrode, nA: (L⁻¹c)·(L⁻¹b), see the header. */
  output(voltages: Float64Array | Float32Array): number {
    return this.evaluate(voltages) * this.outputScaleNA;
  }

  /** Site potentials (V) for the given electrode voltages: a copy, for inspection. */
  sitePotentialsV(voltages: Float64Array | Float32Array): Float64Array {
    this.solvePotentials(voltages);
    return this.potentialV.slice();
  }

  /**
   * Kirchhoff's current law check: the largest |net current| into any site divided by that
   * site's current scale Σ G·(|V_i| + |V_j|) over its branches. ≈1e-15 for a correct solve.
   */
  currentLawResidual(voltages: Float64Array | Float32Array): number {
    this.solvePotentials(voltages);
    const n = this.sites;
    const clampedV = Float64Array.from({ length: ELECTRODES }, (_, e) => (e < ACTIVATION ? voltages[e] : 0));
    let worst = 0;
    for (let i = 0; i < n; i++) {
      let net = 0;
      let magnitude = 0;
      for (let j = 0; j < n; j++) {
        if (j === i) continue;
        const g = this.siteConductance(i, j);
        net += g * (this.potentialV[j] - this.potentialV[i]);
        magnitude += g * (Math.abs(this.potentialV[j]) + Math.abs(this.potentialV[i]));
      }
      for (let e = 0; e < ELECTRODES; e++) {
        const g = this.electrodeConductance(i, e);
        net += g * (clampedV[e] - this.potentialV[i]);
        magnitude += g * (Math.abs(clampedV[e]) + Math.abs(this.potentialV[i]));
      }
      worst = Math.max(worst, Math.abs(net) / magnitude);
    }
    return worst;
  }

  /** The site potentials φ = L⁻ᵀ(L⁻¹b), into this.potentialV (inspection only; output needs no φ). */
  private solvePotentials(voltages: Float64Array | Float32Array): void {
    this.evaluate(voltages);
    const n = this.sites;
    const rows = this.columnRows;
    const l = this.system; // L[i][j] at [j·R + i]
    const x = this.potentialV;
    for (let i = 0; i < n; i++) x[i] = l[i * rows + n];
    for (let i = n - 1; i >= 0; i--) {
      let sum = x[i];
      for (let k = i + 1; k < n; k++) sum -= l[i * rows + k] * x[k];
      x[i] = sum / l[i * rows + i];
    }
  }

  /**
   * The dimensionless output current (L⁻¹c)·(L⁻¹b) for these voltages, by the kernel.
   * Afterwards this.system holds the Cholesky factor L of the free-node Laplacian L_ff
   * (column-major, lower triangle) and, in rows n and n + 1 of each column, L⁻¹b and L⁻¹c, where
   * b_i = Σ_e G_ie V_e is the current the activation electrodes drive into site i when it sits
   * at 0 V and c_i = G_i,output is site i's conductance to the output electrode; occupancy,
   * boltzmann and electrodeFactor hold this evaluation's site quantities.
   */
  private evaluate(voltages: Float64Array | Float32Array): number {
    const current = this.kernel.evaluate(voltages[0], voltages[1], voltages[2], voltages[3], voltages[4], voltages[5], voltages[6]);
    if (Number.isNaN(current)) throw new Error('DopantNetwork: Laplacian not positive definite (non-finite voltages?)');
    return current;
  }

  /** Dimensionless site–site conductance (soft-min Miller–Abrahams form above). */
  private siteConductance(i: number, j: number): number {
    const hopping = i > j ? this.siteHopping[j * this.columnRows + i] : this.siteHopping[i * this.columnRows + j];
    return (hopping * this.occupancy[i] * this.occupancy[j]) / (this.boltzmann[i] + this.boltzmann[j]);
  }

  /** Site–electrode conductance, from the factor evaluate() stored. */
  private electrodeConductance(i: number, e: number): number {
    return this.electrodeHopping[e * this.padded + i] * this.electrodeFactor[i];
  }
}
