// The update rules under gradients too large to square in f32: Adam's second moment and a
// momentum sum overflow; the control must keep moving (never a silent stall) and each overflow
// must be counted in STATUS.
import { optimiserReset, optimiserStep, powerOf, WEIGHTS, MOMENT1, MOMENT2 } from "../../assembly/optim";
import { CONFIG, activate, wordAddress } from "../../assembly/config";
import { Field, Optimiser, Status, MIN_WORD, MAX_WORD, INITIAL_WORD, TRAINABLE_WORD } from "../../assembly/layout";
import { statusI32, setStatusI32 } from "../../assembly/status";

const GRADIENT = memory.data(4 << 2);
const CONTROLS = 2;

/** Two trainable controls on [−1, 1] from 0, learning rate 0.01, β1 0.9, β2 0.99. */
function setUp(kind: i32): void {
  store<i32>(CONFIG + (Field.ControlCount << 2), CONTROLS);
  store<i32>(CONFIG + (Field.Optimiser << 2), kind);
  store<f32>(CONFIG + (Field.LearningRate << 2), 0.01);
  store<f32>(CONFIG + (Field.Beta1 << 2), 0.9);
  store<f32>(CONFIG + (Field.Beta2 << 2), 0.99);
  store<f32>(CONFIG + (Field.Epsilon << 2), 1e-8);
  for (let k = 0; k < CONTROLS; k++) {
    store<f32>(wordAddress(CONFIG, MIN_WORD, k), -1);
    store<f32>(wordAddress(CONFIG, MAX_WORD, k), 1);
    store<f32>(wordAddress(CONFIG, INITIAL_WORD, k), 0);
    store<i32>(wordAddress(CONFIG, TRAINABLE_WORD, k), 1);
  }
  activate();
  optimiserReset();
  setStatusI32(Status.OptimiserResets, 0);
}

function weight(k: i32): f32 { return load<f32>(WEIGHTS + (k << 2)); }

/** Steps with gradient g on control 0 and a small one (0.5) on control 1, `count` times;
 *  expects control 0 to move down by at least `least` every step and every moment finite. */
function stepDown(g: f32, count: i32, least: f32): void {
  store<f32>(GRADIENT, g);
  store<f32>(GRADIENT + 4, 0.5);
  for (let n = 0; n < count; n++) {
    const before = weight(0);
    optimiserStep(GRADIENT, 1);
    if (before > -1) expect(before - weight(0)).toBeGreaterThanOrEqual(least, "step " + n.toString());
    for (let k = 0; k < CONTROLS; k++) {
      expect(isFinite(load<f32>(MOMENT1 + (k << 2)))).toBe(true);
      expect(isFinite(load<f32>(MOMENT2 + (k << 2)))).toBe(true);
    }
  }
}

describe("optimiser overflow", () => {
  it("Adam with a gradient of 1e20 (g² = 1e40 overflows f32): the control moves 0.01 every step, each overflow counted", () => {
    setUp(Optimiser.Adam);
    stepDown(1e20, 20, 0.0099);
    expect(statusI32(Status.OptimiserResets)).toBe(20);
    expect(weight(1)).toBeLessThan(-0.19); // the other control trains normally beside it
  });

  it("Adam with a gradient of 1e38: the same, and then a normal gradient trains without further resets", () => {
    setUp(Optimiser.Adam);
    stepDown(1e38, 10, 0.0099);
    expect(statusI32(Status.OptimiserResets)).toBe(10);
    // the restarted moments meet β-powers that kept counting (they are shared by all controls),
    // so the first steps after a reset are about half a normal one: at least 0.003
    stepDown(2, 10, 0.003);
    expect(statusI32(Status.OptimiserResets)).toBe(10);
  });

  it("momentum with a gradient of 1e38 (the sum passes 3.4e38 at the 4th step), then its reverse: the control comes back up", () => {
    setUp(Optimiser.Momentum);
    store<f32>(CONFIG + (Field.LearningRate << 2), 1e-40); // rate·g = 1e-2
    store<f32>(GRADIENT, 1e38);
    store<f32>(GRADIENT + 4, 0);
    for (let n = 0; n < 6; n++) optimiserStep(GRADIENT, 1);
    expect(statusI32(Status.OptimiserResets)).toBeGreaterThan(0);
    const low = weight(0);
    store<f32>(GRADIENT, -1e38);
    for (let n = 0; n < 6; n++) optimiserStep(GRADIENT, 1);
    expect(weight(0)).toBeGreaterThan(low + 0.01);
    expect(isFinite(load<f32>(MOMENT1))).toBe(true);
  });
});

describe("the update rules on a constant gradient", () => {
  it("gradient 0.5, rate 0.01, β1 0.9: SGD steps 0.005; momentum's n-th step is 0.005·(1 − 0.9ⁿ)/(1 − 0.9); Adam's is 0.01 from the first (bias-corrected moments)", () => {
    for (let kind = 0; kind < 3; kind++) {
      const rule = kind == 0 ? Optimiser.SGD : kind == 1 ? Optimiser.Momentum : Optimiser.Adam;
      setUp(rule);
      store<f32>(GRADIENT, 0.5);
      store<f32>(GRADIENT + 4, 0.5);
      let power: f64 = 1;
      for (let n = 1; n <= 5; n++) {
        const before = <f64>weight(0);
        optimiserStep(GRADIENT, 1);
        power *= 0.9;
        const expected: f64 = rule == Optimiser.SGD ? 0.005 : rule == Optimiser.Momentum ? 0.005 * (1 - power) / (1 - 0.9) : 0.01;
        expect(Math.abs(before - <f64>weight(0) - expected)).toBeLessThan(1e-6, "rule " + kind.toString() + ", step " + n.toString());
      }
      expect(statusI32(Status.OptimiserResets)).toBe(0);
    }
  });
});

describe("powerOf, SPSA's gain sequences", () => {
  it("base^exponent within 1e-6 relative of f64 Math.pow for SPSA's exponents −0.602 and −0.101 over bases 1 .. 1e6, mantissas near 1 and near 2 (the atanh series' worst, s → 1/3)", () => {
    const bases: f64[] = [1, 1.01, 1.5, 1.99, 2, 3, 3.99, 7, 10, 11.5, 127.9, 1000, 65535, 1e6];
    const exponents: f64[] = [-0.602, -0.101];
    let worst: f64 = 0;
    for (let b = 0; b < bases.length; b++) {
      for (let e = 0; e < exponents.length; e++) {
        const base = <f64><f32>bases[b], exponent = <f64><f32>exponents[e];
        const exact = Math.pow(base, exponent);
        const error = Math.abs(<f64>powerOf(<f32>base, <f32>exponent) - exact) / exact;
        if (error > worst) worst = error;
      }
    }
    expect(worst).toBeLessThan(1e-6);
  });

  it("the first gains: (1 + A)^−0.602 at A = 0, 1, 9 (k = 0) is 1, 0.65884, 0.25003; k^−0.101 at k = 2, 100 is 0.93239, 0.62806", () => {
    expect(powerOf(1, -0.602)).toBe(1);
    expect(powerOf(2, -0.602)).toBeCloseTo(0.65884, 5);
    expect(powerOf(10, -0.602)).toBeCloseTo(0.25003, 5);
    expect(powerOf(2, -0.101)).toBeCloseTo(0.93239, 5);
    expect(powerOf(100, -0.101)).toBeCloseTo(0.62806, 5);
  });
});
