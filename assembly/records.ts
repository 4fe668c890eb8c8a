// The per-sample path's state of each control, one record per control rather than one array
// per quantity: a compiler of the module reaches every field of control k from one pointer
// stepping by RECORD_BYTES. (As arrays MAX_CONTROLS·4 bytes apart, gcc reached them on the
// Cortex-M4F from one pointer at offsets beyond VLDR's ±1020 bytes: an address add per field.)
// Owners: the oscillator's phase and step (nco.ts), the lock-in's sums (lockin.ts), the
// electrode's centre and amplitude (trainer.ts).
import { MAX_CONTROLS } from "./layout";

const RECORD_BYTES: usize = 24;
const RECORDS = memory.data(MAX_CONTROLS * <i32>RECORD_BYTES, 16);

/** i32: the oscillator's phase, in [0, window). */
export const PHASE_FIELD: usize = 0;
/** i32: the oscillator's phase step per sample (its tone bin, or the probe's). */
export const STEP_FIELD: usize = 4;
/** f32 × 2: the lock-in's Σ v·sin and Σ v·cos over the window. */
export const SUMS_FIELD: usize = 8;
/** f32: the electrode's centre voltage. */
export const CENTRE_FIELD: usize = 16;
/** f32: the electrode's perturbation amplitude. */
export const AMPLITUDE_FIELD: usize = 20;

/** Address of control k's `field`. */
@inline export function recordField(k: i32, field: usize): usize {
  return RECORDS + <usize>k * RECORD_BYTES + field;
}

/** Writes `value`'s bits to `field` (4 bytes) of every record. */
export function fillField(field: usize, value: i32): void {
  for (let k = 0; k < MAX_CONTROLS; k++) store<i32>(recordField(k, field), value);
}
