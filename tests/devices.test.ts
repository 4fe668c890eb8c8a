// Specification of the simulated devices in host/devices: Kirchhoff's laws hold, the dopant
// network is non-monotonic and realises all six 2-input gates, and the exact gradients
// (analytic, adjoint) agree with finite differences.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { AnalyticDevice } from '../host/devices/analytic.ts';
import { DopantNetwork } from '../host/devices/dopant.ts';
import { DOPANT_KERNEL_BASE64, instantiateDopantKernel } from '../host/devices/dopant-kernel.ts';
import { assembleDopantKernel } from '../scripts/dopant-kernel.ts';
import { ResistorNetwork } from '../host/devices/resistor.ts';
import { controlMidpointsV, type Device } from '../host/devices/device.ts';
import { Rng } from '../host/noise.ts';
import { GATE_NAMES, corrsig, gateMargin, gateTask } from '../host/tasks/gates.ts';

/** Uniformly random electrode voltages inside the device's ranges. */
function randomVoltages(device: Device, rng: Rng): Float64Array {
  const ranges = [...device.controlRangeV, ...device.inputRangeV];
  return Float64Array.from(ranges, ([low, high]) => rng.between(low, high));
}

/** max |a − b| / max |b|: gradient agreement measured against the gradient's scale. */
function maxRelativeError(a: Float64Array, b: Float64Array): number {
  let worst = 0;
  let scale = 0;
  for (let i = 0; i < a.length; i++) {
    worst = Math.max(worst, Math.abs(a[i] - b[i]));
    scale = Math.max(scale, Math.abs(b[i]));
  }
  return worst / scale;
}

function centralDifference(f: (v: Float64Array) => number, voltages: Float64Array, count: number, stepV: number): Float64Array {
  return Float64Array.from({ length: count }, (_, k) => {
    const plus = voltages.slice();
    const minus = voltages.slice();
    plus[k] += stepV;
    minus[k] -= stepV;
    return (f(plus) - f(minus)) / (2 * stepV);
  });
}

// ---------------------------------------------------------------- dopant network

test('dopant network: Kirchhoff current law holds at every site to 1e-9 relative (20 random voltage sets)', () => {
  const device = DopantNetwork.default();
  const rng = new Rng(2);
  for (let trial = 0; trial < 20; trial++) {
    const residual = device.currentLawResidual(randomVoltages(device, rng));
    assert.ok(residual < 1e-9, `residual ${residual}`);
  }
});

test('dopant network: outputs equal the model\'s before the speed work (tests/dopant-reference.json, 328 vectors) within 1e-9 nA', () => {
  // The fixture holds outputs of the model as it stood at commit 3d789ef (written by
  // scripts/dopant-reference.ts), so any later rewrite of the solver is held to the same
  // physics: 1e-9 nA is 5e7 times below the simulated measurement noise of 0.05 nA.
  const reference = JSON.parse(readFileSync(new URL('./dopant-reference.json', import.meta.url), 'utf8')) as {
    outputScaleNA: number;
    cases: Array<{ voltagesV: number[]; outputNA: number }>;
  };
  const device = DopantNetwork.default();
  assert.ok(Math.abs(device.outputScaleNA / reference.outputScaleNA - 1) < 1e-12, `output scale ${device.outputScaleNA}`);
  for (const { voltagesV, outputNA } of reference.cases) {
    const output = device.output(Float64Array.from(voltagesV));
    assert.ok(Math.abs(output - outputNA) < 1e-9, `${voltagesV}: ${output} nA, reference ${outputNA} nA`);
  }
});

test('dopant network: the output depends on the voltages only, bit for bit, whatever was evaluated before (no warm start, no state)', () => {
  const device = DopantNetwork.default();
  const rng = new Rng(41);
  const probes = Array.from({ length: 20 }, () => randomVoltages(device, rng));
  const first = probes.map((v) => device.output(v));
  for (let s = 0; s < 500; s++) device.output(randomVoltages(device, rng));
  const fresh = DopantNetwork.default();
  probes.forEach((v, k) => {
    assert.equal(device.output(v), first[k]);
    assert.equal(fresh.output(v), first[k]);
  });
});

test('dopant network: the kernel bytes embedded in dopant-kernel.ts are dopant-kernel.wat assembled (scripts/dopant-kernel.ts)', () => {
  assert.equal(DOPANT_KERNEL_BASE64, assembleDopantKernel(), 'run npx tsx scripts/dopant-kernel.ts after editing the .wat');
});

test('dopant network: the kernel\'s e^x is Math.exp to within 1 ulp over the clamp range |x| ≤ 300 (200,000 draws, most bit for bit)', () => {
  const kernel = instantiateDopantKernel(0);
  const bits = new DataView(new ArrayBuffer(16));
  const ulps = (a: number, b: number): number => {
    bits.setFloat64(0, a);
    bits.setFloat64(8, b);
    return Number(bits.getBigInt64(0) - bits.getBigInt64(8));
  };
  const rng = new Rng(31);
  let identical = 0;
  const draws = 200_000;
  for (let s = 0; s < draws; s++) {
    const x = s % 2 ? rng.between(-300, 300) : rng.between(-2, 2);
    const difference = ulps(kernel.exp(x), Math.exp(x));
    assert.ok(Math.abs(difference) <= 1, `e^${x}: ${kernel.exp(x)} vs Math.exp ${Math.exp(x)}`);
    if (difference === 0) identical++;
  }
  for (const x of [-300, 300, 0, 1e-300, -1e-300]) assert.ok(Math.abs(ulps(kernel.exp(x), Math.exp(x))) <= 1, `e^${x}`);
  assert.ok(identical > 0.9 * draws, `${identical} of ${draws} bit for bit`);
});

test('dopant network: every site potential lies between the lowest and highest electrode voltage, output at 0 V included (maximum principle)', () => {
  const device = DopantNetwork.default();
  const rng = new Rng(22);
  for (let trial = 0; trial < 20; trial++) {
    const voltages = randomVoltages(device, rng);
    const lowest = Math.min(0, ...voltages);
    const highest = Math.max(0, ...voltages);
    for (const v of device.sitePotentialsV(voltages)) assert.ok(v >= lowest - 1e-12 && v <= highest + 1e-12);
  }
});

test('dopant network: outputs stay within ±150 nA over 2000 random in-range voltage sets (the DNPU current range)', () => {
  const device = DopantNetwork.default();
  const rng = new Rng(3);
  let largest = 0;
  for (let trial = 0; trial < 2000; trial++) largest = Math.max(largest, Math.abs(device.output(randomVoltages(device, rng))));
  assert.ok(largest <= 150 && largest >= 50, `largest |output| ${largest} nA`);
});

test('dopant network: the response to some control has an interior extremum at least 1 nA deep (non-monotonic, needed for XOR)', (t) => {
  const device = DopantNetwork.default();
  const voltages = new Float64Array(device.electrodeCount).fill(-0.3);
  let deepest = 0;
  for (let k = 0; k < device.controlCount; k++) {
    const [low, high] = device.controlRangeV[k];
    const sweep = Array.from({ length: 181 }, (_, i) => {
      voltages[k] = low + ((high - low) * i) / 180;
      return device.output(voltages);
    });
    voltages[k] = -0.3;
    for (let i = 1; i < sweep.length - 1; i++) {
      const isMaximum = sweep[i] > sweep[i - 1] && sweep[i] > sweep[i + 1];
      const isMinimum = sweep[i] < sweep[i - 1] && sweep[i] < sweep[i + 1];
      if (!isMaximum && !isMinimum) continue;
      // Depth: how far the curve falls back (or rises back) on both sides of the extremum.
      const left = sweep.slice(0, i);
      const right = sweep.slice(i + 1);
      const depth = isMaximum
        ? Math.min(sweep[i] - Math.min(...left), sweep[i] - Math.min(...right))
        : Math.min(Math.max(...left) - sweep[i], Math.max(...right) - sweep[i]);
      deepest = Math.max(deepest, depth);
    }
  }
  t.diagnostic(`deepest interior extremum of a control sweep: ${deepest.toFixed(1)} nA`);
  assert.ok(deepest >= 1, `deepest interior extremum ${deepest} nA`);
});

/**
 * Train the 5 controls for one gate: 500 random control sets, then finite-difference
 * gradient descent on corrsig (normalised steps, clipped to the ranges, step halves on failure).
 */
function trainGate(device: DopantNetwork, inputCases: number[][], targets: number[]): { outputs: number[]; controls: Float64Array } {
  const voltages = new Float64Array(device.electrodeCount);
  const outputsFor = (controls: Float64Array) => {
    voltages.set(controls);
    return inputCases.map(([a, b]) => {
      voltages[device.controlCount] = a;
      voltages[device.controlCount + 1] = b;
      return device.output(voltages);
    });
  };
  const loss = (controls: Float64Array) => corrsig(outputsFor(controls), targets);
  const clip = (x: number, k: number) => Math.min(device.controlRangeV[k][1], Math.max(device.controlRangeV[k][0], x));
  const rng = new Rng(1);
  let controls = controlMidpointsV(device);
  let current = loss(controls);
  for (let s = 0; s < 500; s++) {
    const candidate = Float64Array.from(device.controlRangeV, ([low, high]) => rng.between(low, high));
    const candidateLoss = loss(candidate);
    if (candidateLoss < current) [controls, current] = [candidate, candidateLoss];
  }
  let stepV = 0.05;
  for (let iteration = 0; iteration < 200 && stepV > 1e-5; iteration++) {
    const gradient = centralDifference(loss, controls, device.controlCount, 1e-3);
    const norm = Math.hypot(...gradient) || 1;
    const next = controls.map((x, k) => clip(x - (stepV * gradient[k]) / norm, k));
    const nextLoss = loss(next);
    if (nextLoss < current) {
      [controls, current] = [next, nextLoss];
      stepV *= 1.5;
    } else {
      stepV *= 0.5;
    }
  }
  return { outputs: outputsFor(controls), controls };
}

for (const gate of GATE_NAMES) {
  test(`dopant network: the default device realises ${gate} by training: margin ≥ 5% of the output span and ≥ 5 nA, controls in range`, (t) => {
    const device = DopantNetwork.default();
    const task = gateTask(gate, device.inputRangeV);
    const { outputs, controls } = trainGate(device, task.inputCases, task.targets);
    const margin = gateMargin(outputs, task.targets);
    const lowestOne = Math.min(...outputs.filter((_, p) => task.targets[p] === 1));
    const highestZero = Math.max(...outputs.filter((_, p) => task.targets[p] === 0));
    const outputsText = outputs.map((y) => y.toFixed(1)).join(', ');
    t.diagnostic(`${gate}: outputs ${outputsText} nA, separation ${(lowestOne - highestZero).toFixed(1)} nA, margin ${margin.toFixed(2)}`);
    assert.ok(task.solved(outputs) && margin >= 0.05, `${gate}: margin ${margin.toFixed(3)}, outputs ${outputsText} nA`);
    assert.ok(lowestOne - highestZero >= 5, `${gate}: separation ${(lowestOne - highestZero).toFixed(1)} nA`);
    controls.forEach((v, k) => assert.ok(v >= device.controlRangeV[k][0] && v <= device.controlRangeV[k][1]));
  });
}

test('dopant network: evaluation speed (diagnostic only, not asserted)', (t) => {
  const device = DopantNetwork.default();
  const voltages = new Float64Array(device.electrodeCount).fill(-0.3);
  const start = process.cpuUsage();
  const wallStart = performance.now();
  let evaluations = 0;
  while (process.cpuUsage(start).user < 500_000) {
    for (let i = 0; i < 200; i++) {
      voltages[0] = -0.5 + 0.001 * i;
      device.output(voltages);
    }
    evaluations += 200;
  }
  const cpuS = process.cpuUsage(start).user / 1e6;
  const wallS = (performance.now() - wallStart) / 1000;
  t.diagnostic(`DopantNetwork.output: ${(evaluations / cpuS).toFixed(0)} evaluations per CPU second (${(evaluations / wallS).toFixed(0)} per wall second)`);
});

// ---------------------------------------------------------------- resistor network

for (const edgeCount of [8, 64, 256]) {
  test(`resistor network (${edgeCount} edges): Kirchhoff current law holds at every free node to 1e-9 relative`, () => {
    const device = new ResistorNetwork({ edgeCount, seed: 4 });
    const rng = new Rng(5);
    for (let trial = 0; trial < 5; trial++) {
      const residual = device.currentLawResidual(randomVoltages(device, rng));
      assert.ok(residual < 1e-9, `residual ${residual}`);
    }
  });

  test(`resistor network (${edgeCount} edges): the adjoint gradient matches central differences to 1e-6 relative`, () => {
    const device = new ResistorNetwork({ edgeCount, seed: 6, outputCount: 2 });
    const voltages = randomVoltages(device, new Rng(7));
    // Cost C = 0.7·V_out0 − 1.3·V_out1: a multi-output cost exercises the adjoint source.
    const dCdOut = Float64Array.of(0.7, -1.3);
    const outputs = new Float64Array(2);
    const cost = (v: Float64Array) => {
      device.outputs(v, outputs);
      return dCdOut[0] * outputs[0] + dCdOut[1] * outputs[1];
    };
    const adjoint = device.gradient(voltages, dCdOut);
    const numeric = centralDifference(cost, voltages, device.controlCount, 1e-5);
    const error = maxRelativeError(numeric, adjoint);
    assert.ok(error < 1e-6, `relative error ${error}`);
  });
}

test('resistor network: every control moves the output (seeds 1–10 at 5, 8, 32, 128 and 256 edges, 2 and 3 inputs): no edge joins two held nodes or lies where no current crosses it, where its exact gradient would be 0; the graph does not depend on the fabrication spread', () => {
  for (const inputCount of [2, 3]) {
    for (const edgeCount of [5, 8, 32, 128, 256]) {
      for (let seed = 1; seed <= 10; seed++) {
        const device = new ResistorNetwork({ edgeCount, seed, inputCount });
        const largest = new Float64Array(edgeCount);
        const rng = new Rng(seed);
        for (let trial = 0; trial < 3; trial++) {
          device.outputGradient(randomVoltages(device, rng)).forEach((g, e) => (largest[e] = Math.max(largest[e], Math.abs(g))));
        }
        const scale = Math.max(...largest);
        const still = [...largest.keys()].filter((e) => !(largest[e] > 1e-9 * scale));
        assert.deepEqual(still, [], `${device.name}: edges ${still.map((e) => `${device.edgeNodes[2 * e]}–${device.edgeNodes[2 * e + 1]}`).join(', ')} never move the output`);
        // the graph is the design's: the same whatever the fabrication spread
        assert.deepEqual(new ResistorNetwork({ edgeCount, seed, inputCount, fabricationSpread: 0.3 }).nominalModel().edgeNodes, device.edgeNodes);
      }
    }
  }
});

test('resistor network: outputGradient is the adjoint gradient of one output (64 edges, 1e-6 relative)', () => {
  const device = new ResistorNetwork({ edgeCount: 64, seed: 8 });
  const voltages = randomVoltages(device, new Rng(9));
  const numeric = centralDifference((v) => device.output(v), voltages, device.controlCount, 1e-5);
  assert.ok(maxRelativeError(numeric, device.outputGradient(voltages, 0)) < 1e-6);
});

test('resistor network: reciprocity, the transfer conductance a→b equals b→a to 1e-12 relative (64 edges, 10 node pairs)', () => {
  const device = new ResistorNetwork({ edgeCount: 64, seed: 10 });
  const voltages = randomVoltages(device, new Rng(11));
  const rng = new Rng(12);
  for (let pair = 0; pair < 10; pair++) {
    const a = 1 + Math.floor(rng.uniform() * (device.nodeCount - 1));
    let b = a;
    while (b === a) b = 1 + Math.floor(rng.uniform() * (device.nodeCount - 1));
    const forward = device.transferConductanceS(voltages, a, b);
    const backward = device.transferConductanceS(voltages, b, a);
    assert.ok(forward > 0, 'a passive connected network conducts');
    assert.ok(Math.abs(forward - backward) / forward < 1e-12, `${a}→${b}: ${forward} vs ${backward}`);
  }
});

test('resistor network: outputs are convex combinations of the inputs and ground (each within [min, max] of inputs and 0 V)', () => {
  const device = new ResistorNetwork({ edgeCount: 64, seed: 13, outputCount: 3 });
  const rng = new Rng(14);
  const outputs = new Float64Array(3);
  for (let trial = 0; trial < 20; trial++) {
    const voltages = randomVoltages(device, rng);
    device.outputs(voltages, outputs);
    const sources = [0, ...voltages.slice(device.controlCount)];
    for (const v of outputs) assert.ok(v >= Math.min(...sources) - 1e-12 && v <= Math.max(...sources) + 1e-12);
  }
});

test('resistor network: the output never falls where an input rises, whatever the controls (risesWithInputs), fabricated or nominal (2000 random pairs each)', () => {
  for (const device of [new ResistorNetwork({ edgeCount: 32, seed: 3, inputCount: 3 }), new ResistorNetwork({ fabricationSpread: 0.3 }), new ResistorNetwork().nominalModel()]) {
    assert.equal(device.risesWithInputs, true);
    const rng = new Rng(15);
    for (let trial = 0; trial < 2000; trial++) {
      const low = randomVoltages(device, rng);
      const high = Float64Array.from(low);
      const i = device.controlCount + Math.floor(rng.uniform() * device.inputCount);
      high[i] = rng.between(low[i], device.inputRangeV[i - device.controlCount][1]);
      assert.ok(device.output(high) >= device.output(low) - 1e-12, `${device.name}: input ${i - device.controlCount + 1} rose from ${low[i]} to ${high[i]} V and the output fell`);
    }
  }
});

test('resistor network: 2000 evaluations at 256 edges take a few seconds at most (diagnostic)', (t) => {
  const device = new ResistorNetwork({ edgeCount: 256, seed: 15 });
  const voltages = randomVoltages(device, new Rng(16));
  const start = performance.now();
  for (let i = 0; i < 2000; i++) {
    voltages[i % device.controlCount] += 1e-4;
    device.output(voltages);
  }
  t.diagnostic(`ResistorNetwork(256 edges, ${device.nodeCount} nodes): ${((performance.now() - start) / 2000).toFixed(3)} ms per evaluation`);
});

// ---------------------------------------------------------------- all devices

test('every device gives the same output for Float32Array and Float64Array voltages (to float32 rounding, 1e-5 relative)', () => {
  const devices: Device[] = [DopantNetwork.default(), new ResistorNetwork({ edgeCount: 16 }), new AnalyticDevice()];
  for (const device of devices) {
    const voltages64 = Float64Array.from(randomVoltages(device, new Rng(23)), (v) => Math.fround(v));
    const voltages32 = Float32Array.from(voltages64);
    const y64 = device.output(voltages64);
    assert.ok(Math.abs(device.output(voltages32) - y64) <= 1e-5 * Math.abs(y64), device.name);
  }
});

// ---------------------------------------------------------------- analytic device

for (const controlCount of [5, 64]) {
  test(`analytic device (${controlCount} controls): outputGradient matches central differences to 1e-7 relative`, () => {
    const device = new AnalyticDevice({ controlCount, seed: 17 });
    const voltages = randomVoltages(device, new Rng(18));
    const numeric = centralDifference((v) => device.output(v), voltages, controlCount, 1e-5);
    assert.ok(maxRelativeError(numeric, device.outputGradient(voltages)) < 1e-7);
  });

  test(`analytic device (${controlCount} controls): outputs are tens of nA (largest |y| over 500 random sets in 10..100 nA)`, () => {
    const device = new AnalyticDevice({ controlCount, seed: 19 });
    const rng = new Rng(20);
    let largest = 0;
    for (let trial = 0; trial < 500; trial++) largest = Math.max(largest, Math.abs(device.output(randomVoltages(device, rng))));
    assert.ok(largest >= 10 && largest <= 100, `largest ${largest} nA`);
  });
}

test('analytic device: Adam on MSE to targetsFor(knownOptimumV) reaches knownOptimumV within 1 mV (default seed, 16 cases, 5 controls)', () => {
  const device = new AnalyticDevice();
  const inputCases: number[][] = [];
  for (let i = 0; i < 4; i++) for (let j = 0; j < 4; j++) inputCases.push([-0.7 + i / 3, -0.7 + j / 3]);
  const targets = device.targetsFor(device.knownOptimumV, inputCases);
  const voltages = new Float64Array(device.electrodeCount);
  const lossAndGradient = (controls: Float64Array) => {
    const gradient = new Float64Array(device.controlCount);
    let loss = 0;
    voltages.set(controls);
    inputCases.forEach((inputs, p) => {
      voltages.set(inputs, device.controlCount);
      const error = device.output(voltages) - targets[p];
      loss += (error * error) / inputCases.length;
      const rowGradient = device.outputGradient(voltages);
      for (let k = 0; k < device.controlCount; k++) gradient[k] += (2 * error * rowGradient[k]) / inputCases.length;
    });
    return { loss, gradient };
  };
  // Adam (β1 = 0.9, β2 = 0.999, step 10 mV), controls clipped to their ranges.
  const controls = controlMidpointsV(device);
  const firstMoment = new Float64Array(device.controlCount);
  const secondMoment = new Float64Array(device.controlCount);
  let loss = Infinity;
  for (let iteration = 1; iteration <= 10_000; iteration++) {
    const step = lossAndGradient(controls);
    loss = step.loss;
    if (loss < 1e-16) break;
    for (let k = 0; k < device.controlCount; k++) {
      firstMoment[k] = 0.9 * firstMoment[k] + 0.1 * step.gradient[k];
      secondMoment[k] = 0.999 * secondMoment[k] + 0.001 * step.gradient[k] ** 2;
      const update = (0.01 * firstMoment[k]) / (1 - 0.9 ** iteration) / (Math.sqrt(secondMoment[k] / (1 - 0.999 ** iteration)) + 1e-12);
      const [low, high] = device.controlRangeV[k];
      controls[k] = Math.min(high, Math.max(low, controls[k] - update));
    }
  }
  const distanceV = Math.max(...controls.map((x, k) => Math.abs(x - device.knownOptimumV[k])));
  assert.ok(distanceV < 1e-3, `distance ${distanceV} V, loss ${loss} nA²`);
});
