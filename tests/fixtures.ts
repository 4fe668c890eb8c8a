// Shared set-ups for the host tests: an analytic device with a known optimum, and a
// controller configuration that matches it.
import { AnalyticDevice } from "../host/devices/analytic.ts";
import type { ControllerConfig } from "../host/controller.ts";
import { Rng } from "../host/noise.ts";

export const SAMPLE_RATE_HZ = 5000;

/** `count` input cases spread over the device's input ranges (seeded). */
export function inputCases(device: AnalyticDevice, count: number, seed = 7): number[][] {
  const rng = new Rng(seed);
  return Array.from({ length: count }, () => device.inputRangeV.map(([low, high]) => rng.between(low, high)));
}

/** A controller configuration for MSE regression onto targets the device realises exactly
 *  at device.knownOptimumV, starting from the middle of every range. */
export function analyticConfig(device: AnalyticDevice, overrides: Partial<ControllerConfig> = {}): ControllerConfig {
  const cases = inputCases(device, device.controlCount + 1);
  const targets = device.targetsFor(device.knownOptimumV, cases);
  return {
    sampleRateHz: SAMPLE_RATE_HZ,
    windowSamples: 1000,
    settleSamples: 40,
    tones: { plan: { bandLowHz: 100, bandHighHz: 1000 } },
    guardBins: 1,
    controls: device.controlRangeV.map(([minV, maxV]) => ({ amplitudeV: 0.01, minV, maxV, initialV: (minV + maxV) / 2 })),
    inputs: device.inputRangeV.map(([minV, maxV]) => ({ minV, maxV })),
    cases: cases.map((inputsV, p) => ({ inputsV, target: targets[p] })),
    loss: "mse",
    optimiser: "adam",
    learningRate: 0.02,
    beta1: 0.9,
    beta2: 0.99,
    calibrationEpochs: 0,
    reading: { min: -1000, max: 1000 },
    ...overrides,
  };
}

export { cosine, relativeError } from "../host/metrics.ts";
