// Specification of host/methods/phyll-hge.ts: PhyLL whose physical layer's control voltages are
// trained by gradients HGE measures in materia. The measured ∂reading/∂control against the
// analytic device's exact gradient, the window means against plain readings, the chained
// control gradient against finite differences of the block loss on the noiseless device, device
// time against the module's samples, and a seeded run on Iris.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tf } from '../host/methods/tf.ts';
import { AnalyticDevice } from '../host/devices/analytic.ts';
import { DopantNetwork } from '../host/devices/dopant.ts';
import { irisTask } from '../host/tasks/iris.ts';
import { gateTask } from '../host/tasks/gates.ts';
import { Rng } from '../host/noise.ts';
import { Instrument, LEVEL_WINDOW_SAMPLES, type InstrumentSettings } from '../host/methods/instrument.ts';
import { DEFAULTS } from '../host/train.ts';
import { refusal, findMethod } from '../host/methods/index.ts';
import { DevicePhysicalLayer, tensorflowReady, embedLabel, goodness, localLoss, phyllInputCount, PHYLL_DEFAULTS } from '../host/methods/phyll.ts';
import { HgePhysics, PHYLL_HGE, PHYLL_HGE_DEFAULTS, PHYLL_HGE_LIMITS, PHYLL_HGE_VARIANT } from '../host/methods/phyll-hge.ts';
import { TrainConfigError } from '../host/errors.ts';
import { ResistorNetwork } from '../host/devices/resistor.ts';

const task = irisTask();
const classCount = task.classNames.length;
/** The first 16 training samples under every label: 48 rows, three module epochs a configuration. */
const rows = task.train.features.slice(0, 16).map((x) => Array.from({ length: classCount }, (_, c) => embedLabel(x, c, classCount)));
const labels = task.train.labels.slice(0, 16);

/** An analytic device (5 controls, 2 inputs: the 6 levels mixed onto them) under 2 configurations, swept by HGE. */
async function analyticSweep(seed = 1, settings: InstrumentSettings = {}) {
  const device = new AnalyticDevice({ inputCount: 2 });
  const instrument = new Instrument(device, seed, settings);
  const layer = new DevicePhysicalLayer(device, instrument, 2, seed, Infinity, phyllInputCount(task));
  const physics = new HgePhysics(layer, instrument, { ...PHYLL_HGE_DEFAULTS }, { deviceSeconds: Infinity }, { seed });
  const readings = await physics.measureTraining(rows);
  assert.ok(typeof readings !== 'string');
  return { device, instrument, layer, physics, readings };
}

test('HGE measures ∂reading/∂control of every configuration within 1% of the analytic device\'s exact gradient without noise, 15% with the default noise (noise-limited) (RMS over 48 rows × 2 configurations × 5 controls)', async () => {
  const quiet = jacobianError(await analyticSweep(1, { noise: { whiteSigma: 0, pinkPsdAt1kHz: 0 } }));
  const noisy = jacobianError(await analyticSweep());
  console.log(`HGE Jacobian vs exact: ${(quiet * 100).toFixed(2)}% RMS without noise, ${(noisy * 100).toFixed(2)}% with the default noise (20 mV tones, 200-sample windows)`);
  assert.ok(quiet < 0.01, `relative error ${quiet}`);
  assert.ok(noisy < 0.15, `relative error ${noisy}`);
});

/** RMS error of the sweep's Jacobian rows over the RMS of the exact ones. */
function jacobianError({ device, layer, physics }: Awaited<ReturnType<typeof analyticSweep>>): number {
  let errorSquared = 0;
  let exactSquared = 0;
  rows.flat().forEach((levels, r) => {
    layer.configurations.forEach(({ controlElectrodes }, j) => {
      const exact = device.outputGradient(layer.voltagesFor(j, levels));
      controlElectrodes.forEach((e, k) => {
        errorSquared += (physics.jacobian[r][j][k] - exact[e]) ** 2;
        exactSquared += exact[e] ** 2;
      });
    });
  });
  return Math.sqrt(errorSquared / exactSquared);
}

test('the module\'s window means are plain readings: without noise within 0.03 nA of the output (the tones average out, a²f″/4 remains); with the default noise, as far off as the Instrument\'s', async () => {
  // Without noise what is left is the curvature, Σ_k a²/4 ∂²y/∂v_k² (five 20 mV tones, |c_k| ≤ 24 nA, |tanh″| ≤ 0.77,
  // slopes up to 2.6 V⁻¹: at most 5 · 1e-4 · 24 · 0.77 · 6.8 ≈ 0.06 nA), plus the converters' rounding (plain readings: 0.005 nA).
  const quiet = await analyticSweep(1, { noise: { whiteSigma: 0, pinkPsdAt1kHz: 0 } });
  const errors = (sweep: typeof quiet, read: (j: number, levels: number[], n: number, c: number) => number) => {
    const list: number[] = [];
    rows.forEach((row, n) => row.forEach((levels, c) => sweep.layer.configurations.forEach((_, j) => list.push(read(j, levels, n, c) - sweep.device.output(sweep.layer.voltagesFor(j, levels))))));
    return list;
  };
  const worstQuiet = Math.max(...errors(quiet, (j, _, n, c) => quiet.readings[n][c][j]).map(Math.abs));
  const worstPlain = Math.max(...errors(quiet, (j, levels) => quiet.instrument.measure(quiet.layer.voltagesFor(j, levels).slice())).map(Math.abs));
  const rms = (list: number[]) => Math.sqrt(list.reduce((s, e) => s + e * e, 0) / list.length);
  // With the default noise (white 0.05 nA a sample, 1/f 1e-5 nA²/Hz at 1 kHz) both kinds of reading err by the 1/f noise's share below the window's 25 Hz.
  const noisy = await analyticSweep();
  const hgeError = rms(errors(noisy, (j, _, n, c) => noisy.readings[n][c][j]));
  const plainError = rms(errors(noisy, (j, levels) => noisy.instrument.measure(noisy.layer.voltagesFor(j, levels).slice())));
  console.log(`window means vs the output: worst ${worstQuiet.toFixed(4)} nA without noise (plain readings ${worstPlain.toFixed(4)} nA); RMS ${hgeError.toFixed(3)} nA with noise (plain Instrument readings ${plainError.toFixed(3)} nA)`);
  assert.ok(worstQuiet < 0.03, `worst ${worstQuiet} nA`);
  assert.ok(hgeError < 1.5 * plainError, `window means ${hgeError} nA, plain readings ${plainError} nA`);
});

test('the chained control gradient Σ ∂L/∂r · ∂r/∂v matches central differences of the block loss on the noiseless device: within 1% measured without noise, 10% (cosine > 0.999) with the default noise', async () => {
  await tensorflowReady(); // goodness and localLoss use phyll.ts's TensorFlow.js
  const quiet = await chainedAgainstFinite(await analyticSweep(1, { noise: { whiteSigma: 0, pinkPsdAt1kHz: 0 } }));
  const noisy = await chainedAgainstFinite(await analyticSweep());
  console.log(`chained vs finite differences: without noise cosine ${quiet.cosine.toFixed(6)}, error ${(quiet.relative * 100).toFixed(2)}%; with the default noise cosine ${noisy.cosine.toFixed(5)}, error ${(noisy.relative * 100).toFixed(2)}%`);
  assert.ok(quiet.relative < 0.01, `relative error ${quiet.relative}`);
  assert.ok(noisy.cosine > 0.999, `cosine ${noisy.cosine}`);
  assert.ok(noisy.relative < 0.1, `relative error ${noisy.relative}`);
});

/** The sweep's chained control gradient of a block loss (a fixed digital layer) against central differences on the noiseless device. */
async function chainedAgainstFinite({ device, layer, physics, readings }: Awaited<ReturnType<typeof analyticSweep>>) {
  // A fixed digital layer (standardisation from these readings, Glorot weights), as a block has.
  const width = layer.outputWidth;
  const flat = readings.flat();
  const mean = Array.from({ length: width }, (_, j) => flat.reduce((s, r) => s + r[j], 0) / flat.length);
  const std = mean.map((m, j) => Math.sqrt(flat.reduce((s, r) => s + (r[j] - m) ** 2, 0) / flat.length));
  const rng = new Rng(5);
  const weights = tf.tensor2d(Array.from({ length: width * 8 }, () => rng.between(-1, 1)), [width, 8]);
  const loss = (r: tf.Tensor) => {
    const standardised = tf.div(tf.sub(tf.reshape(r, [rows.length * classCount, width]), mean), std);
    const g = tf.reshape(goodness(tf.relu(tf.matMul(standardised as tf.Tensor2D, weights)) as tf.Tensor2D), [rows.length, classCount]) as tf.Tensor2D;
    return localLoss(g, labels, PHYLL_DEFAULTS.threshold);
  };
  const lossGradient = tf.grad(loss)(tf.tensor3d(readings)).arraySync() as number[][][];
  const chained = physics.controlGradient(lossGradient);
  const noiseless = () => rows.map((row) => row.map((levels) => layer.configurations.map((_, j) => device.output(layer.voltagesFor(j, levels)))));
  const lossAt = () => loss(tf.tensor3d(noiseless())).dataSync()[0];
  const stepV = 1e-4;
  const finite: number[] = [];
  for (const { controlElectrodes, voltages } of layer.configurations) {
    for (const e of controlElectrodes) {
      const v = voltages[e];
      voltages[e] = v + stepV;
      const up = lossAt();
      voltages[e] = v - stepV;
      const down = lossAt();
      voltages[e] = v;
      finite.push((up - down) / (2 * stepV));
    }
  }
  const dot = chained.reduce((s, g, i) => s + g * finite[i], 0);
  const norm = (x: number[]) => Math.sqrt(x.reduce((s, g) => s + g * g, 0));
  const cosine = dot / (norm(chained) * norm(finite));
  const relative = norm(chained.map((g, i) => g - finite[i])) / norm(finite);
  return { cosine, relative };
}

test('under --drift the module\'s windows draw the instrument\'s drift: after the training sweep (calibration and 6 module epochs) its clock is the device time the instrument counted, sample for sample (each module epoch started a drift of its own at 0)', async () => {
  const { instrument } = await analyticSweep(1, { noise: { whiteSigma: 0, pinkPsdAt1kHz: 0, drift: { slopePerS: 1 } } });
  assert.ok(instrument.samples > 10000, `${instrument.samples} samples`);
  assert.equal(instrument.drift!.next(), instrument.samples / instrument.chain.sampleRateHz); // (a slope: the drift at its next sample's time)
});

test('a module fault (every lock-in window discarded: spikes saturating the readings) ends the training sweep with "fault", not "budget" (the run said its budget was spent)', async () => {
  const device = new AnalyticDevice({ inputCount: 2 });
  const instrument = new Instrument(device, 1, { noise: { spikes: { ratePerS: 200, amplitude: 1e6 } } });
  const layer = new DevicePhysicalLayer(device, instrument, 2, 1, Infinity, phyllInputCount(task));
  const physics = new HgePhysics(layer, instrument, { ...PHYLL_HGE_DEFAULTS }, { deviceSeconds: 1000 }, { seed: 1 });
  assert.equal(await physics.measureTraining(rows), 'fault');
  assert.ok(instrument.deviceSeconds < 100, `${instrument.deviceSeconds} device-s`);
});

test('device time counts every sample the module runs: 210 samples a row (its own window, not a plain reading\'s), plus the lag calibration once (two epochs and one measured epoch of 4 input points on the whole device)', async () => {
  const { instrument, physics, layer } = await analyticSweep();
  const perRow = instrument.settleSamples + DEFAULTS.windowSamples; // 10 + 200
  const expected = (rows.length * classCount * layer.configurations.length + 3 * 4) * perRow;
  assert.equal(physics.windows, rows.length * classCount * layer.configurations.length);
  assert.equal(physics.hge.epochs, 1 + layer.configurations.length * 3); // the calibration run, then 48 rows in 3 module epochs a configuration
  assert.equal(instrument.measurements, 0); // the training split went through the module only
  assert.equal(instrument.samples, expected);
  assert.ok(Math.abs(physics.hge.seconds - expected / instrument.chain.sampleRateHz) < 1e-9);
});

test('phyll-hge on Iris from seed 1 (DNPU, 4 configurations, 600 device-s): accuracy and device time reported, every module sample counted, controls moved within their ranges', async () => {
  const result = await PHYLL_HGE.train(DopantNetwork.default(), task, { deviceSeconds: 600 }, { seed: 1, options: { configurations: 4 } });
  const perMeasurementS = (DEFAULTS.settleSamples + LEVEL_WINDOW_SAMPLES) / DEFAULTS.sampleRateHz; // a plain reading
  console.log(`phyll-hge iris seed 1, K = 4: held-out ${(result.criterion * 100).toFixed(1)}% (${result.stopped}), ${result.deviceSeconds.toFixed(0)} device-s, ${result.wallSeconds.toFixed(1)} s wall, ${JSON.stringify(result.counters)}`);
  assert.ok(result.criterion >= 0 && result.criterion <= 1);
  assert.ok(result.deviceSeconds <= 600);
  assert.ok(result.counters.physicalSteps >= 1, 'seed 1 at 4 configurations is not solved by epoch 20 (phyll: 72.9% after 300 epochs)');
  // Device time = held-out readings through the Instrument + every module sample.
  assert.ok(Math.abs(result.deviceSeconds - (result.counters.measurements * perMeasurementS + result.counters.hgeDeviceSeconds)) < 1e-6);
  assert.equal(result.method, 'phyll-hge');
  // block 1's voltages at the start, then after each physical step (each moves them)
  assert.equal(result.history.weights.length, result.counters.physicalSteps + 1);
  assert.deepEqual(result.history.weights.at(-1), result.finalWeights);
  assert.notDeepEqual(result.finalWeights, result.history.weights[0]);
  result.finalWeights.forEach((v, i) => assert.ok(v >= result.controlRangeV[i][0] - 1e-12 && v <= result.controlRangeV[i][1] + 1e-12, `electrode ${i}: ${v} V`));
});

test('phyll-hge is registered, refuses input-case tasks and names bad options', () => {
  assert.equal(findMethod('phyll-hge'), PHYLL_HGE);
  assert.match(refusal(PHYLL_HGE, DopantNetwork.default(), gateTask('XOR', DopantNetwork.default().inputRangeV)) ?? '', /phyll-hge cannot train/);
  assert.throws(() => PHYLL_HGE_VARIANT.settings({ physicalEvery: 2.5 }), /phyll-hge option physicalEvery must be a whole number 1 \.\. 1000 \(default 20\), not 2\.5/);
  assert.throws(() => PHYLL_HGE_VARIANT.settings({ physicalLearningRate: 0 }), /physicalLearningRate must be a number > 0/);
  assert.equal(PHYLL_HGE_VARIANT.settings({ physicalLearningRate: 0.01 }).physicalLearningRate, 0.01);
});

test('phyll-hge refuses every whole-number setting beyond its limit (physicalEvery beyond the epochs\' limit too), naming it, its range and default, before measuring anything', async () => {
  const device = new ResistorNetwork();
  let outputs = 0;
  const output = device.output.bind(device);
  device.output = (voltages) => {
    outputs++;
    return output(voltages);
  };
  assert.equal(PHYLL_HGE_LIMITS.physicalEvery, PHYLL_HGE_LIMITS.epochs);
  for (const [key, limit] of Object.entries(PHYLL_HGE_LIMITS) as Array<[keyof typeof PHYLL_HGE_LIMITS, number]>) {
    assert.equal(PHYLL_HGE_VARIANT.settings({ [key]: limit })[key], limit, `${key} at its limit is taken`);
    await assert.rejects(PHYLL_HGE.train(device, irisTask(), { deviceSeconds: 2000 }, { seed: 1, options: { [key]: limit + 1 } }), (error: unknown) => {
      assert.ok(error instanceof TrainConfigError);
      assert.equal(error.message, `phyll-hge option ${key} must be a whole number 1 .. ${limit} (default ${PHYLL_HGE_DEFAULTS[key]}), not ${limit + 1}`);
      return true;
    });
  }
  assert.equal(outputs, 0, 'refused before any device time');
});

test('phyll-hge takes no physical step after the last epoch --max-iterations allows: every device-second spent is one an epoch used, and the final controls are the ones the last accuracy was read at', async () => {
  const device = new ResistorNetwork({ inputCount: phyllInputCount(task) });
  const result = await PHYLL_HGE.train(device, task, { deviceSeconds: 600, maxIterations: 2 }, { seed: 1, options: { configurations: 2, physicalEvery: 1 } });
  assert.equal(result.stopped, 'iterations');
  assert.equal(result.iterations, 2);
  // one step, after epoch 1; the step after epoch 2 (29 device-s, thrown away) was taken until this version
  assert.equal(result.counters.physicalSteps, 1);
  assert.ok(Math.abs(result.deviceSeconds - result.history.deviceSeconds.at(-1)!) < 1e-9, `${result.deviceSeconds} device-s spent, ${result.history.deviceSeconds.at(-1)} by the last epoch`);
  assert.deepEqual(result.finalWeights, result.history.weights.at(-1));
});
