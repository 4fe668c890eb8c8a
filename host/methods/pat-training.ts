// Physics-aware training (Wright et al., Nature 2022), the implementation behind the registry
// entries in pat.ts (loaded on first use: TensorFlow.js takes about a second to load). The
// physical device runs every forward pass and a differentiable digital twin, fitted to a sweep
// measured from the same device, supplies only the backward pass. Each step: measure y = f_p(x, θ) per case (noise and all),
// take ∂L/∂y at the measured y, and step θ along −(∂f_m/∂θ)ᵀ ∂L/∂y with f_m evaluated at the
// same (x, θ). The twin's forward errors never reach the loss; its Jacobian errors do.
// Case tasks train the controls directly; a data set (iris) trains K control settings of the
// device (K physical features per sample) under a digital softmax readout.
import { createHash } from "node:crypto";
import { FIELDS } from "../config-fields.ts";
import { electrodeRangesV, type Device } from "../devices/device.ts";
import { TrainConfigError } from "../errors.ts";
import { corrsig, gateMargin } from "../tasks/gates.ts";
import { meanSquaredError } from "../tasks/regression.ts";
import { levelToVolts, type AnyTask, type DatasetTask, type LossName, type Task } from "../tasks/task.ts";
import { StallWatch, criterionName, initialVoltages, restartVoltages, solvedEpochsOf, startingVoltages, type TrainOptions } from "../train.ts";
import { HgeJacobian } from "./module.ts";
import { cosine, maxOf } from "../metrics.ts";
import { Rng } from "../noise.ts";
import { Instrument, measuredAs, type InstrumentSettings } from "./instrument.ts";
import { ControlOptimiser, optimiserSettings } from "./optimiser.ts";
import { BUDGET_SLACK_SECONDS, Breather, Confirmation, deviceFaultOf, measuredWorkLost, type Budget, type Progress, type Result, type RunContext, type StopReason } from "./method.ts";
import { PAT_CASES_ONLY, PAT_DATASET_ONLY, PAT_DEFAULTS, PAT_HGE_DEFAULTS, PAT_HGE_NAME, PAT_NAME, patMisfit, type PatSettings } from "./pat.ts";
import { tf } from "./tf.ts";
import { MlpTwin, type MlpTwinSettings, type Twin } from "./twin.ts";


/** Test hooks: a given twin replaces the measured sweep and the MLP (e.g. the device itself);
 *  instrument settings replace the chain's noise. */
export interface PatHooks {
  twin?: Twin;
  instrument?: InstrumentSettings;
}

/** The task's loss on case outputs, from the task modules (pat takes ∂L/∂y by differences). */
const LOSSES: Partial<Record<LossName, (outputs: ArrayLike<number>, targets: ArrayLike<number>) => number>> = {
  corrsig,
  mse: meanSquaredError,
};


/**
 * The largest value of each size, count and epoch setting, with its reason; beyond it a run is
 * refused before any device time is spent. Times are this machine's (one thread of the
 * WebAssembly backend), where the twin's fit at the defaults (1000 points, 2×32 units, 150
 * epochs of 64-point batches) takes about 3 s and a measurement 12 ms of device time (DNPU).
 * solvedEpochs, patience and hgeEvery have none: they count updates, allocate nothing, and a
 * value beyond a run's updates means "never".
 */
export const PAT_LIMITS = {
  /** The module's own limit for a lock-in window (config-fields.ts WindowSamples). */
  windowSamples: FIELDS.WindowSamples.high!,
  /** The module's own limit for settling (config-fields.ts SettleSamples). */
  settleSamples: FIELDS.SettleSamples.high!,
  /** The fit grows with the points: 20000 take about 50 s to fit here and 240 device-s to
   *  measure, most of the default 300-s budget. */
  sweepPoints: 20_000,
  /** The fit grows as the units squared: 2×256 (66k weights, far more than a sweep pins down)
   *  take about 40 s here; 1e7 overflowed a JavaScript array. */
  hiddenUnits: 256,
  /** Every layer adds its operations to every step: 16 layers of 32 take about 30 s here. */
  hiddenLayers: 16,
  /** About 17 ms an epoch at the defaults: 5000 epochs take about 90 s here. */
  twinEpochs: 5000,
  /** A batch is one step, between two checks of Ctrl-C: 256 rows through the largest twin (16
   *  layers of 256) take about 1 s here. */
  twinBatchSize: 256,
  /** Data sets: an epoch measures every sample under every setting, 1.8 device-s a setting on
   *  iris (150 samples); 64 settings make an epoch of 115 device-s. */
  featureSettings: 64,
  /** The readout's steps run between two checks of Ctrl-C: 1000 take about 2 s here. */
  readoutSteps: 1000,
} satisfies Partial<Record<keyof PatSettings, number>>;

/** pat or pat-hge: one training, pat-hge's with a Jacobian from HGE every `hgeEvery` updates. */
export type PatMethodName = typeof PAT_NAME | typeof PAT_HGE_NAME;

/** The settings a run of `method` uses: its defaults (pat's never measure an HGE Jacobian:
 *  hgeEvery 0), overridden by whatever RunContext.options names of its own settings (pat has
 *  no hgeEvery: hge train refuses it, naming pat's), each checked against its range (the whole
 *  ones against PAT_LIMITS); a refusal names `method`. */
export function patSettings(options: Record<string, unknown> = {}, method: PatMethodName = PAT_NAME, kind: AnyTask["kind"] = "cases"): PatSettings {
  const own: Partial<PatSettings> = method === PAT_HGE_NAME ? { ...PAT_DEFAULTS, ...PAT_HGE_DEFAULTS } : PAT_DEFAULTS;
  const defaults: PatSettings = { ...PAT_DEFAULTS, hgeEvery: 0, ...own };
  const limits: Partial<Record<keyof PatSettings, number>> = PAT_LIMITS;
  const settings = { ...defaults };
  for (const key of Object.keys(own) as Array<keyof PatSettings>) {
    const value = options[key];
    if (value === undefined) continue;
    const whole = ["windowSamples", "settleSamples", "sweepPoints", "hiddenUnits", "hiddenLayers", "twinEpochs", "twinBatchSize", "featureSettings", "readoutSteps", "patience", "hgeEvery"].includes(key);
    // (pat-hge's hgeEvery from 1: at 0 it would be pat under pat-hge's name)
    // (windowSamples from the module's own low bound: --window, which sets it, took 8 and --set 1)
    const lowest = key === "windowSamples" ? FIELDS.WindowSamples.low! : ["settleSamples", "readoutSteps", "patience"].includes(key) ? 0 : whole ? 1 : Number.MIN_VALUE;
    const highest = limits[key] ?? Number.MAX_VALUE;
    if (typeof value !== "number" || !Number.isFinite(value) || !(value >= lowest && value <= highest) || (whole && !Number.isInteger(value))) {
      const wanted = !whole ? "a number > 0" : highest < Number.MAX_VALUE ? `a whole number ${lowest} .. ${highest}` : `a whole number ≥ ${lowest}`;
      throw new TrainConfigError(key, `${method}: ${key} must be ${wanted} (default ${defaults[key]}), not ${JSON.stringify(value)}`);
    }
    if (unreadOn(kind).includes(key)) throw new TrainConfigError(key, `${method}: ${key} is read by ${kind === "cases" ? "data-set tasks" : "tasks of input cases"} only, and this task ${kind === "cases" ? "has input cases" : "is a data set"}`);
    settings[key] = value;
  }
  return settings;
}

/** Budget, abort and yielding for one run, around the Instrument that counts device time. */
class Session {
  readonly instrument: Instrument;
  readonly started = performance.now();
  private readonly breather: Breather;

  constructor(device: Device, readonly budget: Budget, readonly context: RunContext, settings: PatSettings, hooks: PatHooks) {
    this.breather = new Breather(context.signal);
    this.instrument = new Instrument(device, context.seed, { windowSamples: settings.windowSamples, settleSamples: settings.settleSamples, ...measuredAs(context.options), journal: context.journal, ...hooks.instrument });
  }

  get deviceSeconds(): number {
    return this.instrument.deviceSeconds;
  }

  /** Why to stop before `measurements` more measurements, or undefined to go on. */
  stopBefore(measurements: number): StopReason | undefined {
    if (this.context.signal?.aborted) return "interrupted";
    const each = (this.instrument.settleSamples + this.instrument.windowSamples) / this.instrument.chain.sampleRateHz;
    if (this.deviceSeconds + measurements * each > this.budget.deviceSeconds + BUDGET_SLACK_SECONDS) return "budget";
    return undefined;
  }

  /** Lets the event loop run (Ctrl-C, progress); false once the run was aborted. */
  async breathe(): Promise<boolean> {
    return this.breather.breathe();
  }
}

/** Measures the twin's sweep: controls uniform over their ranges, inputs drawn by `inputs`
 *  (the task's own input cases or samples: the twin learns where it will be used). */
async function measureSweep(session: Session, device: Device, points: number, inputs: (rng: Rng) => number[], rng: Rng) {
  const voltages: number[][] = [];
  const outputs: number[] = [];
  for (let i = 0; i < points; i++) {
    const stop = session.stopBefore(1);
    if (stop) return { voltages, outputs, stop };
    const v = [...device.controlRangeV.map(([low, high]) => rng.between(low, high)), ...inputs(rng)];
    try {
      outputs.push(session.instrument.measure(v));
    } catch (error) {
      return { voltages, outputs, stop: "device" as const, fault: deviceFaultOf(error) };
    }
    voltages.push(Array.from(session.instrument.heldVoltages()));
    await session.breathe();
  }
  return { voltages, outputs, stop: undefined };
}

/** ∂L/∂y_p by central differences on the task's loss (a digital function of the outputs). */
function lossGradient(loss: (y: ArrayLike<number>, t: ArrayLike<number>) => number, outputs: number[], targets: number[]): number[] {
  const step = 1e-6 * Math.max(maxOf(outputs.map(Math.abs)), 1e-6);
  return outputs.map((_, p) => {
    const up = outputs.slice();
    const down = outputs.slice();
    up[p] += step;
    down[p] -= step;
    return (loss(up, targets) - loss(down, targets)) / (2 * step);
  });
}

/** Trains `task` on `device` by physics-aware training (see the top of this file). */
export async function trainPat(device: Device, task: AnyTask, budget: Budget, context: RunContext, hooks: PatHooks = {}, method: PatMethodName = PAT_NAME): Promise<Result> {
  const settings = patSettings(context.options, method, task.kind);
  const measured = task.kind === "cases" ? device : deviceFor(device, task);
  const session = new Session(measured, budget, context, settings, hooks);
  try {
    return task.kind === "cases" ? await trainCases(measured, task, budget, context, settings, hooks, session) : await trainDataset(measured, task, budget, context, settings, hooks, session);
  } catch (error) {
    throw measuredWorkLost(method, session.deviceSeconds, error);
  }
}

/** The settings a task of this kind leaves unread (pat's readout is a data set's, its restarts
 *  a task of input cases'). */
const unreadOn = (kind: AnyTask["kind"]) => (kind === "cases" ? PAT_DATASET_ONLY : PAT_CASES_ONLY) as readonly string[];

/** The parts of a Result every pat run fills the same way: the settings it read (pat-hge's
 *  hgeEvery, pat's none: at 0 it is pat). */
function baseResult(device: Device, task: AnyTask, context: RunContext, session: Session, settings: PatSettings, twin: Twin | undefined) {
  return {
    method: settings.hgeEvery > 0 ? PAT_HGE_NAME : PAT_NAME, // (patSettings: pat's is 0, pat-hge's at least 1)
    device: device.name,
    task: task.name,
    seed: context.seed,
    ranOn: "node",
    deviceSeconds: session.deviceSeconds,
    wallSeconds: (performance.now() - session.started) / 1000,
    outputUnit: device.outputUnit,
    settings: {
      ...Object.fromEntries(Object.entries(settings).filter(([key]) => !unreadOn(task.kind).includes(key) && !(key === "hgeEvery" && settings.hgeEvery === 0))),
      solvedEpochs: solvedEpochsOf(context.options),
      twin: twin?.description ?? "none (stopped before the twin was fitted)",
    },
  };
}

/** The last twin fitted, by what it was fitted to: a fit is deterministic, so runs that measure
 *  the same sweep (pat and pat-hge from one seed on one device, a drifting device's run before
 *  its drift) share it instead of fitting it again. Owned here: replaced twins are disposed. */
let lastFit: { key: string; twin: MlpTwin; wallSeconds: number } | undefined;

/** The MLP twin fitted to a sweep, and the wall seconds its fit took (when it was fitted), or
 *  no twin when `keepGoing` stopped the fit (Ctrl-C). */
async function fitTwin(ranges: Array<[number, number]>, sweep: { voltages: number[][]; outputs: number[] }, settings: MlpTwinSettings, keepGoing: () => Promise<boolean>) {
  const key = createHash("sha256").update(JSON.stringify([ranges, settings])).update(Float64Array.from(sweep.voltages.flat())).update(Float64Array.from(sweep.outputs)).digest("hex");
  if (lastFit?.key === key) return { ...lastFit, reused: true };
  lastFit?.twin.dispose();
  lastFit = undefined;
  const started = performance.now();
  const twin = await MlpTwin.fit(ranges, sweep.voltages, sweep.outputs, settings, keepGoing);
  const wallSeconds = (performance.now() - started) / 1000;
  if (!twin) return { twin, wallSeconds, reused: false };
  lastFit = { key, twin, wallSeconds };
  return { ...lastFit, reused: false };
}

/** Fits the MLP twin to a sweep (or takes the hook's twin): device time for the sweep only.
 *  Ctrl-C during the fit stops it (stop = "interrupted", no twin). */
async function buildTwin(session: Session, device: Device, settings: PatSettings, hooks: PatHooks, inputs: (rng: Rng) => number[], seed: number) {
  if (hooks.twin) return { twin: hooks.twin, counters: {} };
  const rng = new Rng((Math.imul(seed >>> 0, 0x9e3779b1) ^ 0x7a7) >>> 0);
  const sweep = await measureSweep(session, device, settings.sweepPoints, inputs, rng);
  const counters = { sweepMeasurements: sweep.outputs.length, sweepDeviceSeconds: session.deviceSeconds };
  if (sweep.stop) return { stop: sweep.stop, fault: sweep.fault, counters };
  const { twin, wallSeconds, reused } = await fitTwin(electrodeRangesV(device), sweep, {
    hiddenUnits: settings.hiddenUnits, hiddenLayers: settings.hiddenLayers, epochs: settings.twinEpochs,
    batchSize: settings.twinBatchSize, learningRate: settings.twinLearningRate, seed,
  }, () => session.breathe());
  if (!twin) return { stop: "interrupted" as const, counters: { ...counters, twinFitWallSeconds: wallSeconds } };
  return { twin, counters: { ...counters, twinFitWallSeconds: wallSeconds, twinFitReused: Number(reused), twinFitRmsError: twin.fitRmsError } };
}

async function trainCases(device: Device, task: Task, budget: Budget, context: RunContext, settings: PatSettings, hooks: PatHooks, session: Session): Promise<Result> {
  const loss = LOSSES[task.loss];
  if (!loss) throw new TrainConfigError("task", `pat trains with the task's loss: ${Object.keys(LOSSES).join(" or ")}; ${task.name} uses ${task.loss}`);
  if (task.outputCount !== 1) throw new TrainConfigError("task", `pat reads one output; ${task.name} has ${task.outputCount}`);
  if (task.inputCases[0].length !== device.inputCount) {
    throw new TrainConfigError("task", `task ${task.name} needs ${task.inputCases[0].length} data inputs; ${device.name} has ${device.inputCount}`);
  }
  const cases = task.inputCases;
  const built = await buildTwin(session, device, settings, hooks, (rng) => cases[Math.floor(rng.uniform() * cases.length)], context.seed);
  const initialV = initialVoltages(device, (context.options as Partial<TrainOptions> | undefined)?.initialV, context.seed); // (--initial-v, --resume)
  const history: Result["history"] = { deviceSeconds: [], loss: [], criterion: [], weights: [initialV.slice()], gradient: [], caseOutputs: [] };
  const criterionOf = (outputs: number[]) => (task.loss === "mse" ? Math.sqrt(meanSquaredError(outputs, task.targets)) : gateMargin(outputs, task.targets));
  let optimiser = new ControlOptimiser(Float64Array.from(initialV), device.controlRangeV, optimiserSettings({ ...context.options, learningRate: settings.learningRate }));
  const attempts: Result["attempts"] = [{ startIteration: 0, initialV }];
  let skippedUpdates = 0; // (of the optimisers of the starts before this one)
  const maxIterations = budget.maxIterations ?? Infinity;
  // a twin whose fit diverged (its RMS error not finite: too large a twinLearningRate) gives no
  // gradient to follow: every update would be skipped, so the run stops at once, its sweep
  // kept, rather than spend its budget (a data set's readout still learns: it goes on)
  const diverged = built.twin instanceof MlpTwin && !Number.isFinite(built.twin.fitRmsError);
  let stopped: StopReason = built.stop ?? (diverged ? "twin" : "iterations");
  let fault = built.fault;
  let iteration = 0;
  const confirmation = new Confirmation(solvedEpochsOf(context.options), task);
  const stallWatch = new StallWatch((context.options as Partial<TrainOptions> | undefined)?.resumedStall);
  const hge = settings.hgeEvery > 0 ? new HgeJacobian(context.seed) : undefined;
  /** pat-hge: per case, the measured HGE Jacobian minus the twin's at the last refresh. */
  let corrections: number[][] = cases.map(() => new Array(device.controlCount).fill(0));
  let jacobianCosines = 0; // summed over refreshes: mean cosine of the twin's rows against HGE's
  let refreshes = 0; // that measured a Jacobian (one the budget cut short measured none)
  let refreshedAt = -Infinity; // the update of the last HGE refresh (every start begins with one)
  let outputs: number[] = [];
  let forwardSquaredError = 0;
  while (built.twin && !diverged) {
    // (a confirming epoch only reads the cases: no HGE refresh, no step)
    const refresh = hge !== undefined && iteration - refreshedAt >= settings.hgeEvery && !confirmation.holding;
    const stop = iteration >= maxIterations ? "iterations" : session.stopBefore(cases.length);
    if (stop) {
      stopped = stop;
      break;
    }
    const controls = optimiser.values();
    const voltages = cases.map((inputs) => [...controls, ...inputs]);
    let measured: ReturnType<HgeJacobian["measure"]> | undefined;
    const before = hge?.seconds ?? 0;
    try {
      outputs = voltages.map((v) => session.instrument.measure(v));
      // (the module reads the same device through the same chain)
      measured = refresh ? hge.measure(device, task, controls, session.deviceSeconds, budget.deviceSeconds - session.deviceSeconds, session.instrument.forModule()) : undefined;
    } catch (error) {
      fault = deviceFaultOf(error);
      stopped = "device";
      break;
    } finally {
      if (hge) session.instrument.advance(hge.seconds - before); // (pat-hge's lock-in windows: the device's clock moves on)
    }
    if (built.twin instanceof MlpTwin) forwardSquaredError += built.twin.predict(voltages).reduce((sum, y, p) => sum + (y - outputs[p]) ** 2, 0);
    if (typeof measured === "string") {
      stopped = measured;
      break;
    }
    if (measured) {
      refreshedAt = iteration;
      refreshes++;
      const twinRows = built.twin.weightedGradients(voltages, voltages.map(() => 1));
      corrections = measured.jacobian.map((row, p) => row.map((g, k) => g - twinRows[p][k]));
      measured.jacobian.forEach((row, p) => (jacobianCosines += cosine(row, twinRows[p].slice(0, row.length)) / cases.length));
    }
    const outputGradient = lossGradient(loss, outputs, task.targets);
    const rows = built.twin.weightedGradients(voltages, outputGradient);
    const gradient = controls.map((_, k) => rows.reduce((sum, row, p) => sum + row[k] + outputGradient[p] * corrections[p][k], 0));
    iteration++;
    const lossValue = loss(outputs, task.targets);
    const criterion = criterionOf(outputs);
    const solvedNow = task.solved(outputs);
    // the run ends on the controls its last readings measured, never on a step after them
    const solved = confirmation.count(solvedNow, outputs);
    if (!solved && !confirmation.holding) optimiser.step(gradient);
    history.deviceSeconds.push(session.deviceSeconds);
    history.loss.push(lossValue);
    history.criterion.push(criterion);
    history.weights.push(optimiser.values());
    history.gradient!.push(gradient);
    history.caseOutputs!.push(outputs);
    context.progress?.(progressOf(iteration, session, lossValue, criterion, criterionName(task), solvedNow, attempts.length));
    if (solved) {
      stopped = "solved";
      break;
    }
    // progress: the margin, or minus the log of the RMS error (a relative fall), gaining MARGIN_PROGRESS
    const stuck = stallWatch.see(task.loss === "mse" ? -Math.log(criterion) : criterion, iteration);
    if (settings.patience > 0 && stuck >= settings.patience && maxIterations - iteration >= settings.patience) {
      // Stuck: the next seeded start, with a fresh optimiser state.
      const startV = restartVoltages(device, context.seed, attempts.length, (context.options as Partial<TrainOptions> | undefined)?.resumedAttempts);
      skippedUpdates += optimiser.skippedUpdates;
      optimiser = new ControlOptimiser(Float64Array.from(startV), device.controlRangeV, optimiserSettings({ ...context.options, learningRate: settings.learningRate }));
      attempts.push({ startIteration: iteration, initialV: startV });
      history.weights[history.weights.length - 1] = startV.slice();
      stallWatch.restart(iteration);
      confirmation.restart();
      corrections = corrections.map((row) => row.fill(0));
      refreshedAt = -Infinity;
    }
    await session.breathe();
  }
  const finalWeights = history.weights.at(-1)!;
  return {
    ...baseResult(device, task, context, session, settings, built.twin),
    solved: stopped === "solved",
    stopped,
    ...(fault !== undefined ? { deviceFault: fault } : {}),
    iterations: iteration,
    lossName: task.loss,
    criterionName: criterionName(task),
    criterion: history.criterion.at(-1) ?? Number.NaN,
    criterionTarget: task.criterionTarget,
    history,
    finalWeights,
    controlRangeV: device.controlRangeV.map(([low, high]): [number, number] => [low, high]),
    caseOutputs: outputs,
    targets: task.targets.slice(),
    caseInputsV: cases.map((c) => c.slice()),
    attempts,
    ...(settings.patience > 0 ? stallWatch.stall(iteration) : {}),
    counters: {
      measurements: session.instrument.measurements,
      trainingMeasurements: iteration * cases.length,
      skippedUpdates: skippedUpdates + optimiser.skippedUpdates,
      ...(hge ? { hgeEpochs: hge.epochs, hgeDeviceSeconds: hge.seconds, twinJacobianCosine: jacobianCosines / Math.max(1, refreshes) } : {}),
      ...built.counters,
      ...confirmation.counters,
      ...(built.twin instanceof MlpTwin && iteration > 0 ? { twinForwardRmsError: Math.sqrt(forwardSquaredError / (iteration * cases.length)) } : {}),
    },
  };
}

function progressOf(iteration: number, session: Session, loss: number, criterion: number, criterionName: Progress["criterionName"], solved: boolean, attempt = 1): Progress {
  return { iteration, deviceSeconds: session.deviceSeconds, budget: session.budget, loss, criterion, criterionName, solved, attempt, windowSamples: session.instrument.windowSamples };
}

/** The device with as many data inputs as the data set has features (the DNPU's electrodes
 *  are assignable), or a readable refusal (patMisfit). */
function deviceFor(device: Device, task: DatasetTask): Device {
  const misfit = patMisfit(device, task);
  if (misfit) throw new TrainConfigError("device", `pat: ${misfit}`);
  return device.inputCount === task.featureCount ? device : device.withInputCount!(task.featureCount);
}

/**
 * A data set: the physical layer is the device under K control settings θ_1..θ_K, so each
 * sample x gives K measured features y_k = f_p(x, θ_k); the digital layer is a softmax
 * readout (K → classes) trained with cross-entropy. Per epoch: measure the training features,
 * fit the readout on them (digital only), measure the held-out features (the criterion), then
 * step every θ_k along −Σ_n (∂f_m/∂θ)(x_n, θ_k) ∂L/∂y_nk through the twin.
 */
async function trainDataset(device: Device, task: DatasetTask, budget: Budget, context: RunContext, settings: PatSettings, hooks: PatHooks, session: Session): Promise<Result> {
  const toVolts = (features: number[]) => features.map((level, i) => levelToVolts(level, device.inputRangeV[i]));
  const trainInputs = task.train.features.map(toVolts);
  const testInputs = task.test.features.map(toVolts);
  const built = await buildTwin(session, device, settings, hooks, (rng) => trainInputs[Math.floor(rng.uniform() * trainInputs.length)], context.seed);
  // (the epochs confirming a solved one read the held-out split alone: counted as made)
  const measuredBeforeTraining = session.instrument.measurements;
  const settingsCount = settings.featureSettings;
  const controls = device.controlCount;
  const classes = task.classNames.length;
  const initialV = Array.from({ length: settingsCount }, (_, k) => startingVoltages(device, context.seed, k)).flat();
  const ranges = Array.from({ length: settingsCount }, () => device.controlRangeV).flat();
  const optimiser = new ControlOptimiser(Float64Array.from(initialV), ranges, optimiserSettings({ ...context.options, learningRate: settings.learningRate }));
  const readoutWeights = tf.variable(tf.zeros([settingsCount, classes]));
  const readoutBias = tf.variable(tf.zeros([classes]));
  const readoutOptimiser = tf.train.adam(settings.readoutLearningRate);
  const trainLabels = tf.tidy(() => tf.cast(tf.oneHot(tf.tensor1d(task.train.labels, "int32"), classes), "float32"));
  const history: Result["history"] = { deviceSeconds: [], loss: [], criterion: [], weights: [initialV.slice()], gradient: [] };
  const maxIterations = budget.maxIterations ?? Infinity;
  let stopped: StopReason = built.stop ?? "iterations";
  let fault = built.fault;
  let iteration = 0;
  const confirmation = new Confirmation(solvedEpochsOf(context.options));
  let accuracy = Number.NaN;
  let featureCentre = 0;
  let featureScale = 1;
  /** K features for every input row at the current settings: device time; undefined once the
   *  device file failed (`fault` says how). */
  const measureFeatures = async (inputs: number[][], theta: number[]) => {
    const rows: number[][] = [];
    for (const x of inputs) {
      try {
        rows.push(Array.from({ length: settingsCount }, (_, k) => session.instrument.measure([...theta.slice(k * controls, (k + 1) * controls), ...x])));
      } catch (error) {
        fault = deviceFaultOf(error);
        return undefined;
      }
      await session.breathe();
    }
    return rows;
  };
  const logits = (features: tf.Tensor2D) => tf.add(tf.matMul(tf.div(tf.sub(features, featureCentre), featureScale), readoutWeights), readoutBias) as tf.Tensor2D;
  const crossEntropy = (features: tf.Tensor2D) => tf.neg(tf.mean(tf.sum(tf.mul(trainLabels, tf.logSoftmax(logits(features))), 1))) as tf.Scalar;
  // the training split's features as last measured: an epoch that confirms a solved one holds the
  // controls and the readout as they were and reads only the held-out split (method.ts:
  // Confirmation); it read the training split too and trained the readout on it, so the model
  // it confirmed was not the one that had solved
  let trainFeatures: number[][] | undefined;
  try {
    while (built.twin) {
      const holding = confirmation.holding;
      const stop = iteration >= maxIterations ? "iterations" : session.stopBefore(((holding ? 0 : trainInputs.length) + testInputs.length) * settingsCount);
      if (stop) {
        stopped = stop;
        break;
      }
      const theta = optimiser.values();
      if (!holding) {
        trainFeatures = await measureFeatures(trainInputs, theta);
        if (!trainFeatures) {
          stopped = "device";
          break;
        }
      }
      if (iteration === 0) {
        // Fixed digital standardisation from the first measured features (one centre, one scale).
        const all = trainFeatures!.flat();
        featureCentre = all.reduce((a, b) => a + b, 0) / all.length;
        featureScale = Math.sqrt(all.reduce((sum, y) => sum + (y - featureCentre) ** 2, 0) / all.length) || 1;
      }
      const features = tf.tensor2d(trainFeatures!);
      if (!holding) for (let s = 0; s < settings.readoutSteps; s++) readoutOptimiser.minimize(() => crossEntropy(features));
      const [lossValue, featureGradient] = tf.tidy(() => {
        const { value, grad } = tf.valueAndGrad((y: tf.Tensor) => crossEntropy(y as tf.Tensor2D))(features);
        return [value.dataSync()[0], grad.arraySync() as number[][]] as const;
      });
      features.dispose();
      // (a readout that diverged gives no gradient to follow: every update would be skipped
      // until the budget ran out)
      if (!Number.isFinite(lossValue)) {
        stopped = "readout";
        break;
      }
      const testFeatures = await measureFeatures(testInputs, theta);
      if (!testFeatures) {
        stopped = "device";
        break;
      }
      const predicted = tf.tidy(() => Array.from(tf.argMax(logits(tf.tensor2d(testFeatures)), 1).dataSync()));
      accuracy = predicted.filter((label, n) => label === task.test.labels[n]).length / predicted.length;
      // The physical step: θ_k ← θ_k − lr · Σ_n (∂f_m/∂θ)(x_n, θ_k) ∂L/∂y_nk.
      const gradient: number[] = [];
      for (let k = 0; k < settingsCount; k++) {
        const thetaK = theta.slice(k * controls, (k + 1) * controls);
        const rows = built.twin.weightedGradients(trainInputs.map((x) => [...thetaK, ...x]), featureGradient.map((row) => row[k]));
        for (let c = 0; c < controls; c++) gradient.push(rows.reduce((sum, row) => sum + row[c], 0));
      }
      iteration++;
      const solvedNow = accuracy >= task.solvedAccuracy;
      const done = confirmation.count(solvedNow);
      if (!done && !confirmation.holding) optimiser.step(gradient); // a solved model is kept as measured
      history.deviceSeconds.push(session.deviceSeconds);
      history.loss.push(lossValue);
      history.criterion.push(accuracy);
      history.weights.push(optimiser.values());
      history.gradient!.push(gradient);
      context.progress?.(progressOf(iteration, session, lossValue, accuracy, criterionName(task), solvedNow));
      if (done) {
        stopped = "solved";
        break;
      }
    }
    const readout = { weights: readoutWeights.arraySync() as number[][], bias: Array.from(readoutBias.dataSync()), featureCentre, featureScale };
    return {
      ...baseResult(device, task, context, session, settings, built.twin),
      settings: { ...baseResult(device, task, context, session, settings, built.twin).settings, readout },
      solved: stopped === "solved",
      stopped,
      ...(fault !== undefined ? { deviceFault: fault } : {}),
      iterations: iteration,
      lossName: "cross-entropy",
      criterionName: criterionName(task),
      criterion: accuracy,
      criterionTarget: task.solvedAccuracy,
      history,
      finalWeights: history.weights.at(-1)!,
      controlRangeV: ranges.map(([low, high]): [number, number] => [low, high]),
      caseOutputs: [],
      targets: [],
      caseInputsV: [],
      attempts: [{ startIteration: 0, initialV }],
      counters: { measurements: session.instrument.measurements, trainingMeasurements: session.instrument.measurements - measuredBeforeTraining, skippedUpdates: optimiser.skippedUpdates, ...built.counters },
    };
  } finally {
    readoutWeights.dispose();
    readoutBias.dispose();
    readoutOptimiser.dispose();
    trainLabels.dispose();
  }
}
