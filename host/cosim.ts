// Sample-accurate closed loop: controller voltages → DAC model (bits, range, update rate) → device → measurement chain
// (first-order low-pass, whole-sample delay) → noise → ADC model (transimpedance, bits,
// saturation) → back into the controller. The host only plays the physics here.
import { electrodeRangesV, type Device } from "./devices/device.ts";
import type { NoiseSource } from "./noise.ts";
import type { Controller } from "./controller.ts";
import * as L from "../assembly/layout.ts";

export interface DacModel {
  bits: number;
  rangeV: [number, number];
  /** How often the converter takes a new value (default: every sample); between updates
   *  it holds the last one. */
  updateRateHz?: number;
}

export interface AdcModel {
  bits: number;
  /** What the converter reads, volts; beyond that it saturates. */
  rangeV: readonly [number, number];
  /** Transimpedance amplification: output units (nA) per volt at the ADC. */
  outputPerV: number;
  /** The reading is made as a board's firmware makes it (firmwareReading), not rounded once. */
  f32Scaling?: boolean;
}

/** The reading a board's firmware hands the module for ADC `volts`: app_hge.c's `volts *
 *  HGE_ADC_UNIT_PER_V`, in f32. Rounding volts first can land a step from the product rounded
 *  once where the scale is not a power of two. */
export const firmwareReading = (volts: number, unitPerV: number): number => Math.fround(Math.fround(volts) * Math.fround(unitPerV));

/** An ADC's `volts` as the reading the controller gets. */
const readingOf = (adc: AdcModel, volts: number): number => (adc.f32Scaling ? firmwareReading(volts, adc.outputPerV) : volts * adc.outputPerV);

export interface ChainModel {
  sampleRateHz: number;
  dac?: DacModel;
  /** First-order low-pass corner (Hz, 0 = none) and a delay of whole samples. */
  cornerHz?: number;
  delaySamples?: number;
  /** Added to the device output, in its units. */
  noise?: NoiseSource;
  adc?: AdcModel;
}

/** The reading limits a controller should be configured with for this chain: saturated
 *  ADC codes sit exactly on them and are discarded. */
export function readingLimits(chain: ChainModel): { min: number; max: number } {
  if (!chain.adc) return { min: -1e9, max: 1e9 };
  return { min: readingOf(chain.adc, chain.adc.rangeV[0]), max: readingOf(chain.adc, chain.adc.rangeV[1]) };
}

/** The `bits`-bit converter's value nearest `value` on [low, high] (beyond it, its end). With
 *  `within` (an electrode's declared range, a DAC's output): the converter's value nearest
 *  `value` inside that range, so that rounding to a step never puts an electrode beyond its
 *  range (half a step past 1 V on ±1.25 V at 16 bits, 1.0000191 V, to a device that refuses
 *  it); in a range narrower than one step, `value` kept inside it. */
export function quantise(value: number, low: number, high: number, bits: number, within?: readonly [number, number]): number {
  // (no closures, no destructuring: this runs for every electrode at every DAC update)
  const steps = 2 ** bits - 1;
  const span = high - low;
  if (within === undefined) return low + (Math.round(((Math.min(high, Math.max(low, value)) - low) / span) * steps) / steps) * span;
  const bottom = within[0], top = within[1];
  let code = Math.round(((Math.min(high, top, Math.max(low, bottom, value)) - low) / span) * steps);
  let v = low + (code / steps) * span;
  if (v > top) v = low + (--code / steps) * span; // (the nearest step was half a step or less beyond the range)
  else if (v < bottom) v = low + (++code / steps) * span;
  return v >= bottom && v <= top ? v : Math.min(top, Math.max(bottom, value)); // (no step inside the range)
}

/** The measurement chain after the device, one sample at a time: the first-order low-pass,
 *  the whole-sample delay, the noise and the ADC. It starts at rest at its first input. The
 *  closed loop (CoSimulation) and the peers' plain readings (methods/instrument.ts) read
 *  through it alike. */
export class ChainReading {
  private readonly delayLine: Float64Array;
  private delayIndex = 0;
  private filtered = Number.NaN;
  private readonly alpha: number;

  constructor(readonly chain: ChainModel) {
    this.delayLine = new Float64Array(Math.max(0, Math.round(chain.delaySamples ?? 0)));
    const corner = chain.cornerHz ?? 0;
    this.alpha = corner > 0 ? 1 - Math.exp((-2 * Math.PI * corner) / chain.sampleRateHz) : 1;
  }

  /** What the ADC reports for the device output `y` of one more sample. */
  next(y: number): number {
    const starting = Number.isNaN(this.filtered);
    this.filtered = starting ? y : this.filtered + this.alpha * (y - this.filtered);
    let value = this.filtered;
    if (this.delayLine.length > 0) {
      if (starting) this.delayLine.fill(value);
      const delayed = this.delayLine[this.delayIndex];
      this.delayLine[this.delayIndex] = value;
      this.delayIndex = (this.delayIndex + 1) % this.delayLine.length;
      value = delayed;
    }
    if (this.chain.noise) value += this.chain.noise.next();
    const adc = this.chain.adc;
    if (!adc) return value;
    return readingOf(adc, quantise(value / adc.outputPerV, adc.rangeV[0], adc.rangeV[1], adc.bits));
  }
}

/** Plays the device and the measurement chain for one controller, sample by sample. */
export class CoSimulation {
  private readonly voltages: Float64Array;
  private readonly reading: ChainReading;
  private readonly samplesPerDacUpdate: number;
  /** Every electrode's declared range (controls, then inputs): what the DAC delivers stays in it. */
  private readonly rangesV: ReadonlyArray<readonly [number, number]>;
  samples = 0;

  /** Any controller with the wrapper's step() and electrodes(): the Node module, or a board. */
  /** `startSeconds`: device time already spent when this loop starts (time-varying devices). */
  constructor(readonly controller: Pick<Controller, "step" | "electrodes">, readonly device: Device, readonly chain: ChainModel, readonly startSeconds = 0) {
    this.voltages = new Float64Array(device.electrodeCount);
    this.rangesV = electrodeRangesV(device);
    this.reading = new ChainReading(chain);
    const updateRateHz = chain.dac?.updateRateHz ?? chain.sampleRateHz;
    if (!(updateRateHz > 0 && updateRateHz <= chain.sampleRateHz)) throw new RangeError(`DAC update rate ${updateRateHz} Hz must be in (0, ${chain.sampleRateHz}] Hz`);
    this.samplesPerDacUpdate = Math.round(chain.sampleRateHz / updateRateHz);
  }

  /** The device's output for the voltages the controller is writing now, through the DAC: each
   *  the converter's step nearest what was written inside the electrode's declared range
   *  (without a DAC, what was written, kept inside the range: the controller's single-precision
   *  0.6 V is 0.600000024 V). */
  deviceOutput(): number {
    this.device.setTime?.(this.startSeconds + this.samples / this.chain.sampleRateHz);
    if (this.samples % this.samplesPerDacUpdate === 0) {
      const written = this.controller.electrodes();
      const dac = this.chain.dac;
      for (let e = 0; e < this.voltages.length; e++) {
        const range = this.rangesV[e];
        this.voltages[e] = dac ? quantise(written[e], dac.rangeV[0], dac.rangeV[1], dac.bits, range) : Math.min(range[1], Math.max(range[0], written[e]));
      }
    }
    return this.device.output(this.voltages);
  }

  /** What the ADC reports for a device output `y` (chain state advances by one sample). */
  measure(y: number): number {
    return this.reading.next(y);
  }

  /** Runs one sample of the loop; returns the controller's events. */
  step(): number {
    const reading = this.measure(this.deviceOutput());
    this.samples++;
    return this.controller.step(reading);
  }

  /** Runs until `until(events)` is true or `maxSamples` pass; returns the samples run. */
  run(maxSamples: number, until: (events: number) => boolean = () => false): number {
    for (let n = 0; n < maxSamples; n++) {
      if (until(this.step())) return n + 1;
    }
    return maxSamples;
  }

  /** Runs until the controller has made `updates` more updates (or maxSamples pass). */
  runUpdates(updates: number, maxSamples: number, onUpdate?: () => void): number {
    let done = 0;
    return this.run(maxSamples, (events) => {
      if (events & L.Event.UpdateDone) {
        done++;
        onUpdate?.();
      }
      return done >= updates;
    });
  }
}
