// Linear regression for resistor networks, as in coupled-learning papers: targets are a
// seeded random linear map of the inputs. The map's coefficients are non-negative and sum
// to ≤ 0.8 per output, so a passive network with a grounded node can realise it exactly.

import { Rng } from '../noise.ts';
import { checkTaskShape, type Task } from './task.ts';

export interface RegressionOptions {
  /** One [low, high] range (V) per input; at most 8 inputs. */
  inputRangeV: Array<[number, number]>;
  outputCount?: number;
  caseCount?: number;
  seed?: number;
  /** Solved when MSE < varianceFraction · variance of the targets. Default 0.1. */
  varianceFraction?: number;
}

export interface RegressionTask extends Task {
  /** coefficients[o][i]: target_o = Σ_i coefficients[o][i] · input_i. */
  readonly coefficients: number[][];
}

export function meanSquaredError(outputs: ArrayLike<number>, targets: ArrayLike<number>): number {
  let sum = 0;
  for (let p = 0; p < targets.length; p++) sum += (outputs[p] - targets[p]) ** 2;
  return sum / targets.length;
}

export function regressionTask(options: RegressionOptions): RegressionTask {
  const { inputRangeV, outputCount = 1, caseCount = 16, seed = 1, varianceFraction = 0.1 } = options;
  const rng = new Rng(seed);
  const inputCount = inputRangeV.length;
  const coefficients = Array.from({ length: outputCount }, () => {
    const raw = Array.from({ length: inputCount }, () => rng.between(0.2, 1));
    const total = rng.between(0.4, 0.8);
    const rawSum = raw.reduce((a, b) => a + b, 0);
    return raw.map((x) => (x * total) / rawSum);
  });
  const inputCases = Array.from({ length: caseCount }, () => inputRangeV.map(([low, high]) => rng.between(low, high)));
  const targets = inputCases.flatMap((inputs) =>
    coefficients.map((row) => row.reduce((sum, c, i) => sum + c * inputs[i], 0)),
  );
  const mean = targets.reduce((a, b) => a + b, 0) / targets.length;
  const variance = targets.reduce((sum, t) => sum + (t - mean) ** 2, 0) / targets.length;
  const task: RegressionTask = {
    kind: "cases",
    name: `regression-${inputCount}to${outputCount}`,
    coefficients,
    inputCases,
    targets,
    outputCount,
    loss: 'mse',
    criterionTarget: Math.sqrt(varianceFraction * variance),
    solved: (outputs) => meanSquaredError(outputs, targets) < varianceFraction * variance,
    describe: `linear regression: ${caseCount} cases, ${inputCount} inputs → ${outputCount} outputs, MSE loss; solved when MSE < ${varianceFraction} × target variance`,
  };
  checkTaskShape(task);
  return task;
}
