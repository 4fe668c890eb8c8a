// Standalone firmware: a board that configures itself at power-up, trains on its own, reports
// telemetry on its UART and keeps its learned state in persistent storage, resuming from it
// after a reset (firmware/standalone.c). The host only builds it: the configuration block in
// the unit the firmware passes to step() (the board file's ADC unit), the task's targets and
// limits, and, for an emulated board, the coefficients of the test stand-in device
// (firmware/hal_emu_device.c). `hge board build <board> --standalone --task <gate>` and
// `hge board run <board> --standalone --task <gate>` (boards/cli.ts) are over these functions.
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Controller, ControllerError, type ControllerConfig } from "../host/controller.ts";
import { AnalyticDevice } from "../host/devices/analytic.ts";
import { TrainConfigError, UsageError } from "../host/errors.ts";
import { ESTIMATORS, trainingConfig, type Estimator } from "../host/methods/module.ts";
import { GATE_NAMES, MARGIN_FRACTION, NOISE_GAPS, gateTask, type GateName } from "../host/tasks/gates.ts";
import { DEFAULTS, FAULTED_STARTS, MARGIN_PROGRESS, configurePlanned, continuationOf, keepHeld, restartLimit, restartVoltages, type TrainOptions } from "../host/train.ts";
import type { Device } from "../host/devices/device.ts";
import { boardChain, deviceRefusal, loadBoard, type Board } from "./boards.ts";
import { buildBoard, requireTools, type BuildOptions, type BuildResult } from "./build.ts";
import { decodeStopped, decodeTelemetry, encodeConfig, LINK, crc16, Frame, type Stopped, type Telemetry } from "./link.ts";
import { qemuCommand } from "./qemu.ts";

/** Updates between two writes of the checkpoint to persistent storage. */
export const CHECKPOINT_EVERY = 1;

export interface StandaloneOptions {
  /** A gate (and, xor, ...). Default xor. */
  task?: string;
  /** The module's estimator (host/methods/module.ts), default multitone. */
  method?: string;
  /** A run.json of an earlier run (`hge train`): its configuration, continued from its final
   *  weights. */
  from?: string;
  seed?: number;
  maxIterations?: number;
  /** The emulated board's test stand-in, for tests: silent below a voltage (standInDevice), with
   *  white noise of this RMS in its output unit (none by default). */
  standIn?: { silentBelowV?: number; noiseRms?: number };
}

/** What a standalone build compiles in. */
export interface StandaloneConfiguration {
  board: Board;
  config: ControllerConfig;
  /** hge_config_t bytes. */
  block: Uint8Array;
  /** gen/standalone_config.h */
  header: string;
  /** The ADC scale and unit the block was built for (the board file's). */
  unit: string;
  unitPerV: number;
  task: string;
  targets: number[];
  solvedEpochs: number;
  /** Infinity: no limit (the --from run had none: the host's is Number.MAX_SAFE_INTEGER). */
  maxIterations: number;
}

/** The firmware counts iterations in 32 bits: a limit past that is none (HGE_MAX_ITERATIONS 0). */
const FIRMWARE_MAX_ITERATIONS = 0xffffffff;

const cf = (v: number) => {
  const f = Math.fround(v);
  if (!Number.isFinite(f)) throw new Error(`standalone: ${v} is not a finite f32`);
  return `${f.toPrecision(9)}f`;
};
const cArray = (values: ArrayLike<number>) => `{ ${Array.from(values, cf).join(", ")} }`;

function gateOf(task: string | undefined): GateName {
  const gate = (task ?? "xor").toUpperCase();
  if (!(GATE_NAMES as readonly string[]).includes(gate)) throw new TrainConfigError("task", `task ${task}: standalone firmware trains the gates ${GATE_NAMES.join(", ").toLowerCase()} (it decides "solved" on the board by the gate's margin)`);
  return gate as GateName;
}

/** The emulated board's test stand-in: an analytic device with the configuration's shape; with
 *  `silentBelowV`, its output is 0 wherever control 1 is below that (a device pinched off
 *  there: a start whose calibration finds no tones, for tests). */
export function standInDevice(controls: number, inputs: number, seed = 1, silentBelowV?: number): AnalyticDevice {
  const device = new AnalyticDevice({ seed, controlCount: controls, inputCount: inputs });
  if (silentBelowV === undefined) return device;
  return Object.assign(Object.create(device) as AnalyticDevice, { output: (v: ArrayLike<number>) => (v[0] < silentBelowV ? 0 : device.output(v as Float64Array)) });
}

/** The stand-in's coefficients as gen/standalone_config.h defines (HGE_EMU_*). */
function standInDefines(device: AnalyticDevice, { silentBelowV, noiseRms }: NonNullable<StandaloneOptions["standIn"]> = {}): string[] {
  const d = device as unknown as { amplitudeNA: Float64Array; coupling: Float64Array; inputCoupling: Float64Array; offset: Float64Array; controlMidV: Float64Array; inputMidV: Float64Array };
  return [
    "/* TEST STAND-IN (emulation only, firmware/hal_emu_device.c): " + device.name + " of host/devices/analytic.ts */",
    `#define HGE_EMU_CONTROLS ${device.controlCount}`,
    `#define HGE_EMU_INPUTS ${device.inputCount}`,
    `#define HGE_EMU_AMPLITUDE_NA ${cArray(d.amplitudeNA)}`,
    `#define HGE_EMU_COUPLING ${cArray(d.coupling)}`,
    `#define HGE_EMU_INPUT_COUPLING ${cArray(device.inputCount ? d.inputCoupling : [0])}`,
    `#define HGE_EMU_OFFSET ${cArray(d.offset)}`,
    `#define HGE_EMU_CONTROL_MID_V ${cArray(d.controlMidV)}`,
    `#define HGE_EMU_INPUT_MID_V ${cArray(device.inputCount ? d.inputMidV : [0])}`,
    ...(silentBelowV === undefined ? [] : [`#define HGE_EMU_SILENT_BELOW_V ${cf(silentBelowV)}`]),
    ...(noiseRms === undefined ? [] : [`#define HGE_EMU_NOISE_RMS ${cf(noiseRms)}`]),
    `/* its known optimum for the task's own targets would be ${Array.from(device.knownOptimumV, (v) => v.toFixed(3)).join(", ")} V */`,
  ];
}

/** What ends the firmware's run unsolved, as the CLI says it. */
export const iterationLimitText = (c: StandaloneConfiguration) =>
  Number.isFinite(c.maxIterations) ? `at most ${c.maxIterations} iterations` : "no iteration limit (the run it continues had none): it trains until solved; see --iterations";

/** A configuration the module refuses, as the error standalone's callers get. */
const refused = (error: ControllerError) => new TrainConfigError("config", `the configuration is refused by the module: ${error.message}`);

/**
 * The configuration a standalone board compiles in: planned here as `hge train` plans it, at
 * the board's sample rate, in the board's ADC unit (the unit step() receives). With `from`,
 * an earlier run's configuration continued from its final weights; its sample rate and output
 * unit must be the board's (TrainConfigError otherwise: a configuration made for other
 * converters is refused, not silently wrong).
 */
export function standaloneConfiguration(boardName: string | Board, o: StandaloneOptions = {}): StandaloneConfiguration {
  const board = typeof boardName === "string" ? loadBoard(boardName) : boardName;
  const seed = o.seed ?? DEFAULTS.seed;
  let config: ControllerConfig, targets: number[], task: string, solvedEpochs: number, maxIterations: number, unit: string;
  // the host's restarts (TrainingRun); none where the --from run had none (or is not hge's)
  let patience = 0, starts: number[][] = [];
  /** The host's starts for every restart `iterations` allow (HGE_RESTART_STARTS_V): those of
   *  attempts 1, 2, .. after the `resumed` attempts of the run continued, held controls kept. */
  const startsFor = (device: Pick<Device, "controlRangeV">, startSeed: number, iterations: number, resumed = 1) => {
    const restarts = restartLimit(iterations, patience), startBytes = 4 * config.controls.length;
    if (restarts * startBytes > board.flashBytes) {
      const named = o.maxIterations === undefined && o.from ? `--from ${o.from}: its ${iterations} iterations` : `--iterations ${iterations}`;
      throw new TrainConfigError("iterations", `${named}: the firmware holds a start for each of its ${restarts} restarts (one per ${patience} iterations), ${restarts * startBytes} bytes, more than ${board.name}'s flash (${board.flashBytes} bytes); at most ${Math.floor(board.flashBytes / startBytes) * patience} iterations, fewer beside the firmware`);
    }
    const first = config.controls.map((c) => c.initialV);
    return Array.from({ length: restarts }, (_, attempt) => keepHeld(restartVoltages(device, startSeed, attempt + 1, resumed), config.controls, first));
  };
  if (o.from) {
    // (options that conflict, exit 2, for build and run alike: run --standalone took --task and
    // ignored it, and --method was exit 3)
    if (o.task) throw new UsageError("--task and --from: the run in --from names its task");
    if (o.method) throw new UsageError("--method and --from: the run's configuration already names its estimator");
    if (!existsSync(o.from)) throw new TrainConfigError("from", `--from ${o.from}: no such file`);
    let run: { task?: string; outputUnit?: string; targets?: number[]; finalWeights?: number[]; ranOn?: string; seed?: unknown; attempts?: unknown; settings?: { patience?: unknown }; module?: { controller: ControllerConfig; chain?: { transimpedancePerV?: number }; solvedEpochs: number; maxIterations: number } };
    try { run = JSON.parse(readFileSync(o.from, "utf8")); } catch (e) { throw new TrainConfigError("from", `--from ${o.from}: not JSON (${(e as Error).message})`); }
    // what goes into the firmware's generated C and the module's configuration, checked first
    const damaged = (what: string) => new TrainConfigError("from", `--from ${o.from}: ${what}; give a run.json that hge train wrote for one of the module's methods`);
    if (typeof run !== "object" || run === null || Array.isArray(run)) throw damaged("not a run (a JSON object)");
    if (!run.module?.controller) throw new TrainConfigError("from", `--from ${o.from}: no module configuration in it (a run of the hge module's methods has one)`);
    const lists = run.module.controller as unknown as Record<string, unknown>;
    if (!["controls", "inputs", "cases"].every((k) => Array.isArray(lists[k]) && (lists[k] as unknown[]).every((x) => typeof x === "object" && x !== null))) throw damaged("its module configuration lacks its controls, inputs or cases");
    if (![run.module.solvedEpochs, run.module.maxIterations].every((n) => Number.isInteger(n) && n >= 1)) throw damaged("its solvedEpochs or maxIterations is not a whole number ≥ 1");
    if (run.task !== undefined && typeof run.task !== "string") throw damaged(`its task is ${JSON.stringify(run.task)}, not a name`);
    config = run.module.controller;
    // its reading limits and targets are in nA for the converters it was made with
    const scale = run.module.chain?.transimpedancePerV;
    if (scale !== board.adc.unitPerV) {
      throw new TrainConfigError("unit", `--from ${o.from}: made for ${scale ?? "an unknown"} ${run.outputUnit ?? "nA"} per ADC volt${run.ranOn === "node" ? " (the host's default chain)" : ""}; ${board.name} reads ${board.adc.unitPerV} ${board.adc.unit}/V (adc.unitPerV): train it with hge train --board ${board.name}, whose chain is the board's`);
    }
    task = gateOf(run.task);
    targets = run.targets ?? config.cases.map((c) => c.target);
    if (!Array.isArray(targets) || !targets.every((t) => typeof t === "number" && Number.isFinite(t))) throw damaged("its targets are not finite numbers");
    // the firmware judges "solved" on one target per case the configuration measures
    if (targets.length !== config.cases.length) throw damaged(`its targets are ${targets.length}, not one for each of its ${config.cases.length} cases`);
    // (compared with the board's below: a string would be refused as another rate, "5000 Hz; converts at 5000 Hz")
    if (typeof config.sampleRateHz !== "number") throw damaged(`its module configuration's sampleRateHz is ${JSON.stringify(config.sampleRateHz)}, not a number`);
    unit = run.outputUnit ?? "nA";
    solvedEpochs = run.module.solvedEpochs;
    // the host's "no limit" (a budget of device time ended that run, which the firmware does
    // not keep) is the firmware's too, said so: its counter never reached the host's 2^53 − 1
    maxIterations = o.maxIterations ?? run.module.maxIterations;
    if (maxIterations > FIRMWARE_MAX_ITERATIONS) maxIterations = Infinity;
    // continued from its final weights (without them, from its configuration's own start)
    const weights = run.finalWeights;
    if (weights !== undefined) {
      if (!Array.isArray(weights) || weights.length !== config.controls.length || !weights.every((v) => typeof v === "number" && Number.isFinite(v))) {
        throw damaged(`its finalWeights are not one finite voltage for each of its ${config.controls.length} controls`);
      }
      config = { ...config, controls: config.controls.map((c, k) => ({ ...c, initialV: weights[k] })) };
    }
    // a run that restarted goes on restarting as `hge train --resume` goes on (continuationOf):
    // with its patience, from the next of its seeded starts (a held control stays where it is)
    const going = continuationOf({ finalWeights: config.controls.map((c) => c.initialV), attempts: run.attempts, settings: run.settings }, false);
    if (going.patience && Number.isSafeInteger(run.seed)) {
      patience = going.patience;
      const ranges = { controlRangeV: config.controls.map((c): [number, number] => [c.minV, c.maxV]) };
      starts = startsFor(ranges, run.seed as number, Number.isFinite(maxIterations) ? maxIterations : DEFAULTS.maxIterations, going.resumedAttempts);
    }
  } else {
    const estimator = (o.method ?? "multitone") as Estimator;
    if (!(ESTIMATORS as readonly string[]).includes(estimator)) throw new TrainConfigError("method", `--method ${o.method}: standalone firmware runs the module's estimators ${ESTIMATORS.join(", ")}`);
    const gate = gateOf(o.task);
    const device = standInDevice(5, 2, seed);
    const gateT = gateTask(gate, device.inputRangeV, MARGIN_FRACTION);
    const options = { device, task: gateT, seed, chain: boardChain(board, device), controllerConfig: (c) => trainingConfig(estimator, c) } as TrainOptions;
    // as hge train plans it (a window too short for the tone plan at this rate grows to the
    // shortest that plans), on a scratch module; a refusal is the module's, as below
    try {
      config = configurePlanned(new Controller(), options).controller;
    } catch (error) {
      if (error instanceof ControllerError) throw refused(error);
      throw error;
    }
    task = gate;
    targets = gateT.targets;
    unit = device.outputUnit;
    solvedEpochs = DEFAULTS.solvedEpochs;
    maxIterations = o.maxIterations ?? DEFAULTS.maxIterations;
    patience = DEFAULTS.patience;
    starts = startsFor(device, seed, maxIterations);
  }
  if (config.sampleRateHz !== board.sampleRateHz) throw new TrainConfigError("sampleRate", `the configuration samples at ${config.sampleRateHz} Hz; ${board.name} converts at ${board.sampleRateHz} Hz (sampleRateHz in its board file)`);
  if (unit !== board.adc.unit) throw new TrainConfigError("unit", `the configuration's readings are in ${unit}; ${board.name}'s ADC front end gives ${board.adc.unit} (adc.unit in its board file)`);
  if (config.cases.length > 16) throw new TrainConfigError("task", `${config.cases.length} cases; the standalone firmware checks at most 16`);
  // (the firmware refuses it at power-up, where it would have been built and flashed)
  const electrodes = { name: o.from ? `the run in --from ${o.from}` : task, controlCount: config.controls.length, inputCount: config.inputs.length, controlRangeV: config.controls.map((c): [number, number] => [c.minV, c.maxV]), inputRangeV: config.inputs.map((i): [number, number] => [i.minV, i.maxV]) };
  const outOfRange = deviceRefusal(board, electrodes as Device);
  if (outOfRange) throw new TrainConfigError("device", outOfRange);
  let encoded: ReturnType<typeof encodeConfig>;
  try {
    encoded = encodeConfig(config);
  } catch (error) { // (a field of another type than the module's: a damaged --from run)
    if (error instanceof TypeError) throw new TrainConfigError("from", `--from ${o.from}: its module configuration is damaged (${error.message})`);
    throw error;
  }
  const { block, error } = encoded;
  if (error) throw refused(error);
  const header = [
    `/* standalone_config.h for ${board.name}, generated by boards/standalone.ts. */`,
    "#ifndef HGE_STANDALONE_CONFIG_H",
    "#define HGE_STANDALONE_CONFIG_H",
    `#define HGE_TASK_NAME "${task}"`,
    `#define HGE_TASK_CASES ${targets.length}`,
    `#define HGE_TASK_TARGETS ${cArray(targets)}`,
    `/* solved: the classes apart by this share of the outputs' span, for HGE_SOLVED_EPOCHS iterations in a row */`,
    `#define HGE_TASK_MARGIN ${cf(MARGIN_FRACTION)}`,
    `#define HGE_SOLVED_EPOCHS ${solvedEpochs}`,
    `/* ... and the classes' gap above this many times the scatter of the held readings (separatedBeyondNoise) */`,
    `#define HGE_NOISE_GAPS ${cf(NOISE_GAPS)}`,
    `/* iterations that end the run unsolved; 0: no limit (it trains until solved) */`,
    `#define HGE_MAX_ITERATIONS ${Number.isFinite(maxIterations) ? maxIterations : 0}`,
    `/* restarts: after HGE_PATIENCE iterations without a margin gain of HGE_MARGIN_PROGRESS, the next of the host's starts */`,
    `#define HGE_PATIENCE ${patience}`,
    `#define HGE_MARGIN_PROGRESS ${cf(MARGIN_PROGRESS)}`,
    `#define HGE_RESTARTS ${starts.length}`,
    `/* starts in a row that end in the controller's fault, with no update between, that end the run */`,
    `#define HGE_FAULTED_STARTS ${FAULTED_STARTS}`,
    `#define HGE_RESTART_CONTROLS ${config.controls.length}`,
    `#define HGE_RESTART_STARTS_V ${cArray([...starts.flat(), 0])}`,
    `#define HGE_CHECKPOINT_EVERY ${CHECKPOINT_EVERY}`,
    ...(board.emulation ? standInDefines(standInDevice(config.controls.length, config.inputs.length, seed), o.standIn) : []),
    "#endif",
    "",
  ].join("\n");
  return { board, config, block, header, unit, unitPerV: board.adc.unitPerV, task, targets, solvedEpochs, maxIterations };
}

/** Builds the standalone firmware. A configuration made for another board's ADC scale or
 *  sample rate is refused (TrainConfigError: exit 3); the C build would stop on it too. */
export function buildStandalone(boardName: string | Board, o: StandaloneOptions & { configuration?: StandaloneConfiguration; wasm?: string; quiet?: boolean } & Pick<BuildOptions, "out" | "keep"> = {}): { built: BuildResult; configuration: StandaloneConfiguration } {
  const board = typeof boardName === "string" ? loadBoard(boardName) : boardName;
  requireTools(board);
  const configuration = o.configuration ?? standaloneConfiguration(board, o);
  if (configuration.unitPerV !== board.adc.unitPerV) {
    throw new TrainConfigError("unit", `the configuration was built for ${configuration.unitPerV} ${configuration.unit} per ADC volt; ${board.name} reads ${board.adc.unitPerV} ${board.adc.unit}/V (adc.unitPerV): every reading, limit and target would be off by ${(board.adc.unitPerV / configuration.unitPerV).toPrecision(3)}×`);
  }
  if (configuration.config.sampleRateHz !== board.sampleRateHz) throw new TrainConfigError("sampleRate", `the configuration samples at ${configuration.config.sampleRateHz} Hz; ${board.name} converts at ${board.sampleRateHz} Hz`);
  const built = buildBoard(board, {
    wasm: o.wasm, app: "hge", entry: "standalone", config: configuration.block, configUnitPerV: configuration.unitPerV,
    standaloneHeader: configuration.header, blockSamples: 1, quiet: o.quiet, out: o.out, keep: o.keep,
  });
  return { built, configuration };
}

// ---------------------------------------------------------------------------------------
// Running it in emulation, with no host device: QEMU, the UART to a file (or a pty), the
// console (the firmware's log lines) read as it goes.

/** Frames in a byte stream (what the UART carried); bytes that are not a good frame are
 *  skipped (a standalone board's text log shares the UART on hardware). */
export function parseFrames(bytes: Uint8Array): { frames: { type: number; payload: Uint8Array }[]; rest: Uint8Array } {
  const frames: { type: number; payload: Uint8Array }[] = [];
  /** The payload length of a whole frame whose CRC passes at `at`; -1 for none, -2 for one not
   *  all here yet. */
  const frameAt = (at: number): number => {
    if (bytes[at] !== LINK.SYNC) return -1;
    if (at + 4 > bytes.length) return -2;
    const length = bytes[at + 2] | (bytes[at + 3] << 8);
    if (length > LINK.MAX_PAYLOAD) return -1;
    if (at + 6 + length > bytes.length) return -2;
    const crc = crc16(bytes.subarray(at + 1, at + 4 + length));
    return (bytes[at + 4 + length] | (bytes[at + 5 + length] << 8)) === crc ? length : -1;
  };
  let at = 0;
  while (at < bytes.length) {
    const length = frameAt(at);
    if (length === -2) {
      // a frame still arriving, or a SYNC byte inside a frame whose start was missed (a port
      // opened mid-frame) whose "length" runs past what has come: a whole frame after it says
      // it was the latter (waiting would hold back up to 3872 bytes of frames, a STOPPED too)
      let later = at + 1;
      while (later < bytes.length && frameAt(later) < 0) later++;
      if (later < bytes.length) { at = later; continue; }
      break;
    }
    if (length < 0) { at++; continue; }
    frames.push({ type: bytes[at + 1], payload: bytes.slice(at + 4, at + 4 + length) });
    at += 6 + length;
  }
  return { frames, rest: bytes.slice(at) };
}

export interface StandaloneRun {
  code: number | null;
  solved: boolean;
  /** The log lines the firmware printed (semihosting console). */
  log: string[];
  /** Updates the module counted at the end (resumed counts included). */
  updates: number;
  /** Device-seconds of the last power-up (what the firmware printed). */
  deviceSeconds: number;
  /** Device-seconds over every power-up (resets included). */
  totalDeviceSeconds: number;
  /** Telemetry records and the STOPPED frame from the UART. */
  telemetry: Telemetry[];
  stopped: Stopped | null;
  /** Set when the run was reset: the last update before the reset (the one asked for or a
   *  later one: the reset lands when QEMU's monitor takes it), and the one it resumed at. */
  reset?: { afterUpdate: number; resumedAt: number | null };
  /** The firmware logged how the run ended (solved, not solved, fault); false when QEMU ended
   *  first (killed, a timeout, the signal). */
  ended: boolean;
  wallSeconds: number;
}

/**
 * Runs standalone firmware in QEMU with no host device attached (the stand-in device is in
 * the firmware). `resetAfterUpdates`: after the firmware logs that update, a system reset
 * through QEMU's monitor (the board restarts, its storage kept), to show it resumes. `signal`
 * (Ctrl-C) stops QEMU where the run is.
 */
export async function runStandalone(built: BuildResult, o: { resetAfterUpdates?: number; timeoutMs?: number; onLine?: (line: string) => void; signal?: AbortSignal } = {}): Promise<StandaloneRun> {
  const b = built.board;
  const dir = mkdtempSync(join(tmpdir(), `hge-standalone-${b.name}-`));
  const t0 = performance.now();
  try {
    const monitor = join(dir, "monitor.sock");
    const uart = join(dir, "uart.bin");
    const [cmd, ...args] = qemuCommand(b, built.elf, { serial: `file:${uart}` }, dir);
    const at = args.indexOf("-monitor");
    if (at >= 0) args.splice(at, 2);
    args.push("-monitor", `unix:${monitor},server=on,wait=off`);
    writeFileSync(join(dir, "adc.bin"), new Uint8Array(0));
    const child = spawn(cmd, args, { cwd: dir, stdio: ["ignore", "pipe", "pipe"] });
    const log: string[] = [];
    let pending = "", stderr = "";
    let reset: StandaloneRun["reset"];
    let before = 0, lastAt = 0; // device-seconds of earlier power-ups; of this one so far
    let updateSeen = 0; // the last update logged
    child.stderr.setEncoding("utf8").on("data", (d) => (stderr += d));
    child.stdout.setEncoding("utf8").on("data", (d: string) => {
      pending += d;
      let nl;
      while ((nl = pending.indexOf("\n")) >= 0) {
        const line = pending.slice(0, nl).replace(/^# /, "");
        pending = pending.slice(nl + 1);
        log.push(line);
        o.onLine?.(line);
        const m = /^update (\d+) /.exec(line);
        if (m) { lastAt = Number(/ at ([0-9.]+) s$/.exec(line)?.[1] ?? lastAt); updateSeen = Number(m[1]); }
        if (/^hge: (resumed|no stored|stored checkpoint refused)/.test(line)) {
          before += lastAt;
          lastAt = 0;
          // the reset lands when QEMU's monitor takes it, after the update asked for or a later
          // one: the last update the board logged before it started again
          if (reset) reset.afterUpdate = updateSeen;
        }
        if (m && o.resetAfterUpdates !== undefined && !reset && updateSeen >= o.resetAfterUpdates) {
          reset = { afterUpdate: updateSeen, resumedAt: null };
          const s = connect(monitor);
          s.on("connect", () => s.end("system_reset\n"));
          s.on("error", () => {});
        }
        const r = /^hge: resumed from the stored checkpoint at update (\d+)/.exec(line);
        if (r && reset) reset.resumedAt = Number(r[1]);
      }
    });
    const stop = () => child.kill("SIGKILL");
    const limitMs = o.timeoutMs ?? 300_000; // (Infinity: none, hge board run's: Ctrl-C stops it)
    const timer = Number.isFinite(limitMs) ? setTimeout(stop, limitMs) : undefined;
    o.signal?.addEventListener("abort", stop);
    const code: number | null = await new Promise((resolve, reject) => { child.on("error", reject); child.on("close", resolve); });
    clearTimeout(timer);
    o.signal?.removeEventListener("abort", stop);
    if (code !== 0 && code !== 1 && !log.length) throw new Error(`${b.name}: QEMU exited ${code}: ${stderr.trim()}`);
    const { frames } = parseFrames(existsSync(uart) ? new Uint8Array(readFileSync(uart)) : new Uint8Array(0));
    const telemetry = frames.filter((f) => f.type === Frame.Telemetry && f.payload.length).map((f) => decodeTelemetry(f.payload));
    const stopped = frames.filter((f) => f.type === Frame.Stopped).at(-1);
    const end = [...log].reverse().find((l) => /^hge: (solved|not solved|fault) after/.test(l)) ?? "";
    // without its end: the last update it logged (the module's own count starts again at a restart)
    const lastUpdate = [...log].reverse().map((l) => /^update (\d+) /.exec(l)).find((m) => m);
    return {
      code, solved: code === 0 && end.startsWith("hge: solved"), log, ended: end !== "",
      updates: Number(/after (\d+) updates/.exec(end)?.[1] ?? lastUpdate?.[1] ?? 0),
      deviceSeconds: Number(/; ([0-9.]+) device-seconds/.exec(end)?.[1] ?? NaN),
      totalDeviceSeconds: before + Number(/; ([0-9.]+) device-seconds/.exec(end)?.[1] ?? lastAt),
      telemetry, stopped: stopped ? decodeStopped(stopped.payload) : null, reset,
      wallSeconds: (performance.now() - t0) / 1000,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
