// Every field of the controller's configuration block, once: its type, unit, the bounds the
// module enforces, the host's default, one line of documentation, and the CLI's decision (a
// flag, or why it is not one). Derived from this table: the host's defaults (train.ts
// DEFAULTS, controller.ts's fallbacks), the CLI's option help and refusal messages
// (bin/cli.ts), the README's field tables (tests/readme.test.ts checks them, and
// `npx tsx scripts/readme-tables.ts` writes them). The module keeps its own packed copy of
// the bounds (it is import-free); tests/config-fields.test.ts probes the module at every
// bound, so the two cannot drift. A new field is one row here.
import * as L from "../assembly/layout.ts";

export type FieldName = Exclude<keyof typeof L.Field, "None" | "Plan" | "Checkpoint">;

export interface FieldSpec {
  type: "i32" | "f32";
  /** Physical unit ("" for counts and codes; "reading" = the unit of the readings step() is
   *  given: the device's output unit on the host, nA for the DNPU and V for resistor networks;
   *  the board file carries the ADC's scale). */
  unit: string;
  /** Inclusive bounds the module checks (header fields); arrays state theirs in `doc`. */
  low?: number;
  high?: number;
  /** The host's default: a number, or what decides it when it depends on the run. */
  default: number | string;
  doc: string;
  /** The CLI flag that sets it, or why there is none. */
  cli: { flag: string } | { none: string };
}

const BELOW_ONE = 0.99999994; // the largest f32 below 1
const TINY = 1e-30;
const MAX_ABS_READING = 1e12;

export const FIELDS: Record<FieldName, FieldSpec> = {
  Version: { type: "i32", unit: "", low: L.CONFIG_VERSION, high: L.CONFIG_VERSION, default: L.CONFIG_VERSION, doc: `the block's format: must be ${L.CONFIG_VERSION}`, cli: { none: "a constant of the format" } },
  SampleRateHz: { type: "f32", unit: "Hz", low: 1, high: 1e9, default: 5000, doc: "rate of step() calls (the HGE paper's converters ran at 5 kHz)", cli: { flag: "--sample-rate" } },
  WindowSamples: { type: "i32", unit: "samples", low: 8, high: L.MAX_WINDOW_SAMPLES, default: 200, doc: "per lock-in window (40 ms: planned tones 25 Hz apart; XOR's median time to solve fell from 27 s to about 9 s with 500 → 200, 50 → 10 settling and GuardBins 0; the host gives MSE tasks 500, train.ts MSE_WINDOW_SAMPLES); whole periods of every tone (tones are bins of this window, so that holds by construction) and, for codes, a whole number of code periods: ChipSamples × (2·ControlCount sequential, 2 SPSA, the power of two above ControlCount Walsh, 1 random)", cli: { flag: "--window" } },
  SettleSamples: { type: "i32", unit: "samples", low: 0, high: 16777216, default: 10, doc: "readings discarded after each change of case or update (2 ms: the default chain settles in < 2 ms); a slew-limited ramp counts as settling, and a window never starts before it is over", cli: { flag: "--settle" } },
  ControlCount: { type: "i32", unit: "", low: 1, high: L.MAX_CONTROLS, default: "the device's control electrodes", doc: "control electrodes", cli: { none: "the device decides" } },
  InputCount: { type: "i32", unit: "", low: 0, high: L.MAX_INPUTS, default: "the task's data inputs", doc: "data-input electrodes", cli: { none: "the task decides (the DNPU assigns electrodes to inputs)" } },
  CaseCount: { type: "i32", unit: "", low: 1, high: L.MAX_CASES, default: "the task's input cases", doc: "input cases (1 for streaming)", cli: { none: "the task decides" } },
  ToneMode: { type: "i32", unit: "", low: 0, high: 1, default: L.ToneMode.Plan, doc: "0 plan the tones, 1 take ToneBin as given", cli: { flag: "--tones" } },
  BandLowHz: { type: "f32", unit: "Hz", low: 0, high: 1e9, default: 20, doc: "planner: lowest usable frequency, below SampleRateHz/2 (write 0 with given tones)", cli: { flag: "--band" } },
  BandHighHz: { type: "f32", unit: "Hz", low: 0, high: 1e9, default: 1000, doc: "planner: highest usable frequency, above BandLowHz, at most SampleRateHz/2 (the default chain's 1 kHz corner; write SampleRateHz/2 with given tones)", cli: { flag: "--band" } },
  GuardBins: { type: "i32", unit: "bins", low: 0, high: 64, default: 0, doc: "minimum distance between a tone and any intermodulation product, folded ones included (planner; the report on given tones); 0 lets products land on other bins, orthogonal over a window of a static device, and plans 5 order-3 tones in a 200-sample window (1 needs 330, which hge train rounds up to 350 as it does every window it lengthens; order 2 fits 200 with either)", cli: { flag: "--guard" } },
  PlanOrder: { type: "i32", unit: "", low: 2, high: 3, default: 3, doc: "planner: 3 keeps second- and third-order products off the tones (a window growing as controls²), 2 second-order only (as controls; third-order products land on tones: for a device whose measured third-order distortion is below the noise; with CalibrationEpochs > 0 the tones sit one spacing higher, leaving the distortion probe the bin below them)", cli: { flag: "--plan-order" } },
  Loss: { type: "i32", unit: "", low: 0, high: 2, default: "the task's (corrsig for gates and sphere, MSE for regression)", doc: "0 MSE, 1 corrsig, 2 fisher", cli: { flag: "--loss" } },
  MarginScale: { type: "f32", unit: "reading", low: TINY, high: 1e30, default: "30 nA (DNPU), 0.1 V (resistor networks)", doc: "corrsig: sigmoid(separation / MarginScale) (write 1 when unused)", cli: { flag: "--margin-scale" } },
  Optimiser: { type: "i32", unit: "", low: 0, high: 2, default: L.Optimiser.Adam, doc: "0 SGD, 1 momentum, 2 Adam", cli: { flag: "--optimiser" } },
  LearningRate: { type: "f32", unit: "V", low: TINY, high: 1e30, default: 0.2, doc: "step size, V per gradient unit (Adam: V); with Adam, XOR's median time to solve over seeds 1..100 is 12.1 s at 0.07 V, 9.7 s at 0.1, 6.1 s at 0.15, 5.0 s at 0.2, 5.9 s at 0.3, 100/100 at each (200-sample windows, patience 10, solved epochs confirmed held and read plainly); XNOR's 5.8 s at 0.1, 6.3 s at 0.2 (hge train --task xor or xnor --learning-rate R --seed N, N = 1..100)", cli: { flag: "--learning-rate" } },
  Beta1: { type: "f32", unit: "", low: 0, high: BELOW_ONE, default: 0.9, doc: "momentum coefficient or Adam's β1 (the HGE paper's 0.9)", cli: { flag: "--beta1" } },
  Beta2: { type: "f32", unit: "", low: 0, high: BELOW_ONE, default: 0.9, doc: "Adam's β2 (the HGE paper's 0.9)", cli: { flag: "--beta2" } },
  Epsilon: { type: "f32", unit: "", low: TINY, high: 1e30, default: 1e-8, doc: "Adam's denominator floor, gradient units", cli: { flag: "--epsilon" } },
  Perturbation: { type: "i32", unit: "", low: 0, high: L.PERTURBATION_KINDS - 1, default: L.Perturbation.Sinusoid, doc: "0 sinusoids, 1 sequential, 2 SPSA, 3 random codes, 4 Walsh", cli: { flag: "--method" } },
  Gradient: { type: "i32", unit: "", low: 0, high: 2, default: L.Gradient.Jacobian, doc: "0 Jacobian per case, chain rule; 1 demodulate the loss signal (MSE); 2 streaming (MSE, one case)", cli: { flag: "--gradient" } },
  Demodulation: { type: "i32", unit: "", low: 0, high: 1, default: L.Demodulation.Projection, doc: "0 projection onto the lag, 1 published magnitude with a ±90° sign", cli: { flag: "--method" } },
  LagDelaySamples: { type: "f32", unit: "samples", low: 0, high: 1e6, default: "the chain model's delay", doc: "measurement chain: transport delay, may be fractional (write 0 when unused)", cli: { flag: "--lag" } },
  LagCornerHz: { type: "f32", unit: "Hz", low: 0, high: 1e9, default: "the chain model's corner", doc: "measurement chain: first-order RC corner, 0 = none (one below 1.9e-8 × SampleRateHz is taken as that: its pole would round to 1 in f32); a calibration keeps it, fitting the delay, unless the tones' phases reject it", cli: { flag: "--lag" } },
  CalibrationEpochs: { type: "i32", unit: "epochs", low: 0, high: 1024, default: 2, doc: "> 0: fit the lag from this many epochs (all cases measured once) first (sinusoids; two controls or more: one tone's phase is known only modulo π, so one control needs its lag given: hge train gives it 0 by default)", cli: { flag: "--calibration" } },
  StreamOrder: { type: "i32", unit: "", low: 1, high: 4, default: 2, doc: "streaming: cascaded first-order low-passes (write 1 when unused)", cli: { flag: "--stream-order" } },
  StreamTauSamples: { type: "f32", unit: "samples", low: 1, high: 1e9, default: "WindowSamples", doc: "streaming: each low-pass's time constant (write WindowSamples when unused)", cli: { flag: "--stream-tau" } },
  ReadingMin: { type: "f32", unit: "reading", low: -MAX_ABS_READING, high: MAX_ABS_READING, default: "−(ADC full scale × transimpedance)", doc: "readings at or below are saturated (the window is discarded)", cli: { none: "the chain's ADC range decides it" } },
  ReadingMax: { type: "f32", unit: "reading", low: -MAX_ABS_READING, high: MAX_ABS_READING, default: "ADC full scale × transimpedance", doc: "readings at or above are saturated", cli: { none: "the chain's ADC range decides it" } },
  ChipSamples: { type: "i32", unit: "samples", low: 1, high: L.MAX_WINDOW_SAMPLES, default: 1, doc: "codes: samples per chip (write 1 for sinusoids)", cli: { flag: "--chip-samples" } },
  Seed: { type: "i32", unit: "", low: 1, high: 16777216, default: 1, doc: "codes: seed of the random signs (write 1 when unused)", cli: { flag: "--code-seed" } },
  SpsaStability: { type: "f32", unit: "", low: 0, high: 1e9, default: 10, doc: "SPSA: A in the gain a/(k+1+A)^0.602, in updates", cli: { flag: "--spsa-stability" } },
  SlewVPerS: { type: "f32", unit: "V/s", low: TINY, high: 1e30, default: 1000, doc: "fastest change of any electrode's voltage: case changes, restarts, loads and parking ramp (1 V/ms: brains-py ramps a DNPU over about 1 ms; crosses the widest DNPU range, 1.8 V, in 1.8 ms; 20× what the published tones need, 51 V/s)", cli: { flag: "--slew" } },
  ToneBin: { type: "i32", unit: "cycles per window", default: "planned", doc: "each control's tone (ToneMode 1; otherwise configure() writes the plan here): distinct, 1 .. below WindowSamples/2", cli: { flag: "--tones" } },
  AmplitudeV: { type: "f32", unit: "V", default: 0.02, doc: "peak perturbation, 0 < a ≤ (MaxV − MinV)/2 (20 mV: about 0.3 kT on DNPU sites, near linear)", cli: { flag: "--amplitude-mv" } },
  MinV: { type: "f32", unit: "V", default: "the device's safe range", doc: `safe range of each control electrode, within ±${L.MAX_ABS_VOLTS}`, cli: { none: "the device's safe range" } },
  MaxV: { type: "f32", unit: "V", default: "the device's safe range", doc: `top of each control electrode's safe range, above MinV, within ±${L.MAX_ABS_VOLTS}`, cli: { none: "the device's safe range" } },
  InitialV: { type: "f32", unit: "V", default: "seeded random in the middle 80% of each range", doc: "starting voltage, inside the range", cli: { flag: "--initial-v" } },
  Trainable: { type: "i32", unit: "", default: 1, doc: "1 updated, 0 held (still perturbed and measured)", cli: { flag: "--hold" } },
  InputMinV: { type: "f32", unit: "V", default: "the device's input ranges", doc: `bottom of each input electrode's range, within ±${L.MAX_ABS_VOLTS}`, cli: { none: "the device's input ranges" } },
  InputMaxV: { type: "f32", unit: "V", default: "the device's input ranges", doc: `top of each input electrode's range, at or above InputMinV, within ±${L.MAX_ABS_VOLTS}`, cli: { none: "the device's input ranges" } },
  CaseInputV: { type: "f32", unit: "V", default: "the task's cases", doc: `each case's input voltages, inside each input's range (${L.MAX_CASES} cases × ${L.MAX_INPUTS} inputs, case-major)`, cli: { none: "the task decides" } },
  Target: { type: "f32", unit: "reading", default: "the task's targets", doc: "target output (MSE, reading unit) or class 0/1 (corrsig, fisher: both classes present)", cli: { none: "the task decides" } },
};

/** The default of a field that has a number for one. */
export function defaultOf(name: FieldName): number {
  const value = FIELDS[name].default;
  if (typeof value !== "number") throw new Error(`${name}'s default is decided by the run: ${value}`);
  return value;
}

/** The valid values of a header field as the CLI and the README say them. */
export function boundsText(name: FieldName): string {
  const { low, high, unit } = FIELDS[name];
  if (low === undefined || high === undefined) return "";
  const show = (x: number) => {
    if (x === BELOW_ONE) return "< 1";
    if (x === TINY) return "1e-30";
    const power = Math.log2(Math.abs(x));
    if (Math.abs(x) >= 65536 && Number.isInteger(power)) return `${x < 0 ? "−" : ""}2^${power}`;
    const decade = Math.log10(Math.abs(x));
    if (Math.abs(x) >= 1e5 && Number.isInteger(decade)) return `${x < 0 ? "−" : ""}1e${decade}`;
    return String(x);
  };
  const units = unit && unit !== "reading" ? ` ${unit}` : "";
  // (0.99999999 < 1 is 1 as an f32: the bound said is the one applied)
  if (high === BELOW_ONE) return `${show(low)} .. ${BELOW_ONE}, the largest f32 below 1`;
  return low === high ? `${low}` : `${show(low)} .. ${show(high)}${units}`;
}

/** The README's table of header fields (ids 1 .. HEADER_WORDS − 1). */
export function headerTableMarkdown(): string {
  const rows = (Object.keys(FIELDS) as FieldName[]).filter((name) => L.Field[name] < L.HEADER_WORDS);
  return [
    "| id | field | type | unit | valid values | host default | meaning | CLI |",
    "|---|---|---|---|---|---|---|---|",
    ...rows.map((name) => {
      const f = FIELDS[name];
      const cli = "flag" in f.cli ? `\`${f.cli.flag}\`` : `— (${f.cli.none})`;
      return `| ${L.Field[name]} | ${name} | ${f.type} | ${f.unit === "reading" ? "reading unit" : f.unit} | ${boundsText(name)} | ${f.default} | ${f.doc} | ${cli} |`;
    }),
  ].join("\n");
}
