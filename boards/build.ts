// Builds the firmware for a board: module (.wasm) -> wasm2c -> cross-compile -> ELF, with a
// size report; runs it in QEMU; counts instructions per call. The command line over these
// functions is boards/cli.ts (`hge board ...`).
import { execFileSync, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, readlinkSync, realpathSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { basename, dirname, join, relative, resolve } from "node:path";
import { BOARDS_DIR, MODULE_BUILDS, type Board, type CheckResult, type ImageSize, type ModuleBuild, checkModule, electrodeRanges, loadBoard } from "./boards.ts";
import { parseWasm, exportedGlobals, maxCallDepth, type WasmModule } from "./wasm.ts";
import { generateLayoutHeader } from "./layout-header.ts";
import { generateLinkHeader } from "./link.ts";
import { CONFIG_WORDS } from "../assembly/layout.ts";
import { Controller, ControllerError } from "../host/controller.ts";
import { TrainConfigError, UsageError } from "../host/errors.ts";
import { maxOf, minOf } from "../host/metrics.ts";
import type { Variant } from "../host/variant.ts";

export const FIRMWARE_DIR = join(BOARDS_DIR, "firmware");
export const REPO_DIR = resolve(BOARDS_DIR, "..");
export const WASM2C_VERSION = "1.0.32";
/** wasm2c's limit on nested calls (WASM_RT_MAX_CALL_STACK_DEPTH, its wasm-rt.h's default). */
const WASM2C_MAX_CALL_DEPTH = 500;

/** Whether the module's calls can never nest past wasm2c's limit (no recursion, and its deepest
 *  chain within it): then the depth counter wasm2c puts in every function never traps, and a
 *  build leaves it out. The C stack that chain takes is measured (the boards' stackBytes). */
export function callDepthBounded(module: WasmModule): boolean {
  const depth = maxCallDepth(module);
  return depth !== undefined && depth <= WASM2C_MAX_CALL_DEPTH;
}

export interface BuildOptions {
  /** The module to build in (default: the build the board file names, "module"). */
  wasm?: string;
  /** A wider build (host/variant.ts, more controls than assembly/layout.ts): its module, and its
   *  layout for hge.h and the configuration block. */
  variant?: Variant;
  /** Adapter between main loop and module: firmware/app_<app>.c (default "hge"), or a path
   *  to a .c file. */
  app?: string;
  /** Output directory (default build/boards/<board>/<app>[-bench][-unchecked]). */
  out?: string;
  /** The build is what the caller keeps (hge board build): its default directory, while another
   *  process uses it, is refused as a given `out` is, not replaced by one of this process's own. */
  keep?: boolean;
  /** Count instructions around each step() call (bench.h). */
  bench?: boolean;
  /** No bounds checks on linear-memory accesses (faster; only for a module known to stay in bounds). */
  unchecked?: boolean;
  /** Take every memory access to be naturally aligned (firmware/wasm-access.h): aligned load
   *  and store instructions, no alignment test; a misaligned access faults (and parks) instead
   *  of being split into bytes. Default: on when every load and store of the module declares
   *  natural alignment (AssemblyScript's typed loads do; the controller's are all aligned). */
  aligned?: boolean;
  /** Keep wasm2c's per-load register barrier (costs a move per f32 load; see README). */
  keepLoadBarrier?: boolean;
  /** Keep wasm2c's byte-wise memcpy for every load and store (no aligned fast path). */
  plainAccess?: boolean;
  /** Samples per block between converters and module (default 16). */
  blockSamples?: number;
  /** C optimisation flag (default -O2). */
  optimize?: string;
  /** A configuration block (hge_config_t, the bytes the host writes at CONFIG) compiled in
   *  as gen/hge_config_block.c: the firmware configures itself at boot (replay, standalone). */
  config?: Uint8Array;
  /** The firmware's entry: "main" (main.c: samples from the board's ADC, configuration
   *  compiled in), "link" (link.c: a host drives the board over the serial protocol) or
   *  "standalone" (standalone.c: configures itself, trains on its own, resumes from its stored
   *  checkpoint; needs `config` and `standaloneHeader`).
   *  Default: "link" for the controller without a compiled-in configuration, else "main". */
  entry?: "main" | "link" | "standalone";
  /** gen/standalone_config.h for the standalone entry (boards/standalone.ts writes it). */
  standaloneHeader?: string;
  /** The ADC scale `config` was built for (device unit per ADC volt); compiled into
   *  hge_config_block.c beside a static assertion that it is the board's. */
  configUnitPerV?: number;
  /** Extra C flags (appended). */
  cflags?: string[];
  quiet?: boolean;
}

export interface BuildResult {
  board: Board;
  dir: string;
  elf: string;
  /** The module built in (a path). */
  wasm: string;
  size: ImageSize;
  check: CheckResult;
  seconds: number;
}

/** A board's tools are not installed (a configuration refusal: the root CLI exits 3). */
export class ToolchainMissing extends TrainConfigError {
  constructor(message: string) {
    super("toolchain", message);
    this.name = "ToolchainMissing";
  }
}

function which(cmd: string): string | null {
  for (const d of (process.env.PATH ?? "").split(":")) if (d && existsSync(join(d, cmd))) return join(d, cmd);
  return null;
}

/** Whether a board's cross compiler (and wasm2c) is installed. */
export function toolchainAvailable(b: Board): boolean {
  return missingTools(b).length === 0;
}

/** The programs a board needs that are not on PATH: its cross compiler and size tool,
 *  wasm2c, and with `emulate` its QEMU. */
export function missingTools(b: Board, o: { emulate?: boolean } = {}): string[] {
  const tools = [`${b.toolchain.prefix}gcc`, "wasm2c"];
  if (o.emulate && b.emulation) tools.push(b.emulation.qemu);
  return tools.filter((tool) => which(tool) === null);
}

/** Refuses (ToolchainMissing) when a board's tools are missing, saying how to install them. */
export function requireTools(b: Board, o: { emulate?: boolean } = {}): void {
  const missing = missingTools(b, o);
  if (!missing.length) return;
  const how = b.toolchain.optional && missing.includes(`${b.toolchain.prefix}gcc`)
    ? "not packaged in Debian: install the vendor toolchain to build this board"
    : "install the board toolchain with `bash boards/install.sh --yes`";
  throw new ToolchainMissing(`${b.name}: ${missing.join(", ")} not on PATH; ${how}`);
}

/** For the test suite and the bench only: installs the Debian packages (boards/install.sh
 *  --yes, i.e. they ask for the install) when the board tools are missing; the script says what
 *  it installs (on stderr). No hge command calls it. */
export function ensureToolchain(): void {
  const r = spawnSync("bash", [join(BOARDS_DIR, "install.sh"), "--yes"], { stdio: ["ignore", 2, 2] });
  if (r.error || r.status !== 0) throw new ToolchainMissing(`boards/install.sh failed (exit ${r.status ?? r.error?.message})`);
}

/** The module build a board takes (its file's "module": build/hge.wasm or build/hge-core.wasm),
 *  built first when missing (a fresh clone): the board commands then work without a separate
 *  `npm run build`. Says so on stderr. */
export function ensureModule(build: ModuleBuild = "full"): string {
  const wasm = join(REPO_DIR, "build", MODULE_BUILDS[build]);
  if (existsSync(wasm)) return wasm;
  process.stderr.write(`hge: build/${MODULE_BUILDS[build]} not found; building the modules first (node scripts/build.mjs)\n`);
  const r = spawnSync(process.execPath, [join(REPO_DIR, "scripts", "build.mjs")], { cwd: REPO_DIR, stdio: ["ignore", 2, 2] });
  if (r.error || r.status !== 0 || !existsSync(wasm)) throw new TrainConfigError("wasm", `build/${MODULE_BUILDS[build]} could not be built (node scripts/build.mjs failed); build it with npm run build or give --wasm FILE`);
  return wasm;
}

/** A board tool (compiler, linker, wasm2c) that did not run or exited with an error: one line
 *  naming it and its first errors (exit 3), and all it said for the callers that read it (a
 *  RAM overflow, a user's adapter). */
export class ToolFailed extends TrainConfigError {
  constructor(readonly output: string, tool: string, status: string) {
    super("toolchain", `the board's ${basename(tool)} failed (${status}): ${firstErrors(output)}`);
    this.name = "ToolFailed";
  }
}

function run(cmd: string, args: string[], opts: { cwd?: string } = {}): string {
  const r = spawnSync(cmd, args, { encoding: "utf8", cwd: opts.cwd, maxBuffer: 64 << 20 });
  if (r.error) throw new ToolFailed(r.error.message, cmd, "did not run");
  if (r.status !== 0) throw new ToolFailed(`${r.stdout}${r.stderr}`, cmd, r.status === null ? `signal ${r.signal}` : `exit ${r.status}`);
  return r.stdout + r.stderr;
}

/** The first error lines of what a tool said (its first lines if none says error), on one line. */
function firstErrors(output: string, max = 2): string {
  const lines = output.split("\n").map((l) => l.trim()).filter(Boolean);
  const errors = lines.filter((l) => /\berror\b/.test(l));
  return (errors.length ? errors : lines).slice(0, max).join("; ") || "it said nothing";
}

/** A specs file may be named once only (gcc refuses a second --specs of the same file), and
 *  inheritance from two cores can repeat one. */
function dedupeSpecs(flags: string[]): string[] {
  const seen = new Set<string>();
  return flags.filter((f) => !f.startsWith("--specs=") || (!seen.has(f) && !!seen.add(f)));
}

const cFloat = (v: number) => (Number.isInteger(v) ? `${v}.0f` : `${v}f`);
const hex = (v: number) => `0x${(v >>> 0).toString(16)}`;

/** Parses wasm2c's header: each export comment followed by its C declaration. */
export function wasm2cExports(header: string): { name: string; decl: string }[] {
  const out: { name: string; decl: string }[] = [];
  const re = /\/\* export: '([^']*)' \*\/\n([^\n]+);/g;
  for (let m; (m = re.exec(header));) out.push({ name: m[1], decl: m[2] });
  return out;
}

const C_TYPE: Record<string, string> = { u32: "uint32_t", u64: "uint64_t", f32: "float", f64: "double", void: "void" };

/** The module's buffers with their element types, as the host reads them (host/controller.ts). */
const BUFFER_VIEWS: Record<string, [string, string]> = {
  WEIGHTS: ["float", "[control_count] each control's voltage without the perturbation (V)"],
  GRADIENT: ["float", "[control_count] the last update's gradient, loss per volt"],
  ELECTRODES: ["float", "[control_count + input_count] the voltages step() asks for, controls then inputs (V)"],
  CASE_OUTPUTS: ["float", "[case_count] each case's output at the last epoch (device unit)"],
  JACOBIAN: ["float", "d output / d control (device unit per V): case p's row at p * HGE_MAX_CONTROLS"],
  LOSS_SLOPES: ["float", "[case_count] d loss / d output of each case"],
  TONE_BINS: ["int32_t", "[control_count] each control's tone, in bins of the window"],
  TONE_HITS: ["int32_t", "[control_count] 2: a second-order product lands on the tone, 4: third-order (or'ed)"],
  CHECKPOINT: ["uint8_t", "hge_save()'s blob (hge_save() returns its length)"],
};

/** The friendly C surface: hge.h (globals as constants, functions without the instance). */
export function generateApiHeader(wasmName: string, header: string, globals: Record<string, number | bigint | undefined>, mutable: Set<string> = new Set(), layout?: string): string {
  const lines = [
    `/* hge.h: the C surface of ${wasmName}, generated by boards/build.ts. Do not edit.`,
    ` * Functions take and return scalars; the HGE_* constants are the module's exported`,
    ` * globals (addresses of its buffers in linear memory, or sizes). Read and write those`,
    ` * buffers through hge_memory() + address. */`,
    "#ifndef HGE_H",
    "#define HGE_H",
    "#include <stdint.h>",
    '#include "hge_wasm.h"',
    "",
    "extern Z_hge_instance_t hge_instance;",
    "/** Instantiates the module: memory zeroed, data segments copied, globals initialised.",
    " *  Calling it again resets the module. */",
    "void hge_instantiate(void);",
    "/** The module's linear memory (the bytes it uses: HGE_WASM_MEMORY_BYTES). */",
    "static inline uint8_t *hge_memory(void) { return hge_instance.w2c_memory.data; }",
    "",
  ];
  if (layout) lines.push(layout);
  for (const [name, value] of Object.entries(globals)) {
    if (value === undefined || mutable.has(name)) continue;
    const id = name.replace(/[^A-Za-z0-9_]/g, "_").toUpperCase();
    lines.push(`#define HGE_${id} ${typeof value === "bigint" ? `${value}ull` : `${value >>> 0}u`} /* export '${name}' */`);
  }
  lines.push("");
  for (const { name, decl } of wasm2cExports(header)) {
    const id = name.replace(/[^A-Za-z0-9_]/g, "_");
    const acc = /^(\w+)\*\s*(Z_\w+)\(Z_hge_instance_t\* instance\)$/.exec(decl.trim());
    if (acc && mutable.has(name) && acc[1] in C_TYPE) {
      // a mutable global: its current value, read through wasm2c's accessor
      lines.push(`static inline ${C_TYPE[acc[1]]} hge_${id}(void) { return *${acc[2]}(&hge_instance); } /* mutable global '${name}' */`);
      continue;
    }
    const m = /^(\w+)\s+(Z_\w+)\(Z_hge_instance_t\*(?:,\s*([^)]*))?\)$/.exec(decl.trim());
    if (!m) continue; // constant globals (above) and the memory
    const [, ret, sym, params = ""] = m;
    const ptypes = params.split(",").map((s) => s.trim()).filter(Boolean);
    if (![ret, ...ptypes].every((t) => t in C_TYPE)) continue;
    const args = ptypes.map((t, i) => `${C_TYPE[t]} a${i}`).join(", ") || "void";
    const call = ["&hge_instance", ...ptypes.map((_, i) => `a${i}`)].join(", ");
    lines.push(`static inline ${C_TYPE[ret]} hge_${id}(${args}) { ${ret === "void" ? "" : "return "}${sym}(${call}); }`);
  }
  if (layout && globals.CONFIG !== undefined && globals.STATUS !== undefined) {
    lines.push("",
      "/** The configuration block the host or firmware fills before hge_configure() (the module's",
      " *  memory is bytes: the block is 16-byte aligned, so the cast is safe). A staging block:",
      " *  hge_configure() copies it into the running configuration only when it accepts it, so after",
      " *  a refusal, or while a new block is written, it is not the running configuration. */",
      "static inline hge_config_t *hge_config(void) { return (hge_config_t *)(void *)(hge_memory() + HGE_CONFIG); }",
      "/** The status block (counters, loss, lag in use, error details). */",
      "static inline const hge_status_t *hge_status(void) { return (const hge_status_t *)(const void *)(hge_memory() + HGE_STATUS); }");
    lines.push("", "/* Typed views of the module's buffers (all 4-byte aligned in its memory); the counts are the running",
      " * configuration's: those of the last block hge_configure() accepted (keep them when it returns 0, as",
      " * app_hge.c does; hge_config() is the staging block). Units: volts at the electrodes; the device unit",
      " * (board_config.h HGE_ADC_UNIT) for outputs. */");
    for (const [name, [type, what]] of Object.entries(BUFFER_VIEWS)) {
      if (globals[name] === undefined) continue;
      lines.push(`static inline ${type} *hge_${name.toLowerCase()}(void) { return (${type} *)(void *)(hge_memory() + HGE_${name}); } /* ${what} */`);
    }
  }
  lines.push("", "#endif", "");
  return lines.join("\n");
}

/** gen/hge_config_block.c: a configuration block compiled into the firmware. */
export function generateConfigBlock(block: Uint8Array, words: number, unitPerV?: number): string {
  if (block.length !== words * 4) throw new Error(`configuration block: ${block.length} bytes, expected ${words * 4}`);
  const view = new DataView(block.buffer, block.byteOffset, block.byteLength);
  const rows: string[] = [];
  for (let i = 0; i < words; i += 8) {
    const row: string[] = [];
    for (let j = i; j < Math.min(words, i + 8); j++) row.push(`0x${view.getUint32(j * 4, true).toString(16).padStart(8, "0")}`);
    rows.push(`  ${row.join(", ")},`);
  }
  return [
    "/* The configuration block compiled in (hge_config_t as 32-bit words), generated by boards/build.ts. */",
    "#include <stdint.h>",
    '#include "hge.h"',
    ...(unitPerV === undefined ? [] : [
      '#include "board_config.h"',
      "/* the ADC scale this block was built for: its readings, limits and targets are in the",
      " * device unit at this many units per ADC volt; on a board of another scale it is wrong */",
      `#define HGE_CONFIG_ADC_UNIT_PER_V ${cFloat(unitPerV)}`,
      '_Static_assert(HGE_CONFIG_ADC_UNIT_PER_V == HGE_ADC_UNIT_PER_V, "configuration built for another ADC scale than this board (adc.unitPerV)");',
    ]),
    "",
    `const uint32_t hge_config_block[HGE_CONFIG_WORDS] __attribute__((aligned(16))) = {`,
    ...rows,
    "};",
    "",
  ].join("\n");
}

export function generateBoardConfig(b: Board, blockSamples: number): string {
  const r = electrodeRanges(b);
  return [
    `/* board_config.h for ${b.name}, generated by boards/build.ts from ${b.chain.map((c) => `${c}.json`).join(" <- ")}. */`,
    "#ifndef HGE_BOARD_CONFIG_H",
    "#define HGE_BOARD_CONFIG_H",
    `#define HGE_BOARD_NAME "${b.name}"`,
    `#define HGE_CLOCK_HZ ${b.clockHz}u`,
    `#define HGE_SAMPLE_RATE_HZ ${b.sampleRateHz}u`,
    `#define HGE_BLOCK_SAMPLES ${blockSamples}`,
    `#define HGE_MAX_CHANNELS ${b.dac.channels}`,
    `#define HGE_DAC_CHANNELS ${b.dac.channels}`,
    `#define HGE_DAC_BITS ${b.dac.bits}`,
    `#define HGE_DAC_MIN_V ${cFloat(b.dac.minV)}`,
    `#define HGE_DAC_MAX_V ${cFloat(b.dac.maxV)}`,
    `#define HGE_ADC_CHANNELS ${b.adc.channels}`,
    `#define HGE_ADC_BITS ${b.adc.bits}`,
    `#define HGE_ADC_MIN_V ${cFloat(b.adc.minV)}`,
    `#define HGE_ADC_MAX_V ${cFloat(b.adc.maxV)}`,
    `/* step() receives readings in HGE_ADC_UNIT: the ADC's volts times HGE_ADC_UNIT_PER_V (the`,
    ` * front end's transimpedance, adc.unitPerV in the board file); configurations are built in`,
    ` * that unit by the host */`,
    `#define HGE_ADC_UNIT "${b.adc.unit}"`,
    `#define HGE_ADC_UNIT_PER_V ${cFloat(b.adc.unitPerV)}`,
    "/* each electrode's safe range and the voltage it is parked at on a fault */",
    `#define HGE_SAFE_MIN_V { ${r.map((e) => cFloat(e.minV)).join(", ")} }`,
    `#define HGE_SAFE_MAX_V { ${r.map((e) => cFloat(e.maxV)).join(", ")} }`,
    `#define HGE_PARK_VOLTS { ${r.map((e) => cFloat(e.parkV)).join(", ")} }`,
    "#endif",
    "",
  ].join("\n");
}

/** `size` in Berkeley format: flash = text + data, RAM = data + bss (bss includes the stack
 *  and the module's memory). */
export function imageSize(b: Board, elf: string): ImageSize {
  const out = run(`${b.toolchain.prefix}size`, ["-B", elf]);
  const line = out.trim().split("\n")[1].trim().split(/\s+/).map(Number);
  const [text, data, bss] = line;
  const memory = /^[0-9a-f]+ ([0-9a-f]+) [bBdD] hge_wasm_memory$/m.exec(run(`${b.toolchain.prefix}nm`, ["-S", elf]));
  return { text, data, bss, flash: text + data, ram: data + bss, moduleMemoryBytes: memory ? parseInt(memory[1], 16) : 0 };
}

/** An access with a constant offset as wasm2c writes it, `f32_load(&instance->w2c_memory,
 *  (u64)(w2c_i1) + 5568u` (a store's offset has no `u`): the access (its width in bits when
 *  narrower than its type), the index and the offset. */
const FOLDED_ACCESS = /\b([if](?:32|64)_(?:load|store)(8|16|32)?(?:_[su])?)\(&instance->w2c_memory, \(u64\)\((w2c_\w+)\) \+ (\d+)u?/g;

/**
 * Post-processes wasm2c 1.0.32's output (each rewrite must match, or the build stops):
 *  - loads and stores go through HGE_LOAD_BYTES/HGE_STORE_BYTES (firmware/wasm-access.h):
 *    one aligned access when the address is aligned instead of a byte-wise memcpy;
 *  - they address the runtime's static memory array directly, and the bounds check compares
 *    with its constant size: through `mem->data`, every store (a char access) might change the
 *    instance, so the compiler reloaded the data pointer, the size and the module's globals
 *    after each one; a store into a distinct static array cannot;
 *  - an access with a constant offset checks its index against the end of memory less the
 *    offset (wasm-access.h: HGE_AT), one compare instead of the sum's and its carry's;
 *  - i32.trunc_sat_f32_s uses the core's saturating conversion where it has one (wasm-access.h);
 *  - every function works on the firmware's one instance, `hge_instance` (hge.c), not on a
 *    pointer parameter: the compiler then knows that stores into the memory array cannot
 *    change the module's globals (instance fields) and keeps them in registers in loops;
 *  - the empty asm that forces every loaded value through a general-purpose register is
 *    dropped: one extra move per f32 load on FPU targets, and it exists only for the
 *    signal-handler bounds checks, which this runtime does not use.
 */
export function patchWasm2c(file: string, o: Pick<BuildOptions, "keepLoadBarrier" | "plainAccess"> = {}): void {
  let src = readFileSync(file, "utf8");
  const rewrite = (from: string, to: string) => {
    if (!src.includes(from)) throw new Error(`wasm2c output changed: "${from.trim()}" not found in ${file}`);
    src = src.replace(from, to);
  };
  if (!o.plainAccess) {
    rewrite("    wasm_rt_memcpy(&result, &mem->data[addr], sizeof(t1)); \\\n", "    HGE_LOAD_BYTES(&result, &HGE_MEMORY_DATA(mem)[addr], sizeof(t1)); \\\n");
    rewrite("    wasm_rt_memcpy(&mem->data[addr], &wrapped, sizeof(t1));            \\\n", "    HGE_STORE_BYTES(&HGE_MEMORY_DATA(mem)[addr], &wrapped, sizeof(t1));           \\\n");
    rewrite("#define MEMCHECK(mem, a, t) RANGE_CHECK(mem, a, sizeof(t))\n", "#define MEMCHECK(mem, a, t) HGE_MEMCHECK(mem, a, sizeof(t))\n");
    src = src.replace(FOLDED_ACCESS, (_, access: string, bits: string | undefined, x: string, offset: string) =>
      `${access}(&instance->w2c_memory, HGE_AT(${x}, ${offset}u, ${(bits ? Number(bits) : access.includes("64") ? 64 : 32) / 8})`);
    if (src.search(FOLDED_ACCESS) !== -1) throw new Error(`wasm2c output changed: an access with an offset left in ${file}`);
  }
  if (!o.keepLoadBarrier) rewrite('    wasm_asm("" ::"r"(result));                            \\\n', "");
  rewrite("#define I32_TRUNC_SAT_S_F32(x)                                            \\\n  TRUNC_SAT_S(u32, s32, f32, (f32)INT32_MIN, INT32_MIN, >=, 2147483648.f, \\\n              INT32_MAX, x)\n",
    "#ifdef HGE_I32_TRUNC_SAT_S_F32\n#define I32_TRUNC_SAT_S_F32(x) HGE_I32_TRUNC_SAT_S_F32(x)\n#else\n#define I32_TRUNC_SAT_S_F32(x) \\\n  TRUNC_SAT_S(u32, s32, f32, (f32)INT32_MIN, INT32_MIN, >=, 2147483648.f, INT32_MAX, x)\n#endif\n");
  rewrite('#include "hge_wasm.h"\n', '#include "hge_wasm.h"\n\n/* boards/build.ts: one instance, the firmware\'s (hge.c) */\nextern Z_hge_instance_t hge_instance;\n#define instance (&hge_instance)\n');
  const parameter = /Z_hge_instance_t\s*\*\s*instance\b/g;
  if ((src.match(parameter)?.length ?? 0) < 3) throw new Error(`wasm2c output changed: no "Z_hge_instance_t* instance" parameters in ${file}`);
  src = src.replace(parameter, "Z_hge_instance_t* instance_unused");
  writeFileSync(file, src);
}

/** The firmware's entry for these options (see BuildOptions.entry). */
export function entryOf(o: BuildOptions): "main" | "link" | "standalone" {
  return o.entry ?? ((o.app ?? "hge") === "hge" && !o.config ? "link" : "main");
}

function defaultOut(board: string, o: BuildOptions): string {
  const app = basename(o.app ?? "hge").replace(/\.c$/, "");
  const entry = entryOf(o);
  return join(REPO_DIR, "build", "boards", board, `${app}${entry === "main" ? "" : `-${entry}`}${o.bench ? "-bench" : ""}${o.unchecked ? "-unchecked" : ""}`);
}

/** The file a build writes first into its directory: it marks the directory as a build's,
 *  which the next build into it replaces. Written UNFINISHED first; a build that ends writes
 *  FINISHED and below it every file it made (markBuilt), and only those are replaced. */
export const BUILD_MARKER = ".hge-board-build";
const UNFINISHED = "An hge board build (boards/build.ts), unfinished: the next build into this directory replaces it.\n";
const FINISHED = "An hge board build (boards/build.ts): the next build into this directory replaces it, if it holds no files but these:\n";
/** The marker of builds before FINISHED listed their files: such a directory is replaced whole. */
const UNLISTED = "An hge board build (boards/build.ts): the next build into this directory replaces it.\n";

/** The files under `dir` (paths relative to it, BUILD_MARKER left out). */
function filesUnder(dir: string, prefix = ""): string[] {
  return readdirSync(join(dir, prefix), { withFileTypes: true }).flatMap((e) => {
    const path = prefix ? `${prefix}/${e.name}` : e.name;
    return e.isDirectory() ? filesUnder(dir, path) : path === BUILD_MARKER ? [] : [path];
  });
}

/** Writes the BUILD_MARKER of a build that ended: what it made, all the next build may remove. */
function markBuilt(dir: string): void {
  writeFileSync(join(dir, BUILD_MARKER), FINISHED + filesUnder(dir).map((f) => `${f}\n`).join(""));
}

/** Refuses (UsageError, naming `shown`) a build directory that is neither new, nor empty, nor
 *  an earlier build's (its BUILD_MARKER) holding only what that build made (or an unfinished
 *  build's): a build replaces its directory, and never removes what is not its own (a run's
 *  reports, a file put beside a build's, even one named as a build's). */
export function checkBuildDirectory(dir: string, shown = dir): void {
  let stat;
  try {
    stat = statSync(dir);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT") return;
    throw new UsageError(`--out ${shown} cannot be made a directory (${code}); give a new or empty directory`);
  }
  if (!stat.isDirectory()) throw new UsageError(`--out ${shown} is a file, not a directory; give a new or empty directory (or an earlier build's, which is replaced)`);
  if (!readdirSync(dir).length) return;
  const marker = existsSync(join(dir, BUILD_MARKER)) ? readFileSync(join(dir, BUILD_MARKER), "utf8") : null;
  if (marker === UNFINISHED || marker === UNLISTED) return;
  if (marker === null || !marker.startsWith(FINISHED)) {
    throw new UsageError(`--out ${shown} holds files that are not an hge board build (it has no ${BUILD_MARKER}${marker === null ? "" : " that a build wrote"}); give a new or empty directory: a build replaces only an earlier build's directory`);
  }
  const made = new Set(marker.slice(FINISHED.length).split("\n"));
  const foreign = filesUnder(dir).filter((f) => !made.has(f));
  if (foreign.length) {
    throw new UsageError(`--out ${shown} is an earlier build's directory, but ${foreign.slice(0, 3).join(", ")}${foreign.length > 3 ? ` and ${foreign.length - 3} more` : ""} in it ${foreign.length > 1 ? "are" : "is"} not that build's; move ${foreign.length > 1 ? "them" : "it"} or give another directory (a build removes only its own files)`);
  }
}

/** Who uses which build directory: a file `<hash of the directory>.<pid>` here per process
 *  that builds into it, kept until that process exits (a run reads its firmware after the
 *  build). A process claims a directory by writing its file, then looking for another live
 *  one's: two that claim at once both see each other and both back off, so no two ever share. */
const CLAIMS = join(REPO_DIR, "build", "boards", ".claims");
/** What this process removes at exit: its claims, and the directories it built in because
 *  the one it was to use was another's. */
const leftAtExit = new Set<string>();

/** When process `pid` started (clock ticks after boot, Linux's /proc/<pid>/stat), or "" where
 *  that cannot be read: a pid that a killed process left in a claim and another took since has
 *  another start. */
function startOf(pid: number): string {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19] ?? ""; // field 22 (the name may hold spaces)
  } catch {
    return "";
  }
}

/** Whether process `pid`, which started at `start` (startOf; "" unknown), is still running. */
function alive(pid: number, start: string): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EPERM") return false; // (EPERM: another user's)
  }
  const now = startOf(pid);
  return start === "" || now === "" || now === start;
}

/** Claims `dir` for this process (see CLAIMS): null, or the pid of a live process using it.
 *  `own`: a directory of this process's own, removed at its exit (and, after a process that
 *  ended without its exit handlers, by the next claim). */
function claim(dir: string, own = false): number | null {
  const prefix = `${createHash("sha256").update(dir).digest("hex").slice(0, 24)}.`;
  const mine = join(CLAIMS, `${prefix}${process.pid}`);
  const held = leftAtExit.has(mine);
  mkdirSync(CLAIMS, { recursive: true });
  if (!held) writeFileSync(mine, `${dir}\n${own ? "own" : "shared"}\n${startOf(process.pid)}\n`);
  for (const name of readdirSync(CLAIMS)) {
    const pid = Number(name.slice(name.lastIndexOf(".") + 1));
    if (pid === process.pid) continue;
    // (a claim being written reads empty: its start unknown, its process taken to be alive)
    const [claimed, kind, start = ""] = readIfThere(join(CLAIMS, name)).split("\n");
    if (!alive(pid, start)) { // a claim left by a process that was killed (another claim may be removing it too)
      if (kind === "own" && claimed.endsWith(`.${pid}`)) rmSync(claimed, { recursive: true, force: true });
      rmSync(join(CLAIMS, name), { force: true });
    } else if (!held && name.startsWith(prefix)) {
      rmSync(mine, { force: true });
      return pid;
    }
  }
  if (!leftAtExit.size) process.once("exit", () => { for (const path of leftAtExit) rmSync(path, { recursive: true, force: true }); });
  leftAtExit.add(mine);
  if (own) leftAtExit.add(dir);
  return null;
}

/** `path` with every symbolic link in it followed, also one to what does not exist yet, and
 *  below the last part that exists the rest as it is: one directory is one path, however it is
 *  spelled, before and after a build makes it. */
function realPathOf(path: string, links = 0): string {
  try {
    return realpathSync(path);
  } catch { /* not there (yet), or a link to what is not */ }
  let target: string | null = null;
  try { target = readlinkSync(path); } catch { /* not a link */ }
  if (target !== null && links < 32) return realPathOf(resolve(dirname(path), target), links + 1);
  const parent = dirname(path);
  return parent === path ? path : join(realPathOf(parent, links), basename(path));
}

function readIfThere(file: string): string {
  try {
    return readFileSync(file, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return "";
    throw error;
  }
}

/** The directory a build uses: `o.out` or the default one, refused while another live process
 *  uses it when given or kept (o.keep); else a directory of this process's own beside it
 *  (parallel runs on one board). */
function claimBuildDirectory(b: Board, o: BuildOptions): string {
  const dir = realPathOf(resolve(o.out ?? defaultOut(b.name, o)));
  const owner = claim(dir);
  if (owner === null) return dir;
  if (o.out !== undefined || o.keep) throw new UsageError(`${o.out ?? relative(process.cwd(), dir)} is in use by another hge process (pid ${owner}), which builds or runs its firmware there; wait for it to end, or give another directory`);
  const own = `${dir}.${process.pid}`;
  if (claim(own, true) !== null) throw new Error(`${own} is claimed by another process`);
  return own;
}

/** Bytes of RAM one sample of the main loop's block takes (HGE_BLOCK_SAMPLES): its reading, its
 *  voltages (one a DAC channel) and its events (main.c), and on an emulated board the events
 *  kept for the DAC lines (hal_emu.c). */
export function blockBytesPerSample(b: Board): number {
  return 4 * (2 + b.dac.channels) + (b.firmware.sources.includes("hal_emu.c") ? 4 : 0);
}

/** The largest block the board's RAM could hold were nothing else in it: a bound checked before
 *  building (the exact one, with the firmware's own RAM, comes from the linker). */
export function blockBound(b: Board): number {
  return Math.floor(b.ramBytes / blockBytesPerSample(b));
}

/** What each adapter of firmware/ takes from the module, and which module that is. */
const ADAPTER_NEEDS: Record<string, { exports: string[]; module: string }> = {
  hge: {
    exports: ["CONFIG", "STATUS", "ELECTRODES", "WEIGHTS", "GRADIENT", "CASE_OUTPUTS", "TONE_BINS", "TONE_HITS", "CHECKPOINT", "configure", "step", "save", "load", "hold"],
    module: "the controller, build/hge.wasm",
  },
  // the controller's adapter with the output copy and a DAC hand-off in the counted call (measure.ts: wholeSample)
  hge_sample: {
    exports: ["CONFIG", "STATUS", "ELECTRODES", "WEIGHTS", "GRADIENT", "CASE_OUTPUTS", "TONE_BINS", "TONE_HITS", "CHECKPOINT", "configure", "step", "save", "load", "hold"],
    module: "the controller, build/hge.wasm",
  },
  reference: { exports: ["CONFIG", "STATUS"], module: "the controller, build/hge.wasm, whose configuration block it reads" },
  probe: { exports: ["CHANNELS", "OUT", "reset", "step"], module: "the stand-in, build/boards/probe.wasm (boards/testdata/probe.ts)" },
};

/** Why adapter `app` cannot take `module` (the exports it lacks, the module it takes), or null
 *  (a .c adapter of the user's: whatever it needs, its compiler says). */
export function adapterRefusal(app: string, module: WasmModule, shown: string): string | null {
  const needs = ADAPTER_NEEDS[app];
  if (!needs) return null;
  const has = new Set(module.exports.map((e) => e.name));
  const missing = needs.exports.filter((name) => !has.has(name));
  if (!missing.length) return null;
  const others = Object.entries(ADAPTER_NEEDS).filter(([name, n]) => name !== app && n.exports.every((e) => has.has(e))).map(([name]) => `--app ${name}`);
  return `${shown} is not a module --app ${app} adapts: it exports no ${missing.join(", ")}; --app ${app} takes ${needs.module}${others.length ? `, and this module is one for ${others.join(" or ")}` : ""}`;
}

/** The compiler's first error lines (one line, without the build's directories). */
export function buildBoard(boardName: string | Board, o: BuildOptions = {}): BuildResult {
  const t0 = performance.now();
  const b = typeof boardName === "string" ? loadBoard(boardName) : boardName;
  const log = o.quiet ? () => {} : (s: string) => process.stderr.write(s);
  requireTools(b);
  const block = o.blockSamples ?? 16;
  if (!Number.isInteger(block) || block < 1 || block > blockBound(b)) {
    throw new UsageError(`--block ${block}: the main loop's buffers take ${blockBytesPerSample(b)} bytes a sample on ${b.name}, whose ${b.ramBytes} bytes of RAM would hold ${blockBound(b)} samples with nothing else in them; give a smaller block (the firmware's own RAM leaves room for fewer: the build names the limit)`);
  }
  const wasmPath = resolve(o.wasm ?? o.variant?.path ?? ensureModule(b.module));
  const app = o.app ?? "hge";
  const userApp = app.endsWith(".c");
  const appSource = userApp ? resolve(app) : join(FIRMWARE_DIR, `app_${app}.c`);
  if (!existsSync(appSource)) throw new UsageError(`--app ${app}: no such adapter (${appSource})`);
  const wasmBytes = readFileSync(wasmPath);
  const module = parseWasm(wasmBytes);
  const pre = checkModule(b, module);
  if (!pre.ok) throw new TrainConfigError("wasm", `${b.name}: module ${wasmPath} does not fit: ${pre.errors.join("; ")}`);
  const refusal = adapterRefusal(app, module, o.wasm ?? wasmPath);
  if (refusal) throw new TrainConfigError("wasm", refusal);
  // a configuration compiled in that the module refuses would stop the firmware at power-up:
  // the same module takes it under Node first (the tones-only core leaves features out)
  if (o.config && module.exports.some((e) => e.name === "configure")) {
    const controller = o.variant ? new Controller(o.variant.module, o.variant.layout) : new Controller(new WebAssembly.Module(wasmBytes));
    try {
      controller.configureBlock(o.config);
    } catch (error) {
      if (error instanceof ControllerError) throw new TrainConfigError("wasm", `${o.wasm ?? wasmPath} would refuse the firmware's compiled-in configuration at power-up: ${error.message.replace(/^configuration refused: /, "")}`);
      throw error;
    }
  }
  const entry = entryOf(o);
  if (entry === "main" && ADAPTER_NEEDS[app]?.exports.includes("CONFIG") && !o.config) {
    throw new TrainConfigError("config", `the main-loop firmware of --app ${app} configures the module from a block compiled in, and none was given`);
  }

  const dir = claimBuildDirectory(b, o);
  const gen = join(dir, "gen"), obj = join(dir, "obj");
  checkBuildDirectory(dir, o.out);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(gen, { recursive: true });
  mkdirSync(obj, { recursive: true });
  writeFileSync(join(dir, BUILD_MARKER), UNFINISHED);

  // 1. wasm2c, and the runtime header that matches it
  const version = run("wasm2c", ["--version"]).trim();
  if (version !== WASM2C_VERSION) log(`warning: wasm2c ${version}; the static runtime targets ${WASM2C_VERSION}\n`);
  run("wasm2c", [wasmPath, "-n", "hge", "-o", join(gen, "hge_wasm.c")]);
  const rtHeader = ["/usr/include/wasm-rt.h", "/usr/src/wasm2c/wasm-rt.h", join(dirname(which("wasm2c")!), "..", "include", "wasm-rt.h")].find(existsSync);
  if (!rtHeader) throw new Error("wasm-rt.h not found (is the wabt package installed?)");
  copyFileSync(rtHeader, join(gen, "wasm-rt.h"));
  patchWasm2c(join(gen, "hge_wasm.c"), o);
  const header = readFileSync(join(gen, "hge_wasm.h"), "utf8");
  const mutableGlobals = new Set(module.exports.filter((e) => e.kind === "global" && module.globals[e.index]?.mutable).map((e) => e.name));
  const globals = exportedGlobals(module);
  const controller = globals.CONFIG !== undefined && globals.STATUS !== undefined;
  writeFileSync(join(gen, "hge.h"), generateApiHeader(basename(wasmPath), header, globals, mutableGlobals, controller ? generateLayoutHeader(o.variant && readFileSync(o.variant.layoutFile, "utf8"), o.variant?.layout) : undefined));
  if (o.config) writeFileSync(join(gen, "hge_config_block.c"), generateConfigBlock(o.config, o.variant?.layout.CONFIG_WORDS ?? CONFIG_WORDS, o.configUnitPerV));
  if (entry === "standalone") {
    if (!o.config || !o.standaloneHeader) throw new Error("a standalone build needs a configuration block and gen/standalone_config.h (boards/standalone.ts)");
    writeFileSync(join(gen, "standalone_config.h"), o.standaloneHeader);
  }
  const aligned = o.aligned ?? module.ops.underaligned === 0;
  const memoryBytes = moduleMemoryBytes(wasmBytes, module.memories[0]?.min ?? 1);
  writeFileSync(join(gen, "link_protocol.h"), generateLinkHeader());
  writeFileSync(join(gen, "hge.c"), '/* Generated by boards/build.ts. */\n#include "hge.h"\n\nZ_hge_instance_t hge_instance;\n\nvoid hge_instantiate(void) {\n  static int initialised;\n  if (!initialised) { Z_hge_init_module(); initialised = 1; }\n  Z_hge_instantiate(&hge_instance);\n}\n');
  writeFileSync(join(gen, "board_config.h"), generateBoardConfig(b, block));

  // 2. compile
  const cc = `${b.toolchain.prefix}gcc`;
  const common = dedupeSpecs([
    ...b.toolchain.arch, ...b.toolchain.cflags, o.optimize ?? "-O2", "-g", "-std=gnu11",
    "-ffp-contract=off", // no fused multiply-add: f32 results must match V8 bit for bit
    "-fno-math-errno", // sqrtf becomes the FPU instruction (still correctly rounded)
    "-ffunction-sections", "-fdata-sections",
    "-DNDEBUG", // wasm2c's instantiate asserts; newlib's assert pulls in stdio and malloc
    `-I${gen}`, `-I${FIRMWARE_DIR}`,
    ...(o.unchecked ? ["-DWASM_RT_MEMCHECK_SIGNAL_HANDLER=1", "-DWASM_RT_SKIP_SIGNAL_RECOVERY=1"] : ["-DWASM_RT_MEMCHECK_SIGNAL_HANDLER=0"]),
    ...(o.bench ? ["-DHGE_BENCH=1"] : []),
    ...(callDepthBounded(module) ? ["-DWASM_RT_USE_STACK_DEPTH_COUNT=0"] : []),
    ...(aligned ? ["-DHGE_ASSUME_ALIGNED=1"] : []),
    ...(o.config ? ["-DHGE_HAVE_CONFIG_BLOCK=1"] : []),
    `-DHGE_WASM_MEMORY_BYTES=${memoryBytes}u`,
    `-DHGE_WASM_MAX_FUNC_TYPES=${Math.max(1, module.types.length)}`, // the runtime's table of them (wasm-rt-static.c)
    ...(entry === "link" ? ["-DHGE_LINK=1"] : []),
    ...(entry === "standalone" ? ["-DHGE_STANDALONE=1"] : []),
    ...(userApp ? ["-DHGE_CLAMP_OUTPUTS=1"] : []), // (main.c: an adapter of the user's is held to the safe ranges)
    ...(o.cflags ?? []),
  ]);
  const sources: [string, string[]][] = [
    [join(gen, "hge_wasm.c"), ["-w", "-include", join(FIRMWARE_DIR, "wasm-access.h")]],
    [join(gen, "hge.c"), ["-Wall"]],
    [join(FIRMWARE_DIR, "wasm-rt-static.c"), ["-Wall"]],
    [join(FIRMWARE_DIR, `${entry}.c`), ["-Wall"]],
    ...(entry === "main" ? [] : [[join(FIRMWARE_DIR, "frame.c"), ["-Wall"]] as [string, string[]]]),
    // the test stand-in for the analogue world (emulated boards only; hardware has converters)
    ...(entry === "standalone" && b.emulation ? [[join(FIRMWARE_DIR, "hal_emu_device.c"), ["-Wall"]] as [string, string[]]] : []),
    ...(o.config ? [[join(gen, "hge_config_block.c"), ["-Wall"]] as [string, string[]]] : []),
    [join(FIRMWARE_DIR, "hal_weak.c"), ["-Wall"]],
    [join(FIRMWARE_DIR, "bench.c"), ["-Wall"]],
    [appSource, ["-Wall"]],
    ...[...b.firmware.startup, ...b.firmware.sources].map((s): [string, string[]] => [join(FIRMWARE_DIR, s), ["-Wall"]]),
  ];
  writeBuildFiles(dir, cc, common, sources, b);
  const objects: string[] = [];
  for (const [src, flags] of sources) {
    const o2 = join(obj, basename(src).replace(/\.c$/, ".o"));
    try {
      compileCached(cc, [...common, ...flags], src, o2);
    } catch (error) {
      // the user's adapter: its compiler's words are a refusal, not a fault of hge
      if (userApp && src === appSource && error instanceof ToolFailed) throw new TrainConfigError("app", `--app ${app} does not compile: ${firstErrors(error.output)}`);
      throw error;
    }
    objects.push(o2);
  }

  // 3. link
  const elf = join(dir, "hge.elf");
  const ld = b.firmware.ldscript.includes("/") ? join(FIRMWARE_DIR, b.firmware.ldscript) : b.firmware.ldscript;
  const defsyms = { __flash: b.flashOrigin, __flash_size: b.flashBytes, __ram: b.ramOrigin, __ram_size: b.ramBytes, __stack_size: b.stackBytes };
  try {
    run(cc, dedupeSpecs([
      ...b.toolchain.arch, ...b.toolchain.cflags, ...b.toolchain.ldflags, "-T", ld,
      ...Object.entries(defsyms).map(([k, v]) => `-Wl,--defsym=${k}=${hex(v)}`),
      "-Wl,--gc-sections", `-Wl,-Map=${join(dir, "hge.map")}`,
      ...objects, ...b.toolchain.libs, "-o", elf,
    ]));
  } catch (error) {
    if (!(error instanceof ToolFailed)) throw error;
    const text = error.output;
    const overflow = /region [`']?ram'? overflowed by (\d+) bytes/i.exec(text);
    if (overflow && o.blockSamples !== undefined && entry === "main") {
      const fits = block - Math.ceil(Number(overflow[1]) / blockBytesPerSample(b));
      throw new UsageError(`--block ${block}: the firmware overflows ${b.name}'s RAM by ${overflow[1]} bytes (the main loop's buffers take ${blockBytesPerSample(b)} bytes a sample); ${fits >= 1 ? `at most ${fits} samples fit` : "no block fits beside this module"}`);
    }
    if (overflow) throw new TrainConfigError("ram", `${b.name}: the firmware overflows its RAM by ${overflow[1]} bytes (${b.ramBytes} bytes)`);
    const flash = /region [`']?flash'? overflowed by (\d+) bytes/i.exec(text);
    if (flash) throw new TrainConfigError("flash", `${b.name}: the firmware overflows its flash by ${flash[1]} bytes (${b.flashBytes} bytes; what takes it: ${join(dir, "hge.map")})`);
    if (userApp && /undefined reference/.test(text)) {
      const symbols = [...new Set([...text.matchAll(/undefined reference to [`']([^`']+)'/g)].map((m) => m[1]))];
      throw new TrainConfigError("app", `--app ${app} does not link: nothing defines ${symbols.join(", ")} (an adapter defines app_init, app_step, app_outputs and app_output_count: firmware/app.h)`);
    }
    throw error;
  }
  const size = imageSize(b, elf);
  const check = checkModule(b, module, { image: size, memoryBytes });
  const result: BuildResult = { board: b, dir, elf, wasm: wasmPath, size, check, seconds: (performance.now() - t0) / 1000 };
  writeFileSync(join(dir, "size.json"), JSON.stringify({ board: b.name, wasm: wasmPath, app, entry, aligned, unchecked: !!o.unchecked, ...size, flashBytes: b.flashBytes, ramBytes: b.ramBytes, check }, null, 2) + "\n");
  markBuilt(dir);
  if (!check.ok) throw new TrainConfigError("board", `${b.name}: ${check.errors.join("; ")}`);
  return result;
}

/**
 * For a firmware engineer moving hge into another build (Pico SDK, ESP-IDF, STM32Cube): the
 * exact flags of this build (flags.txt), a CMake fragment (hge.cmake: the sources of gen/ and
 * firmware/, the include directories, the definitions and options) and compile_commands.json
 * (clangd, IDEs). Paths are absolute, as compiled.
 */
function writeBuildFiles(dir: string, cc: string, common: string[], sources: [string, string[]][], b: Board): void {
  const quote = (a: string) => (/[^\w@%+=:,./-]/.test(a) ? `'${a.replace(/'/g, "'\\''")}'` : a);
  writeFileSync(join(dir, "flags.txt"), [
    `# ${b.name}: the compiler and flags of every file of this build (boards/build.ts)`,
    `CC=${cc}`,
    `CFLAGS=${common.map(quote).join(" ")}`,
    ...sources.map(([src, extra]) => `${src}: ${extra.map(quote).join(" ")}`),
    "",
  ].join("\n"));
  const defs = common.filter((f) => f.startsWith("-D")).map((f) => f.slice(2));
  const incs = common.filter((f) => f.startsWith("-I")).map((f) => f.slice(2));
  const opts = common.filter((f) => !f.startsWith("-D") && !f.startsWith("-I"));
  writeFileSync(join(dir, "hge.cmake"), [
    `# hge for ${b.name}, generated by boards/build.ts: include() it and link hge into your firmware.`,
    "# Your board support provides main()'s HAL hooks (firmware/hal.h); drop the emulation files",
    "# (hal_emu*.c, semihost.c, board_*.c, startup) from HGE_SOURCES for hardware.",
    `set(HGE_SOURCES\n  ${sources.map(([src]) => src).join("\n  ")}\n)`,
    "add_library(hge STATIC ${HGE_SOURCES})",
    `target_include_directories(hge PUBLIC ${incs.join(" ")})`,
    `target_compile_definitions(hge PUBLIC ${defs.join(" ")})`,
    `target_compile_options(hge PRIVATE ${opts.map(quote).join(" ")})`,
    `set_source_files_properties(${sources[0][0]} PROPERTIES COMPILE_OPTIONS "${sources[0][1].join(";")}")`,
    "",
  ].join("\n"));
  writeFileSync(join(dir, "compile_commands.json"), JSON.stringify(sources.map(([src, extra]) => ({
    directory: dir, file: src, arguments: [cc, ...common, ...extra, "-c", src, "-o", join(dir, "obj", basename(src).replace(/\.c$/, ".o"))],
  })), null, 2) + "\n");
}

/** The bytes of linear memory the firmware reserves (wasm-rt-static.c): the end of the module's
 *  static buffers (its MEMORY_USED export, read from an instance: the module never touches
 *  memory above it, and an access above still traps), rounded up to 8; a module without that
 *  export, or one that needs imports, gets its pages. */
export function moduleMemoryBytes(wasm: Uint8Array, pages: number): number {
  try {
    const used = (new WebAssembly.Instance(new WebAssembly.Module(wasm as Uint8Array<ArrayBuffer>), {}).exports.MEMORY_USED as WebAssembly.Global | undefined)?.value;
    if (typeof used === "number" && used > 0 && used <= pages * 65536) return (used + 7) & ~7;
  } catch { /* imports, or no such export */ }
  return pages * 65536;
}

export const OBJECT_CACHE = join(REPO_DIR, "build", "boards", ".objects");

/**
 * Compiles one source, reusing an earlier object when the compiler, the flags and the
 * preprocessed source (without line markers, so the build directory does not matter) are
 * the same: the wasm2c output is most of a build's time and rarely changes between builds.
 */
function compileCached(cc: string, flags: string[], src: string, out: string): void {
  // what only steers the preprocessor is already in its output (and paths differ by build)
  const codeFlags = flags.filter((f, i) => !/^-(I|D|U)/.test(f) && f !== "-include" && flags[i - 1] !== "-include");
  const preprocessed = run(cc, [...flags, "-E", "-P", src]);
  const key = createHash("sha256").update(JSON.stringify([cc, codeFlags])).update(preprocessed).digest("hex").slice(0, 32);
  const cached = join(OBJECT_CACHE, `${key}.o`);
  if (existsSync(cached)) { copyFileSync(cached, out); return; }
  run(cc, [...flags, "-c", src, "-o", out]);
  mkdirSync(OBJECT_CACHE, { recursive: true });
  const tmp = `${cached}.${process.pid}.tmp`; // parallel builds: written aside, then renamed
  copyFileSync(out, tmp);
  renameSync(tmp, cached);
}

export function formatSize(r: BuildResult): string {
  const { size: s, board: b } = r;
  const pct = (a: number, t: number) => `${((100 * a) / t).toFixed(1)}%`;
  return `${b.name.padEnd(18)} flash ${String(s.flash).padStart(7)} B (${pct(s.flash, b.flashBytes)} of ${b.flashBytes})  RAM ${String(s.ram).padStart(7)} B (${pct(s.ram, b.ramBytes)} of ${b.ramBytes}; ${s.moduleMemoryBytes ? `module memory ${s.moduleMemoryBytes}, ` : ""}stack ${b.stackBytes})  text ${s.text} data ${s.data} bss ${s.bss}  [${r.seconds.toFixed(1)} s]`;
}

// ---------------------------------------------------------------------------------------
// The stand-in probe: proves the pipeline (wasm2c -> cross-compile -> QEMU) bit for bit.

export const PROBE_SOURCE = join(BOARDS_DIR, "testdata", "probe.ts");
export const PROBE_WASM = join(REPO_DIR, "build", "boards", "probe.wasm");

/** Compiles a stand-in module (boards/testdata/*.ts) with the release module's flags: no
 *  imports, one page of memory that cannot grow. */
export function buildProbeWasm(out = PROBE_WASM, source = PROBE_SOURCE): string {
  mkdirSync(dirname(out), { recursive: true });
  // --config: asc would otherwise apply ./asconfig.json (the controller's entries) too.
  execFileSync(process.execPath, [
    join(REPO_DIR, "node_modules", "assemblyscript", "bin", "asc.js"), source,
    "--config", join(BOARDS_DIR, "testdata", "asconfig.json"),
    "--runtime", "stub", "-O3", "--noAssert", "--use", "abort=", "--initialMemory", "1", "--maximumMemory", "1",
    "-o", out,
  ], { cwd: REPO_DIR, stdio: ["ignore", "inherit", "inherit"] });
  return out;
}

export interface ProbeReport {
  board: string;
  size: ImageSize;
  buildSeconds: number;
  runSeconds: number;
  samples: number;
  identical: boolean;
  difference: string | null;
  /** Instructions per step() call (mean, min, max) and how they were counted. */
  perCall?: { mean: number; min: number; max: number; method: string; calls: number; runSeconds: number };
}

export async function probeBoard(board: string, o: { samples?: number; bench?: boolean; unchecked?: boolean; quiet?: boolean } = {}): Promise<ProbeReport> {
  const { runQemu } = await import("./qemu.ts");
  const { testReadings, probeReference, sampleLines, firstDifference } = await import("./parity.ts");
  const wasm = existsSync(PROBE_WASM) ? PROBE_WASM : buildProbeWasm();
  const readings = testReadings(o.samples ?? 300);
  const expected = probeReference(readFileSync(wasm), readings);
  const built = buildBoard(board, { wasm, app: "probe", unchecked: o.unchecked, quiet: o.quiet });
  const run = await runQemu(built.board, built.elf, { adc: readings });
  if (run.code !== 0) throw new Error(`${board}: QEMU exited ${run.code}\n${run.stdout}\n${run.stderr}`);
  const actual = sampleLines(run.stdout);
  const difference = firstDifference(expected, actual);
  const report: ProbeReport = {
    board, size: built.size, buildSeconds: built.seconds, runSeconds: run.seconds, samples: readings.length,
    identical: difference === null, difference,
  };
  if (o.bench) {
    const bench = buildBoard(board, { wasm, app: "probe", bench: true, unchecked: o.unchecked, quiet: o.quiet });
    const r = await countInstructions(bench, readings);
    report.perCall = r;
  }
  return report;
}

/** Runs a bench build (bench: true) in QEMU and returns instructions per module call, counted
 *  the way the board's emulation says (minstret, plugin, or exec log). */
export async function countInstructions(bench: BuildResult, readings: Float32Array | string, method?: "minstret" | "plugin" | "exec-log", timeoutMs?: number) {
  const { runQemu, parseBench, countingPlugin } = await import("./qemu.ts");
  let counter = method ?? bench.board.emulation!.counter;
  if (counter === "plugin" && !countingPlugin()) counter = "exec-log";
  const r = await runQemu(bench.board, bench.elf, { adc: readings, icount: counter === "minstret", execLog: counter === "exec-log", plugin: counter === "plugin", timeoutMs });
  if (r.code !== 0) throw new Error(`${bench.board.name}: bench run exited ${r.code}\n${r.stderr}`);
  const label = { minstret: "minstret (-icount shift=0)", plugin: "TCG plugin (qemu-plugin/hgecount.c)", "exec-log": "exec log (-d exec,nochain -singlestep)" }[counter];
  if (counter === "minstret") {
    const b = parseBench(r.stdout);
    if (!b) throw new Error(`${bench.board.name}: no BENCH line in the output`);
    return { mean: b.mean, min: b.min, max: b.max, calls: b.calls, method: label, runSeconds: r.seconds, perCall: undefined as number[] | undefined, stdout: r.stdout };
  }
  const c = r.perCall ?? [];
  if (!c.length) throw new Error(`${bench.board.name}: no calls counted`);
  return { mean: c.reduce((a, b) => a + b, 0) / c.length, min: minOf(c), max: maxOf(c), calls: c.length, method: label, runSeconds: r.seconds, perCall: c, stdout: r.stdout };
}
