// Gradient fidelity: each estimator's one-window estimate of ∂y/∂w on the transistor–resistor
// network against the exact adjoint gradient, per device-time budget, noise scenario and
// amplitude normalisation; and each estimator's variance on a linear device against the
// Cramér–Rao bound 2σ²/(a²T) of a tone. The device is solved once per perturbation
// (RecordingDevice); every noise seed replays those outputs through the chain and a fresh
// controller, which is exact because the chain adds its noise after the device.
import { Controller, ControllerError, planOrderFor, type ControllerConfig } from "../controller.ts";
import { CoSimulation, type ChainModel } from "../cosim.ts";
import type { Device } from "../devices/device.ts";
import { ResistorNetwork } from "../devices/resistor.ts";
import { Rng, WhiteNoise, noiseStream } from "../noise.ts";
import { buildNoise } from "../train.ts";
import { cosine, relativeError } from "../metrics.ts";
import * as L from "../../assembly/layout.ts";
import { LaggedQuadraticDevice, PolynomialDevice, RecordingDevice, ReplayDevice } from "./devices.ts";
import {
  codePeriod, multitone, normalisedAmplitude, randomCodes, sequential, spsa, walsh,
  type Estimator, type PerturbationOptions,
} from "../methods/module.ts";

export const SAMPLE_RATE_HZ = 5000;
/** Tone peak amplitude on the resistor network's gates, volts (about 2% of the ±1 V range). */
export const TONE_AMPLITUDE_V = 0.01;
/** White noise on the network's output, volts per sample: about 10% relative error for
 *  multi-tone at the middle budget of every size. */
export const WHITE_SIGMA_V = 0.01;
/** The tone Cramér–Rao bound on E‖ĝ − g‖² over `controls` controls probed by sinusoids at peak
 *  TONE_AMPLITUDE_V for `samples` samples in white noise WHITE_SIGMA_V: N·2σ²/(a²T) (one
 *  control's variance at N = 1). ±a codes carry twice the power: their bound is half this. */
export function toneBoundSquaredError(controls: number, samples: number): number {
  return (controls * 2 * WHITE_SIGMA_V ** 2) / (TONE_AMPLITUDE_V ** 2 * samples);
}
/** 1/f noise: one-sided PSD at 1 kHz equal to the white floor's 2σ²/fs (a 1 kHz corner). */
export const PINK_PSD_AT_1KHZ = (2 * WHITE_SIGMA_V ** 2) / SAMPLE_RATE_HZ;
/** Slow drift: random walk 10 mV/√s plus a 10 mV wander with a 20 s period. */
export const DRIFT = { randomWalkPerSqrtS: 0.01, sineAmplitude: 0.01, sinePeriodS: 20 };
/** The default measurement chain of the CLI: 1 kHz first-order corner, 2 samples of delay. */
export const LOWPASS = { cornerHz: 1000, delaySamples: 2 };
/** Codes under the low-pass chain: 8 samples per chip, so the chain smears about a third of a chip. */
export const LOWPASS_CHIP_SAMPLES = 8;

export type Scenario = "white" | "pinkDrift" | "lowpass";
export type Normalisation = "peak" | "rms";

/** The network, its operating point (seeded gates in [−0.2, 0.6] V, inputs at +1 V and −1 V)
 *  and the exact ∂y/∂w there. */
export function resistorProblem(controls: number): { device: ResistorNetwork; operatingV: Float64Array; exact: Float64Array } {
  const device = new ResistorNetwork({ edgeCount: controls, seed: 1 });
  const rng = new Rng(1000 + controls);
  const operatingV = new Float64Array(device.electrodeCount);
  for (let k = 0; k < controls; k++) operatingV[k] = rng.between(-0.2, 0.6);
  operatingV[controls] = 1;
  operatingV[controls + 1] = -1;
  return { device, operatingV, exact: device.outputGradient(operatingV) };
}

/** One case at the operating point; the optimiser never runs (the first window is read). */
export function probeBase(device: Device, operatingV: ArrayLike<number>): ControllerConfig {
  const n = device.controlCount;
  return {
    sampleRateHz: SAMPLE_RATE_HZ,
    windowSamples: 1024,
    settleSamples: 0,
    tones: { plan: { bandLowHz: SAMPLE_RATE_HZ / 4, bandHighHz: SAMPLE_RATE_HZ / 2 } },
    guardBins: 0,
    controls: device.controlRangeV.map(([minV, maxV], k) => ({ amplitudeV: TONE_AMPLITUDE_V, minV, maxV, initialV: operatingV[k] })),
    inputs: device.inputRangeV.map(([minV, maxV]) => ({ minV, maxV })),
    cases: [{ inputsV: Array.from({ length: device.inputCount }, (_, i) => operatingV[n + i]), target: 0 }],
    loss: "mse",
    optimiser: "sgd",
    learningRate: 1e-30,
    calibrationEpochs: 0,
    reading: { min: -1e9, max: 1e9 },
  };
}

export interface MethodWindow {
  method: Estimator;
  /** Device samples the estimate may use (settle 0: the whole budget is window). */
  budgetSamples: number;
  amplitudeV: number;
  /** Code chip length (codes only; sequential defaults to one sweep per window). */
  chipSamples?: number;
  seed?: number;
  band?: { bandLowHz: number; bandHighHz: number };
  /** Multi-tone: the planner's order (Field.PlanOrder; default the module's, 3). */
  planOrder?: number;
}

/** The method's configuration with the longest valid window inside the budget. */
export function methodConfig(base: ControllerConfig, w: MethodWindow): ControllerConfig {
  const n = base.controls.length;
  const chip = w.chipSamples ?? 1;
  const options = (windowSamples: number, chipSamples?: number): PerturbationOptions => ({ windowSamples, amplitudesV: w.amplitudeV, chipSamples, seed: w.seed, settleSamples: 0 });
  switch (w.method) {
    case "multitone": {
      const band = w.band ?? { bandLowHz: SAMPLE_RATE_HZ / 4, bandHighHz: SAMPLE_RATE_HZ / 2 };
      return multitone(base, { ...options(w.budgetSamples), ...band, guardBins: 0, planOrder: w.planOrder });
    }
    case "sequential": {
      const sweepChip = Math.floor(w.budgetSamples / codePeriod("sequential", n) / chip) * chip;
      return sequential(base, options(sweepChip * codePeriod("sequential", n), sweepChip));
    }
    case "spsa":
    case "random":
    case "walsh": {
      const unit = codePeriod(w.method, n) * chip;
      const window = Math.floor(w.budgetSamples / unit) * unit;
      const make = w.method === "spsa" ? spsa : w.method === "random" ? randomCodes : walsh;
      return make(base, options(window, chip));
    }
    default:
      throw new Error(`${w.method}: not a probe method`);
  }
}

/** The shortest window the module's planner accepts for this multi-tone configuration's
 *  controls, band, guard and order (STATUS.PlanMinWindow after a refused plan; 0 if no window
 *  up to MAX_WINDOW_SAMPLES plans). */
export function planMinWindow(config: ControllerConfig): number {
  const shortest = 8; // WindowSamples' low bound (host/config-fields.ts)
  const controller = new Controller();
  let window = shortest;
  try {
    controller.configure({ ...config, windowSamples: shortest });
  } catch (error) {
    if (!(error instanceof ControllerError) || error.field !== "Plan") throw error;
    const exports = controller.exports;
    window = new Int32Array(exports.memory.buffer, exports.STATUS.value as number, L.STATUS_WORDS)[L.Status.PlanMinWindow];
  }
  return window;
}

/** Calibration epochs of the distortion measurement: the CLI's default (host/config-fields.ts). */
export const DISTORTION_EPOCHS = 2;
/** The distorting control device: the network's gradient plus every (v_j − v0)²(v_k − v0) and
 *  (v_j − v0)(v_k − v0)² with this coefficient, V⁻² (2f_j − f_k at 3e4·a³/4 = 7.5e-3 V). */
export const CROSS_CUBIC = 3e4;
/** The distortion is measured at budgets up to this (three windows of the budget on each
 *  device: at 128 controls and 262144 samples that would be minutes). */
export const DISTORTION_MAX_BUDGET = 16384;

export interface Distortion {
  /** STATUS after calibration: the amplitude at the probe's bin (distortion and noise) and the
   *  amplitude of noise alone, output units; the host's rule on them (planOrderFor). */
  thirdOrderAmplitude: number;
  noiseAmplitude: number;
  planOrderChosen: number;
}

/** The most samples measureDistortion runs (and a recording of it holds): DISTORTION_EPOCHS
 *  calibration epochs and the window after them. */
export function distortionSamples(config: ControllerConfig): number {
  return (DISTORTION_EPOCHS + 1) * (config.settleSamples + config.windowSamples);
}

/** The most samples probeRow runs (and a recording of it holds): settling, the window and one more. */
export function rowSamples(config: ControllerConfig): number {
  return config.settleSamples + config.windowSamples + 1;
}

/** The module's distortion probe on `device` with this configuration: DISTORTION_EPOCHS
 *  calibration epochs (one case) through the chain, then the host's rule. */
export function measureDistortion(config: ControllerConfig, device: Device, chain: ChainModel): Distortion {
  const controller = new Controller();
  controller.configure({ ...config, calibrationEpochs: DISTORTION_EPOCHS });
  const sim = new CoSimulation(controller, device, chain);
  const limit = distortionSamples(config);
  // the calibration ends with Calibrated, or LagUnfitted when the tones' phases were within the
  // noise (about 1% of noise seeds at 8 controls in 512 samples): the probe was measured either way
  const ended = L.Event.Calibrated | L.Event.LagUnfitted;
  if (sim.run(limit, (events) => (events & ended) !== 0) >= limit) throw new Error("no calibration");
  const status = controller.status();
  const windows = DISTORTION_EPOCHS * config.cases.length;
  return { thirdOrderAmplitude: status.thirdOrderAmplitude, noiseAmplitude: status.noiseAmplitude, planOrderChosen: planOrderFor(status, windows) };
}

/** Runs one window; returns the controller's Jacobian row and the samples it took. */
export function probeRow(config: ControllerConfig, device: Device, chain: ChainModel): { row: Float64Array; samples: number } {
  const controller = new Controller();
  controller.configure(config);
  const sim = new CoSimulation(controller, device, chain);
  const limit = rowSamples(config);
  const samples = sim.run(limit, (events) => (events & L.Event.WindowDone) !== 0);
  if (samples >= limit) throw new Error(`no window after ${limit - 1} samples`);
  return { row: Float64Array.from(controller.jacobianRow(0)), samples };
}

export function scenarioChain(scenario: Scenario, seed: number): ChainModel {
  const pinkDrift = scenario === "pinkDrift";
  const noise = buildNoise({ whiteSigma: WHITE_SIGMA_V, pinkPsdAt1kHz: pinkDrift ? PINK_PSD_AT_1KHZ : 0, drift: pinkDrift ? DRIFT : undefined }, SAMPLE_RATE_HZ, seed);
  const lowpass = scenario === "lowpass" ? LOWPASS : { cornerHz: 0, delaySamples: 0 };
  return { sampleRateHz: SAMPLE_RATE_HZ, noise, ...lowpass };
}


export interface FidelityJob {
  kind: "fidelity";
  controls: number;
  method: Estimator;
  budgetSamples: number;
  normalisation: Normalisation;
  scenarios: Scenario[];
  seeds: number;
  /** Random codes and SPSA: how many code seeds (device passes); noise seeds cycle over them. */
  codeSeeds: number;
  /** Multi-tone: the planner's order (default 3). */
  planOrder?: number;
  /** Multi-tone, white, T ≤ DISTORTION_MAX_BUDGET: noise seeds of the network's distortion probe
   *  (the fraction choosing order 3: the rule's false-alarm rate; default 1, seed 1 only). */
  probeSeeds?: number;
  /** Multi-tone at order 2: noise seeds of the planned set against a colliding set on the
   *  quadratic device (collisionContrast; not run without). */
  collisionSeeds?: number;
}

export interface FidelityResult {
  job: FidelityJob;
  /** Multi-tone: the shortest window the planner accepts (the job is skipped, no estimate and
   *  no scenarios, when it exceeds the budget). */
  planMinWindow?: number;
  /** Samples the estimate used (≤ budget: whole code periods). */
  samples: number;
  /** The estimate without noise (nonlinearity and code cross-talk only), first code seed. */
  noiseless: { cosine: number; relativeError: number };
  /** Per scenario, one value per noise seed. */
  scenarios: Record<string, { cosine: number[]; relativeError: number[] }>;
  /** Multi-tone, white scenario: the distortion probe on the network and on the cross-cubic
   *  device with the network's gradient (noise seed 1). */
  distortion?: { network: Distortion; crossCubic: Distortion };
  /** The network's probe over job.probeSeeds noise seeds, and without noise. */
  probe?: ProbeSeeds;
  /** Order 2 with job.collisionSeeds: the planned set against a colliding one on the quadratic device. */
  collision?: CollisionContrast;
  wallSeconds: number;
}

export function runFidelity(job: FidelityJob): FidelityResult {
  const started = performance.now();
  const { device, operatingV, exact } = resistorProblem(job.controls);
  const base = probeBase(device, operatingV);
  const randomCode = job.method === "spsa" || job.method === "random";
  const passes = randomCode ? Math.max(1, Math.min(job.codeSeeds, job.seeds)) : 1;
  const amplitudeV = normalisedAmplitude(job.method, TONE_AMPLITUDE_V, job.controls, job.normalisation);
  const lowpass = job.scenarios.includes("lowpass");
  if (lowpass && job.scenarios.length > 1) throw new Error("the low-pass scenario changes the codes' chips: give it its own job");
  const result: FidelityResult = { job, samples: 0, noiseless: { cosine: NaN, relativeError: NaN }, scenarios: {}, wallSeconds: 0 };
  const configFor = (pass: number) => {
    const config = methodConfig(base, {
      method: job.method,
      budgetSamples: job.budgetSamples,
      amplitudeV,
      seed: pass + 1,
      planOrder: job.planOrder,
      chipSamples: lowpass && job.method !== "sequential" ? LOWPASS_CHIP_SAMPLES : undefined,
      band: lowpass ? { bandLowHz: SAMPLE_RATE_HZ / 8, bandHighHz: SAMPLE_RATE_HZ / 4 } : undefined,
    });
    if (lowpass) config.lag = { delaySamples: LOWPASS.delaySamples, cornerHz: LOWPASS.cornerHz };
    return config;
  };
  if (job.method === "multitone") {
    result.planMinWindow = planMinWindow(configFor(0));
    if (!(result.planMinWindow > 0 && result.planMinWindow <= job.budgetSamples)) {
      result.wallSeconds = (performance.now() - started) / 1000;
      return result; // the planner refuses this budget: skipped
    }
  }
  for (const scenario of job.scenarios) result.scenarios[scenario] = { cosine: [], relativeError: [] };
  for (let pass = 0; pass < passes; pass++) {
    const config = configFor(pass);
    const recorder = new RecordingDevice(device, rowSamples(config));
    const clean = probeRow(config, recorder, { sampleRateHz: SAMPLE_RATE_HZ, ...(lowpass ? LOWPASS : {}) });
    result.samples = clean.samples;
    if (pass === 0) result.noiseless = { cosine: cosine(clean.row, exact), relativeError: relativeError(clean.row, exact) };
    for (let seed = 1 + pass; seed <= job.seeds; seed += passes) {
      for (const scenario of job.scenarios) {
        const { row } = probeRow(config, new ReplayDevice(device, recorder.outputs), scenarioChain(scenario, seed));
        result.scenarios[scenario].cosine.push(cosine(row, exact));
        result.scenarios[scenario].relativeError.push(relativeError(row, exact));
      }
    }
  }
  if (job.method === "multitone" && job.scenarios.includes("white") && job.budgetSamples <= DISTORTION_MAX_BUDGET) {
    const config = configFor(0);
    const cubic = new PolynomialDevice(exact, operatingV.subarray(0, job.controls), 0, 0, CROSS_CUBIC);
    const cubicConfig = { ...config, inputs: [], cases: [{ inputsV: [], target: 0 }] }; // controls only
    result.distortion = {
      network: measureDistortion(config, device, scenarioChain("white", 1)),
      crossCubic: measureDistortion(cubicConfig, cubic, scenarioChain("white", 1)),
    };
    if ((job.probeSeeds ?? 1) > 1) result.probe = probeSeeds(config, device, job.probeSeeds!);
  }
  if (job.method === "multitone" && job.planOrder === 2 && job.collisionSeeds) {
    result.collision = collisionContrast(configFor(0), exact, operatingV.subarray(0, job.controls), job.collisionSeeds);
  }
  result.wallSeconds = (performance.now() - started) / 1000;
  return result;
}

export interface ProbeSeeds {
  seeds: number;
  /** Fraction of noise seeds for which the host's rule chose order 3. */
  order3Fraction: number;
  /** STATUS.ThirdOrderAmplitude without noise: the device's own part at the probe's bin (V). */
  noiselessThirdOrderAmplitude: number;
  /** RMS over the seeds of STATUS.NoiseAmplitude (V). */
  noiseAmplitude: number;
}

/** The distortion probe on `device` over `seeds` white-noise seeds: the device is recorded once
 *  (calibration does not move the operating point: the optimiser does not step) and replayed. */
export function probeSeeds(config: ControllerConfig, device: Device, seeds: number): ProbeSeeds {
  const recorder = new RecordingDevice(device, distortionSamples(config));
  const noiseless = measureDistortion(config, recorder, { sampleRateHz: SAMPLE_RATE_HZ });
  let order3 = 0;
  let noisePower = 0;
  for (let seed = 1; seed <= seeds; seed++) {
    const d = measureDistortion(config, new ReplayDevice(device, recorder.outputs), scenarioChain("white", seed));
    if (d.planOrderChosen === 3) order3++;
    noisePower += d.noiseAmplitude ** 2 / seeds;
  }
  return { seeds, order3Fraction: order3 / seeds, noiselessThirdOrderAmplitude: noiseless.thirdOrderAmplitude, noiseAmplitude: Math.sqrt(noisePower) };
}

/** The quadratic devices: the network's gradient plus every (v_j − v0)(v_k − v0), j < k, with
 *  this coefficient, V⁻¹ (f_j ± f_k at PAIR_QUADRATIC·a²/2 = 1 mV each, against the noise on
 *  a tone's in-phase amplitude, σ√(2/T) = 0.22 mV at 4096 samples); the lagged one takes the
 *  products after a first-order low-pass at QUADRATIC_LAG_HZ (tones 1250–2500 Hz: about 51–68°
 *  late). */
export const PAIR_QUADRATIC = 20;
export const QUADRATIC_LAG_HZ = 1000;
/** Settling before the lagged device's window: 32 samples, 25 time constants of the low-pass. */
export const QUADRATIC_SETTLE_SAMPLES = 32;
/** The colliding set's first bin: at 128 controls every tone of bins 40…167 is hit by a sum
 *  (81…333) or a difference (1…127) of two others (TONE_HITS says how many, at any N). */
export const COLLIDING_FIRST_BIN = 40;

export interface CollisionContrast {
  seeds: number;
  /** Tones hit by a second-order product (TONE_HITS bit 2), per set. */
  plannedHits: number;
  collidingHits: number;
  /** Per device (static: PolynomialDevice; lagged: LaggedQuadraticDevice), RMS over noise
   *  seeds of ‖ĝ − g‖/‖g‖ over the tone bound, for the order-2 plan and the colliding set. */
  static: { planned: number; colliding: number };
  lagged: { planned: number; colliding: number };
}

/** What the order-2 plan buys: its tones against explicit ones on COLLIDING_FIRST_BIN…, on the
 *  quadratic devices (gradient g at the operating point), same window, amplitude and noise seeds. */
export function collisionContrast(config: ControllerConfig, gradient: Float64Array, centerV: ArrayLike<number>, seeds: number): CollisionContrast {
  const n = gradient.length;
  const planned: ControllerConfig = { ...config, inputs: [], cases: [{ inputsV: [], target: 0 }] }; // controls only
  const colliding: ControllerConfig = { ...planned, tones: { explicit: true }, controls: planned.controls.map((c, k) => ({ ...c, toneBin: COLLIDING_FIRST_BIN + k })) };
  const bound = Math.sqrt(toneBoundSquaredError(n, config.windowSamples)) / Math.hypot(...gradient);
  const hits = (cfg: ControllerConfig) => {
    const controller = new Controller();
    controller.configure(cfg);
    return Array.from(controller.toneHits()).filter((h) => (h & 2) !== 0).length;
  };
  const errorOverBound = (cfg: ControllerConfig, device: () => Device) => {
    let squares = 0;
    for (let seed = 1; seed <= seeds; seed++) squares += relativeError(probeRow(cfg, device(), scenarioChain("white", seed)).row, gradient) ** 2;
    return Math.sqrt(squares / seeds) / bound;
  };
  const staticDevice = new PolynomialDevice(gradient, centerV, 0, 0, 0, PAIR_QUADRATIC); // stateless: one for all runs
  // the low-pass starts at rest: its transient would spread over every bin, so the tones run
  // QUADRATIC_SETTLE_SAMPLES before the window
  const settled = (cfg: ControllerConfig): ControllerConfig => ({ ...cfg, settleSamples: QUADRATIC_SETTLE_SAMPLES });
  const lagged = () => new LaggedQuadraticDevice(gradient, centerV, PAIR_QUADRATIC, QUADRATIC_LAG_HZ, SAMPLE_RATE_HZ);
  return {
    seeds, plannedHits: hits(planned), collidingHits: hits(colliding),
    static: { planned: errorOverBound(planned, () => staticDevice), colliding: errorOverBound(colliding, () => staticDevice) },
    lagged: { planned: errorOverBound(settled(planned), lagged), colliding: errorOverBound(settled(colliding), lagged) },
  };
}

export interface LinearJob {
  kind: "linear";
  controls: number;
  method: Estimator;
  /** The window; multi-tone at order 3 lengthens it to the planner's shortest when it is below. */
  windowSamples: number;
  seeds: number;
  /** Multi-tone: the planner's order (default 3). */
  planOrder?: number;
}

export interface LinearResult {
  job: LinearJob;
  samples: number;
  /** Mean over controls of var(ĝ_k) / (2σ²/(a²T)), T the samples used. */
  varianceOverBound: number;
  /** Largest |mean_k − g_k| / (sd_k/√seeds) over controls. */
  worstBiasZ: number;
  wallSeconds: number;
}

/** Each estimator on the linear device with the network's gradient, white noise only, equal
 *  peak amplitude: its variance in units of the tone's bound, and its bias in standard errors. */
export function runLinear(job: LinearJob): LinearResult {
  const started = performance.now();
  const { operatingV, exact } = resistorProblem(job.controls);
  const device = new PolynomialDevice(exact, operatingV.subarray(0, job.controls), 0.1);
  const base = probeBase(device, operatingV);
  const n = job.controls;
  const sum = new Float64Array(n);
  const sumSquares = new Float64Array(n);
  let samples = 0;
  const window = (budgetSamples: number) => ({ method: job.method, budgetSamples, amplitudeV: TONE_AMPLITUDE_V, planOrder: job.planOrder });
  const budget = job.method === "multitone" ? Math.max(job.windowSamples, planMinWindow(methodConfig(base, window(job.windowSamples)))) : job.windowSamples;
  for (let seed = 1; seed <= job.seeds; seed++) {
    const config = methodConfig(base, { ...window(budget), seed });
    const chain: ChainModel = { sampleRateHz: SAMPLE_RATE_HZ, noise: new WhiteNoise(WHITE_SIGMA_V, noiseStream(seed, 1)) };
    const { row, samples: used } = probeRow(config, device, chain);
    samples = used;
    for (let k = 0; k < n; k++) {
      sum[k] += row[k];
      sumSquares[k] += row[k] * row[k];
    }
  }
  const bound = toneBoundSquaredError(1, samples);
  let ratio = 0;
  let worst = 0;
  for (let k = 0; k < n; k++) {
    const mean = sum[k] / job.seeds;
    const variance = (sumSquares[k] - job.seeds * mean * mean) / (job.seeds - 1);
    ratio += variance / bound / n;
    worst = Math.max(worst, Math.abs(mean - exact[k]) / Math.sqrt(variance / job.seeds));
  }
  return { job, samples, varianceOverBound: ratio, worstBiasZ: worst, wallSeconds: (performance.now() - started) / 1000 };
}
