// A random resistive network whose edges are transistor-like conductances g(V_gate): the
// gate voltages are the controls, some nodes are clamped to the data inputs, one node is
// ground, and outputs are node potentials (V). Exact gradients by the adjoint method.
//
// Kirchhoff: L = Bᵀ diag(g) B; clamped nodes b, free nodes f: L_ff V_f = −L_fb V_b (+ any
// currents injected into free nodes). Adjoint for a cost C(V_out): L_ff λ = ∂C/∂V_f,
// ∂C/∂g_e = −ΔV_e · Δλ_e (λ = 0 on clamped nodes), then ∂C/∂V_gate,e = ∂C/∂g_e · g'(V_gate,e).
//
// A fabricated network differs from its design: each edge's curve has its own gain and
// threshold (fabricationSpread). The instance computes with its own curves; nominalModel() is
// the network as designed (same graph, nominal curves). Besides plain outputs, the network can
// be solved with its output nodes clamped or with currents injected into them, and the voltage
// drop across every edge read (coupled learning, equilibrium propagation: host/methods/resistive.ts).

import type { Capability, Device } from './device.ts';
import { choleskyFactor, choleskySolve } from './kirchhoff.ts';
import { Rng, noiseStream } from '../noise.ts';

/** Transistor-like edge conductance, siemens: g0 · softplus((V − Vth)/s) + gmin. */
export const TRANSISTOR = { maximumSlopeS: 1e-3, thresholdV: 0, softnessV: 0.2, minimumS: 1e-6 };

/** One edge's deviation from the nominal curve: g = gain · g0 · softplus((V − Vth − offset)/s) + gmin. */
export interface EdgeCurve {
  gain: number;
  thresholdOffsetV: number;
}

const NOMINAL_CURVE: EdgeCurve = { gain: 1, thresholdOffsetV: 0 };

/** Edge conductance (S) at gate voltage `gateV`: the nominal curve, or an edge's own. */
export function edgeConductanceS(gateV: number, curve: EdgeCurve = NOMINAL_CURVE): number {
  const x = (gateV - TRANSISTOR.thresholdV - curve.thresholdOffsetV) / TRANSISTOR.softnessV;
  const softplus = x > 30 ? x : Math.log1p(Math.exp(x));
  return curve.gain * TRANSISTOR.maximumSlopeS * softplus + TRANSISTOR.minimumS;
}

/** dg/dV_gate, siemens per volt: the nominal curve, or an edge's own. */
export function edgeConductanceSlopeSPerV(gateV: number, curve: EdgeCurve = NOMINAL_CURVE): number {
  const x = (gateV - TRANSISTOR.thresholdV - curve.thresholdOffsetV) / TRANSISTOR.softnessV;
  return (curve.gain * TRANSISTOR.maximumSlopeS) / TRANSISTOR.softnessV / (1 + Math.exp(-x));
}

/**
 * Default relative fabrication spread: 5%. Each edge's gain is 1 + s·z and its threshold is
 * shifted by s·z′·softnessV (z, z′ standard normal, drawn from the network's seed). Near
 * threshold, g′/g ≈ 3.6 per volt, so a shift of s·0.2 V changes the conductance by about 0.7·s:
 * both terms move each edge's conductance by a few per cent at s = 0.05, the "few %" by which
 * fabricated edges differ from nominal (DOMAIN.md); 0 makes the instance equal its design.
 */
export const DEFAULT_FABRICATION_SPREAD = 0.05;
/** The largest spread taken: 100%, far beyond any fabrication (beyond some hundreds the
 *  thresholds' shifts overflow the curves and the network has no solution). */
export const MAX_FABRICATION_SPREAD = 1;
/**
 * `edgeCount` edges on `nodeCount` nodes, the first `heldCount` held (ground, the inputs), such
 * that every control moves the output: a path through every free node in random order between
 * two random held nodes, an edge from each other held node to a random free node, then random
 * extra edges (redundant paths), none joining two held nodes. Each edge then lies on a path
 * between two different held nodes (current crosses it) and on a path from the output to a held
 * node (the output's potential depends on it): a control between two held nodes, or on a free
 * branch that meets the rest at one node, would move nothing. Edge e joins nodes [2e], [2e + 1].
 */
function drawEdges(rng: Rng, nodeCount: number, heldCount: number, edgeCount: number): Int32Array {
  const pick = (count: number) => Math.floor(rng.uniform() * count);
  const shuffled = (nodes: number[]) => {
    for (let i = nodes.length - 1; i > 0; i--) {
      const j = pick(i + 1);
      [nodes[i], nodes[j]] = [nodes[j], nodes[i]];
    }
    return nodes;
  };
  const held = shuffled(Array.from({ length: heldCount }, (_, i) => i));
  const path = [held[0], ...shuffled(Array.from({ length: nodeCount - heldCount }, (_, i) => heldCount + i)), held[1]];
  const pairs: Array<[number, number]> = [];
  const seen = new Set<number>();
  const addEdge = (a: number, b: number): void => {
    const key = Math.min(a, b) * nodeCount + Math.max(a, b);
    if (a === b || (a < heldCount && b < heldCount) || seen.has(key)) return;
    seen.add(key);
    pairs.push([a, b]);
  };
  for (let i = 1; i < path.length; i++) addEdge(path[i - 1], path[i]);
  for (const node of held.slice(2)) addEdge(node, path[1 + pick(path.length - 2)]);
  while (pairs.length < edgeCount) addEdge(pick(nodeCount), pick(nodeCount));
  return Int32Array.from(pairs.flat());
}

/** Gains are floored here so that a large spread never makes a conductance negative. */
const MINIMUM_GAIN = 0.1;

export interface ResistorOptions {
  seed?: number;
  /** Number of edges = number of controls (gates). Default 8. */
  edgeCount?: number;
  /** Default: the fewest nodes, at least max(inputCount + outputCount + 2, ⌈edgeCount / 2⌉)
   *  (mean degree about 4), that have room for edgeCount edges each touching a free node. */
  nodeCount?: number;
  inputCount?: number;
  outputCount?: number;
  /** Relative spread of the edges' curves around nominal (a fraction ≥ 0); default
   *  DEFAULT_FABRICATION_SPREAD. */
  fabricationSpread?: number;
}

/** How the output nodes are held while the network settles: free (the default), clamped at
 *  given potentials (V), or free with given currents (A) pushed into them. One entry per output. */
export type OutputDrive = { clampedV: ArrayLike<number> } | { injectedA: ArrayLike<number> };

/** One equilibrium: the output potentials and every edge's drop V_a − V_b (volts). */
export interface Equilibrium {
  outputsV: Float64Array;
  dropsV: Float64Array;
}

/** A linear system over the nodes that are not held: node → row (−1 if held), its size, and
 *  caller-owned buffers for L_ff (then its Cholesky factor), the right-hand side and V_f. */
interface FreeSystem {
  row: Int32Array;
  size: number;
  laplacian: Float64Array;
  rightHandSide: Float64Array;
  solution: Float64Array;
}

function freeSystem(nodeCount: number, isHeld: (node: number) => boolean): FreeSystem {
  const row = new Int32Array(nodeCount).fill(-1);
  let size = 0;
  for (let node = 0; node < nodeCount; node++) if (!isHeld(node)) row[node] = size++;
  return { row, size, laplacian: new Float64Array(size * size), rightHandSide: new Float64Array(size), solution: new Float64Array(size) };
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
  // the output node's potential is a positive-weighted average of the clamped ones (inputs,
  // ground) for any conductances: no gate voltage makes it fall where an input rises
  readonly risesWithInputs = true;
  readonly capabilities: readonly Capability[];
  readonly nodeCount: number;
  /** Node 0 is ground; nodes 1..inputCount are the inputs; the next outputCount nodes the outputs. */
  readonly groundNode = 0;
  readonly inputNodes: number[];
  readonly outputNodes: number[];
  /** Edge e joins edgeNodes[2e] and edgeNodes[2e + 1]. */
  readonly edgeNodes: Int32Array;
  readonly fabricationSpread: number;
  /** Each edge's curve as fabricated (all nominal when fabricationSpread is 0). */
  readonly edgeCurves: readonly EdgeCurve[];

  /** Outputs free (the plain network). */
  private readonly free: FreeSystem;
  /** Outputs clamped. */
  private readonly clamped: FreeSystem;
  private readonly nodeV: Float64Array;
  private readonly conductanceS: Float64Array;
  private readonly adjoint: Float64Array;
  private nominal?: ResistorNetwork;

  constructor(readonly options: ResistorOptions = {}) {
    const { seed = 1, edgeCount = 8, inputCount = 2, outputCount = 1, fabricationSpread = DEFAULT_FABRICATION_SPREAD } = options;
    const heldCount = inputCount + 1;
    // pairs of nodes an edge may join: not both held (such an edge would move nothing)
    const room = (nodes: number) => (nodes * (nodes - 1)) / 2 - (heldCount * (heldCount - 1)) / 2;
    let nodeCount = options.nodeCount ?? Math.max(inputCount + outputCount + 2, Math.ceil(edgeCount / 2));
    while (options.nodeCount === undefined && room(nodeCount) < edgeCount) nodeCount++;
    // the path and an edge from every other held node into it: a spanning tree
    const fewest = nodeCount - 1;
    if (inputCount < 1 || nodeCount - heldCount < outputCount + 1 || edgeCount < fewest || edgeCount > room(nodeCount)) {
      throw new Error(`ResistorNetwork: ${edgeCount} edges cannot join ${nodeCount} nodes (${heldCount} held: ground and the inputs) so that every edge touches a free node and every node is connected: between ${fewest} and ${room(nodeCount)} edges, at least one input and ${heldCount + outputCount + 1} nodes`);
    }
    if (!(fabricationSpread >= 0 && fabricationSpread <= MAX_FABRICATION_SPREAD)) {
      throw new Error(`ResistorNetwork: fabricationSpread ${fabricationSpread} is not a fraction from 0 to ${MAX_FABRICATION_SPREAD} (0 = as designed, default ${DEFAULT_FABRICATION_SPREAD})`);
    }
    this.name = `resistor-network(seed=${seed}, edges=${edgeCount}, nodes=${nodeCount}${fabricationSpread === DEFAULT_FABRICATION_SPREAD ? '' : `, spread=${fabricationSpread}`})`;
    this.controlCount = edgeCount;
    this.inputCount = inputCount;
    this.outputCount = outputCount;
    this.electrodeCount = edgeCount + inputCount;
    this.nodeCount = nodeCount;
    this.fabricationSpread = fabricationSpread;
    this.controlRangeV = Array.from({ length: edgeCount }, () => [-1, 1]);
    this.inputRangeV = Array.from({ length: inputCount }, () => [-1, 1]);
    this.inputNodes = Array.from({ length: inputCount }, (_, i) => 1 + i);
    this.outputNodes = Array.from({ length: outputCount }, (_, i) => 1 + inputCount + i);
    this.capabilities = ['clamp-outputs', 'inject-current', 'edge-readouts', 'nominal-model', ...(outputCount > 1 ? (['several-outputs'] as const) : [])];

    this.edgeNodes = drawEdges(new Rng(seed), nodeCount, heldCount, edgeCount);

    // The spread comes from its own stream: the graph does not depend on it, and one seed's
    // deviations at 5% and 20% are the same draws scaled.
    const spreadRng = new Rng(noiseStream(seed, 7));
    this.edgeCurves = Array.from({ length: edgeCount }, () => {
      const gainZ = spreadRng.normal();
      const thresholdZ = spreadRng.normal();
      return { gain: Math.max(MINIMUM_GAIN, 1 + fabricationSpread * gainZ), thresholdOffsetV: fabricationSpread * thresholdZ * TRANSISTOR.softnessV };
    });

    const isInputOrGround = (node: number) => node < heldCount;
    this.free = freeSystem(nodeCount, isInputOrGround);
    this.clamped = freeSystem(nodeCount, (node) => isInputOrGround(node) || this.outputNodes.includes(node));
    this.adjoint = new Float64Array(this.free.size);
    this.nodeV = new Float64Array(nodeCount);
    this.conductanceS = new Float64Array(edgeCount);
  }

  /** The network as designed: the same graph with every edge on the nominal curve (what a
   *  model-based method knows). The same object on every call. */
  nominalModel(): ResistorNetwork {
    if (this.fabricationSpread === 0) return this;
    return (this.nominal ??= new ResistorNetwork({ ...this.options, fabricationSpread: 0 }));
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

  /** The equilibrium at `voltages` with the outputs free, clamped or driven by currents. */
  equilibrium(voltages: ArrayLike<number>, drive?: OutputDrive): Equilibrium {
    this.solve(voltages, drive);
    const outputsV = Float64Array.from(this.outputNodes, (node) => this.nodeV[node]);
    const dropsV = new Float64Array(this.controlCount);
    for (let e = 0; e < this.controlCount; e++) dropsV[e] = this.nodeV[this.edgeNodes[2 * e]] - this.nodeV[this.edgeNodes[2 * e + 1]];
    return { outputsV, dropsV };
  }

  /**
   * ∂C/∂V_gate for every control, given ∂C/∂V_out (one entry per output): the adjoint method.
   * With `outputsV`, the edge drops come from the network with its outputs clamped at those
   * potentials instead of its own (a model evaluated at measured outputs); the adjoint is the
   * free network's either way. Equal to the plain gradient when outputsV are the network's own.
   */
  gradient(voltages: ArrayLike<number>, dCdOut: ArrayLike<number>, outputsV?: ArrayLike<number>): Float64Array {
    const { row, size, laplacian } = this.free;
    this.solve(voltages); // leaves the Cholesky factor of the free L_ff in this.free.laplacian
    this.adjoint.fill(0);
    for (let o = 0; o < this.outputCount; o++) this.adjoint[row[this.outputNodes[o]]] = dCdOut[o];
    choleskySolve(laplacian, size, this.adjoint, this.adjoint);
    if (outputsV) this.solve(voltages, { clampedV: outputsV });
    const gradient = new Float64Array(this.controlCount);
    for (let e = 0; e < this.controlCount; e++) {
      const a = this.edgeNodes[2 * e];
      const b = this.edgeNodes[2 * e + 1];
      const lambdaA = row[a] < 0 ? 0 : this.adjoint[row[a]];
      const lambdaB = row[b] < 0 ? 0 : this.adjoint[row[b]];
      const dCdG = -(this.nodeV[a] - this.nodeV[b]) * (lambdaA - lambdaB);
      gradient[e] = dCdG * edgeConductanceSlopeSPerV(voltages[e], this.edgeCurves[e]);
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
      if (this.free.row[node] >= 0 && magnitude[node] > 0) worst = Math.max(worst, Math.abs(net[node]) / magnitude[node]);
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
    const g = Float64Array.from({ length: this.controlCount }, (_, e) => edgeConductanceS(voltages[e], this.edgeCurves[e]));
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

  /** Conductances, then L_ff V_f = −L_fb V_b (+ injected currents) by Cholesky; fills nodeV. */
  private solve(voltages: ArrayLike<number>, drive?: OutputDrive): void {
    const system = drive && 'clampedV' in drive ? this.clamped : this.free;
    const { row, size, laplacian: a, rightHandSide: b, solution } = system;
    a.fill(0);
    b.fill(0);
    this.nodeV[this.groundNode] = 0;
    for (let i = 0; i < this.inputCount; i++) this.nodeV[this.inputNodes[i]] = voltages[this.controlCount + i];
    if (drive && 'clampedV' in drive) for (let o = 0; o < this.outputCount; o++) this.nodeV[this.outputNodes[o]] = drive.clampedV[o];
    if (drive && 'injectedA' in drive) for (let o = 0; o < this.outputCount; o++) b[row[this.outputNodes[o]]] += drive.injectedA[o];
    for (let e = 0; e < this.controlCount; e++) {
      const g = edgeConductanceS(voltages[e], this.edgeCurves[e]);
      this.conductanceS[e] = g;
      const p = this.edgeNodes[2 * e];
      const q = this.edgeNodes[2 * e + 1];
      const rowP = row[p];
      const rowQ = row[q];
      if (rowP >= 0) a[rowP * size + rowP] += g;
      if (rowQ >= 0) a[rowQ * size + rowQ] += g;
      if (rowP >= 0 && rowQ >= 0) a[Math.max(rowP, rowQ) * size + Math.min(rowP, rowQ)] -= g; // lower triangle
      else if (rowP >= 0) b[rowP] += g * this.nodeV[q];
      else if (rowQ >= 0) b[rowQ] += g * this.nodeV[p];
    }
    choleskyFactor(a, size);
    choleskySolve(a, size, b, solution);
    for (let node = 0; node < this.nodeCount; node++) {
      if (row[node] >= 0) this.nodeV[node] = solution[row[node]];
    }
  }
}
