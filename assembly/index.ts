// The module's whole surface, a C ABI: scalar functions, and immutable globals holding the
// addresses of the buffers the host reads and writes. The layout of CONFIG and STATUS is in
// layout.ts. Nothing is allocated: every buffer is static, sized by the limits in layout.ts.
import { MAX_CONTROLS, MAX_ELECTRODES, MAX_BLOCK_SAMPLES, Field, ToneMode, Status, TONE_BIN_WORD } from "./layout";
import { CONFIG, ACTIVE, validate, activate, errorIndex, configI32, configF32, wordAddress } from "./config";
import { planTones, planMinWindow, findCollisions } from "./plan";
import { ELECTRODES, STATUS, TONE_BINS, trainerStart, step } from "./trainer";

export { CONFIG } from "./config";
export { STATUS, ELECTRODES, CASE_OUTPUTS, LOSS_SLOPES, JACOBIAN, GRADIENT, TONE_BINS, step } from "./trainer";
export { WEIGHTS } from "./optim";
export { CHECKPOINT, saveCheckpoint as save, loadCheckpoint as load } from "./checkpoint";

/** process(): readings in, one per sample ... */
export const READINGS = memory.data(MAX_BLOCK_SAMPLES << 2);
/** ... electrode voltages out, MAX_ELECTRODES words per sample. */
export const BLOCK = memory.data(MAX_BLOCK_SAMPLES * MAX_ELECTRODES * 4);
/** For each tone: bit 1 = hit by a second-order product of other tones, bit 2 = third-order. */
export const TONE_HITS = memory.data(MAX_CONTROLS << 2);
const PLANNED_BINS = memory.data(MAX_CONTROLS << 2);

/** Validates the block at CONFIG and, if it is good, starts it: 0, or the id of the first bad
 *  field (STATUS.ErrorIndex names the element of an array field; after Field.Plan,
 *  STATUS.PlanMinWindow is the shortest window that would plan). On error nothing changes. */
export function configure(): i32 {
  const error = validate();
  if (error != 0) return refuse(error, errorIndex);
  const controls = configI32(CONFIG, Field.ControlCount);
  const guard = configI32(CONFIG, Field.GuardBins);
  let bins = wordAddress(CONFIG, TONE_BIN_WORD, 0);
  if (configI32(CONFIG, Field.ToneMode) == ToneMode.Plan) {
    const planned = planTones(controls, configI32(CONFIG, Field.WindowSamples), configF32(CONFIG, Field.SampleRateHz),
      configF32(CONFIG, Field.BandLowHz), configF32(CONFIG, Field.BandHighHz), guard, PLANNED_BINS);
    if (planned != 0) {
      store<i32>(STATUS + (Status.PlanMinWindow << 2), planMinWindow);
      return refuse(Field.Plan, 0);
    }
    bins = PLANNED_BINS;
  }
  activate();
  trainerStart(bins);
  store<i32>(STATUS + (Status.HitTones << 2), findCollisions(controls, TONE_BINS, guard, TONE_HITS));
  return 0;
}

function refuse(field: i32, index: i32): i32 {
  store<i32>(STATUS + (Status.ErrorIndex << 2), index);
  return field;
}

/** Runs n samples (1..MAX_BLOCK_SAMPLES) from READINGS, writing each sample's electrode
 *  voltages to BLOCK; returns the events of all of them or'ed, or −Field.Block for a bad n. */
export function process(n: i32): i32 {
  if (n < 1 || n > MAX_BLOCK_SAMPLES) return -Field.Block;
  let events = 0;
  for (let i = 0; i < n; i++) {
    events |= step(load<f32>(READINGS + (<usize>i << 2)));
    memory.copy(BLOCK + (<usize>i * MAX_ELECTRODES << 2), ELECTRODES, MAX_ELECTRODES << 2);
  }
  return events;
}

/** End of the static buffers: the module never touches memory above this. */
export const MEMORY_USED: usize = __heap_base;
