// Tone planner: picks the perturbation tones' bins (whole cycles per window, f = m·fs/W) so that
// no intermodulation product up to the planned order (2 or 3) lands within a guard of a tone,
// folded about Nyquist (f > fs/2 appears at fs − f) or DC (f < 0 at |f|) or not, and checks explicit
// tone sets
// for such collisions. Assumes bins are exact, so a product at another bin is orthogonal over the
// window; the guard is for everything that spreads a product (drift, edges).
import { Field, MAX_CONTROLS } from "./layout";
import { FULL, LONGEST_WINDOW } from "./features";

/** The order planTones() takes for an order-2 plan that calibrates: placed so that its probe has
 *  a bin (thirdOrderProbe): one spacing below the lowest tone, above every difference (the
 *  tones at span + 2·spacing or higher, one spacing above the shortest order-2 plan's), where no
 *  sum folds. The calibration then measures what makes order 2 safe. */
export const PROBED_ORDER_2 = 0;

/** After planTones() returned Field.Plan: the shortest window (samples) that would plan, for the
 *  same count, guard, sample rate and band; 0 if none up to LONGEST_WINDOW (features.ts). 0 after
 *  a plan. */
export let planMinWindow: i32 = 0;

/** Choose `count` distinct bins inside [bandLowHz, bandHighHz], inside one octave, >= 1 and < W/2,
 *  such that no product of the tones of order 2 up to `order` (2 or 3; PROBED_ORDER_2 is 2) lies
 *  within guardBins of a tone.
 *  Writes the bins (i32, increasing) to binsOut, which is scratch when no plan exists. Returns 0,
 *  or Field.Plan and sets planMinWindow. Deterministic. Time in V8: about 1 ms for count = 64 and
 *  14 ms for 128; the search for planMinWindow tries up to 1M windows, each in a few steps
 *  (lowestBin; bench table 4c times it at 128 tones).
 *
 *  Why this is collision-free: with highest + guard < 2·lowest every second-order product and
 *  every third-order product but f_a + f_b − f_c lies more than guardBins outside the tones, and
 *  f_a + f_b − f_c (c not a or b) is within guardBins of tone d only if the sums a + b and c + d of
 *  two different pairs differ by guardBins or less. The tones are a Sidon set (all pair sums
 *  distinct) scaled by guardBins + 1, so every two pair sums differ by more than guardBins. That
 *  covers the products below Nyquist; the set is placed where the products above it fold clear
 *  of the tones too (foldedThrough). Below fs/4 nothing folds back into the band.
 *
 *  Order 2 needs only the octave: every f_a ± f_b lies more than guardBins outside the tones, so
 *  the tones are evenly spaced by guardBins + 1 (span count − 1 spacings, a window that grows as
 *  count where the Sidon set's grows as count²), and the third-order products f_a + f_b − f_c
 *  land on tones: safe only where the device's third-order distortion is below the noise
 *  (lockin.ts measures it during calibration). */
export function planTones(
  count: i32,
  windowSamples: i32,
  sampleRateHz: f32,
  bandLowHz: f32,
  bandHighHz: f32,
  guardBins: i32,
  order: i32,
  binsOut: usize,
): i32 {
  planMinWindow = 0;
  if (count < 1) return 0;
  let spacing = max(guardBins, 0) + 1;
  let span = (FULL && order < 3 ? writeEvenSet(count, binsOut) : writeSidonSet(count, binsOut)) * spacing;
  let lowest = lowestBin(windowSamples, sampleRateHz, bandLowHz, bandHighHz, span, spacing, order);
  if (lowest) {
    for (let i = 0; i < count; i++) {
      let at = binsOut + (<usize>i << 2);
      store<i32>(at, load<i32>(at) * spacing + lowest);
    }
    return 0;
  }
  // No window below these bounds can plan: the tones need 2·span + spacing < W/2, and the band
  // holds at most W·(high − low)/fs + 1 bins. From there every window is tried in turn (the band
  // edges' rounding makes feasibility not quite monotonic): at most LONGEST_WINDOW steps.
  let bandBound = Math.floor(<f64>span * <f64>sampleRateHz / (<f64>bandHighHz - <f64>bandLowHz));
  let start = max(4 * span + 2 * spacing + 1, <i32>min(bandBound, <f64>LONGEST_WINDOW + 1));
  for (let window = start; window <= LONGEST_WINDOW; window++) {
    if (lowestBin(window, sampleRateHz, bandLowHz, bandHighHz, span, spacing, order)) {
      planMinWindow = window;
      break;
    }
  }
  return Field.Plan;
}

/** The lowest first bin for a set of width `span` in this window, or 0 if the set does not fit:
 *  first >= span + spacing keeps it inside one octave with the guard, the whole set must lie in
 *  the band and below W/2, and no product may fold onto it (foldedThrough). Band edges in f64 so
 *  that an edge exactly on a bin counts. Each refused candidate skips the run of first bins that
 *  the same fold refuses: a few steps however long the window, where one bin at a time took up to
 *  W/2 (seconds for planMinWindow's search at 128 tones). */
export function lowestBin(
  windowSamples: i32,
  sampleRateHz: f32,
  bandLowHz: f32,
  bandHighHz: f32,
  span: i32,
  spacing: i32,
  order: i32,
): i32 {
  let window = <f64>windowSamples;
  let first = max(<i32>Math.ceil(<f64>bandLowHz * window / <f64>sampleRateHz), (FULL && order == PROBED_ORDER_2 ? span + spacing : span) + spacing);
  let highest = <i32>Math.floor(<f64>bandHighHz * window / <f64>sampleRateHz);
  let last = min(highest, (windowSamples - 1) >> 1); // 2·last < W
  while (first + span <= last) {
    const through = foldedThrough(first, span, spacing - 1, windowSamples, order);
    if (!through) return first;
    first = max(through, first) + 1; // (through >= first: the max only makes the loop's end plain)
  }
  return 0;
}

/** 0 if no product of tones inside [low, low + span], of order 2 up to `order`, folds to within
 *  `guard` of that range; else the highest first bin up to which, from `low` on, one such fold
 *  persists (every first bin from low to it is refused). The products that can reach beyond W/2
 *  lie in three intervals, each p·low + [q0, q1]: second-order sums (p = 2, [0, 2·span]),
 *  third-order sums (p = 3, [0, 3·span]) and f_a + f_b − f_c (p = 1, [−span, 2·span]; below W/2
 *  the Sidon property keeps these off the tones; differences never fold). All lie below 3W/2,
 *  so a product x > W/2 appears at W − x (x <= W) or x − W. */
export function foldedThrough(low: i32, span: i32, guard: i32, window: i32, order: i32): i32 {
  // (PROBED_ORDER_2: nor onto the probe's bin, one spacing below the tones)
  const below = FULL && order == PROBED_ORDER_2 ? 2 * guard + 1 : guard;
  const through = foldsInto(2, 0, 2 * span, low, span, guard, below, window);
  return FULL && order < 3 ? through : max(through,
    max(foldsInto(3, 0, 3 * span, low, span, guard, below, window), foldsInto(1, -span, 2 * span, low, span, guard, below, window)));
}

/** For foldedThrough: whether some product x in [p·low + q0, p·low + q1] above W/2 (and below
 *  3W/2) folds into [low − below, low + span + guard]; 0 if none does, else the highest low up
 *  to which that lasts. Each way of folding holds on an interval of low (its conditions are
 *  linear in low). For W − x (x <= W) the interval ends where x's lowest, p·low + q0, comes
 *  below low − below at W − x; its other upper bounds (p·low + q0 <= W, low <= W/2 − 1 + below)
 *  hold for every low lowestBin tries (low >= below, 2·low < W). For x − W the conditions
 *  that fail as low grows would need low >= W/2: it lasts to the last bin (W stands for it). */
function foldsInto(p: i32, q0: i32, q1: i32, low: i32, span: i32, guard: i32, below: i32, window: i32): i32 {
  const from = p * low + q0, to = p * low + q1, bottom = low - below, top = low + span + guard;
  const a = max(from, (window >> 1) + 1), b = min(to, window); // x in (W/2, W] appears at W − x
  let through = a <= b && window - b <= top && window - a >= bottom ? (window + below - q0) / (p + 1) : 0;
  const c = max(from, window + 1); //                              x in (W, 3W/2) appears at x − W
  return c <= to && to - window >= bottom && c - window <= top ? window : through;
}

/** After thirdOrderProbe() found a bin: the tones whose product 2·f_i − f_j lies there. */
export let probeTwice: i32 = 0;
export let probeOnce: i32 = 0;

/** A bin for measuring the device's third-order distortion: one that holds the product
 *  2·f_i − f_j of two tones, i the lowest or the highest (the first clear j in index order), and
 *  neither a tone nor a second-order product (f_a ± f_b, 2f_a, folded as in findCollisions)
 *  within guardBins, so that what the lock-in finds there is third-order distortion and noise.
 *  `order2` (an order-2 plan, evenly spaced and increasing): i the lowest only, so that the bin is
 *  the first clear one below the tones, one spacing below the lowest for PROBED_ORDER_2. There
 *  the products f_a + f_b − f_c of about count²/2 triples add up as they do on every tone at
 *  order 2: what the probe reads is the error they put on a tone. (An order-3 plan keeps them
 *  off the tones; there the bin holds one product or few.) Returns the bin, or 0 if none is
 *  clear, and sets probeTwice = i, probeOnce = j. bins: the tones (i32 each, any order). Time:
 *  count²/2 checks per candidate, at most 2·count candidates (V8: under 1 ms for 128 planned
 *  tones, whose first candidate is clear). */
export function thirdOrderProbe(count: i32, window: i32, bins: usize, guardBins: i32, order2: bool): i32 {
  let lowest = 0, highest = 0;
  for (let t = 1; t < count; t++) {
    if (binOf(bins, t) < binOf(bins, lowest)) lowest = t;
    if (binOf(bins, t) > binOf(bins, highest)) highest = t;
  }
  const sides = order2 ? 1 : 2;
  for (let j = 0; j < count; j++) {
    for (let side = 0; side < sides; side++) {
      const i = side ? highest : lowest;
      const x = 2 * binOf(bins, i) - binOf(bins, j);
      if (j != i && x >= 1 && 2 * x < window && clearOfSecondOrder(count, window, bins, max(guardBins, 0), x)) {
        probeTwice = i;
        probeOnce = j;
        return x;
      }
    }
  }
  return 0;
}

/** True if no tone and no second-order product of the tones lies within `guard` of bin x. */
function clearOfSecondOrder(count: i32, window: i32, bins: usize, guard: i32, x: i32): bool {
  for (let a = 0; a < count; a++) {
    if (abs(binOf(bins, a) - x) <= guard) return false;
    for (let b = a; b < count; b++) {
      if (abs(foldBin(binOf(bins, a) + binOf(bins, b), window) - x) <= guard) return false;
      if (abs(foldBin(binOf(bins, a) - binOf(bins, b), window) - x) <= guard && a != b) return false;
    }
  }
  return true;
}

/** Where a product at bin x (any integer) appears in a window of W samples: folded about DC
 *  (|x|) and about Nyquist (W − x), into [0, W/2]. */
// @ts-ignore: decorator
@inline export function foldBin(x: i32, window: i32): i32 {
  let r = x % window;
  if (r < 0) r += window;
  return min(r, window - r);
}

/** Writes `count` increasing offsets, the first 0, whose pair sums are all distinct (a Sidon set,
 *  or Golomb ruler) to out (i32 each) and returns the last offset. Ruzsa's construction (1993):
 *  for a prime p and a primitive root g mod p, the v mod p(p−1) with v + g^v ≡ 0 (mod p) are a
 *  Sidon set mod p(p−1) with p−1 elements. Uses the smallest prime p > count, tries every g and
 *  keeps the shortest run of `count` consecutive elements around the circle (ties: first found).
 *  Lengths: 16 for 5 tones, 194 for 16, 3775 for 64 (a greedy ruler needs 12, 251 and 8729). */
function writeSidonSet(count: i32, out: usize): i32 {
  let prime = count + 1;
  for (let divisor = 2; divisor * divisor <= prime; divisor++) {
    if (prime % divisor == 0) { prime++; divisor = 1; }
  }
  let modulus = prime * (prime - 1);
  bestSpan = modulus;
  for (let root = 1; root < prime; root++) {
    let order = 1;
    for (let power = root; power != 1; power = power * root % prime) order++;
    if (order == prime - 1) walkSidonSet(count, prime, root, 0, 2 * modulus, out);
  }
  // Walk the best root again up to the end of its best run: out[] then holds that run, in order.
  walkSidonSet(count, prime, bestRoot, bestStart, bestStart + bestSpan, out);
  return bestSpan;
}

/** Writes the offsets 0, 1, .. count − 1 to out (i32 each) and returns the last: the densest set,
 *  for a plan that leaves third-order products free to land on tones. */
function writeEvenSet(count: i32, out: usize): i32 {
  for (let i = 0; i < count; i++) store<i32>(out + (<usize>i << 2), i);
  return count - 1;
}

/** Shortest run found by walkSidonSet: its length, first element and primitive root. */
let bestSpan = 0;
let bestStart = 0;
let bestRoot = 0;

/** Visits the set's elements v in [from, to] (twice round the circle covers every run), keeping
 *  the last `count` of them, as v − from, in the ring out[k mod count] (k-th element met), and
 *  records in bestSpan/bestStart/bestRoot any run of `count` elements shorter than bestSpan. */
function walkSidonSet(count: i32, prime: i32, root: i32, from: i32, to: i32, out: usize): void {
  let power = 1; // root^v mod prime
  let found = 0;
  for (let v = 0; v <= to; v++) {
    if (v >= from && (v % prime + power) % prime == 0) {
      store<i32>(out + (<usize>(found % count) << 2), v - from);
      found++;
      let span = v - from - load<i32>(out + (<usize>(found % count) << 2));
      if (found >= count && span < bestSpan) {
        bestSpan = span;
        bestStart = v - span;
        bestRoot = root;
      }
    }
    power = power * root % prime;
  }
}

/** Explicit tones (any bins) in a window of `window` samples: for each tone writes to hitsOut
 *  (i32) a bitmask, 2 if a second-order product (f_i ± f_j, 2f_i) lies within guardBins of it, 4
 *  if a third-order one (f_i ± f_j ± f_l, 2f_i ± f_j, 3f_i) does, where it appears after folding
 *  about DC and Nyquist (foldBin). Products that reduce to one tone or to nothing by cancelling an index
 *  (f_i + f_j − f_i, f_i − f_i) are not products; all others count, also against a tone they
 *  contain (2f_t − f_j near f_t). A negative guard counts as 0. Returns how many tones are hit.
 *  Time: each of the count³ products once, then a binary search of the tones sorted by bin
 *  (BY_BIN): count³·log count steps. check = false writes zeros: for a planned set, which is
 *  collision-free by construction (planTones). */
export function findCollisions(count: i32, window: i32, bins: usize, guardBins: i32, hitsOut: usize, check: bool = true): i32 {
  let guard = max(guardBins, 0);
  for (let k: usize = 0; k < <usize>count << 2; k += 4) { // no marks yet; insertion sort of BY_BIN
    store<i32>(hitsOut + k, 0);
    let at = BY_BIN + k;
    for (; at > BY_BIN; at -= 4) {
      let before = load<usize>(at - 4);
      if (load<i32>(bins + before) <= load<i32>(bins + k)) break;
      store<usize>(at, before);
    }
    store<usize>(at, k);
  }
  let hit = 0;
  // pair = f_i + f_j (i <= j), then pair + f_l (l >= j) and |pair − f_l| (l not i or j). The
  // extra first pass i = −1 stands for a zero "tone": pair = f_j gives the second-order f_j + f_l
  // (2f_j when l = j) and |f_j − f_l|, marked 2; the other passes give third order, marked 4.
  for (let i = -1; check && i < count; i++) {
    for (let j = max(i, 0); j < count; j++) {
      let pair = (i < 0 ? 0 : binOf(bins, i)) + binOf(bins, j);
      let mark = i < 0 ? 2 : 4;
      for (let l = 0; l < count; l++) {
        for (let sign = 1; sign >= -1; sign -= 2) { // the sum, then the difference
          if (sign > 0 ? l >= j : l != i && l != j) {
            let product = foldBin(pair + sign * binOf(bins, l), window);
            hit += markNear(product - guard, product + guard, count, bins, hitsOut, mark);
          }
        }
      }
    }
  }
  return hit;
}

/** findCollisions' tones in increasing bin, each as its byte offset in the bins (and hits). */
const BY_BIN = memory.data(MAX_CONTROLS << 2);

/** Marks (ORs `mark` into hitsOut) every tone with a bin in [from, to]: from the first (in
 *  BY_BIN) at or above `from`, while at or below `to`. Returns how many of them were not hit
 *  before. */
function markNear(from: i32, to: i32, count: i32, bins: usize, hitsOut: usize, mark: i32): i32 {
  let marked = 0;
  let low = BY_BIN, end = BY_BIN + (<usize>count << 2), high = end;
  while (low < high) {
    let middle = low + ((high - low) >> 3 << 2);
    if (load<i32>(bins + load<usize>(middle)) < from) low = middle + 4;
    else high = middle;
  }
  for (; low < end; low += 4) {
    let offset = load<usize>(low);
    if (load<i32>(bins + offset) > to) break;
    let was = load<i32>(hitsOut + offset);
    if (!was) marked++;
    store<i32>(hitsOut + offset, was | mark);
  }
  return marked;
}

// @ts-ignore: decorator
@inline function binOf(bins: usize, index: i32): i32 {
  return load<i32>(bins + (<usize>index << 2));
}
