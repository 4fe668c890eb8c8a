// Perturbations: what each control adds to its voltage, sample by sample, and the reference
// the lock-in multiplies the reading by (NCO_SIN, and NCO_COS for the quadrature). Sinusoids
// come from the oscillator bank; the other kinds are ±1 chips of `chipSamples` samples:
// sequential central differences (one control at a time, + then −), SPSA (a random ±1
// vector, then its negation), random ±1 codes (MGD's CDMA) and Walsh–Hadamard codes. One
// estimator serves them all: g = Σ ŷ r / (a Σ r²) (the lock-in's projection for sinusoids).
import { Perturbation } from "./layout";
import { ncoAdvance, NCO_SIN, NCO_COS } from "./nco";

let kind = 0;
let controls = 0;
let chipSamples = 1;
let period = 1; // chips before the code repeats
let chip = 0; //   chip of the code being written
let samplesLeftInChip = 1;
let seed: u32 = 1;

/** Chips in one period of the code for `count` controls (the window holds whole periods). */
export function codePeriod(perturbation: i32, count: i32): i32 {
  if (perturbation == Perturbation.Sequential) return 2 * count;
  if (perturbation == Perturbation.SPSA) return 2;
  if (perturbation == Perturbation.Walsh) return 1 << (32 - clz(count)); // ≥ count + 1 codes
  return 1;
}

/** Σ r² over a window for one control, per unit amplitude. */
export function codeEnergy(window: i32): f32 {
  if (kind == Perturbation.Sinusoid) return <f32>window / 2;
  if (kind == Perturbation.Sequential) {
    const samplesPerControl: i32 = 2 * chipSamples * (window / (chipSamples * period));
    return <f32>samplesPerControl;
  }
  return <f32>window;
}

export function perturbConfigure(perturbation: i32, count: i32, chip: i32, codeSeed: i32): void {
  kind = perturbation;
  controls = count;
  chipSamples = chip;
  period = codePeriod(perturbation, count);
  seed = <u32>codeSeed;
  perturbRestart();
  if (kind != Perturbation.Sinusoid) memory.fill(NCO_COS, 0, <usize>count << 2); // no quadrature
}

/** The next sample written starts the code's first chip (a window starts with it). */
export function perturbRestart(): void {
  chip = -1;
  samplesLeftInChip = 1;
}

/** xorshift32: the random signs of SPSA and CDMA (reproducible from the seed). */
function randomSign(): f32 {
  seed ^= seed << 13;
  seed ^= seed >> 17;
  seed ^= seed << 5;
  return seed & 1 ? 1 : -1;
}

/** Moves every reference to the next sample. */
@inline export function perturbAdvance(): void {
  if (kind == Perturbation.Sinusoid) {
    ncoAdvance();
    return;
  }
  if (--samplesLeftInChip > 0) return;
  samplesLeftInChip = chipSamples;
  chip = chip + 1 == period ? 0 : chip + 1;
  for (let k = 0; k < controls; k++) {
    const at = NCO_SIN + (<usize>k << 2);
    let r: f32;
    if (kind == Perturbation.Sequential) r = chip >> 1 == k ? (chip & 1 ? -1 : 1) : 0;
    else if (kind == Perturbation.SPSA) r = chip == 0 ? randomSign() : -load<f32>(at);
    else if (kind == Perturbation.Random) r = randomSign();
    else r = popcnt((k + 1) & chip) & 1 ? -1 : 1; // Walsh: row k + 1 of the Hadamard matrix
    store<f32>(at, r);
  }
}
