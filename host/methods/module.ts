// The module's gradient estimators as training methods: the published HGE setup (Boon et
// al.), planned multi-tone (the default), sequential central differences, SPSA, random ±1
// codes (MGD's CDMA) and Walsh–Hadamard codes, each a configuration of the one controller
// module. Each preset takes the problem (controls, cases, loss, optimiser: a base
// ControllerConfig) and sets only the perturbation fields; trainingConfig picks the training
// settings per estimator and the Method objects run them in closed loop (train.ts).
import type { ControllerConfig, PerturbationName } from "../controller.ts";
import { MAX_ABS_VOLTS, MAX_CONTROLS, MAX_INPUTS, Perturbation, codePeriod as codePeriodOf } from "../../assembly/layout.ts";
import { Controller, ControllerError } from "../controller.ts";
import { electrodeRangesV, type Device } from "../devices/device.ts";
import { DeviceFileError } from "../devices/device-file.ts";
import type { AnyTask, Task } from "../tasks/task.ts";
import { DEFAULTS, TrainingRun, type TrainOptions } from "../train.ts";
import { Breather, type Budget, type Method, type Result, type RunContext } from "./method.ts";
import { TrainConfigError } from "../errors.ts";
import { defaultOf } from "../config-fields.ts";
import { OPTIMISER_READS } from "./optimiser.ts";
import { checkOf, type Journal } from "./journal.ts";

export const ESTIMATORS = ["published", "multitone", "sequential", "spsa", "random", "walsh"] as const;
export type Estimator = (typeof ESTIMATORS)[number];
/** The estimators that scale to any number of controls (the published preset has five). */
export const SCALABLE_ESTIMATORS = ["multitone", "sequential", "spsa", "random", "walsh"] as const satisfies readonly Estimator[];

/** Boon et al.'s settings (SkyNEt code): five controls, tones at 5 kHz, 0.4 s windows (ten
 *  periods of 25 Hz), 30 ms edges between input cases, magnitude demodulation with a sign
 *  from |phase| < 90°, no lag calibration. */
export const PUBLISHED = {
  sampleRateHz: 5000,
  tonesHz: [25, 45, 65, 95, 115],
  amplitudesV: [0.07, 0.03, 0.03, 0.01, 0.01],
  windowSamples: 2000,
  settleSamples: 150,
  /** The paper's optimiser (not part of the preset: the benches train every method with one optimiser). */
  optimiser: { optimiser: "adam", learningRate: 1e-2, beta1: 0.9, beta2: 0.9 },
} as const;

/** Why the published preset cannot drive `controlCount` controls, or undefined when it can. */
function publishedMisfit(controlCount: number): string | undefined {
  const tones = PUBLISHED.tonesHz.length;
  return controlCount === tones ? undefined : `the published preset drives ${tones} controls; this device has ${controlCount} (use --method multitone)`;
}

/** Why the published preset's fixed amplitudes do not fit `device`'s control ranges, or
 *  undefined: asked of the module itself, configured for a trial run (its AmplitudeV rule).
 *  Another refusal is the run's to say. */
function publishedAmplitudeMisfit(device: Device, task: AnyTask): string | undefined {
  if (task.kind !== "cases") return undefined; // (the registry refuses a data set)
  try {
    moduleRun("published", device, task, { deviceSeconds: 1 }, { seed: DEFAULTS.seed });
    return undefined;
  } catch (error) {
    if (!(error instanceof ControllerError && error.field === "AmplitudeV")) return undefined;
    const [low, high] = electrodeRangesV(device)[error.index];
    return `its fixed amplitudes (${PUBLISHED.amplitudesV.map((a) => +(a * 1000).toFixed(3)).join(", ")} mV) need a range twice as wide on each control; control ${error.index + 1}'s is [${low}, ${high}] V (use --method multitone)`;
  }
}

/** Why the module (the release build: assembly/layout.ts's limits) cannot drive `device`, or
 *  undefined when it can: every method that measures through it. */
export function moduleMisfit(device: Device): string | undefined {
  if (device.controlCount > MAX_CONTROLS || device.inputCount > MAX_INPUTS) {
    return `the controller module drives at most ${MAX_CONTROLS} controls and ${MAX_INPUTS} data inputs; ${device.name} has ${device.controlCount} and ${device.inputCount}`;
  }
  const ranges = electrodeRangesV(device);
  const wide = ranges.findIndex(([low, high]) => !(low >= -MAX_ABS_VOLTS && high <= MAX_ABS_VOLTS));
  if (wide < 0) return undefined;
  return `the controller module takes electrode ranges within ±${MAX_ABS_VOLTS} V; ${device.name}'s electrode ${wide + 1} spans [${ranges[wide].join(", ")}] V`;
}

/** The published HGE configuration on a five-control problem sampled at 5 kHz. */
export function publishedHge(base: ControllerConfig): ControllerConfig {
  const misfit = publishedMisfit(base.controls.length);
  if (misfit) throw new TrainConfigError("method", misfit);
  if (base.sampleRateHz !== PUBLISHED.sampleRateHz) throw new TrainConfigError("method", `the published preset samples at ${PUBLISHED.sampleRateHz} Hz, not ${base.sampleRateHz} (leave --sample-rate at its default)`);
  const bins = PUBLISHED.tonesHz.map((hz) => (hz * PUBLISHED.windowSamples) / PUBLISHED.sampleRateHz); // 10, 18, 26, 38, 46
  return {
    ...base,
    perturbation: "sinusoid",
    tones: { explicit: true },
    windowSamples: PUBLISHED.windowSamples,
    settleSamples: PUBLISHED.settleSamples,
    demodulation: "magnitude-sign",
    calibrationEpochs: 0,
    controls: base.controls.map((c, k) => ({ ...c, amplitudeV: PUBLISHED.amplitudesV[k], toneBin: bins[k] })),
  };
}

/** Per-control peak amplitude: one value for all, or one per control. */
export type Amplitudes = number | readonly number[];

export interface PerturbationOptions {
  windowSamples: number;
  amplitudesV: Amplitudes;
  settleSamples?: number;
  /** Code perturbations: samples per chip. Sequential defaults to one sweep per window. */
  chipSamples?: number;
  /** Random codes and SPSA: the code's seed (1..2^24). */
  seed?: number;
}

function withAmplitudes(base: ControllerConfig, amplitudesV: Amplitudes): ControllerConfig["controls"] {
  return base.controls.map((c, k) => ({ ...c, amplitudeV: typeof amplitudesV === "number" ? amplitudesV : amplitudesV[k], toneBin: undefined }));
}

/** Multi-tone HGE with tones planned by the module: intermodulation-free inside one octave of
 *  the band. guardBins 0 is enough for a static device (products then land exactly on other
 *  bins, orthogonal over the window), and it is the host's default (GuardBins). */
export function multitone(
  base: ControllerConfig,
  options: PerturbationOptions & { bandLowHz: number; bandHighHz: number; guardBins?: number; planOrder?: number },
): ControllerConfig {
  return {
    ...base,
    perturbation: "sinusoid",
    demodulation: "projection",
    tones: { plan: { bandLowHz: options.bandLowHz, bandHighHz: options.bandHighHz } },
    guardBins: options.guardBins ?? DEFAULTS.band.guardBins,
    planOrder: options.planOrder ?? base.planOrder,
    windowSamples: options.windowSamples,
    settleSamples: options.settleSamples ?? base.settleSamples,
    controls: withAmplitudes(base, options.amplitudesV),
  };
}

function codes(base: ControllerConfig, perturbation: PerturbationName, options: PerturbationOptions, chipSamples: number): ControllerConfig {
  return {
    ...base,
    perturbation,
    demodulation: "projection",
    calibrationEpochs: 0, // codes are demodulated as sent: no lag to fit
    windowSamples: options.windowSamples,
    settleSamples: options.settleSamples ?? base.settleSamples,
    chipSamples,
    seed: options.seed ?? base.seed ?? 1,
    controls: withAmplitudes(base, options.amplitudesV),
  };
}

/** Sequential central differences: control k at +a then −a, one control at a time. By
 *  default each control gets one + and one − chip per window (the classic measurement), the
 *  window cut to a whole number of chips. */
export function sequential(base: ControllerConfig, options: PerturbationOptions): ControllerConfig {
  const period = codePeriod("sequential", base.controls.length);
  const chip = options.chipSamples ?? Math.max(1, Math.floor(options.windowSamples / period));
  // whole periods: the window shrinks to the longest multiple of chip × period that fits
  const windowSamples = Math.max(1, Math.floor(options.windowSamples / (chip * period))) * chip * period;
  return codes(base, "sequential", { ...options, windowSamples }, chip);
}

/** SPSA: a random ±c vector then its negation (Bernoulli, two-sided), a new vector every two
 *  chips; Spall's gains a/(k+1+A)^0.602, c/(k+1)^0.101 run in the module. */
export function spsa(base: ControllerConfig, options: PerturbationOptions & { stability?: number }): ControllerConfig {
  return { ...codes(base, "spsa", options, options.chipSamples ?? 1), spsaStability: options.stability ?? base.spsaStability ?? defaultOf("SpsaStability") };
}

/** Random ±a codes, a fresh sign per control per chip (MGD's CDMA). */
export function randomCodes(base: ControllerConfig, options: PerturbationOptions): ControllerConfig {
  return codes(base, "random", options, options.chipSamples ?? 1);
}

/** Walsh–Hadamard codes: control k sends row k + 1 of the Hadamard matrix, one entry per chip. */
export function walsh(base: ControllerConfig, options: PerturbationOptions): ControllerConfig {
  return codes(base, "walsh", options, options.chipSamples ?? 1);
}

/** Chips in one period of the estimator's code for `controls` controls (assembly/layout.ts). */
export function codePeriod(estimator: Estimator, controls: number): number {
  return codePeriodOf(PERTURBATION_OF[estimator], controls);
}

/** Peak amplitude per control that gives a method the same per-control perturbation as a
 *  tone of peak `toneAmplitudeV`: "peak" = the same peak; "rms" = the same RMS over a window
 *  (a tone's RMS is a/√2, an always-on ±a code's is a, a sequential control is on 1/N of the time). */
export function normalisedAmplitude(method: Estimator, toneAmplitudeV: number, controls: number, normalisation: "peak" | "rms"): number {
  if (normalisation === "peak" || method === "multitone" || method === "published") return toneAmplitudeV;
  if (method === "sequential") return toneAmplitudeV * Math.sqrt(controls / 2);
  return toneAmplitudeV / Math.SQRT2;
}

export const ESTIMATOR_LABELS: Record<Estimator, string> = {
  published: "published HGE (Boon et al.)",
  multitone: "multi-tone HGE (planned)",
  sequential: "sequential differences",
  spsa: "SPSA",
  random: "random codes (CDMA)",
  walsh: "Walsh codes",
};

const PERTURBATION_OF: Record<Estimator, Perturbation> = {
  published: Perturbation.Sinusoid, multitone: Perturbation.Sinusoid, sequential: Perturbation.Sequential,
  spsa: Perturbation.SPSA, random: Perturbation.Random, walsh: Perturbation.Walsh,
};

/** Whether `estimator` perturbs with sinusoids (a checkpoint of tones carries a lag, one of codes none). */
export const estimatorUsesTones = (estimator: Estimator) => PERTURBATION_OF[estimator] === Perturbation.Sinusoid;

/** Random and Walsh codes: 10 samples (2 ms) per chip, a chip rate inside the tones' band that
 *  the default chain (1 kHz corner, 2 samples of delay) smears by about a quarter of a chip. */
export const TRAIN_CODE_CHIP_SAMPLES = 10;

/** The estimator's training configuration for a problem (base: the multi-tone plan from the
 *  run's options, whose window, settling and amplitudes every estimator but the published
 *  preset keeps). */
/** SPSA's learning rate is the given one times (1 + A)^0.602 (A: Spall's stability constant,
 *  the table's default unless given), so that its first step matches the other methods'
 *  (Spall's rule for a). */
export const spsaRateScale = (stability: number) => (1 + stability) ** 0.602;

export function trainingConfig(estimator: Estimator, base: ControllerConfig): ControllerConfig {
  const n = base.controls.length;
  const common = { windowSamples: base.windowSamples, settleSamples: base.settleSamples, amplitudesV: base.controls.map((c) => c.amplitudeV) };
  switch (estimator) {
    case "published":
      return publishedHge(base);
    case "multitone":
      return base;
    case "sequential":
      return sequential(base, { ...common, chipSamples: base.chipSamples }); // default: one sweep, 50-sample chips for five controls
    case "spsa": {
      // the classic two-measurement estimate: one ±Δ pair per window
      const stability = base.spsaStability ?? defaultOf("SpsaStability");
      const config = spsa(base, { ...common, chipSamples: base.chipSamples ?? base.windowSamples / 2, stability });
      return { ...config, learningRate: base.learningRate * spsaRateScale(stability) };
    }
    case "random":
    case "walsh": {
      const chipSamples = base.chipSamples ?? TRAIN_CODE_CHIP_SAMPLES;
      const unit = codePeriod(estimator, n) * chipSamples;
      const windowSamples = Math.max(1, Math.floor(base.windowSamples / unit)) * unit; // Walsh on 5 controls: 480
      return (estimator === "random" ? randomCodes : walsh)(base, { ...common, windowSamples, chipSamples });
    }
  }
}

/**
 * Runs the module in closed loop on a co-simulated device (train.ts TrainingRun) until the
 * task is solved, the budget is spent or the run is interrupted. `context.options` are
 * TrainOptions (the CLI's flags); the estimator then sets its perturbation fields.
 */
export async function runModule(estimator: Estimator, device: Device, task: AnyTask, budget: Budget, context: RunContext): Promise<Result> {
  const run = moduleRun(estimator, device, task, budget, context);
  const onAbort = () => run.interrupt();
  context.signal?.addEventListener("abort", onAbort);
  if (context.signal?.aborted) onAbort(); // (a Ctrl-C before the listener: the live page's start ran it out)
  try {
    const breather = new Breather();
    for (let going = true; going; ) {
      // (every 256 samples, or sooner when they are slow: an asynchronous device's answer may
      // take seconds, and Ctrl-C is heard only while the event loop runs)
      for (let i = 0; i < 256 && (going = run.step()) && !breather.due; i++);
      await breather.breathe();
    }
  } finally {
    context.signal?.removeEventListener("abort", onAbort);
  }
  return run.finish(run.liveliestCase());
}

/** The closed loop runModule runs: configured (what the module refuses is thrown here), nothing
 *  measured yet. */
function moduleRun(estimator: Estimator, device: Device, task: AnyTask, budget: Budget, context: RunContext): TrainingRun {
  if (task.kind !== "cases") throw new Error(`the module trains input-case tasks, not ${task.name}`); // refused earlier by the registry
  const options = (context.options ?? {}) as Partial<TrainOptions>;
  return new TrainingRun(
    new Controller(),
    {
      ...options,
      device,
      task,
      seed: context.seed,
      method: estimator,
      maxIterations: budget.maxIterations,
      maxDeviceSeconds: budget.deviceSeconds,
      controllerConfig: (planned) => trainingConfig(estimator, options.controllerConfig?.(planned) ?? planned),
    },
    context.progress,
  );
}

const SUMMARIES: Record<Estimator, string> = {
  multitone: "homodyne gradient extraction, the default: one planned tone per control, every partial derivative from one lock-in window per case",
  published: "the HGE paper's configuration (Boon et al.): tones 25/45/65/95/115 Hz, magnitude demodulation with a ±90° sign; five controls only",
  sequential: "central differences, one control at a time (+a then −a), by the module",
  spsa: "simultaneous perturbation (Spall): a random ±c vector then its negation, Spall's gains, by the module",
  random: "random ±a codes per control per chip (multiplexed gradient descent's CDMA), by the module",
  walsh: "Walsh–Hadamard codes, one row per control (multiplexed gradient descent), by the module",
};

/** The shared options every estimator reads (the closed loop, train.ts: planRun). */
const MODULE_READS: ReadonlyArray<keyof TrainOptions> = [
  "noise", "chain", "windowSamples", "settleSamples", "amplitudesV", ...OPTIMISER_READS, "loss", "marginScale", "gradient", "stream", "slewVPerS", "hold", "patience", "initialV",
];
/** What each estimator reads (trainingConfig): tones, and the chain's lag they are demodulated
 *  with, or a code's chips (codes are demodulated as sent: no lag, no calibration). The published
 *  preset fixes its own tones, window, settling and amplitudes. */
const ESTIMATOR_READS: Record<Estimator, ReadonlyArray<keyof TrainOptions>> = {
  multitone: [...MODULE_READS, "tones", "lag", "calibrationEpochs"],
  published: [...MODULE_READS.filter((option) => !["windowSamples", "settleSamples", "amplitudesV"].includes(option)), "lag"],
  sequential: [...MODULE_READS, "chipSamples"],
  spsa: [...MODULE_READS, "chipSamples", "codeSeed", "spsaStability"],
  random: [...MODULE_READS, "chipSamples", "codeSeed"],
  walsh: [...MODULE_READS, "chipSamples"],
};

/** One registry entry per estimator, the default first. */
export const MODULE_METHODS: Method[] = (["multitone", ...ESTIMATORS.filter((e) => e !== "multitone")] as Estimator[]).map((estimator) => ({
  name: estimator,
  summary: SUMMARIES[estimator],
  needs: [],
  misfit: (device: Device, task: AnyTask) => moduleMisfit(device) ?? (estimator === "published" ? publishedMisfit(device.controlCount) ?? publishedAmplitudeMisfit(device, task) : undefined),
  tasks: ["cases"],
  reads: ESTIMATOR_READS[estimator],
  requires: "",
  check: (device, task, budget, context) => void moduleRun(estimator, device, task, budget, context),
  train: (device, task, budget, context) => runModule(estimator, device, task, budget, context),
}));

/** Why the module cannot fit the chain's lag on `controlCount` controls (its CalibrationEpochs
 *  rule: two or more), or undefined. */
export function unfittableLag(controlCount: number): string | undefined {
  return controlCount < 2 ? "a single tone's phase is known only modulo π" : undefined;
}

/** Why HgeJacobian cannot measure on `device`: the module's limits, or a lag its first call
 *  cannot fit (unfittableLag); undefined when it can. */
export function hgeJacobianMisfit(device: Device): string | undefined {
  const lag = unfittableLag(device.controlCount);
  return moduleMisfit(device) ?? (lag && `it fits the chain's lag from the tones of two controls or more (${lag}); ${device.name} has one control`);
}

/**
 * Jacobian rows ∂y_p/∂θ and case outputs measured by homodyne gradient extraction: the module
 * (multi-tone defaults, TrainingRun) runs one epoch at the given controls, one lock-in window
 * per case, on the given device (any device on the same chain). The first call also fits the
 * chain's lag (the module's calibration epochs); later calls reuse it and its plan order. Every sample counts as
 * device time (`seconds`). Used by pat-hge (pat-training.ts) and phyll-hge.
 */
export class HgeJacobian {
  seconds = 0;
  epochs = 0;
  private lag?: { delaySamples: number; cornerHz: number };
  /** The plan order the first call ran on at the end (--plan-order auto chooses it there). */
  private planOrder?: number;

  /** `journal` (a data-set run's, journal.ts) records every measurement, and replays one it
   *  recorded before for the same device, cases, controls and time. */
  constructor(readonly seed: number, private readonly journal?: Journal) {}

  /** The Jacobian rows and the window means (CASE_OUTPUTS) of `task`'s cases at `controls`,
   *  measured from device time `nowSeconds` on; "budget" if `budgetSeconds` ran out first,
   *  "fault" if the module could measure no epoch (its windows discarded: readings saturated or
   *  not finite, or a gradient not finite).
   *  `options` (windows, settling) replace the task's defaults. The white and 1/f noise are
   *  fresh each epoch; the drift is the caller's instrument's (options.sharedDrift: one process
   *  in device time, drawn here once a sample, a replayed batch's samples too). A device file's
   *  fault is thrown on (DeviceFileError). */
  measure(device: Device, task: Task, controls: number[], nowSeconds: number, budgetSeconds: number, options: Partial<TrainOptions> = {}): { jacobian: number[][]; outputs: number[] } | "budget" | "fault" {
    if (!this.journal) return this.measureLive(device, task, controls, nowSeconds, budgetSeconds, options);
    const { sharedDrift, ...asked } = options; // (the drift's state is not what is asked)
    const check = checkOf([this.epochs, nowSeconds, ...controls, ...task.inputCases.flat()], JSON.stringify([this.seed, device.name, asked]));
    const recorded = this.journal.replayBatch(check, budgetSeconds);
    if (recorded) {
      // the drift runs on as the live batch drew it, one draw a sample
      if (sharedDrift) for (let n = Math.round(recorded.seconds * sharedDrift.sampleRateHz); n > 0; n--) sharedDrift.next();
      this.seconds += recorded.seconds;
      this.lag = recorded.lag;
      this.planOrder ??= recorded.planOrder;
      this.epochs++;
      return { jacobian: recorded.jacobian, outputs: recorded.outputs };
    }
    const measured = this.measureLive(device, task, controls, nowSeconds, budgetSeconds, options);
    if (typeof measured === "object") this.journal.recordBatch({ check, seconds: measured.seconds, lag: this.lag!, planOrder: this.planOrder!, jacobian: measured.jacobian, outputs: measured.outputs });
    return measured;
  }

  private measureLive(device: Device, task: Task, controls: number[], nowSeconds: number, budgetSeconds: number, options: Partial<TrainOptions>): { jacobian: number[][]; outputs: number[]; seconds: number } | "budget" | "fault" {
    const controller = new Controller();
    const lag = this.lag;
    const run = new TrainingRun(controller, {
      ...options,
      device,
      task,
      seed: (Math.imul(this.seed >>> 0, 0x27d4eb2d) + this.epochs + 1) >>> 0, // fresh noise per epoch (the drift: options.sharedDrift)
      initialV: controls,
      maxIterations: 1,
      maxDeviceSeconds: budgetSeconds,
      startSeconds: nowSeconds,
      solvedEpochs: 0,
      ...(lag ? { calibrationEpochs: 0, controllerConfig: (planned) => ({ ...planned, lag, planOrder: this.planOrder }) } : {}),
    });
    while (run.step());
    const seconds = run.sim.samples / run.chain.sampleRateHz;
    this.seconds += seconds;
    if (run.deviceFault !== undefined) throw new DeviceFileError(run.deviceFault); // (the caller's run ends on it)
    const status = controller.status();
    this.lag = { delaySamples: status.lagDelaySamples, cornerHz: status.lagCornerHz };
    this.planOrder ??= run.config.planOrder;
    this.epochs++;
    if (status.updates < 1) return run.stopped === "budget" ? "budget" : "fault";
    return { jacobian: task.inputCases.map((_, p) => Array.from(controller.jacobianRow(p))), outputs: Array.from(controller.caseOutputs()), seconds };
  }
}
