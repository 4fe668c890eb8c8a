// `hge board ...`: the boards' command line, one commander command the root program mounts
// (`root.addCommand(boardCommand(root))`: the subcommands inherit the root's exitOverride and
// its one-line error output). Parse errors are CommanderErrors (the root exits 2); a usage
// problem found after parsing is a UsageError (exit 2), a configuration the boards cannot run
// (a board not emulated, a missing toolchain, a device the board cannot drive) a
// TrainConfigError (exit 3); host/errors.ts has both. A command that ran sets process.exitCode:
// 0 ok, 1 a check, a parity or a training that failed (not solved), 130 a training in the loop
// interrupted (EXIT: the codes hge train gives).
import { Argument, Command, InvalidArgumentError, Option } from "commander";
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { MAX_CONTROLS } from "../assembly/layout.ts";
import { EXIT, UsageError } from "../host/errors.ts";
import { Controller, LayoutMismatch } from "../host/controller.ts";
import { kernelFilesystem, prepareOut } from "../host/report/keep.ts";
import { onInterrupt } from "../host/interrupt.ts";
import { existingFile, nonEmpty, wholeAtLeast } from "../host/args.ts";
import { GATE_NAMES } from "../host/tasks/gates.ts";
import { DEFAULTS } from "../host/train.ts";
import { checkModule, emulatedBoards, listBoards, loadBoard, requireEmulated, type Board } from "./boards.ts";
import { FIRMWARE_DIR, PROBE_WASM, REPO_DIR, buildBoard, checkBuildDirectory, ensureModule, entryOf, buildProbeWasm, countInstructions, formatSize, missingTools, probeBoard, requireTools, type BuildOptions } from "./build.ts";
import { parseWasm } from "./wasm.ts";
import { CALIBRATION_CONTROLS, WIDE_CONTROLS } from "./measure.ts";

/** The module every subcommand builds in unless --wasm names another. */
export const DEFAULT_WASM = join(REPO_DIR, "build", "hge.wasm");
/** The run modes of `hge board run`, exactly one a run. */
export const RUN_MODES = ["replay", "hil", "adc", "standalone"] as const;
type RunMode = (typeof RUN_MODES)[number];

// ---- argument parsers: each throws InvalidArgumentError saying what is allowed ------------

/** Control counts: whole numbers from 1 to the module's MAX_CONTROLS (assembly/layout.ts). */
const controlCounts = (text: string): number[] => {
  const parts = text.split(",").map((part) => part.trim());
  if (parts.some((part) => !/^[0-9]+$/.test(part) || Number(part) < 1 || Number(part) > MAX_CONTROLS)) {
    throw new InvalidArgumentError(`expected whole numbers from 1 to ${MAX_CONTROLS} (the module's MAX_CONTROLS, assembly/layout.ts) separated by commas, e.g. 8,64.`);
  }
  const counts = parts.map(Number);
  const twice = counts.find((n, i) => counts.indexOf(n) !== i);
  if (twice !== undefined) throw new InvalidArgumentError(`${twice} is given twice; each count is measured once.`);
  return counts;
};
/** A WebAssembly module the boards' reader (wasm.ts) and wasm2c take. */
const wasmFile = (text: string): string => {
  const bytes = readFileSync(existingFile(text));
  if (bytes.length < 8 || bytes.readUInt32BE(0) !== 0x0061736d) throw new InvalidArgumentError("not a WebAssembly binary (a module such as build/hge.wasm begins with \\0asm).");
  if (!WebAssembly.validate(bytes)) throw new InvalidArgumentError("not a valid WebAssembly module.");
  let exports;
  try {
    exports = parseWasm(bytes).exports;
  } catch (error) {
    throw new InvalidArgumentError(`${(error as Error).message.replace(/^wasm: /, "")}: not a module the boards' runtime takes.`);
  }
  // a controller's block must be the layout the firmware's hge.h and the host's blocks are made from
  if (isController(exports)) {
    try {
      new Controller(new WebAssembly.Module(bytes));
    } catch (error) {
      const built = !(error instanceof LayoutMismatch) ? `exports CONFIG and STATUS but does not run as hge's controller in Node (${(error as Error).message})`
        : error.moduleMaxControls === null ? "not a build of this hge's configuration block" : `built for ${error.moduleMaxControls} controls (a wider build)`;
      throw new InvalidArgumentError(`${built}; the boards build and run the release layout (assembly/layout.ts, MAX_CONTROLS ${MAX_CONTROLS}): give build/hge.wasm or build/hge-core.wasm.`);
    }
  }
  return text;
};
/** Raw readings: little-endian f32, at least one. */
const adcFile = (text: string): string => {
  const size = statSync(existingFile(text)).size;
  if (size === 0 || size % 4 !== 0) throw new InvalidArgumentError(`${size} bytes; expected raw little-endian f32 readings (ADC volts), 4 bytes each, at least one.`);
  return text;
};
/** The adapters in firmware/ (app_<name>.c). */
function apps(): string[] {
  return readdirSync(FIRMWARE_DIR).filter((f) => /^app_\w+\.c$/.test(f)).map((f) => f.slice(4, -2)).sort();
}
const app = (text: string): string => {
  if (text.endsWith(".c")) return existingFile(text);
  if (!apps().includes(text)) throw new InvalidArgumentError(`expected one of ${apps().join(", ")}, or a .c file.`);
  return text;
};

// ---- refusals -----------------------------------------------------------------------------

/** --wasm, or the build the board file names (built here on a fresh clone, with a line on stderr). */
const moduleOf = (b: Board, wasm: string | undefined): string => wasm ?? ensureModule(b.module);

const boardsOf = (target: string) => (target === "all" ? listBoards() : [target]);

/** The stand-in module --app probe adapts (boards/testdata/probe.ts), built when missing. */
const probeModule = () => (existsSync(PROBE_WASM) ? PROBE_WASM : buildProbeWasm());

/** Whether a module's exports are the controller's (its configuration and status blocks). */
function isController(exports: ReadonlyArray<{ name: string }>): boolean {
  const names = new Set(exports.map((e) => e.name));
  return names.has("CONFIG") && names.has("STATUS");
}

/** `board build`'s and `run --adc`'s build of board b: the module (--wasm, or the one the adapter
 *  takes: the stand-in for --app probe, else the board's build) and, for the main loop on the
 *  controller (--app hge with run --adc, --app reference, a .c adapter), the configuration
 *  compiled in: XOR on the default device, the block hge train --board would send (hil.ts). */
async function buildOptions(b: Board, flags: BuildFlags, entry?: "main"): Promise<BuildOptions> {
  const app = flags.app ?? "hge";
  const wasm = flags.wasm ?? (app === "probe" ? probeModule() : ensureModule(b.module));
  const o: BuildOptions = { wasm, app, out: flags.out, bench: flags.bench, unchecked: flags.unchecked, blockSamples: flags.block, entry };
  if (entryOf(o) === "main" && isController(parseWasm(readFileSync(wasm)).exports)) {
    const { defaultBoardConfiguration } = await import("./hil.ts");
    const c = defaultBoardConfiguration(b);
    o.config = c.block;
    o.configUnitPerV = c.unitPerV;
  }
  return o;
}

/** --out of a build, refused before anything is built: besides what every --out is refused for
 *  (host/report/keep.ts: prepareOut), a file, or a directory holding anything but an earlier
 *  build (a build replaces what is there). Not made yet: the build may still be refused. */
function checkOut(out: string): void {
  prepareOut(out, "a build", (full) => checkBuildDirectory(full, out), false);
}

// ---- the subcommands ----------------------------------------------------------------------

interface WasmFlags { wasm?: string }
interface BuildFlags extends WasmFlags { app?: string; out?: string; bench?: boolean; unchecked?: boolean; block?: number; standalone?: boolean; task?: string; method?: string; from?: string; seed?: number; iterations?: number }
interface RunFlags extends BuildFlags {
  replay?: boolean;
  hil?: boolean;
  adc?: string;
  updates?: number;
  compare: boolean;
  resetAfter?: number;
}
interface MeasureFlags extends WasmFlags { controls?: number[]; quick?: boolean; json?: string }
interface ProbeFlags { samples?: number; unchecked?: boolean }

/** Which mode each mode-specific option of `run` belongs to. */
const RUN_OPTION_MODES: Record<string, readonly RunMode[]> = {
  updates: ["replay"],
  seed: ["replay", "hil", "standalone"],
  task: ["hil", "standalone"],
  iterations: ["hil", "standalone"],
  compare: ["hil"],
  method: ["standalone"],
  from: ["standalone"],
  resetAfter: ["standalone"],
  app: ["adc"],
  bench: ["adc"],
  unchecked: ["adc"],
  block: ["adc"],
};

function list(): void {
  for (const name of listBoards()) {
    const b = loadBoard(name);
    console.log(`${name.padEnd(18)} ${b.core.padEnd(14)} ${b.emulation ? "emulated" : "defined "} ${b.chain.join(" <- ")}`);
  }
}

function check(target: string, flags: WasmFlags): void {
  let bad = 0;
  for (const name of boardsOf(target)) {
    const b = loadBoard(name);
    const r = checkModule(b, readFileSync(moduleOf(b, flags.wasm)));
    console.log(`${name}: ${r.ok ? "ok" : "NOT OK"} ${JSON.stringify(r.facts)}`);
    for (const e of r.errors) console.log(`  error: ${e}`);
    for (const w of r.warnings) console.log(`  warning: ${w}`);
    if (!r.ok) bad++;
  }
  process.exitCode = bad ? 1 : 0;
}

/** The most updates --replay records: Node keeps every sample's line and the board prints it
 *  (mps2-an386: 1000 updates took 10 s and 0.4 GB here, 3000 took 28 s and 0.9 GB). */
const MAX_REPLAY_UPDATES = 1000;
/** The most readings probe feeds: 1,000,000 took 16 s and 0.6 GB here (mps2-an386). */
const MAX_PROBE_SAMPLES = 1_000_000;

/** The standalone-only build options, refused without --standalone. */
const STANDALONE_OPTIONS = ["task", "method", "from", "seed", "iterations"] as const;

async function build(target: string, flags: BuildFlags): Promise<void> {
  if (target === "all" && flags.out) throw new UsageError("--out names one board's directory; give a board, not all");
  const stray = STANDALONE_OPTIONS.find((k) => flags[k] !== undefined);
  if (!flags.standalone && stray) throw new UsageError(`--${stray} applies to a --standalone build`);
  if (flags.standalone) {
    if (target === "all") throw new UsageError("--standalone builds one board; give a board, not all");
    if (flags.app || flags.bench || flags.block) throw new UsageError("--standalone builds the controller (no --app, --bench or --block)");
  } else if (flags.block !== undefined && entryOf({ app: flags.app }) !== "main") {
    throw new UsageError("--block sets the main loop's block of samples (--app probe, reference or a .c adapter; run --adc); the link firmware of --app hge, the default build, exchanges one sample a frame");
  }
  if (flags.out) checkOut(flags.out);
  if (flags.standalone) {
    const { buildStandalone, iterationLimitText } = await import("./standalone.ts");
    const { built, configuration } = buildStandalone(target, { task: flags.task, method: flags.method, from: flags.from, seed: flags.seed, maxIterations: flags.iterations, wasm: moduleOf(loadBoard(target), flags.wasm), out: flags.out, keep: true, unchecked: flags.unchecked } as Parameters<typeof buildStandalone>[1]);
    console.error(formatSize(built));
    console.error(`standalone: ${configuration.task}, ${configuration.config.controls.length} controls, ${configuration.config.sampleRateHz} Hz, readings in ${configuration.unit} at ${configuration.unitPerV} ${configuration.unit}/V, ${iterationLimitText(configuration)}; flags and build files in ${relative(process.cwd(), built.dir)}`);
    console.log(built.elf);
    process.exitCode = 0;
    return;
  }
  const boards = boardsOf(target).map((name) => loadBoard(name));
  // `all` skips the boards whose vendor toolchain is not installed (not packaged in Debian)
  const skipped = target === "all" ? boards.filter((b) => b.toolchain.optional && missingTools(b).length) : [];
  for (const b of boards) if (!skipped.includes(b)) requireTools(b);
  // each board's options (its own module build without --wasm, its own configuration), checked
  // for all before any is built
  const options = new Map<Board, BuildOptions>();
  for (const b of boards) if (!skipped.includes(b)) options.set(b, { ...(await buildOptions(b, flags)), keep: true });
  for (const b of boards) {
    if (skipped.includes(b)) console.log(`${b.name.padEnd(18)} skipped: ${missingTools(b).join(", ")} not on PATH (vendor toolchain, not packaged in Debian)`);
    else console.log(formatSize(buildBoard(b, options.get(b)!)));
  }
  process.exitCode = 0;
}

/** The one mode a run asks for; none, two, or an option of another mode is a UsageError. */
export function runMode(flags: RunFlags, given: (option: string) => boolean): RunMode {
  const modes = RUN_MODES.filter((mode) => flags[mode] !== undefined && flags[mode] !== false);
  const spelled = RUN_MODES.map((m) => (m === "adc" ? "--adc <file>" : `--${m}`)).join(", ");
  if (modes.length !== 1) throw new UsageError(`hge board run needs exactly one mode of ${spelled}; ${modes.length ? `got ${modes.map((m) => `--${m}`).join(" and ")}` : "got none"}`);
  const mode = modes[0];
  for (const [option, modesOf] of Object.entries(RUN_OPTION_MODES)) {
    if (given(option) && !modesOf.includes(mode)) {
      const flag = option === "compare" ? "--no-compare" : option === "resetAfter" ? "--reset-after" : `--${option}`;
      throw new UsageError(`${flag} applies to ${modesOf.map((m) => `--${m}`).join(" and ")}, not --${mode}`);
    }
  }
  return mode;
}

async function run(board: string, flags: RunFlags, command: Command): Promise<void> {
  const mode = runMode(flags, (option) => command.getOptionValueSource(option) === "cli");
  const b = loadBoard(board);
  requireEmulated(b, "hge board run");
  requireTools(b, { emulate: true });
  const wasm = mode === "adc" ? flags.wasm : moduleOf(b, flags.wasm);
  if (mode === "standalone") {
    const { buildStandalone, iterationLimitText, runStandalone, standaloneConfiguration } = await import("./standalone.ts");
    const configuration = standaloneConfiguration(b, { task: flags.task, seed: flags.seed, method: flags.method, from: flags.from, maxIterations: flags.iterations });
    if (flags.resetAfter !== undefined && flags.resetAfter >= configuration.maxIterations) {
      throw new UsageError(`--reset-after ${flags.resetAfter}: the run ends by update ${configuration.maxIterations} (${flags.iterations !== undefined ? "--iterations" : flags.from ? "the run in --from" : "the default iteration limit; see --iterations"}), so no reset would happen; give an update before it`);
    }
    const { built } = buildStandalone(b, { configuration, wasm, quiet: true });
    console.error(`${board}: standalone ${configuration.task} firmware ${relative(process.cwd(), built.elf)}, ${iterationLimitText(configuration)}; no host device: the emulated board plays a test stand-in (firmware/hal_emu_device.c)`);
    // Ctrl-C stops QEMU where the run is (the emulated board's storage goes with it)
    const abort = new AbortController();
    const stopListening = onInterrupt(() => abort.abort(), true);
    let r;
    try {
      // (no wall-clock limit: a run without an iteration limit trains until solved)
      r = await runStandalone(built, { resetAfterUpdates: flags.resetAfter, onLine: (line) => console.log(line), signal: abort.signal, timeoutMs: Infinity });
    } finally {
      stopListening();
    }
    if (!r.ended) {
      console.log(`${board}: ${abort.signal.aborted ? "interrupted" : `the firmware did not finish: QEMU ${r.code === null ? "was killed" : `exited ${r.code}`}`} after update ${r.updates}, ${r.wallSeconds.toFixed(1)} s wall`);
      process.exitCode = abort.signal.aborted ? EXIT.interrupted : EXIT.unsolved;
      return;
    }
    if (r.reset) console.log(`reset after update ${r.reset.afterUpdate}; ${r.reset.resumedAt === null ? "did NOT resume from the stored checkpoint" : `resumed at update ${r.reset.resumedAt}`}`);
    // --reset-after asks to see a reset resumed: a run that ended before it showed nothing
    else if (flags.resetAfter !== undefined) console.log(`no reset: the run ended after update ${r.updates}, before update ${flags.resetAfter} (--reset-after); resuming was not tried`);
    console.log(`${board}: ${r.solved ? "solved" : "not solved"} in ${r.updates} updates, ${r.totalDeviceSeconds.toFixed(2)} device-seconds${r.reset ? ` (${r.deviceSeconds} since the reset)` : ""}, ${r.wallSeconds.toFixed(1)} s wall`);
    process.exitCode = r.solved && (flags.resetAfter === undefined || (r.reset !== undefined && r.reset.resumedAt !== null)) ? 0 : 1;
    return;
  }
  if (mode === "adc") {
    const { runQemu, QEMU_TIME_LIMIT_MS } = await import("./qemu.ts");
    const built = buildBoard(b, await buildOptions(b, flags, "main"));
    if (flags.bench) {
      const c = await countInstructions(built, flags.adc!);
      console.log(`instructions per call: ${c.mean.toFixed(1)} (min ${c.min}, max ${c.max}, ${c.calls} calls; ${c.method})`);
      process.exitCode = 0;
      return;
    }
    const r = await runQemu(built.board, built.elf, { adc: flags.adc });
    process.stdout.write(r.stdout);
    process.stderr.write(r.stderr);
    // (null: QEMU ended by a signal, its time limit's or another's)
    console.error(r.code === null ? `qemu: killed after ${r.seconds.toFixed(2)} s, the firmware not ended${r.seconds * 1000 >= QEMU_TIME_LIMIT_MS ? " by the time limit (an adapter that never returns?)" : ""}` : `qemu: exit ${r.code} in ${r.seconds.toFixed(2)} s`);
    process.exitCode = r.code === 0 ? 0 : 1;
    return;
  }
  const { runBoard } = await import("./run.ts");
  // Ctrl-C during a run in the loop: the board parks the controls and keeps its checkpoint.
  const abort = new AbortController();
  const interrupt = () => abort.abort();
  const stopListening = mode === "hil" ? onInterrupt(interrupt, true) : () => {};
  try {
    const r = await runBoard(board, {
      mode, wasm, seed: flags.seed, updates: flags.updates, task: flags.task, maxIterations: flags.iterations, compare: flags.compare,
      ...(mode === "hil" ? { signal: abort.signal } : {}),
      onProgress: (p) => process.stderr.write(`\r${board}: update ${p.iteration}, loss ${p.loss.toFixed(4)}, ${p.criterionName} ${p.criterion.toFixed(3)}   `),
    });
    if (mode === "hil") process.stderr.write("\n");
    console.log(r.text);
    // in the loop, as hge train: solved, not solved (or not the Node run's weights), interrupted
    process.exitCode = abort.signal.aborted ? EXIT.interrupted : r.ok ? EXIT.solved : EXIT.unsolved;
  } finally {
    stopListening();
  }
}

interface WatchFlags { port?: string; baud?: number; task?: string; seed?: number; wasm?: string; live?: boolean }

async function watch(boardName: string, flags: WatchFlags): Promise<void> {
  const b = loadBoard(boardName);
  if (flags.baud && !flags.port) throw new UsageError("--baud applies with --port");
  const built = (["seed", "wasm"] as const).find((k) => flags[k] !== undefined);
  if (flags.port && built) throw new UsageError(`--${built} applies without --port (it builds the emulated board's standalone firmware); with --port the board runs the firmware flashed on it`);
  if (!flags.port) {
    requireEmulated(b, "hge board watch without --port");
    requireTools(b, { emulate: true });
  }
  const { watchBoard } = await import("./watch.ts");
  const abort = new AbortController();
  const interrupt = () => abort.abort();
  const stopListening = onInterrupt(interrupt, true);
  const liveServer = flags.live ? await import("../host/live/server.ts") : null;
  const live = liveServer ? await liveServer.startLive() : null;
  // an emulated board starts when a page opens, as hge train does; a board on a port is already
  // running, and what it sends before a page opens is replayed to the page
  if (live && flags.port) console.error(`hge: live view at ${live.url}`);
  if (live && !flags.port && !(await liveServer!.waitForPage(live, abort.signal))) {
    stopListening();
    return;
  }
  try {
    const r = await watchBoard(boardName, { port: flags.port, baudRate: flags.baud, task: flags.task, seed: flags.seed, wasm: flags.wasm, signal: abort.signal, ...(live ? { live: live.publish } : {}) });
    process.exitCode = r.stopped ? (r.stopped.reason === 10 ? 0 : 1) : abort.signal.aborted ? 0 : 1;
  } finally {
    stopListening();
    await live?.close();
  }
}

/** Whether the file at `path` is what measure --json writes (a BoardsBench): one it may replace. */
function earlierMeasurement(path: string): boolean {
  try {
    const json = JSON.parse(readFileSync(path, "utf8"));
    return typeof json?.method === "string" && typeof json.targets === "object" && typeof json.sampleRates === "object" && typeof json.firmware === "object";
  } catch {
    return false;
  }
}

async function measure(flags: MeasureFlags): Promise<void> {
  if (flags.json) {
    // written after minutes of measuring: a place it cannot go is refused first
    const full = resolve(flags.json);
    const parent = statSync(dirname(full), { throwIfNoEntry: false });
    const kernel = kernelFilesystem(full);
    if (kernel) throw new UsageError(`--json ${flags.json} is under ${kernel}, a kernel filesystem; choose a file of your own`);
    if (!parent?.isDirectory()) throw new UsageError(`--json ${flags.json}: ${dirname(full)} is not a directory; give a file in an existing directory`);
    const there = statSync(full, { throwIfNoEntry: false });
    if (there && !there.isFile()) throw new UsageError(`--json ${flags.json} is ${there.isDirectory() ? "a directory" : "not a regular file (a device or a pipe)"}; give a file`);
    if (there && !earlierMeasurement(full)) throw new UsageError(`--json ${flags.json} exists and is not an earlier hge board measure --json (which is replaced); give a new file`);
  }
  const { COUNTED_TARGETS, measureBoards, formatBench } = await import("./measure.ts");
  const targets = flags.quick ? ["mps2-an386", "virt-rv32"] : [...COUNTED_TARGETS];
  for (const target of targets) requireTools(loadBoard(target), { emulate: true });
  const bench = await measureBoards({ controls: flags.controls, targets, wasm: flags.wasm });
  console.log(formatBench(bench));
  if (flags.json) writeFileSync(flags.json, JSON.stringify(bench, null, 2) + "\n");
  process.exitCode = 0;
}

async function probe(target: string, flags: ProbeFlags): Promise<void> {
  const boards = boardsOf(target).map((name) => loadBoard(name));
  if (target !== "all") requireEmulated(boards[0], "hge board probe");
  const emulated = boards.filter((b) => b.emulation);
  for (const b of emulated) requireTools(b, { emulate: true });
  buildProbeWasm();
  let bad = 0;
  for (const b of emulated) {
    const r = await probeBoard(b.name, { bench: true, samples: flags.samples, unchecked: flags.unchecked });
    console.log(`${b.name}: ${r.identical ? "bit-identical to Node" : `DIFFERS: ${r.difference}`} over ${r.samples} samples; flash ${r.size.flash} B, RAM ${r.size.ram} B; build ${r.buildSeconds.toFixed(1)} s, QEMU ${r.runSeconds.toFixed(2)} s`);
    if (r.perCall) console.log(`  step(): ${r.perCall.mean.toFixed(1)} instructions per call (min ${r.perCall.min}, max ${r.perCall.max}, ${r.perCall.calls} calls; ${r.perCall.method}, ${r.perCall.runSeconds.toFixed(2)} s)`);
    if (!r.identical) bad++;
  }
  process.exitCode = bad ? 1 : 0;
}

// ---- the command --------------------------------------------------------------------------

/** --standalone's --from (build and run). */
const fromOption = () => new Option("--from <run.json>", "--standalone: the configuration of an earlier run, continued from its final weights, restarting as the run would have").argParser(existingFile);
/** `app`: the command takes --app (build, run), whose probe builds its own module. */
const wasmOption = (app = false) => new Option("--wasm <file>", `the module to build in (default the board's build, build/hge.wasm or build/hge-core.wasm${app ? "; build/boards/probe.wasm with --app probe" : ""})`).argParser(wasmFile);
const boardArgument = (name: string, description: string, o: { all?: boolean; optional?: boolean } = {}) => {
  const argument = new Argument(o.optional ? `[${name}]` : `<${name}>`, description).choices(o.all ? [...listBoards(), "all"] : listBoards());
  return o.optional ? argument.default("all") : argument;
};
/** A board that runs in emulation: the choices named are the emulated boards; a board that is
 *  only defined passes here and is refused after parsing (exit 3, requireEmulated). */
const emulatedArgument = (name: string, description: string, o: { all?: boolean; optional?: boolean } = {}) => {
  const emulated = emulatedBoards();
  const argument = new Argument(o.optional ? `[${name}]` : `<${name}>`, `${description}: ${emulated.join(", ")}${o.all ? ", or all" : ""}`).argParser((text: string) => {
    if (listBoards().includes(text) || (o.all && text === "all")) return text;
    const defined = listBoards().filter((n) => !emulated.includes(n));
    throw new InvalidArgumentError(`expected an emulated board: ${emulated.join(", ")}${o.all ? ", or all" : ""} (${defined.join(", ")}: defined, not emulated).`);
  });
  return o.optional ? argument.default("all") : argument;
};
const buildFlags = (command: Command) =>
  command
    .addOption(new Option("--app <name>", `adapter between main loop and module: ${apps().join(", ")} (firmware/app_<name>.c), or a .c file (default hge)`).argParser(app))
    .option("--bench", "count instructions around each step() call")
    .option("--unchecked", "no bounds checks on linear-memory accesses")
    .option("--block <samples>", "the main loop's samples per block between converters and module (default 16; up to what the board's RAM holds; not the link firmware's, which takes one a frame)", wholeAtLeast(1));

/**
 * `hge board`: list | check [board] | build <board|all> | run <board> --replay|--hil|--adc
 * <file> | measure | probe [board]. `parent`: the program it is mounted under, whose
 * exitOverride and output settings every subcommand copies (without one: exitOverride, and
 * commander's own output).
 */
export function boardCommand(parent?: Command): Command {
  const board = new Command("board");
  if (parent) board.copyInheritedSettings(parent);
  else board.exitOverride();
  board
    .description("boards: the controller on microcontrollers, emulated in QEMU (see boards/README.md)")
    .showSuggestionAfterError();

  board.command("list").description("the boards: core, emulated or only defined, what each inherits").action(list);

  board
    .command("check")
    .description("check the module against a board's limits (features, memory, controls)")
    .addArgument(boardArgument("board", "a board, or all", { all: true, optional: true }))
    .addOption(wasmOption())
    .action((target: string, flags: WasmFlags) => check(target, flags));

  buildFlags(
    board
      .command("build")
      .description("build a board's firmware (wasm2c, cross compiler) and report its size")
      .addArgument(boardArgument("board", "a board, or all", { all: true }))
      .addOption(wasmOption(true))
      .option("--out <dir>", "output directory (default build/boards/<board>/<app>[-link|-standalone][-bench][-unchecked])", nonEmpty("a directory"))
      .option("--standalone", "firmware that configures itself, trains on its own and resumes from its stored checkpoint (prints the ELF's path)")
      .addOption(new Option("--task <gate>", "--standalone: the gate trained (default xor)").choices(GATE_NAMES.map((gate) => gate.toLowerCase())))
      .option("--method <estimator>", "--standalone: the module's estimator (default multitone)")
      .addOption(fromOption())
      .option("--seed <n>", `--standalone: seed of the starting voltages and the emulated stand-in device (default ${DEFAULTS.seed})`, wholeAtLeast(0))
      .option("--iterations <n>", `--standalone: update limit (default ${DEFAULTS.maxIterations}, or the --from run's)`, wholeAtLeast(1)),
  ).action((target: string, flags: BuildFlags) => build(target, flags));

  const runCommand = board
    .command("run")
    .description("run the controller on an emulated board: replay a Node co-simulation, train in the loop, or feed readings")
    .addArgument(emulatedArgument("board", "an emulated board"))
    .addOption(new Option("--replay", "replay a recorded Node co-simulation (XOR): bit parity of outputs, telemetry and checkpoint").conflicts(["hil", "adc", "standalone"]))
    .addOption(new Option("--hil", "train in the loop: the device simulated here, the controller on the board, over its UART").conflicts(["replay", "adc", "standalone"]))
    .addOption(new Option("--adc <file>", "feed raw f32 readings (ADC volts, little-endian) from a file to the main-loop firmware and print what it writes: the controller configured for XOR on the default device as hge train --board would (or --app probe: the stand-in module)").argParser(adcFile).conflicts(["replay", "hil", "standalone"]))
    .addOption(new Option("--standalone", "build standalone firmware and let it train with no host device (the emulated board plays a test stand-in); exit 0 when solved").conflicts(["replay", "hil", "adc"]))
    .option("--method <estimator>", "--standalone: the module's estimator (default multitone)")
    .addOption(fromOption())
    .option("--reset-after <n>", "--standalone: reset the board (QEMU system_reset) once it logs update n (before the run's iteration limit; the reset lands after update n or a later one, and the report names which); it must resume from its stored checkpoint, and a run that ends before update n exits 1", wholeAtLeast(1))
    .addOption(wasmOption(true))
    .option("--updates <n>", `--replay: updates recorded (default 3, at most ${MAX_REPLAY_UPDATES})`, wholeAtLeast(1, MAX_REPLAY_UPDATES))
    .option("--seed <n>", `--replay, --hil, --standalone: seed of the noise and the starting voltages (default ${DEFAULTS.seed})`, wholeAtLeast(0))
    .addOption(new Option("--task <gate>", "--hil, --standalone: the gate trained (default xor)").choices(GATE_NAMES.map((gate) => gate.toLowerCase())))
    .option("--iterations <n>", `--hil, --standalone: iteration limit (default ${DEFAULTS.maxIterations}, or a --standalone --from run's)`, wholeAtLeast(1))
    .option("--no-compare", "--hil: do not run the same training in Node to compare the weights bit for bit");
  buildFlags(runCommand)
    .addHelpText("after", "\nExactly one of --replay, --hil, --adc <file>, --standalone. Ctrl-C during --hil stops the board cleanly (controls parked, checkpoint kept).\nTraining any task on any simulated device with the controller on a board: hge train --board <board>.")
    .action((target: string, flags: RunFlags, command: Command) => run(target, flags, command));

  board
    .command("watch")
    .description("print the live telemetry of a standalone board: its --port, or the emulated board's standalone firmware started here")
    .addArgument(boardArgument("board", "a board (emulated, or any with --port)"))
    .option("--port <path>", "the board's serial port (e.g. /dev/ttyACM0); default: start the emulated board, its UART a pseudo-terminal", nonEmpty("a serial port"))
    .option("--baud <n>", "with --port: baud rate (default 115200)", wholeAtLeast(1))
    .addOption(new Option("--task <gate>", "the gate it trains (the margin and threshold; default xor)").choices(GATE_NAMES.map((gate) => gate.toLowerCase())))
    .option("--seed <n>", "without --port: seed of the firmware built (with --port the board runs what is flashed)", wholeAtLeast(0))
    .option("--live", "also serve a local page (127.0.0.1) that plots the telemetry")
    .addOption(wasmOption())
    .addHelpText("after", "\nExit 0 when the board says it solved the task, or on Ctrl-C while it is watched; 130 on Ctrl-C before the run started (--live with no page yet); 1 when it stopped otherwise or went quiet.")
    .action((target: string, flags: WatchFlags) => watch(target, flags));

  board
    .command("measure")
    .description("instructions per sample on the emulated targets, the largest sample rate per board, soft float against the FPU")
    .option("--controls <n,...>", `control counts measured on each target, each 1 to ${MAX_CONTROLS} (the module's MAX_CONTROLS; default 8,64); the ${WIDE_CONTROLS}-control wider build, the calibration's end at ${CALIBRATION_CONTROLS.join(", ")} controls and the firmware sizes are measured whatever it says`, controlCounts)
    .option("--quick", "only mps2-an386 and virt-rv32")
    .option("--json <file>", "also write the measurements as JSON", nonEmpty("a file"))
    .addOption(wasmOption())
    .action((flags: MeasureFlags) => measure(flags));

  board
    .command("probe")
    .description("the stand-in module (boards/testdata): build, bit parity with Node, instructions per call")
    .addArgument(emulatedArgument("board", "an emulated board (default all: the emulated ones)", { all: true, optional: true }))
    .option("--samples <n>", `readings fed (default 300, at most ${MAX_PROBE_SAMPLES})`, wholeAtLeast(1, MAX_PROBE_SAMPLES))
    .option("--unchecked", "no bounds checks on linear-memory accesses")
    .action((target: string, flags: ProbeFlags) => probe(target, flags));

  return board;
}
