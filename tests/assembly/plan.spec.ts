// The tone planner: planned tones checked by an independent brute-force enumeration of every
// second- and third-order product, plus band, octave and Nyquist limits, the published tone set's
// collisions, the shortest window reported when no plan exists, and determinism.
import { planTones, planMinWindow, findCollisions, thirdOrderProbe, probeTwice, probeOnce, PROBED_ORDER_2, lowestBin } from "../../assembly/plan";
import { Field } from "../../assembly/layout";

const BINS = memory.data(128 << 2);
const HITS = memory.data(128 << 2);
/** A window so long that no product of the bins used below reaches Nyquist. */
const UNFOLDED = 1 << 20;

function binAt(k: i32): i32 {
  return load<i32>(BINS + (k << 2));
}

/** Hit masks from the brute force (2: a second-order product within the guard, 4: third order). */
const bruteMasks = new StaticArray<i32>(128);

/** Brute force, written from the definition and independent of the planner's reasoning: every
 *  product s_1·f_i + s_2·f_j (+ s_3·f_l), signs ±1, any indices, whose coefficients after merging
 *  equal indices are not zero and not a single ±1 (f_i + f_t − f_i is just f_t), is compared with
 *  every tone. Fills bruteMasks; returns how many (product, tone) pairs lie within guardBins. */
function bruteForceCollisions(count: i32, guardBins: i32, window: i32 = UNFOLDED): i32 {
  let collisions = 0;
  for (let t = 0; t < count; t++) bruteMasks[t] = 0;
  for (let order = 2; order <= 3; order++) {
    for (let i = 0; i < count; i++) {
      for (let j = 0; j < count; j++) {
        for (let l = 0; l < (order == 3 ? count : 1); l++) {
          for (let signs = 0; signs < (order == 3 ? 4 : 2); signs++) {
            const signJ = signs & 1 ? -1 : 1;
            const signL = order == 3 ? (signs & 2 ? -1 : 1) : 0;
            // merge equal indices into one coefficient per distinct index
            let coefficientI = 1;
            let coefficientJ = signJ;
            let coefficientL = signL;
            if (j == i) { coefficientI += coefficientJ; coefficientJ = 0; }
            if (order == 3 && l == i) { coefficientI += coefficientL; coefficientL = 0; }
            else if (order == 3 && l == j) { coefficientJ += coefficientL; coefficientL = 0; }
            let nonzero = 0;
            let largest = 0;
            if (coefficientI != 0) { nonzero++; largest = max(largest, abs(coefficientI)); }
            if (coefficientJ != 0) { nonzero++; largest = max(largest, abs(coefficientJ)); }
            if (coefficientL != 0) { nonzero++; largest = max(largest, abs(coefficientL)); }
            if (nonzero == 0 || (nonzero == 1 && largest == 1)) continue;
            // where it appears: below 0 Hz at |f|, above fs/2 at fs − f (fs is W bins)
            let product = abs(binAt(i) + signJ * binAt(j) + signL * binAt(l)) % window;
            if (2 * product > window) product = window - product;
            for (let t = 0; t < count; t++) {
              if (abs(product - binAt(t)) <= guardBins) {
                collisions++;
                bruteMasks[t] |= order == 2 ? 2 : 4;
              }
            }
          }
        }
      }
    }
  }
  return collisions;
}

/** Plans, expects success, and checks every stated property of the plan. */
function planAndCheck(count: i32, window: i32, rateHz: f32, lowHz: f32, highHz: f32, guard: i32): void {
  for (let k = 0; k < 128; k++) store<i32>(BINS + (k << 2), -7); // garbage in the buffer
  expect(planTones(count, window, rateHz, lowHz, highHz, guard, 3, BINS)).toBe(0);
  expect(planMinWindow).toBe(0);
  let lowest = i32.MAX_VALUE;
  let highest = 0;
  for (let k = 0; k < count; k++) {
    const bin = binAt(k);
    lowest = min(lowest, bin);
    highest = max(highest, bin);
    expect(bin).toBeGreaterThanOrEqual(1);
    expect(2 * bin).toBeLessThan(window, "Nyquist: bin < W/2");
    const hz = <f64>bin * <f64>rateHz / <f64>window;
    expect(hz).toBeGreaterThanOrEqual(<f64>lowHz);
    expect(hz).toBeLessThanOrEqual(<f64>highHz);
    for (let other = 0; other < k; other++) expect(binAt(other)).not.toBe(bin, "distinct bins");
  }
  expect(highest).toBeLessThan(2 * lowest, "one octave");
  expect(bruteForceCollisions(count, guard, window)).toBe(0);
  expect(findCollisions(count, window, BINS, guard, HITS)).toBe(0);
}

/** planTones refuses `count` tones in a window of `window` samples: the window it names. */
function namedWindow(count: i32, window: i32, rateHz: f32, lowHz: f32, highHz: f32, guard: i32): i32 {
  expect(planTones(count, window, rateHz, lowHz, highHz, guard, 3, BINS)).toBe(Field.Plan);
  return planMinWindow;
}

/** Every window from `from` up to `shortest` is refused; `shortest` plans, collision-free. */
function plansFirstAt(shortest: i32, from: i32, count: i32, rateHz: f32, lowHz: f32, highHz: f32, guard: i32): void {
  for (let window = from; window < shortest; window++) {
    expect(planTones(count, window, rateHz, lowHz, highHz, guard, 3, BINS)).toBe(Field.Plan);
  }
  planAndCheck(count, shortest, rateHz, lowHz, highHz, guard);
}

describe("planTones", () => {
  it("plans 5 tones in the published setting (W = 2000 at 5 kHz, band 20-120 Hz), collision-free", () => {
    planAndCheck(5, 2000, 5000, 20, 120, 0);
    // low and compact: a 16-bin Sidon set starting at the lowest bin the octave allows (16 + 1),
    // i.e. 42.5, 55, 75, 80, 82.5 Hz
    const expected: i32[] = [17, 22, 30, 32, 33];
    for (let k = 0; k < 5; k++) expect(binAt(k)).toBe(expected[k]);
  });

  it("plans 5 tones with a guard of 2 bins (W = 4000 at 5 kHz, band 20-1000 Hz)", () => {
    planAndCheck(5, 4000, 5000, 20, 1000, 2);
  });

  it("plans 16 tones with a guard of 1 bin (W = 4000 at 5 kHz, band 50-1000 Hz)", () => {
    planAndCheck(16, 4000, 5000, 50, 1000, 1);
  });

  it("plans 64 tones (W = 40000 at 10 kHz, band 100-2500 Hz), collision-free", () => {
    planAndCheck(64, 40000, 10000, 100, 2500, 0);
  });

  it("plans 64 tones with a guard of 2 bins (W = 100000 at 10 kHz)", () => {
    planAndCheck(64, 100000, 10000, 100, 2500, 2);
  });

  it("puts the lowest tone at the band's lower edge when the band, not the octave, limits it", () => {
    // 5 tones need a set 16 bins long, so the octave allows a first bin of 17; the band starts at
    // 600 Hz = bin 240 of W = 2000 at 5 kHz, so the plan starts exactly there.
    expect(planTones(5, 2000, 5000, 600, 1000, 0, 3, BINS)).toBe(0);
    expect(binAt(0)).toBe(240);
    expect(binAt(4)).toBe(256);
  });

  it("is deterministic: the same request gives the same bins", () => {
    planTones(64, 40000, 10000, 100, 2500, 0, 3, BINS);
    const first = new StaticArray<i32>(64);
    for (let k = 0; k < 64; k++) first[k] = binAt(k);
    for (let k = 0; k < 64; k++) store<i32>(BINS + (k << 2), 12345);
    planTones(64, 40000, 10000, 100, 2500, 0, 3, BINS);
    for (let k = 0; k < 64; k++) expect(binAt(k)).toBe(first[k]);
  });

  it("refuses 5 tones in 20-40 Hz at W = 2000, and the window it names is the shortest that plans", () => {
    const shortest = namedWindow(5, 2000, 5000, 20, 40, 0);
    expect(shortest).toBeGreaterThan(2000);
    // every shorter window fails (checked one by one), the named one plans and is collision-free
    plansFirstAt(shortest, 1, 5, 5000, 20, 40, 0);
  });

  it("names the shortest window when the band's width is the limit (5 tones in 1000-1010 Hz)", () => {
    // 5 tones span 16 bins; 10 Hz holds 16 bins only from W = 16 · 5000 / 10 = 8000 samples on
    const shortest = namedWindow(5, 2000, 5000, 1000, 1010, 0);
    expect(shortest).toBeGreaterThanOrEqual(8000);
    plansFirstAt(shortest, 7000, 5, 5000, 1000, 1010, 0);
  });

  it("refuses 16 tones in 20-120 Hz at W = 2000 and names a window that plans (one shorter fails)", () => {
    const shortest = namedWindow(16, 2000, 5000, 20, 120, 0);
    plansFirstAt(shortest, shortest - 3, 16, 5000, 20, 120, 0);
  });

  it("names the shortest window for 64 tones with a guard, and that window plans", () => {
    const shortest = namedWindow(64, 20000, 10000, 100, 2500, 1);
    plansFirstAt(shortest, shortest - 1, 64, 10000, 100, 2500, 1);
  });

  it("plans 128 tones free of second-order products (order 2) in W = 4096 at 5 kHz, band 1250-2500 Hz", () => {
    // order 3 needs 125053+ samples here; order 2 needs only the octave: 128 consecutive bins
    expect(planTones(128, 4096, 5000, 1250, 2500, 0, 2, BINS)).toBe(0);
    let lowest = i32.MAX_VALUE, highest = 0;
    for (let k = 0; k < 128; k++) { lowest = min(lowest, binAt(k)); highest = max(highest, binAt(k)); }
    expect(highest - lowest).toBe(127, "consecutive bins");
    expect(highest).toBeLessThan(2 * lowest, "one octave");
    expect(2 * highest).toBeLessThan(4096, "Nyquist");
    bruteForceCollisions(128, 0, 4096);
    for (let k = 0; k < 128; k++) expect(bruteMasks[k] & 2).toBe(0, "no second-order product on a tone");
  });

  it("plans order 2 with a guard: tones guardBins + 1 apart, no second-order product within the guard", () => {
    expect(planTones(32, 2048, 5000, 1250, 2500, 2, 2, BINS)).toBe(0);
    for (let k = 1; k < 32; k++) expect(binAt(k) - binAt(k - 1)).toBe(3);
    bruteForceCollisions(32, 2, 2048);
    for (let k = 0; k < 32; k++) expect(bruteMasks[k] & 2).toBe(0);
  });

  it("names a window for order 2 that grows as the count (128 tones: under 1/100 of order 3's)", () => {
    const order2 = ((): i32 => { expect(planTones(128, 512, 5000, 1250, 2500, 0, 2, BINS)).toBe(Field.Plan); return planMinWindow; })();
    expect(order2).toBeGreaterThan(512);
    expect(order2).toBeLessThanOrEqual(1024);
    expect(planTones(128, order2, 5000, 1250, 2500, 0, 2, BINS)).toBe(0);
    expect(planTones(128, order2 - 1, 5000, 1250, 2500, 0, 2, BINS)).toBe(Field.Plan);
    const order3 = namedWindow(128, 4096, 5000, 1250, 2500, 0);
    expect(order3).toBeGreaterThan(100 * order2);
  });

  it("reports planMinWindow = 0 when no window up to 2^20 samples plans (64 tones in 10 Hz)", () => {
    // 64 tones need about 3775 bins, i.e. W >= 3775 · 5000 / 10 ≈ 1.9e6 samples
    expect(planTones(64, 4096, 5000, 1000, 1010, 0, 3, BINS)).toBe(Field.Plan);
    expect(planMinWindow).toBe(0);
  });
});

/** Brute force of the fold rule lowestBin applies, from its definition and one product at a
 *  time: for tones in [low, low + span], does any second-order sum (2·low .. 2·high) or, at
 *  order 3, third-order sum (3·low .. 3·high) or f_a + f_b − f_c (2·low − high .. 2·high − low)
 *  above W/2 appear, at W − x or x − W, within the guard of the tones (PROBED_ORDER_2: of the
 *  probe's bin one spacing below them too)? */
function bruteFolds(low: i32, span: i32, spacing: i32, window: i32, order: i32): bool {
  const high = low + span, guard = spacing - 1;
  const bottom = low - guard - (order == PROBED_ORDER_2 ? spacing : 0), top = high + guard;
  for (let kind = 0; kind < (order == 3 ? 3 : 1); kind++) {
    const from = kind == 0 ? 2 * low : kind == 1 ? 3 * low : 2 * low - high;
    const to = kind == 0 ? 2 * high : kind == 1 ? 3 * high : 2 * high - low;
    for (let x = from; x <= to; x++) {
      if (2 * x <= window) continue;
      const seen = x <= window ? window - x : x - window;
      if (seen >= bottom && seen <= top) return true;
    }
  }
  return false;
}

let lcg: u32 = 12345;
function nextRandom(): u32 { lcg = lcg * 1664525 + 1013904223; return lcg >> 8; }

describe("lowestBin", () => {
  it("skips runs of refused first bins yet finds the same lowest bin as a scan of every bin with the brute-force fold rule, over 4000 pseudo-random windows, spans, guards, bands and orders", () => {
    let planned = 0, pastFolds = 0;
    for (let n = 0; n < 4000; n++) {
      const window = 8 + <i32>(nextRandom() % 3000);
      const span = 1 + <i32>(nextRandom() % <u32>max(1, window >> 3));
      const spacing = 1 + <i32>(nextRandom() % 3);
      const order = [PROBED_ORDER_2, 2, 3][nextRandom() % 3];
      const rate: f32 = 5000;
      const lowHz = <f32>(nextRandom() % 2500);
      const highHz = lowHz + 1 + <f32>(nextRandom() % <u32>(2500 - <i32>lowHz));
      let first = max(<i32>Math.ceil(<f64>lowHz * window / rate), (order == PROBED_ORDER_2 ? span + spacing : span) + spacing);
      const start = first;
      const last = min(<i32>Math.floor(<f64>highHz * window / rate), (window - 1) >> 1);
      let expected = 0;
      for (; first + span <= last; first++) {
        if (!bruteFolds(first, span, spacing, window, order)) { expected = first; break; }
      }
      expect(lowestBin(window, rate, lowHz, highHz, span, spacing, order)).toBe(expected);
      if (expected) planned++;
      if (expected > start) pastFolds++;
    }
    expect(planned).toBeGreaterThan(1000);
    expect(pastFolds).toBeGreaterThan(100, "cases whose lowest bin lies past refused ones");
  });
});

describe("findCollisions", () => {
  it("finds every published tone (25, 45, 65, 95, 115 Hz = bins 10, 18, 26, 38, 46) hit by third order only", () => {
    // e.g. 95 = 2·25 + 45, 115 = 2·45 + 25, 65 = 2·45 − 25, 25 = 2·45 − 65, 45 = 2·65 − 95 (Hz);
    // no second-order product lands on a tone: each mask is exactly 4.
    const published: i32[] = [10, 18, 26, 38, 46];
    for (let k = 0; k < 5; k++) store<i32>(BINS + (k << 2), published[k]);
    expect(findCollisions(5, UNFOLDED, BINS, 0, HITS)).toBe(5);
    for (let k = 0; k < 5; k++) expect(load<i32>(HITS + (k << 2))).toBe(4);
    bruteForceCollisions(5, 0);
    for (let k = 0; k < 5; k++) expect(bruteMasks[k]).toBe(4);
  });

  it("with check = false (a planned set) writes zeros over old masks and reports none", () => {
    const published: i32[] = [10, 18, 26, 38, 46];
    for (let k = 0; k < 5; k++) store<i32>(BINS + (k << 2), published[k]);
    expect(findCollisions(5, UNFOLDED, BINS, 0, HITS)).toBe(5);
    expect(findCollisions(5, UNFOLDED, BINS, 0, HITS, false)).toBe(0);
    for (let k = 0; k < 5; k++) expect(load<i32>(HITS + (k << 2))).toBe(0);
  });

  it("marks second-order hits: bins 10 and 20 (2·10 = 20 and 20 − 10 = 10) give masks 2, 2", () => {
    store<i32>(BINS, 10);
    store<i32>(BINS + 4, 20);
    expect(findCollisions(2, UNFOLDED, BINS, 0, HITS)).toBe(2);
    expect(load<i32>(HITS)).toBe(2);
    expect(load<i32>(HITS + 4)).toBe(2);
  });

  it("applies the guard: bins 20, 23, 27 are clean at guard 0 but all hit at guard 1 (23+23−27 = 19)", () => {
    store<i32>(BINS, 20);
    store<i32>(BINS + 4, 23);
    store<i32>(BINS + 8, 27);
    expect(findCollisions(3, UNFOLDED, BINS, 0, HITS)).toBe(0);
    for (let k = 0; k < 3; k++) expect(load<i32>(HITS + (k << 2))).toBe(0);
    expect(findCollisions(3, UNFOLDED, BINS, 1, HITS)).toBe(3);
    for (let k = 0; k < 3; k++) expect(load<i32>(HITS + (k << 2))).toBe(4);
  });

  it("applies the guard to second order: bins 10 and 21 at guard 1 (2·10 = 20, 21 − 10 = 11)", () => {
    store<i32>(BINS, 10);
    store<i32>(BINS + 4, 21);
    expect(findCollisions(2, UNFOLDED, BINS, 0, HITS)).toBe(0);
    expect(findCollisions(2, UNFOLDED, BINS, 1, HITS)).toBe(2);
    expect(load<i32>(HITS)).toBe(2);
    expect(load<i32>(HITS + 4)).toBe(2);
  });

  it("gives the brute force's masks, tone by tone, on 40 pseudo-random sets of 6 bins (guards 0, 1)", () => {
    let state: u32 = 12345;
    for (let trial = 0; trial < 40; trial++) {
      for (let k = 0; k < 6; k++) {
        state = state * 1664525 + 1013904223;
        store<i32>(BINS + (k << 2), 10 + <i32>(state >> 26)); // bins 10..73, repeats allowed
      }
      const guard = trial & 1;
      const hit = findCollisions(6, UNFOLDED, BINS, guard, HITS);
      bruteForceCollisions(6, guard);
      let bruteHit = 0;
      for (let k = 0; k < 6; k++) {
        expect(load<i32>(HITS + (k << 2))).toBe(bruteMasks[k]);
        if (bruteMasks[k]) bruteHit++;
      }
      expect(hit).toBe(bruteHit);
    }
  });
});

describe("findCollisions on larger sets (its products once, the tones searched by bin)", () => {
  it("gives the brute force's masks on 12 pseudo-random sets of 16 bins (repeats allowed) in windows of 3000..14000 samples, guards 0..2", () => {
    let state: u32 = 4242;
    let clean = 0, second = 0, third = 0;
    for (let trial = 0; trial < 12; trial++) {
      const window = 3000 + 1000 * trial;
      for (let k = 0; k < 16; k++) {
        state = state * 1664525 + 1013904223;
        store<i32>(BINS + (k << 2), 1 + <i32>((<u64>(state >> 8) * <u64>((window - 1) >> 1)) >> 24));
      }
      const guard = trial % 3;
      const hit = findCollisions(16, window, BINS, guard, HITS);
      bruteForceCollisions(16, guard, window);
      let bruteHit = 0;
      for (let k = 0; k < 16; k++) {
        const mask = bruteMasks[k];
        expect(load<i32>(HITS + (k << 2))).toBe(mask);
        if (mask) bruteHit++;
        if (!mask) clean++;
        if (mask & 2) second++;
        if (mask & 4) third++;
      }
      expect(hit).toBe(bruteHit);
    }
    // the sets exercise every outcome
    expect(clean).toBeGreaterThan(10);
    expect(second).toBeGreaterThan(10);
    expect(third).toBeGreaterThan(10);
  });
});

describe("folded intermodulation (fs − f above Nyquist, |f| below DC)", () => {
  it("bins 30 and 40 in a 100-sample window hit each other (2·30 = 60 folds onto 40, 30 + 40 = 70 onto 30)", () => {
    store<i32>(BINS, 30);
    store<i32>(BINS + 4, 40);
    expect(findCollisions(2, UNFOLDED, BINS, 0, HITS)).toBe(0); // nothing lands on a tone unfolded
    expect(findCollisions(2, 100, BINS, 0, HITS)).toBe(2);
    expect(load<i32>(HITS)).toBe(2);
    expect(load<i32>(HITS + 4)).toBe(2);
  });

  it("gives the brute force's folded masks on 60 pseudo-random sets of 5 bins in windows of 61..180 samples", () => {
    let state: u32 = 777;
    let folded = 0;
    for (let trial = 0; trial < 60; trial++) {
      const window = 61 + 2 * trial;
      for (let k = 0; k < 5; k++) {
        state = state * 1664525 + 1013904223;
        store<i32>(BINS + (k << 2), 1 + <i32>((<u64>(state >> 8) * <u64>((window - 1) >> 1)) >> 24)); // 1 .. (W − 1)/2
      }
      const guard = trial % 3 == 0 ? 1 : 0;
      const hit = findCollisions(5, window, BINS, guard, HITS);
      bruteForceCollisions(5, guard, window);
      let bruteHit = 0;
      for (let k = 0; k < 5; k++) {
        expect(load<i32>(HITS + (k << 2))).toBe(bruteMasks[k]);
        if (bruteMasks[k]) bruteHit++;
      }
      expect(hit).toBe(bruteHit);
      if (bruteForceCollisions(5, guard, window) != bruteForceCollisions(5, guard)) folded++;
    }
    expect(folded).toBeGreaterThan(20, "sets where folding changes the answer");
  });

  it("plans no tone that a folded product hits, in every band 100 Hz wide or more from 0 to fs/2 (W = 2000 at 5 kHz, 5 and 8 tones, guards 0 and 1), and still plans above fs/4", () => {
    let planned = 0, plannedAboveQuarter = 0;
    for (let count = 5; count <= 8; count += 3) {
      for (let guard = 0; guard <= 1; guard++) {
        for (let lowHz: f32 = 0; lowHz < 2500; lowHz += 50) {
          for (let widthHz: f32 = 100; lowHz + widthHz <= 2500; widthHz *= 2) {
            if (planTones(count, 2000, 5000, lowHz, lowHz + widthHz, guard, 3, BINS) != 0) continue;
            planned++;
            if (<f64>binAt(0) * 5000 / 2000 > 1250) plannedAboveQuarter++;
            expect(bruteForceCollisions(count, guard, 2000)).toBe(0, "band " + lowHz.toString() + " + " + widthHz.toString() + " Hz");
            expect(findCollisions(count, 2000, BINS, guard, HITS)).toBe(0);
          }
        }
      }
    }
    expect(planned).toBeGreaterThan(400);
    expect(plannedAboveQuarter).toBeGreaterThan(100);
  });
});

/** True if bin x is within `guard` of a tone or of a second-order product, by brute force. */
function nearToneOrSecondOrder(count: i32, window: i32, guard: i32, x: i32): bool {
  for (let a = 0; a < count; a++) {
    if (abs(binAt(a) - x) <= guard) return true;
    for (let b = 0; b < count; b++) {
      let sum = (binAt(a) + binAt(b)) % window;
      if (2 * sum > window) sum = window - sum;
      if (abs(sum - x) <= guard) return true;
      if (a != b && abs(abs(binAt(a) - binAt(b)) - x) <= guard) return true;
    }
  }
  return false;
}

describe("thirdOrderProbe", () => {
  it("finds a bin holding 2f_i − f_j and no tone or second-order product, for 128 tones planned at order 2 in 4096 samples", () => {
    expect(planTones(128, 4096, 5000, 1250, 2500, 0, 2, BINS)).toBe(0);
    const x = thirdOrderProbe(128, 4096, BINS, 0, false);
    expect(x).toBeGreaterThan(0);
    expect(x).toBe(2 * binAt(probeTwice) - binAt(probeOnce));
    expect(probeTwice).not.toBe(probeOnce);
    expect(nearToneOrSecondOrder(128, 4096, 0, x)).toBe(false);
  });

  it("keeps the guard: 16 tones planned at order 3 with a guard of 1 bin", () => {
    expect(planTones(16, 4000, 5000, 50, 1000, 1, 3, BINS)).toBe(0);
    const x = thirdOrderProbe(16, 4000, BINS, 1, false);
    expect(x).toBeGreaterThan(0);
    expect(x).toBe(2 * binAt(probeTwice) - binAt(probeOnce));
    expect(nearToneOrSecondOrder(16, 4000, 1, x)).toBe(false);
  });

  it("an order-2 plan that calibrates (PROBED_ORDER_2) sits one spacing higher, and its probe is the bin one spacing below its lowest tone, where about count²/4 products f_a + f_b − f_c add up", () => {
    // 32 tones, guard 1 (spacing 2), band 20..1000 Hz at 5 kHz: span 62, so the shortest order-2
    // plan starts at bin 64, the probed one at 66, below a fifth of the window either way
    expect(planTones(32, 1000, 5000, 20, 1000, 1, PROBED_ORDER_2, BINS)).toBe(0);
    expect(binAt(0)).toBe(66, "probed lowest");
    for (let k = 1; k < 32; k++) expect(binAt(k) - binAt(k - 1)).toBe(2, "spacing");
    bruteForceCollisions(32, 1, 1000);
    for (let k = 0; k < 32; k++) expect(bruteMasks[k] & 2).toBe(0, "still free of second-order products");
    const x = thirdOrderProbe(32, 1000, BINS, 1, true);
    expect(x).toBe(64, "probe");
    expect(probeTwice).toBe(0, "i");
    expect(probeOnce).toBe(1, "j");
    expect(nearToneOrSecondOrder(32, 1000, 1, x)).toBe(false);
    // the products of three tones (offsets in spacings) at one spacing below the lowest: c = a + b + 1
    let products = 0;
    for (let a = 0; a < 32; a++) for (let b = a; b < 32; b++) for (let c = 0; c < 32; c++) if (binAt(a) + binAt(b) - binAt(c) == x) products++;
    expect(products).toBe(256, "products");
    // the shortest plan's lowest tone, one spacing lower, leaves that bin to the largest difference
    expect(planTones(32, 1000, 5000, 20, 1000, 1, 2, BINS)).toBe(0);
    expect(binAt(0)).toBe(64, "shortest lowest");
    expect(thirdOrderProbe(32, 1000, BINS, 1, true)).not.toBe(binAt(0) - 2, "no probe there");
    // a window that fits the shortest plan (up to bin 126: W ≥ 630) and not the probed one (128:
    // W ≥ 640) names the probed one's
    expect(planTones(32, 635, 5000, 20, 1000, 1, 2, BINS)).toBe(0);
    expect(planTones(32, 635, 5000, 20, 1000, 1, PROBED_ORDER_2, BINS)).toBe(Field.Plan);
    expect(planMinWindow).toBe(640, "probed window");
  });

  it("returns 0 when every candidate is a tone or a second-order product (tones 10, 20, 30)", () => {
    // 2·10 − 20 = 0, 2·10 − 30 < 0, 2·30 − 10 = 50 = 20 + 30, 2·30 − 20 = 40 = 10 + 30
    store<i32>(BINS, 10);
    store<i32>(BINS + 4, 20);
    store<i32>(BINS + 8, 30);
    expect(thirdOrderProbe(3, UNFOLDED, BINS, 0, false)).toBe(0);
  });

  it("refuses a candidate that is a difference product f_a − f_b (tones 20, 30, 50: 2·20 − 30 = 10 = 30 − 20), so returns 0", () => {
    // 2·50 − 20 = 80 = 50 + 30, 2·50 − 30 = 70 = 50 + 20, 2·20 − 50 < 0: only 10 is left, on a difference
    store<i32>(BINS, 20);
    store<i32>(BINS + 4, 30);
    store<i32>(BINS + 8, 50);
    expect(thirdOrderProbe(3, UNFOLDED, BINS, 0, false)).toBe(0);
  });
});
