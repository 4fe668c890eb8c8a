#!/usr/bin/env -S node --import=tsx
// The `hge` command, above host/ and boards/: `hge train` trains one task on one simulated
// device with any registered method (host/methods) and writes a report; `hge compare` ranks
// methods on one device and task by device-seconds to solve; `hge methods` lists the methods;
// `hge demo` trains the six Boolean gates in parallel; `hge board …` builds and runs the
// firmware. One parser (commander) for all of it; a user's mistake gets one line and a distinct
// exit code (2 usage, 3 refused configuration, 1 trained but not solved, 130 Ctrl-C).
import { Command, CommanderError, InvalidArgumentError, Option } from "commander";
import { decimal, decimals, existingFile, fraction, nonEmpty, nonNegative, number, port, positive, wholeAtLeast } from "../host/args.ts";
import cliProgress, { MultiBar, Presets, SingleBar, type Options } from "cli-progress";
import { existsSync, mkdirSync, readFileSync, realpathSync, rmSync, statSync } from "node:fs";
import { availableParallelism } from "node:os";
import { fileURLToPath } from "node:url";
import { basename, dirname, join, relative } from "node:path";
import { deviceFingerprint, electrodeRangesV, electrodeMidpointsV, type Device } from "../host/devices/device.ts";
import { DEVICE_CHOICES, deviceLabel, deviceSpec, loadDevice, type DeviceSpec } from "../host/devices/index.ts";
import { isDeviceFile } from "../host/devices/device-file.ts";
import { DEFAULT_FABRICATION_SPREAD, MAX_FABRICATION_SPREAD } from "../host/devices/resistor.ts";
import { RISES_WITH_INPUTS, outOfReach, type AnyTask } from "../host/tasks/task.ts";
import { GATE_NAMES, MARGIN_FRACTION, type GateName } from "../host/tasks/gates.ts";
import { TASKS, buildTask, type TaskName } from "../host/tasks/index.ts";
import { ControllerError, perturbsWithTones, type GradientName, type PerturbationName, type LossName } from "../host/controller.ts";
import { diagnose, distortionText, lagText } from "../host/report/diagnose.ts";
import { DEFAULTS, MSE_WINDOW_SAMPLES, NOISE_DEFAULTS, TRANSPARENT_CHAIN, budgetFor, chainModel, criterionName, plainCheck, configuredWindow, continuationOf, defaultChain, measurementOn, type Continuation, type PlanOrderOption, type TrainOptions } from "../host/train.ts";
import { LEVEL_WINDOW_SAMPLES } from "../host/methods/instrument.ts";
import { PAT_DEFAULTS } from "../host/methods/pat.ts";
import { PHYLL_DEFAULTS } from "../host/methods/phyll.ts";
import { readingLimits } from "../host/cosim.ts";
import { Rng } from "../host/noise.ts";
import { EXIT, TrainConfigError, UsageError } from "../host/errors.ts";
import { METHODS, METHOD_NAMES, findMethod, refusal } from "../host/methods/index.ts";
import { budgetOverrun, readsOption, resumedTotals, trainMetered, type Budget, type Method, type Progress, type Result } from "../host/methods/method.ts";
import type { DemoJob, DemoOutcome } from "../host/demo.ts";
import { MAX_WORKERS, WORKERS_PER_CORE } from "../host/pool.ts";
import { MAX_SEEDS, type CompareDeviceFault, type CompareJob, type CompareRecord, type CompareRefusal, type CompareRun, type CompareSetup, type MethodSummary } from "../host/compare.ts";
import { INTERVAL_CONFIDENCE, INTERVAL_MIN_RUNS } from "../host/metrics.ts";
import { budgetText, formatCriterion, formatCriterionValue, medianCriterionText, textTable } from "../host/report/format.ts";
import { boardCommand } from "../boards/cli.ts";
import { emulatedBoards } from "../boards/boards.ts";
import { LinkError } from "../boards/link.ts";
import { onInterrupt } from "../host/interrupt.ts";
import { RUN_FORMAT, isFileSystemError, keepFile, keepFinally, keeper, keepRun, prepareOut, removeKept, removeUnusedOut } from "../host/report/keep.ts";
import { ESTIMATORS, TRAIN_CODE_CHIP_SAMPLES, estimatorUsesTones, spsaRateScale, trainingConfig, unfittableLag, type Estimator } from "../host/methods/module.ts";
import { JOURNAL_EVERY_SECONDS, Journal, journalProblem, type JournalData } from "../host/methods/journal.ts";
import { FIELDS, boundsText, defaultOf, type FieldName } from "../host/config-fields.ts";

const GRADIENTS: GradientName[] = ["jacobian", "loss-signal", "streaming"];

// ---- argument parsers (host/args.ts has the shared ones) ---------------------------------

const list = (text: string, what: string) => {
  const values = decimals(text);
  if (values.some((x) => !Number.isFinite(x) || x <= 0)) {
    throw new InvalidArgumentError(`expected ${what}: positive numbers separated by commas.`);
  }
  return values;
};
const tones = (text: string): "planned" | number[] => (text === "planned" ? "planned" : list(text, "'planned' or tone frequencies in Hz, e.g. 25,45,65,95,115"));
/** Two numbers ≥ 0 separated by a comma, or undefined. */
const pair = (text: string): [number, number] | undefined => {
  const values = decimals(text);
  return values.length === 2 && values.every((x) => Number.isFinite(x) && x >= 0) ? [values[0], values[1]] : undefined;
};
const lag = (text: string): [number, number] => {
  const values = pair(text);
  if (!values) throw new InvalidArgumentError("expected the lag as delay,corner: samples ≥ 0 and Hz ≥ 0 (0 = no corner), e.g. 2,1000.");
  return [values[0], values[1]];
};
const hold = (text: string): number[] => {
  const values = decimals(text);
  if (values.some((x) => !Number.isInteger(x) || x < 1)) throw new InvalidArgumentError("expected control numbers from 1 separated by commas, e.g. 1,3.");
  const twice = values.find((k, i) => values.indexOf(k) !== i);
  if (twice !== undefined) throw new InvalidArgumentError(`control ${twice} is named twice; name each once.`);
  return values;
};
const setting = (text: string, previous: Array<[string, number | boolean]>): Array<[string, number | boolean]> => {
  const match = /^([A-Za-z]\w*)=(.+)$/.exec(text.trim());
  const value = match && (match[2] === "true" ? true : match[2] === "false" ? false : decimal(match[2]));
  if (!match || value === null || (typeof value === "number" && !Number.isFinite(value))) throw new InvalidArgumentError("expected name=value with a number, true or false, e.g. updateFraction=0.5.");
  if (previous.some(([name]) => name === match[1])) throw new InvalidArgumentError(`${match[1]} is set twice; give it once.`);
  return [...previous, [match[1], value]];
};
const initialV = (text: string): "random" | "middle" | number[] => {
  if (text === "random" || text === "middle") return text;
  const values = decimals(text);
  if (values.some((x) => !Number.isFinite(x))) throw new InvalidArgumentError("expected 'random', 'middle' or one voltage per control separated by commas, e.g. -0.3,0.1,0,0.2,-0.5.");
  return values;
};
/** A flag that sets one configuration field: its help and its bounds come from the table of
 *  fields (host/config-fields.ts); a value out of bounds is a usage error naming them.
 *  `defaults`: what the flag's absence gives where that is not the field's default. */
function fieldOption(name: FieldName, argument: string, defaults?: string): Option {
  const spec = FIELDS[name];
  if (!("flag" in spec.cli)) throw new Error(`${name} has no flag`);
  const parse = (text: string) => {
    const value = decimal(text);
    const ok = Number.isFinite(value) && (spec.type === "f32" || Number.isInteger(value)) && value >= spec.low! && value <= spec.high!;
    if (!ok) throw new InvalidArgumentError(`expected ${spec.type === "i32" ? "a whole number" : "a number"} ${boundsText(name)}.`);
    return value;
  };
  return new Option(`${spec.cli.flag} <${argument}>`, `${spec.doc} (default ${defaults ?? `${spec.default}${spec.unit && spec.unit !== "reading" && typeof spec.default === "number" ? ` ${spec.unit}` : ""}`})`).argParser(parse);
}
const planOrder = (text: string): PlanOrderOption => {
  if (text === "auto") return text;
  if (text === "2" || text === "3") return Number(text) as 2 | 3;
  throw new InvalidArgumentError("expected 2, 3 or auto.");
};
const band = (text: string): [number, number] => {
  const values = pair(text);
  if (!values || values[0] >= values[1]) throw new InvalidArgumentError("expected the band as low,high in Hz with 0 ≤ low < high, e.g. 20,1000.");
  return values;
};

/** The flags for how `hge train` and `hge compare` read the device (measurementOptions): the
 *  chain around it, and the noise added to its output. */
interface MeasurementFlags {
  chain: boolean;
  noise: boolean;
  whiteNoise?: number;
  pinkNoise?: number;
  drift?: number;
  spikes?: number;
  spikeSize: number;
}

/** Adds the measurement flags to `command`. */
function measurementOptions(command: Command): Command {
  const noise = NOISE_DEFAULTS.nA;
  return command
    .option("--white-noise <sigma>", `white noise per sample, output units (default ${noise.whiteSigma} nA, or ${NOISE_DEFAULTS.V.whiteSigma} V on a device whose output is in V: the resistor network)`, nonNegative)
    .option("--pink-noise <psd>", `1/f noise PSD at 1 kHz, output units²/Hz (default ${noise.pinkPsdAt1kHz} nA²/Hz, or ${NOISE_DEFAULTS.V.pinkPsdAt1kHz} V²/Hz on a device in V)`, nonNegative)
    .option("--drift <rate>", "random-walk drift of the output offset, output units per √s", nonNegative)
    .option("--spikes <rate>", "rare spikes, events per second", nonNegative)
    .option("--spike-size <amplitude>", "spike amplitude, output units (the default saturates the ADC: the module discards that window; the level a peer reads averages the saturated sample in)", positive, 1000)
    .option("--no-noise", "no added noise (converters still quantise)")
    .option("--no-chain", "read the device's outputs as they are: no simulated converters, amplifier lag or saturation (an instrument's outputs are already readings)");
}

/** The chain the flags ask for, beside the device's default (train.ts: defaultChain). */
function chainFrom(flags: MeasurementFlags & { sampleRate?: number }): TrainOptions["chain"] {
  return { ...(flags.chain ? {} : TRANSPARENT_CHAIN), ...(flags.sampleRate !== undefined ? { sampleRateHz: flags.sampleRate } : {}) };
}

/** The noise the flags ask for (the device's defaults for what they leave out). */
function noiseFrom(flags: MeasurementFlags): TrainOptions["noise"] {
  if (!flags.noise) return { whiteSigma: 0, pinkPsdAt1kHz: 0 };
  return {
    ...(flags.whiteNoise !== undefined ? { whiteSigma: flags.whiteNoise } : {}),
    ...(flags.pinkNoise !== undefined ? { pinkPsdAt1kHz: flags.pinkNoise } : {}),
    ...(flags.drift ? { drift: { randomWalkPerSqrtS: flags.drift } } : {}),
    ...(flags.spikes ? { spikes: { ratePerS: flags.spikes, amplitude: flags.spikeSize } } : {}),
  };
}

/** hge train's flag for the shared option `option` (FLAG_OPTIONS), or undefined where none sets it. */
function trainFlagOf(option: string): string | undefined {
  const attribute = Object.keys(FLAG_OPTIONS).find((flag) => FLAG_OPTIONS[flag as keyof TrainFlags] === option);
  return attribute && `--${attribute.replace(/[A-Z]/g, (letter) => `-${letter.toLowerCase()}`)}`;
}

/** A flag (by attribute name) that another flag's value leaves unread, and why. */
type LeftUnread = [attribute: string, unread: boolean, why: string];

/** Refuses the first flag given on `command`'s line that its rule says is left unread. */
function refuseLeftUnread(command: Command, rules: LeftUnread[]): void {
  const rule = rules.find(([attribute, unread]) => unread && command.getOptionValueSource(attribute) === "cli");
  if (rule) throw new UsageError(`${command.options.find((flag) => flag.attributeName() === rule[0])!.long}: ${rule[2]}`);
}

/** The measurement flags that others leave unread (hge train, hge compare). */
function noiseRules(flags: MeasurementFlags): LeftUnread[] {
  return [
    ...["whiteNoise", "pinkNoise", "drift", "spikes", "spikeSize"].map((attribute): LeftUnread => [attribute, !flags.noise, "--no-noise turns every noise off; give one or the other"]),
    ["spikeSize", !flags.spikes, "applies with --spikes (events per second, above 0)"],
  ];
}

interface TrainFlags extends MeasurementFlags {
  method: string;
  device: DeviceSpec;
  task: TaskName;
  deviceSeed?: number;
  board?: string;
  port?: string; // a real board's serial port (with --board)
  live?: boolean; // the live view (host/live)
  baud?: number;
  seed: number;
  sampleRate?: number;
  window?: number;
  settle?: number;
  tones: "planned" | number[];
  band?: [number, number];
  guard?: number;
  planOrder?: PlanOrderOption;
  amplitudeMv?: number[];
  optimiser?: "sgd" | "momentum" | "adam";
  learningRate?: number;
  loss?: LossName;
  marginScale?: number;
  beta1?: number;
  beta2?: number;
  epsilon?: number;
  lag?: [number, number];
  gradient?: GradientName;
  streamOrder?: number;
  streamTau?: number;
  chipSamples?: number;
  codeSeed?: number;
  spsaStability?: number;
  slew?: number;
  hold?: number[];
  set?: Array<[string, number | boolean]>;
  fabricationSpread?: number;
  margin: number;
  initialV?: "random" | "middle" | number[];
  resume?: string;
  budget?: number;
  maxIterations?: number;
  patience?: number;
  calibration?: number;
  updateFraction?: number;
  out?: string;
  progress: boolean;
}

/** What `--resume` restores: the weights, and for the module its checkpoint (weights,
 *  optimiser moments and the fitted lag) and the plan order the run ended on (kept unless
 *  --plan-order is given: a resumed run does not calibrate, so auto could not measure). A run.json must be of this
 *  task on this device (its controls on another are --initial-v's to give); a checkpoint.bin is
 *  the module's alone. On a data set, the journal.json beside the run.json: the run replayed
 *  (host/methods/journal.ts), which needs the same method and seed. */
export function readResume(path: string, device: Device, task: AnyTask, method: Method, seed: number, fingerprint: string | undefined): Resumed {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (error) {
    throw new UsageError(`--resume ${path}: cannot read it (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}); give a run.json or a checkpoint.bin written by hge train`);
  }
  const estimator = (ESTIMATORS as readonly string[]).includes(method.name);
  if (task.kind === "dataset") return { journal: readJournal(path, bytes, device, task, method, seed) };
  if (isCheckpoint(bytes)) {
    if (!estimator) throw new UsageError(`--resume ${path}: a checkpoint.bin is the controller module's state; method ${method.name} resumes from the run.json beside it`);
    // the module checks the blob against the controls and their ranges; nothing in it names a task
    // or a device instance, which the run.json beside it does (said once the module took it).
    // That run.json, where it is this checkpoint's run (hge's, holding the same checkpoint), is
    // kept as the run resumed, as when --resume names it (a run resumed in its own --out lost it)
    const beside = checkpointsRun(path, bytes);
    const itsRun = beside ? earlierRun(beside, `--resume ${path}: the run.json beside it`) : {};
    return { checkpoint: new Uint8Array(bytes), unchecked: `hge: --resume ${path}: a checkpoint.bin says neither the task nor the device it was trained on; its state was taken as this run's (--resume the run.json beside it to have both checked)\n`, ...itsRun };
  }
  let run: unknown;
  try {
    run = JSON.parse(bytes.toString("utf8"));
  } catch {
    run = undefined;
  }
  const { format, device: ranOn, task: trained, finalWeights: weights, module, attempts, settings, method: ranBy, ranOn: ranWhere, stall: itsStall } = (typeof run === "object" && run !== null ? run : {}) as Partial<Result> & { format?: unknown; module?: { checkpoint?: unknown; lagFrom?: unknown; controller?: { planOrder?: unknown; calibrationEpochs?: number; perturbation?: PerturbationName } } };
  if (typeof format !== "string" || !format.startsWith("hge-run/")) throw new UsageError(`--resume ${path}: neither a run.json nor a checkpoint.bin written by hge train`);
  // a refusal of a run.json whose controls are finite volts offers them to start from elsewhere
  const startFrom = Array.isArray(weights) && weights.every((v) => typeof v === "number" && Number.isFinite(v)) ? `; to start from its controls give --initial-v ${weights.join(",")}` : "";
  if (format !== RUN_FORMAT) throw new UsageError(`--resume ${path}: a run.json of format ${format}; this hge reads ${RUN_FORMAT}${startFrom}`);
  if (!Array.isArray(weights)) throw new TrainConfigError("resume", `--resume ${path}: it holds no control voltages; ${device.name} has ${device.controlCount}`);
  const notVoltage = weights.findIndex((v) => typeof v !== "number" || !Number.isFinite(v));
  if (notVoltage >= 0) throw new TrainConfigError("resume", `--resume ${path}: control ${notVoltage + 1}'s voltage is ${JSON.stringify(weights[notVoltage])}, not a finite number of volts`);
  if (ranOn !== device.name || trained !== task.name) {
    throw new TrainConfigError("resume", `--resume ${path} is a run of ${String(trained)} on ${String(ranOn)}, not of ${task.name} on ${device.name}${startFrom}`);
  }
  if (weights.length !== device.controlCount) throw new TrainConfigError("resume", `--resume ${path}: it holds ${weights.length} control voltages; ${device.name} has ${device.controlCount}`);
  const { deviceFingerprint: ranOnFingerprint } = run as Partial<Result>;
  if (ranOnFingerprint !== undefined && ranOnFingerprint !== fingerprint) {
    throw new TrainConfigError("resume", `--resume ${path} ran on another ${device.name}: this one answers otherwise at the voltages hge checks (an edited device file, another --device-seed, or another file of the same name)${startFrom}`);
  }
  // A run of the module's estimators under Node keeps its module's state; one without it is
  // damaged, and was continued from its controls alone, its optimiser's moments and fitted lag
  // dropped without a word (so was a run.json naming no method of hge's).
  if (!METHOD_NAMES.includes(ranBy as string)) throw new TrainConfigError("resume", `--resume ${path}: ${typeof ranBy === "string" ? `its method ${ranBy} is none of hge's` : "it names none of hge's methods"} (${METHOD_NAMES.join(", ")}): the run.json is damaged${startFrom}`);
  if ((ESTIMATORS as readonly string[]).includes(ranBy as string) && ranWhere === "node" && typeof module?.checkpoint !== "string") {
    throw new TrainConfigError("resume", `--resume ${path}: a run of ${ranBy} without its module's state (module.checkpoint): the run.json is damaged${startFrom}`);
  }
  // a run of tones continued by codes or the reverse cannot take its checkpoint (the module
  // refuses it: a tones run's lag would be switched on for codes, or off for tones): it starts
  // from the run's controls, as pat does (it was refused as "corrupt, of another version, or ...")
  const tonesBefore = module?.controller ? perturbsWithTones(module.controller) : undefined;
  const otherKind = estimator && tonesBefore !== undefined && tonesBefore !== estimatorUsesTones(method.name as Estimator);
  if (otherKind) process.stderr.write(`hge: --resume ${path}: a run of ${tonesBefore ? "tones" : "codes"}; ${method.name} perturbs with ${tonesBefore ? "codes" : "tones"} and cannot take its checkpoint: it starts from the run's final controls, with fresh optimiser moments${tonesBefore ? "" : " and its own calibration"}\n`);
  // (a stall is counted in its method's own measure)
  const stall = ranBy === method.name ? itsStall : undefined;
  return { ...continuationOf({ finalWeights: weights, module, attempts, settings, stall }, estimator && !otherKind), ...earlierRun(run as Record<string, unknown>, `--resume ${path}`, startFrom) };
}

/** The run.json beside checkpoint.bin `path` (read as `bytes`) where it is that checkpoint's
 *  run: hge's, holding the same checkpoint. */
function checkpointsRun(path: string, bytes: Buffer): ReturnType<typeof hgeRun> {
  const beside = hgeRun(join(dirname(path), "run.json"));
  return beside?.module?.checkpoint === bytes.toString("base64") ? beside : undefined;
}

/** The device's part of a default report directory: its label, and which instance where another
 *  is asked for (runs of two instances shared one directory, the later replacing the earlier). */
function deviceDir(flags: { device: DeviceSpec; deviceSeed?: number; fabricationSpread?: number }): string {
  const instance = [flags.deviceSeed !== undefined && `device${flags.deviceSeed}`, flags.fabricationSpread !== undefined && `spread${flags.fabricationSpread}`];
  return [deviceLabel(flags.device), ...instance.filter((part) => part !== false)].join("-");
}

/** The seed of the run --resume names (a run.json, the journal.json of a data-set run, or a
 *  checkpoint.bin's own run.json beside it), where it says one: a resumed run goes on as itself,
 *  with its noise, its next seeded starts and its report directory (without it the default seed
 *  1 took them: a seed-3 run resumed wrote over reports/…-seed1). */
function seedOfResumed(path: string): number | undefined {
  const bytes = readOrNothing(path);
  if (!bytes) return undefined;
  let kept: Record<string, unknown> | undefined;
  try {
    kept = isCheckpoint(bytes) ? checkpointsRun(path, bytes) : JSON.parse(bytes.toString("utf8"));
  } catch {
    return undefined; // (readResume says what is wrong with the file)
  }
  const seed = (kept?.run as { seed?: unknown } | undefined)?.seed ?? kept?.seed; // a journal's, or a run's
  if (seed === undefined) return undefined;
  try {
    return wholeAtLeast(0)(String(seed)); // (--seed's range)
  } catch (error) {
    // (taking the default seed 1 instead went on as another run and wrote over reports/…-seed1)
    throw new UsageError(`--resume ${path}: its seed ${JSON.stringify(seed)} is not one --seed takes (${(error as Error).message.replace(/^expected /, "").replace(/\.$/, "")}); give --seed to say which run this is`);
  }
}

/** `run` with `earlier` as the run the first of its chain resumed (a run on a board that went
 *  on after the board restarted holds the runs before in resumedFrom already). */
function resuming(run: Result, earlier: Record<string, unknown>): Result {
  const before = run.resumedFrom as Result | undefined;
  return { ...run, resumedFrom: (before ? resuming(before, earlier) : earlier) as unknown as Record<string, unknown> };
}

/** Runs one run.json may hold, itself and those it resumed, one inside another: JSON.stringify
 *  recurses, and a chain of some 4000 overflowed Node's stack when the resumed run was saved. */
const MAX_RESUMED_RUNS = 1000;

/** The run.json a run resumes, kept whole in the new one (`resumedFrom`, which keeps its own)
 *  without its format, where it counts its iterations and device time (resumedTotals adds them).
 *  Refused (the line starts with `named`, ends with `startFrom`) where the new run.json would
 *  hold more than MAX_RESUMED_RUNS runs. */
function earlierRun(run: Record<string, unknown>, named: string, startFrom = ""): Pick<Resumed, "earlier"> {
  let runs = 2; // the new run and this one
  for (let r = run.resumedFrom; typeof r === "object" && r !== null; r = (r as Record<string, unknown>).resumedFrom) runs++;
  if (runs > MAX_RESUMED_RUNS) {
    throw new TrainConfigError("resume", `${named} keeps ${runs - 2} runs it resumed, one inside another (resumedFrom); resumed, its run.json would hold ${runs} runs, and hge keeps at most ${MAX_RESUMED_RUNS}${startFrom}`);
  }
  const { format: _, ...earlier } = run;
  // (every run in it counted: a resumedFrom of "str" below summed to NaN iterations)
  const counted = (r: unknown): boolean => {
    if (r === undefined) return true;
    const { iterations, deviceSeconds, resumedFrom } = (typeof r === "object" && r !== null ? r : {}) as Record<string, unknown>;
    return [iterations, deviceSeconds].every((x) => typeof x === "number" && Number.isFinite(x) && x >= 0) && counted(resumedFrom);
  };
  if (counted(earlier)) return { earlier };
  process.stderr.write(`hge: ${named}: an iterations or deviceSeconds in it (or in a run it resumed) is not a count; the totals over the resumed runs are left out\n`);
  return {};
}

/** A data-set run's journal for --resume: `path` (read as `bytes`) is the journal.json, or the
 *  run.json beside it; the run it names must be this one (method, device, task, seed). */
function readJournal(path: string, bytes: Buffer, device: Device, task: AnyTask, method: Method, seed: number): JournalData {
  const journalPath = basename(path) === "journal.json" ? path : join(dirname(path), "journal.json");
  const journal = loadJournal(path, journalPath, journalPath === path ? bytes : undefined);
  const ran = journal.run;
  if (ran.device !== device.name || ran.task !== task.name || ran.method !== method.name || ran.seed !== seed) {
    throw new TrainConfigError("resume", `--resume ${path} is a run of ${ran.method} on ${ran.task}, ${ran.device}, seed ${ran.seed}; a data-set run resumes as itself: give --method ${ran.method} --task ${ran.task} --seed ${ran.seed} and its device`);
  }
  return journal;
}

/** The journal at `journalPath` (`bytes`, if already read) for `--resume given`: exit 2 if it
 *  cannot be read (the line ends with `advice`) or is not one hge wrote. */
function loadJournal(given: string, journalPath: string, bytes?: Buffer, advice = "a data-set run resumes from the journal.json hge train keeps in its --out directory"): JournalData {
  const journal = readJson(`--resume ${given}: ${journalPath}`, journalPath, advice, bytes);
  const problem = journalProblem(journal);
  if (problem) throw new UsageError(`--resume ${given}: ${journalPath} is not a journal hge wrote: ${problem}`);
  return journal as JournalData;
}

/** What --resume gives a run: options for input-case tasks, a journal to replay on a data set. */
type Resumed = Continuation & { journal?: JournalData; unchecked?: string; earlier?: Record<string, unknown> };

/** The options a set of flags asks for: TrainOptions for the module's estimators, which the
 *  peer methods read too (seed, noise, initial voltages) beside their own settings, and what
 *  --resume gave (readResume). */
export function trainOptionsFrom(flags: TrainFlags, device: Device, task: AnyTask, resumedRun: Resumed = {}): Partial<TrainOptions> & Record<string, unknown> {
  const amplitudes = flags.amplitudeMv?.map((mv) => mv / 1000);
  if (amplitudes && amplitudes.length !== 1 && amplitudes.length !== device.controlCount) {
    throw new UsageError(`--amplitude-mv has ${amplitudes.length} values; give one for all controls or one for each of the ${device.controlCount} controls`);
  }
  if (Array.isArray(flags.tones) && flags.tones.length !== device.controlCount) {
    throw new UsageError(`--tones has ${flags.tones.length} frequencies; ${device.name} has ${device.controlCount} controls, one tone each`);
  }
  if (Array.isArray(flags.initialV) && flags.initialV.length !== device.controlCount) {
    throw new UsageError(`--initial-v has ${flags.initialV.length} voltages; ${device.name} has ${device.controlCount} controls`);
  }
  if (flags.loss && task.kind === "cases" && flags.loss !== "mse" && task.loss === "mse") {
    throw new UsageError(`--loss ${flags.loss} needs classes 0 and 1; ${task.name} has real-valued targets (use mse)`);
  }
  const held = flags.hold?.find((k) => k > device.controlCount);
  if (held) throw new UsageError(`--hold ${held}: ${device.name} has controls 1 to ${device.controlCount}`);
  if (flags.hold?.length === device.controlCount) throw new UsageError(`--hold ${flags.hold.join(",")} holds every control of ${device.name}: nothing would train; leave at least one free`);
  const method = findMethod(flags.method)!;
  const known = Object.keys(method.settings ?? {});
  const hasNot = `method ${method.name} has ${known.length ? `the settings ${known.join(", ")}` : "no settings of its own"}`;
  if (flags.updateFraction !== undefined && !known.includes("updateFraction")) {
    throw new UsageError(`--update-fraction: ${hasNot} (methods that have it: ${METHODS.filter((m) => "updateFraction" in (m.settings ?? {})).map((m) => m.name).join(", ")})`);
  }
  const unknown = (flags.set ?? []).find(([name]) => !known.includes(name));
  if (unknown) throw new UsageError(`--set ${unknown[0]}: ${hasNot}`);
  const { planOrder: resumedOrder, patience: resumedPatience, journal: _, unchecked: __, earlier: ___, ...resumed } = resumedRun;
  const planOrder = flags.planOrder ?? resumedOrder ?? DEFAULTS.band.planOrder;
  // the module's checkpoint carries the lag its run fitted, and a resumed run does not calibrate again
  const lagFlag = flags.calibration !== undefined ? "--calibration" : flags.lag ? "--lag" : undefined;
  if (resumed.checkpoint && lagFlag) throw new UsageError(`${lagFlag}: the resumed run's checkpoint carries the lag it fitted, which it keeps`);
  // below 2 kHz (an instrument's rate) the default band ends at half the sample rate: it was
  // refused there, blaming a --band not given
  const bandHighHz = flags.band?.[1] ?? Math.min(DEFAULTS.band.bandHighHz, (flags.sampleRate ?? DEFAULTS.sampleRateHz) / 2);
  const bandLowHz = flags.band?.[0] ?? Math.min(DEFAULTS.band.bandLowHz, bandHighHz / 2);
  return {
    noise: noiseFrom(flags),
    chain: chainFrom(flags),
    tones: Array.isArray(flags.tones)
      ? { explicitHz: flags.tones }
      : { plan: { bandLowHz, bandHighHz, guardBins: flags.guard ?? DEFAULTS.band.guardBins, planOrder } },
    amplitudesV: amplitudes && (amplitudes.length === 1 ? amplitudes[0] : amplitudes),
    windowSamples: flags.window,
    settleSamples: flags.settle,
    optimiser: flags.optimiser,
    learningRate: flags.learningRate,
    loss: flags.loss,
    marginScale: flags.marginScale,
    beta1: flags.beta1,
    beta2: flags.beta2,
    epsilon: flags.epsilon,
    lag: flags.lag && { delaySamples: flags.lag[0], cornerHz: flags.lag[1] },
    gradient: flags.gradient,
    stream: flags.streamOrder !== undefined || flags.streamTau !== undefined ? { order: flags.streamOrder ?? defaultOf("StreamOrder"), tauSamples: flags.streamTau ?? flags.window ?? DEFAULTS.windowSamples } : undefined,
    chipSamples: flags.chipSamples,
    codeSeed: flags.codeSeed,
    spsaStability: flags.spsaStability,
    slewVPerS: flags.slew,
    hold: flags.hold?.map((k) => k - 1),
    patience: flags.patience ?? resumedPatience,
    calibrationEpochs: flags.calibration,
    initialV: flags.initialV,
    ...resumed,
    ...(flags.updateFraction !== undefined ? { updateFraction: flags.updateFraction } : {}),
    ...Object.fromEntries(flags.set ?? []),
  };
}

// ---- refusals: one line naming the option and what is valid -----------------------------

/** The option behind each field the controller can refuse, and what it accepts. */
function refusalHint(error: ControllerError, device: Device, options: Partial<TrainOptions>, estimator?: Estimator): string {
  const control = error.index >= 0 ? error.index : 0;
  const range = device.controlRangeV[control] ?? [0, 0];
  const fs = options.chain?.sampleRateHz ?? DEFAULTS.sampleRateHz;
  const oneTone = unfittableLag(device.controlCount);
  const rateScale = spsaRateScale(options.spsaStability ?? defaultOf("SpsaStability"));
  const special: Record<string, string | undefined> = {
    BandLowHz: `--band's low edge must be ≥ 0 and below half the sample rate (${fs / 2} Hz)`,
    BandHighHz: `--band's high edge must be above the low edge and at most half the sample rate (${fs / 2} Hz)`,
    ToneBin: `--tones: every tone must be distinct, at least one cycle per window and below half the sample rate (${fs / 2} Hz); control ${control + 1}'s is not`,
    AmplitudeV: `--amplitude-mv: control ${control + 1}'s amplitude must be > 0 and at most half its range [${range[0]}, ${range[1]}] V, i.e. ≤ ${+(((range[1] - range[0]) / 2) * 1000).toPrecision(4)} mV`,
    InitialV: `--initial-v: control ${control + 1}'s starting voltage must be inside its range [${range[0]}, ${range[1]}] V`,
    WindowSamples: `--window must be ${boundsText("WindowSamples")}${options.chipSamples ? " and a whole number of code periods" : ""}`,
    Gradient: `--gradient ${options.gradient} demodulates the loss itself, which needs --loss mse (corrsig and fisher are chain-ruled through each case's Jacobian: --gradient jacobian)`,
    CaseCount: `--gradient streaming trains a task of one input case (a stream has no case changes); this task has more`,
    Checkpoint: `--resume: the checkpoint is corrupt, of another hge version, or for another configuration (other controls, ranges or sample rate, or codes where it had tones or the reverse); nothing was trained`,
    CalibrationEpochs: oneTone && `one control's lag cannot be fitted (${oneTone}): give --calibration 0, and --lag SAMPLES,HZ if the chain's lag is not the simulated chain's`,
    LearningRate: estimator === "spsa" && error.outOfBounds ? `--learning-rate must be at most ${+((FIELDS.LearningRate.high ?? 0) / rateScale).toPrecision(3)} V for spsa, which multiplies it by (1 + A)^0.602 = ${+rateScale.toPrecision(4)} (A: --spsa-stability)` : undefined,
    SlewVPerS: `--slew is below what electrode ${control + 1} needs: its perturbation's fastest change (2π × amplitude × tone frequency; 2 × amplitude a sample for codes) with a margin, and a step above its voltage's resolution`,
  };
  if (error.field === "Plan") {
    const plan = options.tones !== undefined && "plan" in options.tones ? options.tones.plan : undefined;
    const order3 = plan !== undefined && plan.planOrder !== 2;
    // (--guard 0 only where the guard is not 0 already: it was offered at the default, 0)
    const guarded = (plan?.guardBins ?? DEFAULTS.band.guardBins) > 0;
    return `${error.message} (--window, or a wider --band${guarded ? ", or --guard 0" : ""}${order3 ? ", or --plan-order 2 on a device whose third-order distortion is below the noise" : ""})`;
  }
  const spec = FIELDS[error.field as FieldName];
  // a value inside its bounds was refused with the rest of the configuration: the module's reason
  const hint = special[error.field] ?? (spec && "flag" in spec.cli && error.outOfBounds ? `${spec.cli.flag} must be ${boundsText(error.field as FieldName)}` : undefined);
  return `${hint ?? error.message.replace(/^configuration refused: /, "")} (controller field ${error.field})`;
}

// ---- progress and summaries ---------------------------------------------------------------

function fixed(x: number, digits: number): string {
  return Number.isFinite(x) ? x.toFixed(digits) : "—";
}

/** Fields of the progress line; with the format below it fits 80 columns. */
function progressFields(p: Progress, unit: string): Record<string, string> {
  const name = p.criterionName === "RMS error" ? "RMS" : p.criterionName === "accuracy" ? "acc" : "margin";
  return {
    seconds: `${fixed(p.deviceSeconds, 1)}${Number.isFinite(p.budget.deviceSeconds) ? `/${+p.budget.deviceSeconds.toFixed(1)}` : ""} s`,
    criterion: `${name} ${formatCriterionValue(p.criterion, p.criterionName, unit)}`.padEnd(13),
    loss: p.loss.toPrecision(3).padStart(8),
  };
}

/** At most 78 columns: a 10-letter task, "123.4/300 s", "margin 12.3 %", a 3-digit loss. */
const BAR_FORMAT = "{task} |{bar}| {seconds} | {criterion} | loss {loss} | ETA {eta_formatted}";
const UNBOUNDED_BAR_FORMAT = "{task} | {seconds} | {criterion} | loss {loss}";
/** cli-progress's time format, but for an ETA it cannot estimate ('INF': a budget that will
 *  take longer than anything counts), which it printed as "NFs". */
const formatTime = (t: number | string, options: Options, round: number): string => (typeof t === "number" && Number.isFinite(t) ? cliProgress.Format.TimeFormat(t, options, round) : "—");
const BAR_OPTIONS = { format: BAR_FORMAT, hideCursor: true, etaBuffer: 30, barsize: 10, clearOnComplete: false, formatTime } as const;

function windowText(run: Result): string {
  const c = run.module!.controller;
  const extended = run.module!.windowLengthened ? ", lengthened so the planned tones fit" : "";
  return `${c.windowSamples}-sample windows (${+((c.windowSamples / c.sampleRateHz) * 1000).toFixed(1)} ms${extended})`;
}

const STOPPED: Record<Result["stopped"], string> = {
  solved: "solved",
  budget: "device-time budget spent",
  iterations: "iteration limit",
  epochs: "its epochs ran out: --set epochs, blocks",
  fault: "controller fault",
  interrupted: "interrupted",
  link: "the board stopped the link",
  device: "the device file failed",
  twin: "its twin did not fit",
  readout: "its readout diverged",
};

/** The final controls judged on the simulated device read plainly (train.ts plainCheck), and a
 *  warning where a solved run's criterion does not hold there; nothing for a data set, after
 *  Ctrl-C or a failed device (a device file's call may hang until answerWithinSeconds: the
 *  user asked to stop), or where the device file fails on that call. */
function plainLines(device: Device, task: AnyTask, run: Result): string[] {
  if (task.kind !== "cases" || run.stopped === "interrupted" || run.stopped === "device") return [];
  let plain: ReturnType<typeof plainCheck>;
  try {
    plain = plainCheck(device, task, run.finalWeights);
  } catch {
    return [];
  }
  if (!plain) return [];
  const lines = [`  read plainly (the simulated device at these controls, no perturbation or noise, no device time): ${run.criterionName} ${formatCriterionValue(plain.criterion, run.criterionName, run.outputUnit)}`];
  if (run.solved && !plain.solved) lines.push(`  warning: read plainly, these controls do not solve ${run.task}: the ${run.criterionName} measured through the perturbation or the noise does not hold without them`);
  return lines;
}

/** Who the runs in a run's resumedFrom are, for the summary: "run it resumed", "run before the
 *  board restarted", "run it resumed and the 2 runs before the board's restarts", ... */
function runsBefore(before: number, boardRestarts: number): string {
  const runs = (n: number) => (n > 1 ? `${n} runs` : "run");
  const resumed = before - boardRestarts;
  const restarted = boardRestarts > 1 ? "the board's restarts" : "the board restarted";
  return [resumed ? `${runs(resumed)} it resumed` : "", boardRestarts ? `${runs(boardRestarts)} before ${restarted}` : ""].filter(Boolean).join(" and the ");
}

/** The summary printed at the end of `hge train`; `boardRestarts`: how many of the runs in
 *  run.resumedFrom ran before its board restarted (trainOnBoard went on after each), the rest
 *  being those --resume gave it. */
export function summary(run: Result, reportPath: string, jsonPath: string, plain: string[], boardRestarts = 0): string {
  const outcome = run.solved ? `solved in ${run.iterations} iterations` : `not solved after ${run.iterations} iterations (${STOPPED[run.stopped]})`;
  const starts = run.attempts.length > 1 ? `, ${run.attempts.length} starts` : "";
  const where = run.ranOn === "node" ? "" : ` on board ${run.ranOn}`;
  const totals = resumedTotals(run);
  const lines = [
    `${run.task} on ${run.device} by ${run.method}${where}: ${outcome}${starts}, ${run.deviceSeconds.toFixed(1)} s of device time (${run.wallSeconds.toFixed(1)} s wall), ${run.criterionName} ${formatCriterion(run)}`,
    ...(totals.runs > 1 ? [`  with the ${runsBefore(totals.runs - 1, boardRestarts)} (kept in run.json: resumedFrom): ${totals.iterations} iterations, ${totals.deviceSeconds.toFixed(1)} s of device time in all`] : []),
  ];
  if (run.caseOutputs.length) lines.push(`  case outputs (${run.outputUnit}): ${run.caseOutputs.map((y) => y.toFixed(2)).join(", ")}   targets: ${run.targets.map((t) => +t.toFixed(3)).join(", ")}`);
  lines.push(`  controls (V): ${run.finalWeights.map((v) => v.toFixed(3)).join(", ")}`, ...plain);
  const m = run.module;
  if (m) {
    const tones = perturbsWithTones(m.controller);
    if (tones) lines.push(`  tones (Hz): ${m.toneHz.map((f) => +f.toFixed(2)).join(", ")} in ${windowText(run)}${m.toneHits.some((h) => h) ? "; some hit by intermodulation products" : ""}`);
    lines.push(`  ${tones ? `lag ${lagText(m)}; ` : ""}windows: ${m.status.windows} measured, ${m.status.discardedWindows} discarded`);
    if (m.distortion) lines.push(`  ${distortionText(m, run.outputUnit)}`);
  }
  for (const warning of diagnose(run)) lines.push(`  warning: ${warning}`);
  lines.push(`  report: ${reportPath}`, `  data:   ${jsonPath}`);
  return lines.join("\n");
}

function display(path: string): string {
  const shown = relative(process.cwd(), path);
  return shown.startsWith("..") ? path : shown;
}

function commandLine(): string {
  return ["hge", ...process.argv.slice(2)].map(shellWord).join(" ");
}

/** `word` as a POSIX shell takes it back: as it is where it is plain, else in single quotes
 *  (Python's shlex.quote; the shell-quote package escaped every comma, "walsh\,published"). */
const shellWord = (word: string) => (/^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'"'"'`)}'`);

// ---- hge train ------------------------------------------------------------------------------

/** The shared option (TrainOptions) each of hge train's flags sets, by the flag's attribute
 *  name (null: a flag that sets none): a method that would not read it (Method.reads) refuses the
 *  flag rather than ignore it. Every flag of hge train is here (program() checks it at start). */
const FLAG_OPTIONS: Record<keyof TrainFlags, keyof TrainOptions | null> = {
  whiteNoise: "noise", pinkNoise: "noise", drift: "noise", spikes: "noise", spikeSize: "noise", noise: "noise", sampleRate: "chain", chain: "chain",
  window: "windowSamples", settle: "settleSamples", tones: "tones", band: "tones", guard: "tones", planOrder: "tones", amplitudeMv: "amplitudesV",
  optimiser: "optimiser", learningRate: "learningRate", beta1: "beta1", beta2: "beta2", epsilon: "epsilon", loss: "loss", marginScale: "marginScale",
  lag: "lag", gradient: "gradient", streamOrder: "stream", streamTau: "stream", chipSamples: "chipSamples", codeSeed: "codeSeed",
  spsaStability: "spsaStability", slew: "slewVPerS", hold: "hold", patience: "patience", calibration: "calibrationEpochs",
  initialV: "initialV",
  // every method resumes: from the weights on input cases (all of them read initialV), by the
  // journal on a data set
  resume: null, method: null, device: null, task: null, deviceSeed: null, seed: null, budget: null, maxIterations: null, margin: null, set: null,
  updateFraction: null, fabricationSpread: null, out: null, board: null, live: null, port: null, baud: null, progress: null,
};

/** Whether `method` reads what `flag` sets; undefined for a flag that sets no shared option. */
function readsFlag(method: Method, flag: Option): boolean | undefined {
  const option = FLAG_OPTIONS[flag.attributeName() as keyof TrainFlags];
  return option === null ? undefined : readsOption(method, option);
}

/** A flag given on `command`'s line that `method` or `task` would not read, refused: the
 *  method's shared options (Method.reads), and flags that other flags leave unread. */
function refuseUnreadFlags(command: Command, flags: TrainFlags, method: Method, task: AnyTask, device: Device): void {
  const given = (attribute: string) => command.getOptionValueSource(attribute) === "cli";
  const unread = command.options.find((flag) => given(flag.attributeName()) && readsFlag(method, flag) === false);
  if (unread) {
    const readers = METHODS.filter((m) => readsFlag(m, unread)).map((m) => m.name);
    throw new UsageError(`${unread.long}: method ${method.name} does not use it (the methods that do: ${readers.join(", ")})`);
  }
  const optimiser = flags.optimiser ?? DEFAULTS.optimiser;
  const loss = flags.loss ?? (task.kind === "cases" ? task.loss : undefined);
  const givenTones = Array.isArray(flags.tones);
  const streaming = flags.gradient === "streaming";
  const classes = task.kind === "cases" && task.loss !== "mse";
  const dataset = task.kind === "dataset";
  refuseLeftUnread(command, [
    ...noiseRules(flags),
    ["margin", !classes, `${task.name} is not solved by a margin between classes but by its ${task.kind === "cases" ? "RMS error" : "held-out accuracy"}; --margin applies to the gates and the sphere`],
    ["beta1", optimiser === "sgd", "momentum's and Adam's; --optimiser sgd has no momentum"],
    ["beta2", optimiser !== "adam", `Adam's second-moment decay; --optimiser ${optimiser} has none`],
    ["epsilon", optimiser !== "adam", `Adam's denominator floor; --optimiser ${optimiser} has none`],
    ["marginScale", loss !== "corrsig", `corrsig's scale; the loss here is ${loss ?? "the data set's own"}`],
    ["streamOrder", !streaming, "applies with --gradient streaming"],
    ["streamTau", !streaming, "applies with --gradient streaming"],
    ["calibration", streaming, "--gradient streaming fits no lag: give --lag, or nothing for the chain model's"],
    ...["band", "guard", "planOrder"].map((attribute): LeftUnread => [attribute, givenTones, "plans tones; --tones gives them"]),
    ["initialV", given("resume"), "--resume gives the starting controls; give one or the other"],
    ["initialV", dataset, `on ${task.name} every method starts its configurations afresh; --initial-v applies to tasks of input cases (gates, sphere, regression)`],
    ["updateFraction", (flags.set ?? []).some(([name]) => name === "updateFraction"), "the same as --set updateFraction; give one"],
  ]);
  // a method's setting given twice: by --set and by the flag that sets the same option (pat's --window)
  const flagSetting = (name: string) => command.options.find((flag) => given(flag.attributeName()) && FLAG_OPTIONS[flag.attributeName() as keyof TrainFlags] === name);
  for (const [name] of flags.set ?? []) if (flagSetting(name)) throw new UsageError(`--set ${name}: the same as ${flagSetting(name)!.long}; give one`);
}

export async function train(flags: TrainFlags, command: Command): Promise<void> {
  const method = findMethod(flags.method)!; // commander checked the choice
  const device = await loadDevice(flags.device, flags.task, flags.deviceSeed, flags.fabricationSpread);
  const task = buildTask(flags.task, device, { marginFraction: flags.margin });
  refuseUnreadFlags(command, flags, method, task, device);
  if (flags.resume && command.getOptionValueSource("seed") !== "cli") flags.seed = seedOfResumed(flags.resume) ?? flags.seed;
  // --board's own refusals first: the methods another refusal names as able are the host's too
  // (it named pat, phyll and phyll-hge for iris, which no board trains)
  if ((flags.port || flags.baud) && !flags.board) throw new UsageError(`--${flags.port ? "port" : "baud"} applies with --board`);
  if (!flags.chain && flags.board) throw new UsageError("--no-chain: a board reads the device through its own converters (its board file), not hge's simulated chain");
  if (flags.baud && !flags.port) throw new UsageError("--baud applies with --port");
  const estimator = ESTIMATORS.find((name) => name === flags.method);
  if (flags.board && !estimator) throw new TrainConfigError("method", `--board runs the module's estimators (${ESTIMATORS.join(", ")}); --method ${flags.method} runs on the host only`);
  if (flags.board) (await import("../boards/hil.ts")).resolveTask(task, device);
  const why = refusal(method, device, task, flags.board ? ESTIMATORS : undefined);
  if (why) throw new TrainConfigError("method", why);
  const fingerprint = deviceFingerprint(device); // (before training: a device that changes with time starts at 0)
  const resumed = flags.resume ? readResume(flags.resume, device, task, method, flags.seed, fingerprint) : {};
  const options = trainOptionsFrom(flags, device, task, resumed);
  const journal = task.kind === "dataset" ? new Journal({ method: method.name, device: device.name, task: task.name, seed: flags.seed }, resumed.journal) : undefined;
  const outGiven = flags.out ?? join("reports", `${deviceDir(flags)}-${flags.task}-${flags.method}-seed${flags.seed}`);
  const out = prepareOut(outGiven);
  refuseToLose(out, flags.resume);
  const budget: Budget = { deviceSeconds: flags.budget ?? budgetFor(task), maxIterations: flags.maxIterations };
  const showBar = flags.progress && process.stderr.isTTY;
  let bar: SingleBar | undefined;
  const progress = (p: Progress) => {
    if (!showBar) return;
    if (!bar) {
      // a budget too large to count in samples is no limit: no bar to fill, no time to go
      const bounded = Number.isFinite(p.budget.deviceSeconds);
      bar = new SingleBar({ ...BAR_OPTIONS, format: bounded ? BAR_FORMAT : UNBOUNDED_BAR_FORMAT }, Presets.shades_classic);
      bar.start(p.budget.deviceSeconds, 0, { task: task.name.slice(0, 10), ...progressFields(p, device.outputUnit) });
    }
    bar.update(Math.min(p.deviceSeconds, p.budget.deviceSeconds), progressFields(p, device.outputUnit));
  };
  // Ctrl-C (or SIGTERM, SIGHUP: host/interrupt.ts) stops training; what was learned is then kept
  // and reported, and a second Ctrl-C meanwhile waits for that rather than lose the run (Ctrl-\
  // still quits at once)
  const abort = new AbortController();
  const interrupt = () => {
    if (abort.signal.aborted) process.stderr.write("hge: keeping what the run learned; a moment\n");
    abort.abort();
  };
  const stopListening = onInterrupt(interrupt);
  // the module's refusal, with the flag that would help
  const refused = (error: unknown) => (error instanceof ControllerError ? new TrainConfigError(error.field, refusalHint(error, device, options, estimator)) : error);
  // --live serves a page on 127.0.0.1 that plots the run while it trains; the run waits for it,
  // once what the method would refuse has been (it waited, and the refusal came after the page opened)
  if (flags.live && !flags.board) {
    try {
      method.check?.(device, task, budget, { seed: flags.seed, options });
    } catch (error) {
      stopListening();
      throw refused(error);
    }
  }
  const liveServer = flags.live ? await import("../host/live/server.ts") : null;
  const live = liveServer ? await liveServer.startLive() : null;
  if (live && !(await liveServer!.waitForPage(live, abort.signal))) {
    stopListening();
    removeUnusedOut(); // made above for this run, and empty: nothing ran
    return;
  }
  let liveStarted = false;
  // a run on the host reports only Progress: the rest is observed at the device
  // (host/live/observe.ts), which shows what the method measured only where the method runs the
  // module, sample by sample; a method measuring through an Instrument, or a data set's, would
  // show invented cases, controls and tones
  const observed = live && !flags.board && task.kind === "cases" && estimator;
  const sampleRateHz = options.chain?.sampleRateHz ?? defaultChain(device).sampleRateHz;
  const observer = observed ? (await import("../host/live/observe.ts")).observeDevice(device, task, { windowSamples: configuredWindow({ ...options, task }, sampleRateHz), sampleRateHz, tones: estimatorUsesTones(flags.method as Estimator) }) : null;
  const unobserved = `the device-level panels (case outputs, controls, spectrum) are observed only for the module's estimators (${ESTIMATORS.join(", ")}) on input cases, not for ${task.kind === "cases" ? `--method ${flags.method}` : task.name}`;
  const liveProgress = (p: Progress) => {
    progress(p);
    if (!live) return;
    if (!liveStarted) live.publish({ type: "start", title: `${task.name} on ${device.name} by ${flags.method}`, criterionName: p.criterionName, outputUnit: device.outputUnit, ...(task.kind === "cases" ? { caseCount: task.inputCases.length, targets: task.targets, controlCount: device.controlCount } : {}), ...(observer ? {} : { unobserved }) });
    liveStarted = true;
    live.publish({ type: "update", iteration: p.iteration, deviceSeconds: p.deviceSeconds, loss: p.loss, criterion: p.criterion, ...observer?.snapshot(p.windowSamples) });
  };
  // a data-set run's journal is written while it runs too: killed outright, it loses at most
  // the last JOURNAL_EVERY_SECONDS of measurements
  const journalSaver = journal && setInterval(keeper(join(out, "journal.json"), () => JSON.stringify(journal.kept())), JOURNAL_EVERY_SECONDS * 1000).unref();
  // (trained all the same, once nothing refuses it: a run that cannot solve is still a
  // measurement; said before it starts and in the summary)
  const reach = outOfReach(device, task);
  if (reach) process.stderr.write(`hge: warning: ${reach}\n`);
  let run: Result;
  let boardRestarts = 0;
  try {
    if (flags.board && estimator) {
      // the controller runs inside the emulated board; this process plays the device over its UART
      const { trainOnBoard } = await import("../boards/hil.ts");
      const { result, board } = await trainOnBoard({ ...options, port: flags.port, baudRate: flags.baud, method: estimator, controllerConfig: (planned) => trainingConfig(estimator, planned), device, task, seed: flags.seed, board: flags.board, maxIterations: budget.maxIterations, maxDeviceSeconds: budget.deviceSeconds, onProgress: progress, signal: abort.signal, ...(live ? { live: live.publish } : {}) });
      if (result.stopped === "link") process.stderr.write(`hge: ${board.lost ? "" : "the board stopped training: "}${board.boardStop.reasonName}\n`);
      run = result;
      boardRestarts = board.restarts.length;
    } else {
      run = await trainMetered(method, observer?.device ?? device, task, budget, { seed: flags.seed, progress: liveProgress, signal: abort.signal, options, journal });
      live?.publish({ type: "end", solved: run.solved, stopped: run.stopped });
    }
    if (resumed.earlier) run = resuming(run, resumed.earlier);
    if (fingerprint) run = { ...run, deviceFingerprint: fingerprint };
  } catch (error) {
    clearInterval(journalSaver);
    bar?.stop();
    const refusal = refused(error);
    live?.publish({ type: "end", solved: false, stopped: "error", reason: refusal instanceof Error ? refusal.message : String(refusal) });
    await live?.close();
    throw refusal;
  }
  if (bar) {
    if (run.solved) bar.update(bar.getTotal());
    bar.stop();
  }
  clearInterval(journalSaver);
  const { writeRunReport } = await import("../host/report/html.ts"); // vega loads only when needed
  const [, [json, report]] = await keepFinally(out, async (dir) => [keepRun(run, dir, commandLine(), journal?.kept()), await writeRunReport(run, dir, commandLine(), reach ? [reach] : [])]);
  if (journal?.offered) process.stderr.write(`hge: replayed ${journal.replayed} of the journal's ${journal.offered} measurements (${journal.replayedSeconds.toFixed(1)} device-s, the device not driven)${journal.replayed === journal.offered ? "" : journal.left ? "; the run left the recorded path there and measured the rest" : "; the run ended before the rest (its budget, its iteration limit, or solved)"}\n`);
  await live?.close();
  stopListening();
  if (resumed.unchecked) process.stderr.write(resumed.unchecked);
  console.log(summary(run, display(report), display(json), [...plainLines(device, task, run), ...(reach ? [`  warning: ${reach}`] : [])], boardRestarts));
  // (kept all the same: what the run learned is the user's; the overrun is hge's defect)
  const overrun = budgetOverrun(run, budget);
  if (overrun) throw new Error(`${overrun}, the run is kept in ${display(json)}`);
  // (what it learned is in the report and checkpoint; a device call that ended only after Ctrl-C,
  // an asynchronous file's that waited out answerWithinSeconds, is the interruption's; a Ctrl-C
  // that came once the run had ended, while its results were written, changes nothing)
  const interrupted = run.stopped === "interrupted" || (run.stopped === "device" && abort.signal.aborted);
  if (run.deviceFault && !interrupted) throw new UsageError(run.deviceFault);
  if (interrupted) process.stderr.write(`hge: interrupted; the same command with --resume ${display(json)} goes on from what it learned\n`);
  process.exitCode = interrupted ? EXIT.interrupted : run.solved ? EXIT.solved : EXIT.unsolved;
}

// ---- hge methods ------------------------------------------------------------------------------

function listMethods(train: Command): void {
  const tasks = (m: (typeof METHODS)[number]) => m.tasks.map((t) => (t === "cases" ? (m.losses ? `cases (${m.losses.join(", ")})` : "cases") : "data sets")).join(", ");
  const rows = METHODS.map((m) => [m.name, tasks(m), m.needs.length ? m.needs.join(", ") : "—"]);
  for (const line of textTable([["method", "tasks", "device needs"], ...rows], 3, true)) console.log(line);
  for (const m of METHODS) {
    console.log(`\n${m.name}: ${m.summary}`);
    if (m.requires) console.log(`  needs besides the device: ${m.requires}`);
    const settings = Object.entries(m.settings ?? {});
    if (settings.length) console.log(`  settings (--set name=value): ${settings.map(([k, v]) => `${k}=${v}`).join(", ")}`);
    const read = train.options.filter((flag) => readsFlag(m, flag)).map((flag) => flag.long);
    console.log(`  hge train's flags it reads (beside --seed, --budget, …): ${read.join(", ")}`);
  }
}

// ---- hge device -----------------------------------------------------------------------------

/** Random settings `hge device` evaluates the output at, and the wall time it spends on them
 *  at most (a device behind slow I/O gets fewer). */
const DESCRIBE_SETTINGS = 1000;
const DESCRIBE_SECONDS = 5;

/** What hge sees of a device (a device file checked as training would check it), and which
 *  methods can train each task on it. */
async function describeDevice(spec: DeviceSpec, flags: { deviceSeed?: number; serve?: number }): Promise<void> {
  const device = await loadDevice(spec, "and", flags.deviceSeed);
  const ranges = (list: Array<[number, number]>) => {
    const texts = list.map(([low, high]) => `[${low}, ${high}]`);
    return texts.every((t) => t === texts[0]) ? `${texts[0]} × ${texts.length}` : texts.join(", ");
  };
  const middle = electrodeMidpointsV(device);
  console.log(`${device.name}: ${device.controlCount} controls, ${device.inputCount} data inputs, output in ${device.outputUnit}`);
  console.log(`  control ranges (V): ${ranges(device.controlRangeV)}`);
  if (device.inputCount) console.log(`  input ranges (V): ${ranges(device.inputRangeV)}`);
  console.log(`  output at the range midpoints: ${device.output(middle).toPrecision(4)} ${device.outputUnit}`);
  // the outputs over seeded random settings against what the simulated chain reads
  const rng = new Rng(1);
  const voltages = new Float64Array(device.electrodeCount);
  let lowest = Infinity, highest = -Infinity, seconds = 0, settings = 0;
  const electrodeRanges = electrodeRangesV(device);
  const begun = performance.now(); // the settings' drawing counts too: it grows with the electrodes
  for (; settings < DESCRIBE_SETTINGS && performance.now() - begun < DESCRIBE_SECONDS * 1000; settings++) {
    electrodeRanges.forEach(([low, high], e) => (voltages[e] = rng.between(low, high)));
    const start = performance.now();
    const y = device.output(voltages);
    seconds += (performance.now() - start) / 1000;
    [lowest, highest] = [Math.min(lowest, y), Math.max(highest, y)];
  }
  const reads = readingLimits(chainModel(defaultChain(device), undefined));
  const beyond = lowest <= reads.min || highest >= reads.max;
  console.log(`  outputs over ${settings} random settings${settings < DESCRIBE_SETTINGS ? ` (all that ${DESCRIBE_SECONDS} s of wall time took)` : ""}: ${lowest.toPrecision(4)} to ${highest.toPrecision(4)} ${device.outputUnit}; the chain reads ${reads.min} to ${reads.max}${beyond ? ": beyond it readings saturate and their windows are discarded (--no-chain reads an instrument's outputs as they are)" : ""}`);
  console.log(`  one output: ${wallTime(seconds / settings)} wall (mean over those settings, the file's checks included)`);
  const still = stillControls(device, rng, begun + DESCRIBE_SECONDS * 1000);
  if (still.controls.length) console.log(`  ${stillLine(still.controls, device.controlCount, still.settings, isDeviceFile(spec))}`);
  console.log(`  exact gradient: ${device.outputGradient ? "given (reports compare the measured gradient with it)" : "none"}`);
  console.log(`  capabilities: ${device.capabilities.length ? device.capabilities.join(", ") : "output only"}`);
  // tasks with the same methods on one line (the gates)
  const byMethods = new Map<string, string[]>();
  const unreachable: string[] = [];
  for (const name of TASKS) {
    let methods: string;
    try {
      const forTask = await loadDevice(spec, name, flags.deviceSeed);
      const task = buildTask(name, forTask);
      methods = METHODS.filter((m) => refusal(m, forTask, task) === undefined).map((m) => m.name).join(", ") || "none";
      if (outOfReach(forTask, task)) unreachable.push(name);
    } catch (error) {
      if (!(error instanceof UsageError)) throw error;
      methods = `not this device: ${error.message}`;
    }
    byMethods.set(methods, [...(byMethods.get(methods) ?? []), name]);
  }
  console.log("  methods that can train each task on it:");
  for (const [methods, tasks] of byMethods) console.log(`    ${tasks.join(", ")}: ${methods}`);
  if (unreachable.length) console.log(`  ${outOfReachLine(unreachable)}`);
  if (flags.serve === undefined) return;
  // --serve: the device (with the gates' inputs) over HTTP until Ctrl-C (host/devices/serve.ts)
  const { serveDevice } = await import("../host/devices/serve.ts");
  const server = await serveDevice(device, flags.serve).catch((error: NodeJS.ErrnoException) => {
    throw new UsageError(`--serve ${flags.serve}: ${error.code === "EADDRINUSE" ? "the port is in use; choose another (0: any free one)" : error.message}`);
  });
  const { port } = server.address() as { port: number };
  console.log(`serving ${device.name} on http://127.0.0.1:${port} (GET /device, POST /output); Ctrl-C stops`);
  await new Promise<never>(() => {});
}

/** Random settings at most at which `hge device` moves each control alone (within what is left
 *  of DESCRIBE_SECONDS). */
const DESCRIBE_MOVES = 100;

/** The controls (0-based) that did not change the output when moved alone to another random
 *  voltage in their range, at every one of `settings` random settings (at most DESCRIBE_MOVES,
 *  as many as `deadline`, a performance.now() time, leaves room for): not wired to the output,
 *  or never read by the device's file. A control that moved it once is not tried again. */
function stillControls(device: Device, rng: Rng, deadline: number): { controls: number[]; settings: number } {
  const ranges = electrodeRangesV(device);
  const voltages = new Float64Array(device.electrodeCount);
  const moved = new Uint8Array(device.controlCount);
  let settings = 0;
  for (; settings < DESCRIBE_MOVES && !moved.every(Boolean) && performance.now() < deadline; settings++) {
    ranges.forEach(([low, high], e) => (voltages[e] = rng.between(low, high)));
    const before = device.output(voltages);
    for (let c = 0; c < device.controlCount; c++) {
      if (performance.now() >= deadline) return { controls: settings ? stillOnes(moved) : [], settings };
      if (moved[c]) continue;
      const kept = voltages[c];
      voltages[c] = rng.between(...ranges[c]);
      if (device.output(voltages) !== before) moved[c] = 1;
      voltages[c] = kept;
    }
  }
  return { controls: stillOnes(moved), settings };
}

const stillOnes = (moved: Uint8Array) => [...moved.keys()].filter((c) => !moved[c]);

/** `hge device`'s line on the controls that never moved the output (0-based `controls`); a
 *  device file's gets what to check. */
function stillLine(controls: number[], controlCount: number, settings: number, fromFile: boolean): string {
  const tried = `${settings} random setting${settings > 1 ? "s" : ""}, each control moved alone to another voltage in its range`;
  if (controls.length === controlCount) return `no control moved the output at any of ${tried}: no method can train it${fromFile ? "; check that the device is connected and biased, and that the file reads the controls" : ""}`;
  const [which, them] = controls.length > 1 ? ["controls", "them"] : ["control", "it"];
  return `${which} ${controls.map((c) => c + 1).join(", ")} (1-based, as --hold counts) moved the output at none of ${tried}: no method trains through ${them}${fromFile ? `; check ${controls.length > 1 ? "their" : "its"} wiring, and that the file reads ${them}` : ""}`;
}

/** The tasks no method can solve on a device, and why (tasks/task.ts: outOfReach). */
const outOfReachLine = (tasks: string[]) => `out of its reach by any method: ${tasks.join(", ")}; ${RISES_WITH_INPUTS}`;

const wallTime = (seconds: number) => (seconds >= 1 ? `${seconds.toPrecision(3)} s` : seconds >= 1e-3 ? `${(seconds * 1e3).toPrecision(3)} ms` : `${(seconds * 1e6).toPrecision(3)} µs`);

// ---- hge demo -------------------------------------------------------------------------------

interface DemoFlags {
  device: DeviceSpec;
  deviceSeed?: number;
  seed: number;
  out?: string;
  workers?: number;
  maxIterations?: number;
  progress: boolean;
}

/** --workers, or by default one a core; one on a device behind I/O, which is in one state at a
 *  time (Device.exclusive: two runs at once would set its electrodes in turn). */
function workerCount(given: number | undefined, device: Device): number {
  return given ?? (device.exclusive ? 1 : availableParallelism());
}

/** --workers of hge compare and hge demo, bounded (host/pool.ts: MAX_WORKERS, a few a core:
 *  each thread costs memory, and 32 took 1.5 GB on a 2-core machine). */
const workersOption = () => new Option("--workers <n>", `worker threads, 1 to ${MAX_WORKERS} (${WORKERS_PER_CORE} a core; default one a core, one on a device behind I/O, which is in one state at a time)`).argParser(wholeAtLeast(1, MAX_WORKERS));

const threads = (count: number) => `${count} worker thread${count === 1 ? "" : "s"}`;

/** Hardest first, so the slow gates do not start last. */
const DEMO_ORDER: GateName[] = ["XOR", "XNOR", "NAND", "NOR", "AND", "OR"];

async function demo(flags: DemoFlags): Promise<void> {
  const started = performance.now();
  const command = commandLine();
  const out = prepareOut(flags.out ?? join("reports", `demo-${deviceDir(flags)}-seed${flags.seed}`));
  const gates = DEMO_ORDER.filter((gate) => GATE_NAMES.includes(gate));
  const { demoDevice } = await import("../host/demo.ts");
  const device = await demoDevice(flags.device, flags.deviceSeed); // a device file is checked here, before any worker starts
  const workers = workerCount(flags.workers, device);
  const budget: Budget = { deviceSeconds: DEFAULTS.budgetSeconds, maxIterations: flags.maxIterations };
  const showBars = flags.progress && process.stderr.isTTY;
  const bars = new MultiBar(BAR_OPTIONS, Presets.shades_classic);
  const barOf = new Map<string, ReturnType<MultiBar["create"]>>();
  if (showBars) for (const gate of gates) barOf.set(gate, bars.create(budget.deviceSeconds, 0, { task: gate.padEnd(6), seconds: "", criterion: "".padEnd(13), loss: "".padStart(8) }));
  // Ctrl-C (SIGTERM, SIGHUP): no more gates start, those under way finish and are kept with the
  // index; a second Ctrl-C quits at once
  let interrupted = false;
  const stopListening = onInterrupt(() => {
    interrupted = true;
    process.stderr.write("hge: finishing the gates under way (Ctrl-C again quits at once)\n");
  }, true);
  const showLines = flags.progress && !showBars; // a line a gate where no bar can be drawn
  if (showLines) process.stderr.write(`training ${gates.length} gates on ${threads(Math.min(workers, gates.length))}...\n`);
  const { runPool } = await import("../host/pool.ts");
  const jobs: DemoJob[] = gates.map((gate) => ({ kind: "demo", gate, device: flags.device, ...(flags.deviceSeed !== undefined ? { deviceSeed: flags.deviceSeed } : {}), seed: flags.seed, out: join(out, gate.toLowerCase()), command, budget }));
  let fault: string | undefined; // a device file that failed: no more gates start
  const results = await runPool(new URL("../host/demo.ts", import.meta.url), jobs, {
    workers,
    stop: () => fault !== undefined || interrupted,
    onProgress: (i, p) => barOf.get(gates[i])?.update(Math.min((p as Progress).deviceSeconds, budget.deviceSeconds), progressFields(p as Progress, device.outputUnit)),
    onDone: (_done, _total, result, i) => {
      const outcome = result as DemoOutcome;
      if ("deviceFault" in outcome) {
        fault ??= outcome.deviceFault;
        barOf.get(gates[i])?.stop();
        return;
      }
      const run = outcome.run;
      const bar = barOf.get(gates[i]);
      // a finished gate stops ticking: full when solved, where it stopped when not
      if (bar) {
        bar.update(run.solved ? budget.deviceSeconds : Math.min(run.deviceSeconds, budget.deviceSeconds), { task: `${gates[i]} ${run.solved ? "✓" : "✗"}`.padEnd(6), seconds: `${run.deviceSeconds.toFixed(1)} s` });
        bar.stop();
      } else if (showLines) process.stderr.write(`  ${gates[i]}: ${run.solved ? "solved" : "not solved"} in ${run.iterations} iterations (${run.wallSeconds.toFixed(1)} s wall)\n`);
    },
  });
  stopListening();
  if (showBars) bars.stop();

  // (a gate that never started, or whose device file failed, has no run)
  const entries = gates.flatMap((_, i) => (results[i] && "run" in (results[i] as DemoOutcome) ? [results[i] as { run: Result; dir: string }] : []));
  const wallSeconds = (performance.now() - started) / 1000;
  const { writeIndex } = await import("../host/report/html.ts");
  const [, index] = await keepFinally(out, (dir) => writeIndex(entries, dir, command, wallSeconds, interrupted ? { of: gates.length, why: "Interrupted (Ctrl-C)" } : fault ? { of: gates.length, why: "Stopped (the device file failed)" } : undefined));
  if (fault) throw new UsageError(entries.length ? `${fault} (the gates that finished, ${entries.length} of ${gates.length}, are kept: ${display(index)})` : fault);
  const header = ["gate", "solved", "iterations", "device-s", "margin"];
  const rows = entries.map(({ run }) => [run.task, run.solved ? "yes" : "no", String(run.iterations), run.deviceSeconds.toFixed(1), formatCriterion(run)]);
  for (const line of textTable([header, ...rows], 2)) console.log(line);
  const solved = entries.filter((e) => e.run.solved).length;
  console.log(`${solved}/${entries.length} gates solved${entries.length < gates.length ? ` (${gates.length - entries.length} of the ${gates.length} not trained)` : ""} on ${entries[0]?.run.device ?? device.name}, ${wallSeconds.toFixed(1)} s wall on ${threads(Math.min(workers, gates.length))}`);
  const beyond = gates.filter((gate) => outOfReach(device, buildTask(gate.toLowerCase() as TaskName, device)));
  if (beyond.length) console.log(outOfReachLine(beyond));
  console.log(`report: ${display(index)}`);
  if (interrupted) process.stderr.write(`hge: interrupted: ${entries.length} of ${gates.length} gates finished, kept in ${display(index)}\n`);
  process.exitCode = interrupted ? EXIT.interrupted : solved === entries.length ? EXIT.solved : EXIT.unsolved;
}

// ---- hge compare ----------------------------------------------------------------------------

interface CompareFlags extends MeasurementFlags {
  set: Array<[string, number | boolean]>;
  device: DeviceSpec;
  deviceSeed?: number;
  task: TaskName;
  methods?: string[];
  seeds: number;
  budget?: number;
  maxIterations?: number;
  workers?: number;
  out?: string;
  resume?: string;
  progress: boolean;
}

/** The JSON at `path` (`bytes`, if already read): exit 2 if it cannot be read or is not JSON,
 *  in one line that starts with `what` and ends with `advice`. */
function readJson(what: string, path: string, advice: string, bytes?: Buffer): unknown {
  try {
    return JSON.parse((bytes ?? readFileSync(path)).toString("utf8"));
  } catch (error) {
    throw new UsageError(`${what} ${error instanceof SyntaxError ? "is not JSON" : `cannot be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`}; ${advice}`);
  }
}

/** The stops that cut a run short with what it learned kept for --resume (Ctrl-C, a device file
 *  that failed, a board's link lost), as refuseToLose says them. */
const CUT_SHORT = new Map<unknown, string>([["interrupted", "was interrupted"], ["device", "its device stopped (the device file failed)"], ["link", "its board's link stopped"]] satisfies Array<[Result["stopped"], string]>);

/** hge train's counterpart of refuseToReplace: an --out holding a run that was cut short (its
 *  run.json says so, CUT_SHORT, or a data-set run's journal.json did not end with a run.json:
 *  killed outright, beside no run.json or an earlier run's), or a checkpoint.bin beside no
 *  run.json of hge's that could say whether its run finished (one corrupt, truncated or removed:
 *  a new run replaced the checkpoint, what the run had learned), is not replaced by a new run,
 *  unless `resume` names that run. */
function refuseToLose(out: string, resume: string | undefined): void {
  const runFile = join(out, "run.json"), journalFile = join(out, "journal.json"), checkpointFile = join(out, "checkpoint.bin");
  if (resume !== undefined && [runFile, journalFile, checkpointFile].some((kept) => sameFile(resume, kept))) return;
  const killed = existsSync(journalFile) && readJsonOrNothing<JournalData>(journalFile)?.ended !== true;
  const run = hgeRun(runFile);
  const cut = killed ? CUT_SHORT.get("interrupted") : CUT_SHORT.get(run?.stopped);
  if (cut) throw new UsageError(`${display(out)} holds a run that ${cut}: --resume ${display(killed || !existsSync(runFile) ? journalFile : runFile)} goes on from it; to start again remove it or give another --out`);
  const checkpoint = readOrNothing(checkpointFile);
  if (!run && checkpoint && isCheckpoint(checkpoint)) {
    throw new UsageError(`${display(runFile)} ${existsSync(runFile) ? "cannot be read (not a run.json of hge's: corrupt or truncated)" : "is missing"}, beside ${display(checkpointFile)}, a run that may not have finished: --resume ${display(checkpointFile)} goes on from it; to start again remove them or give another --out`);
  }
}

/** Whether `bytes` are a checkpoint.bin: the controller module's state, which starts with its
 *  magic "HGE1" (assembly/checkpoint.ts). */
function isCheckpoint(bytes: Uint8Array): boolean {
  return Buffer.from(bytes.subarray(0, 4)).toString("latin1") === "HGE1";
}

/** The run.json at `path` if it is one of hge's (its format hge-run/…, of any version), else
 *  undefined: none there, not JSON (corrupt, truncated) or not hge's. */
function hgeRun(path: string): (Partial<Result> & { format: string }) | undefined {
  const run = readJsonOrNothing<Result & { format: unknown }>(path);
  return typeof run === "object" && run !== null && typeof run.format === "string" && run.format.startsWith("hge-run/") ? (run as Partial<Result> & { format: string }) : undefined;
}

/** Whether the file at `path` is the one at `kept` (if any), by whatever path: an --out given
 *  through a symbolic link to where --resume names (its run taken for another's and refused). */
function sameFile(path: string, kept: string): boolean {
  const [a, b] = [path, kept].map((file) => statSync(file, { throwIfNoEntry: false }));
  return a !== undefined && b !== undefined && a.dev === b.dev && a.ino === b.ino;
}

/** The JSON at `path`, or undefined where there is none or it is not JSON (not one hge wrote). */
function readJsonOrNothing<T>(path: string): Partial<T> | undefined {
  const bytes = readOrNothing(path);
  try {
    return bytes && (JSON.parse(bytes.toString("utf8")) as Partial<T>);
  } catch {
    return undefined;
  }
}

/** The bytes at `path`, or undefined where there is none or it cannot be read. */
function readOrNothing(path: string): Buffer | undefined {
  try {
    return readFileSync(path);
  } catch {
    return undefined;
  }
}

/** A new comparison replaces a finished one kept at `file`, never one with runs left (an
 *  interrupted comparison, one its device stopped), nor one that cannot be read (corrupt or
 *  truncated: nothing says whether it finished, and it was replaced silently): exit 2, naming
 *  --resume, or what to do. */
function refuseToReplace(file: string, runsLeft: (record: CompareRecord) => number): void {
  const bytes = readOrNothing(file);
  if (bytes === undefined) return; // none there
  let kept: CompareRecord;
  try {
    kept = JSON.parse(bytes.toString("utf8")) as CompareRecord;
  } catch {
    throw new UsageError(`${display(file)} is not JSON (corrupt or truncated), so nothing says whether its comparison finished; to start again remove it or give another --out`);
  }
  // (not one hge compare wrote: nothing of a comparison to keep)
  if (typeof kept !== "object" || kept === null || kept.format !== "hge-compare/1" || ![kept.runs, kept.methods, kept.seeds].every(Array.isArray) || typeof kept.refused !== "object") return;
  const left = runsLeft(kept);
  if (left > 0) throw new UsageError(`${display(file)} holds a comparison that did not finish (${kept.runs.length} runs kept, ${left} left): --resume ${display(file)} continues it; to start again remove it or give another --out`);
}

/** The methods named in --methods, each checked against the registry. */
const methodList = (text: string): string[] => {
  const names = text.split(",").map((part) => part.trim());
  const unknown = names.find((name) => !METHOD_NAMES.includes(name));
  if (unknown !== undefined) throw new InvalidArgumentError(`'${unknown}' is not a method. Allowed choices are ${METHOD_NAMES.join(", ")}.`);
  const twice = names.find((name, i) => names.indexOf(name) !== i);
  if (twice !== undefined) throw new InvalidArgumentError(`'${twice}' is named twice; name each method once.`);
  return names;
};

async function compare(flags: CompareFlags, command: Command): Promise<void> {
  refuseLeftUnread(command, noiseRules(flags));
  const started = performance.now();
  const device = await loadDevice(flags.device, flags.task, flags.deviceSeed);
  const fingerprint = deviceFingerprint(device);
  const workers = workerCount(flags.workers, device);
  const task = buildTask(flags.task, device);
  // without --methods: every method that can train the task on the device; the rest, with why not
  const cannotTrain: CompareRecord["cannotTrain"] = flags.methods ? {} : Object.fromEntries(METHODS.flatMap((m) => {
    const why = refusal(m, device, task);
    return why ? [[m.name, why]] : [];
  }));
  const methods = flags.methods ?? METHOD_NAMES.filter((name) => !(name in cannotTrain));
  if (!methods.length) throw new TrainConfigError("method", `no method can train ${task.name} on ${device.name}: ${Object.entries(cannotTrain).map(([method, why]) => `${method} (${why})`).join("; ")}`);
  for (const name of methods) {
    const why = refusal(findMethod(name)!, device, task);
    if (why) throw new TrainConfigError("method", why);
  }
  // each --set goes to the compared methods that have that setting
  const settingsOf = (method: string) => Object.keys(findMethod(method)!.settings ?? {});
  // (the compared methods that read a name as one of hge train's flags instead, which hge
  // compare leaves at each method's default: the setting does not reach them)
  const readersOf = (name: string) => (trainFlagOf(name) ? methods.filter((m) => !settingsOf(m).includes(name) && findMethod(m)!.reads.includes(name as keyof TrainOptions)) : []);
  const readBy = (name: string) => `${readersOf(name).join(", ")} ${readersOf(name).length === 1 ? "reads" : "read"} ${name} as hge train's ${trainFlagOf(name)}, which hge compare leaves at each one's default`;
  const unclaimed = flags.set.find(([name]) => !methods.some((m) => settingsOf(m).includes(name)));
  if (unclaimed) {
    const offered = methods.filter((m) => settingsOf(m).length).map((m) => `${m}: ${settingsOf(m).join(", ")}`).join("; ");
    throw new UsageError(`--set ${unclaimed[0]}: no compared method has that setting (${offered || "none of them has settings of its own"})${readersOf(unclaimed[0]).length ? `; ${readBy(unclaimed[0])}` : ""}`);
  }
  for (const [name] of flags.set) {
    if (readersOf(name).length) process.stderr.write(`hge: warning: --set ${name} goes to ${methods.filter((m) => settingsOf(m).includes(name)).join(", ")} only; ${readBy(name)}\n`);
  }
  const budget: Budget = { deviceSeconds: flags.budget ?? budgetFor(task), maxIterations: flags.maxIterations };
  const seeds = Array.from({ length: flags.seeds }, (_, i) => i + 1);
  const { runPool, flushPools, WorkerEnded } = await import("../host/pool.ts");
  const { summarise, keptRuns, lateKeptRuns, journalPath, runsLeft } = await import("../host/compare.ts");
  const setup: CompareSetup = {
    device: flags.device, ...(flags.deviceSeed !== undefined ? { deviceSeed: flags.deviceSeed } : {}), task: flags.task, budget, ...measurementOn(device, { noise: noiseFrom(flags), chain: chainFrom(flags) }), set: flags.set,
    ...(fingerprint ? { deviceFingerprint: fingerprint } : {}),
  };
  const { set: _, deviceFingerprint: __, ...shared } = setup;
  const jobs: CompareJob[] = seeds.flatMap((seed) => methods.map((method) => ({
    ...shared, method, seed, settings: Object.fromEntries(flags.set.filter(([name]) => settingsOf(method).includes(name))),
  })));
  // --resume: the runs a comparison kept are this one's; only the others run
  const runs: CompareRun[] = flags.resume ? keptRuns(flags.resume, readJson(`--resume ${flags.resume}:`, flags.resume, "give the compare.json hge compare keeps in its --out directory"), setup, jobs, device, criterionName(task)) : [];
  const late = lateKeptRuns(runs, budget);
  if (late) process.stderr.write(`hge: warning: ${late}\n`);
  const out = prepareOut(flags.out ?? (flags.resume ? dirname(flags.resume) : join("reports", `compare-${deviceDir(flags)}-${flags.task}`)));
  const file = join(out, "compare.json");
  // a data-set run keeps its journal in journals/ while it runs; resumed, it replays the one it left
  if (!flags.resume || !sameFile(flags.resume, file)) {
    refuseToReplace(file, runsLeft);
    // (only the journals this comparison's runs would write: journals/ may hold anything else;
    // not those beside the --resume file, which it replays: it removed them, a file resumed
    // from its own directory under another name)
    if (!flags.resume || !sameFile(dirname(flags.resume), out)) for (const job of jobs) rmSync(journalPath(out, job), { force: true });
  }
  if (task.kind === "dataset") mkdirSync(join(out, "journals"), { recursive: true });
  const replayOf = (job: CompareJob): JournalData | undefined => {
    const left = flags.resume && journalPath(dirname(flags.resume), job);
    if (!left || !existsSync(left)) return undefined;
    const journal = loadJournal(flags.resume!, left, undefined, "remove it, and that run starts again from its beginning");
    const { run } = journal;
    if (run.method !== job.method || run.seed !== job.seed || run.device !== device.name || run.task !== task.name) {
      throw new UsageError(`--resume ${flags.resume}: ${left} is a journal of ${run.method} seed ${run.seed} on ${run.task}, ${run.device}, not of this comparison's ${job.method} seed ${job.seed}`);
    }
    return journal;
  };
  const toRun = jobs.filter((job) => !runs.some((r) => r.method === job.method && r.seed === job.seed)).map((job) => {
    if (task.kind !== "dataset") return job;
    const replay = replayOf(job);
    return { ...job, journal: { path: journalPath(out, job), ...(replay ? { replay } : {}) } };
  });
  // every finished run is kept at once (a new file renamed over the old): Ctrl-C loses only runs
  // under way, and of a data-set run's only what its journal had not kept
  const refused = new Map<string, string>(); // method → what it said
  const record = (): CompareRecord => ({ format: "hge-compare/1", command: commandLine(), device: device.name, outputUnit: device.outputUnit, task: task.name, setup, seeds, methods, runs, refused: Object.fromEntries(refused), cannotTrain, summary: summarise(runs) });
  const recordText = () => JSON.stringify(record(), null, 2);
  const keep = keeper(file, recordText);
  const showBar = flags.progress && process.stderr.isTTY;
  const bar = new SingleBar({ format: "runs |{bar}| {value}/{total} | {last}", hideCursor: true, barsize: 20 }, Presets.shades_classic);
  // compare.json kept now where it can be (elsewhere if --out will not take it: it said "kept"
  // of a file it could not write): where it is
  const keptNow = async () => display((await keepFinally(out, (dir) => {
    const path = join(dir, "compare.json");
    keepFile(path, recordText());
    return path;
  }))[1]);
  const interrupt = async () => {
    if (showBar) bar.stop();
    await flushPools(); // the journals of the data-set runs under way, in every thread
    const asked = jobs.filter((job) => !refused.has(job.method)).length; // (a method that refused has none to run)
    const kept = await keptNow();
    process.stderr.write(`hge: interrupted: ${runs.length} of ${asked} runs finished, kept in ${kept}; --resume ${kept} runs the rest\n`);
    process.exit(EXIT.interrupted); // (the workers end with the process)
  };
  const stopListening = onInterrupt(interrupt, true);
  const showLines = flags.progress && !showBar; // a line a run where no bar can be drawn
  const reused = jobs.length - toRun.length;
  keep(); // from the start: the setup that --resume checks, and the runs a resumed comparison took
  const reach = outOfReach(device, task); // (runs all the same, as measurements)
  if (reach && toRun.length) process.stderr.write(`hge: warning: ${reach}\n`);
  if (flags.resume && flags.progress) process.stderr.write(`${reused} runs kept in ${display(flags.resume)} are this comparison's; ${toRun.length} to run\n`);
  if (showBar) bar.start(jobs.length, reused, { last: "" });
  else if (showLines && toRun.length) process.stderr.write(`${methods.length} methods × ${seeds.length} seeds on ${device.name}, ${task.name}, on ${threads(Math.min(workers, toRun.length))}...\n`);
  let fault: CompareDeviceFault | undefined; // a device file that failed: no more runs start
  if (toRun.length) await runPool(new URL("../host/compare.ts", import.meta.url), toRun, {
    workers,
    stop: () => fault !== undefined,
    onDone: (done, _total, result, index) => {
      const outcome = result as CompareRun | CompareRefusal | CompareDeviceFault;
      if ("deviceFault" in outcome) fault ??= outcome;
      else if ("refused" in outcome) refused.set(outcome.method, outcome.refused);
      else runs.push(outcome);
      keep();
      const journal = toRun[index].journal?.path; // kept for a run the device stopped; the others are done with it
      if (journal && !("deviceFault" in outcome)) removeKept(journal);
      const { method, seed } = outcome;
      const replayed = "replayedDeviceSeconds" in outcome ? ` (${outcome.replayedDeviceSeconds!.toFixed(1)} of them replayed from its journal)` : "";
      const last = `${method} seed ${seed}: ${"deviceFault" in outcome ? "the device failed" : "refused" in outcome ? "refused" : `${outcome.solved ? "solved in" : "not solved after"} ${outcome.deviceSeconds.toFixed(1)} device-s${replayed}`}`;
      if (showBar) bar.update(reused + done, { last });
      else if (showLines) process.stderr.write(`  ${last}\n`);
    },
  }).catch(async (error) => {
    if (!(error instanceof WorkerEnded)) throw error;
    if (showBar) bar.stop();
    const kept = await keptNow();
    throw new UsageError(`${error.message} (a device file may end it where hge cannot hear: process.reallyExit, a native addon); the ${runs.length} runs that finished are in ${kept}: --resume ${kept} runs the rest`);
  });
  stopListening();
  if (showBar) bar.stop();
  if (fault) {
    const kept = await keptNow();
    throw new UsageError(`${fault.deviceFault} (in ${fault.method} seed ${fault.seed}; the ${runs.length} runs that finished are in ${kept}: --resume ${kept} runs the rest once the device answers)`);
  }
  const notCompared = [...refused].map(([method, why]) => `${method} (${why})`).join("; ");
  if (!runs.length) throw new TrainConfigError("method", `every method refused ${task.name} on ${device.name}: ${notCompared}`);
  const seconds = (x: number | null) => (x === null ? "not solved" : `${x.toFixed(1)} s`);
  const interval = (i: MethodSummary["interval"]) => (i ? `${seconds(i[0])} – ${seconds(i[1])}` : `needs ${INTERVAL_MIN_RUNS} runs`);
  const header = ["method", "solved", "median device-s", `${INTERVAL_CONFIDENCE * 100}% interval`, `median ${runs[0].criterionName}`, "device-s, all runs", "median iterations", "wall s per run"];
  const rows = summarise(runs).map((m) => [m.method, `${m.solved}/${m.runs}`, seconds(m.medianDeviceSeconds), interval(m.interval),
    medianCriterionText(m, runs[0].criterionName, device.outputUnit), m.totalDeviceSeconds.toFixed(1), String(m.medianIterations), m.medianWallSeconds.toFixed(1)]);
  for (const line of textTable([header, ...rows], 2)) console.log(line);
  if (refused.size) console.log(`not compared, refused at set-up: ${notCompared}`);
  const lacking = Object.keys(cannotTrain);
  if (lacking.length) console.log(`not run, the device or task lacks what they need (hge methods): ${lacking.join(", ")}`);
  console.log(`${task.name} on ${device.name}, seeds 1–${seeds.length}, ${budgetText(budget)}; ${((performance.now() - started) / 1000).toFixed(1)} s wall`);
  const { writeCompareReport } = await import("../host/report/html.ts"); // vega loads only when needed
  const [kept, report] = await keepFinally(out, (dir) => {
    keepFile(join(dir, "compare.json"), recordText());
    return writeCompareReport(record(), dir);
  });
  console.log(`report: ${display(report)}`);
  console.log(`runs:   ${display(join(kept, "compare.json"))}`);
}

// ---- the command line -------------------------------------------------------------------------

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as { version: string };
  return pkg.version;
}

/** --device: a simulated device, or a device file of your own (host/devices/device-file.ts). */
const parseDevice = (text: string): DeviceSpec => {
  const spec = deviceSpec(text);
  if (spec === undefined) throw new InvalidArgumentError(`'${text}' is not a device. Allowed choices are ${DEVICE_CHOICES}.`);
  return spec;
};
const deviceOption = () => new Option("--device <name|file>", `device: ${DEVICE_CHOICES} (README: "Your own device")`).argParser(parseDevice).default("dnpu");
/** --budget's defaults (train.ts: budgetFor). */
const BUDGET_DEFAULTS = `(default ${DEFAULTS.budgetSeconds}; iris ${DEFAULTS.datasetBudgetSeconds})`;
const deviceSeedOption = () => new Option("--device-seed <n>", "another instance of the device (default: the documented default instance; a device file gets it as createDevice's seed)").argParser(wholeAtLeast(0));

export function program(): Command {
  const root = new Command("hge")
    .description("Homodyne gradient extraction: train simulated material devices in closed loop with the hge controller, and compare training methods")
    .version(version(), "-V, --version")
    .exitOverride()
    .showSuggestionAfterError();

  measurementOptions(root
    .command("train")
    .description("train one task on one simulated device with one method and write a report")
    .addOption(new Option("--method <name>", "training method (hge methods lists them)").choices(METHOD_NAMES).default("multitone"))
    .addOption(deviceOption())
    .addOption(new Option("--task <name>", "task to train").choices(TASKS).default("xor"))
    .addOption(deviceSeedOption())
    .option("--seed <n>", "seed of the noise and the starting voltages", wholeAtLeast(0), DEFAULTS.seed)
    .option("--budget <device-s>", `device-time budget: stop unsolved after this many device-seconds ${BUDGET_DEFAULTS}`, positive)
    .option("--max-iterations <n>", `iteration limit (default: none, the budget stops the run)`, wholeAtLeast(1)))
    .addOption(fieldOption("SampleRateHz", "Hz"))
    .addOption(fieldOption("WindowSamples", "samples", `${defaultOf("WindowSamples")} samples (${MSE_WINDOW_SAMPLES} on MSE tasks) for the module's estimators; ${LEVEL_WINDOW_SAMPLES} for the levels pat, pat-hge and the Kirchhoff methods read`))
    .addOption(fieldOption("SettleSamples", "samples"))
    .option("--tones <planned|Hz,...>", "'planned', or one tone per control in Hz, e.g. 25,45,65,95,115", tones, "planned")
    .option("--band <low,high>", `band for planned tones, Hz (default ${DEFAULTS.band.bandLowHz},${DEFAULTS.band.bandHighHz}, its top at most half the sample rate, its bottom at most half its top)`, band)
    .addOption(fieldOption("GuardBins", "bins"))
    .option("--plan-order <2|3|auto>", `${FIELDS.PlanOrder.doc}; auto: calibrate on the shorter of the order-3 plan and the order-2 one with the probe's room, then 2 where the measured distortion is not above the noise, else 3 (calibrated again) (default ${DEFAULTS.band.planOrder})`, planOrder)
    .option("--amplitude-mv <mV,...>", `perturbation peak amplitude, one for all or one per control (default ${DEFAULTS.amplitudeV * 1000})`, (text) => list(text, "amplitudes in mV"))
    .addOption(new Option("--optimiser <name>", `update rule (default ${DEFAULTS.optimiser})`).choices(["sgd", "momentum", "adam"]))
    .addOption(fieldOption("LearningRate", "V", `${defaultOf("LearningRate")} V; pat and pat-hge ${PAT_DEFAULTS.learningRate} V, their learningRate setting; phyll and phyll-hge: their digital layer's Adam rate, ${PHYLL_DEFAULTS.learningRate}, their learningRate setting (phyll-hge's physical step takes physicalLearningRate)`))
    .addOption(fieldOption("Beta1", "b"))
    .addOption(fieldOption("Beta2", "b"))
    .addOption(fieldOption("Epsilon", "e"))
    .addOption(new Option("--loss <name>", "loss (default: the task's: corrsig for gates and sphere, mse for regression)").choices(["mse", "corrsig", "fisher"]))
    .addOption(fieldOption("MarginScale", "units"))
    .option("--margin <fraction>", "classification: solved when the classes are separated by this fraction of the output span", fraction, MARGIN_FRACTION)
    .option("--initial-v <random|middle|V,...>", "starting controls: seeded random, the middle of each range, or one voltage per control (default random)", initialV)
    .option("--resume <file>", "continue from a run.json or checkpoint.bin of an earlier run (weights; for the module also optimiser state and fitted lag; on a data set the run replayed from its journal.json, given or beside the run.json), with its seed unless --seed is given", existingFile)
    .option("--patience <n>", `restart from a new seeded start after n iterations without progress, 0 = never (default ${DEFAULTS.patience}; with --initial-v middle or voltages, never unless given)`, wholeAtLeast(0))
    .addOption(fieldOption("CalibrationEpochs", "epochs"))
    .option("--lag <samples,Hz>", "the chain's lag as delay,corner (default: the simulated chain's): demodulated with as given under --calibration 0; a calibration keeps this corner, fitting the delay, unless the tones' phases reject it", lag)
    .addOption(new Option("--gradient <mode>", `${FIELDS.Gradient.doc} (default ${GRADIENTS[FIELDS.Gradient.default as number]})`).choices(GRADIENTS))
    .addOption(fieldOption("StreamOrder", "n"))
    .addOption(fieldOption("StreamTauSamples", "samples"))
    .addOption(fieldOption("ChipSamples", "samples", `random and walsh ${TRAIN_CODE_CHIP_SAMPLES}, sequential the window over its period, spsa half the window`))
    .addOption(fieldOption("Seed", "n"))
    .addOption(fieldOption("SpsaStability", "A"))
    .addOption(fieldOption("SlewVPerS", "V/s"))
    .option("--set <name=value...>", "a method's own setting, e.g. --set updateFraction=0.5 (hge methods lists each method's settings)", setting, [])
    .option("--update-fraction <f>", "analytic: train a seeded random share of the edges, 0 < f ≤ 1 (the same as --set updateFraction=f)", positive)
    .option("--fabrication-spread <fraction>", `resistor networks: per-edge spread of the conductance curves from the nominal model, 0 to ${MAX_FABRICATION_SPREAD} (default ${DEFAULT_FABRICATION_SPREAD})`, (text) => {
      const what = `a fraction from 0 to ${MAX_FABRICATION_SPREAD}`;
      const value = number(text, what);
      if (value < 0 || value > MAX_FABRICATION_SPREAD) throw new InvalidArgumentError(`expected ${what}.`);
      return value;
    })
    .option("--hold <k,...>", "the controls (1-based, e.g. 2,5) held at their start: still perturbed and measured, never updated", hold)
    .option("--out <dir>", "report directory (default reports/<device>-<task>-<method>-seed<seed>; <device> with -device<n> for --device-seed, -spread<x> for --fabrication-spread)", nonEmpty("a directory"))
    .option("--board <name>", `run the controller inside a board, hardware in the loop over its UART: an emulated one (${emulatedBoards().join(", ")}), or with --port any board flashed with the link firmware; a board that restarts mid-run is configured again and the run goes on from its last checkpoint`, nonEmpty("a board"))
    // --live (host/live); --port/--baud: a real board on a serial port (the link firmware flashed)
    .option("--live", "serve a local page (127.0.0.1) that plots the run while it trains; the run starts once the page opens")
    .option("--port <path>", "with --board: the board's serial port (e.g. /dev/ttyACM0; default: the emulated board's pseudo-terminal)", nonEmpty("a serial port"))
    .option("--baud <n>", "with --port: baud rate (default 115200)", wholeAtLeast(1))
    .option("--no-progress", "no progress bar")
    .action((flags: TrainFlags, command: Command) => train(flags, command));

  measurementOptions(root
    .command("compare")
    .description("train one task on one simulated device with several methods from the same seeds, and rank them by device-seconds to solve")
    .addOption(deviceOption())
    .addOption(deviceSeedOption())
    .addOption(new Option("--task <name>", "task to train").choices(TASKS).default("xor"))
    .option("--methods <a,b,...>", "methods to compare (default: every method that can train the task on the device)", methodList)
    .option("--seeds <n>", `runs per method, seeds 1 to n (n ≤ ${MAX_SEEDS})`, wholeAtLeast(1, MAX_SEEDS), 5)
    .option("--budget <device-s>", `device-time budget of each run: unsolved after it ${BUDGET_DEFAULTS}`, positive)
    .option("--max-iterations <n>", `iteration limit of each run (default: none, the budget stops the run)`, wholeAtLeast(1)))
    .addOption(workersOption())
    .option("--set <name=value...>", "a method's own setting, given to each compared method that has it (hge methods lists them)", setting, [])
    .option("--out <dir>", "where compare.json goes (default reports/compare-DEVICE-TASK; with --resume, beside the file it names)", nonEmpty("a directory"))
    .option("--resume <compare.json>", "take the runs an earlier comparison kept (one interrupted, or with fewer seeds or methods) and run only the others; every other flag as it was", existingFile)
    .option("--no-progress", "no progress bar (nor, off a terminal, a line a run)")
    .action((flags: CompareFlags, command: Command) => compare(flags, command));

  root
    .command("methods")
    .description("list the training methods, what each needs and which tasks it trains")
    .action(() => listMethods(root.commands.find((command) => command.name() === "train")!));

  root
    .command("device")
    .description("what hge sees of a device, a device file checked as training checks it, and which methods can train each task on it")
    .argument("[device]", `${DEVICE_CHOICES}`, parseDevice, "dnpu")
    .addOption(deviceSeedOption())
    .option("--serve <port>", "then serve the device over HTTP on 127.0.0.1 (GET /device, POST /output; 0: any free port) until Ctrl-C, for a device file whose calls wait for I/O (README: \"Your own device\")", port)
    .action((spec: DeviceSpec, flags: { deviceSeed?: number; serve?: number }) => describeDevice(spec, flags));

  root.addCommand(boardCommand(root));

  root
    .command("demo")
    .description("train all six Boolean gates on the default dopant network (or --device) and write a report")
    .addOption(deviceOption())
    .addOption(deviceSeedOption())
    .option("--seed <n>", "seed of every gate's run", wholeAtLeast(0), DEFAULTS.seed)
    .option("--out <dir>", "report directory (default reports/demo-<device>-seed<seed>; <device> with -device<n> for --device-seed)", nonEmpty("a directory"))
    .addOption(workersOption())
    .option("--max-iterations <n>", `iteration limit per gate (default: none, the budget stops the run)`, wholeAtLeast(1))
    .option("--no-progress", "no progress bars (nor, off a terminal, a line a gate)")
    .action((flags: DemoFlags) => demo(flags));
  const oneLineErrors = (command: Command): void => {
    command.configureOutput({ outputError: (text, write) => write(errorLine(text, command)) });
    command.commands.forEach(oneLineErrors);
  };
  oneLineErrors(root);
  const unlisted = root.commands.find((command) => command.name() === "train")!.options.find((flag) => !(flag.attributeName() in FLAG_OPTIONS));
  if (unlisted) throw new Error(`${unlisted.long} (attribute ${unlisted.attributeName()}) is not in FLAG_OPTIONS: say which shared option it sets`);
  return root;
}

const path = (command: Command): string => (command.parent ? `${path(command.parent)} ${command.name()}` : command.name());
const commandsOf = (command: Command) => `the commands of ${path(command)}: ${command.commands.map((c) => c.name()).join(", ")}`;

/** Commander's parse error as one line, with the valid choices where commander names none:
 *  the commands there are, or where the options are listed. */
function errorLine(text: string, command: Command): string {
  let line = text.replace(/^error: /, "").trim().replace(/\s*\n\s*/g, " ");
  if (line.startsWith("unknown command")) line += ` (${commandsOf(command)})`;
  else if (line.startsWith("unknown option") && !line.includes("Did you mean")) line += ` (${path(command)} --help lists its options)`;
  return `hge: ${line}\n`;
}

function fail(code: number, message: string): never {
  process.stderr.write(`hge: ${message}\n`);
  process.exit(code);
}

/** A flag given twice, which commander would settle silently by keeping the last: refused
 *  (--set excepted: each gives another setting). */
function refuseRepeatedFlags(argv: string[]): void {
  const seen = new Set<string>();
  for (const arg of argv) {
    if (arg === "--") return;
    const flag = arg.split("=")[0];
    if (!flag.startsWith("--") || flag === "--set") continue;
    if (seen.has(flag)) throw new UsageError(`${flag} is given twice; give it once`);
    seen.add(flag);
  }
}

/** `hge [command …] help X`: commander would print the whole help, on stderr, for a command X
 *  that the command before `help` lacks. */
function refuseUnknownHelp(root: Command, argv: string[]): void {
  let command = root;
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === "help" && argv[i + 1] !== undefined && !command.commands.some((c) => c.name() === argv[i + 1])) {
      throw new UsageError(`unknown command '${argv[i + 1]}' (${commandsOf(command)})`);
    }
    const sub = command.commands.find((c) => c.name() === argv[i]);
    if (!sub) return;
    command = sub;
  }
}

export async function main(argv: string[]): Promise<void> {
  try {
    refuseRepeatedFlags(argv);
    const root = program();
    refuseUnknownHelp(root, argv);
    await root.parseAsync(argv, { from: "user" });
  } catch (error) {
    removeUnusedOut(); // (a command refused after it made its --out)
    if (error instanceof CommanderError) {
      // Help and version exit 0; every parse error was already printed on one line.
      process.exitCode = error.exitCode === 0 ? 0 : EXIT.usage;
      return;
    }
    if (error instanceof UsageError) fail(EXIT.usage, error.message);
    if (error instanceof TrainConfigError) fail(EXIT.refused, `configuration refused: ${error.message}`);
    if (error instanceof ControllerError) fail(EXIT.refused, error.message); // ("configuration refused: …" already)
    if (error instanceof LinkError) fail(EXIT.usage, `${error.message} (a board's port, its link firmware, or its cable)`);
    if (isFileSystemError(error)) fail(EXIT.usage, `the file system refused: ${error.message}`);
    fail(EXIT.internal, `internal error: ${error instanceof Error ? error.message : String(error)} (a bug in hge: please report it with the command line)`);
  }
}

if (process.argv[1] && realpathSync(process.argv[1]) === fileURLToPath(import.meta.url)) {
  await main(process.argv.slice(2));
}
