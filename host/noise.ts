// Seeded, reproducible noise for simulated measurement chains, in physical units.
// PSD convention everywhere: ONE-SIDED power spectral density in units²/Hz, so that the
// variance equals ∫₀^{fs/2} S(f) df; white noise of σ per sample at fs has S = 2σ²/fs.
import { dft } from "./spectrum.ts";

/** The seed of stream `stream` (1, 2, ...) of a run seeded `seed`: each noise source of a
 *  run gets its own, and no two (seed, stream) pairs in use coincide. */
export function noiseStream(seed: number, stream: number): number {
  return (Math.imul(seed >>> 0, 0x9e3779b1) + stream * 0x7f4a7c15) >>> 0;
}

/** xoshiro128** (Blackman & Vigna), seeded through splitmix32. Small, fast, 2^128 − 1 period. */
export class Rng {
  private s0 = 0;
  private s1 = 0;
  private s2 = 0;
  private s3 = 0;
  private spareNormal = 0;
  private hasSpare = false;

  constructor(seed: number) {
    let x = seed >>> 0;
    const splitmix32 = (): number => {
      x = (x + 0x9e3779b9) >>> 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.s0 = splitmix32();
    this.s1 = splitmix32();
    this.s2 = splitmix32();
    this.s3 = splitmix32();
  }

  nextU32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5), 7), 9) >>> 0;
    const t = this.s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    return result;
  }

  /** Uniform in [0, 1) with 32 random bits. */
  uniform(): number {
    return this.nextU32() / 4294967296;
  }

  /** Uniform in [low, high). */
  between(low: number, high: number): number {
    return low + (high - low) * this.uniform();
  }

  /** Standard normal by the Box–Muller transform (pairs; the second value is cached). */
  normal(): number {
    if (this.hasSpare) {
      this.hasSpare = false;
      return this.spareNormal;
    }
    const u1 = 1 - this.uniform(); // (0, 1]: log is finite
    const u2 = this.uniform();
    const radius = Math.sqrt(-2 * Math.log(u1));
    this.spareNormal = radius * Math.sin(2 * Math.PI * u2);
    this.hasSpare = true;
    return radius * Math.cos(2 * Math.PI * u2);
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

/** A noise source produces one sample per call, at the sample rate it was built for. */
export interface NoiseSource {
  next(): number;
}

/** Gaussian white noise with standard deviation `sigma` per sample (any unit). */
export class WhiteNoise implements NoiseSource {
  private readonly rng: Rng;
  constructor(readonly sigma: number, seed = 1) {
    this.rng = new Rng(seed);
  }
  next(): number {
    return this.sigma * this.rng.normal();
  }
}

/**
 * 1/f ("pink") noise with one-sided PSD S(f) = psdAt1kHz · (1000 Hz / f), in unit²/Hz
 * (e.g. nA²/Hz), from `lowestHz` (default fs/1000) up to 0.4·fs. Built as a sum of
 * independent first-order (AR(1)) stages with corners every half octave, followed by a
 * one-zero smoother (1 + c·z⁻¹)/(1 + c) that removes the AR(1) stages' excess near Nyquist.
 * Stage weights and c are fitted once to the exact discrete-time spectrum: ripple < 3%
 * over [10·lowestHz, 0.4·fs]. Below lowestHz the spectrum flattens (finite variance).
 */
export class PinkNoise implements NoiseSource {
  private readonly rng: Rng;
  private readonly poles: Float64Array; // AR(1) coefficient per stage
  private readonly gains: Float64Array; // innovation standard deviation per stage
  private readonly state: Float64Array;
  private readonly smoother: number; // c of the one-zero smoother
  private previousSum = 0;

  constructor(
    readonly psdAt1kHz: number,
    readonly sampleRateHz: number,
    seed = 1,
    readonly lowestHz = sampleRateHz / 1000,
  ) {
    this.rng = new Rng(seed);
    const cornersHz: number[] = [];
    for (let f = lowestHz; f < sampleRateHz / 2; f *= Math.SQRT2) cornersHz.push(f);
    const stages = cornersHz.length;
    this.poles = Float64Array.from(cornersHz, (f) => Math.exp((-2 * Math.PI * f) / sampleRateHz));
    // The fit runs on the PSD divided by the power of 4 below it: a scaling by 4^k is exact,
    // so the gains are bit for bit those fitted to psdAt1kHz itself, yet 1e308 cannot overflow.
    const k = psdAt1kHz > 0 ? Math.floor(Math.log(psdAt1kHz) / Math.log(4)) : 0;
    const unitPsd = psdAt1kHz / 4 ** k;
    const target = (fHz: number) => (unitPsd * 1000) / fHz;
    // One fit frequency per stage, log-spaced from lowestHz to 0.45·fs; a check grid in band.
    const fitHz = cornersHz.map((_, i) => lowestHz * Math.pow((0.45 * sampleRateHz) / lowestHz, i / (stages - 1)));
    const checkHz: number[] = [];
    for (let f = 10 * lowestHz; f <= 0.4 * sampleRateHz; f *= 1.02) checkHz.push(f);

    let best = { worstError: Infinity, smoother: 0, weights: new Float64Array(stages) };
    for (let smoother = 0; smoother <= 0.5; smoother += 0.025) {
      // Multiplicative updates keep the weights (innovation variances) positive.
      const weights = Float64Array.from(fitHz, (f) => target(f) * f * 1e-3);
      for (let iteration = 0; iteration < 300; iteration++) {
        for (let i = 0; i < stages; i++) weights[i] *= target(fitHz[i]) / this.modelPsd(fitHz[i], weights, smoother);
      }
      const worstError = Math.max(...checkHz.map((f) => Math.abs(this.modelPsd(f, weights, smoother) / target(f) - 1)));
      if (worstError < best.worstError) best = { worstError, smoother, weights };
    }
    this.smoother = best.smoother;
    this.gains = best.weights.map((weight) => Math.sqrt(weight) * 2 ** k);
    this.state = new Float64Array(stages);
    for (let i = 0; i < stages; i++) {
      // Start each stage in its stationary distribution: no warm-up transient.
      const p = this.poles[i];
      this.state[i] = (this.gains[i] / Math.sqrt(1 - p * p)) * this.rng.normal();
    }
  }

  /** One-sided PSD at f (Hz) of the stage bank with innovation variances `weights`. */
  private modelPsd(fHz: number, weights: ArrayLike<number>, smoother: number): number {
    const omega = (2 * Math.PI * fHz) / this.sampleRateHz;
    const cos = Math.cos(omega);
    let sum = 0;
    for (let i = 0; i < this.poles.length; i++) {
      const p = this.poles[i];
      sum += weights[i] / (1 - 2 * p * cos + p * p);
    }
    const smootherGain = (1 + smoother * smoother + 2 * smoother * cos) / ((1 + smoother) * (1 + smoother));
    return (2 * sum * smootherGain) / this.sampleRateHz;
  }

  /** The PSD this generator realises at f (Hz), exactly: for checking the fit. */
  realisedPsd(fHz: number): number {
    return this.modelPsd(fHz, this.gains.map((g) => g * g), this.smoother);
  }

  next(): number {
    let sum = 0;
    for (let i = 0; i < this.state.length; i++) {
      const s = this.poles[i] * this.state[i] + this.gains[i] * this.rng.normal();
      this.state[i] = s;
      sum += s;
    }
    const out = (sum + this.smoother * this.previousSum) / (1 + this.smoother);
    this.previousSum = sum;
    return out;
  }
}

export interface DriftOptions {
  /** Linear ramp, units per second. */
  slopePerS?: number;
  /** Random walk: standard deviation after one second, units per √s. */
  randomWalkPerSqrtS?: number;
  /** Sinusoidal wander (e.g. temperature cycling): amplitude (units) and period (s). */
  sineAmplitude?: number;
  sinePeriodS?: number;
}

/** Slow offset drift: ramp + random walk + sinusoid, sampled at sampleRateHz. Starts at 0. */
export class Drift implements NoiseSource {
  private readonly rng: Rng;
  private sampleIndex = 0;
  private walk = 0;
  constructor(
    readonly sampleRateHz: number,
    readonly options: DriftOptions,
    seed = 1,
  ) {
    this.rng = new Rng(seed);
  }
  next(): number {
    const { slopePerS = 0, randomWalkPerSqrtS = 0, sineAmplitude = 0, sinePeriodS = 1 } = this.options;
    const timeS = this.sampleIndex++ / this.sampleRateHz;
    this.walk += randomWalkPerSqrtS * Math.sqrt(1 / this.sampleRateHz) * this.rng.normal();
    return slopePerS * timeS + this.walk + sineAmplitude * Math.sin((2 * Math.PI * timeS) / sinePeriodS);
  }
}

/** Rare single-sample spikes of ±amplitude (random sign), Poisson with `ratePerS` events/s. */
export class Spikes implements NoiseSource {
  private readonly rng: Rng;
  private readonly probabilityPerSample: number;
  constructor(
    readonly ratePerS: number,
    readonly amplitude: number,
    readonly sampleRateHz: number,
    seed = 1,
  ) {
    this.rng = new Rng(seed);
    this.probabilityPerSample = 1 - Math.exp(-ratePerS / sampleRateHz);
  }
  next(): number {
    if (this.rng.uniform() >= this.probabilityPerSample) return 0;
    return this.rng.uniform() < 0.5 ? -this.amplitude : this.amplitude;
  }
}

/** The sum of several independent sources (build each with its own seed). */
export class NoiseChain implements NoiseSource {
  constructor(readonly sources: NoiseSource[]) {}
  next(): number {
    let sum = 0;
    for (const source of this.sources) sum += source.next();
    return sum;
  }
  /** Fill `out` with consecutive samples. */
  fill(out: Float64Array | Float32Array): void {
    for (let i = 0; i < out.length; i++) out[i] = this.next();
  }
}

/**
 * Welch's one-sided PSD estimate (unit²/Hz): Hann-windowed segments of `segment` samples
 * (an even number), 50% overlap, each segment's mean removed. Returns frequencies (Hz)
 * and PSD for bins 0..segment/2.
 */
export function welchPsd(
  x: ArrayLike<number>,
  sampleRateHz: number,
  segment: number,
): { frequencyHz: Float64Array; psd: Float64Array } {
  if (segment % 2) throw new Error(`welchPsd: segment ${segment} is odd`);
  if (x.length < segment) throw new Error('welchPsd: signal shorter than one segment');
  const bins = segment / 2 + 1;
  const window = new Float64Array(segment);
  let windowPower = 0;
  for (let i = 0; i < segment; i++) {
    window[i] = 0.5 - 0.5 * Math.cos((2 * Math.PI * i) / segment); // periodic Hann
    windowPower += window[i] * window[i];
  }
  const psd = new Float64Array(bins);
  const hop = segment / 2;
  let segments = 0;
  for (let start = 0; start + segment <= x.length; start += hop) {
    let mean = 0;
    for (let i = 0; i < segment; i++) mean += x[start + i];
    mean /= segment;
    const { re, im } = dft(Float64Array.from(window, (w, i) => (x[start + i] - mean) * w));
    for (let k = 0; k < bins; k++) psd[k] += re[k] * re[k] + im[k] * im[k];
    segments++;
  }
  const scale = 1 / (segments * sampleRateHz * windowPower);
  const frequencyHz = new Float64Array(bins);
  for (let k = 0; k < bins; k++) {
    const oneSided = k === 0 || k === bins - 1 ? 1 : 2;
    psd[k] *= oneSided * scale;
    frequencyHz[k] = (k * sampleRateHz) / segment;
  }
  return { frequencyHz, psd };
}

