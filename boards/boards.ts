// Board definitions: one JSON file a board in boards/, inheriting from core files the way
// TinyGo's targets do ("inherits": ["cortex-m4f"]), and the check of a board against a module.
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseWasm, type Feature, type WasmModule, exportedGlobals } from "./wasm.ts";
import { TrainConfigError, UsageError } from "../host/errors.ts";
import { electrodeRangesV, type Device } from "../host/devices/device.ts";
import { defaultChain as defaultChainOf, type ChainOptions } from "../host/train.ts";

export const BOARDS_DIR = dirname(fileURLToPath(import.meta.url));

export interface Converter { channels: number; bits: number; minV: number; maxV: number }
/** The ADC also says what its volts mean: `unitPerV` device units (`unit`, e.g. nA) per volt,
 *  the front end's transimpedance. The firmware multiplies each reading by it before step(). */
export interface Adc extends Converter { unit: string; unitPerV: number }
export interface SafeRange { minV: number; maxV: number; parkV: number }
export interface Electrode extends Partial<SafeRange> { channel: number; name?: string }
/** arch: the core's code-generation flags (replaced by a later core); cflags/ldflags:
 *  extra flags (accumulate down the chain); libs: link libraries (replaced). */
export interface Toolchain { prefix: string; arch: string[]; cflags: string[]; ldflags: string[]; libs: string[]; optional?: boolean }
/** counter: how instructions per call are counted. minstret: the RISC-V counter under
 *  -icount shift=0; plugin: the TCG plugin in qemu-plugin/ (falls back to exec-log without a
 *  host C compiler); exec-log: QEMU's -d exec,nochain -singlestep log (exact, slow). */
export interface Emulation { qemu: string; args: string[]; uart?: string; counter: "minstret" | "plugin" | "exec-log" }
export type Runtime = "wasm2c" | "wamr" | "wasm3";
/** The module builds a board can take (scripts/build.mjs writes both): the full lab build, or
 *  the tones-only core for small flash (assembly/features.ts: it refuses what it leaves out). */
export const MODULE_BUILDS = { full: "hge.wasm", core: "hge-core.wasm" } as const;
export type ModuleBuild = keyof typeof MODULE_BUILDS;

export interface Board {
  name: string;
  description: string;
  /** The files this one was resolved from, base first (e.g. ["cortex-m4f", "mps2-an386"]). */
  chain: string[];
  core: string;
  isa: string;
  fpu: string | null;
  floatAbi: string;
  runtime: Runtime;
  /** The build the firmware is made from (build/hge.wasm or build/hge-core.wasm) unless a
   *  module is given (--wasm). */
  module: ModuleBuild;
  clockHz: number;
  flashOrigin: number;
  flashBytes: number;
  ramOrigin: number;
  ramBytes: number;
  stackBytes: number;
  sampleRateHz: number;
  dac: Converter;
  adc: Adc;
  electrodeSafeV: SafeRange;
  electrodes: Electrode[];
  toolchain: Toolchain;
  firmware: { startup: string[]; ldscript: string; sources: string[] };
  emulation: Emulation | null;
}

/** Arrays that accumulate down the inheritance chain (TinyGo appends flag lists too); the
 *  file lists among them keep one copy of each file. */
const APPENDED = new Set(["toolchain.cflags", "toolchain.ldflags", "firmware.sources", "firmware.startup"]);
const FILE_LISTS = new Set(["firmware.sources", "firmware.startup"]);
/** Keys that describe a file, not a board: never inherited. */
const OWN = new Set(["abstract", "inherits", "description"]);

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === "object" && v !== null && !Array.isArray(v);

/** Later keys override; objects merge key by key; the APPENDED arrays concatenate. */
export function mergeBoard(base: Json, over: Json, path = ""): Json {
  const out: Json = { ...base };
  for (const [k, v] of Object.entries(over)) {
    const p = path ? `${path}.${k}` : k;
    if (APPENDED.has(p) && Array.isArray(v) && Array.isArray(out[k])) {
      const joined = [...(out[k] as unknown[]), ...v];
      out[k] = FILE_LISTS.has(p) ? [...new Set(joined)] : joined;
    }
    else if (isObject(v) && isObject(out[k])) out[k] = mergeBoard(out[k] as Json, v, p);
    else out[k] = v;
  }
  return out;
}

export function boardFile(name: string, dir = BOARDS_DIR): string {
  if (!/^[a-z0-9][a-z0-9._-]*$/i.test(name)) throw new Error(`board: bad name ${JSON.stringify(name)}`);
  return join(dir, `${name}.json`);
}

/** Reads a board file and everything it inherits; returns the merged JSON and the chain. */
export function resolveBoardJson(name: string, dir = BOARDS_DIR, seen: string[] = []): { json: Json; chain: string[] } {
  if (seen.includes(name)) throw new Error(`board: inheritance cycle ${[...seen, name].join(" -> ")}`);
  const file = boardFile(name, dir);
  if (!existsSync(file)) throw new Error(`board: no such board "${name}" (${file})`);
  let own: Json;
  try { own = JSON.parse(readFileSync(file, "utf8")); } catch (e) { throw new Error(`board: ${file}: ${(e as Error).message}`); }
  if (!isObject(own)) throw new Error(`board: ${file}: not a JSON object`);
  const parents = own.inherits ?? [];
  if (!Array.isArray(parents) || parents.some((p) => typeof p !== "string")) throw new Error(`board: ${name}: "inherits" must be a list of names`);
  let json: Json = {};
  const chain: string[] = [];
  for (const p of parents as string[]) {
    const r = resolveBoardJson(p, dir, [...seen, name]);
    json = mergeBoard(json, r.json);
    for (const c of r.chain) if (!chain.includes(c)) chain.push(c);
  }
  const mine: Json = {};
  for (const [k, v] of Object.entries(own)) if (!OWN.has(k)) mine[k] = v;
  json = mergeBoard(json, mine);
  if (typeof own.description === "string") json.description = own.description;
  json.abstract = own.abstract === true;
  chain.push(name);
  return { json, chain };
}

/** Loads a concrete board: resolved, validated, typed. */
export function loadBoard(name: string, dir = BOARDS_DIR): Board {
  const { json, chain } = resolveBoardJson(name, dir);
  if (json.abstract) throw new Error(`board: "${name}" is a core/chip file (abstract), not a board`);
  const board = { ...json, name, chain } as unknown as Board;
  const problems = validateBoard(board);
  if (problems.length) throw new Error(`board: ${name}: ${problems.join("; ")}`);
  return board;
}

/** All concrete boards in the directory. */
export function listBoards(dir = BOARDS_DIR): string[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith(".json"))
    .map((f) => f.slice(0, -5))
    .filter((n) => !resolveBoardJson(n, dir).json.abstract)
    .sort();
}

/** The boards QEMU emulates (run, probe, hardware in the loop). */
export function emulatedBoards(dir = BOARDS_DIR): string[] {
  return listBoards(dir).filter((name) => loadBoard(name, dir).emulation);
}

/** A board by name for a command that runs it: an unknown name is a UsageError listing the
 *  emulated boards (the command line lists every board through its choices). */
export function runnableBoard(name: string, command: string): Board {
  if (!listBoards().includes(name)) throw new UsageError(`unknown board "${name}"; ${command} runs on ${emulatedBoards().join(", ")}`);
  const b = loadBoard(name);
  requireEmulated(b, command);
  return b;
}

/** A board by name, emulated or not (a real one, on its port): an unknown name is a UsageError
 *  listing the boards (it was an internal error). */
export function definedBoard(name: string, command: string): Board {
  if (!listBoards().includes(name)) throw new UsageError(`unknown board "${name}"; ${command} knows ${listBoards().join(", ")}`);
  return loadBoard(name);
}

/** Refuses a board that is defined but not emulated, naming the emulated ones. */
export function requireEmulated(b: Board, command: string): void {
  if (!b.emulation) throw new TrainConfigError("board", `${b.name} is defined but not emulated; ${command} needs an emulated board: ${emulatedBoards().join(", ")}`);
}

const RUNTIMES: Runtime[] = ["wasm2c", "wamr", "wasm3"];

export function validateBoard(b: Board): string[] {
  const p: string[] = [];
  const num = (k: keyof Board, min = 0) => {
    const v = b[k];
    if (typeof v !== "number" || !Number.isFinite(v) || v < min) p.push(`${k} must be a number >= ${min}`);
  };
  for (const k of ["core", "isa", "floatAbi", "description"] as const) if (typeof b[k] !== "string" || !b[k]) p.push(`${k} missing`);
  if (b.fpu !== null && typeof b.fpu !== "string") p.push("fpu must be a string or null");
  if (!RUNTIMES.includes(b.runtime)) p.push(`runtime must be one of ${RUNTIMES.join(", ")}`);
  if (!Object.hasOwn(MODULE_BUILDS, b.module)) p.push(`module must be ${Object.entries(MODULE_BUILDS).map(([k, f]) => `"${k}" (build/${f})`).join(" or ")}, got ${JSON.stringify(b.module)}`);
  num("clockHz", 1); num("flashOrigin"); num("flashBytes", 1); num("ramOrigin"); num("ramBytes", 1); num("stackBytes", 256); num("sampleRateHz", 1);
  for (const k of ["dac", "adc"] as const) {
    const c = b[k];
    if (!isObject(c)) { p.push(`${k} missing`); continue; }
    if (!(Number.isInteger(c.channels) && c.channels >= 1)) p.push(`${k}.channels must be an integer >= 1`);
    if (!(Number.isInteger(c.bits) && c.bits >= 1 && c.bits <= 32)) p.push(`${k}.bits must be 1..32`);
    if (!(c.minV < c.maxV)) p.push(`${k}: minV must be below maxV`);
  }
  // the one place the device unit per ADC volt is written: the firmware multiplies each ADC
  // reading by it before step(), the host builds configurations in that unit
  if (isObject(b.adc)) {
    if (typeof b.adc.unit !== "string" || !b.adc.unit) p.push("adc.unit missing: the device unit step() receives (e.g. \"nA\")");
    if (!(typeof b.adc.unitPerV === "number" && Number.isFinite(b.adc.unitPerV) && b.adc.unitPerV !== 0)) p.push("adc.unitPerV missing: device units per ADC volt (the transimpedance), a finite non-zero number");
  }
  const checkRange = (r: Partial<SafeRange>, what: string) => {
    if (!(typeof r.minV === "number" && typeof r.maxV === "number" && r.minV < r.maxV)) { p.push(`${what}: minV < maxV required`); return; }
    if (isObject(b.dac) && (r.minV < b.dac.minV || r.maxV > b.dac.maxV)) p.push(`${what}: safe range [${r.minV}, ${r.maxV}] V outside the DAC's [${b.dac.minV}, ${b.dac.maxV}] V`);
    if (typeof r.parkV !== "number" || r.parkV < r.minV || r.parkV > r.maxV) p.push(`${what}: parkV must lie inside the safe range`);
  };
  if (!isObject(b.electrodeSafeV)) p.push("electrodeSafeV missing");
  else checkRange(b.electrodeSafeV, "electrodeSafeV");
  if (!Array.isArray(b.electrodes)) p.push("electrodes must be a list (may be empty)");
  else for (const e of b.electrodes) {
    if (!(Number.isInteger(e.channel) && e.channel >= 0 && isObject(b.dac) && e.channel < b.dac.channels)) p.push(`electrodes: channel ${e.channel} outside the DAC's channels`);
    else checkRange({ ...b.electrodeSafeV, ...e }, `electrode ${e.channel}`);
  }
  const t = b.toolchain;
  if (!isObject(t) || typeof t.prefix !== "string" || !Array.isArray(t.arch) || !Array.isArray(t.cflags) || !Array.isArray(t.ldflags) || !Array.isArray(t.libs)) p.push("toolchain needs prefix, arch, cflags, ldflags, libs");
  const f = b.firmware;
  if (!isObject(f) || !Array.isArray(f.startup) || typeof f.ldscript !== "string" || !Array.isArray(f.sources)) p.push("firmware needs startup, ldscript, sources");
  if (b.emulation !== null) {
    const e = b.emulation;
    if (!isObject(e) || typeof e.qemu !== "string" || !Array.isArray(e.args) || !["minstret", "plugin", "exec-log"].includes(e.counter)) p.push("emulation must be null or {qemu, args, counter: minstret|plugin|exec-log}");
  }
  return p;
}

/** Safe range of every DAC channel: the default, then per-channel overrides. */
export function electrodeRanges(b: Board): SafeRange[] {
  const out: SafeRange[] = [];
  for (let c = 0; c < b.dac.channels; c++) {
    const e = b.electrodes.find((x) => x.channel === c);
    out.push({ minV: e?.minV ?? b.electrodeSafeV.minV, maxV: e?.maxV ?? b.electrodeSafeV.maxV, parkV: e?.parkV ?? b.electrodeSafeV.parkV });
  }
  return out;
}

/** What each runtime can execute. Our wasm2c build: the static runtime in firmware/. */
export const RUNTIME_FEATURES: Record<Runtime, Feature[]> = {
  wasm2c: ["sign-extension", "nontrapping-f2i", "bulk-memory", "mutable-globals", "multi-value", "reference-types"],
  wamr: ["sign-extension", "nontrapping-f2i", "bulk-memory", "mutable-globals", "multi-value", "reference-types"],
  wasm3: ["sign-extension", "nontrapping-f2i", "mutable-globals", "multi-value"],
};

export const PAGE = 65536;

/** Sizes of a built firmware image, from `size` (Berkeley format). */
/** moduleMemoryBytes: the module's linear memory in the image (its RAM), 0 when the adapter
 *  does not use the module (the reference: the linker drops it). */
export interface ImageSize { text: number; data: number; bss: number; flash: number; ram: number; moduleMemoryBytes: number }

/** How the module's linear memory grows with the number of controls (from its layout). */
export interface MemoryLayout { fixedBytes: number; bytesPerControl: number; maxControls: number }

export interface CheckResult {
  ok: boolean;
  errors: string[];
  warnings: string[];
  facts: {
    moduleBytes: number;
    codeBytes: number;
    pages: number;
    features: Feature[];
    imports: number;
    /** linear memory the module needs (HEAP_END / __heap_base export when present, else its pages) */
    memoryBytes: number;
    flashBytes?: number;
    ramBytes?: number;
    largestControls?: number;
  };
}

/** Firmware RAM outside the module's memory when no image has been built yet (estimate). */
const FIRMWARE_RAM_ESTIMATE = 2048;

/**
 * Checks a module against a board: its memory (one, not growing: the firmware reserves what the
 * module uses, of any number of pages, where the board's RAM holds it), features, imports, float
 * use vs FPU, and (given a built image) flash and RAM; with a layout, the largest control count
 * that fits.
 */
export function checkModule(b: Board, wasm: Uint8Array | WasmModule, opts: { image?: ImageSize; layout?: MemoryLayout; memoryBytes?: number } = {}): CheckResult {
  const m = wasm instanceof Uint8Array ? parseWasm(wasm) : wasm;
  const errors: string[] = [], warnings: string[] = [];
  if (m.imports.length) errors.push(`module imports ${m.imports.map((i) => `${i.module}.${i.name}`).join(", ")}: the board runtime provides none (build with --use abort=)`);
  if (m.memories.length > 1) errors.push(`module has ${m.memories.length} memories; one is supported`);
  const mem = m.memories[0];
  const pages = mem?.min ?? 0;
  if (mem) {
    // the static runtime's memory.grow always fails (as wasm allows): a module that grows its
    // memory would see -1 (the controller never grows it: nothing is allocated after start)
    if (mem.max === undefined || mem.max > mem.min) warnings.push(`module memory may grow (maximum ${mem.max === undefined ? "none" : `${mem.max} pages`}); memory.grow fails on the board`);
    if (mem.shared || mem.memory64) errors.push("shared or 64-bit memory is not supported");
  }
  const supported = new Set(RUNTIME_FEATURES[b.runtime]);
  const unsupported = [...m.features].filter((f) => !supported.has(f));
  if (unsupported.length) errors.push(`module uses ${unsupported.join(", ")}, which the ${b.runtime} runtime on ${b.name} does not support`);
  if (m.ops.f64 > 0 && b.fpu !== "fpv5-d16" && b.fpu !== "d") warnings.push(`module has ${m.ops.f64} f64 instructions: double precision runs in software on ${b.core}`);
  if (m.ops.f32 > 0 && b.fpu === null) warnings.push(`${b.core} has no FPU: every f32 operation is a libgcc call (soft float)`);
  if (m.ops.i64 > 0) warnings.push(`module has ${m.ops.i64} i64 instructions: multi-instruction sequences on a 32-bit core`);

  const globals = exportedGlobals(m);
  const heapEnd = [globals.HEAP_END, globals.__heap_base].find((v) => typeof v === "number") as number | undefined;
  const memoryBytes = opts.memoryBytes ?? (heapEnd !== undefined ? heapEnd : pages * PAGE);
  const facts: CheckResult["facts"] = {
    moduleBytes: m.bytes, codeBytes: m.codeBytes, pages, features: [...m.features].sort(), imports: m.imports.length, memoryBytes,
  };
  if (opts.image) {
    facts.flashBytes = opts.image.flash;
    facts.ramBytes = opts.image.ram;
    if (opts.image.flash > b.flashBytes) errors.push(`image needs ${opts.image.flash} B of flash; ${b.name} has ${b.flashBytes}`);
    if (opts.image.ram > b.ramBytes) errors.push(`image needs ${opts.image.ram} B of RAM (stack and module memory included); ${b.name} has ${b.ramBytes}`);
  } else {
    const need = memoryBytes + b.stackBytes + FIRMWARE_RAM_ESTIMATE;
    if (need > b.ramBytes) errors.push(`module memory (${memoryBytes} B) + stack (${b.stackBytes} B) + firmware (~${FIRMWARE_RAM_ESTIMATE} B) exceed ${b.name}'s ${b.ramBytes} B of RAM`);
  }
  if (opts.layout) facts.largestControls = largestControls(b, opts.layout, opts.image ? opts.image.ram - memoryBytes : b.stackBytes + FIRMWARE_RAM_ESTIMATE);
  return { ok: errors.length === 0, errors, warnings, facts };
}

/**
 * The largest number of controls whose module memory fits both the page and the board's RAM
 * left after the firmware (stack included), and that the DAC can drive.
 */
export function largestControls(b: Board, layout: MemoryLayout, firmwareRamBytes: number): number {
  const room = Math.min(PAGE, b.ramBytes - firmwareRamBytes);
  const byMemory = Math.floor((room - layout.fixedBytes) / layout.bytesPerControl);
  return Math.max(0, Math.min(byMemory, layout.maxControls, b.dac.channels));
}

/** Reads a module file and checks it. */
export function checkModuleFile(board: string | Board, wasmPath: string, opts: Parameters<typeof checkModule>[2] = {}): CheckResult {
  const b = typeof board === "string" ? loadBoard(board) : board;
  return checkModule(b, readFileSync(wasmPath), opts);
}

/**
 * The measurement chain the host simulates for a board (host/train.ts ChainOptions): the
 * board file's sample rate, ADC resolution, full scale and transimpedance (adc.unitPerV), so
 * the readings the host makes are those the board's converters would make. The board file is
 * the one source of these scales; the rest (DAC, corner, delay) is the device's default chain.
 */
export function boardChain(b: Board, device: Device): ChainOptions {
  return {
    ...defaultChainOf(device),
    sampleRateHz: b.sampleRateHz,
    adcBits: b.adc.bits,
    adcRangeV: [b.adc.minV, b.adc.maxV],
    transimpedancePerV: b.adc.unitPerV,
    f32Scaling: true, // (its firmware makes the readings: hardware in the loop stays bit-identical to Node)
  };
}

/** Why `board` cannot drive `device`'s electrodes (controls on DAC channels 0.., then the
 *  inputs, each range inside its channel's safe range: app_hge.c's board_refusal), or null. */
export function deviceRefusal(b: Board, device: Device): string | null {
  const ranges = electrodeRanges(b);
  const electrodes = electrodeRangesV(device);
  if (electrodes.length > ranges.length) {
    return `${device.name} has ${electrodes.length} electrodes (${device.controlCount} controls, ${device.inputCount} inputs); ${b.name} drives ${ranges.length} DAC channels`;
  }
  for (let e = 0; e < electrodes.length; e++) {
    const [low, high] = electrodes[e];
    const safe = ranges[e];
    if (low < safe.minV || high > safe.maxV) {
      const which = e < device.controlCount ? `control ${e + 1}` : `input ${e - device.controlCount + 1}`;
      return `${device.name}'s ${which} spans [${low}, ${high}] V; ${b.name}'s DAC channel ${e} is safe in [${safe.minV}, ${safe.maxV}] V only`;
    }
  }
  return null;
}
