// Checkpoints: the learned state (weights, optimiser moments, and the learned scalars of
// STATUS: counters, the lag in use, Adam's β-powers) as a versioned blob closed by a CRC-32
// (IEEE 802.3, reflected, polynomial 0xEDB88320). A blob that is corrupt, of another
// version, or saved under other control ranges, another sample rate (its lag is counted in
// samples) or the other kind of perturbation (tones or codes: only tones have a lag) is
// refused whole and nothing changes.
import { MAX_CONTROLS, Field, Status, MIN_WORD, MAX_WORD, LEARNED_STATUS_WORDS, Perturbation } from "./layout";
import { FULL } from "./features";
import { ACTIVE, wordAddress, controlCount, fieldBound, configI32 } from "./config";
import { LEARNED_ARRAYS } from "./optim";
import { lockinSetLag } from "./lockin";
import { STATUS, statusF32 } from "./status";
import { trainerConfigured, trainerRefresh, trainerSkipCalibration } from "./trainer";

const MAGIC = 0x31454748; // "HGE1" little-endian
const VERSION = 3; // 2: the fingerprint covers the sample rate; 3: and tones or codes
// magic, version, controls, words, fingerprint, then the learned STATUS words
const HEADER_WORDS = 5 + LEARNED_STATUS_WORDS;
const MAX_BLOB_WORDS = HEADER_WORDS + 3 * MAX_CONTROLS + 1;
/** The blob: save() writes it here; the host writes one here before load(). */
export const CHECKPOINT = memory.data(MAX_BLOB_WORDS << 2);
/** The first five words load() expects: the ones save() would write now. */
const EXPECTED = memory.data(20);
const LEARNED = STATUS + (Status.Updates << 2);
/** Where a blob's learned STATUS words and learned arrays start. */
const BLOB_LEARNED = CHECKPOINT + 20;
const BLOB_ARRAYS = BLOB_LEARNED + (LEARNED_STATUS_WORDS << 2);

/** CRC-32 of `bytes` bytes at `data`, continuing from `crc` (0 to start). */
function crc32(crc: u32, data: usize, bytes: usize): u32 {
  crc = ~crc;
  for (let i: usize = 0; i < bytes; i++) {
    crc ^= load<u8>(data + i);
    for (let bit = 0; bit < 8; bit++) crc = (crc >>> 1) ^ (0xEDB88320 & (0 - (crc & 1)));
  }
  return ~crc;
}

/** Writes at `at` the five words that open a blob of the running configuration: magic,
 *  version, controls, length in words, and a fingerprint of whether it perturbs with tones,
 *  the sample rate and the controls' ranges (a blob loads only where its lag means the same
 *  delay and its weights are in range: codes demodulate without a lag, and theirs is none, so
 *  a tones blob would switch one on for codes and a codes blob would take a tones run's off).
 *  Returns the length in words. */
function writeHeader(at: usize): i32 {
  const bytes = <usize>controlCount << 2;
  const words = HEADER_WORDS + 3 * controlCount + 1;
  store<i32>(at, MAGIC);
  store<i32>(at, VERSION, 4);
  store<i32>(at, controlCount, 8);
  store<i32>(at, words, 12);
  const codes = FULL && configI32(ACTIVE, Field.Perturbation) != Perturbation.Sinusoid;
  const rate = crc32(<u32>codes, wordAddress(ACTIVE, Field.SampleRateHz, 0), 4);
  store<u32>(at, crc32(crc32(rate, wordAddress(ACTIVE, MIN_WORD, 0), bytes), wordAddress(ACTIVE, MAX_WORD, 0), bytes), 16);
  return words;
}

/** Copies the learned state into the blob after its header (`toBlob`) or back: the learned
 *  STATUS words, then the `controls` first words of each learned array. */
function transfer(toBlob: bool): void {
  let blob = BLOB_LEARNED;
  for (let part = -1; part < 3; part++) {
    const state = part < 0 ? LEARNED : LEARNED_ARRAYS + (<usize>part * MAX_CONTROLS << 2);
    const bytes: usize = part < 0 ? <usize>LEARNED_STATUS_WORDS << 2 : <usize>controlCount << 2;
    memory.copy(toBlob ? blob : state, toBlob ? state : blob, bytes);
    blob += bytes;
  }
}

/** Writes the blob to CHECKPOINT; returns its length in bytes (0 if not configured). */
export function saveCheckpoint(): i32 {
  if (!trainerConfigured()) return 0;
  const words = writeHeader(CHECKPOINT);
  transfer(true);
  const crcAt = CHECKPOINT + (<usize>(words - 1) << 2);
  store<u32>(crcAt, crc32(0, CHECKPOINT, crcAt - CHECKPOINT));
  return words << 2;
}

@inline function blobF32(word: i32): f32 { return load<f32>(BLOB_LEARNED + (<usize>(word - Status.Updates) << 2)); }
@inline function within(x: f32, low: f32, high: f32): bool { return x >= low && x <= high; } // false for NaN

/** The blob's values are ones a run of this configuration can reach: 0 <= updates <= epochs,
 *  a lag inside its fields' bounds (config.ts), β-powers in [0, 1], each weight inside its
 *  control's range, moments finite (the second >= 0). */
function contentsValid(): bool {
  // counts from 0 to below 2^30: decades of updates at any sample rate, and none of them can
  // wrap i32 (SPSA's gains count on them) however long the run goes on from there
  const updates = load<u32>(BLOB_LEARNED), epochs = load<u32>(BLOB_LEARNED, 4);
  if (epochs >= 1 << 30 || updates > epochs) return false;
  if (!within(blobF32(Status.LagDelaySamples), fieldBound(Field.LagDelaySamples, false), fieldBound(Field.LagDelaySamples, true))) return false;
  if (!within(blobF32(Status.LagCornerHz), fieldBound(Field.LagCornerHz, false), fieldBound(Field.LagCornerHz, true))) return false;
  if (!within(blobF32(Status.Beta1Power), 0, 1) || !within(blobF32(Status.Beta2Power), 0, 1)) return false;
  const bytes = <usize>controlCount << 2;
  for (let k = 0; k < controlCount; k++) {
    const at = BLOB_ARRAYS + (<usize>k << 2);
    const weight = load<f32>(at);
    if (!within(weight, load<f32>(wordAddress(ACTIVE, MIN_WORD, k)), load<f32>(wordAddress(ACTIVE, MAX_WORD, k)))) return false;
    if (!isFinite(load<f32>(at + bytes)) || !within(load<f32>(at + 2 * bytes), 0, f32.MAX_VALUE)) return false;
  }
  return true;
}

/** Restores the blob of `bytes` bytes at CHECKPOINT; 0, or Field.Checkpoint if refused. */
export function loadCheckpoint(bytes: i32): i32 {
  if (!trainerConfigured()) return Field.Checkpoint;
  const words = writeHeader(EXPECTED);
  if (bytes != words << 2) return Field.Checkpoint;
  const crcAt = CHECKPOINT + (<usize>(words - 1) << 2);
  if (load<u32>(crcAt) != crc32(0, CHECKPOINT, crcAt - CHECKPOINT)) return Field.Checkpoint;
  // the header must be the one save() writes for this configuration
  for (let at: usize = 0; at < 20; at += 4) if (load<i32>(CHECKPOINT + at) != load<i32>(EXPECTED + at)) return Field.Checkpoint;
  if (!contentsValid()) return Field.Checkpoint;
  transfer(false);
  lockinSetLag(statusF32(Status.LagDelaySamples), statusF32(Status.LagCornerHz));
  trainerSkipCalibration();
  trainerRefresh();
  return 0;
}
