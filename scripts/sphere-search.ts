// The best margin a device can give a case task, searched on the noise-free device: Nelder–Mead
// (standard coefficients 1, 2, 0.5, 0.5) on −margin over the controls mapped into their safe
// ranges, from seeded uniform starts, restarted once from its best point. Used by
// scripts/sphere-realisable.ts and tests/sphere.test.ts.
import type { Device } from '../host/devices/device.ts';
import type { Rng } from '../host/noise.ts';
import { gateMargin } from '../host/tasks/gates.ts';
import type { Task } from '../host/tasks/task.ts';

/** The task's case outputs for the given controls (controls first, then the case's inputs). */
export function caseOutputs(device: Device, task: Task, controlsV: ArrayLike<number>): Float64Array {
  const voltages = new Float64Array(device.electrodeCount);
  for (let k = 0; k < device.controlCount; k++) voltages[k] = controlsV[k];
  return Float64Array.from(task.inputCases, (inputs) => {
    for (let i = 0; i < inputs.length; i++) voltages[device.controlCount + i] = inputs[i];
    return device.output(voltages);
  });
}

/** Minimise f over [0, 1]^n from `start` with Nelder–Mead; coordinates are clamped into the box. */
function nelderMead(f: (x: Float64Array) => number, start: Float64Array, evaluations: number, step = 0.15): { x: Float64Array; value: number } {
  const n = start.length;
  const clamp = (x: Float64Array) => x.map((v) => Math.min(1, Math.max(0, v)));
  const simplex = [clamp(start)];
  for (let i = 0; i < n; i++) {
    const vertex = start.slice();
    vertex[i] += vertex[i] + step <= 1 ? step : -step;
    simplex.push(clamp(vertex));
  }
  const values = simplex.map(f);
  let used = n + 1;
  const along = (from: Float64Array, to: Float64Array, t: number) => clamp(from.map((v, i) => v + t * (to[i] - v)));
  while (used < evaluations) {
    const order = values.map((_, i) => i).sort((a, b) => values[a] - values[b]);
    const best = order[0];
    const worst = order[n];
    const second = order[n - 1];
    const centroid = new Float64Array(n);
    for (const i of order.slice(0, n)) for (let d = 0; d < n; d++) centroid[d] += simplex[i][d] / n;
    const reflected = along(centroid, simplex[worst], -1);
    const reflectedValue = f(reflected);
    used++;
    if (reflectedValue < values[best]) {
      const expanded = along(centroid, simplex[worst], -2);
      const expandedValue = f(expanded);
      used++;
      [simplex[worst], values[worst]] = expandedValue < reflectedValue ? [expanded, expandedValue] : [reflected, reflectedValue];
    } else if (reflectedValue < values[second]) {
      [simplex[worst], values[worst]] = [reflected, reflectedValue];
    } else {
      const contracted = along(centroid, reflectedValue < values[worst] ? reflected : simplex[worst], 0.5);
      const contractedValue = f(contracted);
      used++;
      if (contractedValue < Math.min(values[worst], reflectedValue)) {
        [simplex[worst], values[worst]] = [contracted, contractedValue];
      } else {
        for (const i of order.slice(1)) {
          simplex[i] = along(simplex[best], simplex[i], 0.5);
          values[i] = f(simplex[i]);
          used++;
        }
      }
    }
  }
  const best = values.indexOf(Math.min(...values));
  return { x: simplex[best], value: values[best] };
}

export interface MarginSearch {
  /** The best margin reached from each start. */
  margins: number[];
  bestControlsV: Float64Array;
  bestOutputs: Float64Array;
}

/** The best margin from each of `starts` seeded starts, `evaluations` task evaluations each. */
export function bestMargin(device: Device, task: Task, { starts, evaluations, rng }: { starts: number; evaluations: number; rng: Rng }): MarginSearch {
  const toVolts = (x: Float64Array) => Float64Array.from(x, (u, k) => device.controlRangeV[k][0] + u * (device.controlRangeV[k][1] - device.controlRangeV[k][0]));
  const objective = (x: Float64Array) => {
    const margin = gateMargin(caseOutputs(device, task, toVolts(x)), task.targets);
    return Number.isFinite(margin) ? -margin : 1e9;
  };
  const margins: number[] = [];
  let best: { x: Float64Array; value: number } = { x: new Float64Array(device.controlCount), value: Infinity };
  for (let s = 0; s < starts; s++) {
    const start = Float64Array.from({ length: device.controlCount }, () => rng.uniform());
    const first = nelderMead(objective, start, evaluations / 2);
    const second = nelderMead(objective, first.x, evaluations / 2, 0.05);
    const found = second.value < first.value ? second : first;
    margins.push(-found.value);
    if (found.value < best.value) best = found;
  }
  const bestControlsV = toVolts(best.x);
  return { margins, bestControlsV, bestOutputs: caseOutputs(device, task, bestControlsV) };
}
