// The registry entries for physics-aware training (Wright et al., Nature 2022): pat, and
// pat-hge whose twin Jacobian is corrected by HGE measurements. The training itself is in
// pat-training.ts, imported on first use so that listing or running other methods does not
// load TensorFlow.js (about a second).
import type { Device } from "../devices/device.ts";
import type { AnyTask } from "../tasks/task.ts";
import type { Method } from "./method.ts";
import { DEFAULTS, type TrainOptions } from "../train.ts";
import { INSTRUMENT_READS, LEVEL_WINDOW_SAMPLES } from "./instrument.ts";
import { OPTIMISER_READS } from "./optimiser.ts";
import { hgeJacobianMisfit } from "./module.ts";

export const PAT_NAME = "pat";
export const PAT_HGE_NAME = "pat-hge";
/** pat-hge's one setting beyond pat's: case tasks measure the Jacobian by HGE (the module, one
 *  lock-in window per case) every this many epochs (a held epoch that confirms counts) and
 *  correct the twin's Jacobian by the measured difference. pat has no such setting: it never measures one (hgeEvery 0 in its
 *  PatSettings). */
export const PAT_HGE_DEFAULTS = { hgeEvery: 10 };

/** The MLP twin's defaults (twin.ts MlpTwin). tanh rather than brains-py's ReLU (7 → 5×90 → 1): a ReLU net's Jacobian is piecewise
 *  constant, and a twin is used for its Jacobian. On the default DNPU, 1000 points uniform over
 *  all 7 electrodes, 64×2 units: median cosine of the twin's control gradient against the
 *  device's 0.98 with tanh, 0.86 with ReLU; RMS error 5 nA against 10 nA (outputs span ±100 nA).
 *  brains-py's 5×90 (~33k weights) would need far more than the 1000 points (20 device-s) pat
 *  affords; 32×2 (~1.3k weights) fits 1000 points in about 5 s of CPU. */
export const MLP_TWIN_DEFAULTS: { hiddenUnits: number; hiddenLayers: number; epochs: number; batchSize: number; learningRate: number } = {
  hiddenUnits: 32,
  hiddenLayers: 2,
  epochs: 150,
  batchSize: 64,
  learningRate: 5e-3,
};

/** pat's settings (pat-hge's too, with PAT_HGE_DEFAULTS); every one can be set by name in
 *  RunContext.options (patSettings checks it: the sizes, counts and epochs against PAT_LIMITS,
 *  pat-training.ts). */
export const PAT_DEFAULTS = {
  /** A plain reading (instrument.ts): its noise is far below the twin's error. */
  windowSamples: LEVEL_WINDOW_SAMPLES,
  settleSamples: DEFAULTS.settleSamples,
  /** Measured points the twin is fitted to: 1000 × 12 ms = 12 s of device time. */
  sweepPoints: 1000,
  hiddenUnits: MLP_TWIN_DEFAULTS.hiddenUnits,
  hiddenLayers: MLP_TWIN_DEFAULTS.hiddenLayers,
  twinEpochs: MLP_TWIN_DEFAULTS.epochs,
  twinBatchSize: MLP_TWIN_DEFAULTS.batchSize,
  twinLearningRate: MLP_TWIN_DEFAULTS.learningRate,
  /** Adam on the controls (the module's rule, host/methods/optimiser.ts) at 0.1 V: the
   *  module's 0.2 V, tuned for HGE on XOR, left pat short of 90% on iris from seed 1. */
  learningRate: 0.1,
  /** Case tasks: a start whose criterion has not improved for this many updates is abandoned
   *  for the next seeded start, as the module does (corrsig has local minima); 0 = never. */
  patience: DEFAULTS.patience,
  /** Data sets: control settings per sample (physical features), and the digital readout's
   *  Adam steps on each epoch's measured features (no device time) and its learning rate. */
  featureSettings: 1,
  readoutSteps: 200,
  readoutLearningRate: 0.05,
};
/** pat's settings that only data sets read (the physical features, the digital readout) and
 *  those only input-case tasks read (their restarts): patSettings refuses the other kind's. */
export const PAT_DATASET_ONLY = ["featureSettings", "readoutSteps", "readoutLearningRate"] as const;
export const PAT_CASES_ONLY = ["patience"] as const;

/** A run's settings: pat's, and how often it measures an HGE Jacobian (0 for pat: never). */
export type PatSettings = typeof PAT_DEFAULTS & typeof PAT_HGE_DEFAULTS;

/**
 * The most electrodes pat's twin takes (its inputs): the twin's sweep holds sweepPoints
 * voltages of every electrode and its first layer hiddenUnits weights each. At the defaults one
 * update took 43 s here with 2,000 controls and 4.5 min with 10,000 (nearly all of it the twin's
 * fit, which grows with the electrodes); with 1,000,000 the sweep ran out of memory. pat-hge
 * drives the device through the module too, whose limits (hgeJacobianMisfit) are far lower.
 */
export const PAT_MAX_ELECTRODES = 4096;

/** Why pat cannot train on `device` (too many electrodes for its twin), or undefined. */
export function patMisfit(device: Device, task: AnyTask): string | undefined {
  if (device.electrodeCount > PAT_MAX_ELECTRODES) return `its twin takes at most ${PAT_MAX_ELECTRODES} electrodes (its sweep and first layer grow with them: 10,000 took minutes an update); ${device.name} has ${device.electrodeCount}`;
  if (task.kind === "dataset" && device.inputCount !== task.featureCount && !(device.withInputCount && device.electrodeCount > task.featureCount)) {
    return `it trains ${task.name} through ${task.featureCount} data inputs; ${device.name} has ${device.inputCount} and cannot reassign its electrodes`;
  }
  return undefined;
}

const REQUIRES = "a digital twin fitted to device data (and a digital computer for backpropagation)";
/** Besides its settings: the sweep's and training's measurements, the controls' optimiser, the
 *  starting controls of input-case tasks, the epochs that confirm a solution, as every method
 *  (pat-training.ts). */
const READS: ReadonlyArray<keyof TrainOptions> = [...INSTRUMENT_READS, ...OPTIMISER_READS, "initialV", "solvedEpochs"];

export const PAT_METHOD: Method = {
  name: PAT_NAME,
  summary: "physics-aware training (Wright et al. 2022): the device runs every forward pass, a digital twin fitted to a measured sweep supplies the backward pass",
  needs: [],
  misfit: patMisfit,
  tasks: ["cases", "dataset"],
  settings: PAT_DEFAULTS,
  reads: READS,
  requires: REQUIRES,
  train: async (device, task, budget, context) => (await import("./pat-training.ts")).trainPat(device, task, budget, context, {}, PAT_NAME),
};

export const PAT_HGE_METHOD: Method = {
  name: PAT_HGE_NAME,
  summary: `pat whose twin Jacobian is corrected every ${PAT_HGE_DEFAULTS.hgeEvery} epochs by the Jacobian HGE measures (one lock-in window per case; the first also fits the chain's lag, the module's calibration epochs)`,
  needs: [],
  misfit: hgeJacobianMisfit,
  tasks: ["cases"],
  settings: Object.fromEntries(Object.entries({ ...PAT_DEFAULTS, ...PAT_HGE_DEFAULTS }).filter(([key]) => !(PAT_DATASET_ONLY as readonly string[]).includes(key))),
  reads: READS,
  requires: REQUIRES,
  train: async (device, task, budget, context) => (await import("./pat-training.ts")).trainPat(device, task, budget, context, {}, PAT_HGE_NAME),
};
