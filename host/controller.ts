// Typed wrapper over the module's exports: writes the configuration block, runs samples,
// reads the status and the learned state. Names mirror the module's (assembly/layout.ts);
// a refused configuration or checkpoint becomes a readable error naming the field.
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import * as L from "../assembly/layout.ts";
import { defaultOf, boundsText, FIELDS, type FieldName } from "./config-fields.ts";

export const RELEASE_WASM = fileURLToPath(new URL("../build/hge.wasm", import.meta.url));
/** The tones-only core build (scripts/build.mjs, assembly/features.ts): the same layout. */
export const CORE_WASM = fileURLToPath(new URL("../build/hge-core.wasm", import.meta.url));
const { Field, Status } = L;
/** The block's limits and offsets: assembly/layout.ts, or a wider build's copy (host/variant.ts). */
export type Layout = typeof L;

export type LossName = "mse" | "corrsig" | "fisher";
export type OptimiserName = "sgd" | "momentum" | "adam";
export type GradientName = "jacobian" | "loss-signal" | "streaming";
export type DemodulationName = "projection" | "magnitude-sign";
export type PerturbationName = "sinusoid" | "sequential" | "spsa" | "random" | "walsh";

export interface ControlConfig {
  amplitudeV: number;
  minV: number;
  maxV: number;
  initialV: number;
  trainable?: boolean; // default true
  toneBin?: number; //   explicit tones only
}

export interface ControllerConfig {
  sampleRateHz: number;
  windowSamples: number;
  settleSamples: number;
  /** Planned tones inside [bandLowHz, bandHighHz], or explicit bins per control. */
  tones: { plan: { bandLowHz: number; bandHighHz: number } } | { explicit: true };
  guardBins?: number;
  /** Planned tones: free of products up to this order, 2 or 3 (Field.PlanOrder). */
  planOrder?: number;
  controls: ControlConfig[];
  inputs: { minV: number; maxV: number }[];
  cases: { inputsV: number[]; target: number }[];
  loss: LossName;
  marginScale?: number;
  optimiser: OptimiserName;
  learningRate: number;
  beta1?: number;
  beta2?: number;
  epsilon?: number;
  gradient?: GradientName;
  /** Sinusoids (default) or a ±1 code: sequential differences, SPSA, random (CDMA), Walsh. */
  perturbation?: PerturbationName;
  demodulation?: DemodulationName;
  lag?: { delaySamples: number; cornerHz: number };
  /** Epochs fitting the chain's lag before training (Field.CalibrationEpochs). */
  calibrationEpochs?: number;
  /** Fastest change of any electrode's voltage, V/s (default: host/config-fields.ts). */
  slewVPerS?: number;
  stream?: { order: number; tauSamples: number };
  /** Readings at or beyond these are saturated (the window is discarded). */
  reading: { min: number; max: number };
  /** Code perturbations: samples per chip, and the seed of random codes (1..2^24). */
  chipSamples?: number;
  /** Spall's stability constant A of the SPSA gain a/(k+1+A)^0.602. */
  spsaStability?: number;
  seed?: number;
}

/** Whether `config` perturbs with sinusoids (tones, a lag, a spectrum), not codes. */
export const perturbsWithTones = (config: Pick<ControllerConfig, "perturbation">) => (config.perturbation ?? "sinusoid") === "sinusoid";

const lossCode: Record<LossName, number> = { mse: L.Loss.MSE, corrsig: L.Loss.Corrsig, fisher: L.Loss.Fisher };
/** The update rules by their code (L.Optimiser). */
export const OPTIMISERS: readonly OptimiserName[] = ["sgd", "momentum", "adam"];
const optimiserCode = Object.fromEntries(OPTIMISERS.map((name, code) => [name, code])) as Record<OptimiserName, number>;
const gradientCode: Record<GradientName, number> = { jacobian: L.Gradient.Jacobian, "loss-signal": L.Gradient.LossSignal, streaming: L.Gradient.Streaming };
const perturbationCode: Record<PerturbationName, number> = { sinusoid: L.Perturbation.Sinusoid, sequential: L.Perturbation.Sequential, spsa: L.Perturbation.SPSA, random: L.Perturbation.Random, walsh: L.Perturbation.Walsh };
const demodulationCode: Record<DemodulationName, number> = { projection: L.Demodulation.Projection, "magnitude-sign": L.Demodulation.MagnitudeSign };

/** The status block's words (as i32 and as f32 views of the same words) as named values: the
 *  Node module's STATUS, or a board's telemetry (boards/link.ts). */
export function statusFromWords(i: Int32Array, f: Float32Array): ControllerStatus {
  return {
    samples: (i[Status.Samples] >>> 0) + (i[Status.Samples + 1] >>> 0) * 2 ** 32,
    windows: i[Status.Windows],
    discardedWindows: i[Status.DiscardedWindows],
    updates: i[Status.Updates],
    epochs: i[Status.Epochs],
    loss: f[Status.Loss],
    lagDelaySamples: f[Status.LagDelaySamples],
    lagCornerHz: f[Status.LagCornerHz],
    consecutiveDiscards: i[Status.Faults],
    case: i[Status.Case],
    configured: i[Status.Configured] === 1,
    skippedUpdates: i[Status.SkippedUpdates],
    hitTones: i[Status.HitTones],
    optimiserResets: i[Status.OptimiserResets],
    thirdOrderAmplitude: f[Status.ThirdOrderAmplitude],
    noiseAmplitude: f[Status.NoiseAmplitude],
  };
}

/** Each array field's first word in the block (the layout constant that holds it). */
export const ARRAY_FIRST_WORD = {
  ToneBin: "TONE_BIN_WORD", AmplitudeV: "AMPLITUDE_WORD", MinV: "MIN_WORD", MaxV: "MAX_WORD", InitialV: "INITIAL_WORD",
  Trainable: "TRAINABLE_WORD", InputMinV: "INPUT_MIN_WORD", InputMaxV: "INPUT_MAX_WORD", CaseInputV: "CASE_INPUT_WORD", Target: "TARGET_WORD",
} as const satisfies Record<string, keyof Layout>;
type ArrayFieldName = keyof typeof ARRAY_FIRST_WORD;

/** The module refused something; `field` is the name in assembly/layout.ts. */
export class ControllerError extends Error {
  /** `outOfBounds`: the value lies outside the field's bounds (host/config-fields.ts), rather
   *  than breaking a rule with the rest of the configuration or the build. */
  constructor(readonly code: number, readonly field: string, readonly index: number, message: string, readonly outOfBounds = false) {
    super(message);
    this.name = "ControllerError";
  }
}

export interface ControllerStatus {
  samples: number;
  windows: number;
  discardedWindows: number;
  updates: number;
  epochs: number;
  loss: number;
  lagDelaySamples: number;
  lagCornerHz: number;
  consecutiveDiscards: number;
  case: number;
  configured: boolean;
  skippedUpdates: number;
  hitTones: number;
  optimiserResets: number;
  /** After calibration (sinusoids, 3 tones or more): the amplitude at a bin holding a third-order
   *  product of two tones and no tone or second-order product, in reading units (distortion and
   *  noise), and the amplitude noise alone shows at a bin; NaN before or without a measurement. */
  thirdOrderAmplitude: number;
  noiseAmplitude: number;
}

/** The host's rule for PlanOrder: 2 (third-order products may land on tones) when the power
 *  calibration measured at the probe's bin is within what noise alone gives, 3 otherwise and
 *  without a measurement. Over w windows the power at the probe's bin, distortion D plus noise
 *  N, is N·χ²(2w)/(2w) for D = 0 (standard deviation N/√w): order 2 while it stays under 2N
 *  (D ≤ N) plus three such deviations, so that noise alone keeps order 2 about 99% of the time
 *  (measured on the resistor network: order 3 in 0–2% of noise seeds, the bench's
 *  `fidelity.nN.TT.multitoneOrder2.probe.order3Fraction`). What it lets through is more than
 *  "no distortion above the noise": with the CLI's 2 windows the threshold is 4.1 N², and the
 *  probe's bin collects about N²/4 products where a middle tone collects up to about 3N²/8.
 *  Measured on the cross-cubic device (`npx tsx scripts/plan-order-trigger.ts 128 4096 30
 *  0.0003,0.0005,0.0007,0.001,0.0013,0.0016`, and 32 4096 / 8 8192): order 2 is kept in half
 *  the seeds until order 2's error is about 2.9× the tone bound at 128 controls (2.7× at 32,
 *  2.3× at 8 in 8192 samples), and in ≥ 90% of them up to about 1.8× (1.6×, 1.5×): well past
 *  the 1.2 target. `calibrationWindows`: epochs × cases. */
export function planOrderFor(status: Pick<ControllerStatus, "thirdOrderAmplitude" | "noiseAmplitude">, calibrationWindows: number): 2 | 3 {
  const noisePower = status.noiseAmplitude ** 2;
  return status.thirdOrderAmplitude ** 2 < noisePower * (2 + 3 / Math.sqrt(calibrationWindows)) ? 2 : 3; // false for NaN
}

type Exports = {
  memory: WebAssembly.Memory;
  configure(): number;
  step(reading: number): number;
  save(): number;
  load(bytes: number): number;
  park(): void;
  hold(on: number): void;
} & Record<"CONFIG" | "STATUS" | "ELECTRODES" | "PARK" | "CASE_OUTPUTS" | "LOSS_SLOPES" | "JACOBIAN" | "GRADIENT" | "TONE_BINS" | "TONE_HITS" | "WEIGHTS" | "CHECKPOINT" | "MEMORY_USED", WebAssembly.Global>;

let compiled: WebAssembly.Module | undefined;

/** A module driven with the layout of another MAX_CONTROLS: every array of the block would land
 *  on the wrong words (a wider build needs its copy of the layout, host/variant.ts). */
export class LayoutMismatch extends Error {
  constructor(readonly moduleMaxControls: number | null, readonly layoutMaxControls: number) {
    super(moduleMaxControls === null
      ? `the module refuses a version-${L.CONFIG_VERSION} configuration header: it is not a build of this hge (assembly/layout.ts)`
      : `the module was built for ${moduleMaxControls} controls (MAX_CONTROLS) and is driven with the layout for ${layoutMaxControls}: a wider build takes its own copy of the layout (host/variant.ts: loadVariant(${moduleMaxControls}))`);
    this.name = "LayoutMismatch";
  }
}

/** The MAX_CONTROLS a fresh instance was built with, read from the module itself: configure()
 *  checks the header fields in order and names the first bad one, so the largest ControlCount
 *  it lets past is its limit (the same in every layout: the header's words do not move). null
 *  when it refuses the header before that field (another configuration version). Leaves the
 *  block as it found it, zeros; no configuration is accepted on the way (CaseCount 0 is not). */
function maxControlsOf(e: Exports): number | null {
  const header = new Int32Array(e.memory.buffer, e.CONFIG.value as number, Field.ControlCount + 1);
  const refused = (controls: number): number => {
    header[Field.Version] = L.CONFIG_VERSION;
    new Float32Array(header.buffer, header.byteOffset)[Field.SampleRateHz] = 1000;
    header[Field.WindowSamples] = 200;
    header[Field.ControlCount] = controls;
    return e.configure();
  };
  const first = refused(1);
  let limit: number | null = null;
  if (first > Field.ControlCount) {
    let low = 1, high = 1 << 24; // low is let past, high is not (ControlCount's bound is an f32)
    while (high - low > 1) {
      const middle = (low + high) >>> 1;
      if (refused(middle) === Field.ControlCount) high = middle;
      else low = middle;
    }
    limit = low;
  }
  header.fill(0);
  return limit;
}

export class Controller {
  readonly exports: Exports;
  private controls = 0;
  private inputs = 0;
  private cases = 0;

  /** The release module by default; a wider build comes with its own layout (host/variant.ts).
   *  `imports`: only an instrumented copy of a build has any (tests/memory-used.test.ts). */
  constructor(module: WebAssembly.Module = (compiled ??= new WebAssembly.Module(readFileSync(RELEASE_WASM))), readonly layout: Layout = L, imports: WebAssembly.Imports = {}) {
    this.exports = new WebAssembly.Instance(module, imports).exports as unknown as Exports;
    const limit = maxControlsOf(this.exports);
    if (limit !== layout.MAX_CONTROLS) throw new LayoutMismatch(limit, layout.MAX_CONTROLS);
  }

  private address(name: keyof Exports): number {
    return (this.exports[name] as WebAssembly.Global).value as number;
  }
  private f32(name: keyof Exports, count: number, offsetWords = 0): Float32Array {
    return new Float32Array(this.exports.memory.buffer, this.address(name) + offsetWords * 4, count);
  }
  private i32(name: keyof Exports, count: number, offsetWords = 0): Int32Array {
    return new Int32Array(this.exports.memory.buffer, this.address(name) + offsetWords * 4, count);
  }

  /** Writes the block and starts it; throws ControllerError naming the bad field. */
  configure(config: ControllerConfig): void {
    const layout = this.layout;
    const words = layout.CONFIG_WORDS;
    const i = this.i32("CONFIG", words);
    const f = this.f32("CONFIG", words);
    i.fill(0);
    const plan = "plan" in config.tones ? config.tones.plan : undefined;
    i[Field.Version] = L.CONFIG_VERSION;
    f[Field.SampleRateHz] = config.sampleRateHz;
    i[Field.WindowSamples] = config.windowSamples;
    i[Field.SettleSamples] = config.settleSamples;
    i[Field.ControlCount] = config.controls.length;
    i[Field.InputCount] = config.inputs.length;
    i[Field.CaseCount] = config.cases.length;
    i[Field.ToneMode] = plan ? L.ToneMode.Plan : L.ToneMode.Explicit;
    f[Field.BandLowHz] = plan?.bandLowHz ?? 0;
    f[Field.BandHighHz] = plan?.bandHighHz ?? config.sampleRateHz / 2;
    i[Field.GuardBins] = config.guardBins ?? defaultOf("GuardBins");
    i[Field.PlanOrder] = config.planOrder ?? defaultOf("PlanOrder");
    i[Field.Loss] = lossCode[config.loss] ?? -1;
    f[Field.MarginScale] = config.marginScale ?? 1;
    i[Field.Optimiser] = optimiserCode[config.optimiser] ?? -1;
    f[Field.LearningRate] = config.learningRate;
    f[Field.Beta1] = config.beta1 ?? defaultOf("Beta1");
    f[Field.Beta2] = config.beta2 ?? defaultOf("Beta2");
    f[Field.Epsilon] = config.epsilon ?? defaultOf("Epsilon");
    i[Field.Gradient] = gradientCode[config.gradient ?? "jacobian"] ?? -1;
    i[Field.Demodulation] = demodulationCode[config.demodulation ?? "projection"] ?? -1;
    f[Field.LagDelaySamples] = config.lag?.delaySamples ?? 0;
    f[Field.LagCornerHz] = config.lag?.cornerHz ?? 0;
    i[Field.CalibrationEpochs] = config.calibrationEpochs ?? defaultOf("CalibrationEpochs");
    f[Field.SlewVPerS] = config.slewVPerS ?? defaultOf("SlewVPerS");
    i[Field.StreamOrder] = config.stream?.order ?? defaultOf("StreamOrder");
    f[Field.StreamTauSamples] = config.stream?.tauSamples ?? config.windowSamples;
    i[Field.ChipSamples] = config.chipSamples ?? defaultOf("ChipSamples");
    i[Field.Seed] = config.seed ?? defaultOf("Seed");
    f[Field.SpsaStability] = config.spsaStability ?? defaultOf("SpsaStability");
    i[Field.Perturbation] = perturbationCode[config.perturbation ?? "sinusoid"] ?? -1;
    f[Field.ReadingMin] = config.reading.min;
    f[Field.ReadingMax] = config.reading.max;
    config.controls.forEach((c, k) => {
      if (k >= layout.MAX_CONTROLS) return;
      i[layout.TONE_BIN_WORD + k] = c.toneBin ?? 0;
      f[layout.AMPLITUDE_WORD + k] = c.amplitudeV;
      f[layout.MIN_WORD + k] = c.minV;
      f[layout.MAX_WORD + k] = c.maxV;
      f[layout.INITIAL_WORD + k] = c.initialV;
      i[layout.TRAINABLE_WORD + k] = c.trainable === false ? 0 : 1;
    });
    config.inputs.forEach((input, k) => {
      if (k >= layout.MAX_INPUTS) return;
      f[layout.INPUT_MIN_WORD + k] = input.minV;
      f[layout.INPUT_MAX_WORD + k] = input.maxV;
    });
    config.cases.forEach((c, p) => {
      if (p >= layout.MAX_CASES) return;
      c.inputsV.forEach((v, k) => { if (k < layout.MAX_INPUTS) f[layout.CASE_INPUT_WORD + p * layout.MAX_INPUTS + k] = v; });
      f[layout.TARGET_WORD + p] = c.target;
    });
    this.configureWritten();
  }

  /** Configures from a block of CONFIG_WORDS words as configure() writes them (boards/link.ts:
   *  encodeConfig, a board's compiled-in configuration); refused as configure() is. */
  configureBlock(block: Uint8Array): void {
    new Uint8Array(this.exports.memory.buffer, this.address("CONFIG"), this.layout.CONFIG_WORDS * 4).set(block);
    this.configureWritten();
  }

  /** The module's configure() on the block written at CONFIG; its counts kept on acceptance. */
  private configureWritten(): void {
    const code = this.exports.configure();
    if (code !== 0) throw this.refusal(code);
    const header = this.i32("CONFIG", Field.CaseCount + 1);
    this.controls = header[Field.ControlCount];
    this.inputs = header[Field.InputCount];
    this.cases = header[Field.CaseCount];
  }

  private refusal(code: number): ControllerError {
    const status = this.i32("STATUS", L.STATUS_WORDS);
    const field = Field[code] ?? `code ${code}`;
    const index = status[Status.ErrorIndex];
    if (code === Field.Plan) {
      const minimum = status[Status.PlanMinWindow];
      const hint = minimum > 0 ? `a window of at least ${minimum} samples would plan` : `no window this build takes plans (up to ${this.layout.MAX_WINDOW_SAMPLES} samples, ${this.layout.SINES_MAX_WINDOW} in the core build): widen the band, lower the guard or use fewer controls`;
      return new ControllerError(code, field, 0, `no tone plan fits the band in this window: ${hint}`);
    }
    const arrayField = code >= Field.ToneBin && code <= Field.Target;
    if (code === Field.Target) { // a class target of 0 or 1 refused: a class no case has (ErrorIndex: the last case)
      const loss = this.i32("CONFIG", 1, Field.Loss)[0], target = this.f32("CONFIG", 1, this.layout.TARGET_WORD + index)[0];
      if (loss !== L.Loss.MSE && (target === 0 || target === 1)) return new ControllerError(code, field, -1, `configuration refused: Target: ${L.Loss[loss].toLowerCase()} needs cases of both classes, 0 and 1; none is ${1 - target}`);
    }
    let where = "";
    // (counted from 1, as every message of hge's; error.index is the module's, from 0)
    if (code === Field.CaseInputV) where = ` (case ${Math.floor(index / this.layout.MAX_INPUTS) + 1}, input ${(index % this.layout.MAX_INPUTS) + 1})`;
    else if (code >= Field.InputMinV && code <= Field.InputMaxV) where = ` (input ${index + 1})`;
    else if (code === Field.Target) where = ` (case ${index + 1})`;
    else if (arrayField) where = ` (control ${index + 1})`;
    if (code === Field.SlewVPerS) {
      return new ControllerError(code, field, index, `configuration refused: SlewVPerS is below what electrode ${index + 1} needs (a control's perturbation, or a step above its voltage's f32 resolution; controls first, then inputs)`);
    }
    const spec = FIELDS[field as FieldName];
    if (!spec) return new ControllerError(code, field, -1, `configuration refused: ${field}`);
    const word = arrayField ? this.layout[ARRAY_FIRST_WORD[field as ArrayFieldName]] + index : code;
    const value = spec.type === "i32" ? this.i32("CONFIG", 1, word)[0] : this.f32("CONFIG", 1, word)[0];
    const bounds = boundsText(field as FieldName);
    const inBounds = !arrayField && value >= spec.low! && value <= spec.high!;
    let why = arrayField ? `is not valid here: ${spec.doc}` : `is out of range (${bounds})`;
    if (inBounds && this.fullBuildTakes()) why = "is left out of this build (the tones-only core, build/hge-core.wasm); the full build, build/hge.wasm, takes this configuration";
    else if (inBounds) why = `is within its bounds (${bounds}) but not with the rest of this configuration: ${spec.doc}`;
    const shown = spec.type === "f32" ? Number(value.toPrecision(7)) : value;
    return new ControllerError(code, field, arrayField ? index : -1, `configuration refused: ${field}${where} = ${shown} ${why}`, !arrayField && !inBounds);
  }

  /** Whether the full build accepts the block this module refused (then this module is a build
   *  that leaves a feature out: the core). Only for the default layout. */
  private fullBuildTakes(): boolean {
    if (this.layout !== L) return false;
    const full = new Controller();
    const bytes = L.CONFIG_WORDS * 4;
    new Uint8Array(full.exports.memory.buffer, full.address("CONFIG"), bytes).set(new Uint8Array(this.exports.memory.buffer, this.address("CONFIG"), bytes));
    return full.exports.configure() === 0;
  }

  get controlCount(): number { return this.controls; }
  get inputCount(): number { return this.inputs; }
  get caseCount(): number { return this.cases; }

  /** Stops training: each step() then ramps the electrodes (at the slew limit) to the controls'
   *  weights and the inputs' present voltages, or to `parkV` (controls, then inputs) where
   *  given, and returns Event.Parked once there. configure() starts again. */
  park(parkV?: ArrayLike<number>): void {
    this.exports.park();
    if (parkV) this.f32("PARK", this.controls + this.inputs).set(parkV);
  }

  /** Holds the controls (true) at those the last epoch measured: each epoch reads them plainly
   *  (no perturbation) and ends with EpochDone, without an update; false lets them move again,
   *  perturbed. configure() lets them move. */
  hold(on: boolean): void { this.exports.hold(on ? 1 : 0); }

  /** One sample; returns the Event flags. */
  step(reading: number): number { return this.exports.step(reading); }

  /** Voltages to write now: controls, then inputs (a view: copy it to keep it). */
  electrodes(): Float32Array { return this.f32("ELECTRODES", this.controls + this.inputs); }
  weights(): Float32Array { return this.f32("WEIGHTS", this.controls); }
  gradient(): Float32Array { return this.f32("GRADIENT", this.controls); }
  caseOutputs(): Float32Array { return this.f32("CASE_OUTPUTS", this.cases); }
  lossSlopes(): Float32Array { return this.f32("LOSS_SLOPES", this.cases); }
  jacobianRow(p: number): Float32Array { return this.f32("JACOBIAN", this.controls, p * this.layout.MAX_CONTROLS); }
  toneBins(): Int32Array { return this.i32("TONE_BINS", this.controls); }
  /** Per tone: 2 = hit by a second-order product of other tones, 4 = third-order (or'ed). */
  toneHits(): Int32Array { return this.i32("TONE_HITS", this.controls); }

  status(): ControllerStatus {
    return statusFromWords(this.i32("STATUS", L.STATUS_WORDS), this.f32("STATUS", L.STATUS_WORDS));
  }

  /** The learned state as a checkpoint blob. */
  save(): Uint8Array {
    const bytes = this.exports.save();
    if (bytes === 0) throw new ControllerError(Field.Checkpoint, "Checkpoint", -1, "nothing to save: the controller is not configured");
    return new Uint8Array(this.exports.memory.buffer, this.address("CHECKPOINT"), bytes).slice();
  }

  /** Restores a blob from save(); throws (and keeps the current state) if it is refused. */
  load(blob: Uint8Array): void {
    const capacity = 4 * (5 + L.LEARNED_STATUS_WORDS + 3 * this.layout.MAX_CONTROLS + 1);
    if (blob.length > capacity) throw new ControllerError(Field.Checkpoint, "Checkpoint", -1, `checkpoint refused: ${blob.length} bytes is larger than any blob (${capacity})`);
    new Uint8Array(this.exports.memory.buffer, this.address("CHECKPOINT"), blob.length).set(blob);
    if (this.exports.load(blob.length) !== 0) {
      throw new ControllerError(Field.Checkpoint, "Checkpoint", -1, "checkpoint refused: corrupt, of another version, or for another configuration; the current state is kept");
    }
  }
}
