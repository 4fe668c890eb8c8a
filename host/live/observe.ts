// The live view for a run on the host (no --board): the methods report only Progress (loss,
// criterion), so what else the page plots is observed at the device, the one thing every
// method drives: a transparent wrapper records each output(voltages) call, and after each
// update gives, for the last window of samples,
//  - each case's output: the mean device output over the last `windowSamples` samples its
//    input voltages were applied (the DC term a lock-in measures; before the chain's noise);
//  - the controls: the mean of each control voltage over the same stretch (a perturbation of
//    whole periods averages out);
//  - the spectrum of the device output over the last window (its own output, before the chain
//    and the noise), with each control's tone found where the DFT of that control's voltage
//    peaks (the perturbation it carried); none for codes (`tones` false), which have no tone.
// It records the device, not the controller, and assumes one output() call per sample: so it
// observes only the module's estimators (bin/cli.ts); a method measuring through an Instrument
// (settled, averaged readings), a model fit or an equilibrium would show invented windows.
import type { Device } from "../devices/device.ts";
import type { Task } from "../tasks/task.ts";
import { classThreshold, windowSpectrum, type LiveUpdate } from "./server.ts";
import { maxOf, minOf } from "../metrics.ts";

/** A control whose voltage's spectrum peaks below this (V) carries no tone in the window. */
const MIN_TONE_V = 1e-6;

export interface DeviceObserver {
  /** The device to hand to the method (forwards everything to the real one). */
  device: Device;
  /** What the last window showed (nothing before the first full window). `windowSamples`: the
   *  window the method measures over (Progress.windowSamples), when it says. */
  snapshot(windowSamples?: number): Pick<LiveUpdate, "caseOutputs" | "threshold" | "weights" | "spectrum">;
}

export function observeDevice(device: Device, task: Task, o: { windowSamples: number; sampleRateHz: number; tones: boolean }): DeviceObserver {
  const controls = device.controlCount;
  const cases = task.inputCases.length;
  // the last `window` samples: outputs, each control's voltage, and each case's latest stretch
  let window = 0, at = 0, seen = 0, current = -1;
  let outputs = new Float64Array(0);
  let controlV: Float64Array[] = [];
  let caseRing: { values: Float64Array; n: number; at: number }[] = [];
  let toneBins: number[] | undefined;
  const lastMean = new Float64Array(cases);
  const controlMean = new Float64Array(controls);
  const restart = (samples: number) => {
    window = samples;
    at = seen = 0;
    current = -1;
    outputs = new Float64Array(window);
    controlV = Array.from({ length: controls }, () => new Float64Array(window));
    caseRing = Array.from({ length: cases }, () => ({ values: new Float64Array(window), n: 0, at: 0 }));
    lastMean.fill(Number.NaN);
    controlMean.fill(Number.NaN);
    toneBins = undefined;
  };
  restart(o.windowSamples);
  const nearestCase = (v: ArrayLike<number>) => {
    let best = 0, bestD = Infinity;
    for (let p = 0; p < cases; p++) {
      let d = 0;
      for (let i = 0; i < device.inputCount; i++) d += (v[controls + i] - task.inputCases[p][i]) ** 2;
      if (d < bestD) { bestD = d; best = p; }
    }
    return best;
  };
  const record = (v: Float64Array | Float32Array, y: number) => {
    outputs[at] = y;
    for (let k = 0; k < controls; k++) controlV[k][at] = v[k];
    at = (at + 1) % window;
    seen++;
    const p = nearestCase(v);
    if (p !== current) { // a new stretch of case p
      current = p;
      caseRing[p].n = 0;
      caseRing[p].at = 0;
    }
    const r = caseRing[p];
    r.values[r.at] = y;
    r.at = (r.at + 1) % window;
    r.n = Math.min(window, r.n + 1);
    if (r.n === window || r.n > window / 2) lastMean[p] = mean(r.values, r.n);
  };
  const wrapped = new Proxy(device, {
    get(target, prop) {
      if (prop === "output") return (v: Float64Array | Float32Array) => { const y = target.output(v); record(v, y); return y; };
      const value = Reflect.get(target, prop, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  return {
    device: wrapped,
    snapshot(windowSamples) {
      // the method measured over another window than the one expected (a plan that needed a
      // longer one, a code's whole periods): observe that one from now on
      if (windowSamples !== undefined && windowSamples !== window) restart(windowSamples);
      if (seen < window) return {};
      const ordered = (ring: Float64Array) => Float64Array.from({ length: window }, (_, t) => ring[(at + t) % window]);
      for (let k = 0; k < controls; k++) controlMean[k] = mean(controlV[k], window);
      // each control's tone: the bin where its voltage's spectrum peaks (found once a window:
      // a run keeps its tones, and 128 controls' spectra of a long window take seconds). A
      // window of held controls, read plainly (a confirmation), has none: look again later
      if (!toneBins && o.tones) {
        const peaks = controlV.map((ring) => {
          const s = windowSpectrum(ordered(ring), o.sampleRateHz, [])!;
          let best = 0;
          for (let b = 1; b < s.magnitude.length; b++) if (s.magnitude[b] > s.magnitude[best]) best = b;
          return { bin: best + 1, volts: s.magnitude[best] };
        });
        if (peaks.every((p) => p.volts > MIN_TONE_V)) toneBins = peaks.map((p) => p.bin);
      }
      const caseOutputs = Array.from(lastMean);
      // a window of held controls (a confirmation, read plainly) has no spectrum worth showing:
      // the page keeps the last that had (it drew a flat line at the floor, 2e-15)
      const perturbed = controlV.some((ring) => maxOf(ring) - minOf(ring) > MIN_TONE_V);
      return {
        caseOutputs,
        threshold: caseOutputs.every(Number.isFinite) ? classThreshold(caseOutputs, task.targets) : undefined,
        weights: Array.from(controlMean),
        ...(perturbed ? { spectrum: windowSpectrum(ordered(outputs), o.sampleRateHz, toneBins ?? []) } : {}),
      };
    },
  };
}

function mean(values: Float64Array, n: number): number {
  let sum = 0;
  for (let i = 0; i < n; i++) sum += values[i];
  return sum / n;
}
