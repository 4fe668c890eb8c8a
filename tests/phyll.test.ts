// Specification of host/methods/phyll.ts: physical local learning (forward-forward blocks of a
// physical layer and a TensorFlow.js digital layer) on Iris, the local loss and the label code by
// hand, identity physics as a sanity check, and what the DNPU layer adds over the digital layer alone.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { DopantNetwork } from '../host/devices/dopant.ts';
import { irisTask } from '../host/tasks/iris.ts';
import { gateTask } from '../host/tasks/gates.ts';
import { Instrument } from '../host/methods/instrument.ts';
import { refusal } from '../host/methods/index.ts';
import {
  DevicePhysicalLayer,
  IdentityPhysicalLayer,
  PHYLL,
  PHYLL_DEFAULTS,
  embedLabel,
  goodness,
  labelCode,
  localLoss,
  phyllInputCount,
  phyllSettings,
  trainPhyll,
} from '../host/methods/phyll.ts';

const task = irisTask();
const rowsSwept = (task.train.labels.length + task.test.labels.length) * task.classNames.length; // (sample, label) pairs

test('phyll reaches ≥ 90% held-out accuracy on Iris from seed 1, after one sweep of the data through the DNPU', async () => {
  const result = await PHYLL.train(DopantNetwork.default(), task, { deviceSeconds: 2000 }, { seed: 1 });
  const instrument = new Instrument(DopantNetwork.default(), 1);
  const perMeasurementS = (instrument.settleSamples + instrument.windowSamples) / instrument.chain.sampleRateHz;
  console.log(`phyll iris seed 1: held-out ${(result.criterion * 100).toFixed(1)}% after ${result.history.loss.length} epochs, ${result.deviceSeconds.toFixed(0)} device-s, ${result.wallSeconds.toFixed(1)} s wall`);
  assert.equal(result.stopped, 'solved');
  assert.ok(result.criterion >= task.solvedAccuracy, `held-out accuracy ${result.criterion}`);
  // Device time is the sweep: every (sample, label) pair once through every configuration.
  assert.equal(result.counters.measurements, rowsSwept * PHYLL_DEFAULTS.configurations);
  assert.ok(Math.abs(result.deviceSeconds - rowsSwept * PHYLL_DEFAULTS.configurations * perMeasurementS) < 1e-9);
  assert.equal(result.history.loss.length, result.history.criterion.length);
  assert.equal(result.history.weights.length, result.history.loss.length + 1);
});

test('the label code puts class c at angle 2πc/C on two electrodes, after the features', () => {
  const [x, y] = labelCode(1, 3);
  assert.ok(Math.abs(x - -0.5) < 1e-15 && Math.abs(y - Math.sqrt(3) / 2) < 1e-15);
  const embedded = embedLabel([0.1, -0.2], 2, 4); // class 2 of 4: angle π
  assert.deepEqual(embedded.slice(0, 3), [0.1, -0.2, -1]);
  assert.ok(Math.abs(embedded[3]) < 1e-15);
  assert.equal(phyllInputCount(task), 6); // 4 features + 2 code electrodes
});

test('goodness is the mean of h² and the local loss matches a hand computation (0.658990)', () => {
  const g = goodness(tf.tensor2d([[1, 2], [0, 3]]));
  assert.deepEqual(Array.from(g.dataSync()), [2.5, 4.5]);
  // θ = 1; sample 0 (label 0): log(1+e^{−1.5}) + [log(1+e^{−0.5}) + log 2]/2 = 0.785025;
  // sample 1 (label 1): log(1+e^{−3.5}) + [log(1+e^{−1}) + log 2]/2 = 0.532955; mean 0.658990.
  const loss = localLoss(tf.tensor2d([[2.5, 0.5, 1], [0, 4.5, 1]]), [0, 1], 1).dataSync()[0];
  assert.ok(Math.abs(loss - 0.658990) < 1e-5, `loss ${loss}`);
});

test('with the physics replaced by identity the digital layer alone still learns Iris (≥ 90% held out)', async () => {
  const run = await trainPhyll(task, () => new IdentityPhysicalLayer(phyllInputCount(task)), { ...PHYLL_DEFAULTS }, 1);
  console.log(`identity physics seed 1: held-out ${(run.accuracy * 100).toFixed(1)}% after ${run.epochs} epochs`);
  assert.equal(run.stopped, 'solved');
  assert.ok(run.accuracy >= task.solvedAccuracy);
});

test('the DNPU layer matters: over 100 epochs it fits Iris better and reaches 90% held out sooner than the digital layer alone', async () => {
  // Same digital layer, seed and epochs (no early stop); the only difference is the physical
  // layer: 16 DNPU configurations versus the 6 input levels themselves.
  const device = DopantNetwork.default().withInputCount(phyllInputCount(task));
  const instrument = new Instrument(device, 1);
  const settings = { ...PHYLL_DEFAULTS, epochs: 100 };
  const physical = await trainPhyll(task, () => new DevicePhysicalLayer(device, instrument, settings.configurations, 1, Infinity), settings, 1, { stopWhenSolved: false });
  const digital = await trainPhyll(task, () => new IdentityPhysicalLayer(phyllInputCount(task)), settings, 1, { stopWhenSolved: false });
  const firstSolved = (accuracy: number[]) => accuracy.findIndex((a) => a >= task.solvedAccuracy) + 1;
  console.log(
    `after 100 epochs, seed 1: DNPU layer train ${(physical.trainAccuracy * 100).toFixed(1)}% / held-out ${(physical.accuracy * 100).toFixed(1)}% (first ≥ 90% at epoch ${firstSolved(physical.history.accuracy)}); ` +
      `digital alone train ${(digital.trainAccuracy * 100).toFixed(1)}% / held-out ${(digital.accuracy * 100).toFixed(1)}% (epoch ${firstSolved(digital.history.accuracy)})`,
  );
  assert.ok(physical.trainAccuracy > digital.trainAccuracy + 0.05, `train accuracy ${physical.trainAccuracy} vs ${digital.trainAccuracy}`);
  assert.ok(firstSolved(physical.history.accuracy) > 0 && firstSolved(physical.history.accuracy) * 5 < firstSolved(digital.history.accuracy));
});

test('phyll refuses the input-case tasks and names bad options', () => {
  const reason = refusal(PHYLL, DopantNetwork.default(), gateTask('XOR', DopantNetwork.default().inputRangeV));
  assert.match(reason ?? '', /phyll cannot train/);
  assert.throws(() => phyllSettings({ hidden: 2.5 }), /phyll option hidden must be a whole number ≥ 1 \(default 16\), not 2\.5/);
  assert.throws(() => phyllSettings({ learningRate: -1 }), /learningRate must be a number > 0/);
});

test('phyll refuses, before driving the device, more blocks than the DNPU can chain (16 units into 6 electrodes)', async () => {
  await assert.rejects(
    PHYLL.train(DopantNetwork.default(), task, { deviceSeconds: 2000 }, { seed: 1, options: { blocks: 2 } }),
    /takes at most 6 inputs: set hidden to 1\.\.6/,
  );
});

test('phyll stops at the device-time budget, and at once when aborted', async () => {
  const short = await PHYLL.train(DopantNetwork.default(), task, { deviceSeconds: 100 }, { seed: 1 });
  assert.equal(short.stopped, 'budget');
  const instrument = new Instrument(DopantNetwork.default(), 1);
  const rowS = (PHYLL_DEFAULTS.configurations * (instrument.settleSamples + instrument.windowSamples)) / instrument.chain.sampleRateHz; // one (sample, label) pair
  assert.ok(short.deviceSeconds <= 100 && short.deviceSeconds > 100 - rowS, `${short.deviceSeconds} device-s`);
  const controller = new AbortController();
  controller.abort();
  const aborted = await PHYLL.train(DopantNetwork.default(), task, { deviceSeconds: 2000 }, { seed: 1, signal: controller.signal });
  assert.equal(aborted.stopped, 'interrupted');
  assert.ok(aborted.deviceSeconds < 100);
});
