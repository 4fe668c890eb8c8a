// The module's whole surface, a C ABI: scalar functions, and immutable globals holding the
// addresses of the buffers the host reads and writes. The layout of CONFIG and STATUS is in
// layout.ts. Nothing is allocated: every buffer is static, sized by the limits in layout.ts.
// Blocks of samples (DMA) are a loop over step() in the caller: under wasm2c that costs the
// same as a loop inside the module, and saves its flash and a block buffer of RAM.
import { MAX_CONTROLS, Field, ToneMode, Status, Perturbation, TONE_BIN_WORD } from "./layout";
import { CONFIG, validate, validateSlew, activate, errorIndex, configI32, configF32, wordAddress } from "./config";
import { planTones, planMinWindow, findCollisions, PROBED_ORDER_2 } from "./plan";
import { trainerStart } from "./trainer";
import { TONE_BINS } from "./nco";
import { STATUS } from "./status";
import { FULL } from "./features";

export { CONFIG } from "./config";
export { STATUS } from "./status";
export { ELECTRODES, CASE_OUTPUTS, LOSS_SLOPES, JACOBIAN, GRADIENT, PARK, step, trainerPark as park, trainerHold as hold } from "./trainer";
export { TONE_BINS } from "./nco";
export { WEIGHTS } from "./optim";
export { CHECKPOINT, saveCheckpoint as save, loadCheckpoint as load } from "./checkpoint";

/** For each tone: bit 1 = hit by a second-order product of other tones, bit 2 = third-order,
 *  products folded about Nyquist and DC included. */
export const TONE_HITS = memory.data(MAX_CONTROLS << 2);

/** Validates the block at CONFIG and, if it is good, starts it: 0, or the id of the first bad
 *  field (STATUS.ErrorIndex names the element of an array field; after Field.Plan,
 *  STATUS.PlanMinWindow is the shortest window that would plan). On error nothing changes. */
export function configure(): i32 {
  const error = validate();
  if (error != 0) return refuse(error, errorIndex);
  const controls = configI32(CONFIG, Field.ControlCount);
  const window = configI32(CONFIG, Field.WindowSamples);
  const guard = configI32(CONFIG, Field.GuardBins);
  const tones = configI32(CONFIG, Field.Perturbation) == Perturbation.Sinusoid;
  const planned = tones && configI32(CONFIG, Field.ToneMode) == ToneMode.Plan;
  let order = configI32(CONFIG, Field.PlanOrder); // (the core's is 3)
  if (FULL && order == 2 && configI32(CONFIG, Field.CalibrationEpochs) > 0) order = PROBED_ORDER_2;
  // the plan goes into the block's ToneBin words (layout.ts), which activate() copies
  if (planned && planTones(controls, window, configF32(CONFIG, Field.SampleRateHz), configF32(CONFIG, Field.BandLowHz),
    configF32(CONFIG, Field.BandHighHz), guard, order, wordAddress(CONFIG, TONE_BIN_WORD, 0)) != 0) {
    store<i32>(STATUS + (Status.PlanMinWindow << 2), planMinWindow);
    return refuse(Field.Plan, 0);
  }
  const slew = validateSlew();
  if (slew != 0) return refuse(slew, errorIndex);
  activate();
  trainerStart();
  // Only given tones are checked, in controls³·log(controls) steps (0.12 s for 128 in V8):
  // a plan is collision-free up to its order by construction (plan.ts), codes have no tones.
  if (FULL) store<i32>(STATUS + (Status.HitTones << 2), findCollisions(controls, window, TONE_BINS, guard, TONE_HITS, tones && !planned));
  return 0;
}

function refuse(field: i32, index: i32): i32 {
  store<i32>(STATUS + (Status.ErrorIndex << 2), index);
  return field;
}

/** End of the static buffers: the module never touches memory above this. */
export const MEMORY_USED: usize = __heap_base;
