// The perturbative estimators as configurations of the one controller module (host/bench/
// presets.ts), each read from the first window's Jacobian row: unbiasedness and the Cramér–Rao
// bound on a linear device, intermodulation on a cubic device, and 1/f noise.
import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { PolynomialDevice } from "../host/bench/devices.ts";
import { probeBase, probeRow, methodConfig } from "../host/bench/fidelity.ts";
import { relativeError } from "../host/metrics.ts";
import { multitone, publishedHge, SCALABLE_ESTIMATORS, PUBLISHED } from "../host/methods/module.ts";
import { NoiseChain, PinkNoise, WhiteNoise } from "../host/noise.ts";
import type { ChainModel } from "../host/cosim.ts";

const RATE_HZ = 5000;
const AMPLITUDE_V = 0.01;
const SIGMA = 0.01; // white noise per sample, output units
/** Eight controls with mixed signs and sizes; the device is exactly linear around CENTER. */
const GRADIENT = [0.31, -0.22, 0.17, 0.09, -0.05, 0.26, -0.14, 0.02];
const CENTER = [0.1, -0.1, 0.2, 0.0, 0.05, 0.3, -0.2, 0.15];
const linear = new PolynomialDevice(GRADIENT, CENTER, 0.1);
const white = (seed: number): ChainModel => ({ sampleRateHz: RATE_HZ, noise: new WhiteNoise(SIGMA, seed) });

/** Mean and standard deviation per control of the estimates over seeds 1..n (code seeds too). */
function estimates(method: (typeof SCALABLE_ESTIMATORS)[number], windowSamples: number, seeds: number) {
  const n = GRADIENT.length;
  const sum = new Float64Array(n);
  const squares = new Float64Array(n);
  let samples = 0;
  for (let seed = 1; seed <= seeds; seed++) {
    const config = methodConfig(probeBase(linear, CENTER), { method, budgetSamples: windowSamples, amplitudeV: AMPLITUDE_V, seed });
    const { row, samples: used } = probeRow(config, linear, white(1000 + seed));
    samples = used;
    row.forEach((g, k) => {
      sum[k] += g;
      squares[k] += g * g;
    });
  }
  const mean = Array.from(sum, (s) => s / seeds);
  const sd = mean.map((m, k) => Math.sqrt((squares[k] - seeds * m * m) / (seeds - 1)));
  return { mean, sd, samples };
}

describe("on a linear device with white noise", () => {
  for (const method of SCALABLE_ESTIMATORS) {
    test(`${method} is unbiased: every control's mean over 120 seeds is within 4 standard errors (sd/√120, measured) of the gradient`, () => {
      const seeds = 120;
      const { mean, sd } = estimates(method, 1024, seeds);
      mean.forEach((m, k) => {
        const z = Math.abs(m - GRADIENT[k]) / (sd[k] / Math.sqrt(seeds));
        assert.ok(z < 4, `control ${k}: mean ${m.toFixed(5)}, gradient ${GRADIENT[k]}, ${z.toFixed(2)} standard errors away`);
      });
    });
  }

  test("multi-tone variance is within 1.2× of the Cramér–Rao bound 2σ²/(a²T) (and not below 0.8×, which would mean a wrong scale)", () => {
    // 300 seeds × 8 controls: the ratio's own sampling error is about √(2/2400) ≈ 3%
    const { sd, samples } = estimates("multitone", 512, 300);
    const bound = (2 * SIGMA ** 2) / (AMPLITUDE_V ** 2 * samples);
    const ratio = sd.reduce((s, x) => s + x * x, 0) / sd.length / bound;
    assert.ok(ratio <= 1.2 && ratio >= 0.8, `variance / bound = ${ratio.toFixed(3)}`);
  });

  test("the published magnitude-with-sign demodulation is biased away from zero at low SNR, the projection is not (Rician bias)", () => {
    // Five controls, the published tones and amplitudes; σ = 0.35 puts the 70 mV tone at SNR 2
    // (g/sd), where the bias of sign(X)·√(X²+Y²) is largest relative to its spread: 0.23 sd.
    // 800 seeds make that about 6 standard errors.
    const device = new PolynomialDevice(GRADIENT.slice(0, 5), CENTER.slice(0, 5), 0.1);
    const seeds = 800;
    const meanOfControl0 = (demodulation: "projection" | "magnitude-sign") => {
      const config = { ...publishedHge(probeBase(device, CENTER)), settleSamples: 0, demodulation };
      const values = Array.from({ length: seeds }, (_, s) => probeRow(config, device, { sampleRateHz: RATE_HZ, noise: new WhiteNoise(0.35, 50 + s) }).row[0]);
      const mean = values.reduce((a, b) => a + b, 0) / seeds;
      const sd = Math.sqrt(values.reduce((a, b) => a + (b - mean) ** 2, 0) / (seeds - 1));
      return { mean, standardError: sd / Math.sqrt(seeds) };
    };
    const projection = meanOfControl0("projection");
    const magnitude = meanOfControl0("magnitude-sign");
    assert.ok(Math.abs(projection.mean - GRADIENT[0]) < 4 * projection.standardError, `projection mean ${projection.mean}`);
    assert.ok(magnitude.mean - GRADIENT[0] > 4 * magnitude.standardError, `magnitude-sign mean ${magnitude.mean}, gradient ${GRADIENT[0]}, standard error ${magnitude.standardError}`);
  });
});

test("on a cubic device the planned tones measure the gradient free of intermodulation; the published set (2·25+45 = 95 Hz, 2·45+25 = 115 Hz) does not", () => {
  // y = g·d + Σ d_k³ + 10·Σ_{j≠k} d_j² d_k around CENTER, no noise, the published amplitudes and
  // window for both tone sets. Every tone set with these amplitudes measures the same smoothed
  // gradient g_k + (3/4)a_k² + 10·Σ_{j≠k} a_j²/2 (about +0.034 on the 10 mV tones) when no
  // product lands on a tone; the error here is the distance from that.
  const device = new PolynomialDevice(GRADIENT.slice(0, 5), CENTER.slice(0, 5), 0.1, 1, 10);
  const base = probeBase(device, CENTER);
  const amplitudes = [...PUBLISHED.amplitudesV];
  const smoothed = device.toneSmoothedGradient(amplitudes);
  const published = { ...publishedHge(base), settleSamples: 0, demodulation: "projection" as const };
  const planned = multitone(base, { windowSamples: PUBLISHED.windowSamples, settleSamples: 0, amplitudesV: amplitudes, bandLowHz: 20, bandHighHz: 500, guardBins: 1 });
  const chain = { sampleRateHz: RATE_HZ };
  const publishedError = relativeError(probeRow(published, device, chain).row, smoothed);
  const plannedError = relativeError(probeRow(planned, device, chain).row, smoothed);
  assert.ok(plannedError < 1e-3, `planned tones: relative error ${plannedError}`);
  assert.ok(publishedError > 20 * plannedError, `published tones: relative error ${publishedError}, planned ${plannedError}`);
});

test("under strong 1/f noise multi-tone beats sequential differences at equal device time by more than 5× in RMS error", () => {
  // 1/f noise 10× the white floor at 1 kHz (its corner at 10 kHz: it dominates the whole band),
  // 0.82 s per estimate, 12 seeds. Measured: multi-tone 0.38, sequential 10 (relative errors).
  const pinkPsd = (10 * 2 * SIGMA ** 2) / RATE_HZ;
  const chain = (seed: number): ChainModel => ({
    sampleRateHz: RATE_HZ,
    noise: new NoiseChain([new WhiteNoise(SIGMA, seed), new PinkNoise(pinkPsd, RATE_HZ, seed + 7)]),
  });
  const rmsError = (method: "multitone" | "sequential") => {
    let sum = 0;
    for (let seed = 1; seed <= 12; seed++) {
      const config = methodConfig(probeBase(linear, CENTER), { method, budgetSamples: 4096, amplitudeV: AMPLITUDE_V });
      sum += relativeError(probeRow(config, linear, chain(seed)).row, GRADIENT) ** 2;
    }
    return Math.sqrt(sum / 12);
  };
  const tones = rmsError("multitone");
  const sequential = rmsError("sequential");
  assert.ok(sequential > 5 * tones, `multi-tone ${tones.toFixed(4)}, sequential ${sequential.toFixed(4)}`);
});
