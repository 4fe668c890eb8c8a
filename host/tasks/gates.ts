// The six 2-input Boolean gates as DNPU tasks, with brains-py's input levels and losses.
// Inputs (−0.5, −0.5), (−0.5, 1), (1, −0.5), (1, 1) on a [−1, 1] scale are mapped linearly
// to each input electrode's range; targets are 0/1; success = a threshold separates the classes.

import { checkTaskShape, levelToVolts, type Task } from './task.ts';

export const GATE_NAMES = ['AND', 'OR', 'NAND', 'NOR', 'XOR', 'XNOR'] as const;
export type GateName = (typeof GATE_NAMES)[number];

/** The four input cases on the [−1, 1] scale, in brains-py order. */
export const BOOLEAN_INPUT_LEVELS: ReadonlyArray<readonly [number, number]> = [
  [-0.5, -0.5],
  [-0.5, 1],
  [1, -0.5],
  [1, 1],
];

const TRUTH_TABLES: Record<GateName, number[]> = {
  AND: [0, 0, 0, 1],
  OR: [0, 1, 1, 1],
  NAND: [1, 1, 1, 0],
  NOR: [1, 0, 0, 0],
  XOR: [0, 1, 1, 0],
  XNOR: [1, 0, 0, 1],
};

/** The classes' gap (min output of class 1 − max output of class 0: infinite for a degenerate
 *  labelling) and the outputs' span (max − min of all). */
function gapAndSpan(outputs: ArrayLike<number>, targets: ArrayLike<number>): { gap: number; span: number } {
  let lowestOne = Infinity;
  let highestZero = -Infinity;
  let lowest = Infinity;
  let highest = -Infinity;
  for (let p = 0; p < targets.length; p++) {
    const y = outputs[p];
    if (targets[p] > 0.5) lowestOne = Math.min(lowestOne, y);
    else highestZero = Math.max(highestZero, y);
    lowest = Math.min(lowest, y);
    highest = Math.max(highest, y);
  }
  return { gap: lowestOne - highestZero, span: highest - lowest };
}

/**
 * (min output of class 1 − max output of class 0) / (max − min of all outputs): positive when
 * a threshold separates the classes, 1 when each class collapses to a point. −Infinity for
 * a degenerate labelling or identical outputs.
 */
export function gateMargin(outputs: ArrayLike<number>, targets: ArrayLike<number>): number {
  const { gap, span } = gapAndSpan(outputs, targets);
  if (!(span > 0) || !Number.isFinite(gap)) return -Infinity;
  return gap / span;
}


/** Solved when the classes are separated by at least marginFraction of the outputs' span. */
export function gateSolved(outputs: ArrayLike<number>, targets: ArrayLike<number>, marginFraction: number): boolean {
  return gateMargin(outputs, targets) >= marginFraction;
}

/** How many times the scatter of a case output the classes' gap must exceed (separatedBeyondNoise). */
export const NOISE_GAPS = 3;

/**
 * Whether the classes stand apart beyond the noise in `epochs` of case outputs read at one
 * setting of the controls (the epochs that confirm a solution): the gap (min of class 1 − max
 * of class 0) of every epoch exceeds NOISE_GAPS times the scatter of a case output between the
 * epochs after the first (its standard deviation, pooled over the cases; the module reads the
 * first with its tones on and holds the rest, read plainly). The margin is a fraction of the
 * outputs' own span, so a device that does not respond, read as noise, separates 4 cases by 5%
 * of that span now and then, and three times in a row within a few hundred epochs; a real
 * separation stands orders of magnitude above the scatter. Fewer than two epochs after the
 * first have no scatter: true.
 */
export function separatedBeyondNoise(epochs: ReadonlyArray<ArrayLike<number>>, targets: ArrayLike<number>): boolean {
  const held = epochs.slice(1);
  if (held.length < 2) return true;
  let squares = 0;
  for (let p = 0; p < targets.length; p++) {
    let mean = 0;
    for (const outputs of held) mean += outputs[p] / held.length;
    for (const outputs of held) squares += (outputs[p] - mean) ** 2;
  }
  const scatter = Math.sqrt(squares / (targets.length * (held.length - 1)));
  return epochs.every((outputs) => gapAndSpan(outputs, targets).gap > NOISE_GAPS * scatter);
}

/**
 * brains-py's corrsig loss: (1.1 − ρ) / sigmoid((Δ − 5) / 3), ρ the Pearson correlation of
 * outputs and targets, Δ = min(class 1) − max(class 0) in output units (nA: the 5 nA offset
 * and 3 nA scale ask for a separation of several nA).
 */
export function corrsig(outputs: ArrayLike<number>, targets: ArrayLike<number>): number {
  const n = targets.length;
  let meanY = 0;
  let meanT = 0;
  for (let p = 0; p < n; p++) {
    meanY += outputs[p] / n;
    meanT += targets[p] / n;
  }
  let covariance = 0;
  let varianceY = 0;
  let varianceT = 0;
  for (let p = 0; p < n; p++) {
    const dy = outputs[p] - meanY;
    const dt = targets[p] - meanT;
    covariance += dy * dt;
    varianceY += dy * dy;
    varianceT += dt * dt;
  }
  const correlation = covariance / Math.sqrt(varianceY * varianceT + 1e-30);
  const separation = gapAndSpan(outputs, targets).gap;
  return (1.1 - correlation) / (1 / (1 + Math.exp(-(separation - 5) / 3)));
}

export function gateTargets(gate: GateName): number[] {
  return TRUTH_TABLES[gate].slice();
}

/** Solved when a threshold separates the classes by this fraction of the output span. */
export const MARGIN_FRACTION = 0.05;

/** How a task of two classes on one output is trained and judged (the gates, the sphere):
 *  corrsig; solved when a threshold separates the classes by `marginFraction` of the outputs'
 *  span, and confirmed beyond the noise (separatedBeyondNoise). */
export function thresholdJudgement(targets: number[], marginFraction: number) {
  return {
    targets,
    outputCount: 1,
    loss: 'corrsig',
    criterionTarget: marginFraction,
    solved: (outputs: ArrayLike<number>) => gateSolved(outputs, targets, marginFraction),
    separated: (epochs: ReadonlyArray<ArrayLike<number>>) => separatedBeyondNoise(epochs, targets),
  } as const;
}

/** A gate task for a device whose two data inputs have the given voltage ranges. */
export function gateTask(gate: GateName, inputRangeV: Array<[number, number]>, marginFraction = MARGIN_FRACTION): Task {
  return checkTaskShape({
    kind: 'cases',
    name: gate,
    inputCases: BOOLEAN_INPUT_LEVELS.map(([a, b]) => [levelToVolts(a, inputRangeV[0]), levelToVolts(b, inputRangeV[1])]),
    ...thresholdJudgement(gateTargets(gate), marginFraction),
    describe: `${gate} gate: 4 cases, corrsig loss; solved when a threshold separates the classes by ≥ ${marginFraction * 100}% of the output span`,
  });
}
