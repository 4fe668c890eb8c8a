// phyll-hge: physical local learning (phyll.ts) whose physical layer is trained too, by
// gradients measured in materia with homodyne gradient extraction, never through a model.
// Block 1's configurations keep their wiring; their control voltages move. The first sweep is
// phyll's (plain readings), so a run that solves before its first physical step costs what
// phyll's does. Every `physicalEvery` digital epochs, a physical step:
//   1. the training split is swept through the module (at the first step; later steps use the
//      sweep the previous step ended with, taken at the same controls) (module.ts HgeJacobian: configuration j's
//      control electrodes carry the tones, up to MAX_CASES (sample, label) rows per epoch as the
//      module's input cases): one lock-in window per row gives both the reading r_{n,c,j} (the
//      window mean, CASE_OUTPUTS) and ∂r_{n,c,j}/∂v_j (the Jacobian row);
//   2. ∂L/∂r comes from TensorFlow.js through the block's standardisation and digital layer;
//   3. g_j = Σ_{n,c} ∂L/∂r_{n,c,j} · ∂r_{n,c,j}/∂v_j, one Adam step (the module's rule,
//      optimiser.ts; each electrode clamped to its range; a trust region in reading space), and
//      both splits are swept again: the training split through the module (readings for the
//      digital layer, Jacobian rows for the next step), the held-out split as phyll reads it.
// Why the window means may serve as readings: a tone is a whole number of periods in the window,
// so its mean is zero, and a sinusoid stays one through the chain's low-pass and delay; what
// remains is the device's curvature, mean f(v + a·sin) = f(v) + a²f''/4 + …, which
// tests/phyll-hge.test.ts bounds against a plain reading.
// Every sample the module runs is device time (Instrument.advance). Its windows are its own
// plan's, settling included: with one configuration, 918 of them took 39.1 device-s on the
// default DNPU and on the resistor network alike (42.6 ms each), against a plain reading's 12 ms
// (LEVEL_WINDOW_SAMPLES after the settle), so a module sweep costs about 3.5 plain ones. The
// chain's lag is fitted once, on the whole device (calibrate()).
import { DeviceView } from "../devices/device.ts";
import { INSTRUMENT_READS, type Instrument } from "./instrument.ts";
import { DEFAULTS, startingVoltages, type TrainOptions } from "../train.ts";
import { MAX_CASES, levelToVolts, type Task } from "../tasks/task.ts";
import { Breather, type Budget, type Method, type RunContext, type StopReason } from "./method.ts";
import { HgeJacobian, hgeJacobianMisfit } from "./module.ts";
import { ControlOptimiser, OPTIMISER_READS, optimiserSettings } from "./optimiser.ts";
import { DevicePhysicalLayer, PHYLL, PHYLL_DEFAULTS, PHYLL_LIMITS, phyllSettings, runPhyll, sweepLayer, type PhyllVariant, type PhysicsTraining, type Sweep } from "./phyll.ts";

export const PHYLL_HGE_NAME = "phyll-hge";

/** phyll's defaults and the physical training's, each with its reason. */
export const PHYLL_HGE_DEFAULTS = {
  ...PHYLL_DEFAULTS,
  /** Digital epochs between physical steps. A step costs a sweep of both splits (the training
   *  split through the module, about 3.5 plain sweeps: above), more device time than phyll's
   *  first sweep of both, and the 300 epochs
   *  bound the steps. DNPU, 4 configurations, seeds 1–5: every 5 epochs 1/5 solved (held-out
   *  mean 77.5%), every 20 2/5 (81.3%), every 50 1/5 (74.2%). */
  physicalEvery: 20,
  /** Adam's step on the control voltages, V (about the largest change per step): a ceiling;
   *  the trust region below scaled 106 of the 151 steps of the README's DNPU runs (K = 4, 8,
   *  16, seeds 1–10: run.json's counters.trustScaledSteps). */
  physicalLearningRate: 0.05,
  /** A trust region in reading space: a step that the measured Jacobian predicts to change a
   *  configuration's readings by more than this many of their standard deviations (RMS over the
   *  training rows, the first sweep's spread, which the digital layer standardises by) is scaled
   *  down to it. Adam's step is about the learning rate in every control whatever the
   *  sensitivity: 0.05 V on the resistor network's 8 edges moved its readings so far that the
   *  block's loss went from 0.63 to 25. A first choice, not swept: on that step 0.1 raised the
   *  loss by 0.009 and 0.3 by 0.11 (resistor, K = 8, seed 1). */
  readingStep: 0.1,
} as const;

export type PhyllHgeSettings = { -readonly [K in keyof typeof PHYLL_HGE_DEFAULTS]: number };

/** phyll's limits (PHYLL_LIMITS, with their reasons) and the physical training's. */
export const PHYLL_HGE_LIMITS = {
  ...PHYLL_LIMITS,
  /** Beyond a block's largest number of epochs no physical step is ever taken. */
  physicalEvery: PHYLL_LIMITS.epochs,
} satisfies Partial<Record<keyof PhyllHgeSettings, number>>;

/**
 * One configuration of a physical layer seen as a device of its own: its control electrodes
 * are the controls (where the module puts its tones), its input electrodes the inputs, every
 * other electrode held where the configuration holds it. The exact gradient passes through
 * where the underlying device has one and the configuration's controls are its controls.
 */
export class ConfigurationDevice extends DeviceView {
  readonly outputGradient?: (voltages: Float64Array | Float32Array) => Float64Array;
  private readonly full: Float64Array;

  constructor(readonly layer: DevicePhysicalLayer, readonly configuration: number) {
    const { device, rangesV } = layer;
    const { controlElectrodes, inputElectrodes } = layer.configurations[configuration];
    super({
      electrodeCount: controlElectrodes.length + inputElectrodes.length, controlCount: controlElectrodes.length, inputCount: inputElectrodes.length,
      controlRangeV: controlElectrodes.map((e) => rangesV[e]), inputRangeV: inputElectrodes.map((e) => rangesV[e]), outputUnit: device.outputUnit,
    }, `${device.name}, configuration ${configuration + 1}`);
    this.full = new Float64Array(device.electrodeCount);
    const exact = device.outputGradient;
    if (exact && controlElectrodes.every((e) => e < device.controlCount)) {
      this.outputGradient = (voltages) => {
        const row = exact.call(device, this.place(voltages));
        return Float64Array.from(controlElectrodes, (e) => row[e]);
      };
    }
  }

  output(voltages: Float64Array | Float32Array): number {
    return this.layer.device.output(this.place(voltages));
  }

  setTime(deviceSeconds: number): void {
    this.layer.device.setTime?.(deviceSeconds);
  }

  /** The underlying device's voltages: the configuration's, with these controls and inputs. */
  private place(voltages: Float64Array | Float32Array): Float64Array {
    const { controlElectrodes, inputElectrodes, voltages: held } = this.layer.configurations[this.configuration];
    this.full.set(held);
    controlElectrodes.forEach((e, k) => (this.full[e] = voltages[k]));
    inputElectrodes.forEach((e, i) => (this.full[e] = voltages[this.controlCount + i]));
    return this.full;
  }
}

/** The module's input cases for a chunk of rows: no targets to reach (the module only measures). */
function measuringTask(inputCases: number[][]): Task {
  return {
    kind: "cases", name: "phyll-hge sweep", inputCases, targets: inputCases.map(() => 0), outputCount: 1, loss: "mse",
    criterionTarget: 0, solved: () => false, describe: "phyll-hge: readings and Jacobian rows of a physical layer, measured by the module",
  };
}

/**
 * Trains a physical layer's control voltages by HGE (see the top of this file). `jacobian`
 * holds the last training sweep's rows, [row][configuration][control], rows (sample, label)
 * in the training split's order.
 */
export class HgePhysics implements PhysicsTraining {
  readonly every: number;
  readonly hge: HgeJacobian;
  readonly devices: ConfigurationDevice[];
  readonly optimiser: ControlOptimiser;
  jacobian: number[][][] = [];
  /** Physical steps taken, lock-in windows used for readings and Jacobians, the last gradient. */
  steps = 0;
  windows = 0;
  lastGradient: number[] = [];
  /** Steps the trust region scaled down; the block's loss change over the steps (same digital
   *  layer, readings before and after), summed, and the steps that lowered it. */
  scaledSteps = 0;
  lossChange = 0;
  lowering = 0;
  /** Per configuration: the first training sweep's standard deviation of its readings. */
  private spread?: number[];
  private readonly breather: Breather;
  private readonly seed: number;

  constructor(readonly layer: DevicePhysicalLayer, readonly instrument: Instrument, readonly settings: PhyllHgeSettings, readonly budget: Budget, context: RunContext) {
    this.every = settings.physicalEvery;
    this.hge = new HgeJacobian(context.seed, context.journal);
    this.seed = context.seed;
    this.devices = layer.configurations.map((_, j) => new ConfigurationDevice(layer, j));
    const controls = layer.configurations.flatMap(({ controlElectrodes, voltages }) => controlElectrodes.map((e) => voltages[e]));
    const ranges = layer.configurations.flatMap(({ controlElectrodes }) => controlElectrodes.map((e) => layer.rangesV[e]));
    this.optimiser = new ControlOptimiser(Float64Array.from(controls), ranges, optimiserSettings({ ...context.options, learningRate: settings.physicalLearningRate }));
    this.breather = new Breather(context.signal);
  }

  async step(lossGradient: number[][][], train: number[][][], test: number[][][]): Promise<{ train: Sweep; test: Sweep } | StopReason> {
    // The first step measures the Jacobian where the first (plain) sweep was taken; later ones
    // use the last step's sweep, taken at the present controls.
    if (this.jacobian.length === 0) {
      const measured = await this.measureTraining(train);
      if (typeof measured === "string") return measured;
    }
    const gradient = this.controlGradient(lossGradient);
    const before = this.optimiser.values();
    this.optimiser.step(gradient);
    let k = 0;
    let scaled = false;
    for (const [j, { controlElectrodes, voltages }] of this.layer.configurations.entries()) {
      const change = controlElectrodes.map((_, c) => this.optimiser.controlsV[k + c] - before[k + c]);
      const predicted = Math.sqrt(this.jacobian.reduce((sum, row) => sum + row[j].reduce((y, g, c) => y + g * change[c], 0) ** 2, 0) / this.jacobian.length);
      // (a step predicted to move nothing is not scaled: 0/0 would make the voltages NaN)
      const scale = predicted > 0 ? Math.min(1, (this.settings.readingStep * this.spread![j]) / predicted) : 1;
      scaled ||= scale < 1;
      controlElectrodes.forEach((e, c) => (voltages[e] = this.optimiser.controlsV[k + c] = before[k + c] + scale * change[c]));
      k += controlElectrodes.length;
    }
    if (scaled) this.scaledSteps++;
    this.steps++;
    this.lastGradient = gradient;
    const measured = await this.measureTraining(train);
    if (typeof measured === "string") return measured;
    const held = await sweepLayer(this.layer, test, () => this.breather.breathe());
    return typeof held === "string" ? held : { train: measured, test: held };
  }

  stepped(lossBefore: number, lossAfter: number): void {
    this.lossChange += lossAfter - lossBefore;
    if (lossAfter < lossBefore) this.lowering++;
  }

  /** g_j = Σ_{n,c} ∂L/∂r_{n,c,j} · ∂r_{n,c,j}/∂v_j, every configuration's controls in a row. */
  controlGradient(lossGradient: number[][][]): number[] {
    const classCount = lossGradient[0].length;
    return this.layer.configurations.flatMap((configuration, j) =>
      configuration.controlElectrodes.map((_, k) => this.jacobian.reduce((sum, row, r) => sum + lossGradient[Math.floor(r / classCount)][r % classCount][j] * row[j][k], 0)),
    );
  }

  /** Counters for the Result. */
  counters(): Record<string, number> {
    const norm = Math.sqrt(this.lastGradient.reduce((sum, g) => sum + g * g, 0));
    return { physicalSteps: this.steps, stepsLoweringLoss: this.lowering, lossChangeOverSteps: this.lossChange, trustScaledSteps: this.scaledSteps, hgeWindows: this.windows, hgeEpochs: this.hge.epochs, hgeDeviceSeconds: this.hge.seconds, controlGradientNorm: norm };
  }

  /** How the module reads the device: as the instrument does (Instrument.forModule) after its
   *  settling, in the module's own default window (a plain reading's is too short for its tones). */
  private moduleReading(): Partial<TrainOptions> {
    return { windowSamples: DEFAULTS.windowSamples, settleSamples: this.instrument.settleSamples, growWindow: true, ...this.instrument.forModule() };
  }

  /**
   * Fits the chain's lag once, on the whole device with as many controls as it can have (the
   * DNPU with one data input: six tones), at its first seeded start and four input points. A
   * configuration's own controls will not do: the default DNPU's have one tone each, and one
   * tone's phase does not separate delay from corner, nor a negative gradient from half a
   * period of lag (from one tone the module fitted 76 samples and 22 Hz for a chain of 2 samples
   * and 1 kHz, and every measured gradient came out with the wrong sign). The lag is the chain's,
   * so every configuration then demodulates with it. Device time counted; why it could not
   * (the budget ran out, or the module's fault), or undefined.
   */
  private calibrate(): "budget" | "fault" | undefined {
    const { device } = this.layer;
    const whole = device.withInputCount?.(1) ?? device;
    const cases = [-0.5, -0.25, 0.25, 0.5].map((level) => whole.inputRangeV.map((range) => levelToVolts(level, range)));
    const spent = this.instrument.deviceSeconds;
    const measured = this.hge.measure(whole, measuringTask(cases), startingVoltages(whole, this.seed, 0), spent, this.budget.deviceSeconds - spent, this.moduleReading());
    this.instrument.advance(this.hge.seconds);
    return typeof measured === "string" ? measured : undefined;
  }

  /** The training split through the module, configuration by configuration, MAX_CASES rows an
   *  epoch: its readings [sample][label][configuration]; the Jacobian rows go to `jacobian`. */
  async measureTraining(train: number[][][]): Promise<Sweep | StopReason> {
    const uncalibrated = this.hge.epochs === 0 ? this.calibrate() : undefined;
    if (uncalibrated) return uncalibrated;
    const rows = train.flat();
    const classCount = train[0].length;
    const readings: Sweep = train.map((labels) => labels.map(() => new Array<number>(this.layer.outputWidth).fill(0)));
    const jacobian: number[][][] = rows.map(() => []);
    for (const [j, configuration] of this.layer.configurations.entries()) {
      const controls = configuration.controlElectrodes.map((e) => configuration.voltages[e]);
      for (let start = 0; start < rows.length; start += MAX_CASES) {
        const chunk = rows.slice(start, start + MAX_CASES);
        const cases = chunk.map((levels) => {
          const voltages = this.layer.voltagesFor(j, levels);
          return configuration.inputElectrodes.map((e) => voltages[e]);
        });
        const before = this.hge.seconds;
        const spent = this.instrument.deviceSeconds;
        const measured = this.hge.measure(this.devices[j], measuringTask(cases), controls, spent, this.budget.deviceSeconds - spent, this.moduleReading());
        this.instrument.advance(this.hge.seconds - before);
        if (typeof measured === "string") return measured;
        this.windows += chunk.length;
        measured.outputs.forEach((y, p) => {
          const r = start + p;
          readings[Math.floor(r / classCount)][r % classCount][j] = y;
          jacobian[r][j] = measured.jacobian[p];
        });
        if (!(await this.breather.breathe())) return "interrupted";
      }
    }
    this.jacobian = jacobian;
    this.spread ??= this.layer.configurations.map((_, j) => {
      const values = readings.flat().map((r) => r[j]);
      const mean = values.reduce((a, b) => a + b, 0) / values.length;
      return Math.sqrt(values.reduce((sum, y) => sum + (y - mean) ** 2, 0) / values.length);
    });
    return readings;
  }
}

export const PHYLL_HGE_VARIANT: PhyllVariant<PhyllHgeSettings> = {
  name: PHYLL_HGE_NAME,
  settings: (options) => phyllSettings(options, PHYLL_HGE_DEFAULTS, PHYLL_HGE_NAME, ["threshold", "learningRate", "physicalLearningRate", "readingStep"], PHYLL_HGE_LIMITS),
  physics: (layer, instrument, settings, budget, context) => new HgePhysics(layer, instrument, settings, budget, context),
  describe: { physicalTraining: "block 1's control voltages by HGE (module lock-in windows, readings = window means)" },
};

export const PHYLL_HGE: Method = {
  name: PHYLL_HGE_NAME,
  summary: "phyll whose physical layer's control voltages are trained too, by ∂reading/∂control measured in materia with HGE (one lock-in window per sample and label) chained with the local loss",
  needs: [],
  misfit: hgeJacobianMisfit,
  tasks: ["dataset"],
  settings: PHYLL_HGE_DEFAULTS,
  // (the physical step's optimiser; its rate is physicalLearningRate, and learningRate, as
  // phyll's, the digital layer's)
  reads: [...INSTRUMENT_READS, ...OPTIMISER_READS.filter((option) => option !== "learningRate")],
  requires: PHYLL.requires,
  train: (device, task, budget, context) => runPhyll(device, task, budget, context, PHYLL_HGE_VARIANT),
};
