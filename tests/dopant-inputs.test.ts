// Choosing which DNPU electrodes are data inputs (DopantParameters.inputElectrodes): the same
// instance, each safe range staying with its electrode, bad choices refused in one line.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DopantNetwork } from '../host/devices/dopant.ts';
import { Rng } from '../host/noise.ts';

test('inputs on electrodes 0,1,2 are the same instance as the default roles: equal outputs (to 1e-9 nA) for the same voltage on each electrode, 100 random sets', () => {
  const byNumber = DopantNetwork.default().withInputCount(3); // voltages[e] drives electrode e
  const chosen = DopantNetwork.default().withInputCount(3, [0, 1, 2]); // controls 3..6, then inputs 0, 1, 2
  const order = [3, 4, 5, 6, 0, 1, 2];
  const rng = new Rng(4);
  for (let trial = 0; trial < 100; trial++) {
    const electrodeV = Float64Array.from({ length: 7 }, () => rng.between(-1.2, 0.3));
    const chosenV = Float64Array.from(order, (electrode) => electrodeV[electrode]);
    assert.ok(Math.abs(chosen.output(chosenV) - byNumber.output(electrodeV)) < 1e-9);
  }
  assert.ok(Math.abs(chosen.outputScaleNA / byNumber.outputScaleNA - 1) < 1e-12); // same scale up to summation order
});

test('each electrode keeps its safe range whatever its role: inputs 0,1,2 get [−1.2, 0.6] V, the controls end with electrodes 5 and 6 at [−0.7, 0.3] V', () => {
  const device = DopantNetwork.default().withInputCount(3, [0, 1, 2]);
  assert.deepEqual(device.inputRangeV, [[-1.2, 0.6], [-1.2, 0.6], [-1.2, 0.6]]);
  assert.deepEqual(device.controlRangeV, [[-1.2, 0.6], [-1.2, 0.6], [-0.7, 0.3], [-0.7, 0.3]]);
  assert.deepEqual(device.inputElectrodes, [0, 1, 2]);
  assert.deepEqual(DopantNetwork.default().inputElectrodes, [5, 6]); // the default roles: the last electrodes
});

test('a bad input-electrode choice is refused in one line naming the field and the valid choices', () => {
  assert.throws(() => DopantNetwork.default().withInputCount(3, [1, 1, 2]), /^RangeError: inputElectrodes: 3 distinct electrode numbers from 0 to 6 expected, not \[1, 1, 2\]$/);
  assert.throws(() => DopantNetwork.default().withInputCount(2, [7, 0]), /inputElectrodes: 2 distinct electrode numbers from 0 to 6/);
  assert.throws(() => DopantNetwork.default().withInputCount(3, [0, 1]), /inputElectrodes: 3 distinct/);
});
