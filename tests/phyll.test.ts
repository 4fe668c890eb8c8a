// Specification of host/methods/phyll.ts: physical local learning (forward-forward blocks of a
// physical layer and a TensorFlow.js digital layer) on Iris, the local loss and the label code by
// hand, identity physics as a sanity check, and what the DNPU layer adds over the digital layer alone.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { DopantNetwork } from '../host/devices/dopant.ts';
import { irisTask } from '../host/tasks/iris.ts';
import { gateTask } from '../host/tasks/gates.ts';
import { ResistorNetwork } from '../host/devices/resistor.ts';
import { Rng } from '../host/noise.ts';
import { Instrument } from '../host/methods/instrument.ts';
import { refusal } from '../host/methods/index.ts';
import { TrainConfigError } from '../host/errors.ts';
import { countingResistor, hge, scratchDir } from './fixtures.ts';
import { DEFAULTS } from '../host/train.ts';
import { join } from 'node:path';
import {
  DevicePhysicalLayer,
  IdentityPhysicalLayer,
  PHYLL,
  PHYLL_DEFAULTS,
  PHYLL_LIMITS,
  embedLabel,
  goodness,
  labelCode,
  localLoss,
  phyllInputCount,
  phyllSettings,
  trainPhyll,
  type PhysicalLayer,
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
  // Device time is the sweep (every (sample, label) pair once through every configuration) and
  // the held-out split read again on each epoch that confirms the solved one, as every method's
  // confirmation reads the device again (method.ts: Confirmation)
  const heldOutRows = task.test.labels.length * task.classNames.length;
  const measurements = (rowsSwept + (DEFAULTS.solvedEpochs - 1) * heldOutRows) * PHYLL_DEFAULTS.configurations;
  assert.equal(result.counters.measurements, measurements);
  assert.ok(Math.abs(result.deviceSeconds - measurements * perMeasurementS) < 1e-9);
  assert.equal(result.iterations, result.history.loss.length, 'its iterations are its epochs');
  assert.equal(result.history.loss.length, result.history.criterion.length);
  assert.deepEqual(result.history.weights, [result.finalWeights]); // its configurations never move
  // its controls are the electrodes that do not carry the data, each configuration's: the data
  // electrodes' idle 0 V were listed as controls, and counted as pinned where 0 V ends a range
  const controls = DopantNetwork.default().withInputCount(phyllInputCount(task)).controlCount;
  assert.equal(result.finalWeights.length, PHYLL_DEFAULTS.configurations * controls);
  assert.equal(result.controlRangeV.length, result.finalWeights.length);
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

test('the held-out accuracy is read on the held-out split against its own labels, which training never sees: with them rotated (class c read as c + 1) the training is the same to the bit and the two accuracies add to at most 1', async () => {
  // Until this test only a comparison test read phyll's held-out scoring, and only incidentally.
  // Same seed, no early stop: the digital layer's predictions on the held-out split are the
  // same in both runs, and a prediction matches c or c + 1, never both.
  const rotated: typeof task = { ...task, test: { ...task.test, labels: task.test.labels.map((c) => (c + 1) % task.classNames.length) } };
  const runOn = (t: typeof task) => trainPhyll(t, () => new IdentityPhysicalLayer(phyllInputCount(t)), { ...PHYLL_DEFAULTS, epochs: 30 }, 1, { stopWhenSolved: false });
  const [plain, other] = [await runOn(task), await runOn(rotated)];
  console.log(`identity physics, 30 epochs: held out ${(plain.accuracy * 100).toFixed(1)}%, against rotated labels ${(other.accuracy * 100).toFixed(1)}%; training ${(plain.trainAccuracy * 100).toFixed(1)}%`);
  assert.ok(plain.accuracy >= 0.8, `held out ${plain.accuracy}, far above chance (1/3) after 30 epochs`);
  assert.ok(plain.accuracy + other.accuracy <= 1 + 1e-12, `${plain.accuracy} + ${other.accuracy}`);
  assert.deepEqual(other.history.loss, plain.history.loss, 'the held-out labels never reach training');
  assert.equal(other.trainAccuracy, plain.trainAccuracy);
});

/** A control for the comparison: 16 fixed random linear combinations of the 6 levels (Gaussian weights). */
class RandomLinearLayer implements PhysicalLayer {
  readonly name = 'random linear';
  readonly outputWidth = PHYLL_DEFAULTS.configurations;
  readonly inputWidth = phyllInputCount(task);
  private readonly weights: number[][];
  constructor(seed: number) {
    const rng = new Rng(seed);
    this.weights = Array.from({ length: this.outputWidth }, () => Array.from({ length: this.inputWidth }, () => rng.normal()));
  }
  forward(levels: readonly number[]): number[] {
    return this.weights.map((row) => row.reduce((sum, w, k) => sum + w * levels[k], 0));
  }
}

test('the DNPU layer fits Iris better than a linear layer of the same width or the digital layer alone; held out they are within two samples', async () => {
  // Same digital layer, seed and 100 epochs (no early stop); only the physical layer differs:
  // 16 DNPU configurations, 16 random linear combinations of the levels, or the 6 levels.
  // Measured (seed 1): train 97.1% / 93.1% / 90.2%; held out 89.6% / 89.6% / 87.5% (43, 43, 42 of 48).
  // Seeds 2 and 3 agree (train 96.1% vs 93.1% vs 92.2%); the DNPU's early lead in held-out
  // accuracy (≥ 90% at epoch 2–4) is partly width: the linear layer got there at epoch 1–34.
  const device = DopantNetwork.default().withInputCount(phyllInputCount(task));
  const instrument = new Instrument(device, 1);
  const settings = { ...PHYLL_DEFAULTS, epochs: 100 };
  const train = (layer: () => PhysicalLayer) => trainPhyll(task, layer, settings, 1, { stopWhenSolved: false });
  const dnpu = await train(() => new DevicePhysicalLayer(device, instrument, settings.configurations, 1, Infinity));
  const linear = await train(() => new RandomLinearLayer(1));
  const digital = await train(() => new IdentityPhysicalLayer(phyllInputCount(task)));
  const percent = (x: number) => `${(x * 100).toFixed(1)}%`;
  console.log(`100 epochs, seed 1, train / held out: DNPU ${percent(dnpu.trainAccuracy)} / ${percent(dnpu.accuracy)}; linear ${percent(linear.trainAccuracy)} / ${percent(linear.accuracy)}; digital alone ${percent(digital.trainAccuracy)} / ${percent(digital.accuracy)}`);
  assert.ok(dnpu.trainAccuracy > linear.trainAccuracy + 0.03, `train ${dnpu.trainAccuracy} vs linear ${linear.trainAccuracy}`);
  assert.ok(dnpu.trainAccuracy > digital.trainAccuracy + 0.05, `train ${dnpu.trainAccuracy} vs digital ${digital.trainAccuracy}`);
  const heldOutSamples = task.test.labels.length;
  assert.ok(Math.abs(dnpu.accuracy - linear.accuracy) * heldOutSamples <= 2 + 1e-9);
  assert.ok(Math.abs(dnpu.accuracy - digital.accuracy) * heldOutSamples <= 2 + 1e-9);
});

test('phyll refuses the input-case tasks and names bad options', () => {
  const reason = refusal(PHYLL, DopantNetwork.default(), gateTask('XOR', DopantNetwork.default().inputRangeV));
  assert.match(reason ?? '', /phyll cannot train/);
  assert.throws(() => phyllSettings({ hidden: 2.5 }), /phyll option hidden must be a whole number 1 \.\. 1024 \(default 16\), not 2\.5/);
  assert.throws(() => phyllSettings({ learningRate: -1 }), /learningRate must be a number > 0/);
});

test('a device with fewer inputs than levels gets each row mixed onto its inputs by a fixed ±1/√width matrix per configuration', () => {
  const network = new ResistorNetwork(); // 2 inputs, no assignable electrodes
  const layer = new DevicePhysicalLayer(network, new Instrument(network, 1), 4, 1, Infinity, phyllInputCount(task));
  assert.equal(layer.rewired, false);
  for (const { mixing } of layer.configurations) {
    assert.equal(mixing?.length, network.inputCount);
    assert.ok(mixing!.flat().every((m) => Math.abs(Math.abs(m) - 1 / Math.sqrt(phyllInputCount(task))) < 1e-15));
  }
  const readings = layer.forward(embedLabel(task.train.features[0], task.train.labels[0], task.classNames.length));
  assert.equal(readings?.length, 4);
  assert.equal(layer.instrument.measurements, 4);
});

test('phyll stops at the device-time budget, and at once when aborted', async () => {
  const short = await PHYLL.train(DopantNetwork.default(), task, { deviceSeconds: 50 }, { seed: 1 }); // its sweeps take 86 s
  assert.equal(short.stopped, 'budget');
  const instrument = new Instrument(DopantNetwork.default(), 1);
  const rowS = (PHYLL_DEFAULTS.configurations * (instrument.settleSamples + instrument.windowSamples)) / instrument.chain.sampleRateHz; // one (sample, label) pair
  assert.ok(short.deviceSeconds <= 50 && short.deviceSeconds > 50 - rowS, `${short.deviceSeconds} device-s`);
  const controller = new AbortController();
  controller.abort();
  const aborted = await PHYLL.train(DopantNetwork.default(), task, { deviceSeconds: 2000 }, { seed: 1, signal: controller.signal });
  assert.equal(aborted.stopped, 'interrupted');
  assert.ok(aborted.deviceSeconds < 100);
});

test('phyll that runs all its epochs unsolved says so (stopped: epochs), not the iteration limit it never reached', async () => {
  const run = await PHYLL.train(DopantNetwork.default(), task, { deviceSeconds: 2000, maxIterations: 500 }, { seed: 1, options: { epochs: 2, configurations: 2 } });
  assert.equal(run.solved, false);
  assert.equal(run.stopped, 'epochs');
  assert.ok(run.iterations < 500, `${run.iterations} steps`);
});

test('phyll refuses every whole-number setting beyond its limit, naming the setting, its range and default, before measuring anything', async () => {
  const device = countingResistor();
  for (const [key, limit] of Object.entries(PHYLL_LIMITS) as Array<[keyof typeof PHYLL_LIMITS, number]>) {
    assert.equal(phyllSettings({ [key]: limit })[key], limit, `${key} at its limit is taken`);
    await assert.rejects(PHYLL.train(device, task, { deviceSeconds: 2000 }, { seed: 1, options: { [key]: limit + 1 } }), (error: unknown) => {
      assert.ok(error instanceof TrainConfigError);
      assert.equal(error.option, key);
      assert.equal(error.message, `phyll option ${key} must be a whole number 1 .. ${limit} (default ${PHYLL_DEFAULTS[key]}), not ${limit + 1}`);
      return true;
    });
  }
  assert.equal(device.outputs, 0, 'refused before any device time');
});

test('hge train --method phyll --set hidden=1e7 is refused at once with one line and exit 3 (it ran the WebAssembly heap out after 302 device-s)', () => {
  const started = performance.now();
  const { status, stdout, stderr } = hge('train', '--method', 'phyll', '--task', 'iris', '--set', 'hidden=1e7', '--out', join(scratchDir('hge-phyll-'), 'refused'), '--no-progress');
  assert.equal(status, 3, stdout + stderr);
  assert.equal(stderr, `hge: configuration refused: phyll option hidden must be a whole number 1 .. ${PHYLL_LIMITS.hidden} (default 16), not 10000000\n`);
  assert.ok(performance.now() - started < 30_000);
});

test('an error after measuring began ends a phyll run with one line that says the device time it lost', async () => {
  const progress = () => {
    throw new Error('the digital side failed');
  };
  await assert.rejects(PHYLL.train(new ResistorNetwork(), task, { deviceSeconds: 2000 }, { seed: 1, progress, options: { configurations: 1 } }), (error: unknown) => {
    assert.ok(error instanceof Error && !(error instanceof TrainConfigError));
    assert.match(error.message, /^phyll failed after \d+\.\d device-s of measurement, which are lost: the digital side failed$/);
    return true;
  });
});

test('with blocks = 2, an epoch that confirms a solved one reads the held-out split again through every block, not only the last (block 1 was judged on its first readings: a confirmation that neither paid for nor saw fresh noise there)', async () => {
  class CountingIdentity extends IdentityPhysicalLayer {
    reads = 0;
    forward(levels: readonly number[]): number[] {
      this.reads++;
      return super.forward(levels);
    }
  }
  const settings = { ...PHYLL_DEFAULTS, blocks: 2, epochs: 40 };
  const layers = [new CountingIdentity(phyllInputCount(task)), new CountingIdentity(settings.hidden)];
  const run = await trainPhyll(task, (block) => layers[block], settings, 1);
  assert.equal(run.stopped, 'solved');
  const labels = task.classNames.length;
  const firstSweep = (task.train.labels.length + task.test.labels.length) * labels;
  const [again1, again2] = layers.map((layer) => layer.reads - firstSweep);
  assert.ok(again2 > 0 && again2 % (task.test.labels.length * labels) === 0, `block 2 read ${again2} rows again`);
  assert.equal(again1, again2, 'block 1 is read again with block 2');
});
