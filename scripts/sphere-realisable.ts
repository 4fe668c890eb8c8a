// Is the sphere task realisable on a DNPU instance? Searches the control voltages of the
// noise-free device (device.output directly) for the largest margin (gateMargin) with
// Nelder–Mead from many seeded starts, for one or every choice of three input electrodes.
//   npx tsx scripts/sphere-realisable.ts [--device-seed N[,N...]] [--inputs 4,5,6 | all] [--starts 40]
//                                        [--task-seed 1] [--evaluations 1500] [--inside-lower] [--input-span 1]
// --held-out 2,3 also reports the margin of the best controls on the 16 points of other task
// seeds (does the optimum classify a sphere, or only these 16 points?).
// --input-span f maps the [−1, 1] scale onto the central fraction f of each input electrode's
// range (the task maps it onto the whole range: f = 1).
// --inside-lower is a diagnostic, not the task: it asks for the opposite sign (inside points
// below the outside ones), to tell a missing bump from a missing boundary.
// Prints, per input choice: the best margin, the median over starts, and how many starts
// reach the criterion (SPHERE_MARGIN_FRACTION). Deterministic for given flags.
import { parseArgs } from 'node:util';
import { sphereSetups } from './sphere-setups.ts';
import { Rng } from '../host/noise.ts';
import { gateMargin } from '../host/tasks/gates.ts';
import { SPHERE_MARGIN_FRACTION, sphereTask } from '../host/tasks/sphere.ts';
import { bestMargin, caseOutputs } from './sphere-search.ts';

const { values } = parseArgs({
  options: {
    'device-seed': { type: 'string' },
    inputs: { type: 'string', default: '4,5,6' },
    starts: { type: 'string', default: '40' },
    'task-seed': { type: 'string', default: '1' },
    evaluations: { type: 'string', default: '1500' },
    'inside-lower': { type: 'boolean', default: false },
    'input-span': { type: 'string', default: '1' },
    'held-out': { type: 'string' },
  },
});
const starts = Number(values.starts);
const evaluations = Number(values.evaluations);

for (const { base, inputs } of sphereSetups(values['device-seed'], values.inputs)) {
  const device = base.withInputCount(3, inputs);
  const span = Number(values['input-span']);
  const mappedV = device.inputRangeV.map(([low, high]): [number, number] => [(low + high) / 2 - (span * (high - low)) / 2, (low + high) / 2 + (span * (high - low)) / 2]);
  const sphere = sphereTask(mappedV, Number(values['task-seed']));
  const task = values['inside-lower'] ? { ...sphere, targets: sphere.targets.map((t) => 1 - t) } : sphere;
  const search = bestMargin(device, task, { starts, evaluations, rng: new Rng(1) });
  const sorted = search.margins.slice().sort((x, y) => x - y);
  const reached = sorted.filter((m) => m >= SPHERE_MARGIN_FRACTION).length;
  console.log(
    `${device.name}${values['inside-lower'] ? ' inside-lower' : ''}${span === 1 ? '' : `, input span ${span}`}: best ${(100 * sorted[sorted.length - 1]).toFixed(1)}%, median ${(100 * sorted[Math.floor(sorted.length / 2)]).toFixed(1)}%, ` +
      `${reached}/${starts} starts ≥ ${100 * SPHERE_MARGIN_FRACTION}%; best controls [${Array.from(search.bestControlsV, (v) => v.toFixed(3)).join(', ')}] V ` +
      `(check ${(100 * gateMargin(search.bestOutputs, task.targets)).toFixed(1)}%)`,
  );
  for (const seed of values['held-out']?.split(',').map(Number) ?? []) {
    const other = sphereTask(mappedV, seed);
    console.log(`  the same controls on task seed ${seed}'s points: margin ${(100 * gateMargin(caseOutputs(device, other, search.bestControlsV), other.targets)).toFixed(1)}%`);
  }
}
