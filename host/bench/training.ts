// Time to solve: closed-loop training with each estimator on the same device, task, chain,
// noise, optimiser and seeded starting points; the clock is device time (samples / rate,
// settling and calibration included). Mirrors `hge train`: solved when the task's test holds
// on three consecutive epochs; an attempt that stops improving restarts from a new seeded
// point (train.ts's patience rule); a run that has not solved within the cap is censored.
import { Controller, type ControllerConfig } from "../controller.ts";
import { CoSimulation, type ChainModel } from "../cosim.ts";
import type { Device } from "../devices/device.ts";
import { DopantNetwork } from "../devices/dopant.ts";
import { ResistorNetwork } from "../devices/resistor.ts";
import { gateTask, type GateName } from "../tasks/gates.ts";
import { regressionTask } from "../tasks/regression.ts";
import type { Task } from "../tasks/task.ts";
import { DEFAULTS, planRun, startingVoltages, taskMargin, type ChainOptions, type NoiseOptions } from "../train.ts";
import { NoiseChain, PinkNoise, WhiteNoise, type NoiseSource } from "../noise.ts";
import * as L from "../../assembly/layout.ts";
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
/** Three consecutive solved epochs, as `hge train`; restart after 50 epochs without progress. */
export const SOLVED_EPOCHS = DEFAULTS.solvedEpochs;
export const PATIENCE = DEFAULTS.patience;

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

function chainModel(chain: ChainOptions, noise: NoiseOptions, seed: number): ChainModel {
  const stream = (k: number) => (Math.imul(seed >>> 0, 0x9e3779b1) + k * 0x7f4a7c15) >>> 0;
  const sources: NoiseSource[] = [];
  if (noise.whiteSigma > 0) sources.push(new WhiteNoise(noise.whiteSigma, stream(1)));
  if (noise.pinkPsdAt1kHz > 0) sources.push(new PinkNoise(noise.pinkPsdAt1kHz, chain.sampleRateHz, stream(2)));
  return {
    sampleRateHz: chain.sampleRateHz,
    dac: { bits: chain.dacBits, rangeV: chain.dacRangeV },
    cornerHz: chain.cornerHz,
    delaySamples: chain.delaySamples,
    noise: new NoiseChain(sources),
    adc: { bits: chain.adcBits, fullScaleV: chain.adcFullScaleV, outputPerV: chain.transimpedancePerV },
  };
}

const MARGIN_PROGRESS = 0.01; // as train.ts: a smaller improvement of the margin is noise

export function runTraining(job: TrainingJob): TrainingResult {
  const started = performance.now();
  const { device, task } = problem(job.task);
  const planned = planRun({ device, task, seed: job.seed });
  const config = trainingConfig(job.method, planned.controller);
  const controller = new Controller();
  controller.configure(config);
  const sim = new CoSimulation(controller, device, chainModel(planned.chain, planned.noise, job.seed));
  const rate = planned.chain.sampleRateHz;
  const capSamples = Math.round(job.capSeconds * rate);
  let iterations = 0, solvedRun = 0, restarts = 0, bestMargin = -Infinity, bestAt = 0;
  let solved = false;
  while (sim.samples < capSamples) {
    const events = sim.step();
    if (events & L.Event.Fault) break;
    if (!(events & L.Event.UpdateDone)) continue;
    iterations++;
    const outputs = controller.caseOutputs();
    solvedRun = task.solved(outputs) ? solvedRun + 1 : 0;
    if (solvedRun >= SOLVED_EPOCHS) {
      solved = true;
      break;
    }
    const margin = taskMargin(task, outputs);
    if (margin > bestMargin + MARGIN_PROGRESS) {
      bestMargin = margin;
      bestAt = iterations;
    }
    if (iterations - bestAt >= PATIENCE) {
      // stuck: a new seeded start, keeping the measured lag (no second calibration)
      restarts++;
      const status = controller.status();
      const initialV = startingVoltages(device, job.seed, restarts);
      controller.configure({
        ...config,
        controls: config.controls.map((c, k) => ({ ...c, initialV: initialV[k] })),
        calibrationWindows: 0,
        lag: { delaySamples: status.lagDelaySamples, cornerHz: status.lagCornerHz },
      });
      bestMargin = -Infinity;
      bestAt = iterations;
      solvedRun = 0;
    }
  }
  return {
    job,
    solved,
    deviceSeconds: solved ? sim.samples / rate : job.capSeconds,
    iterations,
    restarts,
    wallSeconds: (performance.now() - started) / 1000,
  };
}
