// Specification of host/noise.ts: seeded noise sources in physical units and the Welch
// PSD estimator. PSDs are one-sided (unit²/Hz); white noise σ at fs has S = 2σ²/fs.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Drift, NoiseChain, PinkNoise, Rng, Spikes, WhiteNoise, welchPsd } from '../host/noise.ts';

const sampleRateHz = 5000;

function draw(source: { next(): number }, count: number): Float64Array {
  const x = new Float64Array(count);
  for (let i = 0; i < count; i++) x[i] = source.next();
  return x;
}

function standardDeviation(x: Float64Array): number {
  const mean = x.reduce((a, b) => a + b, 0) / x.length;
  return Math.sqrt(x.reduce((sum, v) => sum + (v - mean) ** 2, 0) / x.length);
}

test('the same seed gives the same sequence and another seed a different one', () => {
  const a = draw(new WhiteNoise(1, 42), 100);
  const b = draw(new WhiteNoise(1, 42), 100);
  const c = draw(new WhiteNoise(1, 43), 100);
  assert.deepEqual(a, b);
  assert.notDeepEqual(a, c);
});

test('Rng.uniform stays in [0, 1) with mean 1/2 to 0.5% over 100k draws (σ of the mean is 0.09%)', () => {
  const rng = new Rng(7);
  let sum = 0;
  for (let i = 0; i < 100_000; i++) {
    const u = rng.uniform();
    assert.ok(u >= 0 && u < 1);
    sum += u;
  }
  assert.ok(Math.abs(sum / 100_000 - 0.5) < 0.0025);
});

test('white noise has the requested sigma within 2% (200k samples: the estimate scatters by 0.16%)', () => {
  const sigmaNA = 0.3;
  const measured = standardDeviation(draw(new WhiteNoise(sigmaNA, 1), 200_000));
  assert.ok(Math.abs(measured / sigmaNA - 1) < 0.02, `sigma ${measured}`);
});

test('Welch PSD of white noise is 2σ²/fs (one-sided) within 3% averaged over the band', () => {
  const sigma = 2;
  const { psd } = welchPsd(draw(new WhiteNoise(sigma, 3), 1 << 18), sampleRateHz, 1024);
  let mean = 0;
  for (let k = 1; k < psd.length - 1; k++) mean += psd[k] / (psd.length - 2);
  const expected = (2 * sigma * sigma) / sampleRateHz;
  assert.ok(Math.abs(mean / expected - 1) < 0.03, `ratio ${mean / expected}`);
});

test('Welch PSD of a sinusoid integrates to its power A²/2 within 1% (Parseval with the Hann window)', () => {
  const amplitude = 3;
  const x = Float64Array.from({ length: 1 << 16 }, (_, i) => amplitude * Math.sin((2 * Math.PI * 123.4 * i) / sampleRateHz));
  const { frequencyHz, psd } = welchPsd(x, sampleRateHz, 2048);
  const binHz = frequencyHz[1];
  const power = psd.reduce((a, b) => a + b, 0) * binHz;
  assert.ok(Math.abs(power / (amplitude ** 2 / 2) - 1) < 0.01, `power ${power}`);
});

test('pink noise matches S(f) = S1k·1000/f within 10% in every third-octave from 0.01·fs to 0.4·fs (Welch, 2^19 samples)', () => {
  const psdAt1kHz = 1e-5; // nA²/Hz, the paper's 1/f level
  const pink = new PinkNoise(psdAt1kHz, sampleRateHz, 11);
  const { frequencyHz, psd } = welchPsd(draw(pink, 1 << 19), sampleRateHz, 1024);
  for (let lowHz = 0.01 * sampleRateHz; lowHz < 0.4 * sampleRateHz; lowHz *= 2 ** (1 / 3)) {
    const highHz = Math.min(lowHz * 2 ** (1 / 3), 0.4 * sampleRateHz);
    let measured = 0;
    let expected = 0;
    for (let k = 0; k < psd.length; k++) {
      if (frequencyHz[k] >= lowHz && frequencyHz[k] < highHz) {
        measured += psd[k];
        expected += (psdAt1kHz * 1000) / frequencyHz[k];
      }
    }
    const ratio = measured / expected;
    assert.ok(Math.abs(ratio - 1) < 0.1, `band ${lowHz.toFixed(0)}–${highHz.toFixed(0)} Hz: measured/spec ${ratio.toFixed(3)}`);
  }
});

test('the pink-noise generator realises its spectrum within 3% from 10·lowestHz to 0.4·fs (exact, no estimation)', () => {
  const pink = new PinkNoise(1, sampleRateHz);
  for (let fHz = 10 * pink.lowestHz; fHz <= 0.4 * sampleRateHz; fHz *= 1.05) {
    assert.ok(Math.abs(pink.realisedPsd(fHz) / (1000 / fHz) - 1) < 0.03, `at ${fHz} Hz`);
  }
});

test('pink noise scales as the square root of its PSD over the whole double range: 1e300 realises its spectrum within 3%, and 1e308 and 1e-300 draw the unit PSD\'s samples times √PSD (1e308 overflowed the fit and drew zeros)', () => {
  const loud = new PinkNoise(1e300, sampleRateHz);
  for (let fHz = 10 * loud.lowestHz; fHz <= 0.4 * sampleRateHz; fHz *= 1.05) {
    assert.ok(Math.abs(loud.realisedPsd(fHz) / (1e303 / fHz) - 1) < 0.03, `at ${fHz} Hz`);
  }
  const unit = draw(new PinkNoise(1, sampleRateHz, 5), 4096);
  for (const psd of [1e308, 1e-300]) {
    const x = draw(new PinkNoise(psd, sampleRateHz, 5), 4096);
    for (let i = 0; i < x.length; i++) {
      assert.ok(Number.isFinite(x[i]) && x[i] !== 0, `${psd}: sample ${i} is ${x[i]}`);
      assert.ok(Math.abs(x[i] / Math.sqrt(psd) / unit[i] - 1) < 1e-9, `${psd}: sample ${i} is ${x[i]}, the unit PSD's ${unit[i]}`);
    }
  }
});

test('a drift ramp of 0.5 units/s has moved by exactly 0.5 after one second', () => {
  const drift = new Drift(sampleRateHz, { slopePerS: 0.5 });
  const x = draw(drift, sampleRateHz + 1);
  assert.ok(Math.abs(x[sampleRateHz] - 0.5) < 1e-12);
});

test('a random-walk drift of 1 unit/√s has standard deviation 1 after one second (±10%, 400 walks: 3.5% scatter)', () => {
  const ends = Float64Array.from({ length: 400 }, (_, walk) => {
    const drift = new Drift(1000, { randomWalkPerSqrtS: 1 }, 100 + walk);
    return draw(drift, 1001)[1000];
  });
  const spread = Math.sqrt(ends.reduce((sum, v) => sum + v * v, 0) / ends.length);
  assert.ok(Math.abs(spread - 1) < 0.1, `spread ${spread}`);
});

test('spikes arrive at the requested rate (2/s over 100 s: 200 ± 25%, Poisson σ is 7%) with the requested amplitude', () => {
  const spikes = new Spikes(2, 50, sampleRateHz, 5);
  const x = draw(spikes, 100 * sampleRateHz);
  const nonzero = x.filter((v) => v !== 0);
  assert.ok(Math.abs(nonzero.length / 200 - 1) < 0.25, `${nonzero.length} spikes`);
  assert.ok(nonzero.every((v) => Math.abs(v) === 50));
});

test('a noise chain adds independent sources: variances add (0.3² + 0.4² = 0.5², within 2%)', () => {
  const chain = new NoiseChain([new WhiteNoise(0.3, 1), new WhiteNoise(0.4, 2)]);
  const x = new Float64Array(200_000);
  chain.fill(x);
  assert.ok(Math.abs(standardDeviation(x) / 0.5 - 1) < 0.02);
});
