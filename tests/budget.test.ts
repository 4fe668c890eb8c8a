// Every registered method stops at its budget: the device time it reports is within the budget,
// and its updates within the iteration limit, on a problem it cannot solve in that budget. A
// comparison at equal budgets counts on it, and hge treats an overrun as a defect
// (method.ts: budgetOverrun, trainWithinBudget).
import { test } from "node:test";
import assert from "node:assert/strict";
import { loadDevice, type DeviceName } from "../host/devices/index.ts";
import { METHODS, refusal } from "../host/methods/index.ts";
import { budgetOverrun, meteredDevice, trainMetered, trainWithinBudget, type Budget, type Method } from "../host/methods/method.ts";
import { Instrument } from "../host/methods/instrument.ts";
import { Journal } from "../host/methods/journal.ts";
import { ResistorNetwork } from "../host/devices/resistor.ts";
import type { DopantNetwork } from "../host/devices/dopant.ts";
import { buildTask, type TaskName } from "../host/tasks/index.ts";

/** Problems no method solves within `deviceSeconds` (seed 1), the first a method can train
 *  is its; the budgets are not whole multiples of any method's measurement (an epoch, a window,
 *  pat's sweep) nor of a sample at 5 kHz (x.55 and x.95 samples: rounded to the nearest, a sample too many),
 *  so each run must stop short of one it cannot finish. */
const PROBLEMS: Array<{ device: DeviceName; task: TaskName; deviceSeconds: number }> = [
  { device: "dnpu", task: "xnor", deviceSeconds: 0.34571 },
  { device: "resistor", task: "regression", deviceSeconds: 0.87659 },
  { device: "dnpu", task: "iris", deviceSeconds: 2.34571 },
];

async function problemFor(method: Method) {
  for (const problem of PROBLEMS) {
    const device = await loadDevice(problem.device, problem.task);
    const task = buildTask(problem.task, device);
    if (refusal(method, device, task) === undefined) return { ...problem, device, task };
  }
  return undefined;
}

for (const method of METHODS) {
  test(`${method.name} stops at its device-time budget and at its iteration limit`, async () => {
    const problem = await problemFor(method);
    assert.ok(problem, `no problem here that ${method.name} can train: add one to PROBLEMS`);
    const timed: Budget = { deviceSeconds: problem.deviceSeconds };
    const run = await trainMetered(method, problem.device, problem.task, timed, { seed: 1 });
    assert.equal(run.solved, false, `${method.name} solved ${problem.task.name}: the budget tests nothing; lower it`);
    assert.ok(run.deviceSeconds > 0 && run.deviceSeconds <= timed.deviceSeconds, `${method.name}: ${run.deviceSeconds} device-s of ${timed.deviceSeconds}`);
    assert.equal(budgetOverrun(run, timed), undefined);
    const counted: Budget = { deviceSeconds: 1e4, maxIterations: 2 };
    const limited = await trainMetered(method, problem.device, problem.task, counted, { seed: 1 });
    assert.ok(limited.iterations <= 2 && (limited.solved || limited.iterations === 2), `${method.name}: ${limited.iterations} iterations, limit 2 (solved: ${limited.solved})`);
  });
}

test("a run over its budget is an error naming the method and what it spent; within it, it passes", async () => {
  const device = await loadDevice("dnpu", "xor");
  const task = buildTask("xor", device);
  const honest = METHODS[0];
  const overrunning: Method = { ...honest, train: async (...args) => ({ ...(await honest.train(...args)), deviceSeconds: 0.5 }) };
  await assert.rejects(trainWithinBudget(overrunning, device, task, { deviceSeconds: 0.4 }, { seed: 1 }),
    new RegExp(`^Error: ${honest.name} spent 0\\.5 device-s, over its budget of 0\\.4: every method stops at its budget$`));
  const run = await trainWithinBudget(honest, device, task, { deviceSeconds: 0.4 }, { seed: 1 });
  assert.ok(run.deviceSeconds <= 0.4);
  assert.match(budgetOverrun({ method: "m", deviceSeconds: 1, iterations: 3 }, { deviceSeconds: 2, maxIterations: 2 })!, /^m took 3 iterations, over its limit of 2$/);
});

test("a reading that did not count device time is an error naming the method; the readings an Instrument counts pass, on a device made from the metered one too", async () => {
  const device = await loadDevice("dnpu", "xor");
  const task = buildTask("xor", device);
  const honest = METHODS[0];
  const peeking: Method = { ...honest, train: async (metered, ...rest) => {
    metered.output(new Float64Array(metered.electrodeCount)); // free: no Instrument counted it
    return honest.train(metered, ...rest);
  } };
  await assert.rejects(trainMetered(peeking, device, task, { deviceSeconds: 1 }, { seed: 1 }),
    new RegExp(`^Error: ${honest.name} read the device \\(output\\) without counting device time`));
  const metered = meteredDevice(device, "m");
  const fewer = metered.withInputCount!(1);
  assert.throws(() => fewer.output(new Float64Array(fewer.electrodeCount)), /^Error: m read the device \(output\) without counting device time/);
  const instrument = new Instrument(fewer, 1);
  const voltages = new Float64Array(fewer.electrodeCount).fill(0.1);
  assert.equal(instrument.measure(voltages), new Instrument(device.withInputCount!(1), 1).measure(voltages)); // counted: the same reading
  assert.throws(() => fewer.output(voltages), /without counting device time/); // one reading a count
  assert.equal(metered.controlCount, device.controlCount);
});

test("the meter: a replayed reading and an advance() of the clock leave no reading free; every call but a view, a model or an exact gradient is a reading", async () => {
  const device = await loadDevice("dnpu", "xor");
  const metered = meteredDevice(device, "m");
  const voltages = new Float64Array(device.electrodeCount).fill(0.1);
  const run = { method: "m", device: device.name, task: "XOR", seed: 1 };
  const recorded = new Journal(run);
  new Instrument(metered, 1, { journal: recorded }).measure(voltages);
  const replaying = new Journal(run, recorded.kept());
  const instrument = new Instrument(metered, 1, { journal: replaying });
  instrument.measure(voltages);
  assert.equal(replaying.replayed, 1);
  assert.throws(() => metered.output(voltages), /^Error: m read the device \(output\) without counting device time/);
  instrument.advance(0);
  assert.throws(() => metered.output(voltages), /without counting device time/);
  // another view keeps what it was asked (DopantNetwork.withInputCount's input electrodes too)
  const picked = (metered as DopantNetwork).withInputCount(2, [0, 3]);
  const spread = Float64Array.from({ length: device.electrodeCount }, (_, e) => 0.1 * e - 0.3);
  const expected = new Instrument((device as DopantNetwork).withInputCount(2, [0, 3]), 1).measure(spread);
  assert.notEqual(expected, new Instrument(device.withInputCount!(2), 1).measure(spread)); // (the electrodes matter here)
  assert.equal(new Instrument(picked, 1).measure(spread), expected);
  const network = meteredDevice(new ResistorNetwork({ outputCount: 2 }), "m") as ResistorNetwork;
  const held = new Float64Array(network.electrodeCount).fill(0.2);
  assert.throws(() => network.outputs(held, new Float64Array(2)), /^Error: m read the device \(outputs\) without counting device time/);
  assert.throws(() => network.nodePotentialsV(held), /\(nodePotentialsV\) without counting device time/);
  assert.equal(network.outputGradient(held).length, network.controlCount); // for judging: free
  assert.equal(network.nominalModel().controlCount, network.controlCount);
});
