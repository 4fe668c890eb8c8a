// Checkpoints: the learned state (weights, optimiser moments, the lag in use, counters) as a
// versioned blob closed by a CRC-32 (IEEE 802.3, reflected, polynomial 0xEDB88320). A blob
// that is corrupt, of another version, or saved under other control ranges is refused whole.
import { MAX_CONTROLS, Field, Status, MIN_WORD, MAX_WORD } from "./layout";
import { ACTIVE, configI32, configF32, wordAddress } from "./config";
import { WEIGHTS, MOMENT1, MOMENT2, beta1Power, beta2Power, optimiserRestore } from "./optim";
import { lockinSetLag, lagDelaySamples, lagCornerHz } from "./lockin";
import { STATUS, trainerConfigured, trainerRefresh, trainerSkipCalibration } from "./trainer";

const MAGIC = 0x31454748; // "HGE1" little-endian
const VERSION = 1;
// magic, version, controls, words, ranges fingerprint, updates, epochs, lag delay, lag corner,
// β1^t, β2^t
const HEADER_WORDS = 11;
const MAX_BLOB_WORDS = HEADER_WORDS + 3 * MAX_CONTROLS + 1;
/** The blob: save() writes it here; the host writes one here before load(). */
export const CHECKPOINT = memory.data(MAX_BLOB_WORDS << 2);

/** CRC-32 of `bytes` bytes at `data`, continuing from `crc` (0 to start). */
function crc32(crc: u32, data: usize, bytes: usize): u32 {
  crc = ~crc;
  for (let i: usize = 0; i < bytes; i++) {
    crc ^= load<u8>(data + i);
    for (let bit = 0; bit < 8; bit++) crc = (crc >>> 1) ^ (0xEDB88320 & (0 - (crc & 1)));
  }
  return ~crc;
}

/** Fingerprint of the controls' ranges: a blob loads only where its weights are in range. */
function rangesFingerprint(controls: i32): u32 {
  const bytes = <usize>controls << 2;
  return crc32(crc32(0, wordAddress(ACTIVE, MIN_WORD, 0), bytes), wordAddress(ACTIVE, MAX_WORD, 0), bytes);
}

@inline function blobWords(controls: i32): i32 { return HEADER_WORDS + 3 * controls + 1; }
@inline function word(i: i32): usize { return CHECKPOINT + (<usize>i << 2); }

/** Writes the blob to CHECKPOINT; returns its length in bytes (0 if not configured). */
export function saveCheckpoint(): i32 {
  if (!trainerConfigured()) return 0;
  const controls = configI32(ACTIVE, Field.ControlCount);
  const words = blobWords(controls);
  store<i32>(word(0), MAGIC);
  store<i32>(word(1), VERSION);
  store<i32>(word(2), controls);
  store<i32>(word(3), words);
  store<u32>(word(4), rangesFingerprint(controls));
  store<i32>(word(5), load<i32>(STATUS + (Status.Updates << 2)));
  store<i32>(word(6), load<i32>(STATUS + (Status.Epochs << 2)));
  store<f32>(word(7), lagDelaySamples);
  store<f32>(word(8), lagCornerHz);
  store<f32>(word(9), beta1Power);
  store<f32>(word(10), beta2Power);
  const bytes = <usize>controls << 2;
  memory.copy(word(HEADER_WORDS), WEIGHTS, bytes);
  memory.copy(word(HEADER_WORDS + controls), MOMENT1, bytes);
  memory.copy(word(HEADER_WORDS + 2 * controls), MOMENT2, bytes);
  store<u32>(word(words - 1), crc32(0, CHECKPOINT, <usize>(words - 1) << 2));
  return words << 2;
}

/** Restores the blob of `bytes` bytes at CHECKPOINT; 0, or Field.Checkpoint if refused
 *  (then nothing changes): corrupt, another version, another number of controls, or saved
 *  under other control ranges. */
export function loadCheckpoint(bytes: i32): i32 {
  if (!trainerConfigured()) return Field.Checkpoint;
  const controls = configI32(ACTIVE, Field.ControlCount);
  const words = blobWords(controls);
  if (bytes != words << 2) return Field.Checkpoint;
  if (load<i32>(word(0)) != MAGIC || load<i32>(word(1)) != VERSION) return Field.Checkpoint;
  if (load<i32>(word(2)) != controls || load<i32>(word(3)) != words) return Field.Checkpoint;
  if (load<u32>(word(words - 1)) != crc32(0, CHECKPOINT, <usize>(words - 1) << 2)) return Field.Checkpoint;
  // a blob that passes the CRC for these ranges was written by save() in them: in range, finite
  if (load<u32>(word(4)) != rangesFingerprint(controls)) return Field.Checkpoint;
  store<i32>(STATUS + (Status.Updates << 2), load<i32>(word(5)));
  store<i32>(STATUS + (Status.Epochs << 2), load<i32>(word(6)));
  lockinSetLag(load<f32>(word(7)), load<f32>(word(8)), configF32(ACTIVE, Field.SampleRateHz));
  optimiserRestore(load<f32>(word(9)), load<f32>(word(10)));
  const bytesPerArray = <usize>controls << 2;
  memory.copy(WEIGHTS, word(HEADER_WORDS), bytesPerArray);
  memory.copy(MOMENT1, word(HEADER_WORDS + controls), bytesPerArray);
  memory.copy(MOMENT2, word(HEADER_WORDS + 2 * controls), bytesPerArray);
  trainerSkipCalibration();
  trainerRefresh();
  return 0;
}
