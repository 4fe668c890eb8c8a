// The resistor-network methods of Lin, Desai, Barrows and Caravelli's "How to Train Your
// Resistive Network" family, beside HGE on the same simulated network (host/devices/resistor.ts):
// - analytic: the exact Kirchhoff (adjoint) gradient of a model of the network as designed,
//   evaluated at the measured outputs; exact while the model matches, biased by fabrication spread;
// - coupled: coupled learning (Stern et al., PRX 2021), free and output-clamped equilibria and the
//   local rule Δk = (α/2η)[(ΔV^F)² − (ΔV^C)²] at every edge;
// - ep: equilibrium propagation with currents injected at the outputs, symmetric ±β by default
//   (the higher-order member of Generalized Equilibrium Propagation).
// Every equilibrium is one settle + one window of device time, measured through Instrument (the
// module's chain and noise); edge drops are read on their own channels in the same window.
//
// Cost per case C_p = ½ Σ_o (V_o − T_o)², so the task's MSE over N = cases × outputs entries is
// L = (2/N) Σ_p C_p. One update per epoch (all cases, then one step): the task's loss and its
// success test are over the batch, the nudges of one epoch are all taken at one set of gate
// voltages (so the free states double as the epoch's evaluation), and the module updates once per
// epoch too, so iterations compare one to one. In hardware each edge would integrate its rule's
// output over the epoch on its gate (a capacitor), which is the same batch step.
import type { Device } from "../devices/device.ts";
import { ResistorNetwork, edgeConductanceSlopeSPerV, type Equilibrium, type OutputDrive } from "../devices/resistor.ts";
import { TrainConfigError } from "../errors.ts";
import { Rng, noiseStream } from "../noise.ts";
import { meanSquaredError } from "../tasks/regression.ts";
import type { AnyTask, Task } from "../tasks/task.ts";
import { criterionName, initialVoltages, solvedEpochsOf, taskMargin, type TrainOptions } from "../train.ts";
import { INSTRUMENT_READS, Instrument, measuredAs, type InstrumentSettings } from "./instrument.ts";
import { BUDGET_SLACK_SECONDS, Breather, Confirmation, type Budget, type Method, type Result, type RunContext } from "./method.ts";
import { ControlOptimiser, OPTIMISER_READS, optimiserSettings } from "./optimiser.ts";

// ---------------------------------------------------------------- settings

/** The methods' own settings (context.options, beside the TrainOptions they share with the
 *  module: optimiser, learningRate, beta1, beta2, windowSamples, settleSamples, noise, chain,
 *  solvedEpochs, initialV). */
export interface ResistiveOptions {
  /** analytic: share of the edges trained, a seeded random subset (0 < f ≤ 1; the rest keep
   *  their starting gates). Lin et al. report that training a subset costs little. */
  updateFraction: number;
  /** coupled: η, how far the clamp moves each output from its free value toward the target. */
  clampFraction: number;
  /** ep: β in siemens; the current −β·∂C_p/∂V_o = −β(V_o − T_o) is pushed into each output. */
  injectionS: number;
  /** ep: nudge with +β and −β (bias O(β²)) rather than free and +β (bias O(β)). */
  symmetricNudge: boolean;
}

/**
 * Defaults. updateFraction 1: every edge, the paper's baseline. clampFraction 0.1: the clamp
 * moves each output a tenth of the way to its target; injectionS 1e-4 S: an output node of the
 * default network sees 2–5 mS to the rest (measured at seeds 1–3), so the current moves it 2–5%
 * of its error. Small enough that the one-sided nudge bias is a few per cent (the ±β rule has
 * none in this network: its drops are linear in the nudge), large enough that the drop
 * differences stand above one window's noise on a drop (0.1 mV white per sample, ~5 µV per
 * window). On the regression task, with Adam, 0.03–1 and 3e-5–1e-3 S all solved 5 of 5 seeds in
 * the same number of epochs: the setting matters for plain SGD and for noisier readouts.
 */
export const RESISTIVE_DEFAULTS: ResistiveOptions = { updateFraction: 1, clampFraction: 0.1, injectionS: 1e-4, symmetricNudge: true };

/** A number setting's range: from `low` (0: any number above 0) to `high`, both taken; what it
 *  is, its unit, and why the range ends where it does, for the refusal. */
interface NumberRange {
  low: number;
  high: number;
  noun: string;
  unit?: string;
  why?: string;
}

/**
 * The number settings' ranges, the one place each is declared. The nudges have a floor: the
 * rules divide a difference of squared drops by the nudge (contrastiveEstimate), so a nudge
 * that moves the drops by less than a double resolves of them (about 1e-16 of a drop) estimates
 * rounding error, and one far enough below overflows the estimate to ∞ (clampFraction 1e-315,
 * injectionS 5e-324: every gate went to NaN and the network's solve failed). Measured on the
 * default network, noise-free, converters finer than any chain (60 bits): coupled's estimate
 * keeps cosine ≥ 0.99 with the adjoint gradient down to η = 1e-14, 0.7 at 1e-15, nothing at
 * 1e-16; EP's ±β down to 1e-16 S (an output sees 2–5 mS, so β/g ≈ 1e-14 of the error), 0.97 at
 * 1e-17, nothing at 1e-18. The floors sit a hundredfold above those, and far below what the
 * chains hge offers can use (cosine 0.99 from η ≈ 1e-5 and β ≈ 1e-8 S with --no-chain and no
 * noise; 1e-2 and 1e-5 S on the default chain and noise).
 */
const NUMBER_RANGES: Record<"updateFraction" | "clampFraction" | "injectionS", NumberRange> = {
  updateFraction: { low: 0, high: 1, noun: "a fraction" },
  clampFraction: { low: 1e-12, high: 1, noun: "a fraction", why: "a smaller clamp moves the edge drops by less than a double resolves" },
  injectionS: { low: 1e-15, high: 1, noun: "a conductance", unit: " S", why: "a smaller current moves the edge drops by less than a double resolves" },
};

/** The option `key` (or its default) if it lies in its NUMBER_RANGES entry, else a one-line
 *  error naming it, its range and its default. */
function numberOption(options: Record<string, unknown>, key: keyof typeof NUMBER_RANGES): number {
  const { low, high, noun, unit = "", why } = NUMBER_RANGES[key];
  const value = options[key] ?? RESISTIVE_DEFAULTS[key];
  if (typeof value !== "number" || !(low === 0 ? value > 0 : value >= low) || !(value <= high)) {
    const range = `${low === 0 ? "(0" : `[${low}`}, ${high}]${unit}`;
    throw new TrainConfigError(key, `${key} ${String(value)} is not ${noun} in ${range} (default ${RESISTIVE_DEFAULTS[key]}${why ? `; ${why}` : ""})`);
  }
  return value;
}

// ---------------------------------------------------------------- measuring equilibria

/** The network as the instrument sees it: measure() settles it with the outputs held as the
 *  current drive says and remembers that equilibrium, so its drops can be read in the same window. */
export class EquilibriumProbe {
  readonly instrument: Instrument;
  /** Equilibria measured. */
  equilibria = 0;
  private drive?: OutputDrive;
  private last?: Equilibrium;

  constructor(readonly network: ResistorNetwork, seed: number, settings: InstrumentSettings = {}) {
    const view: Device = {
      name: network.name,
      electrodeCount: network.electrodeCount,
      controlCount: network.controlCount,
      inputCount: network.inputCount,
      controlRangeV: network.controlRangeV,
      inputRangeV: network.inputRangeV,
      outputUnit: network.outputUnit,
      capabilities: network.capabilities,
      output: (voltages) => {
        this.last = network.equilibrium(voltages, this.drive);
        return this.last.outputsV[0];
      },
      setTime: (deviceSeconds) => (network as Device).setTime?.(deviceSeconds), // (the metered network hge gives a method has one: method.ts)
    };
    this.instrument = new Instrument(view, seed, settings);
  }

  get deviceSeconds(): number {
    return this.instrument.deviceSeconds;
  }

  /** Device seconds of one equilibrium (one settle + one window). */
  get secondsPerEquilibrium(): number {
    return (this.instrument.settleSamples + this.instrument.windowSamples) / this.instrument.chain.sampleRateHz;
  }

  /** The gate and input voltages as the DAC produced them at the last measurement. */
  heldVoltages(): Float64Array {
    return this.instrument.heldVoltages();
  }

  /** Drive `voltages` (gates, then inputs), hold the outputs as `drive` says (free if
   *  undefined), settle and read one window: the output potentials (output 0 through the
   *  output chain, the others on their own channels) and, with readDrops, every edge's drop. */
  measure(voltages: ArrayLike<number>, drive: OutputDrive | undefined, readDrops: boolean): { outputsV: number[]; dropsV: number[] } {
    this.drive = drive;
    this.equilibria++;
    const first = this.instrument.measure(voltages);
    const state = this.last!;
    const others = Array.from(state.outputsV.subarray(1));
    const read = this.instrument.readChannels(readDrops ? [...others, ...state.dropsV] : others);
    return { outputsV: [first, ...read.slice(0, others.length)], dropsV: read.slice(others.length) };
  }
}

// ---------------------------------------------------------------- the rules

/**
 * The contrastive local rule shared by coupled learning and equilibrium propagation: per edge,
 * [(ΔV^nudged)² − (ΔV^reference)²] / (2·span) estimates ∂C/∂g (for EP in units of C per siemens;
 * for coupled learning times the outputs' conductance to the rest of the network), where span
 * is the nudge between the two states (η or β one-sided, 2β for ±β). Gradient descent moves
 * each conductance by −α times it: coupled learning's Δk = (α/2η)[(ΔV^F)² − (ΔV^C)²].
 */
export function contrastiveEstimate(nudgedDropsV: ArrayLike<number>, referenceDropsV: ArrayLike<number>, span: number): Float64Array {
  return Float64Array.from(nudgedDropsV, (nudged, e) => (nudged * nudged - referenceDropsV[e] ** 2) / (2 * span));
}

/** ∂C/∂g to ∂C/∂V_gate: each edge's circuit multiplies by the *nominal* slope g′(V_gate) of its
 *  own gate (a function of its gate voltage alone, e.g. a replica transistor); its fabricated
 *  slope is unknown to it, so under spread this adds a bias of the spread's size. */
export function toGateGradient(dCdG: ArrayLike<number>, gatesV: ArrayLike<number>): Float64Array {
  return Float64Array.from(dCdG, (value, e) => value * edgeConductanceSlopeSPerV(gatesV[e]));
}

/** Coupled learning on one case: the free state (inputs clamped), then the outputs clamped at
 *  V^F + η(T − V^F); the estimate of ∂C_p/∂V_gate and the free outputs. Two equilibria. */
export function coupledCase(probe: EquilibriumProbe, voltages: ArrayLike<number>, targets: ArrayLike<number>, clampFraction: number): { outputsV: number[]; gradient: Float64Array } {
  const free = probe.measure(voltages, undefined, true);
  const clampedV = free.outputsV.map((y, o) => y + clampFraction * (targets[o] - y));
  const clamped = probe.measure(voltages, { clampedV }, true);
  const gates = probe.heldVoltages();
  return { outputsV: free.outputsV, gradient: toGateGradient(contrastiveEstimate(clamped.dropsV, free.dropsV, clampFraction), gates) };
}

/** Equilibrium propagation on one case: the free state, then −β(V^F − T) injected (and +β(V^F − T)
 *  for the symmetric rule); three equilibria symmetric, two one-sided. The injected current uses
 *  the free state's measured outputs. */
export function equilibriumPropagationCase(
  probe: EquilibriumProbe, voltages: ArrayLike<number>, targets: ArrayLike<number>, injectionS: number, symmetric: boolean,
): { outputsV: number[]; gradient: Float64Array } {
  const free = probe.measure(voltages, undefined, !symmetric);
  const push = (sign: number) => ({ injectedA: free.outputsV.map((y, o) => -sign * injectionS * (y - targets[o])) });
  const plus = probe.measure(voltages, push(1), true);
  const reference = symmetric ? probe.measure(voltages, push(-1), true).dropsV : free.dropsV;
  const gates = probe.heldVoltages();
  return { outputsV: free.outputsV, gradient: toGateGradient(contrastiveEstimate(plus.dropsV, reference, symmetric ? 2 * injectionS : injectionS), gates) };
}

/** The analytic estimate for one case: ∂C_p/∂V_gate from the nominal model (graph, nominal
 *  curves) at the known gates and inputs, its drops taken with the outputs at their measured
 *  values, ∂C_p/∂V_o = measured − target. No edge readouts, no nudged states. */
export function analyticCaseGradient(model: ResistorNetwork, voltages: ArrayLike<number>, measuredV: ArrayLike<number>, targets: ArrayLike<number>): Float64Array {
  return model.gradient(voltages, Float64Array.from(measuredV, (y, o) => y - targets[o]), measuredV);
}

// ---------------------------------------------------------------- the training loop

/** What one method does per case in an epoch. */
interface CaseRule {
  /** Equilibria measured per case (device time per epoch = cases × this × settle + window). */
  equilibriaPerCase: number;
  /** Measure case `voltages` (gates then inputs) against its targets: free outputs and ∂C_p/∂V_gate. */
  caseStep(voltages: Float64Array, targets: number[]): { outputsV: number[]; gradient: Float64Array };
  /** Which gates the optimiser moves. */
  trainable: boolean[];
  settings: Record<string, unknown>;
}


function checkPairing(methodName: string, device: Device, task: AnyTask): { network: ResistorNetwork; task: Task } {
  if (!(device instanceof ResistorNetwork)) throw new TrainConfigError("device", `method ${methodName} trains resistor networks (--device resistor), not ${device.name}`);
  if (task.kind !== "cases") throw new TrainConfigError("task", `method ${methodName} trains input-case tasks, not ${task.name}`);
  if (task.outputCount !== device.outputCount) throw new TrainConfigError("task", `task ${task.name} has ${task.outputCount} outputs; ${device.name} has ${device.outputCount} (build the network with outputCount ${task.outputCount})`);
  if (task.inputCases[0]?.length !== device.inputCount) throw new TrainConfigError("task", `task ${task.name} needs ${task.inputCases[0]?.length} data inputs; ${device.name} has ${device.inputCount}`);
  return { network: device, task };
}

/** Runs `rule` epoch by epoch until the task is solved (Confirmation: the gates held while a
 *  solved epoch is confirmed, each case read at its free state alone), the next
 *  epoch would overrun the device-time budget, the iteration limit, or an abort. No restarts
 *  (the module restarts after `patience` epochs without progress; MSE on these networks has not
 *  needed one). history.gradient holds the estimate of ∂L/∂V_gate each step used; coupled
 *  learning's is in its own metric (times the outputs' conductance to the network, ~mS). */
async function runResistive(methodName: string, network: ResistorNetwork, task: Task, budget: Budget, context: RunContext, probe: EquilibriumProbe, makeRule: (gatesV: Float64Array) => CaseRule): Promise<Result> {
  const started = performance.now();
  const options = (context.options ?? {}) as Partial<TrainOptions>;
  const settings = optimiserSettings(options);
  const solvedEpochs = solvedEpochsOf(options);
  const initial = initialVoltages(network, options.initialV, context.seed);
  const gatesV = Float64Array.from(initial);
  const rule = makeRule(gatesV);
  const step = new ControlOptimiser(gatesV, network.controlRangeV, settings, rule.trainable);
  const maxIterations = budget.maxIterations ?? Number.MAX_SAFE_INTEGER;
  const cases = task.inputCases.length;
  const outputs = task.outputCount;
  const confirmation = new Confirmation(solvedEpochs);
  const history: Result["history"] = { deviceSeconds: [], loss: [], criterion: [], weights: [Array.from(gatesV)], gradient: [], caseOutputs: [] };
  const voltages = new Float64Array(network.electrodeCount);
  let caseOutputs: number[] = [];
  /** The gradient the last epoch that measured one measured, at the gates as they are while
   *  a confirmation holds them: a confirmation that fails steps along it. */
  let measuredGradient = new Float64Array(network.controlCount);
  let iteration = 0;
  let updates = 0;
  let stopped: Result["stopped"] = "iterations";
  const breather = new Breather(context.signal);
  for (;;) {
    if (context.signal?.aborted) { stopped = "interrupted"; break; }
    if (iteration >= maxIterations) { stopped = "iterations"; break; }
    // (a confirming epoch reads each case's free state alone: one equilibrium)
    const holding = confirmation.holding;
    const epochSeconds = cases * (holding ? 1 : rule.equilibriaPerCase) * probe.secondsPerEquilibrium;
    if (probe.deviceSeconds + epochSeconds > budget.deviceSeconds + BUDGET_SLACK_SECONDS) { stopped = "budget"; break; }
    // One epoch: every case measured at the same gates, the gradient summed (held: kept).
    const gradient = holding ? measuredGradient : new Float64Array(network.controlCount);
    caseOutputs = [];
    // An epoch of ep takes about a second of wall time: yield between cases so that progress
    // output and Ctrl-C get through; an aborted epoch is dropped (its device time still counts).
    let interrupted = false;
    for (let p = 0; p < cases; p++) {
      if ((interrupted = !(await breather.breathe()))) break;
      voltages.set(gatesV, 0);
      voltages.set(task.inputCases[p], network.controlCount);
      const targets = task.targets.slice(p * outputs, (p + 1) * outputs);
      if (holding) {
        caseOutputs.push(...probe.measure(voltages, undefined, false).outputsV.slice(0, outputs));
        continue;
      }
      const measured = rule.caseStep(voltages, targets);
      caseOutputs.push(...measured.outputsV.slice(0, outputs));
      for (let k = 0; k < gradient.length; k++) gradient[k] += (2 / task.targets.length) * measured.gradient[k];
    }
    if (interrupted) {
      caseOutputs = history.caseOutputs!.at(-1) ?? [];
      stopped = "interrupted";
      break;
    }
    iteration++;
    measuredGradient = gradient;
    const loss = meanSquaredError(caseOutputs, task.targets);
    const criterion = -taskMargin(task, caseOutputs); // RMS error
    const solvedNow = task.solved(caseOutputs);
    const solved = confirmation.count(solvedNow);
    history.deviceSeconds.push(probe.deviceSeconds);
    history.loss.push(loss);
    history.criterion.push(criterion);
    history.gradient!.push(Array.from(gradient));
    history.caseOutputs!.push(caseOutputs.slice());
    context.progress?.({
      iteration, deviceSeconds: probe.deviceSeconds, budget, loss, criterion, criterionName: criterionName(task), solved: solvedNow, attempt: 1,
      windowSamples: probe.instrument.windowSamples,
    });
    if (solved) {
      history.weights.push(Array.from(gatesV));
      stopped = "solved";
      break;
    }
    if (!confirmation.holding) {
      step.step(gradient);
      updates++;
    }
    history.weights.push(Array.from(gatesV));
  }
  return {
    method: methodName,
    device: network.name,
    task: task.name,
    seed: context.seed,
    ranOn: "node",
    solved: stopped === "solved",
    stopped,
    iterations: iteration,
    deviceSeconds: probe.deviceSeconds,
    wallSeconds: (performance.now() - started) / 1000,
    lossName: task.loss,
    criterionName: criterionName(task),
    criterion: history.criterion.at(-1) ?? Number.NaN,
    criterionTarget: task.criterionTarget,
    outputUnit: network.outputUnit,
    history,
    finalWeights: Array.from(gatesV),
    controlRangeV: network.controlRangeV.map(([low, high]): [number, number] => [low, high]),
    caseOutputs,
    targets: task.targets.slice(),
    caseInputsV: task.inputCases.map((inputs) => inputs.slice()),
    attempts: [{ startIteration: 0, initialV: initial }],
    counters: { equilibria: probe.equilibria, measurements: probe.instrument.measurements, samples: probe.instrument.samples, epochs: iteration, updates },
    settings: {
      window: probe.instrument.windowSamples, settle: probe.instrument.settleSamples, sampleRateHz: probe.instrument.chain.sampleRateHz,
      optimiser: settings.optimiser, learningRate: settings.learningRate, solvedEpochs, equilibriaPerCase: rule.equilibriaPerCase, ...rule.settings,
    },
  };
}

function instrumentSettings(context: RunContext): InstrumentSettings {
  const options = (context.options ?? {}) as Partial<TrainOptions>;
  return { windowSamples: options.windowSamples, settleSamples: options.settleSamples, ...measuredAs(options) };
}

/** `count` of `total` edges, a seeded random subset, as a mask. */
export function edgeSubset(total: number, fraction: number, seed: number): boolean[] {
  const count = Math.max(1, Math.round(fraction * total));
  const rng = new Rng(noiseStream(seed, 11));
  const order = Array.from({ length: total }, (_, i) => i);
  for (let i = total - 1; i > 0; i--) {
    const j = Math.floor(rng.uniform() * (i + 1));
    [order[i], order[j]] = [order[j], order[i]];
  }
  const mask = new Array<boolean>(total).fill(false);
  for (const e of order.slice(0, count)) mask[e] = true;
  return mask;
}

// ---------------------------------------------------------------- the three methods

async function trainAnalytic(device: Device, anyTask: AnyTask, budget: Budget, context: RunContext): Promise<Result> {
  const { network, task } = checkPairing("analytic", device, anyTask);
  const options = context.options ?? {};
  const updateFraction = numberOption(options, "updateFraction");
  const model = network.nominalModel();
  const probe = new EquilibriumProbe(network, context.seed, instrumentSettings(context));
  return runResistive("analytic", network, task, budget, context, probe, () => ({
    equilibriaPerCase: 1,
    trainable: edgeSubset(network.controlCount, updateFraction, context.seed),
    settings: { updateFraction, model: "nominal (graph and nominal transistor curve)", fabricationSpread: network.fabricationSpread },
    caseStep: (voltages, targets) => {
      const { outputsV } = probe.measure(voltages, undefined, false);
      return { outputsV, gradient: analyticCaseGradient(model, probe.heldVoltages(), outputsV, targets) };
    },
  }));
}

async function trainCoupled(device: Device, anyTask: AnyTask, budget: Budget, context: RunContext): Promise<Result> {
  const { network, task } = checkPairing("coupled", device, anyTask);
  const clampFraction = numberOption(context.options ?? {}, "clampFraction");
  const probe = new EquilibriumProbe(network, context.seed, instrumentSettings(context));
  return runResistive("coupled", network, task, budget, context, probe, () => ({
    equilibriaPerCase: 2,
    trainable: new Array<boolean>(network.controlCount).fill(true),
    settings: { clampFraction, gateSlope: "nominal g′(V_gate) at each edge", fabricationSpread: network.fabricationSpread },
    caseStep: (voltages, targets) => coupledCase(probe, voltages, targets, clampFraction),
  }));
}

async function trainEquilibriumPropagation(device: Device, anyTask: AnyTask, budget: Budget, context: RunContext): Promise<Result> {
  const { network, task } = checkPairing("ep", device, anyTask);
  const options = context.options ?? {};
  const injectionS = numberOption(options, "injectionS");
  const symmetricNudge = options.symmetricNudge ?? RESISTIVE_DEFAULTS.symmetricNudge;
  if (typeof symmetricNudge !== "boolean") throw new TrainConfigError("symmetricNudge", `symmetricNudge ${String(symmetricNudge)} is not true or false (default ${RESISTIVE_DEFAULTS.symmetricNudge})`);
  const probe = new EquilibriumProbe(network, context.seed, instrumentSettings(context));
  return runResistive("ep", network, task, budget, context, probe, () => ({
    equilibriaPerCase: symmetricNudge ? 3 : 2,
    trainable: new Array<boolean>(network.controlCount).fill(true),
    settings: { injectionS, symmetricNudge, gateSlope: "nominal g′(V_gate) at each edge", fabricationSpread: network.fabricationSpread },
    caseStep: (voltages, targets) => equilibriumPropagationCase(probe, voltages, targets, injectionS, symmetricNudge),
  }));
}

/** What runResistive reads besides the methods' settings: windows, chain and noise (the
 *  instrument), the starting controls and the optimiser. */
const READS: ReadonlyArray<keyof TrainOptions> = [...INSTRUMENT_READS, ...OPTIMISER_READS, "windowSamples", "settleSamples", "initialV"];

export const RESISTIVE_METHODS: Method[] = [
  {
    name: "analytic",
    summary: "exact Kirchhoff (adjoint) gradients from the network's nominal model at the measured outputs (Lin et al.); one equilibrium per case",
    needs: ["nominal-model"],
    tasks: ["cases"],
    settings: { updateFraction: RESISTIVE_DEFAULTS.updateFraction },
    losses: ["mse"],
    reads: READS,
    requires: "a nominal model of the network (its graph and transistor curve); biased by fabrication spread",
    train: trainAnalytic,
  },
  {
    name: "coupled",
    summary: "coupled learning (Stern et al.): free and output-clamped equilibria per case, the local rule (α/2η)[(ΔV^F)² − (ΔV^C)²] at every edge",
    needs: ["clamp-outputs", "edge-readouts"],
    tasks: ["cases"],
    settings: { clampFraction: RESISTIVE_DEFAULTS.clampFraction },
    losses: ["mse"],
    reads: READS,
    requires: "a clamp on every output and a local update circuit (drop readout, nominal g′) at every edge",
    train: trainCoupled,
  },
  {
    name: "ep",
    summary: "equilibrium propagation with ±β current nudges at the outputs (symmetric GEP); three equilibria per case",
    needs: ["inject-current", "edge-readouts"],
    tasks: ["cases"],
    settings: { injectionS: RESISTIVE_DEFAULTS.injectionS, symmetricNudge: RESISTIVE_DEFAULTS.symmetricNudge },
    losses: ["mse"],
    reads: READS,
    requires: "a current source on every output and a local update circuit (drop readout, nominal g′) at every edge",
    train: trainEquilibriumPropagation,
  },
];
