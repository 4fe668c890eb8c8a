#!/usr/bin/env -S npx tsx
// The `hge` command: `hge train` trains one task on one simulated device in closed loop with
// the controller and writes a report; `hge demo` trains the six Boolean gates on the default
// dopant network in parallel worker threads. Bad input gets one line and a distinct exit code.
import { Command, CommanderError, InvalidArgumentError, Option } from "commander";
import { MultiBar, Presets, SingleBar } from "cli-progress";
import { realpathSync } from "node:fs";
import { cpus } from "node:os";
import { fileURLToPath } from "node:url";
import { join, relative } from "node:path";
import { Worker, isMainThread, parentPort, workerData } from "node:worker_threads";
import type { Device } from "./devices/device.ts";
import { DopantNetwork } from "./devices/dopant.ts";
import { AnalyticDevice } from "./devices/analytic.ts";
import { ResistorNetwork } from "./devices/resistor.ts";
import type { Task } from "./tasks/task.ts";
import { GATE_NAMES, gateTask, type GateName } from "./tasks/gates.ts";
import { sphereTask } from "./tasks/sphere.ts";
import { regressionTask } from "./tasks/regression.ts";
import { ControllerError } from "./controller.ts";
import { DEFAULTS, MARGIN_SCALE_DEFAULTS, NOISE_DEFAULTS, TrainConfigError, trainTask, type TrainOptions, type TrainProgress, type TrainResult } from "./train.ts";
import { formatMargin, textTable } from "./report/format.ts";

/** Exit codes: 0 trained and solved, 1 trained but not solved, 2 usage, 3 configuration refused,
 *  4 internal error. */
export const EXIT = { solved: 0, unsolved: 1, usage: 2, refused: 3, internal: 4 } as const;

export const DEVICES = ["dnpu", "resistor", "analytic"] as const;
export const TASKS = ["and", "or", "nand", "nor", "xor", "xnor", "sphere", "regression"] as const;
type DeviceName = (typeof DEVICES)[number];
type TaskName = (typeof TASKS)[number];

/** The data inputs a task needs. */
function inputsFor(task: TaskName): number {
  return task === "sphere" ? 3 : 2;
}

/** A usage problem found after parsing (exit code 2). */
class UsageError extends Error {}

export function buildDevice(name: DeviceName, task: TaskName): Device {
  const inputs = inputsFor(task);
  if (name === "dnpu") {
    const device = DopantNetwork.default();
    if (device.inputCount !== inputs) {
      throw new UsageError(`task ${task} needs ${inputs} data inputs but the dnpu has ${device.inputCount}; use --device analytic or resistor for ${task}`);
    }
    return device;
  }
  if (name === "analytic") return new AnalyticDevice({ inputCount: inputs });
  return new ResistorNetwork({ inputCount: inputs });
}

export function buildTask(name: TaskName, device: Device, marginFraction: number): Task {
  if (name === "sphere") return sphereTask(device.inputRangeV, 1, 16, marginFraction);
  if (name === "regression") return regressionTask({ inputRangeV: device.inputRangeV });
  return gateTask(name.toUpperCase() as GateName, device.inputRangeV, marginFraction);
}

// ---- argument parsers: each throws InvalidArgumentError with what is allowed ------------

function number(text: string, what: string): number {
  const value = Number(text);
  if (text.trim() === "" || !Number.isFinite(value)) throw new InvalidArgumentError(`expected ${what}.`);
  return value;
}
const positive = (text: string) => {
  const value = number(text, "a number > 0");
  if (!(value > 0)) throw new InvalidArgumentError("expected a number > 0.");
  return value;
};
const nonNegative = (text: string) => {
  const value = number(text, "a number ≥ 0");
  if (value < 0) throw new InvalidArgumentError("expected a number ≥ 0.");
  return value;
};
const wholeAtLeast = (low: number) => (text: string) => {
  const value = number(text, `a whole number ≥ ${low}`);
  if (!Number.isInteger(value) || value < low || value > 2 ** 32 - 1) throw new InvalidArgumentError(`expected a whole number ≥ ${low}.`);
  return value;
};
const fraction = (text: string) => {
  const value = number(text, "a fraction in [0, 1)");
  if (value < 0 || value >= 1) throw new InvalidArgumentError("expected a fraction in [0, 1).");
  return value;
};
const list = (text: string, what: string) => {
  const parts = text.split(",").map((part) => part.trim());
  const values = parts.map(Number);
  if (parts.some((part) => part === "") || values.some((x) => !Number.isFinite(x) || x <= 0)) {
    throw new InvalidArgumentError(`expected ${what}: positive numbers separated by commas.`);
  }
  return values;
};
const tones = (text: string): "planned" | number[] => (text === "planned" ? "planned" : list(text, "'planned' or tone frequencies in Hz, e.g. 25,45,65,95,115"));
const band = (text: string): [number, number] => {
  const values = list(text, "the band as low,high in Hz, e.g. 20,1000");
  if (values.length !== 2 || values[0] >= values[1]) throw new InvalidArgumentError("expected the band as low,high in Hz with low < high, e.g. 20,1000.");
  return [values[0], values[1]];
};

interface TrainFlags {
  device: DeviceName;
  task: TaskName;
  board?: string;
  seed: number;
  noise: boolean;
  whiteNoise?: number;
  pinkNoise?: number;
  drift?: number;
  spikes?: number;
  spikeSize: number;
  sampleRate?: number;
  window?: number;
  settle?: number;
  tones: "planned" | number[];
  band?: [number, number];
  guard?: number;
  amplitudeMv?: number[];
  optimiser?: "sgd" | "momentum" | "adam";
  learningRate?: number;
  marginScale?: number;
  margin: number;
  maxIterations?: number;
  patience?: number;
  calibration?: number;
  out?: string;
  progress: boolean;
}

/** The trainTask options a set of flags asks for. */
export function trainOptionsFrom(flags: TrainFlags): TrainOptions {
  const device = buildDevice(flags.device, flags.task);
  const task = buildTask(flags.task, device, flags.margin);
  const noise = flags.noise
    ? {
        ...(flags.whiteNoise !== undefined ? { whiteSigma: flags.whiteNoise } : {}),
        ...(flags.pinkNoise !== undefined ? { pinkPsdAt1kHz: flags.pinkNoise } : {}),
        ...(flags.drift ? { drift: { randomWalkPerSqrtS: flags.drift } } : {}),
        ...(flags.spikes ? { spikes: { ratePerS: flags.spikes, amplitude: flags.spikeSize } } : {}),
      }
    : { whiteSigma: 0, pinkPsdAt1kHz: 0 };
  const amplitudes = flags.amplitudeMv?.map((mv) => mv / 1000);
  if (amplitudes && amplitudes.length !== 1 && amplitudes.length !== device.controlCount) {
    throw new UsageError(`--amplitude-mv has ${amplitudes.length} values; give one for all controls or one for each of the ${device.controlCount} controls`);
  }
  if (Array.isArray(flags.tones) && flags.tones.length !== device.controlCount) {
    throw new UsageError(`--tones has ${flags.tones.length} frequencies; ${device.name} has ${device.controlCount} controls, one tone each`);
  }
  return {
    device,
    task,
    seed: flags.seed,
    noise,
    chain: flags.sampleRate !== undefined ? { sampleRateHz: flags.sampleRate } : {},
    tones: Array.isArray(flags.tones)
      ? { explicitHz: flags.tones }
      : { plan: { bandLowHz: flags.band?.[0] ?? DEFAULTS.band.bandLowHz, bandHighHz: flags.band?.[1] ?? DEFAULTS.band.bandHighHz, guardBins: flags.guard ?? DEFAULTS.band.guardBins } },
    amplitudesV: amplitudes && (amplitudes.length === 1 ? amplitudes[0] : amplitudes),
    windowSamples: flags.window,
    settleSamples: flags.settle,
    optimiser: flags.optimiser,
    learningRate: flags.learningRate,
    marginScale: flags.marginScale,
    maxIterations: flags.maxIterations,
    patience: flags.patience,
    calibrationWindows: flags.calibration,
  };
}

// ---- refusals: one line naming the option and what is valid -----------------------------

/** The option behind each field the controller can refuse, and what it accepts. */
function refusalHint(error: ControllerError, options: TrainOptions): string {
  const device = options.device;
  const control = error.index >= 0 ? error.index : 0;
  const range = device.controlRangeV[control] ?? [0, 0];
  const fs = options.chain?.sampleRateHz ?? DEFAULTS.sampleRateHz;
  const hints: Record<string, string> = {
    SampleRateHz: "--sample-rate must be 1 Hz to 1 GHz",
    WindowSamples: "--window must be 8 to 1048576 samples",
    SettleSamples: "--settle must be 0 to 16777216 samples",
    BandLowHz: `--band's low edge must be ≥ 0 and below half the sample rate (${fs / 2} Hz)`,
    BandHighHz: `--band's high edge must be above the low edge and at most half the sample rate (${fs / 2} Hz)`,
    GuardBins: "--guard must be 0 to 64 bins",
    LearningRate: "--learning-rate must be > 0 and at most 1e30",
    MarginScale: "--margin-scale must be > 0",
    CalibrationWindows: "--calibration must be 0 to 1024 epochs",
    ToneBin: `--tones: every tone must be distinct, at least one cycle per window and below half the sample rate (${fs / 2} Hz); control ${control + 1}'s is not`,
    AmplitudeV: `--amplitude-mv: control ${control + 1}'s amplitude must be > 0 and at most half its range [${range[0]}, ${range[1]}] V, i.e. ≤ ${+(((range[1] - range[0]) / 2) * 1000).toFixed(3)} mV`,
    Plan: `${error.message} (--window, or a wider --band, or --guard 0)`,
  };
  const hint = hints[error.field];
  if (!hint) return `configuration refused: ${error.message.replace(/^configuration refused: /, "")} (controller field ${error.field})`;
  if (error.field === "Plan") return `configuration refused: ${hint}`;
  return `configuration refused: ${hint} (controller field ${error.field})`;
}

function fail(code: number, message: string): never {
  process.stderr.write(`hge: ${message}\n`);
  process.exit(code);
}

// ---- progress and summaries ---------------------------------------------------------------

function fixed(x: number, digits: number): string {
  return Number.isFinite(x) ? x.toFixed(digits) : "—";
}

function progressFields(p: TrainProgress): Record<string, string> {
  return {
    loss: p.loss.toPrecision(4).padStart(9),
    margin: `${fixed(p.margin * 100, 1)}%`.padStart(7),
    deviceSeconds: fixed(p.deviceSeconds, 1).padStart(6),
    attempt: String(p.attempt),
  };
}

const BAR_FORMAT = "{task} |{bar}| it {value}/{total} | loss {loss} | margin {margin} | {deviceSeconds} device-s | start {attempt} | ETA {eta_formatted}";

function windowText(run: TrainResult, windowGiven: boolean): string {
  const c = run.config.controller;
  const extended = !windowGiven && "plan" in c.tones && c.windowSamples > DEFAULTS.windowSamples ? ", lengthened so the planned tones fit" : "";
  return `${c.windowSamples}-sample windows (${+((c.windowSamples / c.sampleRateHz) * 1000).toFixed(1)} ms${extended})`;
}

function summary(run: TrainResult, reportPath: string, jsonPath: string, windowGiven: boolean): string {
  const outcome = run.solved ? `solved in ${run.iterations} iterations` : `not solved after ${run.iterations} iterations (${run.stopped === "fault" ? "controller fault" : "iteration limit"})`;
  const starts = run.attempts.length > 1 ? `, ${run.attempts.length} starts` : "";
  return [
    `${run.task} on ${run.device}: ${outcome}${starts}, ${run.deviceSeconds.toFixed(1)} s of device time (${run.wallSeconds.toFixed(1)} s wall), margin ${formatMargin(run)}`,
    `  case outputs (${run.outputUnit}): ${run.caseOutputs.map((y) => y.toFixed(2)).join(", ")}   targets: ${run.targets.map((t) => +t.toFixed(3)).join(", ")}`,
    `  controls (V): ${run.finalWeights.map((v) => v.toFixed(3)).join(", ")}`,
    `  tones (Hz): ${run.toneHz.map((f) => +f.toFixed(2)).join(", ")} in ${windowText(run, windowGiven)}${run.toneHits.some((h) => h) ? "; some hit by intermodulation products" : ""}`,
    `  lag fitted: ${run.counters.lagDelaySamples.toFixed(2)} samples, corner ${run.counters.lagCornerHz.toFixed(0)} Hz; windows: ${run.counters.windows} measured, ${run.counters.discardedWindows} discarded`,
    `  report: ${reportPath}`,
    `  data:   ${jsonPath}`,
  ].join("\n");
}

function display(path: string): string {
  const shown = relative(process.cwd(), path);
  return shown.startsWith("..") ? path : shown;
}

function commandLine(): string {
  return ["hge", ...process.argv.slice(2)].join(" ");
}

// ---- hge train ------------------------------------------------------------------------------

async function train(flags: TrainFlags): Promise<void> {
  let options: TrainOptions;
  try {
    options = trainOptionsFrom(flags);
  } catch (error) {
    if (error instanceof UsageError) fail(EXIT.usage, error.message);
    throw error;
  }
  const out = flags.out ?? join("reports", `${flags.device}-${flags.task}-seed${flags.seed}`);
  const showBar = flags.progress && process.stderr.isTTY;
  const bar = new SingleBar({ format: BAR_FORMAT, hideCursor: true, etaBuffer: 30, barsize: 20 }, Presets.shades_classic);
  let started = false;
  let run: TrainResult;
  const onProgress = (p: TrainProgress) => {
    if (!showBar) return;
    if (!started) {
      bar.start(p.maxIterations, 0, { task: options.task.name, ...progressFields(p) });
      started = true;
    }
    bar.update(p.iteration, progressFields(p));
  };
  try {
    if (flags.board) {
      // the controller runs inside the emulated board; this process plays the device over its UART
      const { trainOnBoard } = await import("../boards/hil.ts");
      const { device: _device, task, ...rest } = options;
      const boardRun = await trainOnBoard({ ...rest, task, board: flags.board, onProgress });
      run = { ...boardRun, stopped: boardRun.stopped === "link" ? "limit" : boardRun.stopped } as TrainResult;
      if (boardRun.stopped === "link") console.error(`hge: the board stopped training: ${JSON.stringify(boardRun.boardStop)}`);
    } else {
      run = trainTask(options, onProgress);
    }
  } catch (error) {
    if (started) bar.stop();
    if (error instanceof ControllerError) fail(EXIT.refused, refusalHint(error, options));
    if (error instanceof TrainConfigError) fail(EXIT.refused, `configuration refused: ${error.message}`);
    throw error;
  }
  if (started) {
    bar.update(run.iterations);
    bar.stop();
  }
  const { writeRunReport } = await import("./report/html.ts"); // vega loads only when needed
  const report = await writeRunReport(run, out, commandLine());
  console.log(summary(run, display(report), display(join(out, "run.json")), flags.window !== undefined));
  process.exitCode = run.solved ? EXIT.solved : EXIT.unsolved;
}

// ---- hge demo -------------------------------------------------------------------------------

interface DemoFlags {
  seed: number;
  out: string;
  workers: number;
  maxIterations?: number;
  progress: boolean;
}

interface DemoJob {
  gate: GateName;
  seed: number;
  out: string;
  command: string;
  maxIterations?: number;
}

type WorkerMessage =
  | { kind: "progress"; gate: GateName; progress: TrainProgress }
  | { kind: "done"; gate: GateName; run: TrainResult }
  | { kind: "failed"; gate: GateName; message: string };

/** Trains one gate of the demo and writes its report (runs in a worker thread). */
async function demoGate(job: DemoJob, post: (message: WorkerMessage) => void): Promise<void> {
  const device = DopantNetwork.default();
  const task = gateTask(job.gate, device.inputRangeV);
  const run = trainTask({ device, task, seed: job.seed, maxIterations: job.maxIterations }, (progress) => post({ kind: "progress", gate: job.gate, progress }));
  const { writeRunReport } = await import("./report/html.ts");
  await writeRunReport(run, join(job.out, job.gate.toLowerCase()), job.command);
  post({ kind: "done", gate: job.gate, run });
}

/** Hardest first, so the slow gates do not start last. */
const DEMO_ORDER: GateName[] = ["XOR", "XNOR", "NAND", "NOR", "AND", "OR"];

async function demo(flags: DemoFlags): Promise<void> {
  const started = performance.now();
  const command = commandLine();
  const queue = DEMO_ORDER.filter((gate) => GATE_NAMES.includes(gate)).map((gate): DemoJob => ({ gate, seed: flags.seed, out: flags.out, command, maxIterations: flags.maxIterations }));
  const limit = flags.maxIterations ?? DEFAULTS.maxIterations;
  const showBars = flags.progress && process.stderr.isTTY;
  const bars = new MultiBar({ format: BAR_FORMAT, hideCursor: true, clearOnComplete: false, etaBuffer: 30, barsize: 20 }, Presets.shades_classic);
  const barOf = new Map<GateName, ReturnType<MultiBar["create"]>>();
  if (showBars) for (const job of queue) barOf.set(job.gate, bars.create(limit, 0, { task: job.gate.padEnd(4), loss: "", margin: "", deviceSeconds: "", attempt: "" }));
  else process.stderr.write(`training ${queue.length} gates on ${flags.workers} worker threads...\n`);
  const results = new Map<GateName, TrainResult>();
  const failures: string[] = [];

  const onMessage = (message: WorkerMessage) => {
    if (message.kind === "progress") {
      barOf.get(message.gate)?.update(message.progress.iteration, progressFields(message.progress));
    } else if (message.kind === "done") {
      results.set(message.gate, message.run);
      const bar = barOf.get(message.gate);
      if (bar) bar.update(message.run.iterations, { task: `${message.gate.padEnd(4)}${message.run.solved ? " ✓" : " ✗"}` });
      else process.stderr.write(`  ${message.gate}: ${message.run.solved ? "solved" : "not solved"} in ${message.run.iterations} iterations (${message.run.wallSeconds.toFixed(1)} s wall)\n`);
    } else {
      failures.push(`${message.gate}: ${message.message}`);
    }
  };

  const workerCount = Math.max(1, Math.min(flags.workers, queue.length));
  const bootstrap = new URL("../bin/hge.mjs", import.meta.url);
  await Promise.all(
    Array.from({ length: workerCount }, async () => {
      for (let job = queue.shift(); job; job = queue.shift()) {
        const current = job;
        await new Promise<void>((resolve) => {
          const worker = new Worker(bootstrap, { workerData: { demoJob: current } });
          worker.on("message", onMessage);
          worker.on("error", (error) => failures.push(`${current.gate}: ${error.message}`));
          worker.on("exit", () => resolve());
        });
      }
    }),
  );
  if (showBars) bars.stop();
  if (failures.length) fail(EXIT.internal, `demo failed: ${failures.join("; ")}`);

  const entries = DEMO_ORDER.filter((gate) => results.has(gate)).map((gate) => ({ name: gate.toLowerCase(), run: results.get(gate)! }));
  const wallSeconds = (performance.now() - started) / 1000;
  const { writeIndex } = await import("./report/html.ts");
  const index = writeIndex(entries, flags.out, command, wallSeconds);
  const header = ["gate", "solved", "iterations", "device-s", "margin"];
  const rows = entries.map(({ run }) => [run.task, run.solved ? "yes" : "no", String(run.iterations), run.deviceSeconds.toFixed(1), formatMargin(run)]);
  for (const line of textTable([header, ...rows], 2)) console.log(line);
  const solved = entries.filter((e) => e.run.solved).length;
  console.log(`${solved}/${entries.length} gates solved on ${entries[0]?.run.device}, ${wallSeconds.toFixed(1)} s wall on ${workerCount} worker threads`);
  console.log(`report: ${display(index)}`);
  process.exitCode = solved === entries.length ? EXIT.solved : EXIT.unsolved;
}

// ---- the command line -------------------------------------------------------------------------

export function program(): Command {
  const root = new Command("hge")
    .description("Homodyne gradient extraction: train simulated material devices in closed loop with the hge controller")
    .exitOverride()
    .showSuggestionAfterError()
    .configureOutput({ outputError: (text, write) => write(`hge: ${text.replace(/^error: /, "").trim().replace(/\s*\n\s*/g, " ")}\n`) });

  const noise = NOISE_DEFAULTS.nA;
  root
    .command("train")
    .description("train one task on one simulated device and write a report")
    .addOption(new Option("--device <name>", "simulated device").choices(DEVICES).default("dnpu"))
    .addOption(new Option("--task <name>", "task to train").choices(TASKS).default("xor"))
    .option("--seed <n>", "seed of the noise and the starting voltages", wholeAtLeast(0), DEFAULTS.seed)
    .option("--white-noise <sigma>", `white noise per sample, output units (default ${noise.whiteSigma} nA; resistor ${NOISE_DEFAULTS.V.whiteSigma} V)`, nonNegative)
    .option("--pink-noise <psd>", `1/f noise PSD at 1 kHz, output units²/Hz (default ${noise.pinkPsdAt1kHz} nA²/Hz; resistor ${NOISE_DEFAULTS.V.pinkPsdAt1kHz} V²/Hz)`, nonNegative)
    .option("--drift <rate>", "random-walk drift of the output offset, output units per √s", nonNegative)
    .option("--spikes <rate>", "rare spikes, events per second", nonNegative)
    .option("--spike-size <amplitude>", "spike amplitude, output units (the default saturates the ADC: the window is discarded)", positive, 1000)
    .option("--no-noise", "no added noise (converters still quantise)")
    .option("--sample-rate <Hz>", `converter sample rate (default ${DEFAULTS.sampleRateHz})`, positive)
    .option("--window <samples>", `lock-in window per input case (default ${DEFAULTS.windowSamples}, or fitted to explicit tones)`, wholeAtLeast(1))
    .option("--settle <samples>", `samples discarded after each input change (default ${DEFAULTS.settleSamples})`, wholeAtLeast(0))
    .option("--tones <planned|Hz,...>", "'planned', or one tone per control in Hz, e.g. 25,45,65,95,115", tones, "planned")
    .option("--band <low,high>", `band for planned tones, Hz (default ${DEFAULTS.band.bandLowHz},${DEFAULTS.band.bandHighHz})`, band)
    .option("--guard <bins>", `planner: minimum distance from a tone to any intermodulation product (default ${DEFAULTS.band.guardBins})`, wholeAtLeast(0))
    .option("--amplitude-mv <mV,...>", `perturbation peak amplitude, one for all or one per control (default ${DEFAULTS.amplitudeV * 1000})`, (text) => list(text, "amplitudes in mV"))
    .addOption(new Option("--optimiser <name>", `update rule (default ${DEFAULTS.optimiser})`).choices(["sgd", "momentum", "adam"]))
    .option("--learning-rate <V>", `step size (default ${DEFAULTS.learningRate})`, positive)
    .option("--margin-scale <units>", `corrsig loss: sigmoid(separation / scale), output units (default ${MARGIN_SCALE_DEFAULTS.nA} nA; resistor ${MARGIN_SCALE_DEFAULTS.V} V)`, positive)
    .option("--margin <fraction>", "classification: solved when the classes are separated by this fraction of the output span", fraction, 0.05)
    .option("--max-iterations <n>", `iteration limit (default ${DEFAULTS.maxIterations})`, wholeAtLeast(1))
    .option("--patience <n>", `restart from a new seeded start after n iterations without progress, 0 = never (default ${DEFAULTS.patience})`, wholeAtLeast(0))
    .option("--calibration <epochs>", `epochs fitting the chain's lag first, 0 = trust the chain model (default ${DEFAULTS.calibrationWindows})`, wholeAtLeast(0))
    .option("--out <dir>", "report directory (default reports/<device>-<task>-seed<seed>)")
    .option("--board <name>", "run the controller inside an emulated board (mps2-an386, virt-rv32), hardware in the loop over its UART")
    .option("--no-progress", "no progress bar")
    .action((flags: TrainFlags) => train(flags));

  root
    .command("board")
    .description("boards: list | check [board] | build <board|all> | run <board> --replay|--hil | measure | train --board <b> (see boards/README.md)")
    .helpOption(false)
    .allowUnknownOption()
    .allowExcessArguments()
    .argument("[args...]")
    .action(async (args: string[]) => {
      const { main: boardMain } = await import("../boards/build.ts");
      process.exitCode = await boardMain(args);
    });

  root
    .command("demo")
    .description("train all six Boolean gates on the default dopant network and write a report")
    .option("--seed <n>", "seed of every gate's run", wholeAtLeast(0), DEFAULTS.seed)
    .option("--out <dir>", "report directory", join("reports", "demo"))
    .option("--workers <n>", "worker threads", wholeAtLeast(1), Math.max(1, Math.min(6, cpus().length)))
    .option("--max-iterations <n>", `iteration limit per gate (default ${DEFAULTS.maxIterations})`, wholeAtLeast(1))
    .option("--no-progress", "no progress bars")
    .action((flags: DemoFlags) => demo(flags));
  return root;
}

export async function main(argv: string[]): Promise<void> {
  try {
    await program().parseAsync(argv, { from: "user" });
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and version exit 0; every parse error was already printed on one line.
      process.exitCode = error.exitCode === 0 ? 0 : EXIT.usage;
      return;
    }
    if (error instanceof ControllerError || error instanceof TrainConfigError) fail(EXIT.refused, `configuration refused: ${error.message}`);
    fail(EXIT.internal, `internal error: ${error instanceof Error ? error.message : String(error)} (please report it)`);
  }
}

if (!isMainThread && workerData?.demoJob) {
  await demoGate(workerData.demoJob as DemoJob, (message) => parentPort!.postMessage(message));
} else if (isMainThread && process.argv[1] && realpathSync(process.argv[1]) === fileURLToPath(import.meta.url)) {
  await main(process.argv.slice(2));
}
