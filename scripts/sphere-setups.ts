// The sphere scripts' shared flags: which DNPU instances (--device-seed N[,N...], default the
// default instance) and which three electrodes carry the inputs (--inputs a,b,c or all 35).
import { DopantNetwork } from '../host/devices/dopant.ts';

export function sphereSetups(deviceSeeds: string | undefined, inputs: string): Array<{ base: DopantNetwork; inputs: number[] }> {
  const bases = deviceSeeds === undefined ? [DopantNetwork.default()] : deviceSeeds.split(',').map((seed) => new DopantNetwork({ seed: Number(seed) }));
  const choices: number[][] = [];
  if (inputs === 'all') {
    for (let a = 0; a < 7; a++) for (let b = a + 1; b < 7; b++) for (let c = b + 1; c < 7; c++) choices.push([a, b, c]);
  } else {
    choices.push(inputs.split(',').map(Number));
  }
  return bases.flatMap((base) => choices.map((choice) => ({ base, inputs: choice })));
}
