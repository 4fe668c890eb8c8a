// Closed-loop training of the sphere task as `hge train --task sphere --seed N` runs it
// (findMethod("multitone"), DEFAULTS.budgetSeconds of device time), over seeds, for a choice
// of input electrodes on the default DNPU instance (or --device-seed).
//   npx tsx scripts/sphere-closed-loop.ts [--inputs 1,5,3] [--seeds 1-10] [--device-seed N]
import { parseArgs } from 'node:util';
import { DopantNetwork } from '../host/devices/dopant.ts';
import { findMethod } from '../host/methods/index.ts';
import { sphereTask } from '../host/tasks/sphere.ts';
import { DEFAULTS } from '../host/train.ts';

const { values } = parseArgs({ options: { inputs: { type: 'string' }, seeds: { type: 'string', default: '1-10' }, 'device-seed': { type: 'string' }, method: { type: 'string', default: 'multitone' } } });
const [first, last = first] = values.seeds.split('-').map(Number);
const base = values['device-seed'] === undefined ? DopantNetwork.default() : new DopantNetwork({ seed: Number(values['device-seed']) });
const device = base.withInputCount(3, values.inputs ? values.inputs.split(',').map(Number) : []);
const task = sphereTask(device.inputRangeV);
let solved = 0;
for (let seed = first; seed <= last; seed++) {
  const result = await findMethod(values.method)!.train(device, task, { deviceSeconds: DEFAULTS.budgetSeconds }, { seed });
  if (result.solved) solved++;
  console.log(`${device.name} seed ${seed}: ${result.solved ? 'solved' : 'unsolved'} after ${result.deviceSeconds.toFixed(1)} device-s, ${result.iterations} iterations, margin ${(100 * result.criterion).toFixed(1)}%, ${result.attempts.length} starts, wall ${result.wallSeconds.toFixed(1)} s`);
}
console.log(`solved ${solved}/${last - first + 1}`);
