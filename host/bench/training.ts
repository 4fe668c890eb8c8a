// Time to solve: closed-loop training with each estimator on the same device, task, chain,
// noise, optimiser and seeded starting points; the clock is device time (samples / rate,
// settling and calibration included). The loop is `hge train`'s (train.ts TrainingRun):
// solved when the task's test holds on three consecutive epochs; an attempt that stops
// improving restarts from a new seeded point; a run not solved within the cap is censored.
import { Controller, type ControllerConfig } from "../controller.ts";
import type { Device } from "../devices/device.ts";
import { DopantNetwork } from "../devices/dopant.ts";
import { ResistorNetwork } from "../devices/resistor.ts";
import { gateTask, type GateName } from "../tasks/gates.ts";
import { regressionTask } from "../tasks/regression.ts";
import type { Task } from "../tasks/task.ts";
import { DEFAULTS, TrainingRun } from "../train.ts";
import { codePeriod, multitone, publishedHge, randomCodes, sequential, spsa, walsh, type Method } from "./presets.ts";

/** Every method but the published preset: 0.1 s windows and 10 ms settling (the CLI's), 20 mV peak. */
export const TRAIN_WINDOW_SAMPLES = DEFAULTS.windowSamples;
export const TRAIN_SETTLE_SAMPLES = DEFAULTS.settleSamples;
export const TRAIN_AMPLITUDE_V = DEFAULTS.amplitudeV;
/** Random and Walsh codes: 10 samples (2 ms) per chip, a chip rate inside the tones' band that
 *  the default chain (1 kHz corner, 2 samples of delay) smears by about a quarter of a chip. */
export const TRAIN_CODE_CHIP_SAMPLES = 10;
/** Spall's stability constant A; SPSA's learning rate is scaled by (1 + A)^0.602 so that its first
 *  step matches the other methods' (Spall's rule for choosing a). */
export const SPSA_STABILITY = 10;

export type TrainingTask = GateName | "regression";

export interface TrainingJob {
  kind: "training";
  task: TrainingTask;
  method: Method;
  seed: number;
  /** Device seconds after which an unsolved run is censored. */
  capSeconds: number;
}

export interface TrainingResult {
  job: TrainingJob;
  solved: boolean;
  /** Device time when solved (or the cap). */
  deviceSeconds: number;
  iterations: number;
  restarts: number;
  wallSeconds: number;
}

/** The regression device: an 8-gate transistor network is more than five controls, so the
 *  published preset (five tones) is run on a 5-gate network (seed 3: it fits the task). */
export const REGRESSION_NETWORK = { edgeCount: 5, seed: 2 };
/** The target loss: MSE below this fraction of the targets' variance. */
export let REGRESSION_TARGET_FRACTION = 0.01;

function problem(name: TrainingTask): { device: Device; task: Task } {
  if (name === "regression") {
    const device = new ResistorNetwork(REGRESSION_NETWORK);
    return { device, task: regressionTask({ inputRangeV: device.inputRangeV, seed: 1, varianceFraction: REGRESSION_TARGET_FRACTION }) };
  }
  const device = DopantNetwork.default();
  return { device, task: gateTask(name, device.inputRangeV) };
}

/** The method's configuration for a training problem (base: the CLI's multi-tone plan). */
export function trainingConfig(method: Method, base: ControllerConfig): ControllerConfig {
  const n = base.controls.length;
  const common = { windowSamples: TRAIN_WINDOW_SAMPLES, settleSamples: TRAIN_SETTLE_SAMPLES, amplitudesV: TRAIN_AMPLITUDE_V };
  switch (method) {
    case "published":
      return publishedHge(base);
    case "multitone":
      return multitone(base, { ...common, ...DEFAULTS.band });
    case "sequential":
      return sequential(base, common); // one sweep: 50-sample chips for five controls
    case "spsa": {
      // the classic two-measurement estimate: one ±Δ pair per window
      const config = spsa(base, { ...common, chipSamples: TRAIN_WINDOW_SAMPLES / 2, stability: SPSA_STABILITY });
      return { ...config, learningRate: base.learningRate * (1 + SPSA_STABILITY) ** 0.602 };
    }
    case "random":
    case "walsh": {
      const unit = codePeriod(method, n) * TRAIN_CODE_CHIP_SAMPLES;
      const windowSamples = Math.floor(TRAIN_WINDOW_SAMPLES / unit) * unit; // Walsh on 5 controls: 480
      return (method === "random" ? randomCodes : walsh)(base, { ...common, windowSamples, chipSamples: TRAIN_CODE_CHIP_SAMPLES });
    }
  }
}

export function runTraining(job: TrainingJob): TrainingResult {
  const started = performance.now();
  const run = new TrainingRun(new Controller(), {
    ...problem(job.task),
    seed: job.seed,
    maxIterations: Number.MAX_SAFE_INTEGER, // the cap is device time
    controllerConfig: (planned) => trainingConfig(job.method, planned),
  });
  const capSamples = Math.round(job.capSeconds * run.chain.sampleRateHz);
  while (run.sim.samples < capSamples && run.step());
  const result = run.finish(0);
  return {
    job,
    solved: result.solved,
    deviceSeconds: result.solved ? result.deviceSeconds : job.capSeconds,
    iterations: result.iterations,
    restarts: result.attempts.length - 1,
    wallSeconds: (performance.now() - started) / 1000,
  };
}
