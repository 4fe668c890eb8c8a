// How the peer methods (pat, coupled, ep, analytic, phyll) measure a device: hold the
// electrodes at given voltages, wait SettleSamples, read WindowSamples samples through the
// same chain as the module's runs (DAC quantisation; the low-pass, the delay, additive noise
// in the device's unit, ADC quantisation and saturation: cosim.ts ChainReading, train.ts
// measurementOn) and return the mean. Every measure() counts settle + window
// samples of device time. Quantities read in the same window on other channels (node
// voltages, edge drops) cost no extra time but get their own noise and chain. The voltages
// jump (the peers do not model the slew limit), and the chain carries what it read last
// into the next window: after the default 10 settling samples at a 1 kHz corner, 2 samples of
// delay and 5 kHz, e^−10 of the step is left; with less settling, or at a higher rate, the
// reading carries the previous point's.
import { electrodeRangesV, type Device } from "../devices/device.ts";
import { ChainReading, quantise } from "../cosim.ts";
import { DEFAULTS, buildDrift, buildNoise, chainModel, measurementOn, type ChainOptions, type NoiseOptions, type TrainOptions } from "../train.ts";
import type { Drift } from "../noise.ts";
import { checkOf, type Journal } from "./journal.ts";

/** The shared options (TrainOptions) a method measuring through an Instrument reads: the noise
 *  and the chain (hge train's and compare's measurement flags, --sample-rate), as measuredAs
 *  takes them. */
export const INSTRUMENT_READS = ["noise", "chain"] as const satisfies ReadonlyArray<keyof TrainOptions>;

/** The Instrument settings `options` ask for (INSTRUMENT_READS). */
export function measuredAs(options: Partial<TrainOptions> = {}): Pick<InstrumentSettings, "chain" | "noise"> {
  return { chain: options.chain, noise: options.noise };
}

/** A plain reading's window: every peer reads a level, not a spectrum, so all read it alike, 10 ms
 *  after a 2 ms settle at 5 kHz. The mean of 50 samples of the default noise is within ~0.01 nA
 *  (DNPU) or ~15 µV (resistor network). The module's lock-in windows are another matter (tones
 *  need whole periods and derivatives need precision: train.ts measurementWindow); a peer read
 *  through them paid 8.5× (500 samples on the regression) or 3.5× (200) of pat's device time
 *  for the same level. */
export const LEVEL_WINDOW_SAMPLES = 50;

export interface InstrumentSettings {
  windowSamples?: number;
  settleSamples?: number;
  chain?: Partial<ChainOptions>;
  noise?: Partial<NoiseOptions>;
  /** A data-set run's journal (journal.ts): every reading is recorded, and one it recorded
   *  before at the same place and voltages is replayed without driving the device. */
  journal?: Journal;
}

export class Instrument {
  readonly chain: ChainOptions;
  readonly noise: NoiseOptions;
  readonly windowSamples: number;
  readonly settleSamples: number;
  /** Samples the device has been driven for. */
  samples = 0;
  /** measure() calls. */
  measurements = 0;
  /** Each channel's chain, with its own noise (the output's drift: drift, below). */
  private readonly channels: ChainReading[] = [];
  private outputDrift?: Drift;
  private readonly held: Float64Array;
  private readonly rangesV: Array<[number, number]>;
  private readonly journal?: Journal;
  /** How this instrument reads, for the journal's checks. */
  private readonly setup: string;

  constructor(readonly device: Device, readonly seed: number, settings: InstrumentSettings = {}) {
    this.journal = settings.journal;
    ({ chain: this.chain, noise: this.noise } = measurementOn(device, settings));
    this.windowSamples = settings.windowSamples ?? LEVEL_WINDOW_SAMPLES;
    this.settleSamples = settings.settleSamples ?? DEFAULTS.settleSamples;
    this.held = new Float64Array(device.electrodeCount);
    this.rangesV = electrodeRangesV(device);
    this.setup = JSON.stringify([seed, this.chain, this.noise, this.windowSamples, this.settleSamples]);
  }

  get deviceSeconds(): number {
    return this.samples / this.chain.sampleRateHz;
  }

  /** The device's output at `voltages` (controls, then inputs), read through the chain:
   *  one settle + window of device time. The DAC's step nearest each voltage inside its
   *  electrode's range reaches the device (cosim.ts: quantise). An output the journal replays
   *  leaves the device alone and is read through the chain and the noise as when it was
   *  measured. */
  measure(voltages: ArrayLike<number>): number {
    const [low, high] = this.chain.dacRangeV;
    for (let e = 0; e < this.held.length; e++) this.held[e] = quantise(voltages[e], low, high, this.chain.dacBits, this.rangesV[e]);
    this.samples += this.settleSamples + this.windowSamples;
    this.measurements++;
    const check = this.journal ? checkOf(this.held, this.setup) : 0;
    let output = this.journal?.replayOutput(check, (this.settleSamples + this.windowSamples) / this.chain.sampleRateHz);
    if (output === undefined) {
      // the device's clock set just before the reading it counts (method.ts: meteredDevice)
      this.device.setTime?.(this.deviceSeconds);
      output = this.device.output(this.held);
      this.journal?.recordOutput(check, output);
    }
    return this.read(0, output);
  }

  /** Device time spent driving the same device outside measure() (pat-hge's and phyll-hge's
   *  lock-in windows, run by the module on the same chain): the clock moves on by `seconds`,
   *  which the device is told with the next reading. The output's drift is not moved: the
   *  module's samples drew it (drift, below). (The next measure()'s chain starts from this
   *  instrument's last reading, not the module's.) */
  advance(seconds: number): void {
    this.samples += Math.round(seconds * this.chain.sampleRateHz);
  }

  /** The output's drift (NoiseOptions.drift; undefined without one): one process in device
   *  time, drawn once a sample by this instrument's readings and by the module's windows on the
   *  same output, which take it as their TrainOptions.sharedDrift and spend the device time
   *  they then advance() by. */
  get drift(): Drift | undefined {
    return (this.outputDrift ??= buildDrift(this.noise, this.chain.sampleRateHz, this.channelSeed(0)));
  }

  /** How a module run on the same output reads it (HgeJacobian's TrainOptions): through this
   *  instrument's chain and noise, drawing its output's drift itself. */
  forModule(): Pick<TrainOptions, "chain" | "noise" | "sharedDrift"> {
    return { chain: this.chain, noise: this.noise, sharedDrift: this.drift };
  }

  /** The voltages last written, as the DAC produced them (what the device saw). */
  heldVoltages(): Float64Array {
    return this.held;
  }

  /** Other quantities (same unit as the output) read during the window just measured, one
   *  channel each: no extra device time. */
  readChannels(values: ArrayLike<number>): number[] {
    return Array.from(values, (value, i) => this.read(i + 1, value));
  }

  /** Mean of one window of readings of a held value on channel `channel`, after the settling:
   *  the chain's transient and the noise (its drift and 1/f part too) run through every sample
   *  charged, as the module's do (cosim.ts). */
  private read(channel: number, value: number): number {
    const chain = (this.channels[channel] ??= new ChainReading(chainModel(this.chain, buildNoise(this.noise, this.chain.sampleRateHz, this.channelSeed(channel), 0, channel === 0 ? this.drift : undefined))));
    for (let n = 0; n < this.settleSamples; n++) chain.next(value);
    let sum = 0;
    for (let n = 0; n < this.windowSamples; n++) sum += chain.next(value);
    return sum / this.windowSamples;
  }

  private channelSeed(channel: number): number {
    return this.seed * 65537 + channel;
  }
}
