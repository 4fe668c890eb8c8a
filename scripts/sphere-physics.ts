// Why the sphere task is hard on a DNPU: inside points must give a higher output than every
// outside point, so the output needs a peak inside the input cube. Samples control settings
// uniformly in their safe ranges and counts how often
//  - the output has an interior maximum along 0, 1, 2 or 3 input axes (sweep of each input
//    over its range, the others at mid-range; "interior" = the sweep's maximum lies strictly
//    inside and exceeds both ends by ≥ 5% of the sweep's span);
//  - the output's maximum over a 9×9×9 grid of the input cube lies inside the cube, above
//    every point of the cube's surface by ≥ 5% of the grid's span (a bump: what a sphere needs);
//  - some corner of the input cube (all corners lie outside the sphere) gives a higher output
//    than the centre: the output current into the grounded output electrode is Σ_e T_e(V) V_e
//    with every transfer conductance T_e ≥ 0 (Kirchhoff: L_ff is an M-matrix, its inverse is
//    non-negative), a tilt towards the high-voltage corner that a bump must overturn;
//  - the Hessian in the three inputs (on the [−1, 1] level scale) at the cube's centre is
//    negative definite (the output falls off from the centre in every direction).
//   npx tsx scripts/sphere-physics.ts [--inputs 4,5,6 | all] [--device-seed N[,N...]] [--samples 1000]
import { parseArgs } from 'node:util';
import { sphereSetups } from './sphere-setups.ts';
import type { Device } from '../host/devices/device.ts';
import { Rng } from '../host/noise.ts';
import { levelToVolts } from '../host/tasks/task.ts';

const { values } = parseArgs({ options: { inputs: { type: 'string', default: '4,5,6' }, 'device-seed': { type: 'string' }, samples: { type: 'string', default: '1000' } } });

/** Output with the controls in `v` and the three inputs at the given levels. */
function at(device: Device, v: Float64Array, levels: number[]): number {
  levels.forEach((level, i) => (v[device.controlCount + i] = levelToVolts(level, device.inputRangeV[i])));
  return device.output(v);
}

/** Whether the symmetric 3×3 matrix is negative definite (leading minors alternate in sign). */
function negativeDefinite(h: number[][]): boolean {
  const m1 = h[0][0];
  const m2 = h[0][0] * h[1][1] - h[0][1] * h[1][0];
  const m3 = h[0][0] * (h[1][1] * h[2][2] - h[1][2] * h[2][1]) - h[0][1] * (h[1][0] * h[2][2] - h[1][2] * h[2][0]) + h[0][2] * (h[1][0] * h[2][1] - h[1][1] * h[2][0]);
  return m1 < 0 && m2 > 0 && m3 < 0;
}

for (const { base, inputs } of sphereSetups(values['device-seed'], values.inputs)) {
  const device = base.withInputCount(3, inputs);
  const rng = new Rng(3);
  const steps = 41;
  const grid = 9;
  const step = 0.1; // level units, for the Hessian's central differences
  const counts = [0, 0, 0, 0];
  let bumps = 0;
  let caps = 0;
  let cornerAbove = 0;
  const v = new Float64Array(device.electrodeCount);
  const samples = Number(values.samples);
  for (let s = 0; s < samples; s++) {
    for (let k = 0; k < device.controlCount; k++) v[k] = rng.between(...device.controlRangeV[k]);
    let axes = 0;
    for (let axis = 0; axis < 3; axis++) {
      const sweep = Array.from({ length: steps }, (_, j) => at(device, v, [0, 1, 2].map((i) => (i === axis ? -1 + (2 * j) / (steps - 1) : 0))));
      const top = Math.max(...sweep);
      const span = top - Math.min(...sweep);
      if (span > 0 && top - Math.max(sweep[0], sweep[steps - 1]) >= 0.05 * span) axes++;
    }
    counts[axes]++;
    let inner = -Infinity;
    let surface = -Infinity;
    let lowest = Infinity;
    for (let a = 0; a < grid; a++) for (let b = 0; b < grid; b++) for (let c = 0; c < grid; c++) {
      const y = at(device, v, [a, b, c].map((j) => -1 + (2 * j) / (grid - 1)));
      lowest = Math.min(lowest, y);
      if ([a, b, c].some((j) => j === 0 || j === grid - 1)) surface = Math.max(surface, y);
      else inner = Math.max(inner, y);
    }
    if (inner - surface >= 0.05 * (Math.max(inner, surface) - lowest)) bumps++;
    const unit = (i: number, d: number) => [0, 1, 2].map((j) => (j === i ? d : 0));
    const plus = (a: number[], b: number[]) => a.map((x, i) => x + b[i]);
    const centre = at(device, v, [0, 0, 0]);
    const hessian = [0, 1, 2].map((i) => [0, 1, 2].map((j) => {
      if (i === j) return (at(device, v, unit(i, step)) - 2 * centre + at(device, v, unit(i, -step))) / step ** 2;
      const f = (si: number, sj: number) => at(device, v, plus(unit(i, si * step), unit(j, sj * step)));
      return (f(1, 1) - f(1, -1) - f(-1, 1) + f(-1, -1)) / (4 * step * step);
    }));
    if (negativeDefinite(hessian)) caps++;
    const corners = [0, 1, 2, 3, 4, 5, 6, 7].map((m) => at(device, v, [0, 1, 2].map((i) => ((m >> i) & 1 ? 1 : -1))));
    if (Math.max(...corners) > centre) cornerAbove++;
  }
  const pct = (c: number) => `${((100 * c) / samples).toFixed(1)}%`;
  console.log(`${device.name}: interior maximum along 0/1/2/3 input axes ${counts.map(pct).join(' / ')}; bump inside the cube ${pct(bumps)}; some corner above the centre ${pct(cornerAbove)}; output falls off from the centre in every direction ${pct(caps)} (of ${samples} control settings)`);
}
