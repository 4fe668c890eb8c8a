// The measurement chain and noise of a training run, built exactly as host/train.ts builds
// them for its own loop (its chainModel and buildNoise are private there): the board runs
// see the readings the all-Node run sees. tests/boards-link.test.ts checks the two agree.
import type { ChainModel } from "../host/cosim.ts";
import { Drift, NoiseChain, PinkNoise, Spikes, WhiteNoise, type NoiseSource } from "../host/noise.ts";
import type { ChainOptions, NoiseOptions } from "../host/train.ts";

export function noiseFor(noise: NoiseOptions, sampleRateHz: number, seed: number): NoiseSource | undefined {
  const sources: NoiseSource[] = [];
  const stream = (k: number) => (Math.imul(seed >>> 0, 0x9e3779b1) + k * 0x7f4a7c15) >>> 0;
  if (noise.whiteSigma > 0) sources.push(new WhiteNoise(noise.whiteSigma, stream(1)));
  if (noise.pinkPsdAt1kHz > 0) sources.push(new PinkNoise(noise.pinkPsdAt1kHz, sampleRateHz, stream(2)));
  if (noise.drift) sources.push(new Drift(sampleRateHz, noise.drift, stream(3)));
  if (noise.spikes && noise.spikes.ratePerS > 0) sources.push(new Spikes(noise.spikes.ratePerS, noise.spikes.amplitude, sampleRateHz, stream(4)));
  return sources.length ? new NoiseChain(sources) : undefined;
}

export function chainFor(chain: ChainOptions, noise: NoiseOptions, seed: number): ChainModel {
  return {
    sampleRateHz: chain.sampleRateHz,
    dac: { bits: chain.dacBits, rangeV: chain.dacRangeV },
    cornerHz: chain.cornerHz,
    delaySamples: chain.delaySamples,
    noise: noiseFor(noise, chain.sampleRateHz, seed),
    adc: { bits: chain.adcBits, fullScaleV: chain.adcFullScaleV, outputPerV: chain.transimpedancePerV },
  };
}
