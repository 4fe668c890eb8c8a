// Writes tests/dopant-reference.json: outputs of the default DopantNetwork on 328 fixed
// electrode-voltage vectors (200 seeded uniform draws over the full control and input ranges,
// then the 128 corners of that box). Run once on the model as it stood at commit 3d789ef,
// before the speed work of issue 12 part 5, so that tests/devices.test.ts can hold every
// later implementation to those outputs. Re-running it on a later model only reproduces the
// later model: regenerate it only for a deliberate change of the physics.
//   npx tsx scripts/dopant-reference.ts
import { writeFileSync } from 'node:fs';
import { DopantNetwork } from '../host/devices/dopant.ts';
import { Rng } from '../host/noise.ts';

const device = DopantNetwork.default();
const ranges = [...device.controlRangeV, ...device.inputRangeV];
const rng = new Rng(20261130);
const microvolts = (v: number): number => Math.round(v * 1e6) / 1e6; // short, exact in JSON
const voltages: number[][] = Array.from({ length: 200 }, () => ranges.map(([low, high]) => microvolts(rng.between(low, high))));
for (let corner = 0; corner < 1 << ranges.length; corner++) {
  voltages.push(ranges.map(([low, high], e) => ((corner >> e) & 1 ? high : low)));
}
const outputsNA = voltages.map((v) => device.output(Float64Array.from(v)));
const fixture = {
  about: 'DopantNetwork.default() outputs (nA) before the issue 12 part 5 speed work; see scripts/dopant-reference.ts',
  generatedAtCommit: '3d789ef',
  outputScaleNA: device.outputScaleNA,
  cases: voltages.map((v, k) => ({ voltagesV: v, outputNA: outputsNA[k] })),
};
writeFileSync(new URL('../tests/dopant-reference.json', import.meta.url), JSON.stringify(fixture, null, 0).replace(/\},\{/g, '},\n{') + '\n');
console.log(`wrote ${voltages.length} cases, largest |output| ${Math.max(...outputsNA.map(Math.abs)).toFixed(3)} nA`);
