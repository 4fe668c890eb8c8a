// Checkpoints: the learned state (weights, optimiser moments, the lag in use, counters) as a
// versioned blob closed by a CRC-32 (IEEE 802.3, reflected, polynomial 0xEDB88320). A blob
// that is corrupt, of another version, or for another number of controls is refused whole.
import { MAX_CONTROLS, Field, Status, MIN_WORD, MAX_WORD } from "./layout";
import { ACTIVE, configI32, configF32, wordAddress } from "./config";
import { WEIGHTS, MOMENT1, MOMENT2, beta1Power, beta2Power, optimiserRestore } from "./optim";
import { lockinSetLag, lagDelaySamples, lagCornerHz } from "./lockin";
import { STATUS, trainerConfigured, trainerRefresh, trainerSkipCalibration } from "./trainer";

const MAGIC = 0x31454748; // "HGE1" little-endian
const VERSION = 1;
// magic, version, controls, words, updates, epochs, lag delay, lag corner, β1^t, β2^t
const HEADER_WORDS = 10;
const MAX_BLOB_WORDS = HEADER_WORDS + 3 * MAX_CONTROLS + 1;
/** The blob: save() writes it here; the host writes one here before load(). */
export const CHECKPOINT = memory.data(MAX_BLOB_WORDS << 2);

function crc32(data: usize, bytes: usize): u32 {
  let crc: u32 = 0xFFFFFFFF;
  for (let i: usize = 0; i < bytes; i++) {
    crc ^= load<u8>(data + i);
    for (let bit = 0; bit < 8; bit++) crc = (crc >>> 1) ^ (0xEDB88320 & (0 - (crc & 1)));
  }
  return ~crc;
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
  store<i32>(word(4), load<i32>(STATUS + (Status.Updates << 2)));
  store<i32>(word(5), load<i32>(STATUS + (Status.Epochs << 2)));
  store<f32>(word(6), lagDelaySamples);
  store<f32>(word(7), lagCornerHz);
  store<f32>(word(8), beta1Power);
  store<f32>(word(9), beta2Power);
  const bytes = <usize>controls << 2;
  memory.copy(word(HEADER_WORDS), WEIGHTS, bytes);
  memory.copy(word(HEADER_WORDS + controls), MOMENT1, bytes);
  memory.copy(word(HEADER_WORDS + 2 * controls), MOMENT2, bytes);
  store<u32>(word(words - 1), crc32(CHECKPOINT, <usize>(words - 1) << 2));
  return words << 2;
}

@inline function finite(x: f32): bool { return x - x == 0; }

/** A blob with a good CRC may still come from another configuration: every weight must lie
 *  in the current ranges and every other number must be finite. */
function plausible(controls: i32): bool {
  const delay = load<f32>(word(6)), corner = load<f32>(word(7));
  if (!(delay >= 0 && delay <= 1e6 && corner >= 0 && corner <= 1e9)) return false;
  if (!(load<f32>(word(8)) >= 0 && load<f32>(word(8)) <= 1 && load<f32>(word(9)) >= 0 && load<f32>(word(9)) <= 1)) return false;
  for (let k = 0; k < controls; k++) {
    const w = load<f32>(word(HEADER_WORDS + k));
    if (!(w >= load<f32>(wordAddress(ACTIVE, MIN_WORD, k)) && w <= load<f32>(wordAddress(ACTIVE, MAX_WORD, k)))) return false;
    if (!finite(load<f32>(word(HEADER_WORDS + controls + k))) || !finite(load<f32>(word(HEADER_WORDS + 2 * controls + k)))) return false;
  }
  return true;
}

/** Restores the blob of `bytes` bytes at CHECKPOINT; 0, or Field.Checkpoint if refused
 *  (then nothing changes). */
export function loadCheckpoint(bytes: i32): i32 {
  if (!trainerConfigured()) return Field.Checkpoint;
  const controls = configI32(ACTIVE, Field.ControlCount);
  const words = blobWords(controls);
  if (bytes != words << 2) return Field.Checkpoint;
  if (load<i32>(word(0)) != MAGIC || load<i32>(word(1)) != VERSION) return Field.Checkpoint;
  if (load<i32>(word(2)) != controls || load<i32>(word(3)) != words) return Field.Checkpoint;
  if (load<u32>(word(words - 1)) != crc32(CHECKPOINT, <usize>(words - 1) << 2)) return Field.Checkpoint;
  if (!plausible(controls)) return Field.Checkpoint;
  store<i32>(STATUS + (Status.Updates << 2), load<i32>(word(4)));
  store<i32>(STATUS + (Status.Epochs << 2), load<i32>(word(5)));
  lockinSetLag(load<f32>(word(6)), load<f32>(word(7)), configF32(ACTIVE, Field.SampleRateHz));
  optimiserRestore(load<f32>(word(8)), load<f32>(word(9)));
  const bytesPerArray = <usize>controls << 2;
  memory.copy(WEIGHTS, word(HEADER_WORDS), bytesPerArray);
  memory.copy(MOMENT1, word(HEADER_WORDS + controls), bytesPerArray);
  memory.copy(MOMENT2, word(HEADER_WORDS + 2 * controls), bytesPerArray);
  trainerSkipCalibration();
  trainerRefresh();
  return 0;
}
