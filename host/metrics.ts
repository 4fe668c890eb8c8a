// How close an estimated gradient is to the exact one (the two measures every comparison here
// uses), the median the benches summarise runs with, and Math.max, Math.min and Math.hypot over
// an array of any length.

export function cosine(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let ab = 0, aa = 0, bb = 0;
  for (let i = 0; i < a.length; i++) {
    ab += a[i] * b[i];
    aa += a[i] * a[i];
    bb += b[i] * b[i];
  }
  return ab / Math.sqrt(aa * bb);
}

/** ‖a − b‖ / ‖b‖ */
export function relativeError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let d = 0, n = 0;
  for (let i = 0; i < a.length; i++) {
    d += (a[i] - b[i]) ** 2;
    n += b[i] ** 2;
  }
  return Math.sqrt(d / n);
}

/** The median (the mean of the middle two for an even count); Infinity entries sort last. No
 *  entry may be NaN: where one sorts is undefined (medianMeasured leaves them out). */
export function median(values: number[]): number {
  const sorted = values.slice().sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** The median of the values that were measured: NaN entries (a run that measured no criterion:
 *  every window discarded, say) are left out; NaN when none was. */
export function medianMeasured(values: number[]): number {
  return median(values.filter((v) => !Number.isNaN(v)));
}

/** Median device time of runs, an unsolved run counted as infinite (censored at its budget):
 *  null if the median run is unsolved. */
export function censoredMedian(runs: Array<{ solved: boolean; deviceSeconds: number }>): number | null {
  const middle = median(runs.map((r) => (r.solved ? r.deviceSeconds : Infinity)));
  return Number.isFinite(middle) ? middle : null;
}

/** The confidence of the intervals hge gives for medians of device-seconds to solve, and the
 *  fewest runs that give one: [min, max] of n runs covers the median with probability 1 − 2/2ⁿ. */
export const INTERVAL_CONFIDENCE = 0.9;
export const INTERVAL_MIN_RUNS = Math.ceil(Math.log2(2 / (1 - INTERVAL_CONFIDENCE)));

/** The INTERVAL_CONFIDENCE interval of censoredMedian(runs): an end null where it lies among
 *  the unsolved runs (never solved, which JSON keeps); null with fewer than INTERVAL_MIN_RUNS. */
export function censoredMedianInterval(runs: Array<{ solved: boolean; deviceSeconds: number }>): [number | null, number | null] | null {
  const interval = medianInterval(runs.map((r) => (r.solved ? r.deviceSeconds : Infinity)), INTERVAL_CONFIDENCE);
  return interval && [Number.isFinite(interval[0]) ? interval[0] : null, Number.isFinite(interval[1]) ? interval[1] : null];
}

/** A distribution-free interval for the median of `values` (Infinity for a run that never
 *  solved) that covers the true median with probability at least `confidence`: the order
 *  statistics x₍ₖ₎ and x₍ₙ₋ₖ₊₁₎ for the largest k whose coverage, 1 − 2·P(B ≤ k − 1) with
 *  B ~ Binomial(n, ½), reaches it. Null when even [min, max] covers less (n ≤ 4 at 0.9). */
export function medianInterval(values: number[], confidence: number): [number, number] | null {
  const n = values.length;
  const sorted = values.slice().sort((a, b) => a - b);
  let tail = 0; // P(B ≤ k − 1)
  let choose = 1; // C(n, k − 1)
  let interval: [number, number] | null = null;
  for (let k = 1; 2 * k <= n + 1; k++) {
    tail += choose / 2 ** n;
    choose = (choose * (n - k + 1)) / k;
    if (1 - 2 * tail < confidence) break;
    interval = [sorted[k - 1], sorted[n - k]];
  }
  return interval;
}

// Math.max(...values) and its kin pass every element as an argument, and a call takes at most
// about 120,000 of them (the stack's size): a device of 1,000,000 controls overflowed it
// ("Maximum call stack size exceeded"). These take an array of any length and give the same
// numbers (NaN, ±0 and ±Infinity included).

/** Math.max(...values): −Infinity for none, NaN if any is NaN. */
export function maxOf(values: ArrayLike<number>): number {
  let largest = -Infinity;
  for (let i = 0; i < values.length; i++) largest = Math.max(largest, values[i]);
  return largest;
}

/** Math.min(...values): Infinity for none, NaN if any is NaN. */
export function minOf(values: ArrayLike<number>): number {
  let smallest = Infinity;
  for (let i = 0; i < values.length; i++) smallest = Math.min(smallest, values[i]);
  return smallest;
}

/** Math.hypot(...values), by V8's own steps (so to the last bit): Infinity if any is infinite,
 *  else NaN if any is NaN, else the largest magnitude times the root of the compensated sum of
 *  squares of each magnitude over it (no overflow or underflow on the way). */
export function hypotOf(values: ArrayLike<number>): number {
  let largest = 0;
  let nan = false;
  for (let i = 0; i < values.length; i++) {
    const magnitude = Math.abs(values[i]);
    if (Number.isNaN(magnitude)) nan = true;
    else if (magnitude > largest) largest = magnitude;
  }
  if (largest === Infinity) return Infinity;
  if (nan) return NaN;
  if (largest === 0) return 0;
  let sum = 0;
  let compensation = 0;
  for (let i = 0; i < values.length; i++) {
    const scaled = Math.abs(values[i]) / largest;
    const summand = scaled * scaled - compensation;
    const next = sum + summand;
    compensation = next - sum - summand;
    sum = next;
  }
  return Math.sqrt(sum) * largest;
}
