// Perturbations: what each control adds to its voltage, sample by sample, and the reference
// the lock-in multiplies the reading by (NCO_SIN, and NCO_COS for the quadrature). Sinusoids
// come from the oscillator bank; the other kinds are ±1 chips of ChipSamples samples:
// sequential central differences (one control at a time, + then −), SPSA (a random ±1
// vector, then its negation), random ±1 codes (MGD's CDMA) and Walsh–Hadamard codes. One
// estimator serves them all: g = Σ ŷ r / (a Σ r²) (the lock-in's projection for sinusoids).
import { FULL } from "./features";
import { Field, Perturbation, MAX_CONTROLS, codePeriod } from "./layout";
import { ACTIVE, configI32, controlCount, windowSamples } from "./config";
import { ncoAdvance, NCO_SIN, NCO_COS } from "./nco";

let kind = 0;
let period = 1; // chips before the code repeats
let chip = 0; //   chip of the code being written
let samplesLeftInChip = 1;
let seed: u32 = 1;
/** Σ r over the window so far, per control (f32): a code adds a chip's worth as it writes the
 *  chip (exact: integers); sinusoids leave it at zero, since a window holds whole periods. The
 *  lock-in takes its sums about the window's mean with it. */
export const REFERENCE_SUM = memory.data(MAX_CONTROLS << 2);

/** Σ r² over a window for one control, per unit amplitude: W/2 for a sinusoid, W for ±1
 *  codes, of which a sequential code gives each control 1/count (the window holds whole
 *  periods of 2·count chips, two of them for each control). */
export function codeEnergy(): f32 {
  if (!FULL || kind == Perturbation.Sinusoid) return <f32>windowSamples / 2;
  if (kind == Perturbation.Sequential) return <f32>(windowSamples / controlCount);
  return <f32>windowSamples;
}

/** Starts the active configuration's perturbation (kind, chip length, seed). */
export function perturbConfigure(): void {
  if (!FULL) return; // the core's one perturbation is tones (config.ts)
  kind = configI32(ACTIVE, Field.Perturbation);
  period = codePeriod(kind, controlCount);
  seed = <u32>configI32(ACTIVE, Field.Seed);
  perturbRestart();
  if (kind != Perturbation.Sinusoid) memory.fill(NCO_COS, 0, <usize>controlCount << 2); // no quadrature
}

/** The next sample written starts the code's first chip (a window starts with it). */
export function perturbRestart(): void {
  if (!FULL) return;
  chip = -1;
  samplesLeftInChip = 1;
  memory.fill(REFERENCE_SUM, 0, MAX_CONTROLS << 2);
}

/** xorshift32: the random signs of SPSA and CDMA (reproducible from the seed). */
@inline function randomSign(): f32 {
  seed ^= seed << 13;
  seed ^= seed >> 17;
  seed ^= seed << 5;
  return seed & 1 ? 1 : -1;
}

/** Moves every reference to the next sample. */
@inline export function perturbAdvance(): void {
  if (!FULL || kind == Perturbation.Sinusoid) {
    ncoAdvance();
    return;
  }
  if (--samplesLeftInChip > 0) return;
  const chipSamples = configI32(ACTIVE, Field.ChipSamples);
  samplesLeftInChip = chipSamples;
  chip = chip + 1 == period ? 0 : chip + 1;
  for (let k = 0; k < controlCount; k++) {
    const at = NCO_SIN + (<usize>k << 2);
    let r: f32;
    if (kind == Perturbation.Sequential) r = chip >> 1 == k ? (chip & 1 ? -1 : 1) : 0;
    else if (kind == Perturbation.Walsh) r = popcnt((k + 1) & chip) & 1 ? -1 : 1; // row k + 1 of the Hadamard matrix
    else if (kind == Perturbation.SPSA && chip != 0) r = -load<f32>(at); // SPSA's second chip: the negation
    else r = randomSign(); // SPSA's first chip, and every chip of a random code
    store<f32>(at, r);
    const sumAt = REFERENCE_SUM + (<usize>k << 2);
    store<f32>(sumAt, load<f32>(sumAt) + r * <f32>chipSamples);
  }
}
