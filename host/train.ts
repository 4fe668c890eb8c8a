// The training driver: builds the measurement chain and the controller's configuration for a
// device and a task, runs the closed loop sample by sample until the task is solved or the
// iteration limit, and returns the whole history. Used by the `hge` command, tests and benches.
// Reproducible: every random choice (noise, starting voltages) comes from `seed`.
import { isDeepStrictEqual } from "node:util";
import { electrodeRangesV, type Device } from "./devices/device.ts";
import type { AnyTask, Task } from "./tasks/task.ts";
import { gateMargin } from "./tasks/gates.ts";
import { Controller, ControllerError, OPTIMISERS, perturbsWithTones, planOrderFor, type ControllerConfig, type ControllerStatus, type GradientName, type LossName, type OptimiserName } from "./controller.ts";
import { CoSimulation, readingLimits, type ChainModel } from "./cosim.ts";
import { Drift, NoiseChain, PinkNoise, Rng, Spikes, WhiteNoise, noiseStream, type DriftOptions, type NoiseSource } from "./noise.ts";
import * as L from "../assembly/layout.ts";
import { TrainConfigError } from "./errors.ts";
import { defaultOf } from "./config-fields.ts";
import { maxOf } from "./metrics.ts";
import { BUDGET_SLACK_SECONDS, Confirmation, deviceFaultOf, type CriterionName, type Progress, type Result, type Stall, type StopReason } from "./methods/method.ts";

/** Noise added to the device output, in the device's output unit (nA for the DNPU). */
export interface NoiseOptions {
  /** Gaussian white noise, standard deviation per sample. */
  whiteSigma: number;
  /** 1/f noise: one-sided PSD at 1 kHz, unit²/Hz (0 = none). */
  pinkPsdAt1kHz: number;
  drift?: DriftOptions;
  spikes?: { ratePerS: number; amplitude: number };
}

/** The measurement chain between the controller and the device. */
export interface ChainOptions {
  sampleRateHz: number;
  dacBits: number;
  /** The DAC's output range, volts: covers every electrode. */
  dacRangeV: [number, number];
  adcBits: number;
  /** What the ADC reads, volts (a unipolar converter's starts at 0); it saturates beyond. */
  adcRangeV: [number, number];
  /** Transimpedance amplification: output units (nA) per volt at the ADC. */
  transimpedancePerV: number;
  /** The readings are made as a board's firmware makes them (cosim.ts: AdcModel.f32Scaling): a
   *  board's chain (boards/boards.ts: boardChain). */
  f32Scaling?: boolean;
  /** First-order low-pass corner of the amplifier, Hz (0 = none). */
  cornerHz: number;
  /** Delay of whole samples (converter latency). */
  delaySamples: number;
}

/** The planner's order (Field.PlanOrder), or "auto": the calibration runs on the order-3 plan or
 *  on the order-2 one with room for the distortion probe, whichever is shorter, and the run
 *  then continues at order 2 where the host's rule allows it (planOrderFor), else at order 3,
 *  calibrated again there if it calibrated at order 2 (TrainingRun). */
export type PlanOrderOption = 2 | 3 | "auto";

/** Planned tones inside a band (the controller's planner), or explicit tone frequencies. */
export type ToneOptions =
  | { plan: { bandLowHz: number; bandHighHz: number; guardBins?: number; planOrder?: PlanOrderOption } }
  | { explicitHz: number[] };

export interface TrainOptions {
  device: Device;
  task: Task;
  seed: number;
  noise?: Partial<NoiseOptions>;
  chain?: Partial<ChainOptions>;
  tones?: ToneOptions;
  /** Peak perturbation amplitude per control (one number for all), volts. */
  amplitudesV?: number | number[];
  windowSamples?: number;
  /** A given windowSamples whose tones do not plan is planned again in the shortest window
   *  that plans, as a default window is (phyll-hge asks for its readings' window). */
  growWindow?: boolean;
  settleSamples?: number;
  optimiser?: OptimiserName;
  learningRate?: number;
  beta1?: number;
  beta2?: number;
  /** corrsig: sigmoid(separation / marginScale), output units. */
  marginScale?: number;
  /** Epochs spent fitting the chain's lag before training (0 = trust the chain model). */
  calibrationEpochs?: number;
  maxIterations?: number;
  /** Stop once the task is solved on this many consecutive epochs (0 = never stop early). */
  solvedEpochs?: number;
  /** Starting controls: seeded uniform in the middle of each range, the midpoints, or given. */
  initialV?: "random" | "middle" | number[];
  /** Random starts only: abandon an attempt whose margin has not improved for this many
   *  iterations and start again from a new seeded point (0 = never). */
  patience?: number;
  /** The loss; default the task's. */
  loss?: LossName;
  epsilon?: number;
  gradient?: GradientName;
  /** The chain's lag (default the simulated chain's): demodulated with as given, or, where the
   *  run calibrates, the corner the fit keeps unless the tones' phases reject it (lockin.ts). */
  lag?: { delaySamples: number; cornerHz: number };
  stream?: { order: number; tauSamples: number };
  /** Codes: samples per chip (default: the estimator's), the codes' seed, SPSA's A. */
  chipSamples?: number;
  codeSeed?: number;
  spsaStability?: number;
  slewVPerS?: number;
  /** Controls (0-based) held at their start: perturbed and measured, never updated. */
  hold?: number[];
  /** A checkpoint to continue from (Controller.save()): weights, optimiser moments and the
   *  fitted lag; the run then skips calibration. */
  checkpoint?: Uint8Array;
  /** The checkpoint's lag was given to its run, not fitted (its lagFrom "configuration"): the
   *  resumed run keeps it and says so. */
  checkpointLagGiven?: boolean;
  /** A resumed run's starts so far (its run.json's attempts, when it restarted): it starts from
   *  the given weights, yet restarts as that run would have, from its next seeded start. */
  resumedAttempts?: number;
  /** That run's Result.stall (the same method's): how long its present start had been stuck. */
  resumedStall?: Stall;
  /** The samples of measurement noise the runs it continues drew up to the state it goes on
   *  from (their module.noiseSamples): its noise goes on from there (buildNoise). */
  noiseSamples?: number;
  /** The drift process to draw instead of a new one from noise.drift (buildNoise): the drift of
   *  the Instrument reading the same output (Instrument.drift), so that one drift runs on in
   *  device time through its readings and this run's samples alike, one draw a sample (the
   *  module's windows of pat-hge and phyll-hge, HgeJacobian). Not skipped by noiseSamples: it
   *  is where it is. */
  sharedDrift?: Drift;
  /** Stop once this much device time has run (the method's budget); undefined = no limit. */
  maxDeviceSeconds?: number;
  /** Device time already spent when the run starts (a method that runs the module now and
   *  then): a time-varying device is told the time from here on. */
  startSeconds?: number;
  /** The registry name of the estimator (for the Result); default "multitone". */
  method?: string;
  /** Replaces the configuration planned from these options (the bench's estimator presets
   *  take the planned one and change the perturbation, windows and amplitudes). */
  controllerConfig?: (planned: ControllerConfig) => ControllerConfig;
}

/** What a run of the module adds to a Result: what the controller ran (its configuration,
 *  the chain and the noise), its tones, and one window for the spectrum plot. */
export interface ModuleDetails {
  controller: ControllerConfig;
  chain: ChainOptions;
  noise: NoiseOptions;
  maxIterations: number;
  solvedEpochs: number;
  patience: number;
  toneBins: number[];
  toneHz: number[];
  /** The planned tones did not fit the window asked for (configuredWindow), which was lengthened. */
  windowLengthened: boolean;
  /** Where the lag in the status comes from: this run's calibration, the configuration (the
   *  chain model's, --lag's), or the checkpoint it resumed (fitted by an earlier run). */
  lagFrom: "calibration" | "configuration" | "checkpoint";
  /** Per tone: 2 = a second-order product lands on it, 4 = third-order (or'ed). */
  toneHits: number[];
  /** The last window with tones (not a held confirmation's) of the case with the largest
   *  measured gradient, as the controller saw it (readings, output units). */
  oneWindow: { case: number; sampleRateHz: number; readings: number[] };
  /** The controller's status at the end, counters summed over every start. */
  status: ControllerStatus;
  /** The checkpoint at the end (Controller.save(), base64): `--resume` continues from it. */
  checkpoint?: string;
  /** The samples of noise drawn, counting the runs it continued (TrainOptions.noiseSamples), up
   *  to the state its checkpoint holds (its last update, restart or calibration; 0 before any):
   *  a continuation's noise goes on from there, as the unbroken run's did. */
  noiseSamples?: number;
  /** What the calibration's distortion probe found (3 tones or more), output units, and the
   *  plan order the host's rule allows on it (planOrderFor): 2 where the device's third-order
   *  distortion is not above the noise. `switchedFrom`: the window the run calibrated in and
   *  left for the order-2 plan's shorter one (controller.windowSamples). `atOrder2`: under
   *  --plan-order auto, what the probe found at order 2 when it sent the run to order 3 (which
   *  calibrated again: the figures above are then order 3's, and planOrder stays 3: order 2 was
   *  measured, and a probe at order 3 reads one product's bin, not the N² an order-2 plan has). */
  distortion?: { thirdOrderAmplitude: number; noiseAmplitude: number; planOrder: 2 | 3; switchedFrom?: number; atOrder2?: { thirdOrderAmplitude: number; noiseAmplitude: number; windowSamples: number } };
  /** A run of planned tones at order 3: the window an order-2 plan of the same tones takes,
   *  where it is shorter (what --plan-order 2 would buy; none where it ties, as the DNPU's five
   *  tones do in 200 samples). */
  order2WindowSamples?: number;
}


/** The host's defaults for a run. Those that are fields of the controller's configuration
 *  come from the one table of fields (config-fields.ts), where each is documented. */
export const DEFAULTS = {
  seed: 1,
  sampleRateHz: defaultOf("SampleRateHz"),
  windowSamples: defaultOf("WindowSamples"),
  settleSamples: defaultOf("SettleSamples"),
  amplitudeV: defaultOf("AmplitudeV"),
  optimiser: OPTIMISERS[defaultOf("Optimiser")],
  learningRate: defaultOf("LearningRate"),
  beta1: defaultOf("Beta1"),
  beta2: defaultOf("Beta2"),
  calibrationEpochs: defaultOf("CalibrationEpochs"),
  /** Updates a run without a device-time budget may make (the boards' runs: --hil, the
   *  standalone firmware). A run with a budget has no iteration limit unless one is given
   *  (iterationLimit): the budget alone decides when every method's run stops unsolved; at 500
   *  updates pat stopped at 36 device-s on a gate, walsh at 68 on the resistor XOR, all counted
   *  unsolved within a 300 s budget. */
  maxIterations: 500,
  /** Device-seconds a run may spend before it stops unsolved (budgetFor: a data set's). */
  budgetSeconds: 300,
  /** On a data set (iris): its methods measure every sample through the device, under each of
   *  their configurations, before the digital layers train (phyll: 86 device-s on the DNPU at
   *  its 16 configurations), and phyll-hge sweeps them again through the module's lock-in
   *  windows at each physical step (302 device-s a sweep), so 300 would stop it at its first. The
   *  bench's too. */
  datasetBudgetSeconds: 2000,
  /** Solved on three epochs in a row: the controls keep moving, so one epoch is not proof. */
  solvedEpochs: 3,
  /** Restart after 10 iterations without a 1% gain in margin: corrsig has local optima where
   *  Adam wanders around a zero margin, a start reaches one in about 10 iterations and about a
   *  third of starts solve XOR. XOR's median over seeds 1..100 (learning rate 0.2 V): 5.3 s at
   *  8, 5.0 s at 10, 5.1 s at 15, 6.1 s at 20, 100/100 at each (200-sample windows, solved
   *  epochs confirmed held and read plainly; hge train --task xor --patience P --seed N). */
  patience: 10,
  /** Planned tones: inside 20 Hz..1 kHz (the amplifier's corner), GuardBins' default guard, and
   *  the plan's order chosen by the run (PlanOrderOption "auto"; PlanOrder's default, 3, until the
   *  calibration has measured the device). */
  band: { bandLowHz: defaultOf("BandLowHz"), bandHighHz: defaultOf("BandHighHz"), guardBins: defaultOf("GuardBins"), planOrder: "auto" as PlanOrderOption },
};

/** Chain and noise defaults for a device: a transimpedance chain for nA outputs (brains-py's
 *  amplification 28.5 nA/V on a ±10 V, 16-bit ADC: ±285 nA, 0.009 nA steps), a direct
 *  voltage chain for V outputs. Noise: the paper's 1/f level and a small white floor. */
export function defaultChain(device: Device): ChainOptions {
  const voltage = device.outputUnit === "V";
  const electrodes = electrodeRangesV(device);
  const top = maxOf(electrodes.map(([low, high]) => Math.max(Math.abs(low), Math.abs(high))));
  const dacTop = Math.max(1, Math.ceil(top * 1.25 * 4) / 4);
  return {
    sampleRateHz: DEFAULTS.sampleRateHz,
    dacBits: 16,
    dacRangeV: [-dacTop, dacTop],
    adcBits: 16,
    adcRangeV: voltage ? [-2.5, 2.5] : [-10, 10],
    transimpedancePerV: voltage ? 1 : 28.5,
    cornerHz: 1000,
    delaySamples: 2,
  };
}

/** The chain of `--no-chain`: the device's outputs read as they are, for a device whose outputs
 *  already are readings (an instrument behind an asynchronous device file, with its own
 *  converters, amplifier and noise). Converter steps of 52 bits (a double's mantissa): the
 *  ADC's, over ±1e9 output units, are 4.4e-7 units (finer than a 24-bit ADC's over ±10 V, 1.2e-6,
 *  but not nothing: EP at β = 1e-8 S reads drops below it); no amplifier corner, no delay, no
 *  saturation within ±1e9 output units. */
export const TRANSPARENT_CHAIN: Partial<ChainOptions> = { dacBits: 52, adcBits: 52, adcRangeV: [-1e9, 1e9], transimpedancePerV: 1, cornerHz: 0, delaySamples: 0 };
/** Whether a run's chain is TRANSPARENT_CHAIN (--no-chain): no converters or amplifier to describe. */
export const isTransparent = (chain: ModuleDetails["chain"]) => Object.entries(TRANSPARENT_CHAIN).every(([field, value]) => isDeepStrictEqual(chain[field as keyof typeof chain], value));

/** Noise by output unit: for nA, the paper's 1/f level and a 0.05 nA white floor (about a
 *  tenth of a real DNPU set-up's); for V (resistor networks), a 0.1 mV floor. */
export const NOISE_DEFAULTS: Record<"nA" | "V", NoiseOptions> = {
  nA: { whiteSigma: 0.05, pinkPsdAt1kHz: 1e-5 },
  V: { whiteSigma: 1e-4, pinkPsdAt1kHz: 1e-11 },
};

export function defaultNoise(device: Device): NoiseOptions {
  return { ...NOISE_DEFAULTS[device.outputUnit === "V" ? "V" : "nA"] };
}

/** The chain and the noise a run on `device` takes: the device's defaults, `options`' over them. */
export function measurementOn(device: Device, options: Pick<TrainOptions, "chain" | "noise">): { chain: ChainOptions; noise: NoiseOptions } {
  return { chain: { ...defaultChain(device), ...options.chain }, noise: { ...defaultNoise(device), ...options.noise } };
}

/** corrsig's margin scale by output unit: 30 nA for the DNPU (see DEFAULTS), 0.1 V for
 *  resistor networks (outputs within ±1 V). */
export const MARGIN_SCALE_DEFAULTS = { nA: 30, V: 0.1 };

export function defaultMarginScale(device: Device): number {
  return MARGIN_SCALE_DEFAULTS[device.outputUnit === "V" ? "V" : "nA"];
}

/** Tone bins for explicit frequencies: each must be a whole number of cycles per window. */
export function binsForHz(frequenciesHz: number[], windowSamples: number, sampleRateHz: number): number[] {
  const spacingHz = sampleRateHz / windowSamples;
  return frequenciesHz.map((f) => {
    const bin = (f * windowSamples) / sampleRateHz;
    if (Math.abs(bin - Math.round(bin)) > 1e-6) {
      const needed = smallestWindowFor(frequenciesHz, sampleRateHz);
      const hint = needed ? `; a window that is a multiple of ${needed} samples fits all the tones` : "";
      throw new TrainConfigError("tones", `tone ${f} Hz is not a whole number of cycles in a ${windowSamples}-sample window at ${sampleRateHz} Hz (bins are ${+spacingHz.toFixed(6)} Hz apart)${hint}`);
    }
    return Math.round(bin);
  });
}

/** Regression (MSE) asks for precision where a classification asks only for order: its
 *  default window is longer. On the resistor regression (5 edges, MSE < 1% of the targets'
 *  variance) 200-sample windows solved 4 of 10 seeds within 300 device-s, 500-sample windows
 *  10 of 10 (median 50 s); on XOR 200 samples halved the time (WindowSamples' row). */
export const MSE_WINDOW_SAMPLES = 500;

/** Epochs in a row a run's task must read solved (method.ts Confirmation): the shared option, or the default. */
export function solvedEpochsOf(options: Partial<Pick<TrainOptions, "solvedEpochs">> = {}): number {
  return options.solvedEpochs ?? DEFAULTS.solvedEpochs;
}

/** The iteration limit of a run: the given one; else none where a device-time budget will stop
 *  it (Number.MAX_SAFE_INTEGER), DEFAULTS.maxIterations where nothing else would. */
export function iterationLimit(options: Pick<TrainOptions, "maxIterations" | "maxDeviceSeconds">): number {
  return options.maxIterations ?? (options.maxDeviceSeconds === undefined ? DEFAULTS.maxIterations : Number.MAX_SAFE_INTEGER);
}

/** The default window of the module's measurement for `task`: WindowSamples' default, or for
 *  MSE tasks MSE_WINDOW_SAMPLES (the peers read plain levels: instrument.ts). */
export function measurementWindow(task: AnyTask): number {
  return task.kind === "cases" && task.loss === "mse" ? MSE_WINDOW_SAMPLES : DEFAULTS.windowSamples;
}

/** The window a run of the module is configured with (a plan that does not fit it may yet
 *  lengthen it, TrainingRun): the given one, the shortest holding given tones, or the task's. */
export function configuredWindow(options: Pick<TrainOptions, "task" | "tones" | "windowSamples">, sampleRateHz: number): number {
  const tones = options.tones;
  return options.windowSamples ?? (tones && "explicitHz" in tones ? defaultWindowFor(tones.explicitHz, sampleRateHz) : measurementWindow(options.task));
}

/** The default device-time budget of a run on `task`. */
export function budgetFor(task: AnyTask): number {
  return task.kind === "dataset" ? DEFAULTS.datasetBudgetSeconds : DEFAULTS.budgetSeconds;
}

/** The shortest window (samples) holding whole periods of every tone, or 0 if none up to
 *  the module's longest window. */
export function smallestWindowFor(frequenciesHz: number[], sampleRateHz: number): number {
  for (let window = 1; window <= L.MAX_WINDOW_SAMPLES; window++) {
    if (frequenciesHz.every((f) => Math.abs((f * window) / sampleRateHz - Math.round((f * window) / sampleRateHz)) < 1e-6)) return window;
  }
  return 0;
}

/** The default window for explicit tones: the shortest multiple of the tones' common period
 *  at least DEFAULTS.windowSamples long. */
export function defaultWindowFor(frequenciesHz: number[], sampleRateHz: number): number {
  const unit = smallestWindowFor(frequenciesHz, sampleRateHz);
  if (!unit) return DEFAULTS.windowSamples;
  return unit * Math.max(1, Math.ceil(DEFAULTS.windowSamples / unit));
}

/** The run's noise sources, each on its own stream derived from the seed (the boards' runs
 *  build theirs here too, so they see the readings the all-Node run sees), `skipSamples`
 *  samples on: a resumed run's noise goes on where the unbroken run's would be (TrainOptions.
 *  noiseSamples; seeded afresh, it replayed the start's noise). `sharedDrift` (TrainOptions.
 *  sharedDrift) is drawn in place of a drift of its own. */
export function buildNoise(noise: NoiseOptions, sampleRateHz: number, seed: number, skipSamples = 0, sharedDrift?: Drift): NoiseSource | undefined {
  const sources: NoiseSource[] = [];
  if (noise.whiteSigma > 0) sources.push(new WhiteNoise(noise.whiteSigma, noiseStream(seed, 1)));
  if (noise.pinkPsdAt1kHz > 0) sources.push(new PinkNoise(noise.pinkPsdAt1kHz, sampleRateHz, noiseStream(seed, 2)));
  const drift = sharedDrift ?? buildDrift(noise, sampleRateHz, seed);
  if (drift) sources.push(drift);
  if (noise.spikes && noise.spikes.ratePerS > 0) sources.push(new Spikes(noise.spikes.ratePerS, noise.spikes.amplitude, sampleRateHz, noiseStream(seed, 4)));
  if (!sources.length) return undefined;
  // (drawn and dropped, one a sample as the chain would draw them, each stream on its own: each
  // exactly where it was, Drift's clock too; a shared drift is where it is already)
  for (const source of sources) if (source !== sharedDrift) for (let n = 0; n < skipSamples; n++) source.next();
  return new NoiseChain(sources);
}

/** The drift of the noise `buildNoise(noise, sampleRateHz, seed)` builds (its own stream), or
 *  none without noise.drift. */
export function buildDrift(noise: NoiseOptions, sampleRateHz: number, seed: number): Drift | undefined {
  return noise.drift ? new Drift(sampleRateHz, noise.drift, noiseStream(seed, 3)) : undefined;
}

/** The start of a run's next attempt once it has made `attempts` (its first counted in a resumed
 *  run's `resumedAttempts`, TrainOptions): the unbroken run's next seeded start. */
export function restartVoltages(device: Pick<Device, "controlRangeV">, seed: number, attempts: number, resumedAttempts = 1): number[] {
  return startingVoltages(device, seed, resumedAttempts - 1 + attempts);
}

/** `start` with each held control (trainable false, --hold) where `first`, the run's first
 *  start, put it: a held control stays there through every restart. */
export function keepHeld(start: number[], controls: ReadonlyArray<{ trainable?: boolean }>, first: ArrayLike<number>): number[] {
  return start.map((v, k) => (controls[k].trainable === false ? first[k] : v));
}

/** What a run continues from (`--resume`, or a board's run after the board restarted). */
export type Continuation = Pick<TrainOptions, "initialV" | "checkpoint" | "checkpointLagGiven" | "resumedAttempts" | "resumedStall" | "noiseSamples"> & { planOrder?: 2 | 3; patience?: number };

/** The run was to fit the lag by calibrating and stopped before the calibration ended (the
 *  budget, a fault or Ctrl-C): its lag is still the configured one (a run.json's module). */
export const calibrationUnfinished = (module: { lagFrom?: unknown; controller?: { calibrationEpochs?: number } }): boolean =>
  module.lagFrom === "configuration" && (module.controller?.calibrationEpochs ?? 0) > 0;

/** What continues `run` (a Result, or its run.json read back; `finalWeights` checked finite):
 *  its controls, and for the module's estimators (`estimator`) its checkpoint (weights,
 *  optimiser moments and the fitted lag) and the plan order it ended on (a continuation does
 *  not calibrate, so auto could not measure); where it restarted, its starts and patience, so
 *  that it goes on restarting as it would have (the next of its seeded starts); for the module's,
 *  the noise its run drew up to the state it goes on from (module.noiseSamples), drawn again. */
export function continuationOf(run: { finalWeights: number[]; module?: { checkpoint?: unknown; lagFrom?: unknown; noiseSamples?: unknown; controller?: { planOrder?: unknown; calibrationEpochs?: number } }; attempts?: unknown; settings?: { patience?: unknown }; stall?: unknown }, estimator: boolean): Continuation {
  const { module, attempts, settings, stall } = run;
  // A run stopped before its calibration ended fitted no lag and made no update (updates follow
  // the fit): its checkpoint holds its starting controls and the lag it was configured with.
  // The continuation starts from those controls and calibrates, as the run was to. So does one
  // whose every calibration found the tones within the noise (counters.calibrationsInNoise):
  // its controls go on, its optimiser's moments (measured with the configured lag) do not.
  const uncalibrated = typeof module === "object" && module !== null && calibrationUnfinished(module);
  const checkpoint = estimator && !uncalibrated && typeof module?.checkpoint === "string" ? new Uint8Array(Buffer.from(module.checkpoint, "base64")) : undefined;
  const lagGiven = checkpoint && module?.lagFrom === "configuration" ? { checkpointLagGiven: true } : {};
  const planOrder = module?.controller?.planOrder;
  const patience = settings?.patience;
  const { best, iterations } = (typeof stall === "object" && stall !== null ? stall : {}) as Partial<Record<keyof Stall, unknown>>;
  const stalled = typeof best === "number" && Number.isFinite(best) && Number.isInteger(iterations) && (iterations as number) >= 0 ? { resumedStall: { best, iterations: iterations as number } } : {};
  const restarts = Array.isArray(attempts) && attempts.length >= 1 && Number.isInteger(patience) && (patience as number) > 0 ? { resumedAttempts: attempts.length, patience: patience as number, ...stalled } : {};
  const noiseSamples = module?.noiseSamples;
  const noise = checkpoint && Number.isSafeInteger(noiseSamples) && (noiseSamples as number) > 0 ? { noiseSamples: noiseSamples as number } : {};
  return { initialV: run.finalWeights, ...(checkpoint ? { checkpoint } : {}), ...lagGiven, ...(planOrder === 2 || planOrder === 3 ? { planOrder } : {}), ...restarts, ...noise };
}

/** Seeded random starting controls for attempt `attempt`: uniform in the middle 80% of each range. */
export function startingVoltages(device: Pick<Device, "controlRangeV">, seed: number, attempt: number): number[] {
  const rng = new Rng((Math.imul(seed >>> 0, 0x85ebca6b) ^ Math.imul(attempt + 1, 0xc2b2ae35)) >>> 0);
  return device.controlRangeV.map(([low, high]) => low + (high - low) * rng.between(0.1, 0.9));
}

/** The controls a run starts from (TrainOptions.initialV: given voltages, the middle of each
 *  range, or seeded random, the default), for every method that starts from one setting. */
export function initialVoltages(device: Device, initialV: TrainOptions["initialV"], seed: number): number[] {
  const ranges = device.controlRangeV;
  if (Array.isArray(initialV)) {
    if (initialV.length !== ranges.length) throw new TrainConfigError("initialV", `${initialV.length} starting voltages for ${ranges.length} controls`);
    // in single precision, as the controller holds voltages: its -1.2 V edge is -1.2000000477 V
    const outside = initialV.findIndex((v, k) => !(Math.fround(v) >= Math.fround(ranges[k][0]) && Math.fround(v) <= Math.fround(ranges[k][1])));
    if (outside >= 0) throw new TrainConfigError("initialV", `control ${outside + 1} would start at ${initialV[outside]} V (--initial-v or --resume), outside its range [${ranges[outside][0]}, ${ranges[outside][1]}] V`);
    return initialV.slice();
  }
  if (initialV === "middle") return ranges.map(([low, high]) => (low + high) / 2);
  return startingVoltages(device, seed, 0);
}

/** The controller configuration, chain and noise that `trainTask` would run. */
export function planRun(options: TrainOptions): {
  controller: ControllerConfig;
  chain: ChainOptions;
  noise: NoiseOptions;
} {
  const { device, task } = options;
  const maxIterations = iterationLimit(options);
  if (!(Number.isInteger(maxIterations) && maxIterations >= 1)) throw new TrainConfigError("maxIterations", `iteration limit ${maxIterations} is not a whole number ≥ 1`);
  const { chain, noise } = measurementOn(device, options);
  const sampleRateHz = chain.sampleRateHz;
  const tones = tonesOf(options);
  const windowSamples = configuredWindow(options, sampleRateHz);
  if (task.outputCount !== 1) throw new TrainConfigError("task", `task ${task.name} has ${task.outputCount} outputs; the controller reads one`);
  if (task.inputCases[0]?.length !== device.inputCount) {
    throw new TrainConfigError("task", `task ${task.name} needs ${task.inputCases[0]?.length} data inputs; ${device.name} has ${device.inputCount}`);
  }
  const controlCount = device.controlCount;
  const amplitudes = options.amplitudesV ?? DEFAULTS.amplitudeV;
  const amplitudeOf = (k: number) => (Array.isArray(amplitudes) ? amplitudes[k] : amplitudes);
  if (Array.isArray(amplitudes) && amplitudes.length !== controlCount) {
    throw new TrainConfigError("amplitudes", `${amplitudes.length} amplitudes given for ${controlCount} controls`);
  }
  let bins: number[] | undefined;
  if ("explicitHz" in tones) {
    if (tones.explicitHz.length !== controlCount) {
      throw new TrainConfigError("tones", `${tones.explicitHz.length} tones given for ${controlCount} controls`);
    }
    bins = binsForHz(tones.explicitHz, windowSamples, sampleRateHz);
  }
  const initial = initialVoltages(options.device, options.initialV, options.seed);
  const limits = readingLimits(chainModel(chain, undefined));
  const controller: ControllerConfig = {
    sampleRateHz,
    windowSamples,
    settleSamples: options.settleSamples ?? DEFAULTS.settleSamples,
    tones: "plan" in tones ? { plan: { bandLowHz: tones.plan.bandLowHz, bandHighHz: tones.plan.bandHighHz } } : { explicit: true },
    guardBins: "plan" in tones ? (tones.plan.guardBins ?? DEFAULTS.band.guardBins) : DEFAULTS.band.guardBins,
    planOrder: planOrderOf("plan" in tones ? (tones.plan.planOrder ?? DEFAULTS.band.planOrder) : DEFAULTS.band.planOrder),
    controls: device.controlRangeV.map(([minV, maxV], k) => ({
      amplitudeV: amplitudeOf(k),
      minV,
      maxV,
      initialV: initial[k],
      ...(options.hold?.includes(k) ? { trainable: false } : {}),
      ...(bins ? { toneBin: bins[k] } : {}),
    })),
    inputs: device.inputRangeV.map(([minV, maxV]) => ({ minV, maxV })),
    cases: task.inputCases.map((inputsV, p) => ({ inputsV, target: task.targets[p] })),
    loss: options.loss ?? task.loss,
    marginScale: options.marginScale ?? defaultMarginScale(device),
    optimiser: options.optimiser ?? DEFAULTS.optimiser,
    learningRate: options.learningRate ?? DEFAULTS.learningRate,
    beta1: options.beta1 ?? DEFAULTS.beta1,
    beta2: options.beta2 ?? DEFAULTS.beta2,
    epsilon: options.epsilon,
    gradient: options.gradient,
    stream: options.stream,
    chipSamples: options.chipSamples,
    seed: options.codeSeed,
    spsaStability: options.spsaStability,
    slewVPerS: options.slewVPerS,
    calibrationEpochs: options.checkpoint ? 0 : calibrationEpochsOf(options.calibrationEpochs, device.controlCount),
    // Without calibration the controller trusts the chain model it is told.
    lag: options.lag ?? { delaySamples: chain.delaySamples, cornerHz: chain.cornerHz },
    reading: limits,
  };
  return { controller, chain, noise };
}

/** The calibration epochs a run asks for: given, or the default; none by default on a device
 *  of one control, whose lag cannot be fitted (the module refuses: one tone's phase is known
 *  only modulo π), so that it trains on the chain's lag as told (--lag). */
function calibrationEpochsOf(given: number | undefined, controlCount: number): number {
  return given ?? (controlCount < 2 ? 0 : DEFAULTS.calibrationEpochs);
}

/** The tones a run asks for: given, or planned in the default band. */
export function tonesOf(options: Pick<TrainOptions, "tones">): ToneOptions {
  return options.tones ?? { plan: DEFAULTS.band };
}

/** The order a run's options plan: auto's is PlanOrder's default, 3 (TrainingRun plans order 2
 *  beside it and takes the shorter). */
function planOrderOf(option: PlanOrderOption): number {
  return option === "auto" ? defaultOf("PlanOrder") : option;
}

export function chainModel(chain: ChainOptions, noise: NoiseSource | undefined): ChainModel {
  return {
    sampleRateHz: chain.sampleRateHz,
    dac: { bits: chain.dacBits, rangeV: chain.dacRangeV },
    cornerHz: chain.cornerHz,
    delaySamples: chain.delaySamples,
    noise,
    adc: { bits: chain.adcBits, rangeV: chain.adcRangeV, outputPerV: chain.transimpedancePerV, f32Scaling: chain.f32Scaling },
  };
}

/** Configures `controller` for `options` (TrainOptions.controllerConfig applied) and returns
 *  what it runs: a planned tone set that does not fit the default window (or a given one, with
 *  growWindow) is planned again in the shortest window that plans, rounded up to 50 samples.
 *  Throws ControllerError or TrainConfigError if the configuration is refused. */
export function configurePlanned(controller: TrainingController, options: TrainOptions): ReturnType<typeof planRun> {
  const plan = (o: TrainOptions) => {
    const planned = planRun(o);
    return { ...planned, controller: o.controllerConfig?.(planned.controller) ?? planned.controller };
  };
  let planned = plan(options);
  try {
    controller.configure(planned.controller);
  } catch (error) {
    const minimum = error instanceof ControllerError && error.field === "Plan" && (options.windowSamples === undefined || options.growWindow) ? planMinWindow(controller) : 0;
    if (!minimum) throw error;
    planned = plan({ ...options, windowSamples: Math.ceil(minimum / 50) * 50 });
    controller.configure(planned.controller);
  }
  return planned;
}

/** After a Plan refusal: the shortest window that would plan (0 if none). */
function planMinWindow(controller: TrainingController): number {
  const exports = controller.exports;
  return new Int32Array(exports.memory.buffer, exports.STATUS.value as number, L.STATUS_WORDS)[L.Status.PlanMinWindow];
}

/** Whether `config` calibrates planned tones (sinusoids, calibration epochs): the probe runs. */
function calibratesPlanned(config: ControllerConfig): boolean {
  return "plan" in config.tones && perturbsWithTones(config) && config.calibrationEpochs! > 0;
}

/** What configurePlanned gives: the configuration, chain and noise a run takes. */
type Planned = ReturnType<typeof configurePlanned>;

/** What `options` plan, on a scratch module (nothing runs on it), or undefined if it is refused. */
function plannedOrUndefined(options: TrainOptions): Planned | undefined {
  try {
    return configurePlanned(new Controller(), options);
  } catch {
    return undefined;
  }
}

/** A run whose starts end in a controller fault (16 windows in a row discarded) this many
 *  times in a row, with no update between, stops: its device cannot be measured anywhere. */
export const FAULTED_STARTS = 3;

/** The most restarts a run with restarts on (patience > 0) makes: one for each `patience`
 *  iterations of its limit, and at least those faulted starts take (the standalone firmware
 *  holds a start for each). */
export function restartLimit(maxIterations: number, patience: number): number {
  return Math.max(FAULTED_STARTS - 1, Math.floor(maxIterations / patience));
}

/** An improvement of the margin smaller than this is not progress (noise). */
export const MARGIN_PROGRESS = 0.01;

/** How long a start has gone without progress (for --patience): the best value so far of the
 *  measure it watches (higher is better; a gain below MARGIN_PROGRESS is none) and the iteration
 *  it came. A resumed run's (Result.stall, the same method's) goes on, so that the resumed run
 *  restarts where the unbroken one would. */
export class StallWatch {
  private best = -Infinity;
  private bestAt = 0;
  constructor(resumed?: Stall) {
    if (resumed) {
      this.best = resumed.best;
      this.bestAt = -resumed.iterations; // (counted before this run's first iteration)
    }
  }
  /** Takes iteration's value; returns the iterations since the best. */
  see(value: number, iteration: number): number {
    if (value > this.best + MARGIN_PROGRESS) {
      this.best = value;
      this.bestAt = iteration;
    }
    return iteration - this.bestAt;
  }
  /** A new start at `iteration`: nothing seen yet. */
  restart(iteration: number): void {
    this.best = -Infinity;
    this.bestAt = iteration;
  }
  /** For Result.stall at `iteration` (nothing once the present start has seen no value). */
  stall(iteration: number): { stall?: Stall } {
    return Number.isFinite(this.best) ? { stall: { best: this.best, iterations: iteration - this.bestAt } } : {};
  }
}

/** Classification: the gate margin (fraction of the output span); MSE: minus the RMS error. */
export function taskMargin(task: Task, outputs: ArrayLike<number>): number {
  if (task.loss !== "mse") return gateMargin(outputs, task.targets);
  let sum = 0;
  for (let p = 0; p < task.targets.length; p++) sum += (outputs[p] - task.targets[p]) ** 2;
  return -Math.sqrt(sum / task.targets.length);
}

/** `task` judged on the simulated device's own output at `controls` in each case, read
 *  plainly: no perturbation, no noise, no device time (a check a model affords, not a
 *  measurement); undefined for tasks of more than one output. The module's estimators judge a
 *  task on perturbed window means, which the device's curvature shifts (about a²y″/4 a tone),
 *  so a margin they measured need not hold without the perturbation. */
export function plainCheck(device: Device, task: Task, controls: ArrayLike<number>): { criterion: number; solved: boolean } | undefined {
  if (task.outputCount !== 1) return undefined;
  const outputs = task.inputCases.map((inputs) => device.output(Float64Array.from([...Array.from(controls), ...inputs])));
  return { criterion: criterionValue(task, taskMargin(task, outputs)), solved: task.solved(outputs) };
}

/** What training needs of a controller: the Node wrapper, or a board behind a serial link
 *  (boards/link.ts BoardController), which mirrors these methods. */
export type TrainingController = Pick<Controller, "configure" | "step" | "electrodes" | "status" | "weights" | "gradient" | "caseOutputs" | "toneBins" | "toneHits" | "exports"> & Partial<Pick<Controller, "save" | "load" | "jacobianRow" | "lossSlopes" | "hold">>;

/**
 * The closed loop of one training run, one sample per step(), for any controller, configured
 * by configurePlanned (which throws if the configuration is refused, before any sample runs);
 * under --plan-order auto the calibration may move it to an order-2 plan. An attempt whose margin has not
 * improved for `patience` iterations, or that ends in a controller fault (FAULTED_STARTS in a
 * row stop the run), is abandoned for a new seeded random start (the lag measured so far is
 * kept); iterations and device time count every attempt.
 */
export class TrainingRun {
  /** The configuration running (--plan-order auto may change it once, after calibration). */
  config: ControllerConfig;
  readonly chain: ChainOptions;
  readonly noise: NoiseOptions;
  readonly sim: CoSimulation;
  readonly maxIterations: number;
  readonly solvedEpochs: number;
  readonly patience: number;
  /** Why the loop ended, once step() has returned false. */
  stopped: StopReason = "iterations";
  /** stopped = "device": what the device file did (Result.deviceFault). */
  deviceFault: string | undefined;
  private iteration = 0;
  private readonly started = performance.now();
  private ring: Float64Array;
  private ringAt = 0;
  private lastWindows: Float64Array[];
  private windowsDone = 0;
  private readonly history: Result["history"];
  private readonly attempts: Result["attempts"];
  private readonly totals = { samples: 0, windows: 0, discardedWindows: 0, updates: 0, epochs: 0, skippedUpdates: 0 };
  private readonly confirmation: Confirmation;
  /** The controls are held at a solved epoch's while it is confirmed (controller.hold). */
  private holding = false;
  private margin = Number.NaN;
  private readonly sampleLimit: number;
  private readonly stallWatch: StallWatch;
  private samplesLeft: number;
  private distortion: ModuleDetails["distortion"];
  private lagFrom: ModuleDetails["lagFrom"];
  /** The configuration running calibrates and no calibration has fitted a lag yet (one that
   *  found only noise leaves it so: the next start calibrates again). */
  private calibrating: boolean;
  /** Calibrations that found the tones' phases within the noise (Event.LagUnfitted): each left
   *  the configured lag in use, and the next start calibrates again. */
  private calibrationsInNoise = 0;
  /** Starts in a row that ended in a fault, with no update. */
  private faultedStarts = 0;
  /** The samples run up to the state a checkpoint now holds (the last update, restart or
   *  calibration): a continuation's noise goes on from there (ModuleDetails.noiseSamples). */
  private noiseAtState = 0;
  /** After calibration (ordersAfterCalibration): the order-2 configuration to continue on where
   *  the probe allows it, and under --plan-order auto the order-3 one to calibrate again on
   *  where it does not (when the run calibrates at order 2). */
  private order2: ControllerConfig | undefined;
  private order3: ControllerConfig | undefined;

  constructor(readonly controller: TrainingController, readonly options: TrainOptions, private readonly onProgress?: (progress: Progress) => void) {
    const planned = this.calibrationPlan(controller, options);
    this.maxIterations = iterationLimit(options);
    this.solvedEpochs = solvedEpochsOf(options);
    this.confirmation = new Confirmation(this.solvedEpochs, options.task);
    // given starting voltages turn restarts off unless a patience is given too (it was ignored)
    const canRestart = (options.initialV ?? "random") === "random" || options.resumedAttempts !== undefined || options.patience !== undefined;
    this.patience = canRestart ? (options.patience ?? DEFAULTS.patience) : 0;
    this.stallWatch = new StallWatch(options.resumedStall);
    ({ controller: this.config, chain: this.chain, noise: this.noise } = planned);
    this.calibrating = (this.config.calibrationEpochs ?? 0) > 0;
    this.lagFrom = options.checkpoint && !options.checkpointLagGiven ? "checkpoint" : "configuration";
    this.order2 = this.shorterOrder2();
    if (options.checkpoint) {
      if (!controller.load) throw new TrainConfigError("resume", "this controller cannot take a checkpoint (a board takes one over its link only at start-up)");
      controller.load(options.checkpoint);
      // (its counts of updates and epochs are its run's: this run counts its own)
      const loaded = controller.status();
      this.totals.updates -= loaded.updates;
      this.totals.epochs -= loaded.epochs;
    }
    this.sim = new CoSimulation(controller, options.device, chainModel(this.chain, buildNoise(this.noise, this.chain.sampleRateHz, options.seed, options.noiseSamples, options.sharedDrift)), options.startSeconds);
    this.ring = new Float64Array(this.config.windowSamples);
    this.lastWindows = this.windowBuffers();
    this.history = { deviceSeconds: [], loss: [], criterion: [], weights: [Array.from(controller.weights())], gradient: [], caseOutputs: [], ...(options.device.outputGradient && controller.lossSlopes ? { exactGradient: [] } : {}) };
    // (whole samples within the budget: a budget that ends between two samples ends at the one before)
    this.sampleLimit = options.maxDeviceSeconds === undefined ? Infinity : Math.floor((options.maxDeviceSeconds + BUDGET_SLACK_SECONDS) * this.chain.sampleRateHz);
    this.attempts = [{ startIteration: 0, initialV: this.config.controls.map((c) => c.initialV) }];
    // Generous: calibration, discarded windows and the settling all fit many times over.
    const samplesPerEpoch = this.config.cases.length * (this.config.settleSamples + this.config.windowSamples);
    this.samplesLeft = (this.maxIterations + this.config.calibrationEpochs! + 2) * samplesPerEpoch * 4;
    // A run cut by its iteration limit at an iteration where it was stuck stopped before the
    // restart the unbroken run made there: its continuation makes it before measuring anything.
    if (this.patience > 0 && (options.resumedStall?.iterations ?? 0) >= this.patience && this.restartsLeft()) this.restart();
  }

  /** The last window of each case, for the report's spectrum. */
  private windowBuffers(): Float64Array[] {
    return Array.from({ length: this.config.cases.length }, () => new Float64Array(this.config.windowSamples));
  }

  /** Configures `controller` for the calibration and returns what it runs. Under --plan-order
   *  auto (planned tones that calibrate) that is the order-3 plan or the order-2 plan placed for
   *  the probe (plan.ts: PROBED_ORDER_2, about 15 samples a control in the default band),
   *  whichever has the shorter window (order 3 on a tie: it needs no second calibration); the
   *  other plans are made on scratch modules, where nothing runs. */
  private calibrationPlan(controller: TrainingController, options: TrainOptions): Planned {
    const order3 = this.tonesAt(options, "auto") && plannedOrUndefined(options);
    if (!order3) return configurePlanned(controller, options); // (throws the refusal, if any)
    const probed = calibratesPlanned(order3.controller) ? plannedOrUndefined({ ...options, tones: this.tonesAt(options, 2) }) : undefined;
    const chosen = probed && probed.controller.windowSamples < order3.controller.windowSamples ? probed : order3;
    if (chosen === probed) this.order3 = order3.controller;
    controller.configure(chosen.controller);
    return chosen;
  }

  /** The run's planned tones at plan order `order`, or undefined when they are given or (for
   *  "auto") when the run fixes its order. */
  private tonesAt(options: TrainOptions, order: PlanOrderOption): ToneOptions | undefined {
    const tones = tonesOf(options);
    if (!("plan" in tones)) return undefined;
    if (order === "auto") return (tones.plan.planOrder ?? DEFAULTS.band.planOrder) === "auto" ? tones : undefined;
    return { plan: { ...tones.plan, planOrder: order } };
  }

  /** A run calibrating at order 2 (or under auto at 3): the order-2 plan without the probe's
   *  room, when its window is shorter than the calibration's. */
  private shorterOrder2(): ControllerConfig | undefined {
    const c = this.config;
    if (!calibratesPlanned(c) || (c.planOrder === 3 && !this.tonesAt(this.options, "auto"))) return undefined;
    return this.shorterOrder2Plan();
  }

  /** The order-2 plan of the run's planned tones (on a scratch module: no probe's room, no
   *  calibration), where its window is shorter than the run's. */
  private shorterOrder2Plan(): ControllerConfig | undefined {
    const next = plannedOrUndefined({ ...this.options, tones: this.tonesAt(this.options, 2), calibrationEpochs: 0 })?.controller;
    return next && next.windowSamples < this.config.windowSamples ? next : undefined;
  }

  /** After calibration: where the probe found no third-order distortion above the noise (or the
   *  run asked for order 2), the run continues on the order-2 plan's shorter window with the
   *  fitted lag; under auto, where it found some at order 2, it calibrates again at order 3 and
   *  keeps that. The controls stay where they are (calibration moves none). Returns whether
   *  the configuration changed. */
  private ordersAfterCalibration(): boolean {
    const { order2, order3, distortion } = this;
    this.order2 = this.order3 = undefined;
    let next: ControllerConfig | undefined;
    if (order3 && distortion?.planOrder !== 2) {
      next = this.configureAgain(order3, Array.from(this.controller.weights()), true);
      if (distortion) this.distortion = { ...distortion, atOrder2: { thirdOrderAmplitude: distortion.thirdOrderAmplitude, noiseAmplitude: distortion.noiseAmplitude, windowSamples: this.config.windowSamples } };
    } else if (order2 && (distortion?.planOrder === 2 || this.config.planOrder === 2)) {
      if (distortion) distortion.switchedFrom = this.config.windowSamples;
      next = this.configureAgain(order2, Array.from(this.controller.weights()));
    }
    if (!next) return false;
    this.config = next;
    this.ring = new Float64Array(next.windowSamples);
    this.ringAt = 0;
    this.lastWindows = this.windowBuffers();
    return true;
  }

  /** Configures the controller again on `next` from the controls `initialV`, with the lag
   *  measured so far (no second calibration; `calibrate`: next's own calibration instead), the
   *  counters so far kept; returns what it runs. */
  private configureAgain(next: ControllerConfig, initialV: number[], calibrate = false): ControllerConfig {
    const status = this.controller.status();
    this.addCounters();
    const config = {
      ...next,
      controls: next.controls.map((c, k) => ({ ...c, initialV: initialV[k] })),
      ...(calibrate ? {} : { calibrationEpochs: 0, lag: { delaySamples: status.lagDelaySamples, cornerHz: status.lagCornerHz } }),
    };
    this.controller.configure(config);
    this.calibrating = (config.calibrationEpochs ?? 0) > 0;
    this.windowsDone = 0;
    return config;
  }

  /** One sample of the loop; false once training is over (solved, the iteration or sample
   *  limit, a fault). A device file that fails (devices/device-file.ts) stops the run there with
   *  what was learned up to its last update, as Ctrl-C does: stopped = "device". */
  step(): boolean {
    try {
      return this.sample();
    } catch (error) {
      this.deviceFault = deviceFaultOf(error);
      this.stopped = "device";
      return false;
    }
  }

  private sample(): boolean {
    const { sim, controller, ring, config } = this;
    if (sim.samples >= this.sampleLimit) {
      this.stopped = "budget";
      return false;
    }
    if (this.samplesLeft-- <= 0) return false;
    const window = config.windowSamples;
    const reading = sim.measure(sim.deviceOutput());
    sim.samples++;
    ring[this.ringAt] = reading;
    this.ringAt = this.ringAt + 1 === window ? 0 : this.ringAt + 1;
    const events = controller.step(reading);
    if (events === 0) return true;
    if (events & L.Event.WindowDone) {
      // The ring holds exactly the window just demodulated (windows are consecutive samples);
      // a held confirmation's windows carry no tones, and the last that did is kept
      if (!this.holding) {
        const last = this.lastWindows[this.windowsDone % config.cases.length];
        last.set(ring.subarray(this.ringAt), 0);
        last.set(ring.subarray(0, this.ringAt), window - this.ringAt);
      }
      this.windowsDone++;
    }
    if (events & L.Event.Fault) {
      // a start that cannot be measured (16 windows in a row discarded: readings saturated or
      // not finite there) is left for the next, as a stuck one is; FAULTED_STARTS in a row stop
      if (!this.restartsLeft() || ++this.faultedStarts >= FAULTED_STARTS) {
        this.stopped = "fault";
        return false;
      }
      this.restart();
      return true;
    }
    if (events & L.Event.LagUnfitted) this.calibrationsInNoise++;
    if (events & L.Event.Calibrated) {
      this.noiseAtState = sim.samples;
      this.lagFrom = "calibration";
      this.calibrating = false;
      // the probe's reading is kept here: a restart's configuration (no calibration) clears it
      const { thirdOrderAmplitude, noiseAmplitude } = controller.status();
      // (after auto measured order 2 and went back, order 3's probe does not overrule it)
      const planOrder = this.distortion?.atOrder2 ? 3 : planOrderFor({ thirdOrderAmplitude, noiseAmplitude }, config.calibrationEpochs! * config.cases.length);
      if (Number.isFinite(thirdOrderAmplitude) && Number.isFinite(noiseAmplitude)) this.distortion = { ...this.distortion, thirdOrderAmplitude, noiseAmplitude, planOrder };
      if (this.ordersAfterCalibration()) return true;
    }
    if (!(events & (this.holding ? L.Event.EpochDone : L.Event.UpdateDone))) return true;
    const { task } = this.options;
    const iteration = ++this.iteration;
    this.noiseAtState = sim.samples;
    this.faultedStarts = 0;
    const outputs = Array.from(controller.caseOutputs());
    const loss = controller.status().loss;
    const deviceSeconds = sim.samples / this.chain.sampleRateHz;
    this.margin = taskMargin(task, outputs);
    const solvedNow = task.solved(outputs);
    const solved = this.confirmation.count(solvedNow, outputs);
    // A solved epoch is confirmed on the controls it measured: held there (its update undone)
    // until solvedEpochs in a row, let go at the first epoch that is not solved.
    const hold = this.confirmation.holding && controller.hold !== undefined;
    if (hold !== this.holding) {
      controller.hold?.(hold);
      this.holding = hold;
    }
    const { history } = this;
    // (first: a device file may fail in it, and the history stays whole)
    const exact = history.exactGradient ? this.exactGradient(history.weights.at(-1)!) : undefined;
    history.deviceSeconds.push(deviceSeconds);
    history.loss.push(loss);
    history.criterion.push(criterionValue(task, this.margin));
    history.weights.push(Array.from(controller.weights()));
    history.gradient!.push(Array.from(controller.gradient()));
    if (exact) history.exactGradient!.push(exact);
    history.caseOutputs!.push(outputs);
    this.onProgress?.({
      iteration, deviceSeconds, loss, criterion: criterionValue(task, this.margin), criterionName: criterionName(task), solved: solvedNow, attempt: this.attempts.length,
      budget: { deviceSeconds: this.sampleLimit / this.chain.sampleRateHz, maxIterations: this.maxIterations }, windowSamples: this.config.windowSamples,
    });
    if (solved) {
      this.stopped = "solved";
      return false;
    }
    // (the last iteration counts in the stall its continuation goes on from, as in the unbroken run)
    const stuck = this.stallWatch.see(this.margin, iteration);
    if (iteration >= this.maxIterations) return false;
    if (stuck >= this.patience && this.restartsLeft()) this.restart(); // stuck
    return true;
  }

  /** Whether the run may start again: restarts are on (patience), some are left (restartLimit),
   *  and so are iterations. */
  private restartsLeft(): boolean {
    return this.patience > 0 && this.attempts.length - 1 < restartLimit(this.maxIterations, this.patience) && this.iteration < this.maxIterations;
  }

  /** Starts again from the next seeded start, after the iterations so far, with the lag
   *  measured (no second calibration; before the calibration ended, it calibrates again); a
   *  held control (--hold) stays where it started. */
  private restart(): void {
    const iteration = this.iteration;
    const { device, seed } = this.options;
    const initialV = keepHeld(restartVoltages(device, seed, this.attempts.length, this.options.resumedAttempts), this.config.controls, this.attempts[0].initialV);
    this.configureAgain(this.config, initialV, this.calibrating);
    this.noiseAtState = this.sim.samples;
    this.attempts.push({ startIteration: iteration, initialV });
    this.history.weights[this.history.weights.length - 1] = initialV.slice();
    this.stallWatch.restart(iteration);
    this.confirmation.restart();
    this.holding = false; // configure() lets the controls move
  }

  private addCounters(): void {
    const status = this.controller.status();
    for (const key of Object.keys(this.totals) as Array<keyof typeof this.totals>) this.totals[key] += status[key];
  }

  /** The case whose last gradient contribution is largest: its window shows the tones best
   *  (|∂L/∂ȳ_p| · ‖J_p‖ from the history, so any controller, board included, answers it). */
  liveliestCase(): number {
    const outputs = this.history.caseOutputs!.at(-1);
    const gradient = this.history.gradient!.at(-1);
    if (!outputs || !gradient) return 0;
    let best = 0;
    let bestNorm = -1;
    const jacobian = this.controller.jacobianRow;
    for (let p = 0; p < outputs.length; p++) {
      const norm = jacobian ? jacobian.call(this.controller, p).reduce((sum, g) => sum + g * g, 0) : 0;
      if (norm > bestNorm) {
        bestNorm = norm;
        best = p;
      }
    }
    return best;
  }

  /** The exact ∂L/∂w at `weights`: Σ_p (∂L/∂ȳ_p as the controller measured it) ∂y_p/∂w. */
  private exactGradient(weights: number[]): number[] {
    const { device } = this.options;
    const slopes = this.controller.lossSlopes!();
    const voltages = new Float64Array(device.electrodeCount);
    voltages.set(weights);
    const gradient = new Array<number>(weights.length).fill(0);
    this.config.cases.forEach((c, p) => {
      voltages.set(c.inputsV, weights.length);
      const row = device.outputGradient!(voltages);
      for (let k = 0; k < weights.length; k++) gradient[k] += slopes[p] * row[k];
    });
    return gradient;
  }

  /** Stops at the next update (Ctrl-C): finish() then reports stopped = "interrupted". */
  interrupt(): void {
    this.stopped = "interrupted";
    this.samplesLeft = 0;
  }

  /** The whole history, once the loop is over (call once); the report shows the last window
   *  of case `shownCase`. */
  finish(shownCase: number, ranOn = "node"): Result {
    const { controller, chain, config, options, history } = this;
    const last = controller.status();
    this.addCounters();
    const toneBins = Array.from(controller.toneBins());
    const status = { ...last, ...this.totals };
    // a start made after the last measured update (a restart the budget, a fault or Ctrl-C cut
    // short) was never measured: the margin and outputs of the start before were shown beside
    // its controls
    const unmeasuredStart = this.attempts.length > 1 && this.attempts.at(-1)!.startIteration === this.iteration;
    // what --plan-order 2 would buy a run of planned tones at order 3 (codes refuse it)
    const order3 = "plan" in config.tones && perturbsWithTones(config) && (config.planOrder ?? defaultOf("PlanOrder")) === 3 && config.controls.length > 2;
    const order2WindowSamples = order3 ? this.shorterOrder2Plan()?.windowSamples : undefined;
    return {
      method: options.method ?? "multitone",
      device: options.device.name,
      task: options.task.name,
      seed: options.seed,
      ranOn,
      solved: this.stopped === "solved" || (this.solvedEpochs === 0 && this.confirmation.lastSolved),
      stopped: this.stopped,
      ...(this.deviceFault !== undefined ? { deviceFault: this.deviceFault } : {}),
      iterations: this.iteration,
      deviceSeconds: this.sim.samples / chain.sampleRateHz,
      wallSeconds: (performance.now() - this.started) / 1000,
      lossName: config.loss,
      criterionName: criterionName(options.task),
      criterion: unmeasuredStart ? Number.NaN : criterionValue(options.task, this.margin),
      criterionTarget: options.task.criterionTarget,
      outputUnit: options.device.outputUnit,
      history,
      finalWeights: Array.from(controller.weights()),
      controlRangeV: config.controls.map((c): [number, number] => [c.minV, c.maxV]),
      // (no update: the outputs only if every case was measured, not a 0 for each one that was not)
      caseOutputs: unmeasuredStart ? [] : history.caseOutputs!.at(-1) ?? (status.windows >= config.cases.length ? Array.from(controller.caseOutputs()) : []),
      targets: options.task.targets.slice(),
      caseInputsV: config.cases.map((c) => c.inputsV.slice()),
      attempts: this.attempts,
      ...(this.patience > 0 ? this.stallWatch.stall(this.iteration) : {}),
      counters: { samples: status.samples, windows: status.windows, discardedWindows: status.discardedWindows, updates: status.updates, epochs: status.epochs, skippedUpdates: status.skippedUpdates, ...this.confirmation.counters, ...(this.calibrationsInNoise ? { calibrationsInNoise: this.calibrationsInNoise } : {}) },
      settings: {
        window: config.windowSamples, settle: config.settleSamples, sampleRateHz: config.sampleRateHz, perturbation: config.perturbation ?? "sinusoid",
        optimiser: config.optimiser, learningRate: config.learningRate, maxIterations: this.maxIterations, solvedEpochs: this.solvedEpochs, patience: this.patience,
      },
      module: {
        controller: config, chain, noise: this.noise, maxIterations: this.maxIterations, solvedEpochs: this.solvedEpochs, patience: this.patience,
        toneBins,
        toneHz: toneBins.map((m) => (m * chain.sampleRateHz) / config.windowSamples),
        // (a preset's own window, the published one's 2000 samples of given tones, is not lengthened)
        windowLengthened: "plan" in config.tones && perturbsWithTones(config) && config.windowSamples > configuredWindow(this.options, chain.sampleRateHz),
        lagFrom: this.lagFrom,
        toneHits: Array.from(controller.toneHits()),
        oneWindow: { case: shownCase, sampleRateHz: chain.sampleRateHz, readings: Array.from(this.lastWindows[shownCase]) },
        status,
        ...(this.distortion ? { distortion: this.distortion } : {}),
        ...(order2WindowSamples ? { order2WindowSamples } : {}),
        ...(controller.save ? { checkpoint: Buffer.from(controller.save()).toString("base64") } : {}),
        noiseSamples: (options.noiseSamples ?? 0) + this.noiseAtState,
      },
    };
  }
}

/** Gates and sphere: the margin (fraction of the output span); regression: the RMS error; a
 *  data set: the held-out accuracy. */
export function criterionName(task: AnyTask): CriterionName {
  return task.kind === "dataset" ? "accuracy" : task.loss === "mse" ? "RMS error" : "margin";
}
function criterionValue(task: Task, margin: number): number {
  return task.loss === "mse" ? -margin : margin;
}

/** Trains `task` on `device` in closed loop with the Node controller (see TrainingRun). */
export function trainTask(options: TrainOptions, onProgress?: (progress: Progress) => void): Result {
  const controller = new Controller();
  const run = new TrainingRun(controller, options, onProgress);
  while (run.step());
  return run.finish(run.liveliestCase());
}

export { ControllerError, TrainConfigError };
