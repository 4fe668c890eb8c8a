// The co-simulated measurement chain: the DAC model (which keeps every electrode inside its
// declared range), and the controller's gradient on the
// transistor–resistor network against that network's exact (adjoint) gradient.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Controller } from "../host/controller.ts";
import { ChainReading, CoSimulation, readingLimits, quantise, type ChainModel } from "../host/cosim.ts";
import { ResistorNetwork } from "../host/devices/resistor.ts";
import { WhiteNoise, PinkNoise, NoiseChain } from "../host/noise.ts";
import { defaultChain, NOISE_DEFAULTS, trainTask } from "../host/train.ts";
import { gateTask } from "../host/tasks/gates.ts";
import type { Device } from "../host/devices/device.ts";
import { Instrument } from "../host/methods/instrument.ts";
import * as L from "../assembly/layout.ts";
import { cosine } from "./fixtures.ts";

/** A device that reports its first electrode's voltage, to watch what the DAC delivers. */
const probe = { name: "probe", electrodeCount: 1, controlCount: 1, inputCount: 0, controlRangeV: [[-1, 1]] as Array<[number, number]>, inputRangeV: [], outputUnit: "V", capabilities: [], output: (v: Float64Array) => v[0] };

test("a DAC updating at a quarter of the sample rate holds each value for exactly 4 samples", () => {
  const controller = new Controller();
  controller.configure({ sampleRateHz: 4000, windowSamples: 400, settleSamples: 0, tones: { explicit: true }, controls: [{ toneBin: 7, amplitudeV: 0.5, minV: -1, maxV: 1, initialV: 0 }], inputs: [], cases: [{ inputsV: [], target: 0 }], loss: "mse", optimiser: "sgd", learningRate: 1e-9, reading: { min: -10, max: 10 }, calibrationEpochs: 0 });
  const sim = new CoSimulation(controller, probe, { sampleRateHz: 4000, dac: { bits: 12, rangeV: [-1, 1], updateRateHz: 1000 } });
  const seen: number[] = [];
  for (let n = 0; n < 40; n++) {
    const written = controller.electrodes()[0];
    const out = sim.deviceOutput();
    if (n % 4 === 0) assert.equal(out, quantise(written, -1, 1, 12), `sample ${n} takes the new value`);
    seen.push(out);
    sim.step();
  }
  for (let n = 0; n < 40; n++) assert.equal(seen[n], seen[n - (n % 4)], `sample ${n} holds`);
  assert.throws(() => new CoSimulation(controller, probe, { sampleRateHz: 4000, dac: { bits: 12, rangeV: [-1, 1], updateRateHz: 8000 } }), RangeError);
});

test("the controller's gradient on the resistor network matches the adjoint gradient (cosine ≥ 0.99) at the default noise and chain", () => {
  const network = new ResistorNetwork({ seed: 3, edgeCount: 8 });
  const chain = defaultChain(network);
  const noise = NOISE_DEFAULTS.V;
  const model: ChainModel = {
    sampleRateHz: chain.sampleRateHz,
    dac: { bits: chain.dacBits, rangeV: chain.dacRangeV },
    cornerHz: chain.cornerHz,
    delaySamples: chain.delaySamples,
    noise: new NoiseChain([new WhiteNoise(noise.whiteSigma, 11), new PinkNoise(noise.pinkPsdAt1kHz, chain.sampleRateHz, 12)]),
    adc: { bits: chain.adcBits, rangeV: chain.adcRangeV, outputPerV: chain.transimpedancePerV },
  };
  const gatesV = network.controlRangeV.map(([low, high], k) => low + (high - low) * (0.35 + 0.04 * k));
  const inputsV = network.inputRangeV.map(([low, high], i) => (i === 0 ? high : low));
  const controller = new Controller();
  controller.configure({
    sampleRateHz: chain.sampleRateHz, windowSamples: 2000, settleSamples: 50,
    tones: { plan: { bandLowHz: 100, bandHighHz: 900 } }, guardBins: 1,
    controls: network.controlRangeV.map(([minV, maxV], k) => ({ minV, maxV, amplitudeV: 0.02, initialV: gatesV[k] })),
    inputs: network.inputRangeV.map(([minV, maxV]) => ({ minV, maxV })),
    cases: [{ inputsV, target: 0 }],
    loss: "mse", optimiser: "sgd", learningRate: 1e-9, calibrationEpochs: 2,
    reading: readingLimits(model),
  });
  const sim = new CoSimulation(controller, network, model);
  sim.run(1e7, (events) => (events & L.Event.UpdateDone) !== 0);
  const exact = network.outputGradient(Float64Array.from([...gatesV, ...inputsV]), 0);
  const measured = controller.jacobianRow(0);
  const similarity = cosine(measured, exact);
  assert.ok(similarity >= 0.99, `cosine ${similarity}; lag fitted ${controller.status().lagDelaySamples} samples, ${controller.status().lagCornerHz} Hz`);
});

test("the DAC delivers the converter's step nearest the written voltage inside the electrode's range, at both edges", () => {
  const step = 2.5 / (2 ** 16 - 1); // the default chain's 16-bit ±1.25 V converter
  // unbounded, the step nearest 1 V lies half a step beyond it (the overshoot a strict device refused)
  assert.ok(quantise(1, -1.25, 1.25, 16) > 1);
  for (const [low, high] of [[-1, 1], [-1.2, 0.6], [-0.7, 0.3]] as Array<[number, number]>) {
    for (const written of [low, high, Math.fround(low), Math.fround(high), low - 0.1, high + 0.1, low - 5, high + 5]) {
      const v = quantise(written, -1.25, 1.25, 16, [low, high]);
      assert.ok(v >= low && v <= high, `${written} V on [${low}, ${high}] gave ${v} V`);
      const code = (v + 1.25) / step;
      assert.ok(Math.abs(code - Math.round(code)) < 1e-6, `${v} V is a converter step`);
      const edge = Math.abs(written - low) < Math.abs(written - high) ? low : high;
      assert.ok(Math.abs(v - edge) < step, `${v} V is within one step of the edge ${edge} V`);
    }
    // inside the range, the nearest step as before
    const middle = (low + high) / 2 + step / 3;
    assert.equal(quantise(middle, -1.25, 1.25, 16, [low, high]), quantise(middle, -1.25, 1.25, 16));
  }
  // a range narrower than one step: its nearest end
  assert.equal(quantise(0.5, -1.25, 1.25, 16, [0.10001, 0.100011]), 0.100011);
  assert.equal(quantise(-0.5, -1.25, 1.25, 16, [0.10001, 0.100011]), 0.10001);
});

test("a device that throws on any voltage outside its declared ranges trains XOR through the default chain", () => {
  const ranges: Array<[number, number]> = [[-1, 1], [-1, 1], [-0.5, 0.7], [-1, 1], [-1, 1], [-1, 1], [-1.2, 0.6]];
  const strict: Device = {
    name: "strict", controlCount: 5, inputCount: 2, electrodeCount: 7,
    controlRangeV: ranges.slice(0, 5), inputRangeV: ranges.slice(5), outputUnit: "nA", capabilities: [],
    output(v) {
      v.forEach((x, e) => {
        if (!(x >= ranges[e][0] && x <= ranges[e][1])) throw new RangeError(`electrode ${e} at ${x} V, out of range`);
      });
      const [a, b, c, d, e, x, y] = v;
      return 80 * Math.tanh(a * x - b * y + 2 * c * x * y + d - 0.5 * e * e);
    },
  };
  for (const seed of [1, 2]) {
    const run = trainTask({ device: strict, task: gateTask("XOR", strict.inputRangeV), seed, maxIterations: 6, solvedEpochs: 0 });
    assert.equal(run.iterations, 6);
  }
  // the peers' instrument (pat, phyll, the resistive methods) at every edge of every range
  const instrument = new Instrument(strict, 1);
  for (const side of [0, 1]) assert.ok(Number.isFinite(instrument.measure(ranges.map((range) => range[side]))));
});

test("a peer's plain reading goes through the chain's low-pass and delay: settled at the defaults, the previous point's without settling", () => {
  const quiet = { whiteSigma: 0, pinkPsdAt1kHz: 0 };
  const read = (settings: { settleSamples?: number; windowSamples?: number; chain?: { sampleRateHz: number } }) => {
    const instrument = new Instrument(probe, 1, { noise: quiet, ...settings });
    instrument.measure([-0.5]);
    return instrument.measure([0.5]);
  };
  // defaults (10 settling samples, 2 of them delay, a 1 kHz corner at 5 kHz): e^−10 of the 1 V step is left
  const settled = read({});
  assert.ok(Math.abs(settled - 0.5) < 1e-4, `settled: ${settled}`);
  // no settling and one sample: the reading is the previous point's (the chain's 2 samples of delay)
  assert.ok(Math.abs(read({ settleSamples: 0, windowSamples: 1 }) + 0.5) < 1e-3);
  // 10 settling samples at 50 kHz are 0.2 ms, 1.3 time constants of a 1 kHz corner: far from settled
  const fast = read({ chain: { sampleRateHz: 50000 } });
  assert.ok(fast < 0.45, `at 50 kHz: ${fast}`);
  // the closed loop reads through the same chain: a step through CoSimulation's chain matches
  const chain = new ChainReading({ sampleRateHz: 5000, cornerHz: 1000, delaySamples: 2 });
  const steps = [chain.next(-0.5), ...Array.from({ length: 12 }, () => chain.next(0.5))];
  assert.deepEqual(steps.slice(0, 3), [-0.5, -0.5, -0.5]); // at rest, then two samples of delay
  assert.ok(steps[3] > -0.5 && steps[3] < 0.5 && steps[12] > steps[11]);
});
