// What the controller costs on the boards: instructions per sample (and per control) for 8 and
// 64 controls on the emulated targets, against the hand-written C reference of the same
// per-sample arithmetic (firmware/app_reference.c) built with the same flags; the largest
// sample rate each defined board sustains; soft float (Cortex-M0+, RV32IMC) against the FPU.
// The counts are of step() only (app_step(): not the ADC read, the output copy or the DAC
// write); on the M4F a whole sample but the ADC read is counted too (firmware/app_hge_sample.c).
// Each run is two whole windows, each ending in its update, after the firmware's ramp from the
// park voltages (rampSamples: counted, left out).
// At 256 controls (a wider build, host/variant.ts) the M4F is counted too, and the firmware's RAM
// on the M4F is broken down (the stack's high-water mark measured by painting it).
// Run directly for a table:  npx tsx boards/measure.ts [--controls 8,64] [--quick]
import { availableParallelism } from "node:os";
import { resolve } from "node:path";
import pLimit from "p-limit";
import * as L from "../assembly/layout.ts";
import { Controller, CORE_WASM, type ControllerConfig } from "../host/controller.ts";
import { loadVariant, type Variant } from "../host/variant.ts";
import { electrodeRanges, listBoards, loadBoard, type Board } from "./boards.ts";
import { buildBoard, countInstructions, ensureToolchain, REPO_DIR, type BuildResult } from "./build.ts";
import { encodeConfig } from "./link.ts";
import { runQemu } from "./qemu.ts";

/** The emulated targets counted: two real cores and two proxies (ARMv6-M and RV32IMC code). */
export const COUNTED_TARGETS = ["mps2-an386", "virt-rv32", "mps2-an386-m0plus", "virt-rv32imc"] as const;
export const CONTROL_COUNTS = [8, 64] as const;
/** Samples per lock-in window in the measured configuration (DEFAULTS.windowSamples). */
export const BENCH_WINDOW = 500;
/** The wider build measured on the M4F (scripts/build.mjs --max-controls), and the board whose
 *  clock and sample rate it is held against (issue 12 §3: 256 controls at 10 kHz, 168 MHz). */
export const WIDE_CONTROLS = 256;
export const WIDE_TARGET = "mps2-an386";
export const WIDE_BOARD = "stm32f4-discovery";
/** The calibration's end (calibrationEnd) is counted on the M4F at these control counts (the
 *  last, WIDE_CONTROLS, on the wider build). */
export const CALIBRATION_CONTROLS = [8, 64, 128, WIDE_CONTROLS] as const;
/** The board whose firmware RAM is broken down: the M4F part, built for each entry. */
export const RAM_BOARD = "stm32f4-discovery";

/** A configuration of `controls` sinusoidally perturbed controls, no inputs, one case: every
 *  sample but the window's last is the plain per-sample path; each window ends in an update
 *  (no calibration epochs: the mean is the per-sample path plus the update, not a lag fit). */
export function benchConfig(controls: number, sampleRateHz = 5000, readingLimits = { min: -10, max: 10 }, calibrationEpochs = 0): ControllerConfig {
  return {
    sampleRateHz,
    windowSamples: benchWindow(controls),
    settleSamples: 0,
    tones: { explicit: true },
    controls: Array.from({ length: controls }, (_, k) => ({ amplitudeV: 0.02, minV: -1, maxV: 1, initialV: -0.5 + k / controls, toneBin: 2 + 3 * k })),
    inputs: [],
    cases: [{ inputsV: [], target: 1 }],
    loss: "mse",
    optimiser: "adam",
    learningRate: 0.01,
    reading: readingLimits,
    calibrationEpochs,
  };
}

/** BENCH_WINDOW, or for more tones than its half holds (bins 2, 5, 8, …) the shortest window
 *  that holds them, 6 per control: what a wider build's own sine table holds (SINES_MAX_WINDOW;
 *  the C reference keeps a table as long, firmware/app_reference.c). */
export function benchWindow(controls: number): number {
  return Math.max(BENCH_WINDOW, 6 * controls);
}

/** Smooth readings (no discards): a drifting level with a little of every tone in it. */
export function benchReadings(samples: number): Float32Array {
  const out = new Float32Array(samples);
  for (let n = 0; n < samples; n++) out[n] = 0.5 + 0.2 * Math.sin(n * 0.013) + 0.05 * Math.sin(n * 0.31) + 0.01 * Math.cos(n * 1.7);
  return out;
}

export interface CallCounts { median: number; mean: number; min: number; max: number; calls: number }

function summarise(counts: number[]): CallCounts {
  const sorted = [...counts].sort((a, b) => a - b);
  return { median: sorted[sorted.length >> 1], mean: counts.reduce((a, b) => a + b, 0) / counts.length, min: sorted[0], max: sorted.at(-1)!, calls: counts.length };
}

/** The reading limits of board b's ADC in the unit step() receives (the firmware hands it
 *  readings in the device unit, ADC volts × unitPerV: limits in volts would count every scaled
 *  reading as saturated). */
function adcLimits(b: Board): { min: number; max: number } {
  return { min: b.adc.minV * b.adc.unitPerV, max: b.adc.maxV * b.adc.unitPerV };
}

/** How many samples the firmware's first configuration ramps before its first window begins:
 *  app_init() configures from the DACs' park voltages, and the module moves each electrode to
 *  its start at the slew limit (the ramp counts as settling, on the general path). Counted by
 *  running the same module in Node as the firmware runs it (replay.ts: powerOnV): the first
 *  window ends at call ramp + window - 1. */
export function rampSamples(board: Board, config: ControllerConfig, variant?: Variant): number {
  const controller = variant ? new Controller(variant.module, variant.layout) : new Controller();
  controller.configure(config);
  controller.electrodes().set(electrodeRanges(board).slice(0, config.controls.length + config.inputs.length).map((r) => r.parkV));
  controller.configure(config);
  const window = config.windowSamples, limit = 4 * window;
  const readings = benchReadings(limit);
  for (let n = 0; n < limit; n++) {
    controller.step(Math.fround(readings[n] * board.adc.unitPerV));
    if (controller.status().windows > 0) return n + 1 - window;
  }
  throw new Error(`${board.name}: no window ended in ${limit} samples`);
}

/** The board with a DAC wide enough for `controls` electrodes (a measurement, not a rig). */
function widened(board: Board, controls: number): Board {
  return { ...board, dac: { ...board.dac, channels: Math.max(board.dac.channels, controls) } };
}

/** A bench run's limit: the wider build's run executes about 50 million instructions, each
 *  counted by the plugin. */
const BENCH_TIMEOUT_MS = 600_000;

/** Instructions of every app_step() call of a bench build, as the board counts them, and the
 *  run's console. */
async function countCalls(built: BuildResult, readings: Float32Array): Promise<{ counts: number[]; stdout: string }> {
  if (built.board.emulation!.counter === "minstret") {
    const r = await runQemu(built.board, built.elf, { adc: readings, icount: true, timeoutMs: BENCH_TIMEOUT_MS });
    if (r.code !== 0) throw new Error(`${built.board.name}: bench run exited ${r.code}\n${r.stderr}`);
    return { counts: r.stdout.split("\n").filter((l) => l.startsWith("B ")).map((l) => parseInt(l.slice(2), 16)), stdout: r.stdout };
  }
  const c = await countInstructions(built, readings, undefined, BENCH_TIMEOUT_MS);
  return { counts: c.perCall!, stdout: c.stdout };
}

/** The stack's high-water mark a run printed (HGE_STACK_REPORT: Cortex-M startup), or null. */
function stackUsed(stdout: string): number | null {
  const m = /^STACK ([0-9a-f]{8})$/m.exec(stdout);
  return m ? parseInt(m[1], 16) : null;
}

export interface TargetMeasurement {
  board: string;
  controls: number;
  /** hge's step(), default build (bounds-checked, aligned accesses: see BuildOptions). */
  hge: CallCounts;
  /** hge's step() built with `unchecked`: no bounds checks (the fastest build; only for a
   *  module known to stay in bounds). */
  hgeFast: CallCounts;
  /** The C reference's step (per-sample path only); null for a window longer than its table. */
  reference: CallCounts | null;
  /** A whole sample but the ADC read (firmware/app_hge_sample.c: step(), the copy of the outputs
   *  and a minimal DAC hand-off, a 16-bit code a channel to a register), default build; null
   *  where not measured (only WIDE_TARGET is). */
  wholeSample: CallCounts | null;
  /** Typical sample (median) of hge over the reference's: the per-sample arithmetic. */
  ratio: number | null;
  ratioFast: number | null;
  /** Median instructions per sample divided by the controls. */
  perControl: number;
  /** The ramp's samples at the start of the run, counted but left out of the figures (the
   *  calls counted are `windows` whole windows after it, each ending in its update). */
  rampSamples: number;
  /** The default build's firmware image (this bench configuration compiled in; the DAC widened
   *  to the controls): RAM (static data, the module's memory and the stack) and flash, bytes,
   *  and of that RAM the module's linear memory (its MEMORY_USED). */
  ramBytes: number;
  flashBytes: number;
  moduleMemoryBytes: number;
  /** The deepest stack the default build's run used (bytes; painted stack, Cortex-M only). */
  stackUsedBytes: number | null;
  method: string;
}

/** Counts hge (default and fast builds) and the C reference on one emulated target; `variant`:
 *  a wider build for more controls than the release module's MAX_CONTROLS. */
export async function measureTarget(boardName: string, controls: number, o: { windows?: number; quiet?: boolean; wasm?: string; variant?: Variant; wholeSample?: boolean } = {}): Promise<TargetMeasurement> {
  const board = widened(loadBoard(boardName), controls);
  const scratch = o.variant ? new Controller(o.variant.module, o.variant.layout) : new Controller();
  const config = benchConfig(controls, board.sampleRateHz, adcLimits(board));
  const { block, error } = encodeConfig(config, scratch);
  if (error) throw error;
  // the ramp's samples, then `windows` whole windows: the figures are of the windows only
  const window = benchWindow(controls), windows = o.windows ?? 2, ramp = rampSamples(board, config, o.variant);
  const readings = benchReadings(ramp + window * windows);
  const trace = board.emulation!.counter === "minstret" ? ["-DHGE_BENCH_TRACE"] : [];
  const out = (what: string) => resolve(REPO_DIR, "build", "boards", boardName, `bench-${what}-${controls}`);
  const build = (app: string, fast: boolean, what: string, cflags = trace) =>
    buildBoard(board, { wasm: o.wasm, variant: o.variant, app, config: block, entry: "main", bench: true, unchecked: fast, cflags, out: out(what), quiet: o.quiet ?? true });
  const hgeBuild = build("hge", false, "hge", [...trace, "-DHGE_STACK_REPORT"]);
  const fastBuild = build("hge", true, "hge-fast");
  const referenceBuild = benchWindow(controls) > (o.variant?.layout ?? L).SINES_MAX_WINDOW ? null : build("reference", false, "reference");
  const sampleBuild = o.wholeSample ? build("hge_sample", false, "hge-sample") : null;
  // the runs at once (exact counts, whatever else runs): each QEMU takes a core
  const [hgeRun, fastRun, referenceRun, sampleRun] = await Promise.all([hgeBuild, fastBuild, referenceBuild, sampleBuild].map((built) => built && countCalls(built, readings)));
  const windowCalls = (counts: number[], what: string) => {
    if (counts.length !== ramp + window * windows) throw new Error(`${boardName} ${controls} controls, ${what}: ${counts.length} calls counted, ${ramp + window * windows} readings fed`);
    return counts.slice(ramp);
  };
  const hgeCounts = windowCalls(hgeRun!.counts, "hge"), fastCounts = windowCalls(fastRun!.counts, "hge (fast)");
  const hge = summarise(hgeCounts);
  const hgeFast = summarise(fastCounts);
  // each window's last call is its update (the longest step of a window): else the ramp was miscounted
  for (const [counts, s] of [[hgeCounts, hge], [fastCounts, hgeFast]] as const) {
    for (let w = 1; w <= windows; w++) if (!(counts[w * window - 1] > 2 * s.median)) throw new Error(`${boardName} ${controls} controls: call ${ramp + w * window} (window ${w}'s end after a ${ramp}-sample ramp) is not an update: ${counts[w * window - 1]} instructions`);
  }
  const reference = referenceRun ? summarise(windowCalls(referenceRun.counts, "reference")) : null;
  const wholeSample = sampleRun ? summarise(windowCalls(sampleRun.counts, "whole sample")) : null;
  return {
    board: boardName, controls, hge, hgeFast, reference, wholeSample,
    ramBytes: hgeBuild.size.ram, flashBytes: hgeBuild.size.flash, moduleMemoryBytes: hgeBuild.check.facts.memoryBytes, stackUsedBytes: stackUsed(hgeRun!.stdout),
    ratio: reference && hge.median / reference.median, ratioFast: reference && hgeFast.median / reference.median,
    perControl: hge.median / controls, rampSamples: ramp,
    method: board.emulation!.counter === "minstret" ? "minstret under -icount shift=0" : "TCG plugin (qemu-plugin/hgecount.c)",
  };
}

/** What measureCalibrationEnd counts: the step's instructions and milliseconds, the sample it
 *  came at, a typical sample's instructions and the run's stack high-water mark. */
export interface CalibrationEnd { controls: number; instructions: number; typical: number; milliseconds: number; atSample: number; stackUsedBytes: number | null }
const CALIBRATION_EPOCHS = 2;

/** The longest step() there is: the one that ends the calibration and fits the lag to its
 *  windows (lockin.ts: lockinCalibrate), counted on WIDE_TARGET for the bench configuration with
 *  CALIBRATION_EPOCHS epochs; in milliseconds at WIDE_BOARD's clock, one instruction a cycle. The
 *  electrodes hold their voltages through it (the next window has not begun). */
export async function measureCalibrationEnd(controls: number, o: { quiet?: boolean; wasm?: string; variant?: Variant } = {}): Promise<CalibrationEnd> {
  const board = widened(loadBoard(WIDE_TARGET), controls);
  const scratch = o.variant ? new Controller(o.variant.module, o.variant.layout) : new Controller();
  const { block, error } = encodeConfig(benchConfig(controls, board.sampleRateHz, adcLimits(board), CALIBRATION_EPOCHS), scratch);
  if (error) throw error;
  const window = benchWindow(controls);
  const built = buildBoard(board, { wasm: o.variant ? undefined : o.wasm, variant: o.variant, app: "hge", config: block, entry: "main", bench: true, cflags: ["-DHGE_STACK_REPORT"], out: resolve(REPO_DIR, "build", "boards", WIDE_TARGET, `calibration-end-${controls}`), quiet: o.quiet ?? true });
  const { counts, stdout } = await countCalls(built, benchReadings(window * (CALIBRATION_EPOCHS + 1)));
  const instructions = Math.max(...counts);
  return {
    controls, instructions, typical: summarise(counts).median, atSample: counts.indexOf(instructions) + 1, stackUsedBytes: stackUsed(stdout),
    milliseconds: (instructions / loadBoard(WIDE_BOARD).clockHz) * 1000,
  };
}

/** For a board that is not emulated: the emulated target whose code is the same (core and
 *  code-generation flags), whose counts are therefore the board's. */
export function countedOn(board: Board): string | null {
  if (board.emulation) return board.name;
  for (const t of COUNTED_TARGETS) {
    const e = loadBoard(t);
    if (e.core === board.core && e.toolchain.arch.join(" ") === board.toolchain.arch.join(" ")) return t;
  }
  return null;
}

export interface BoardsBench {
  /** How the numbers were made, in words. */
  method: string;
  /** targets[board][controls]: the counts on each emulated target. */
  targets: Record<string, Record<string, TargetMeasurement>>;
  /** Per defined board: clock, the target its code was counted on, and the largest sample rate
   *  (Hz) for 8 and 64 controls: clock / mean instructions per sample at one instruction per
   *  cycle (an upper bound: divide by the core's cycles per instruction, and leave room for the
   *  firmware's own work). null where nothing counts the board's code. */
  sampleRates: Record<string, { clockHz: number; countedOn: string | null; maxSampleRateHz: Record<string, number | null> }>;
  /** Soft float against the FPU, per control count: the M0+ proxy over the M4F, and the
   *  RV32IMC proxy over RV32IMAFC (mean instructions per sample). */
  softFloat: { m0plusOverM4f: Record<string, number>; rv32imcOverRv32imafc: Record<string, number> };
  /** WIDE_CONTROLS controls (the wider build) counted on WIDE_TARGET, and what WIDE_BOARD's clock
   *  makes of it: the largest sample rate (clock / mean instructions per sample, one instruction a
   *  cycle) against the board's sample rate; null when WIDE_TARGET is not measured. */
  wide: { measurement: TargetMeasurement; board: string; clockHz: number; maxSampleRateHz: number; boardSampleRateHz: number } | null;
  /** RAM_BOARD's firmware for each entry (bytes): RAM (= the module's memory + the stack
   *  reserved + static data: frame and record buffers, the runtime's tables) and flash. */
  firmware: { board: string; entries: Record<Entry, FirmwareSize> };
  /** The longest step() at each of CALIBRATION_CONTROLS (measureCalibrationEnd); empty when
   *  WIDE_TARGET is not measured. */
  calibrationEnd: Record<string, CalibrationEnd>;
  seconds: number;
}

/** The firmware entries measured; linkCore: the link entry on the tones-only core (build/hge-core.wasm). */
type Entry = "main" | "link" | "standalone" | "linkCore";
export interface FirmwareSize { ram: number; flash: number; moduleMemory: number; stack: number; staticData: number }

/** RAM_BOARD built for each entry: main (a bench configuration compiled in), link, standalone (AND),
 *  and the link entry on the tones-only core. */
export async function firmwareSizes(quiet = true): Promise<BoardsBench["firmware"]> {
  const board = loadBoard(RAM_BOARD);
  const { block } = encodeConfig(benchConfig(board.dac.channels, board.sampleRateHz, adcLimits(board)), new Controller());
  const out = (entry: Entry) => resolve(REPO_DIR, "build", "boards", RAM_BOARD, `ram-${entry}`);
  const { buildStandalone } = await import("./standalone.ts");
  const built: Record<Entry, BuildResult> = {
    main: buildBoard(board, { config: block, entry: "main", out: out("main"), quiet }),
    link: buildBoard(board, { entry: "link", out: out("link"), quiet }),
    standalone: buildStandalone(board, { task: "and", out: out("standalone"), quiet }).built,
    linkCore: buildBoard(board, { entry: "link", wasm: CORE_WASM, out: out("linkCore"), quiet }),
  };
  const size = (r: BuildResult): FirmwareSize => ({
    ram: r.size.ram, flash: r.size.flash, moduleMemory: r.check.facts.memoryBytes, stack: board.stackBytes,
    staticData: r.size.ram - r.check.facts.memoryBytes - board.stackBytes,
  });
  return { board: RAM_BOARD, entries: { main: size(built.main), link: size(built.link), standalone: size(built.standalone), linkCore: size(built.linkCore) } };
}

/** Everything the benchmark records about the boards (names stable for build/bench.json). */
export async function measureBoards(o: { controls?: number[]; targets?: string[]; quiet?: boolean; wasm?: string; install?: boolean } = {}): Promise<BoardsBench> {
  const t0 = performance.now();
  if (o.install) ensureToolchain(); // the bench's call; hge board measure installs nothing
  const controlCounts = o.controls ?? [...CONTROL_COUNTS];
  const counted = o.targets ?? COUNTED_TARGETS;
  // one measurement a core at a time: the counts are exact, whatever else runs, and a build
  // (synchronous) goes on while another measurement's QEMU runs; the longest (the wide build) first
  const limit = pLimit(availableParallelism());
  const wideRun = counted.includes(WIDE_TARGET) ? limit(async () => {
    // two windows (benchWindow(WIDE_CONTROLS) samples each, each ending in its update) after the ramp: a typical sample and the amortised update
    const measurement = await measureTarget(WIDE_TARGET, WIDE_CONTROLS, { quiet: o.quiet, windows: 2, variant: await loadVariant(WIDE_CONTROLS), wholeSample: true });
    if (!o.quiet) process.stderr.write(`boards: ${WIDE_TARGET} ${WIDE_CONTROLS} controls (wider build): ${measurement.hge.median} instructions per sample\n`);
    return measurement;
  }) : undefined;
  const targets: BoardsBench["targets"] = Object.fromEntries(counted.map((t) => [t, {}]));
  const runs = counted.flatMap((t) => controlCounts.map((n) => limit(async () => {
    targets[t][n] = await measureTarget(t, n, { quiet: o.quiet, wasm: o.wasm, wholeSample: t === WIDE_TARGET });
    if (!o.quiet) process.stderr.write(`boards: ${t} ${n} controls: ${targets[t][n].hge.median} instructions per sample (reference ${targets[t][n].reference?.median ?? "-"})\n`);
  })));
  const calibrationEnd: BoardsBench["calibrationEnd"] = {};
  const calibrationRuns = counted.includes(WIDE_TARGET) ? CALIBRATION_CONTROLS.map((n) => limit(async () => {
    calibrationEnd[n] = await measureCalibrationEnd(n, { quiet: o.quiet, wasm: o.wasm, variant: n > L.MAX_CONTROLS ? await loadVariant(n) : undefined });
  })) : [];
  const [wideMeasurement, firmware] = await Promise.all([wideRun, limit(() => firmwareSizes(o.quiet ?? true)), ...runs, ...calibrationRuns]);
  const sampleRates: BoardsBench["sampleRates"] = {};
  for (const name of listBoards()) {
    const b = loadBoard(name);
    const on = countedOn(b);
    const rates: Record<string, number | null> = {};
    for (const n of controlCounts) rates[n] = on && targets[on]?.[n] ? Math.floor(b.clockHz / targets[on][n].hge.mean) : null;
    sampleRates[name] = { clockHz: b.clockHz, countedOn: on, maxSampleRateHz: rates };
  }
  let wide: BoardsBench["wide"] = null;
  if (wideMeasurement) {
    const b = loadBoard(WIDE_BOARD);
    wide = { measurement: wideMeasurement, board: WIDE_BOARD, clockHz: b.clockHz, maxSampleRateHz: Math.floor(b.clockHz / wideMeasurement.hge.mean), boardSampleRateHz: b.sampleRateHz };
  }
  const ratio = (a: string, b: string) => Object.fromEntries(controlCounts.filter((n) => targets[a]?.[n] && targets[b]?.[n]).map((n) => [n, targets[a][n].hge.mean / targets[b][n].hge.mean]));
  return {
    method: `instructions per step() call, counted exactly (RISC-V: minstret under -icount shift=0; Arm: a TCG plugin) over two whole windows, each ending in its update (${BENCH_WINDOW} samples, or as long as the tones need: benchWindow), after the first configuration's ramp from the park voltages (counted, left out: rampSamples); median = a typical sample, mean = amortised over the window with its update; step() only (not the ADC read, the output copy or the DAC write); the C reference (firmware/app_reference.c) is the per-sample path only, so ratios compare medians; sample rates use the mean at one instruction per cycle`,
    targets, sampleRates,
    softFloat: { m0plusOverM4f: ratio("mps2-an386-m0plus", "mps2-an386"), rv32imcOverRv32imafc: ratio("virt-rv32imc", "virt-rv32") },
    wide, firmware, calibrationEnd,
    seconds: (performance.now() - t0) / 1000,
  };
}

/** The measurements as a text table. */
export function formatBench(bench: BoardsBench): string {
  const lines: string[] = [];
  const fmt = (n: number) => n.toFixed(n < 10 ? 2 : 0);
  lines.push("instructions per step() call (step() only: not the ADC read, the output copy or the DAC write; median = typical");
  lines.push("sample; mean = amortised over two whole windows with their updates, after the start's ramp; fast build = unchecked: no bounds checks)");
  lines.push("target               controls  hge median  per control  hge mean   reference  ratio  fast build  ratio");
  for (const [t, byN] of Object.entries(bench.targets)) {
    for (const m of Object.values(byN)) {
      lines.push(`${t.padEnd(20)} ${String(m.controls).padStart(8)}  ${String(m.hge.median).padStart(10)}  ${fmt(m.perControl).padStart(11)}  ${fmt(m.hge.mean).padStart(8)}  ${String(m.reference?.median ?? "-").padStart(10)}  ${(m.ratio?.toFixed(2) ?? "-").padStart(5)}  ${String(m.hgeFast.median).padStart(10)}  ${(m.ratioFast?.toFixed(2) ?? "-").padStart(5)}`);
    }
  }
  const whole = Object.values(bench.targets).flatMap((byN) => Object.values(byN)).filter((m) => m.wholeSample);
  if (whole.length) lines.push("", `a whole sample but the ADC read (step(), the output copy, a minimal DAC hand-off: firmware/app_hge_sample.c): ${whole.map((m) => `${m.board} ${m.controls} controls median ${m.wholeSample!.median} (${fmt(m.wholeSample!.median / m.controls)} per control), mean ${fmt(m.wholeSample!.mean)}`).join("; ")}`);
  lines.push("", "largest sample rate (clock / mean instructions per sample, one instruction per cycle)");
  for (const [b, r] of Object.entries(bench.sampleRates)) {
    const rates = Object.entries(r.maxSampleRateHz).map(([n, hz]) => `${n} controls: ${hz === null ? "not counted" : `${(hz / 1000).toFixed(1)} kHz`}`).join(", ");
    lines.push(`${b.padEnd(20)} ${String(r.clockHz / 1e6).padStart(5)} MHz  counted on ${String(r.countedOn ?? "-").padEnd(18)} ${rates}`);
  }
  // (each where both its targets were measured: not with --quick or --only)
  const ratios = (name: string, r: Record<string, number>) => Object.keys(r).length ? [`${name} ${Object.entries(r).map(([n, x]) => `${x.toFixed(1)}x at ${n}`).join(", ")}`] : [];
  const softFloat = [...ratios("M0+ / M4F", bench.softFloat.m0plusOverM4f), ...ratios("RV32IMC / RV32IMAFC", bench.softFloat.rv32imcOverRv32imafc)];
  if (softFloat.length) lines.push("", `soft float: ${softFloat.join("; ")}`);
  if (bench.wide) {
    const w = bench.wide, m = w.measurement;
    lines.push("", `${m.controls} controls (wider build) on ${m.board}: median ${m.hge.median} (${fmt(m.perControl)} per control), mean ${fmt(m.hge.mean)}, window ${benchWindow(m.controls)} samples, C reference ${m.reference?.median ?? "-"} (ratio ${m.ratio?.toFixed(2) ?? "-"}); ${w.board} at ${w.clockHz / 1e6} MHz: at most ${(w.maxSampleRateHz / 1000).toFixed(1)} kHz at one instruction per cycle (runs at ${w.boardSampleRateHz / 1000} kHz)`);
    // the longest step of a window: its update (the run's figures hold whole windows only)
    const updateMs = (m.hge.max / w.clockHz) * 1000;
    if (m.wholeSample) lines.push(`  a whole sample but the ADC read (app_hge_sample.c): median ${m.wholeSample.median}, mean ${fmt(m.wholeSample.mean)}: at most ${(w.clockHz / m.wholeSample.mean / 1000).toFixed(1)} kHz at one instruction per cycle`);
    lines.push(`  its window-end update: ${m.hge.max} instructions, ${updateMs.toFixed(2)} ms at ${w.clockHz / 1e6} MHz = ${(updateMs * w.boardSampleRateHz / 1000).toFixed(1)} sample periods at ${w.boardSampleRateHz / 1000} kHz (firmware RAM of that build ${m.ramBytes} bytes)`);
  }
  const ends = Object.values(bench.calibrationEnd);
  if (ends.length) lines.push("", `the longest step(), the calibration's end (lag fit) on ${WIDE_TARGET}: ${ends.map((e) => `${e.controls} controls ${(e.instructions / 1e6).toFixed(1)} M instructions, ${e.milliseconds.toFixed(0)} ms at ${loadBoard(WIDE_BOARD).clockHz / 1e6} MHz, stack ${e.stackUsedBytes ?? "-"} bytes`).join("; ")}`);
  lines.push("", `firmware RAM on ${bench.firmware.board} (bytes: RAM = module memory + stack + static data; flash)`);
  for (const [entry, f] of Object.entries(bench.firmware.entries)) lines.push(`${entry.padEnd(11)} RAM ${String(f.ram).padStart(6)} = ${f.moduleMemory} + ${f.stack} + ${f.staticData}   flash ${f.flash}`);
  const stacks = Object.values(bench.targets).flatMap((byN) => Object.values(byN)).filter((m) => m.stackUsedBytes !== null).map((m) => `${m.board} ${m.controls}: ${m.stackUsedBytes}`);
  if (stacks.length) lines.push(`stack used (painted, the bench runs): ${stacks.join(", ")} bytes`);
  lines.push(`(${bench.seconds.toFixed(0)} s)`);
  return lines.join("\n");
}

if (process.argv[1] && resolve(process.argv[1]) === resolve(new URL(import.meta.url).pathname)) {
  const arg = (k: string) => { const i = process.argv.indexOf(`--${k}`); return i > 0 ? process.argv[i + 1] : undefined; };
  const controls = arg("controls")?.split(",").map(Number);
  measureBoards({ controls, targets: process.argv.includes("--quick") ? ["mps2-an386", "virt-rv32"] : undefined })
    .then((b) => console.log(formatBench(b)), (e) => { console.error((e as Error).message); process.exit(1); });
}
