// Three-input "sphere" classification (Boon et al.): is a point inside a sphere? A fixed,
// seeded set of 16 points on the [−1, 1]³ scale, half inside radius 0.7, half outside,
// with a ±20% guard band around the surface, mapped to the input electrodes' ranges.
// The simulated default DNPU cannot realise it with any choice of input electrodes: its output
// never peaks inside the input cube (tests/sphere.test.ts, scripts/sphere-physics.ts).

import { Rng } from '../noise.ts';
import { MARGIN_FRACTION, thresholdJudgement } from './gates.ts';
import { checkTaskShape, levelToVolts, type Task } from './task.ts';

export const SPHERE_RADIUS = 0.7; // on the [−1, 1] scale
const GUARD = 0.2; // no points within ±20% of the radius
/** Solved as a gate is: a threshold separates the classes by this fraction of the span. */
export const SPHERE_MARGIN_FRACTION = MARGIN_FRACTION;

export interface SphereTask extends Task {
  /** The points on the [−1, 1] scale, before mapping to volts. */
  readonly levels: number[][];
}

export function sphereTask(inputRangeV: Array<[number, number]>, seed = 1, caseCount = 16, marginFraction = SPHERE_MARGIN_FRACTION): SphereTask {
  if (inputRangeV.length !== 3) throw new Error('sphereTask: needs exactly 3 input ranges');
  const rng = new Rng(seed);
  const levels: number[][] = [];
  const targets: number[] = [];
  for (let p = 0; p < caseCount; p++) {
    const inside = p % 2 === 0; // alternate, so the classes are balanced and interleaved
    for (;;) {
      const point = [rng.between(-1, 1), rng.between(-1, 1), rng.between(-1, 1)];
      const radius = Math.hypot(point[0], point[1], point[2]);
      if (inside ? radius < SPHERE_RADIUS * (1 - GUARD) : radius > SPHERE_RADIUS * (1 + GUARD)) {
        levels.push(point);
        targets.push(inside ? 1 : 0);
        break;
      }
    }
  }
  const task: SphereTask = {
    kind: 'cases',
    name: 'sphere',
    levels,
    inputCases: levels.map((point) => point.map((level, i) => levelToVolts(level, inputRangeV[i]))),
    ...thresholdJudgement(targets, marginFraction),
    describe: `sphere: ${caseCount} points in 3-D, class 1 inside radius ${SPHERE_RADIUS} of [−1,1]³; solved when a threshold separates inside (higher) from outside by ≥ ${marginFraction * 100}% of the output span`,
  };
  checkTaskShape(task);
  return task;
}
