// What the order-2 plan buys (host/bench/fidelity.ts: collisionContrast): tones free of
// second-order products against a set where every tone is hit by a sum or difference of two
// others, without noise, on a device with quadratic coupling of every pair. On a static device
// the products of zero-phase sine tones are cosines, in quadrature with the tones, and neither
// set shows them; on a device whose coupling responds through a low-pass they land partly in
// phase, and only the colliding set shows them.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Controller, type ControllerConfig } from "../host/controller.ts";
import { LaggedQuadraticDevice, PolynomialDevice } from "../host/bench/devices.ts";
import { COLLIDING_FIRST_BIN, PAIR_QUADRATIC, QUADRATIC_LAG_HZ, QUADRATIC_SETTLE_SAMPLES, SAMPLE_RATE_HZ, TONE_AMPLITUDE_V, methodConfig, probeBase, probeRow, resistorProblem } from "../host/bench/fidelity.ts";
import type { Device } from "../host/devices/device.ts";
import { relativeError } from "../host/metrics.ts";

const N = 128;
const { device, operatingV, exact } = resistorProblem(N);
const center = operatingV.subarray(0, N);
const planned: ControllerConfig = {
  ...methodConfig(probeBase(device, operatingV), { method: "multitone", budgetSamples: 4096, amplitudeV: TONE_AMPLITUDE_V, planOrder: 2 }),
  inputs: [], cases: [{ inputsV: [], target: 0 }], settleSamples: QUADRATIC_SETTLE_SAMPLES,
};
const colliding: ControllerConfig = { ...planned, tones: { explicit: true }, controls: planned.controls.map((c, k) => ({ ...c, toneBin: COLLIDING_FIRST_BIN + k })) };
const noiseless = (config: ControllerConfig, make: () => Device) => relativeError(probeRow(config, make(), { sampleRateHz: SAMPLE_RATE_HZ }).row, exact);

test("the colliding set has every tone hit by a second-order product, the order-2 plan none", () => {
  const hits = (config: ControllerConfig) => {
    const controller = new Controller();
    controller.configure(config);
    return Array.from(controller.toneHits()).filter((h) => (h & 2) !== 0).length;
  };
  assert.equal(hits(planned), 0);
  assert.equal(hits(colliding), N);
});

test("static quadratic coupling: both sets measure the gradient (the products are in quadrature)", () => {
  const make = () => new PolynomialDevice(exact, center, 0, 0, 0, PAIR_QUADRATIC);
  assert.ok(noiseless(planned, make) < 1e-3, `planned ${noiseless(planned, make)}`);
  assert.ok(noiseless(colliding, make) < 1e-3, `colliding ${noiseless(colliding, make)}`);
});

test("lagged quadratic coupling: the order-2 plan measures the gradient, the colliding set does not", () => {
  const make = () => new LaggedQuadraticDevice(exact, center, PAIR_QUADRATIC, QUADRATIC_LAG_HZ, SAMPLE_RATE_HZ);
  const [p, c] = [noiseless(planned, make), noiseless(colliding, make)];
  assert.ok(p < 1e-3, `planned ${p}`);
  assert.ok(c > 1, `colliding ${c}`);
});
