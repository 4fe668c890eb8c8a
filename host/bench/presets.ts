// Every gradient estimator as a configuration of the one controller module: the published
// HGE setup (Boon et al.), planned multi-tone, sequential central differences, SPSA, random
// ±1 codes (MGD's CDMA) and Walsh–Hadamard codes. Each preset takes the problem (controls,
// cases, loss, optimiser: a base ControllerConfig) and sets only the perturbation fields.
import type { ControllerConfig, PerturbationName } from "../controller.ts";

export const METHODS = ["published", "multitone", "sequential", "spsa", "random", "walsh"] as const;
export type Method = (typeof METHODS)[number];
/** The estimators that scale to any number of controls (the published preset has five). */
export const SCALABLE_METHODS = ["multitone", "sequential", "spsa", "random", "walsh"] as const satisfies readonly Method[];

/** Boon et al.'s settings (SkyNEt code): five controls, tones at 5 kHz, 0.4 s windows (ten
 *  periods of 25 Hz), 30 ms edges between input cases, magnitude demodulation with a sign
 *  from |phase| < 90°, no lag calibration. */
export const PUBLISHED = {
  sampleRateHz: 5000,
  tonesHz: [25, 45, 65, 95, 115],
  amplitudesV: [0.07, 0.03, 0.03, 0.01, 0.01],
  windowSamples: 2000,
  settleSamples: 150,
  /** The paper's optimiser (not part of the preset: the benches train every method with one optimiser). */
  optimiser: { optimiser: "adam", learningRate: 1e-2, beta1: 0.9, beta2: 0.9 },
} as const;

/** The published HGE configuration on a five-control problem sampled at 5 kHz. */
export function publishedHge(base: ControllerConfig): ControllerConfig {
  if (base.controls.length !== PUBLISHED.tonesHz.length) {
    throw new Error(`the published preset drives ${PUBLISHED.tonesHz.length} controls; this problem has ${base.controls.length}`);
  }
  if (base.sampleRateHz !== PUBLISHED.sampleRateHz) throw new Error(`the published preset samples at ${PUBLISHED.sampleRateHz} Hz, not ${base.sampleRateHz}`);
  const bins = PUBLISHED.tonesHz.map((hz) => (hz * PUBLISHED.windowSamples) / PUBLISHED.sampleRateHz); // 10, 18, 26, 38, 46
  return {
    ...base,
    perturbation: "sinusoid",
    tones: { explicit: true },
    windowSamples: PUBLISHED.windowSamples,
    settleSamples: PUBLISHED.settleSamples,
    demodulation: "magnitude-sign",
    calibrationWindows: 0,
    controls: base.controls.map((c, k) => ({ ...c, amplitudeV: PUBLISHED.amplitudesV[k], toneBin: bins[k] })),
  };
}

/** Per-control peak amplitude: one value for all, or one per control. */
export type Amplitudes = number | readonly number[];

export interface PerturbationOptions {
  windowSamples: number;
  amplitudesV: Amplitudes;
  settleSamples?: number;
  /** Code perturbations: samples per chip. Sequential defaults to one sweep per window. */
  chipSamples?: number;
  /** Random codes and SPSA: the code's seed (1..2^24). */
  seed?: number;
}

function withAmplitudes(base: ControllerConfig, amplitudesV: Amplitudes): ControllerConfig["controls"] {
  return base.controls.map((c, k) => ({ ...c, amplitudeV: typeof amplitudesV === "number" ? amplitudesV : amplitudesV[k], toneBin: undefined }));
}

/** Multi-tone HGE with tones planned by the module: intermodulation-free inside one octave of
 *  the band. guardBins 0 is enough for a static device (products then land exactly on other
 *  bins, orthogonal over the window); the module's default is 1. */
export function multitone(
  base: ControllerConfig,
  options: PerturbationOptions & { bandLowHz: number; bandHighHz: number; guardBins?: number },
): ControllerConfig {
  return {
    ...base,
    perturbation: "sinusoid",
    demodulation: "projection",
    tones: { plan: { bandLowHz: options.bandLowHz, bandHighHz: options.bandHighHz } },
    guardBins: options.guardBins ?? 1,
    windowSamples: options.windowSamples,
    settleSamples: options.settleSamples ?? base.settleSamples,
    controls: withAmplitudes(base, options.amplitudesV),
  };
}

function codes(base: ControllerConfig, perturbation: PerturbationName, options: PerturbationOptions, chipSamples: number): ControllerConfig {
  return {
    ...base,
    perturbation,
    demodulation: "projection",
    calibrationWindows: 0, // codes are demodulated as sent: no lag to fit
    windowSamples: options.windowSamples,
    settleSamples: options.settleSamples ?? base.settleSamples,
    chipSamples,
    seed: options.seed ?? base.seed ?? 1,
    controls: withAmplitudes(base, options.amplitudesV),
  };
}

/** Sequential central differences: control k at +a then −a, one control at a time. By
 *  default each control gets one + and one − chip per window (the classic measurement). */
export function sequential(base: ControllerConfig, options: PerturbationOptions): ControllerConfig {
  const chip = options.chipSamples ?? options.windowSamples / codePeriod("sequential", base.controls.length);
  return codes(base, "sequential", options, chip);
}

/** SPSA: a random ±c vector then its negation (Bernoulli, two-sided), a new vector every two
 *  chips; Spall's gains a/(k+1+A)^0.602, c/(k+1)^0.101 run in the module. */
export function spsa(base: ControllerConfig, options: PerturbationOptions & { stability?: number }): ControllerConfig {
  return { ...codes(base, "spsa", options, options.chipSamples ?? 1), spsaStability: options.stability ?? base.spsaStability ?? 10 };
}

/** Random ±a codes, a fresh sign per control per chip (MGD's CDMA). */
export function randomCodes(base: ControllerConfig, options: PerturbationOptions): ControllerConfig {
  return codes(base, "random", options, options.chipSamples ?? 1);
}

/** Walsh–Hadamard codes: control k sends row k + 1 of the Hadamard matrix, one entry per chip. */
export function walsh(base: ControllerConfig, options: PerturbationOptions): ControllerConfig {
  return codes(base, "walsh", options, options.chipSamples ?? 1);
}

/** Chips in one period of a code for `controls` controls (mirrors assembly/perturb.ts):
 *  a code window holds whole periods, WindowSamples % (ChipSamples × period) == 0. */
export function codePeriod(method: Method, controls: number): number {
  if (method === "sequential") return 2 * controls;
  if (method === "spsa") return 2;
  if (method === "walsh") return 2 ** (32 - Math.clz32(controls)); // next power of two ≥ controls + 1
  return 1;
}

/** Peak amplitude per control that gives a method the same per-control perturbation as a
 *  tone of peak `toneAmplitudeV`: "peak" = the same peak; "rms" = the same RMS over a window
 *  (a tone's RMS is a/√2, an always-on ±a code's is a, a sequential control is on 1/N of the time). */
export function normalisedAmplitude(method: Method, toneAmplitudeV: number, controls: number, normalisation: "peak" | "rms"): number {
  if (normalisation === "peak" || method === "multitone" || method === "published") return toneAmplitudeV;
  if (method === "sequential") return toneAmplitudeV * Math.sqrt(controls / 2);
  return toneAmplitudeV / Math.SQRT2;
}

export const METHOD_LABELS: Record<Method, string> = {
  published: "published HGE (Boon et al.)",
  multitone: "multi-tone HGE (planned)",
  sequential: "sequential differences",
  spsa: "SPSA",
  random: "random codes (CDMA)",
  walsh: "Walsh codes",
};
