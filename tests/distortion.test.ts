// The third-order distortion probe: during calibration one control's oscillator listens at a bin
// that holds the product 2f_i − f_j of two tones and nothing of lower order, and STATUS reports the
// amplitude found there beside the amplitude noise alone shows. A device with cross-cubic terms
// must show its distortion and keep the order-3 plan; a linear one must show only noise and may
// use order 2 (planOrderFor, the host's rule).
import { test } from "node:test";
import assert from "node:assert/strict";
import { Controller, planOrderFor, type ControllerConfig } from "../host/controller.ts";
import { CoSimulation } from "../host/cosim.ts";
import { WhiteNoise, noiseStream } from "../host/noise.ts";
import { PolynomialDevice } from "../host/bench/devices.ts";
import * as L from "../assembly/layout.ts";

const CONTROLS = 16;
const WINDOW = 1024;
const AMPLITUDE_V = 0.01;
const SIGMA = 0.01; // white noise per reading: 2σ/√W = 6.25e-4 at any bin
const EPOCHS = 4; //   calibration windows (one case)
const GRADIENT = Array.from({ length: CONTROLS }, (_, k) => (k % 2 ? -1 : 1) * (0.5 + k / CONTROLS));
const CENTER = new Array(CONTROLS).fill(0);

function configFor(planOrder: number, calibrationEpochs: number): ControllerConfig {
  return {
    sampleRateHz: 5000, windowSamples: WINDOW, settleSamples: 0,
    tones: { plan: { bandLowHz: 1250, bandHighHz: 2500 } }, guardBins: 0, planOrder,
    controls: GRADIENT.map(() => ({ amplitudeV: AMPLITUDE_V, minV: -1, maxV: 1, initialV: 0 })),
    inputs: [], cases: [{ inputsV: [], target: 0 }],
    loss: "mse", optimiser: "sgd", learningRate: 1e-12, calibrationEpochs,
    reading: { min: -1e6, max: 1e6 },
  };
}

function calibrate(pairCubic: number, planOrder: number) {
  const controller = new Controller();
  controller.configure(configFor(planOrder, EPOCHS));
  const device = new PolynomialDevice(GRADIENT, CENTER, 0, 0, pairCubic);
  const sim = new CoSimulation(controller, device, { sampleRateHz: 5000, noise: new WhiteNoise(SIGMA, noiseStream(7, 1)) });
  const samples = sim.run((EPOCHS + 1) * WINDOW, (events) => (events & L.Event.Calibrated) !== 0);
  assert.ok(samples <= EPOCHS * WINDOW + 2, "calibrated after the calibration windows");
  return controller.status();
}

test("a linear device shows only noise at the probe's bin, and the rule allows order 2", () => {
  const status = calibrate(0, 2);
  const noiseAlone = (2 * SIGMA) / Math.sqrt(WINDOW);
  // the noise estimate comes from the quadrature left by the lag fit: within 30% of 2σ/√W
  assert.ok(Math.abs(status.noiseAmplitude / noiseAlone - 1) < 0.3, `noise ${status.noiseAmplitude} vs ${noiseAlone}`);
  assert.ok(status.thirdOrderAmplitude < 2 * noiseAlone, `probe ${status.thirdOrderAmplitude}`);
  assert.equal(planOrderFor(status, EPOCHS), 2);
});

test("cross-cubic terms of 3e4 V⁻² show at the probe's bin far above the noise, and the rule keeps order 3", () => {
  // (v_i − v0)²(v_j − v0) puts 2f_i − f_j at amplitude 3e4 · a³ / 4 = 7.5e-3 per term. The
  // order-2 plan's probe listens one bin below its lowest tone, 2f_i − f_j for j = 2i + 1: eight
  // of the sixteen tones' pairs, in phase (every oscillator starts at phase 0), 0.06 in all
  const status = calibrate(3e4, 2);
  assert.ok(status.thirdOrderAmplitude > 0.05 && status.thirdOrderAmplitude < 0.07, `probe ${status.thirdOrderAmplitude}`);
  assert.ok(status.thirdOrderAmplitude > 10 * status.noiseAmplitude);
  assert.equal(planOrderFor(status, EPOCHS), 3);
});

test("without calibration nothing is measured (NaN) and the rule keeps order 3", () => {
  const controller = new Controller();
  controller.configure(configFor(2, 0));
  const status = controller.status();
  assert.ok(Number.isNaN(status.thirdOrderAmplitude) && Number.isNaN(status.noiseAmplitude));
  assert.equal(planOrderFor(status, 1), 3);
});
