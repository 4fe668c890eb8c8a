// The drift scenario's device: its output moves from one instance's to another's between two
// device times, and both ways of driving a device (the co-simulation, an Instrument) tell it
// the device time, so every method sees the same drift at the same device-second.
import { test } from "node:test";
import assert from "node:assert/strict";
import { DriftingDevice, warmingDnpu } from "../host/devices/drift.ts";
import { AnalyticDevice } from "../host/devices/analytic.ts";
import { Instrument } from "../host/methods/instrument.ts";
import { HgeJacobian } from "../host/methods/module.ts";
import { gateTask } from "../host/tasks/gates.ts";

const before = new AnalyticDevice({ seed: 1 });
const after = new AnalyticDevice({ seed: 2 });
const voltages = new Float64Array(before.electrodeCount).fill(0.1);

test("the output is the first instance's before the drift, the second's after it, and linear between", () => {
  const device = new DriftingDevice(before, after, 10, 20);
  device.setTime(5);
  assert.equal(device.output(voltages), before.output(voltages));
  device.setTime(25);
  assert.equal(device.output(voltages), after.output(voltages));
  device.setTime(12.5);
  assert.ok(Math.abs(device.output(voltages) - (0.75 * before.output(voltages) + 0.25 * after.output(voltages))) < 1e-12);
});

test("an Instrument tells the device the device time: the 200th measurement (22 s at 0.11 s each) reads the drifted device", () => {
  const device = new DriftingDevice(before, after, 10, 20);
  const instrument = new Instrument(device, 1, { windowSamples: 500, settleSamples: 50, noise: { whiteSigma: 0, pinkPsdAt1kHz: 0 } });
  const first = instrument.measure(voltages);
  for (let i = 1; i < 199; i++) instrument.measure(voltages);
  const late = instrument.measure(voltages);
  assert.ok(Math.abs(first - before.output(instrument.heldVoltages())) < 0.01, `${first}`);
  assert.ok(Math.abs(late - after.output(instrument.heldVoltages())) < 0.01, `${late}`);
});

test("an Instrument's noise drifts with the device time it charges, settling included: 12 s of a 1 V/s ramp reads 12 V, not the 10 V of its windows alone", () => {
  const zero = Object.assign(Object.create(before), { output: () => 0 });
  const instrument = new Instrument(zero, 1, { windowSamples: 50, settleSamples: 10, noise: { whiteSigma: 0, pinkPsdAt1kHz: 0, drift: { slopePerS: 1 } }, chain: { dacBits: 48, adcBits: 48, adcRangeV: [-1e6, 1e6] } });
  let last = 0;
  for (let i = 0; i < 1000; i++) last = instrument.measure(voltages);
  assert.equal(instrument.deviceSeconds, 12);
  // the last window's mean sits half a window (25 samples, 5 ms) before the end
  assert.ok(Math.abs(last - 11.995) < 1e-3, `${last}`);
});

test("warming the DNPU by 10% of kT changes its outputs by a few per cent, on the same scale", () => {
  const device = warmingDnpu(0.1, 0, 1);
  const v = new Float64Array(device.electrodeCount).map((_, e) => [...device.controlRangeV, ...device.inputRangeV][e][0] * 0.5);
  device.setTime(0);
  const cold = device.output(v);
  device.setTime(1);
  const warm = device.output(v);
  assert.ok(Math.abs(warm - cold) > 1e-3 && Math.abs(warm - cold) < 0.3 * Math.max(Math.abs(cold), 1), `${cold} → ${warm} nA`);
});

test("the module's lock-in windows (HgeJacobian: pat-hge, phyll-hge) and the instrument draw one drift in device time: a 1 nA/s ramp reads slope × device time after 1 device-s of windows, in both", () => {
  const device = new AnalyticDevice({ seed: 1 });
  const slopePerS = 1;
  const instrument = new Instrument(device, 1, { noise: { whiteSigma: 0, pinkPsdAt1kHz: 0, drift: { slopePerS } } });
  const rate = instrument.chain.sampleRateHz;
  const task = gateTask("XOR", device.inputRangeV);
  const controls = device.controlRangeV.map(([low, high]) => (low + high) / 2);
  const voltages = [...controls, ...task.inputCases[0]];
  instrument.measure(voltages);
  const hge = new HgeJacobian(1);
  const epochs: Array<{ startSeconds: number; outputs: number[] }> = [];
  for (let epoch = 0; epoch < 4; epoch++) {
    const { chain, noise, drift: sharedDrift } = instrument;
    const before = hge.seconds;
    const startSeconds = instrument.deviceSeconds;
    const measured = hge.measure(device, task, controls, startSeconds, Infinity, { chain, noise, sharedDrift });
    instrument.advance(hge.seconds - before);
    assert.ok(typeof measured === "object", `${measured}`);
    epochs.push({ startSeconds, outputs: measured.outputs });
  }
  const windowsSeconds = hge.seconds;
  assert.ok(windowsSeconds > 1, `${windowsSeconds} device-s of windows`);
  // the same epoch at the same controls later reads the same window means, moved by the ramp
  // over the device time between them (the first epoch calibrated the lag: it is longer)
  const [, second, third, fourth] = epochs;
  for (const [a, b] of [[second, third], [third, fourth]]) {
    const expected = slopePerS * (b.startSeconds - a.startSeconds);
    b.outputs.forEach((y, p) => assert.ok(Math.abs(y - a.outputs[p] - expected) < 0.01, `case ${p}: moved ${y - a.outputs[p]} nA, the ramp ${expected} nA`));
  }
  // a reading after the windows: its window's mean sits (window + 1)/2 samples before the end
  // (within about an ADC step, 0.009 nA: without the shared drift it read 0.019 nA, the ramp
  // over its own two readings alone)
  const reading = instrument.measure(voltages);
  const offset = reading - device.output(instrument.heldVoltages());
  const expected = (slopePerS * (instrument.samples - (instrument.windowSamples + 1) / 2)) / rate;
  assert.ok(instrument.deviceSeconds > windowsSeconds);
  assert.ok(Math.abs(offset - expected) < 0.01, `offset ${offset} nA after ${instrument.deviceSeconds} device-s, the ramp ${expected} nA`);
});
