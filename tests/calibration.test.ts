// Lag calibration against a sampled measurement chain written here from its physical
// description, sample by sample, independently of host/cosim.ts and of the module's formula:
// each voltage held one sample (zero-order hold), a transport delay of D samples (fractional
// included), an analog RC with corner fc integrated exactly in 16 sub-steps per sample, read at
// the end of each sample. The calibrated gradient must be nearly as good as the one measured
// with the true chain given, at delays from 0 to 64 samples and corners from 0.2× to 5× the top
// tone, and every sign right.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Controller, type ControllerConfig } from "../host/controller.ts";
import { Rng } from "../host/noise.ts";
import * as L from "../assembly/layout.ts";

const SAMPLE_RATE_HZ = 5000;
const SUB_STEPS = 16; // delays are multiples of 1/16 sample, so the held input is constant per sub-step
const GRADIENT = [1.5, -2.0, 1.1, 2.4, -1.7]; // ∂y/∂v_k of a linear device (output units per V), mixed signs
const CALIBRATION_EPOCHS = 64; // 64 windows of 1000 samples: 13 s of device time at 5 kHz
const SEEDS = [1, 2, 3, 4]; // noise streams; the errors compared are their means
const MEASURED_EPOCHS = 12;
const NOISE = 0.01; // white, per reading

/** The reference chain: y[n] (one per sample) in, readings out. */
class SampledChain {
  private readonly held: number[] = [];
  private output = Number.NaN;
  private readonly decayPerSubStep: number;
  constructor(private readonly delaySamples: number, cornerHz: number) {
    this.decayPerSubStep = cornerHz > 0 ? Math.exp((-2 * Math.PI * cornerHz) / SAMPLE_RATE_HZ / SUB_STEPS) : 0;
  }
  /** Sample n's device output in (held over [n, n + 1)); the reading at n + 1 out. */
  read(y: number): number {
    const n = this.held.length;
    this.held.push(y);
    if (Number.isNaN(this.output)) this.output = y; // at rest before the first sample
    for (let s = 0; s < SUB_STEPS; s++) {
      // the RC's input during [n + s/16, n + (s+1)/16) is the held value delayed D samples
      const index = Math.floor(n + s / SUB_STEPS - this.delaySamples + 1e-9);
      const input = this.held[Math.max(0, index)];
      this.output = input + (this.output - input) * this.decayPerSubStep;
    }
    return this.output;
  }
}

function config(overrides: Partial<ControllerConfig>): ControllerConfig {
  return {
    sampleRateHz: SAMPLE_RATE_HZ, windowSamples: 1000, settleSamples: 300,
    tones: { plan: { bandLowHz: 100, bandHighHz: 1000 } }, guardBins: 1,
    controls: GRADIENT.map(() => ({ amplitudeV: 0.02, minV: -1, maxV: 1, initialV: 0 })),
    inputs: [], cases: [{ inputsV: [], target: 0 }],
    loss: "mse", optimiser: "sgd", learningRate: 1e-12,
    reading: { min: -1e6, max: 1e6 },
    ...overrides,
  };
}

/** Runs CALIBRATION_EPOCHS epochs (calibrating or not), then MEASURED_EPOCHS; returns the mean
 *  relative error of the measured ∂y/∂v over those, their mean, and the lag in use. */
function measure(delaySamples: number, cornerHz: number, given: boolean, seed = 1) {
  const controller = new Controller();
  controller.configure(config(given ? { lag: { delaySamples, cornerHz } } : { calibrationEpochs: CALIBRATION_EPOCHS }));
  const chain = new SampledChain(delaySamples, cornerHz);
  const noise = new Rng(seed);
  let epochs = 0, errorSum = 0;
  const mean = new Array(GRADIENT.length).fill(0);
  const norm = Math.hypot(...GRADIENT);
  while (epochs < CALIBRATION_EPOCHS + MEASURED_EPOCHS) {
    const v = controller.electrodes();
    const y = GRADIENT.reduce((sum, g, k) => sum + g * v[k], 0);
    const events = controller.step(chain.read(y) + NOISE * noise.normal());
    if (!(events & L.Event.EpochDone)) continue;
    epochs++;
    if (epochs <= CALIBRATION_EPOCHS) continue;
    const row = controller.jacobianRow(0);
    errorSum += Math.hypot(...GRADIENT.map((g, k) => row[k] - g)) / norm;
    GRADIENT.forEach((_, k) => (mean[k] += row[k] / MEASURED_EPOCHS));
  }
  const topHz = (Math.max(...controller.toneBins()) * SAMPLE_RATE_HZ) / 1000;
  return { error: errorSum / MEASURED_EPOCHS, mean, topHz, status: controller.status() };
}

const TOP_HZ = measure(0, 0, true).topHz;

for (const delaySamples of [0, 0.3125, 7.6875, 64]) {
  for (const cornerShare of [0.2, 1, 5]) {
    const cornerHz = cornerShare * TOP_HZ;
    test(`delay ${delaySamples} samples, corner ${cornerShare}× the top tone (${cornerHz} Hz): calibrated error at most 1.5× the error with the true chain given, every sign right`, () => {
      let truth = 0, calibrated = 0;
      const fits: string[] = [];
      for (const seed of SEEDS) {
        truth += measure(delaySamples, cornerHz, true, seed).error / SEEDS.length;
        const run = measure(delaySamples, cornerHz, false, seed);
        calibrated += run.error / SEEDS.length;
        fits.push(`${run.status.lagDelaySamples.toFixed(3)} samples ${run.status.lagCornerHz.toFixed(0)} Hz`);
        run.mean.forEach((g, k) => assert.equal(Math.sign(g), Math.sign(GRADIENT[k]), `seed ${seed}: sign of control ${k}`));
      }
      const note = `calibrated ${calibrated.toFixed(4)}, true chain ${truth.toFixed(4)}; fitted ${fits.join(", ")}`;
      assert.ok(calibrated <= 1.5 * truth, note);
      console.log(`# delay ${delaySamples}, corner ${cornerShare}×: ${note}`);
    });
  }
}
