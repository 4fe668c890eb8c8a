// The oscillator bank: accuracy against the exact sine and phase that cannot drift.
import { ncoConfigure, ncoAdvance, ncoPhase, NCO_SIN, NCO_COS } from "../../assembly/nco";
import { CONFIG, activate } from "../../assembly/config";
import { Field, TONE_BIN_WORD } from "../../assembly/layout";

/** The tones: the block's ToneBin words, which activate() makes the running ones. */
const BINS = CONFIG + (<usize>TONE_BIN_WORD << 2);

function setBins(count: i32, first: i32, spacing: i32): void {
  for (let k = 0; k < count; k++) store<i32>(BINS + (k << 2), first + k * spacing);
}

/** Runs `count` tones over a window of `window` samples: the oscillator bank reads both
 *  from the active configuration. */
function start(count: i32, window: i32): void {
  store<i32>(CONFIG + (Field.ControlCount << 2), count);
  store<i32>(CONFIG + (Field.WindowSamples << 2), window);
  activate();
  ncoConfigure();
}

/** Largest |table − exact| over two windows, sine and cosine, all tones. */
function worstError(count: i32, window: i32): f64 {
  start(count, window);
  let worst: f64 = 0;
  for (let n = 1; n <= 2 * window; n++) {
    ncoAdvance();
    for (let k = 0; k < count; k++) {
      const bin = <i64>load<i32>(BINS + (k << 2));
      const angle = (2 * Math.PI * <f64>((bin * <i64>n) % <i64>window)) / <f64>window;
      worst = Math.max(worst, Math.abs(<f64>load<f32>(NCO_SIN + (k << 2)) - Math.sin(angle)));
      worst = Math.max(worst, Math.abs(<f64>load<f32>(NCO_COS + (k << 2)) - Math.cos(angle)));
    }
  }
  return worst;
}

describe("oscillator bank", () => {
  it("stays within 1e-5 of the exact sine and cosine (windows 500 from the window's own table; 1000, 2000, 4096, 12345; 16 tones)", () => {
    setBins(16, 7, 13);
    expect(worstError(16, 500)).toBeLessThan(1e-5);
    expect(worstError(16, 1000)).toBeLessThan(1e-5);
    expect(worstError(16, 2000)).toBeLessThan(1e-5);
    expect(worstError(16, 4096)).toBeLessThan(1e-5);
    expect(worstError(16, 12345)).toBeLessThan(1e-5);
  });

  it("returns every tone to phase 0 after each window, and repeats bit-exactly after 1e9 samples", () => {
    setBins(2, 17, 8); // bins 17 (visits every phase of the window) and 25 (gcd 25) over 2000
    const window = 2000;
    start(2, window);
    const first = new StaticArray<f32>(2);
    let boundaries = 0;
    for (let n: i64 = 1; n <= 1_000_000_000; n++) {
      ncoAdvance();
      if (n == 1) for (let k = 0; k < 2; k++) first[k] = load<f32>(NCO_SIN + (k << 2));
      if (n % window == 0) {
        if (ncoPhase(0) == 0 && ncoPhase(1) == 0) boundaries++;
      }
    }
    expect(boundaries).toBe(1_000_000_000 / window);
    // sample 1e9 + 1 is sample 1 again, to the bit
    ncoAdvance();
    for (let k = 0; k < 2; k++) expect(reinterpret<i32>(load<f32>(NCO_SIN + (k << 2)))).toBe(reinterpret<i32>(first[k]));
  });
});
