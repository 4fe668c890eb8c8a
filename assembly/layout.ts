// The configuration block's layout: the one place both the module (AssemblyScript) and the
// host (TypeScript) read it from. Plain syntax only, so both compilers accept this file.
// The block is an array of 32-bit words at the module's CONFIG address; a field's id is its
// word index, and configure() returns that id (0 = accepted) when the field is invalid.

/** Compile-time limits: every buffer in the module is sized by these. */
export const MAX_CONTROLS = 128;
export const MAX_INPUTS = 8;
export const MAX_CASES = 16;
export const MAX_ELECTRODES = MAX_CONTROLS + MAX_INPUTS;
/** The longest lock-in window, samples (sums of 2^20 readings below 1e12 stay finite in f32). */
export const MAX_WINDOW_SAMPLES = 1 << 20;
/** The longest window with a sine table of its own (nco.ts: SINES, two f32 per phase, on the
 *  per-sample fast path), and the longest the core build takes (features.ts). 512 samples (4 KiB,
 *  what the 128-control build's 48 KiB of board RAM leaves room for; the defaults, 200 samples
 *  and 500 for MSE, fit). A wider build (scripts/build.mjs --max-controls) gets 6 per control:
 *  an order-2 plan of all its tones fits (one octave of bins [N, 2N), whose sums fold clear of
 *  it in 6N samples), so 256 tones run on the fast path too. */
export const SINES_MAX_WINDOW = MAX_CONTROLS > 128 ? 6 * MAX_CONTROLS : 512;
/** Every electrode's range lies within ±this many volts (config.ts validate(); the host's
 *  moduleMisfit asks it of a device before offering the module's methods). */
export const MAX_ABS_VOLTS = 1000;

export const CONFIG_VERSION = 1;
// Every header field must hold a valid value, whether the configuration uses it or not.

/** Header fields: the word index of each, also its error code. Types in the comments. */
export enum Field {
  None = 0,
  Version = 1, //            i32  must equal CONFIG_VERSION
  SampleRateHz = 2, //       f32  samples per second, 1 .. 1e9
  WindowSamples = 3, //      i32  samples per lock-in window (every tone whole periods)
  SettleSamples = 4, //      i32  samples discarded after each change of input case
  ControlCount = 5, //       i32  1..MAX_CONTROLS
  InputCount = 6, //         i32  0..MAX_INPUTS
  CaseCount = 7, //          i32  1..MAX_CASES
  ToneMode = 8, //           i32  ToneMode
  BandLowHz = 9, //          f32  usable band of the device, for the planner
  BandHighHz = 10, //        f32
  GuardBins = 11, //         i32  planner: minimum distance (bins) between a tone and any product
  Loss = 12, //              i32  Loss
  MarginScale = 13, //       f32  corrsig: sigmoid(separation / MarginScale)
  Optimiser = 14, //         i32  Optimiser
  LearningRate = 15, //      f32
  Beta1 = 16, //             f32  momentum coefficient, or Adam's first-moment decay
  Beta2 = 17, //             f32  Adam's second-moment decay
  Epsilon = 18, //           f32  Adam's denominator floor
  Perturbation = 19, //      i32  Perturbation
  Gradient = 20, //          i32  Gradient
  Demodulation = 21, //      i32  Demodulation
  LagDelaySamples = 22, //   f32  measurement chain: delay (samples, may be fractional)
  LagCornerHz = 23, //       f32  measurement chain: first-order corner (0 = none)
  CalibrationEpochs = 24, // i32  >0: fit the lag from this many epochs first (sinusoids)
  StreamOrder = 25, //       i32  streaming lock-in: cascaded first-order low-passes, 1..4
  StreamTauSamples = 26, //  f32  streaming lock-in: each low-pass's time constant
  ReadingMin = 27, //        f32  readings at or below are saturated (window discarded)
  ReadingMax = 28, //        f32  readings at or above are saturated
  ChipSamples = 29, //       i32  code perturbations: samples per chip
  Seed = 30, //              i32  code perturbations: random seed, 1..2^24
  SpsaStability = 31, //     f32  SPSA: gains a/(k+1+A)^0.602 and c/(k+1)^0.101; this is A
  SlewVPerS = 32, //         f32  fastest change of any electrode's voltage, volts per second
  PlanOrder = 33, //         i32  planner: 3 = free of second- and third-order products, 2 = second only
  // words 34 .. HEADER_WORDS - 1 are reserved: write 0
  // per-control arrays, MAX_CONTROLS words each; the error index names the control
  ToneBin = 40, //           i32  cycles per window (ToneMode.Explicit); the plan is written here otherwise
  AmplitudeV = 41, //        f32  perturbation amplitude (peak), 0 < a <= (max-min)/2
  MinV = 42, //              f32  safe range of the electrode
  MaxV = 43, //              f32
  InitialV = 44, //          f32  starting control voltage, inside the range
  Trainable = 45, //         i32  1 = updated, 0 = held (still perturbed and measured)
  // per-input arrays, MAX_INPUTS words each
  InputMinV = 46, //         f32
  InputMaxV = 47, //         f32
  // per-case arrays
  CaseInputV = 48, //        f32  MAX_CASES x MAX_INPUTS, case-major
  Target = 49, //            f32  MAX_CASES: target output (MSE) or class 0/1 (corrsig, fisher)
  // codes that are not fields of the block
  Plan = 60, //              the tone planner found no plan (see PLAN_MIN_WINDOW in the status)
  Checkpoint = 61, //        load(): the blob is corrupt, foreign, for another configuration, or holds
  //                         values no run can reach (non-finite, out of range, inconsistent)
}

export enum ToneMode { Plan = 0, Explicit = 1 }
export enum Loss { MSE = 0, Corrsig = 1, Fisher = 2 }
export enum Optimiser { SGD = 0, Momentum = 1, Adam = 2 }
/** Sinusoid: one planned tone per control (homodyne). The others are ±1 chips (perturb.ts). */
export enum Perturbation { Sinusoid = 0, Sequential = 1, SPSA = 2, Random = 3, Walsh = 4 }
export const PERTURBATION_KINDS = 5;

/** Chips in one period of a code for `count` controls: a code window holds whole periods,
 *  WindowSamples % (ChipSamples × period) == 0. Sequential: +a then −a per control; SPSA: a
 *  vector then its negation; Walsh: the next power of two above `count` (rows 1..count of a
 *  Hadamard matrix); random codes and tones: 1. (Typed for both compilers: the host declares
 *  i32 as number in host/assemblyscript.d.ts.) */
export function codePeriod(perturbation: i32, count: i32): i32 {
  if (perturbation == Perturbation.Sequential) return 2 * count;
  if (perturbation == Perturbation.SPSA) return 2;
  if (perturbation != Perturbation.Walsh) return 1;
  let period: i32 = 1;
  while (period <= count) period <<= 1;
  return period;
}
/** Jacobian: one Jacobian row per case, loss chain-ruled (any loss).
 *  LossSignal: demodulate the per-sample loss directly, MGD style (MSE only).
 *  Streaming: one case (CaseCount 1), no windows: the loss signal through cascaded
 *  low-passes, one update every WindowSamples samples (then SettleSamples of rest). */
export enum Gradient { Jacobian = 0, LossSignal = 1, Streaming = 2 }
/** Projection onto the calibrated lag (correct), or the published magnitude with a
 *  sign from |phase| < 90 degrees (kept to reproduce the paper). */
export enum Demodulation { Projection = 0, MagnitudeSign = 1 }

export const HEADER_WORDS = 40;
/** Word offset of each array inside the block. */
export const TONE_BIN_WORD = HEADER_WORDS;
export const AMPLITUDE_WORD = TONE_BIN_WORD + MAX_CONTROLS;
export const MIN_WORD = AMPLITUDE_WORD + MAX_CONTROLS;
export const MAX_WORD = MIN_WORD + MAX_CONTROLS;
export const INITIAL_WORD = MAX_WORD + MAX_CONTROLS;
export const TRAINABLE_WORD = INITIAL_WORD + MAX_CONTROLS;
export const INPUT_MIN_WORD = TRAINABLE_WORD + MAX_CONTROLS;
export const INPUT_MAX_WORD = INPUT_MIN_WORD + MAX_INPUTS;
export const CASE_INPUT_WORD = INPUT_MAX_WORD + MAX_INPUTS;
export const TARGET_WORD = CASE_INPUT_WORD + MAX_CASES * MAX_INPUTS;
export const CONFIG_WORDS = TARGET_WORD + MAX_CASES;

/** step() / process() event flags. */
export enum Event {
  WindowDone = 1, //      a window was acquired and demodulated
  UpdateDone = 2, //      the controls moved
  EpochDone = 4, //       all input cases were measured once
  WindowDiscarded = 8, // a bad reading (NaN, Inf, saturated) spoiled the window: repeated
  Fault = 16, //          not configured, or 16 windows in a row discarded
  Calibrated = 32, //     the chain's lag was fitted
  Parked = 64, //         park(): every electrode has reached its parking voltage
  LagUnfitted = 128, //   the calibration ended with the tones' phases within the noise: the configured lag stays
}

/** The status block: words at the module's STATUS address, read by the host. The learned
 *  scalars (Updates .. Beta2Power) are contiguous: a checkpoint carries them as one block. */
export enum Status {
  Samples = 0, //            u64 (two words, little-endian): samples since configure
  Windows = 2, //            i32
  DiscardedWindows = 3, //   i32
  Updates = 4, //            i32  learned ...
  Epochs = 5, //             i32
  LagDelaySamples = 6, //    f32  lag in use (configured or calibrated)
  LagCornerHz = 7, //        f32
  Beta1Power = 8, //         f32  Adam's β1^t and β2^t
  Beta2Power = 9, //         f32  ... learned
  Loss = 10, //              f32  loss of the last epoch
  ErrorIndex = 11, //        i32  element of the array field named by the last error
  PlanMinWindow = 12, //     i32  after a Plan error: the shortest window that would plan
  Faults = 13, //            i32  consecutive discarded windows
  Case = 14, //              i32  input case being measured
  Configured = 15, //        i32  1 once a configuration is running
  SkippedUpdates = 16, //    i32  updates refused because the gradient was not finite
  HitTones = 17, //          i32  explicit tones hit by an intermodulation product, folded ones included
  OptimiserResets = 18, //   i32  per-control optimiser states found non-finite (overflow) and reset
  ThirdOrderAmplitude = 19, // f32  after calibration: amplitude of the signal at a third-order product's
  //                              bin (distortion and noise), signal units; NaN if not measured
  NoiseAmplitude = 20, //    f32  after calibration: the amplitude noise alone shows at a bin
}
export const STATUS_WORDS = 21;
export const LEARNED_STATUS_WORDS = 6;
