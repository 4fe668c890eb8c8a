// Checkpoints: the learned state (weights, optimiser moments, and the learned scalars of
// STATUS: counters, the lag in use, Adam's β-powers) as a versioned blob closed by a CRC-32
// (IEEE 802.3, reflected, polynomial 0xEDB88320). A blob that is corrupt, of another
// version, or saved under other control ranges is refused whole and nothing changes.
import { MAX_CONTROLS, Field, Status, MIN_WORD, MAX_WORD, LEARNED_STATUS_WORDS } from "./layout";
import { ACTIVE, configI32, configF32, wordAddress } from "./config";
import { WEIGHTS, MOMENT1, MOMENT2 } from "./optim";
import { lockinSetLag } from "./lockin";
import { STATUS, statusF32 } from "./status";
import { trainerConfigured, trainerRefresh, trainerSkipCalibration } from "./trainer";

const MAGIC = 0x31454748; // "HGE1" little-endian
const VERSION = 1;
// magic, version, controls, words, ranges fingerprint, then the learned STATUS words
const HEADER_WORDS = 5 + LEARNED_STATUS_WORDS;
const MAX_BLOB_WORDS = HEADER_WORDS + 3 * MAX_CONTROLS + 1;
/** The blob: save() writes it here; the host writes one here before load(). */
export const CHECKPOINT = memory.data(MAX_BLOB_WORDS << 2);
const LEARNED = STATUS + (Status.Updates << 2);
const ARRAYS = CHECKPOINT + (HEADER_WORDS << 2);

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

/** Writes the blob to CHECKPOINT; returns its length in bytes (0 if not configured). */
export function saveCheckpoint(): i32 {
  if (!trainerConfigured()) return 0;
  const controls = configI32(ACTIVE, Field.ControlCount);
  const bytes = <usize>controls << 2;
  memory.copy(CHECKPOINT + 20, LEARNED, LEARNED_STATUS_WORDS << 2);
  memory.copy(ARRAYS, WEIGHTS, bytes);
  memory.copy(ARRAYS + bytes, MOMENT1, bytes);
  memory.copy(ARRAYS + 2 * bytes, MOMENT2, bytes);
  const words = HEADER_WORDS + 3 * controls + 1;
  store<i32>(CHECKPOINT, MAGIC);
  store<i32>(CHECKPOINT, VERSION, 4);
  store<i32>(CHECKPOINT, controls, 8);
  store<i32>(CHECKPOINT, words, 12);
  store<u32>(CHECKPOINT, rangesFingerprint(controls), 16);
  const crcAt = CHECKPOINT + (<usize>(words - 1) << 2);
  store<u32>(crcAt, crc32(0, CHECKPOINT, crcAt - CHECKPOINT));
  return words << 2;
}

/** Restores the blob of `bytes` bytes at CHECKPOINT; 0, or Field.Checkpoint if refused. */
export function loadCheckpoint(bytes: i32): i32 {
  if (!trainerConfigured()) return Field.Checkpoint;
  const controls = configI32(ACTIVE, Field.ControlCount);
  const words = HEADER_WORDS + 3 * controls + 1;
  if (bytes != words << 2) return Field.Checkpoint;
  const crcAt = CHECKPOINT + (<usize>(words - 1) << 2);
  if (load<u32>(crcAt) != crc32(0, CHECKPOINT, crcAt - CHECKPOINT)) return Field.Checkpoint;
  // the header must be the one save() writes for this configuration
  if (load<i32>(CHECKPOINT) != MAGIC || load<i32>(CHECKPOINT, 4) != VERSION || load<i32>(CHECKPOINT, 8) != controls ||
    load<i32>(CHECKPOINT, 12) != words || load<u32>(CHECKPOINT, 16) != rangesFingerprint(controls)) return Field.Checkpoint;
  const arrayBytes = <usize>controls << 2;
  memory.copy(LEARNED, CHECKPOINT + 20, LEARNED_STATUS_WORDS << 2);
  memory.copy(WEIGHTS, ARRAYS, arrayBytes);
  memory.copy(MOMENT1, ARRAYS + arrayBytes, arrayBytes);
  memory.copy(MOMENT2, ARRAYS + 2 * arrayBytes, arrayBytes);
  lockinSetLag(statusF32(Status.LagDelaySamples), statusF32(Status.LagCornerHz), configF32(ACTIVE, Field.SampleRateHz));
  trainerSkipCalibration();
  trainerRefresh();
  return 0;
}
