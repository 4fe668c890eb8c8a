// Why the sphere task is hard on a DNPU: inside points must give a higher output than every
// outside point, so along each input axis through the centre the output needs a maximum
// inside the input range. Samples control settings uniformly in their safe ranges and counts
// how often the output has an interior maximum along 0, 1, 2 or 3 input axes (sweep of each
// input over its range, the others at mid-range; "interior" = the sweep's maximum lies
// strictly inside and exceeds both ends by ≥ 5% of the sweep's span), and how often the
// output's maximum over a 9×9×9 grid of the input cube lies inside the cube, above every
// point of the cube's surface by ≥ 5% of the grid's span (a bump: what a sphere needs).
//   npx tsx scripts/sphere-physics.ts [--inputs 4,5,6] [--device-seed N] [--samples 2000]
import { parseArgs } from 'node:util';
import { DopantNetwork } from '../host/devices/dopant.ts';
import { Rng } from '../host/noise.ts';
import { levelToVolts } from '../host/tasks/task.ts';

const { values } = parseArgs({ options: { inputs: { type: 'string', default: '4,5,6' }, 'device-seed': { type: 'string' }, samples: { type: 'string', default: '2000' } } });
const base = values['device-seed'] === undefined ? DopantNetwork.default() : new DopantNetwork({ seed: Number(values['device-seed']) });
const device = base.withInputCount(3, values.inputs.split(',').map(Number));
const rng = new Rng(3);
const steps = 41;
const counts = [0, 0, 0, 0];
const grid = 9;
let bumps = 0;
const v = new Float64Array(device.electrodeCount);
for (let s = 0; s < Number(values.samples); s++) {
  for (let k = 0; k < device.controlCount; k++) v[k] = rng.between(...device.controlRangeV[k]);
  let axes = 0;
  for (let axis = 0; axis < 3; axis++) {
    for (let i = 0; i < 3; i++) v[device.controlCount + i] = levelToVolts(0, device.inputRangeV[i]);
    const sweep = Array.from({ length: steps }, (_, j) => {
      v[device.controlCount + axis] = levelToVolts(-1 + (2 * j) / (steps - 1), device.inputRangeV[axis]);
      return device.output(v);
    });
    const top = Math.max(...sweep);
    const span = top - Math.min(...sweep);
    if (span > 0 && top - Math.max(sweep[0], sweep[steps - 1]) >= 0.05 * span) axes++;
  }
  counts[axes]++;
  let inner = -Infinity;
  let surface = -Infinity;
  let lowest = Infinity;
  for (let a = 0; a < grid; a++) for (let b = 0; b < grid; b++) for (let c = 0; c < grid; c++) {
    [a, b, c].forEach((j, i) => (v[device.controlCount + i] = levelToVolts(-1 + (2 * j) / (grid - 1), device.inputRangeV[i])));
    const y = device.output(v);
    lowest = Math.min(lowest, y);
    if ([a, b, c].some((j) => j === 0 || j === grid - 1)) surface = Math.max(surface, y);
    else inner = Math.max(inner, y);
  }
  if (inner - surface >= 0.05 * (Math.max(inner, surface) - lowest)) bumps++;
}
const total = counts.reduce((a, b) => a + b);
console.log(`${device.name}: interior maximum along 0/1/2/3 input axes at ${counts.map((c) => ((100 * c) / total).toFixed(1) + '%').join(' / ')} of ${total} control settings; a bump inside the cube at ${((100 * bumps) / total).toFixed(1)}%`);
