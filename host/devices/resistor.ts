// A random resistive network whose edges are transistor-like conductances g(V_gate): the
// gate voltages are the controls, some nodes are clamped to the data inputs, one node is
// ground, and outputs are node potentials (V). Exact gradients by the adjoint method.
//
// Kirchhoff: L = Bᵀ diag(g) B; clamped nodes b, free nodes f: L_ff V_f = −L_fb V_b.
// Adjoint for a cost C(V_out): L_ff λ = ∂C/∂V_f, ∂C/∂g_e = −ΔV_e · Δλ_e (λ = 0 on clamped
// nodes), then ∂C/∂V_gate,e = ∂C/∂g_e · g'(V_gate,e).

import type { Device } from './device.ts';
import { choleskyFactor, choleskySolve } from './kirchhoff.ts';
import { Rng } from '../noise.ts';

/** Transistor-like edge conductance, siemens: g0 · softplus((V − Vth)/s) + gmin. */
export const TRANSISTOR = { maximumSlopeS: 1e-3, thresholdV: 0, softnessV: 0.2, minimumS: 1e-6 };

export function edgeConductanceS(gateV: number): number {
  const x = (gateV - TRANSISTOR.thresholdV) / TRANSISTOR.softnessV;
  const softplus = x > 30 ? x : Math.log1p(Math.exp(x));
  return TRANSISTOR.maximumSlopeS * softplus + TRANSISTOR.minimumS;
}

/** dg/dV_gate, siemens per volt. */
export function edgeConductanceSlopeSPerV(gateV: number): number {
  const x = (gateV - TRANSISTOR.thresholdV) / TRANSISTOR.softnessV;
  return TRANSISTOR.maximumSlopeS / TRANSISTOR.softnessV / (1 + Math.exp(-x));
}

export interface ResistorOptions {
  seed?: number;
  /** Number of edges = number of controls (gates). Default 8. */
  edgeCount?: number;
  /** Default max(inputCount + outputCount + 2, ⌈edgeCount / 2⌉): mean degree about 4. */
  nodeCount?: number;
  inputCount?: number;
  outputCount?: number;
}

export class ResistorNetwork implements Device {
  readonly name: string;
  readonly electrodeCount: number;
  readonly controlCount: number;
  readonly inputCount: number;
  readonly outputCount: number;
  readonly controlRangeV: Array<[number, number]>;
  readonly inputRangeV: Array<[number, number]>;
  readonly outputUnit = 'V';
  readonly capabilities = ['nominal-model'] as const;
  readonly nodeCount: number;
  /** Node 0 is ground; nodes 1..inputCount are the inputs; the next outputCount nodes the outputs. */
  readonly groundNode = 0;
  readonly inputNodes: number[];
  readonly outputNodes: number[];
  /** Edge e joins edgeNodes[2e] and edgeNodes[2e + 1]. */
  readonly edgeNodes: Int32Array;

  private readonly freeIndex: Int32Array; // node → row of L_ff, or −1 if clamped
  private readonly freeCount: number;
  private readonly laplacian: Float64Array;
  private readonly rightHandSide: Float64Array;
  private readonly freeV: Float64Array;
  private readonly nodeV: Float64Array;
  private readonly conductanceS: Float64Array;
  private readonly adjoint: Float64Array;

  constructor(options: ResistorOptions = {}) {
    const { seed = 1, edgeCount = 8, inputCount = 2, outputCount = 1 } = options;
    const nodeCount = options.nodeCount ?? Math.max(inputCount + outputCount + 2, Math.ceil(edgeCount / 2));
    if (edgeCount < nodeCount - 1 || edgeCount > (nodeCount * (nodeCount - 1)) / 2) {
      throw new Error(`ResistorNetwork: ${edgeCount} edges cannot make a simple connected graph on ${nodeCount} nodes`);
    }
    this.name = `resistor-network(seed=${seed}, edges=${edgeCount}, nodes=${nodeCount})`;
    this.controlCount = edgeCount;
    this.inputCount = inputCount;
    this.outputCount = outputCount;
    this.electrodeCount = edgeCount + inputCount;
    this.nodeCount = nodeCount;
    this.controlRangeV = Array.from({ length: edgeCount }, () => [-1, 1]);
    this.inputRangeV = Array.from({ length: inputCount }, () => [-1, 1]);
    this.inputNodes = Array.from({ length: inputCount }, (_, i) => 1 + i);
    this.outputNodes = Array.from({ length: outputCount }, (_, i) => 1 + inputCount + i);

    // Random spanning tree (connected), then random extra edges (redundant paths).
    const rng = new Rng(seed);
    const order = Array.from({ length: nodeCount }, (_, i) => i);
    for (let i = nodeCount - 1; i > 0; i--) {
      const j = Math.floor(rng.uniform() * (i + 1));
      [order[i], order[j]] = [order[j], order[i]];
    }
    const pairs: Array<[number, number]> = [];
    const seen = new Set<number>();
    const addEdge = (a: number, b: number): boolean => {
      const key = Math.min(a, b) * nodeCount + Math.max(a, b);
      if (a === b || seen.has(key)) return false;
      seen.add(key);
      pairs.push([a, b]);
      return true;
    };
    for (let i = 1; i < nodeCount; i++) addEdge(order[i], order[Math.floor(rng.uniform() * i)]);
    while (pairs.length < edgeCount) {
      addEdge(Math.floor(rng.uniform() * nodeCount), Math.floor(rng.uniform() * nodeCount));
    }
    this.edgeNodes = Int32Array.from(pairs.flat());

    this.freeIndex = new Int32Array(nodeCount).fill(-1);
    let free = 0;
    for (let node = 1 + inputCount; node < nodeCount; node++) this.freeIndex[node] = free++;
    this.freeCount = free;
    this.laplacian = new Float64Array(free * free);
    this.rightHandSide = new Float64Array(free);
    this.freeV = new Float64Array(free);
    this.adjoint = new Float64Array(free);
    this.nodeV = new Float64Array(nodeCount);
    this.conductanceS = new Float64Array(edgeCount);
  }

  /** Potential of output node 0, volts. */
  output(voltages: Float64Array | Float32Array): number {
    this.solve(voltages);
    return this.nodeV[this.outputNodes[0]];
  }

  /** Potentials of all output nodes into `out`, volts. */
  outputs(voltages: Float64Array | Float32Array, out: Float64Array): void {
    this.solve(voltages);
    for (let o = 0; o < this.outputCount; o++) out[o] = this.nodeV[this.outputNodes[o]];
  }

  /** ∂C/∂V_gate for every control, given ∂C/∂V_out (one entry per output): the adjoint method. */
  gradient(voltages: Float64Array | Float32Array, dCdOut: Float64Array): Float64Array {
    this.solve(voltages); // leaves the Cholesky factor of L_ff in this.laplacian
    this.adjoint.fill(0);
    for (let o = 0; o < this.outputCount; o++) this.adjoint[this.freeIndex[this.outputNodes[o]]] = dCdOut[o];
    choleskySolve(this.laplacian, this.freeCount, this.adjoint, this.adjoint);
    const gradient = new Float64Array(this.controlCount);
    for (let e = 0; e < this.controlCount; e++) {
      const a = this.edgeNodes[2 * e];
      const b = this.edgeNodes[2 * e + 1];
      const lambdaA = this.freeIndex[a] < 0 ? 0 : this.adjoint[this.freeIndex[a]];
      const lambdaB = this.freeIndex[b] < 0 ? 0 : this.adjoint[this.freeIndex[b]];
      const dCdG = -(this.nodeV[a] - this.nodeV[b]) * (lambdaA - lambdaB);
      gradient[e] = dCdG * edgeConductanceSlopeSPerV(voltages[e]);
    }
    return gradient;
  }

  /** ∂V_out/∂V_gate for one output and every control (V/V). */
  outputGradient(voltages: Float64Array | Float32Array, outputIndex = 0): Float64Array {
    const dCdOut = new Float64Array(this.outputCount);
    dCdOut[outputIndex] = 1;
    return this.gradient(voltages, dCdOut);
  }

  /** All node potentials (V): a copy, for inspection. */
  nodePotentialsV(voltages: Float64Array | Float32Array): Float64Array {
    this.solve(voltages);
    return this.nodeV.slice();
  }

  /**
   * Kirchhoff's current law check: the largest |net current| into any free node divided by
   * that node's current scale Σ g·(|V_a| + |V_b|) over its edges (a leaf node carries no
   * current, so the sum of |branch currents| would be no scale). ≈1e-15 for a correct solve.
   */
  currentLawResidual(voltages: Float64Array | Float32Array): number {
    this.solve(voltages);
    const net = new Float64Array(this.nodeCount);
    const magnitude = new Float64Array(this.nodeCount);
    for (let e = 0; e < this.controlCount; e++) {
      const a = this.edgeNodes[2 * e];
      const b = this.edgeNodes[2 * e + 1];
      const current = this.conductanceS[e] * (this.nodeV[a] - this.nodeV[b]); // from a to b
      net[a] -= current;
      net[b] += current;
      const scale = this.conductanceS[e] * (Math.abs(this.nodeV[a]) + Math.abs(this.nodeV[b]));
      magnitude[a] += scale;
      magnitude[b] += scale;
    }
    let worst = 0;
    for (let node = 0; node < this.nodeCount; node++) {
      if (this.freeIndex[node] >= 0 && magnitude[node] > 0) worst = Math.max(worst, Math.abs(net[node]) / magnitude[node]);
    }
    return worst;
  }

  /**
   * Short-circuit transfer conductance (S) at the given gate voltages: the current into
   * `toNode` (held at 0 V) when `fromNode` is at 1 V, ground at 0 V and every other node
   * floating. Reciprocity says swapping the two nodes gives the same value.
   */
  transferConductanceS(voltages: Float64Array | Float32Array, fromNode: number, toNode: number): number {
    const n = this.nodeCount;
    const clampedV = new Map<number, number>([[this.groundNode, 0], [fromNode, 1], [toNode, 0]]);
    const row = new Int32Array(n).fill(-1);
    let free = 0;
    for (let node = 0; node < n; node++) if (!clampedV.has(node)) row[node] = free++;
    const a = new Float64Array(free * free);
    const b = new Float64Array(free);
    const g = Float64Array.from({ length: this.controlCount }, (_, e) => edgeConductanceS(voltages[e]));
    for (let e = 0; e < this.controlCount; e++) {
      const p = this.edgeNodes[2 * e];
      const q = this.edgeNodes[2 * e + 1];
      for (const [self, other] of [[p, q], [q, p]]) {
        if (row[self] < 0) continue;
        a[row[self] * free + row[self]] += g[e];
        if (row[other] >= 0) a[row[self] * free + row[other]] -= g[e];
        else b[row[self]] += g[e] * clampedV.get(other)!;
      }
    }
    const potential = new Float64Array(free);
    choleskyFactor(a, free);
    choleskySolve(a, free, b, potential);
    let current = 0;
    for (let e = 0; e < this.controlCount; e++) {
      const p = this.edgeNodes[2 * e];
      const q = this.edgeNodes[2 * e + 1];
      const voltageOf = (node: number) => (row[node] >= 0 ? potential[row[node]] : clampedV.get(node)!);
      if (q === toNode) current += g[e] * (voltageOf(p) - 0);
      if (p === toNode) current += g[e] * (voltageOf(q) - 0);
    }
    return current;
  }

  /** Conductances, then L_ff V_f = −L_fb V_b by Cholesky; fills nodeV. */
  private solve(voltages: Float64Array | Float32Array): void {
    const free = this.freeCount;
    const a = this.laplacian;
    const b = this.rightHandSide;
    a.fill(0);
    b.fill(0);
    this.nodeV[this.groundNode] = 0;
    for (let i = 0; i < this.inputCount; i++) this.nodeV[this.inputNodes[i]] = voltages[this.controlCount + i];
    for (let e = 0; e < this.controlCount; e++) {
      const g = edgeConductanceS(voltages[e]);
      this.conductanceS[e] = g;
      const p = this.edgeNodes[2 * e];
      const q = this.edgeNodes[2 * e + 1];
      const rowP = this.freeIndex[p];
      const rowQ = this.freeIndex[q];
      if (rowP >= 0) a[rowP * free + rowP] += g;
      if (rowQ >= 0) a[rowQ * free + rowQ] += g;
      if (rowP >= 0 && rowQ >= 0) a[Math.max(rowP, rowQ) * free + Math.min(rowP, rowQ)] -= g; // lower triangle
      else if (rowP >= 0) b[rowP] += g * this.nodeV[q];
      else if (rowQ >= 0) b[rowQ] += g * this.nodeV[p];
    }
    choleskyFactor(a, free);
    choleskySolve(a, free, b, this.freeV);
    for (let node = 0; node < this.nodeCount; node++) {
      const row = this.freeIndex[node];
      if (row >= 0) this.nodeV[node] = this.freeV[row];
    }
  }
}
