// The controller module in a closed loop, through its typed host wrapper: gradient fidelity,
// training, calibration, refusal of bad configurations, safety under hostile readings,
// checkpoints, and the release module's limits.
import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { Controller, ControllerError, RELEASE_WASM, type ControllerConfig } from "../host/controller.ts";
import { CoSimulation, type ChainModel } from "../host/cosim.ts";
import { AnalyticDevice } from "../host/devices/analytic.ts";
import { PolynomialDevice } from "../host/bench/devices.ts";
import { WhiteNoise, Rng } from "../host/noise.ts";
import * as L from "../assembly/layout.ts";
import { analyticConfig, inputCases, cosine, relativeError, SAMPLE_RATE_HZ } from "./fixtures.ts";

const quietChain = (delaySamples = 2, cornerHz = 1500): ChainModel => ({
  sampleRateHz: SAMPLE_RATE_HZ,
  delaySamples,
  cornerHz,
  noise: new WhiteNoise(0.01, 3),
});

/** Runs one epoch; returns the measured and the exact ∂L/∂w at the starting weights. */
function firstGradient(config: ControllerConfig, chain: ChainModel, device = new AnalyticDevice()) {
  const controller = new Controller();
  controller.configure(config);
  const start = Float64Array.from(controller.weights());
  const sim = new CoSimulation(controller, device, chain);
  sim.run(10_000_000, (events) => (events & L.Event.UpdateDone) !== 0);
  const outputs = controller.caseOutputs();
  const exact = new Float64Array(device.controlCount);
  const voltages = new Float64Array(device.electrodeCount);
  config.cases.forEach((c, p) => {
    voltages.set(start);
    voltages.set(c.inputsV, device.controlCount);
    const row = device.outputGradient(voltages);
    const slope = (2 * (outputs[p] - c.target)) / config.cases.length;
    row.forEach((g, k) => (exact[k] += slope * g));
  });
  return { measured: Float64Array.from(controller.gradient()), exact, controller };
}

describe("gradient extraction in a closed loop", () => {
  test("the loss gradient on the analytic device is within 2% of the exact one (cosine ≥ 0.999)", () => {
    const device = new AnalyticDevice();
    const { measured, exact } = firstGradient(analyticConfig(device, { lag: { delaySamples: 2, cornerHz: 1500 } }), quietChain(), device);
    assert.ok(cosine(measured, exact) >= 0.999, `cosine ${cosine(measured, exact)}`);
    assert.ok(relativeError(measured, exact) <= 0.02, `relative error ${relativeError(measured, exact)}`);
  });

  test("demodulating the loss signal (MGD style) gives the same gradient within 2%", () => {
    const device = new AnalyticDevice();
    const config = analyticConfig(device, { gradient: "loss-signal", lag: { delaySamples: 2, cornerHz: 1500 } });
    const { measured, exact } = firstGradient(config, quietChain(), device);
    assert.ok(relativeError(measured, exact) <= 0.02, `relative error ${relativeError(measured, exact)}`);
  });

  test("calibration finds an unknown lag of 130° at the top tone: gradient within 2%, every sign right", () => {
    const device = new AnalyticDevice();
    // 9 samples of delay and a 150 Hz corner: no configured lag, two calibration epochs
    const config = analyticConfig(device, { calibrationEpochs: 2 });
    const { measured, exact, controller } = firstGradient(config, quietChain(9, 150), device);
    const bins = controller.toneBins();
    const topHz = (Math.max(...bins) * SAMPLE_RATE_HZ) / config.windowSamples;
    const lagDegrees = ((2 * Math.PI * topHz * 9) / SAMPLE_RATE_HZ + Math.atan(topHz / 150)) * (180 / Math.PI);
    assert.ok(lagDegrees > 90, `the chain lags ${lagDegrees}° at ${topHz} Hz`);
    measured.forEach((g, k) => assert.equal(Math.sign(g), Math.sign(exact[k]), `sign of control ${k}`));
    assert.ok(relativeError(measured, exact) <= 0.02, `relative error ${relativeError(measured, exact)}`);
  });

  test("training reaches the known optimal loss (zero): RMS error below 0.05 nA, the exact gradient there below 1% of the start's", () => {
    // The tanh device realises its targets on a manifold of control vectors (2-D inputs, 5
    // controls), so the optimum is known by its value, not as one weight vector.
    const device = new AnalyticDevice();
    const cases = inputCases(device, 16);
    const targets = device.targetsFor(device.knownOptimumV, cases);
    const config = analyticConfig(device, {
      windowSamples: 500,
      learningRate: 0.05,
      lag: { delaySamples: 2, cornerHz: 1500 },
      cases: cases.map((inputsV, p) => ({ inputsV, target: targets[p] })),
    });
    const controller = new Controller();
    controller.configure(config);
    const exactLossGradient = (weights: ArrayLike<number>) => {
      const outputs = device.targetsFor(weights, cases);
      const gradient = new Float64Array(device.controlCount);
      const voltages = new Float64Array(device.electrodeCount);
      cases.forEach((inputs, p) => {
        voltages.set(Array.from(weights));
        voltages.set(inputs, device.controlCount);
        device.outputGradient(voltages).forEach((g, k) => (gradient[k] += (2 * (outputs[p] - targets[p]) * g) / cases.length));
      });
      return Math.hypot(...gradient);
    };
    const startGradient = exactLossGradient(controller.weights());
    new CoSimulation(controller, device, quietChain()).runUpdates(600, 1e9);
    const outputs = device.targetsFor(controller.weights(), cases);
    const rms = Math.sqrt(outputs.reduce((sum, y, p) => sum + (y - targets[p]) ** 2, 0) / cases.length);
    assert.ok(rms < 0.05, `RMS error ${rms} nA`);
    assert.ok(exactLossGradient(controller.weights()) < 0.01 * startGradient);
  });

  test("the streaming lock-in (order 2, SGD) drives one case's output to its target within 10 pA", () => {
    const device = new AnalyticDevice();
    const base = analyticConfig(device);
    const target = device.targetsFor(device.knownOptimumV, [base.cases[0].inputsV])[0];
    const controller = new Controller();
    controller.configure({ ...base, gradient: "streaming", stream: { order: 2, tauSamples: 400 }, cases: [{ inputsV: base.cases[0].inputsV, target }], optimiser: "sgd", learningRate: 1e-4 });
    new CoSimulation(controller, device, quietChain(0, 0)).runUpdates(600, 1e9);
    const output = controller.caseOutputs()[0];
    assert.ok(Math.abs(output - target) < 0.01, `output ${output} nA, target ${target} nA`);
  });
});

test("hold(): a held epoch reads its controls plainly (each control written exactly at the measured weight, no tone), reports the plain outputs and no update, keeps the measured Jacobian and gradient; hold(false) brings the tones back", () => {
  const device = new AnalyticDevice();
  const config = analyticConfig(device, { lag: { delaySamples: 2, cornerHz: 1500 } });
  const controller = new Controller();
  controller.configure(config);
  const measured = Array.from(controller.weights());
  const sim = new CoSimulation(controller, device, { ...quietChain(), noise: undefined });
  sim.run(10_000_000, (events) => (events & L.Event.UpdateDone) !== 0);
  const gradient = Array.from(controller.gradient());
  const jacobian = config.cases.map((_, p) => Array.from(controller.jacobianRow(p)));
  assert.notDeepEqual(Array.from(controller.weights()), measured, "the update moved the controls");
  controller.hold(true);
  assert.deepEqual(Array.from(controller.weights()), measured, "held at the controls the epoch measured");
  const controls = device.controlCount;
  let offTone = 0, events = 0, samples = 0;
  while (!(events & L.Event.EpochDone)) {
    events = sim.step();
    // after the ramp back from the last tone (one sample: a tone never reaches the slew limit)
    if (samples++ > 0) controller.electrodes().subarray(0, controls).forEach((v, k) => (offTone = Math.max(offTone, Math.abs(v - Math.fround(measured[k])))));
  }
  assert.equal(events & L.Event.UpdateDone, 0, "no update while held");
  assert.equal(offTone, 0, "every control written at its weight, every sample");
  assert.deepEqual(Array.from(controller.gradient()), gradient);
  config.cases.forEach((_, p) => assert.deepEqual(Array.from(controller.jacobianRow(p)), jacobian[p]));
  // the window mean of the settled, noiseless reading of the device at those voltages, summed in f32 as the module sums
  const plain = config.cases.map((c) => {
    const reading = Math.fround(device.output(Float64Array.from([...measured, ...c.inputsV])));
    let sum = 0;
    for (let n = 0; n < config.windowSamples; n++) sum = Math.fround(sum + reading);
    return Math.fround(sum / config.windowSamples);
  });
  assert.deepEqual(Array.from(controller.caseOutputs()), plain);
  controller.hold(false);
  let tone = 0;
  sim.run(10_000_000, (e) => {
    controller.electrodes().subarray(0, controls).forEach((v, k) => (tone = Math.max(tone, Math.abs(v - Math.fround(measured[k])))));
    return (e & L.Event.UpdateDone) !== 0;
  });
  assert.ok(tone >= 0.99 * config.controls[0].amplitudeV, `tones back: ${tone} V from the weights`);
});

test("tone phases (README 'Tone phases'): the m-th voltages since configure() carry sin(2π·m·bin/W) on every control, but the one the distortion probe borrows: no tone through the calibration, then its tone at a constant offset", () => {
  const device = new AnalyticDevice(); // 5 controls: the calibration probes (three or more)
  const config = analyticConfig(device, { calibrationEpochs: 2 });
  const controller = new Controller();
  controller.configure(config);
  const bins = Array.from(controller.toneBins()), W = config.windowSamples, K = device.controlCount;
  const amplitudes = config.controls.map((c) => Math.fround(c.amplitudeV));
  // the tone on control k at the m-th write, as a fraction of its amplitude (its weight taken off)
  const toneOf = (k: number) => (controller.electrodes()[k] - controller.weights()[k]) / amplitudes[k];
  const ruleError = (k: number, m: number, offset = 0) => Math.abs(toneOf(k) - Math.sin((2 * Math.PI * ((m * bins[k] + offset) % W)) / W));
  const worst = new Array(K).fill(0), silent = new Array(K).fill(0);
  let m = 1, events = 0, reading = device.output(controller.electrodes());
  const step = () => {
    events = controller.step(reading);
    m++;
    reading = device.output(controller.electrodes());
  };
  while (!(events & (L.Event.Calibrated | L.Event.LagUnfitted))) {
    for (let k = 0; k < K; k++) worst[k] = Math.max(worst[k], ruleError(k, m));
    for (let k = 0; k < K; k++) silent[k] = Math.max(silent[k], Math.abs(toneOf(k)));
    step();
  }
  const probe = silent.findIndex((amplitude) => amplitude === 0);
  assert.ok(probe >= 0 && silent.filter((amplitude) => amplitude === 0).length === 1, `one control without a tone through the calibration: ${silent}`);
  worst.forEach((error, k) => k !== probe && assert.ok(error < 1e-3, `control ${k + 1} off the rule by ${error} before the calibration ended`));
  step(); // (the write that ends the calibration may ramp to the lag's first update)
  const offset = Array.from({ length: W }, (_, d) => d).reduce((best, d) => (ruleError(probe, m, d) < ruleError(probe, m, best) ? d : best), 0);
  worst.fill(0);
  for (let epochs = 0; epochs < 3; ) {
    step();
    if (events & L.Event.EpochDone) epochs++;
    if (events & L.Event.UpdateDone) continue; // (the controls move: their weights are read after)
    for (let k = 0; k < K; k++) worst[k] = Math.max(worst[k], ruleError(k, m, k === probe ? offset : 0));
  }
  worst.forEach((error, k) => assert.ok(error < 1e-3, `control ${k + 1} off the rule${k === probe ? ` (the probe's, offset ${offset}/${W} of a turn)` : ""} by ${error} after the calibration`));
});

test("hold() after an epoch whose update was skipped (a gradient that is not finite) keeps the controls that epoch measured; it undoes no earlier update", () => {
  const device = new AnalyticDevice();
  // amplitudes so small that a tone-correlated reading of 1e11 puts ∂ȳ/∂w past f32's range
  const config = analyticConfig(device, { reading: { min: -1e12, max: 1e12 }, lag: { delaySamples: 0, cornerHz: 0 } });
  config.controls.forEach((c) => (c.amplitudeV = 1e-20));
  const controller = new Controller();
  controller.configure(config);
  const initial = Array.from(controller.weights());
  const bins = controller.toneBins(), W = config.windowSamples;
  let n = 0, scale = 1e-3, level = 1;
  const epoch = () => {
    let events = 0;
    while (!(events & L.Event.EpochDone)) { n++; events = controller.step(level + scale * Math.sin((2 * Math.PI * n * bins[0]) / W)); }
    return events;
  };
  assert.ok(epoch() & L.Event.UpdateDone, "the first epoch updates");
  const measured = Array.from(controller.weights());
  assert.notDeepEqual(measured, initial);
  scale = 1e11; level = 1e11;
  assert.equal(epoch() & L.Event.UpdateDone, 0, "the second epoch's update is skipped");
  assert.equal(controller.status().skippedUpdates, 1);
  assert.ok(!controller.gradient().every(Number.isFinite), "its gradient is not finite");
  controller.hold(true);
  assert.deepEqual(Array.from(controller.weights()), measured, "held where the skipped epoch measured, not before the first update");
});

test("a lag corner too low for its pole to differ from 1 in f32 (1e-6 Hz at 5 kHz) still gives a finite gradient and an update, in the direction a corner of 1e-2 Hz gives (both far below the tones, where 1/H's phase hardly depends on the corner)", () => {
  const device = new AnalyticDevice();
  const chain = { ...quietChain(), noise: undefined };
  const gradientFor = (cornerHz: number) => firstGradient(analyticConfig(device, { lag: { delaySamples: 2, cornerHz } }), chain, device);
  const low = gradientFor(1e-6), higher = gradientFor(1e-2);
  assert.ok(low.measured.every(Number.isFinite), `gradient ${Array.from(low.measured)}`);
  assert.equal(low.controller.status().updates, 1);
  assert.ok(cosine(low.measured, higher.measured) >= 0.999, `cosine ${cosine(low.measured, higher.measured)}`);
});

test("SPSA's gain sequences (Spall): the k-th update's step is the learning rate × (k + 1 + A)^−0.602 × the estimate, and its perturbation is the configured amplitude × (k + 1)^−0.101", () => {
  const device = new AnalyticDevice();
  const controller = new Controller();
  const stability = 5, learningRate = 1e-3, amplitudeV = 0.01;
  controller.configure(analyticConfig(device, { perturbation: "spsa", optimiser: "sgd", learningRate, spsaStability: stability }));
  const sim = new CoSimulation(controller, device, { sampleRateHz: SAMPLE_RATE_HZ, delaySamples: 2, cornerHz: 1500, noise: new WhiteNoise(0, 3) });
  const controls = device.controlCount;
  for (let k = 0; k < 4; k++) {
    const before = Float64Array.from(controller.weights());
    // each control's written extremes over the epoch: its centre ± the perturbation (a control
    // that moves at the update only widens them, so the narrowest is the perturbation's)
    const low = new Array<number>(controls).fill(Infinity), high = new Array<number>(controls).fill(-Infinity);
    sim.run(10_000_000, (events) => {
      if (events & L.Event.UpdateDone) return true;
      controller.electrodes().slice(0, controls).forEach((v, c) => ((low[c] = Math.min(low[c], v)), (high[c] = Math.max(high[c], v))));
      return false;
    });
    const after = controller.weights(), gradient = controller.gradient();
    const gain = (k + 1 + stability) ** -0.602;
    for (let c = 0; c < controls; c++) {
      const step = (before[c] - after[c]) / (learningRate * gradient[c]);
      assert.ok(Math.abs(step / gain - 1) < 1e-4, `update ${k + 1}, control ${c + 1}: step ${step} × lr × gradient, (k + 1 + A)^−0.602 = ${gain}`);
    }
    const perturbation = Math.min(...high.map((h, c) => (h - low[c]) / 2));
    const shrunk = amplitudeV * (k + 1) ** -0.101;
    assert.ok(Math.abs(perturbation / shrunk - 1) < 1e-4, `epoch ${k + 1}: perturbation ${perturbation} V, a·(k + 1)^−0.101 = ${shrunk} V`);
  }
});

describe("configuration", () => {
  const device = new AnalyticDevice();
  const good = analyticConfig(device);
  const bad: Array<[string, string, Partial<ControllerConfig> | ((c: ControllerConfig) => ControllerConfig)]> = [
    ["a learning rate of NaN", "LearningRate", { learningRate: NaN }],
    ["a window of 4 samples", "WindowSamples", { windowSamples: 4 }],
    ["calibrating the lag from a single tone (its phase is known only modulo π)", "CalibrationEpochs", (c) => ({ ...c, calibrationEpochs: 2, controls: c.controls.slice(0, 1) })],
    ["an amplitude wider than half the range", "AmplitudeV", (c) => ({ ...c, controls: c.controls.map((x, k) => (k === 2 ? { ...x, amplitudeV: 1 } : x)) })],
    // (MaxV − MinV rounds up in f32 to 2^-25 above this amplitude's double: the check is in f64)
    ["an amplitude half an f32 step over half the range", "AmplitudeV", (c) => ({ ...c, controls: c.controls.map((x, k) => (k === 2 ? { ...x, minV: -5 * 2 ** -26, maxV: 1, amplitudeV: 0.5000000596046448, initialV: 0.5 } : x)) })],
    ["a start outside the range", "InitialV", (c) => ({ ...c, controls: c.controls.map((x, k) => (k === 3 ? { ...x, initialV: 5 } : x)) })],
    ["a case input outside its electrode's range", "CaseInputV", (c) => ({ ...c, cases: c.cases.map((x, p) => (p === 1 ? { ...x, inputsV: [9, 0] } : x)) })],
    ["a class target other than 0 or 1", "Target", { loss: "corrsig" }],
    ["loss-signal demodulation with a loss that is not MSE", "Gradient", (c) => ({ ...c, loss: "fisher", gradient: "loss-signal", cases: c.cases.map((x, p) => ({ ...x, target: p % 2 })) })],
    ["an impossible tone plan", "Plan", { tones: { plan: { bandLowHz: 100, bandHighHz: 110 } } }],
    ["a tone above Nyquist", "ToneBin", (c) => ({ ...c, tones: { explicit: true }, controls: c.controls.map((x, k) => ({ ...x, toneBin: 500 + k })) })],
    ["saturation limits in the wrong order", "ReadingMax", { reading: { min: 5, max: -5 } }],
    ["two controls on one given tone (their lock-ins could not tell them apart)", "ToneBin", (c) => ({ ...c, tones: { explicit: true }, controls: c.controls.map((x, k) => ({ ...x, toneBin: k === 3 ? 101 : 100 + k })) })],
    ["a class loss whose targets are all one class (nothing to separate)", "Target", (c) => ({ ...c, loss: "corrsig", cases: c.cases.map((x) => ({ ...x, target: 1 })) })],
    ["a control whose range is one voltage (MaxV = MinV)", "MaxV", (c) => ({ ...c, controls: c.controls.map((x, k) => (k === 1 ? { ...x, minV: 0.25, maxV: 0.25, initialV: 0.25 } : x)) })],
    ["streaming with a ±1 code instead of tones", "Perturbation", (c) => ({ ...c, gradient: "streaming", perturbation: "walsh", cases: c.cases.slice(0, 1), windowSamples: 1024 })],
  ];

  for (const [what, field, change] of bad) {
    test(`${what} is refused naming ${field}, and the running configuration carries on bit-identically`, () => {
      const controller = new Controller();
      const twin = new Controller();
      controller.configure(good);
      twin.configure(good);
      const simA = new CoSimulation(controller, device, quietChain());
      const simB = new CoSimulation(twin, new AnalyticDevice(), quietChain());
      simA.runUpdates(2, 1e8);
      simB.runUpdates(2, 1e8);
      const config = typeof change === "function" ? change(good) : { ...good, ...change };
      assert.throws(() => controller.configure(config), (error: unknown) => error instanceof ControllerError && error.field === field);
      for (let n = 0; n < 20_000; n++) {
        simA.step();
        simB.step();
        assert.deepEqual(controller.electrodes(), twin.electrodes());
      }
      assert.deepEqual(controller.weights(), twin.weights());
    });
  }

  test("a refusal says the value, and either the field's bounds or, for a value inside them, the rule it breaks", () => {
    const message = (change: Partial<ControllerConfig>) => {
      try { new Controller().configure({ ...good, ...change }); } catch (error) { if (error instanceof ControllerError) return error.message; }
      return "accepted";
    };
    assert.equal(message({ beta1: 1.5 }), "configuration refused: Beta1 = 1.5 is out of range (0 .. 0.99999994, the largest f32 below 1)");
    assert.equal(message({ windowSamples: 4 }), "configuration refused: WindowSamples = 4 is out of range (8 .. 2^20 samples)");
    assert.match(message({ loss: "fisher", gradient: "loss-signal", cases: good.cases.map((x, p) => ({ ...x, target: p % 2 })) }),
      /^configuration refused: Gradient = 1 is within its bounds \(0 \.\. 2\) but not with the rest of this configuration: .*1 demodulate the loss signal \(MSE\)/);
    assert.match(message({ cases: good.cases.map((x, p) => (p === 1 ? { ...x, inputsV: [9, 0] } : x)) }),
      /^configuration refused: CaseInputV \(case 2, input 1\) = 9 is not valid here: .*inside each input's range/);
    // a missing class is no case's fault: the message named the last case, "= 1 is not valid here"
    assert.equal(message({ loss: "corrsig", cases: good.cases.map((x) => ({ ...x, target: 1 })) }), "configuration refused: Target: corrsig needs cases of both classes, 0 and 1; none is 0");
    assert.match(message({ loss: "corrsig", cases: good.cases.map((x, p) => ({ ...x, target: p === 2 ? 0.5 : 0 })) }), /^configuration refused: Target \(case 3\) = 0\.5 is not valid here/);
  });

  test("ChipSamples, a code's setting, does not bind tones: 3 with a 1000-sample window is accepted (the full build refused it, naming WindowSamples)", () => {
    const controller = new Controller();
    controller.configure({ ...good, chipSamples: 3 });
    assert.throws(() => controller.configure({ ...good, chipSamples: 3, perturbation: "walsh" }), (error: unknown) => error instanceof ControllerError && error.field === "WindowSamples");
  });

  test("a refused array field names its element, counted from 1 (the third control: control 3; its index, the module's, 2)", () => {
    const controller = new Controller();
    const config = { ...good, controls: good.controls.map((x, k) => (k === 2 ? { ...x, minV: NaN } : x)) };
    assert.throws(() => controller.configure(config), (error: unknown) => error instanceof ControllerError && error.field === "MinV" && error.index === 2 && /\(control 3\)/.test(error.message));
    // the slew limit names its electrode the same way (it said "electrode 0" of the first)
    assert.throws(() => controller.configure({ ...good, slewVPerS: 1e-9 }), (error: unknown) => error instanceof ControllerError && error.field === "SlewVPerS" && error.index === 0 && /below what electrode 1 needs/.test(error.message));
  });

  test("an impossible plan names a window that does plan, and that window is accepted", () => {
    const controller = new Controller();
    const narrow = { ...good, windowSamples: 200, tones: { plan: { bandLowHz: 100, bandHighHz: 400 } } };
    let message = "";
    assert.throws(() => controller.configure(narrow), (error: unknown) => error instanceof ControllerError && ((message = error.message), true));
    const window = Number(/at least (\d+) samples/.exec(message)?.[1]);
    assert.ok(window > 200, message);
    controller.configure({ ...narrow, windowSamples: window });
    assert.equal(controller.toneBins().length, device.controlCount);
  });

  test("the published 25/45/65/95/115 Hz tones are reported as hit by intermodulation (65, 95 and 115 Hz)", () => {
    const controller = new Controller();
    const bins = [10, 18, 26, 38, 46]; // at 5 kHz over 2000 samples
    controller.configure({ ...good, windowSamples: 2000, tones: { explicit: true }, guardBins: 0, controls: good.controls.map((x, k) => ({ ...x, toneBin: bins[k] })) });
    const hits = controller.toneHits();
    for (const k of [2, 3, 4]) assert.notEqual(hits[k] & 4, 0, `tone ${bins[k]} should be hit by a third-order product`);
    assert.ok(controller.status().hitTones >= 3);
    // a plan is collision-free by construction: configuring one clears the previous hits
    controller.configure({ ...good, windowSamples: 2000, tones: { plan: { bandLowHz: 20, bandHighHz: 120 } }, guardBins: 0 });
    assert.deepEqual(Array.from(controller.toneHits()), [0, 0, 0, 0, 0]);
    assert.equal(controller.status().hitTones, 0);
  });
});

describe("folded intermodulation", () => {
  // fs 5 kHz, W = 1000, a band from 2395 Hz (bin 479) to Nyquist. A plan that ignored folding
  // takes the 5-tone Sidon set at the band's edge, bins 479, 484, 492, 494, 495, where the
  // third-order 2·492 + 495 = 1479 appears at 1479 − 1000 = 479 and 2·495 + 494 = 1484 at 484.
  // Sine-type products (third order) fold onto a tone's in-phase sum and corrupt it; on a cubic
  // device with control 0's derivative zero, that tone then reads far from zero.
  const EDGE_SET = [479, 484, 492, 494, 495];
  const GRADIENT = [0, 0.3, -0.2, 0.1, 0.25];
  const AMPLITUDE_V = 0.1;
  const device = new PolynomialDevice(GRADIENT, [0, 0, 0, 0, 0], 0, 0, 10); // 10·Σ d_j² d_k
  const smoothed = device.toneSmoothedGradient(GRADIENT.map(() => AMPLITUDE_V)); // what any tone set reads with no product on a tone
  const config = (tones: ControllerConfig["tones"], windowSamples = 1000, bins: number[] = []): ControllerConfig => ({
    sampleRateHz: 5000, windowSamples, settleSamples: 0, tones, guardBins: 0,
    controls: GRADIENT.map((_, k) => ({ toneBin: bins[k], amplitudeV: AMPLITUDE_V, minV: -1, maxV: 1, initialV: 0 })),
    inputs: [], cases: [{ inputsV: [], target: 0 }], loss: "mse", optimiser: "sgd", learningRate: 1e-9,
    reading: { min: -100, max: 100 }, slewVPerS: 5000, calibrationEpochs: 0, // a 0.1 V tone near Nyquist moves 1.5 kV/s
  });
  /** The first window's ∂y/∂v, less the smoothed gradient. */
  const leak = (controller: Controller) => {
    new CoSimulation(controller, device, { sampleRateHz: 5000 }).run(1e6, (e) => (e & L.Event.WindowDone) !== 0);
    return Array.from(controller.jacobianRow(0), (g, k) => Math.abs(g - smoothed[k]));
  };

  test("the given-tone report names folded hits: the band-edge set above fs/4 (tone 479: third order; its zero derivative reads more than 0.01 off), and 30 and 40 in 100 samples (2·30 = 60 appears at 40)", () => {
    const edge = new Controller();
    edge.configure(config({ explicit: true }, 1000, EDGE_SET));
    assert.notEqual(edge.toneHits()[0] & 4, 0);
    assert.notEqual(edge.toneHits()[1] & 4, 0);
    assert.ok(leak(edge)[0] > 0.01, "the folded product is really there");
    const pair = new Controller();
    pair.configure({ ...config({ explicit: true }, 100, [30, 40]), controls: config({ explicit: true }).controls.slice(0, 2).map((c, k) => ({ ...c, toneBin: [30, 40][k] })) });
    assert.deepEqual(Array.from(pair.toneHits()), [2, 2]);
  });

  test("the planner refuses that band at W = 1000 rather than plan the band-edge set; in the window it names, every derivative is within 1e-4 of the smoothed gradient", () => {
    const band = { plan: { bandLowHz: 2395, bandHighHz: 2500 } };
    const planned = new Controller();
    const minimum = (() => {
      try { planned.configure(config(band)); } catch (error) { assert.ok(error instanceof ControllerError && error.field === "Plan"); }
      return planned.exports.memory && new Int32Array(planned.exports.memory.buffer, planned.exports.STATUS.value as number, L.STATUS_WORDS)[L.Status.PlanMinWindow];
    })();
    assert.ok(minimum > 1000, `names ${minimum}`);
    planned.configure(config(band, minimum));
    const bins = Array.from(planned.toneBins());
    const check = new Controller();
    check.configure(config({ explicit: true }, minimum, bins)); // the same bins, checked as given tones
    assert.equal(check.status().hitTones, 0, `planned bins ${bins}`);
    const error = leak(planned);
    assert.ok(Math.max(...error) < 1e-4, `planned ${bins} of ${minimum}: ${error}`);
  });
});

describe("safety", () => {
  test("NaN readings never reach the weights: 20 spoiled windows are discarded and counted, a fault raised at 16", () => {
    const device = new AnalyticDevice();
    const controller = new Controller();
    controller.configure(analyticConfig(device, { settleSamples: 0 }));
    const start = Float32Array.from(controller.weights());
    let faults = 0;
    for (let n = 0; n < 20 * 1000; n++) {
      const events = controller.step(n % 1000 === 500 ? NaN : 1);
      if (events & L.Event.Fault) faults++;
    }
    const status = controller.status();
    assert.equal(status.discardedWindows, 20);
    assert.equal(status.updates, 0);
    assert.equal(faults, 5); // the 16th to the 20th discard in a row
    assert.deepEqual(controller.weights(), start);
  });

  test("a fault needs 16 spoiled windows in a row: every other window spoiled (20 of 40) raises none, each good window starting the count again", () => {
    const device = new AnalyticDevice();
    const controller = new Controller();
    controller.configure(analyticConfig(device, { settleSamples: 0 }));
    let faults = 0;
    for (let n = 0; n < 200_000; n++) {
      const status = controller.status();
      const window = status.windows + status.discardedWindows;
      if (window >= 40) break;
      const events = controller.step(window % 2 === 0 ? NaN : 1);
      if (events & L.Event.Fault) faults++;
    }
    const status = controller.status();
    assert.equal(status.windows + status.discardedWindows, 40);
    assert.equal(status.discardedWindows, 20);
    assert.equal(faults, 0);
  });

  test("fuzz: 1e6 hostile readings over random configurations, reconfigurations, loads and parking: no trap, no voltage out of range or faster than the slew limit, weights finite", () => {
    const rng = new Rng(2024);
    const controller = new Controller();
    const hostile = [NaN, Infinity, -Infinity, 3.4e38, -3.4e38, 1e-45, -1e-45, 0, 1e12, -1e12];
    let config: ControllerConfig | undefined;
    let checked = 0;
    let accepted = 0;
    /** A slew limit 1 to 300 times what the perturbation needs (validateSlew's margins, rounded up). */
    const slewFor = (c: ControllerConfig): number => {
      const need = Math.max(...c.controls.map((u) => u.amplitudeV * ((2 * Math.PI * u.toneBin!) / c.windowSamples + 2e-5) + Math.max(Math.abs(u.minV), Math.abs(u.maxV)) * 2e-6));
      return need * c.sampleRateHz * 10 ** rng.between(0, 2.5);
    };
    const randomConfig = (): ControllerConfig => {
      const controls = 1 + Math.floor(rng.uniform() * 12);
      const inputs = Math.floor(rng.uniform() * 3);
      const gradient = (["jacobian", "loss-signal", "streaming"] as const)[Math.floor(rng.uniform() * 3)];
      const cases = gradient === "streaming" ? 1 : 1 + Math.floor(rng.uniform() * 4);
      const lossName = gradient === "jacobian" ? (["mse", "corrsig", "fisher"] as const)[Math.floor(rng.uniform() * 3)] : "mse";
      return {
        sampleRateHz: 1000 + rng.uniform() * 1e5,
        windowSamples: 64 + Math.floor(rng.uniform() * 200),
        settleSamples: Math.floor(rng.uniform() * 5),
        tones: { explicit: true },
        controls: Array.from({ length: controls }, (_, k) => {
          const low = rng.between(-10, 1);
          const high = low + rng.between(1e-3, 5);
          return { toneBin: k + 1, minV: low, maxV: high, amplitudeV: rng.between(1e-6, (high - low) / 2), initialV: rng.between(low, high) };
        }),
        inputs: Array.from({ length: inputs }, () => ({ minV: -1, maxV: 1 })),
        cases: Array.from({ length: cases }, (_, p) => ({ inputsV: Array.from({ length: inputs }, () => rng.between(-1, 1)), target: lossName === "mse" ? rng.between(-5, 5) : p % 2 })),
        loss: cases < 2 && lossName !== "mse" ? "mse" : lossName,
        optimiser: (["sgd", "momentum", "adam"] as const)[Math.floor(rng.uniform() * 3)],
        learningRate: 10 ** rng.between(-6, 3),
        gradient,
        demodulation: rng.uniform() < 0.5 ? "projection" : "magnitude-sign",
        calibrationEpochs: Math.floor(rng.uniform() * 3),
        lag: { delaySamples: rng.between(0, 20), cornerHz: rng.uniform() < 0.5 ? 0 : rng.between(10, 1000) },
        reading: { min: -rng.between(1, 1e6), max: rng.between(1, 1e6) },
      };
    };
    let previous = new Float32Array(0);
    let largestStepShare = 0; // of the slew limit, over every electrode and sample
    let saved: Uint8Array | undefined;
    /** The voltages written now (configure() writes too): in range, and no faster than the limit. */
    const observe = (n: number, config: ControllerConfig): void => {
      const volts = controller.electrodes();
      config.controls.forEach((c, k) => {
        if (!(volts[k] >= Math.fround(c.minV) && volts[k] <= Math.fround(c.maxV))) assert.fail(`sample ${n}: control ${k} at ${volts[k]} V outside [${c.minV}, ${c.maxV}]`);
      });
      config.inputs.forEach((c, i) => {
        const v = volts[config.controls.length + i];
        if (!(v >= c.minV && v <= c.maxV)) assert.fail(`sample ${n}: input ${i} at ${v} V outside its range`);
      });
      // from a voltage inside the electrode's range (another configuration's may not be: the
      // range wins), no step exceeds SlewVPerS/SampleRateHz, beyond f32 rounding
      const maxStep = Math.fround(Math.fround(config.slewVPerS!) / Math.fround(config.sampleRateHz));
      const ranges = [...config.controls, ...config.inputs];
      for (let e = 0; e < volts.length && e < previous.length; e++) {
        if (!(previous[e] >= Math.fround(ranges[e].minV) && previous[e] <= Math.fround(ranges[e].maxV))) continue;
        const step = Math.abs(volts[e] - previous[e]);
        if (step > maxStep * (1 + 1e-6) + Math.abs(previous[e]) * 1.2e-7) assert.fail(`sample ${n}: electrode ${e} moved ${step} V, more than ${maxStep} V`);
        largestStepShare = Math.max(largestStepShare, step / maxStep);
      }
      previous = Float32Array.from(volts);
      checked++;
    };
    for (let n = 0; n < 1_000_000; n++) {
      if (n % 50_000 === 0) {
        const candidate = randomConfig();
        candidate.slewVPerS = slewFor(candidate);
        if (rng.uniform() < 0.3) candidate.learningRate = NaN; // a bad configure in the middle
        try {
          controller.configure(candidate);
          config = candidate;
          accepted++;
          saved = undefined;
          observe(n, config);
        } catch (error) {
          assert.ok(error instanceof ControllerError);
        }
      }
      if (n % 100_003 === 0 && config) {
        const blob = controller.save();
        blob[Math.floor(rng.uniform() * blob.length)] ^= 1 << Math.floor(rng.uniform() * 8);
        assert.throws(() => controller.load(blob), ControllerError);
      }
      if (n % 20_011 === 0 && config) saved = controller.save(); // loaded later: the weights jump back
      if (n % 20_011 === 10_000 && saved) controller.load(saved);
      if (n % 50_000 === 40_000 && config) controller.park(Array.from({ length: config.controls.length + config.inputs.length }, () => rng.between(-20, 20)));
      const r = rng.uniform();
      const reading = r < 0.05 ? hostile[Math.floor(rng.uniform() * hostile.length)] : r < 0.5 ? rng.between(-10, 10) : rng.normal() * 10 ** rng.between(-40, 40);
      controller.step(reading);
      if (!config) continue;
      observe(n, config);
    }
    assert.ok(largestStepShare > 0.999, `the limit was reached (ramps happened): largest step ${largestStepShare} of it`);
    for (const w of controller.weights()) assert.ok(Number.isFinite(w));
    assert.ok(accepted >= 10, `${accepted} of 20 configurations accepted`);
    assert.ok(checked > 900_000, `${checked} samples checked`);
  });
});

describe("slew limit", () => {
  // 1 kHz and 10 V/s: at most 0.01 V per sample. One control (no lag calibration from one tone; a 1 mV tone at bin 1 of 100
  // samples moves 63 µV per sample, far below), one input stepping −1 → +1 V between cases.
  const MAX_STEP = Math.fround(10 / 1000);
  const slowConfig = (overrides: Partial<ControllerConfig> = {}): ControllerConfig => ({
    sampleRateHz: 1000, windowSamples: 100, settleSamples: 20, slewVPerS: 10,
    tones: { explicit: true }, controls: [{ toneBin: 1, amplitudeV: 0.001, minV: -1, maxV: 1, initialV: 0 }],
    inputs: [{ minV: -1, maxV: 1 }], cases: [{ inputsV: [-1], target: 0 }, { inputsV: [1], target: 1 }],
    loss: "mse", optimiser: "sgd", learningRate: 1e-9, reading: { min: -10, max: 10 }, calibrationEpochs: 0, ...overrides,
  });
  /** Steps `count` samples (reading 0); returns what each call wrote and its events. */
  const run = (controller: Controller, count: number) => {
    const written: number[][] = [Array.from(controller.electrodes())];
    const events: number[] = [];
    for (let n = 0; n < count; n++) {
      events.push(controller.step(0));
      written.push(Array.from(controller.electrodes()));
    }
    return { written, events };
  };
  const largestStep = (written: number[][], e: number) => Math.max(...written.slice(1).map((v, n) => Math.abs(v[e] - written[n][e])));

  test("a change of case ramps the input at 0.01 V per sample (200 samples for 2 V), and the window starts with the first reading of the input at its target, not after the 20 settling samples", () => {
    const controller = new Controller();
    controller.configure(slowConfig());
    const { written, events } = run(controller, 1000);
    assert.ok(largestStep(written, 1) <= MAX_STEP + 2.4e-7, `largest input step ${largestStep(written, 1)} V`);
    assert.ok(largestStep(written, 0) <= MAX_STEP + 2.4e-7);
    // windows: the k-th WindowDone at call d covers readings d − 99 .. d, which answer the
    // voltages written by calls d − 100 .. d − 1 (written[d − 100 .. d − 1])
    const done = events.map((e, n) => (e & L.Event.WindowDone ? n : -1)).filter((n) => n >= 0);
    const second = done[1]; // case 1 (input +1 V)
    const firstAtTarget = written.findIndex((v, n) => n > done[0] && v[1] === 1);
    assert.ok(firstAtTarget - done[0] >= 199, `the ramp took ${firstAtTarget - done[0]} samples`);
    for (let n = second - 100; n < second; n++) assert.equal(written[n + 1][1], 1, `write ${n} inside the window is at the target`);
    assert.equal(second - 100 + 1, firstAtTarget, "the window starts as soon as the ramp is over");
  });

  test("a restart, a loaded checkpoint and park() all ramp (0.8 V in 80 samples), park() reporting Parked once there", () => {
    const controller = new Controller();
    controller.configure(slowConfig({ cases: [{ inputsV: [0], target: 0 }] }));
    run(controller, 50);
    const atZero = controller.save(); // weight 0
    controller.configure(slowConfig({ cases: [{ inputsV: [0], target: 0 }], controls: [{ toneBin: 1, amplitudeV: 0.001, minV: -1, maxV: 1, initialV: 0.8 }] }));
    let r = run(controller, 300);
    assert.ok(largestStep(r.written, 0) <= MAX_STEP + 2.4e-7, `restart: largest step ${largestStep(r.written, 0)} V`);
    const rampEnd = r.written.findIndex((v) => Math.abs(v[0] - 0.8) < 0.002); // written[i]: by call i − 1
    assert.ok(rampEnd >= 79, `restart: the ramp to 0.8 V took ${rampEnd} samples`);
    // a WindowDone at call d covers the voltages in written[d − 99 .. d]
    assert.ok(r.events.findIndex((e) => e & L.Event.WindowDone) - 99 >= rampEnd, "no window during the restart's ramp");
    controller.load(atZero); // weight back to 0
    r = run(controller, 300);
    assert.ok(largestStep(r.written, 0) <= MAX_STEP + 2.4e-7, `load: largest step ${largestStep(r.written, 0)} V`);
    assert.ok(r.written.findIndex((v) => Math.abs(v[0]) < 0.002) >= 79, "load: the ramp back to 0 V");
    controller.park([-0.8, 0.5]);
    r = run(controller, 300);
    assert.ok(largestStep(r.written, 0) <= MAX_STEP + 2.4e-7 && largestStep(r.written, 1) <= MAX_STEP + 2.4e-7, "park: no step above the limit");
    const parked = r.events.findIndex((e) => e & L.Event.Parked);
    assert.ok(parked >= 79, `parked after ${parked} samples`);
    assert.deepEqual(r.written[parked + 1].map((v) => +v.toFixed(6)), [-0.8, 0.5]);
    assert.ok(r.events.slice(parked).every((e) => e === L.Event.Parked), "stays parked, no windows");
  });

  test("configure() after a step moves no electrode (the device reads the voltages that step wrote; the next step ramps on), but brings one outside its new range inside: a restart between two samples never moves an electrode two steps", () => {
    const controller = new Controller();
    controller.configure(slowConfig({ cases: [{ inputsV: [-1], target: 0 }, { inputsV: [1], target: 1 }] }));
    run(controller, 150); // inside case 1's ramp of the input from -1 V to +1 V
    const read = Array.from(controller.electrodes()); // what the device reads with the next sample
    controller.step(0);
    const stepped = Array.from(controller.electrodes());
    assert.ok(Math.abs(stepped[1] - read[1]) > MAX_STEP * 0.99, "the step moved the input a whole step");
    controller.configure(slowConfig({ cases: [{ inputsV: [1], target: 0 }, { inputsV: [-1], target: 1 }], controls: [{ toneBin: 1, amplitudeV: 0.001, minV: -1, maxV: 1, initialV: 0.8 }] }));
    assert.deepEqual(Array.from(controller.electrodes()), stepped, "configure() moved an electrode");
    const r = run(controller, 300);
    assert.ok(largestStep(r.written, 0) <= MAX_STEP + 2.4e-7 && largestStep(r.written, 1) <= MAX_STEP + 2.4e-7);
    assert.ok(Math.abs(r.written.at(-1)![0] - 0.8) < 0.002, "and the control got to its new start");
    // a range that leaves the control outside: configure() brings it to the range's end at once
    controller.configure(slowConfig({ controls: [{ toneBin: 1, amplitudeV: 0.001, minV: -0.5, maxV: 0.5, initialV: 0 }] }));
    assert.equal(controller.electrodes()[0], 0.5);
  });

  test("park() without voltages parks each control at its learned weight, not where its tone happened to be: a 50 mV tone at its peak when parked", () => {
    const controller = new Controller();
    controller.configure(slowConfig({ cases: [{ inputsV: [0], target: 0 }], controls: [{ toneBin: 1, amplitudeV: 0.05, minV: -1, maxV: 1, initialV: 0.2 }] }));
    run(controller, 25); // a quarter period of bin 1 in 100 samples: the tone at its peak
    const weight = controller.weights()[0];
    assert.ok(Math.abs(controller.electrodes()[0] - weight) > 0.04, `the tone is ${controller.electrodes()[0] - weight} V from the weight`);
    controller.park();
    const r = run(controller, 100);
    const parked = r.events.findIndex((e) => e & L.Event.Parked);
    assert.ok(parked >= 0, "parked");
    assert.equal(r.written[parked + 1][0], weight);
  });

  test("a reconfiguration with a slower limit ramps at the new limit from the voltages the last step wrote; a limit below f32's resolution at the voltage an earlier configuration left never lets the shortcut jump there", () => {
    const controller = new Controller();
    controller.configure(slowConfig({ slewVPerS: 1000 })); // 1 V a sample
    run(controller, 50);
    const before = Array.from(controller.electrodes());
    controller.configure(slowConfig({ controls: [{ toneBin: 1, amplitudeV: 0.001, minV: -1, maxV: 1, initialV: 0.9 }] }));
    const r = run(controller, 300);
    r.written.unshift(before);
    assert.ok(largestStep(r.written, 0) <= MAX_STEP + 2.4e-7, `largest step ${largestStep(r.written, 0)} V against ${MAX_STEP}`);
    // a 900 V electrode left by one configuration, a second that does not drive it with a
    // limit of 2 nV a sample, a third that drives it again at 1 V a sample with no settling
    // (its windows, and the typical-sample shortcut, begin at once)
    const wide = { toneBin: 1, amplitudeV: 0.001, minV: -1000, maxV: 1000, initialV: 0 };
    const three = new Controller();
    three.configure(slowConfig({ slewVPerS: 5e6, inputs: [], cases: [{ inputsV: [], target: 0 }, { inputsV: [], target: 1 }], controls: [wide, { ...wide, toneBin: 2, initialV: 900 }] }));
    run(three, 10);
    three.configure(slowConfig({ slewVPerS: 2e-6, inputs: [], cases: [{ inputsV: [], target: 0 }, { inputsV: [], target: 1 }], controls: [{ toneBin: 1, amplitudeV: 1e-10, minV: -0.001, maxV: 0.001, initialV: 0 }] }));
    run(three, 10);
    const left = new Float32Array(three.exports.memory.buffer, three.exports.ELECTRODES.value, 2)[1]; // (not driven now)
    assert.ok(left > 899, `electrode 1 left at ${left} V`);
    three.configure(slowConfig({ slewVPerS: 1000, settleSamples: 0, inputs: [], cases: [{ inputsV: [], target: 0 }, { inputsV: [], target: 1 }], controls: [{ ...wide, amplitudeV: 1e-12 }, { ...wide, toneBin: 2, amplitudeV: 1e-12 }] }));
    const back = run(three, 1200);
    back.written.unshift([0, left]);
    assert.ok(largestStep(back.written, 1) <= 1 + 1e-4, `largest step ${largestStep(back.written, 1)} V against 1 V`);
    assert.ok(Math.abs(back.written.at(-1)![1]) < 0.01, "and it got there");
  });

  test("park() toward voltages the ranges forbid (beyond an end, NaN) ends at the range's nearest end (NaN: the low one) and reports Parked", () => {
    for (const [parkV, expected] of [[[5, NaN], [1, -1]], [[NaN, 7], [-1, 1]], [[-5, -3], [-1, -1]]] as const) {
      const controller = new Controller();
      controller.configure(slowConfig({ cases: [{ inputsV: [0], target: 0 }] }));
      run(controller, 50);
      controller.park(parkV);
      const r = run(controller, 400);
      const parked = r.events.findIndex((e) => e & L.Event.Parked);
      // from about 0 V, 1 V at 0.01 V a sample: about 100 samples
      assert.ok(parked >= 99 && parked <= 102, `park(${parkV}): Parked after ${parked} samples`);
      assert.deepEqual(r.written[parked + 1], [...expected], `park(${parkV})`);
      assert.ok(largestStep(r.written, 0) <= MAX_STEP + 2.4e-7 && largestStep(r.written, 1) <= MAX_STEP + 2.4e-7);
      assert.ok(r.events.slice(parked).every((e) => e === L.Event.Parked));
    }
  });

  test("a configuration whose perturbation alone would reach the limit is refused naming SlewVPerS and the control", () => {
    const controller = new Controller();
    // a 1 mV tone at bin 40 of 100 moves 2.5 mV per sample: over a limit of 2 mV per sample
    const config = slowConfig({ slewVPerS: 2, controls: [{ toneBin: 40, amplitudeV: 0.001, minV: -1, maxV: 1, initialV: 0 }] });
    assert.throws(() => controller.configure(config), (e: unknown) => e instanceof ControllerError && e.field === "SlewVPerS" && e.index === 0);
    assert.doesNotThrow(() => controller.configure({ ...config, slewVPerS: 3 }));
  });

  test("a limit too small for a ramp step to move an input's voltage (under 1e-6 of its range's largest |V|) is refused naming SlewVPerS and that electrode, counted after the controls", () => {
    const controller = new Controller();
    // a 1 µV tone at bin 1 of 100 needs about 1.06 µV per sample on a ±1 V control; the ±10 V input
    // needs 10 µV: 5 V/s at 1 kHz (5 µV per sample) would leave its ramps stuck where f32 rounds
    const config = slowConfig({ slewVPerS: 0.005, controls: [{ toneBin: 1, amplitudeV: 1e-6, minV: -1, maxV: 1, initialV: 0 }], inputs: [{ minV: -10, maxV: 10 }] });
    assert.throws(() => controller.configure(config), (e: unknown) => e instanceof ControllerError && e.field === "SlewVPerS" && e.index === 1);
    assert.doesNotThrow(() => controller.configure({ ...config, slewVPerS: 0.011 }));
  });
});

describe("checkpoints", () => {
  const device = new AnalyticDevice();
  const trained = () => {
    const controller = new Controller();
    controller.configure(analyticConfig(device, { lag: { delaySamples: 2, cornerHz: 1500 } }));
    new CoSimulation(controller, device, quietChain()).runUpdates(5, 1e8);
    return controller;
  };

  test("a saved blob restores the weights, the optimiser and the counters exactly in a fresh controller", () => {
    const source = trained();
    const blob = source.save();
    const restored = new Controller();
    restored.configure(analyticConfig(device, { lag: { delaySamples: 2, cornerHz: 1500 } }));
    restored.load(blob);
    assert.deepEqual(restored.weights(), source.weights());
    assert.equal(restored.status().updates, 5);
    assert.deepEqual(restored.save(), blob);
  });

  test("every single-bit flip of a saved blob is refused, and the current state is kept", () => {
    const controller = trained();
    const blob = controller.save();
    const weights = Float32Array.from(controller.weights());
    for (let bit = 0; bit < blob.length * 8; bit++) {
      const corrupt = blob.slice();
      corrupt[bit >> 3] ^= 1 << (bit & 7);
      assert.throws(() => controller.load(corrupt), ControllerError, `bit ${bit}`);
    }
    assert.deepEqual(controller.weights(), weights);
  });

  /** CRC-32 (IEEE 802.3, reflected), written here from its definition. */
  const crc32 = (bytes: Uint8Array): number => {
    let crc = 0xffffffff;
    for (const byte of bytes) {
      crc ^= byte;
      for (let bit = 0; bit < 8; bit++) crc = (crc >>> 1) ^ (0xedb88320 & -(crc & 1));
    }
    return (crc ^ 0xffffffff) >>> 0;
  };
  /** A saved blob with one word changed and its CRC made valid again. */
  const forged = (blob: Uint8Array, word: number, set: (view: DataView, at: number) => void): Uint8Array => {
    const copy = blob.slice();
    const view = new DataView(copy.buffer);
    set(view, word * 4);
    view.setUint32(copy.length - 4, crc32(copy.subarray(0, copy.length - 4)), true);
    return copy;
  };

  test("a blob with a valid CRC but impossible contents is refused (NaN weight, weight 1000 in [−1, 1], NaN or negative lag, ∞ moment, negative second moment, more updates than epochs, counts that could wrap), and the state is kept", () => {
    const controller = trained();
    const blob = controller.save();
    const controls = controller.controlCount;
    const learned = 5; // words: magic, version, controls, length, ranges; then the learned status words
    const status = (name: keyof typeof L.Status) => learned + L.Status[name] - L.Status.Updates;
    const weight = learned + L.LEARNED_STATUS_WORDS, moment1 = weight + controls, moment2 = moment1 + controls;
    const f32 = (value: number) => (v: DataView, at: number) => v.setFloat32(at, value, true);
    const i32 = (value: number) => (v: DataView, at: number) => v.setInt32(at, value, true);
    const cases: Array<[string, number, (v: DataView, at: number) => void]> = [
      ["NaN weight", weight + 1, f32(NaN)],
      ["weight 1000", weight, f32(1000)],
      ["weight −1000", weight + 2, f32(-1000)],
      ["NaN lag", status("LagDelaySamples"), f32(NaN)],
      ["negative lag", status("LagDelaySamples"), f32(-3)],
      ["infinite corner", status("LagCornerHz"), f32(Infinity)],
      ["∞ first moment", moment1 + 2, f32(Infinity)],
      ["negative second moment", moment2, f32(-1)],
      ["NaN second moment", moment2 + 1, f32(NaN)],
      ["β-power 2", status("Beta2Power"), f32(2)],
      ["β1-power 2", status("Beta1Power"), f32(2)],
      ["more updates than epochs", status("Updates"), i32(1000)],
      ["negative updates", status("Updates"), i32(-1)],
      ["2^30 epochs (SPSA's gain counts on updates that cannot wrap)", status("Epochs"), i32(2 ** 30)],
      ["negative epochs", status("Epochs"), i32(-1)],
    ];
    assert.doesNotThrow(() => controller.load(forged(blob, status("Epochs"), i32(2 ** 30 - 1))), "2^30 − 1 epochs load");
    assert.doesNotThrow(() => controller.load(forged(blob, weight, f32(0.25))), "a forged blob with possible contents loads");
    controller.load(blob);
    const weights = Float32Array.from(controller.weights());
    const before = controller.status();
    for (const [what, word, set] of cases) {
      assert.throws(() => controller.load(forged(blob, word, set)), (e: unknown) => e instanceof ControllerError && e.field === "Checkpoint", what);
      assert.deepEqual(controller.weights(), weights, what);
      assert.deepEqual(controller.status(), before, what);
    }
    assert.deepEqual(controller.save(), blob);
  });

  test("a blob for another number of controls is refused", () => {
    const other = new Controller();
    const small = new AnalyticDevice({ controlCount: 3 });
    other.configure(analyticConfig(small));
    assert.throws(() => other.load(trained().save()), ControllerError);
  });

  test("a blob saved at another sample rate (its lag is in samples) is refused and the state kept; at the same rate with another window it loads", () => {
    const blob = trained().save();
    const other = new Controller();
    other.configure(analyticConfig(device, { sampleRateHz: 2 * SAMPLE_RATE_HZ }));
    const weights = other.weights();
    assert.throws(() => other.load(blob), (e: unknown) => e instanceof ControllerError && e.field === "Checkpoint");
    assert.deepEqual(other.weights(), weights);
    const longer = new Controller();
    longer.configure(analyticConfig(device, { windowSamples: 2000 }));
    longer.load(blob);
    assert.deepEqual(longer.save(), blob);
  });

  test("a tones blob is refused under codes and a codes blob under tones (only tones have a lag), the state kept: the refused run's gradient signs are a fresh run's; codes load under other codes", () => {
    const tonesBlob = trained().save(); // lag 2 samples / 1500 Hz
    const walsh = analyticConfig(device, { perturbation: "walsh", windowSamples: 1024 });
    const measured = (loaded?: Uint8Array) => {
      const controller = new Controller();
      controller.configure(walsh);
      const before = controller.status();
      if (loaded) {
        assert.throws(() => controller.load(loaded), (e: unknown) => e instanceof ControllerError && e.field === "Checkpoint");
        assert.deepEqual(controller.status(), before);
      }
      new CoSimulation(controller, device, quietChain()).runUpdates(1, 1e8);
      return controller;
    };
    const fresh = measured(), refused = measured(tonesBlob);
    assert.equal(refused.status().lagDelaySamples, 0);
    assert.deepEqual(refused.gradient(), fresh.gradient());
    // the Walsh run's blob: refused by a tones run, taken by an SPSA one
    const codesBlob = fresh.save();
    const tones = new Controller();
    tones.configure(analyticConfig(device, { lag: { delaySamples: 2, cornerHz: 1500 } }));
    const state = tones.save();
    assert.throws(() => tones.load(codesBlob), (e: unknown) => e instanceof ControllerError && e.field === "Checkpoint");
    assert.deepEqual(tones.save(), state);
    const spsa = new Controller();
    spsa.configure(analyticConfig(device, { perturbation: "spsa", windowSamples: 1024 }));
    spsa.load(codesBlob);
    assert.deepEqual(spsa.weights(), fresh.weights());
  });
});

describe("the release module", () => {
  const bytes = readFileSync(RELEASE_WASM);
  const module = new WebAssembly.Module(bytes);

  test("has no imports, fits 12 KiB and one 64 KiB page", () => {
    assert.deepEqual(WebAssembly.Module.imports(module), []);
    assert.ok(bytes.length <= 12288, `${bytes.length} bytes`);
    const instance = new WebAssembly.Instance(module, {});
    assert.equal((instance.exports.memory as WebAssembly.Memory).buffer.byteLength, 65536);
    assert.ok(((instance.exports.MEMORY_USED as WebAssembly.Global).value as number) <= 65536);
  });

  test("supports 64 controls and 16 input cases in that page", () => {
    assert.ok(L.MAX_CONTROLS >= 64 && L.MAX_CASES >= 16);
    const device = new AnalyticDevice({ controlCount: 64 });
    const controller = new Controller(module);
    const base = analyticConfig(device);
    controller.configure({
      ...base,
      windowSamples: 4096,
      tones: { explicit: true },
      controls: base.controls.map((c, k) => ({ ...c, toneBin: 100 + k })),
      cases: Array.from({ length: 16 }, (_, p) => base.cases[p % base.cases.length]),
    });
    const sim = new CoSimulation(controller, device, quietChain(0, 0));
    sim.run(5000);
    assert.equal(controller.caseCount, 16);
  });

  test("allocates nothing: no allocator or memory.grow in the module (tests/memory-used.test.ts: no access above its static buffers)", () => {
    const debugText = readFileSync(RELEASE_WASM.replace("hge.wasm", "hge.debug.wat"), "utf8");
    assert.doesNotMatch(debugText, /memory\.grow|__new|__alloc|__renew/);
  });
});
