// Board definitions, the module checker, and the firmware pipeline on the emulated boards:
// the stand-in probe module (boards/testdata/probe.ts) run through wasm2c, cross-compiled,
// and executed in QEMU must print exactly what Node prints for the same readings.
// The board toolchain (Debian packages) is installed by boards/install.sh when missing.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, lstatSync, mkdtempSync, mkdirSync, readdirSync, readFileSync, realpathSync, symlinkSync, writeFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { emulatedBoards, listBoards, loadBoard, resolveBoardJson, mergeBoard, electrodeRanges, checkModule, largestControls, type Board } from "../boards/boards.ts";
import { parseWasm, maxCallDepth } from "../boards/wasm.ts";
import { buildBoard, buildProbeWasm, callDepthBounded, countInstructions, ensureToolchain, generateApiHeader, wasm2cExports, toolchainAvailable, ToolchainMissing, REPO_DIR } from "../boards/build.ts";
import { runQemu, parseBench } from "../boards/qemu.ts";
import { UsageError } from "../host/errors.ts";
import * as L from "../assembly/layout.ts";
import { Controller } from "../host/controller.ts";
import { AnalyticDevice } from "../host/devices/analytic.ts";
import { analyticConfig } from "./fixtures.ts";
import { encodeFrame, generateLinkHeader } from "../boards/link.ts";
import { testReadings, probeReference, sampleLines, firstDifference } from "../boards/parity.ts";

// ---------------------------------------------------------------------------------------
// Set-up: the probe module, and the toolchain (installed when missing, and said so).
const probeWasm = buildProbeWasm(join(REPO_DIR, "build", "boards", "test", "probe.wasm"));
const probeBytes = readFileSync(probeWasm);
let noToolchain: string | false = false;
try { ensureToolchain(); }
catch (e) { noToolchain = `board toolchain unavailable and not installable here: ${(e as Error).message}`; }
if (noToolchain) process.stderr.write(`boards.test: skipping the QEMU tests: ${noToolchain}\n`);
const work = mkdtempSync(join(tmpdir(), "hge-boards-test-"));
process.on("exit", () => rmSync(work, { recursive: true, force: true }));
const out = (name: string) => join(work, name);

// ---------------------------------------------------------------------------------------
// A few WebAssembly binaries made by hand for the checker.
const leb = (n: number): number[] => { const b: number[] = []; do { let x = n & 0x7f; n >>>= 7; if (n) x |= 0x80; b.push(x); } while (n); return b; };
const section = (id: number, body: number[]) => [id, ...leb(body.length), ...body];
const str = (s: string) => [...leb(s.length), ...Buffer.from(s)];
function wasmModule(o: { memory?: number[]; body?: number[]; imports?: number[] }): Uint8Array {
  const bytes = [0, 0x61, 0x73, 0x6d, 1, 0, 0, 0,
    ...section(1, [1, 0x60, 0, 0]), // type 0: () -> ()
    ...(o.imports ? section(2, o.imports) : []),
    ...section(3, [1, 0]),
    ...(o.memory ? section(5, [1, ...o.memory]) : []),
    ...section(7, [1, ...str("run"), 0, o.imports ? 1 : 0]),
    ...section(10, [1, ...leb((o.body ?? [0x0b]).length + 1), 0, ...(o.body ?? [0x0b])]),
  ];
  const u = new Uint8Array(bytes);
  assert.ok(WebAssembly.validate(u), "hand-made module must be valid");
  return u;
}

// ---------------------------------------------------------------------------------------
test("every board file resolves and validates; the emulated ones are there", () => {
  const boards = listBoards();
  for (const b of ["mps2-an386", "virt-rv32", "stm32f4-discovery", "rp2040", "esp32-c3", "esp32", "mps2-an386-m0plus", "virt-rv32imc"]) assert.ok(boards.includes(b), b);
  for (const core of ["cortex-m4f", "cortex-m0plus", "rv32imafc", "rv32imc"]) {
    assert.ok(!boards.includes(core), `${core} is abstract`);
    assert.throws(() => loadBoard(core), /abstract/);
  }
  for (const n of boards) loadBoard(n);
  // the parity tests run on each of these (emulatedBoards()): none may drop out unnoticed
  assert.deepEqual(emulatedBoards(), ["mps2-an386", "mps2-an386-m0plus", "virt-rv32", "virt-rv32imc"]);
  const mps2 = loadBoard("mps2-an386");
  assert.deepEqual(mps2.chain, ["cortex-m4f", "mps2-an386"]);
  assert.equal(mps2.core, "cortex-m4");
  assert.equal(mps2.fpu, "fpv4-sp-d16");
  assert.equal(mps2.emulation?.qemu, "qemu-system-arm");
  assert.deepEqual(mps2.firmware.startup, ["cortex-m/startup.c"]);
  const rp = loadBoard("rp2040");
  assert.equal(rp.fpu, null);
  assert.ok(rp.toolchain.arch.includes("-mfloat-abi=soft") && rp.toolchain.arch.includes("-mcpu=cortex-m0plus"));
  assert.equal(rp.emulation, null);
  // the M0+ counting proxy: the machine from mps2-an386, the core from cortex-m0plus
  const proxy = loadBoard("mps2-an386-m0plus");
  assert.equal(proxy.core, "cortex-m0plus");
  assert.deepEqual(proxy.toolchain.arch, rp.toolchain.arch);
  assert.equal(proxy.emulation?.args[1], "mps2-an386");
  assert.deepEqual(proxy.firmware.startup, ["cortex-m/startup.c"], "file lists keep one copy");
  assert.equal(loadBoard("virt-rv32").toolchain.arch.join(" "), "-march=rv32imafc -mabi=ilp32f -mcmodel=medany");
});

test("inheritance: later keys override, objects merge, flag lists append, cycles are refused", () => {
  const dir = out("boards-fixture");
  mkdirSync(dir, { recursive: true });
  const base = JSON.parse(readFileSync(join(REPO_DIR, "boards", "mps2-an386.json"), "utf8"));
  const write = (name: string, json: object) => writeFileSync(join(dir, `${name}.json`), JSON.stringify(json));
  write("core-a", { abstract: true, core: "a", isa: "a", fpu: null, floatAbi: "soft", runtime: "wasm2c", module: "full", toolchain: { prefix: "x-", arch: ["-ma"], cflags: ["-DA"], ldflags: [], libs: ["-lc"] }, firmware: { startup: ["s.c"], ldscript: "l.ld", sources: ["a.c"] } });
  write("chip-b", { abstract: true, inherits: ["core-a"], core: "b", toolchain: { arch: ["-mb"], cflags: ["-DB"] }, firmware: { sources: ["b.c", "a.c"] } });
  const { inherits: _drop, description: _d, toolchain: _t, firmware: _f, ...fields } = base;
  write("board-c", { inherits: ["chip-b"], description: "c", ...fields, toolchain: { cflags: ["-DC"] }, dac: { ...base.dac, bits: 12 } });
  const c = loadBoard("board-c", dir);
  assert.deepEqual(c.chain, ["core-a", "chip-b", "board-c"]);
  assert.equal(c.core, "b", "a later key overrides");
  assert.equal(c.floatAbi, "soft", "an untouched key is inherited");
  assert.deepEqual(c.toolchain.arch, ["-mb"], "arch is replaced");
  assert.deepEqual(c.toolchain.cflags, ["-DA", "-DB", "-DC"], "cflags accumulate");
  assert.equal(c.toolchain.prefix, "x-", "objects merge key by key");
  assert.deepEqual(c.firmware.sources, ["a.c", "b.c"], "file lists accumulate, one copy each");
  assert.deepEqual(c.dac, { ...base.dac, bits: 12 });
  assert.equal(resolveBoardJson("chip-b", dir).json.abstract, true);
  write("loop-1", { inherits: ["loop-2"] });
  write("loop-2", { inherits: ["loop-1"] });
  assert.throws(() => loadBoard("loop-1", dir), /cycle/);
  assert.throws(() => loadBoard("nope", dir), /no such board/);
  assert.deepEqual(mergeBoard({ a: { b: 1, c: [1] } }, { a: { c: [2] } }), { a: { b: 1, c: [2] } });
  // validation
  write("bad-range", { inherits: ["board-c"], electrodeSafeV: { minV: -20, maxV: 1, parkV: 0 } });
  assert.throws(() => loadBoard("bad-range", dir), /outside the DAC/);
  write("bad-park", { inherits: ["board-c"], electrodes: [{ channel: 2, parkV: 5 }] });
  assert.throws(() => loadBoard("bad-park", dir), /parkV/);
  write("bad-module", { inherits: ["board-c"], module: "tiny" });
  assert.throws(() => loadBoard("bad-module", dir), /module must be "full" \(build\/hge\.wasm\) or "core" \(build\/hge-core\.wasm\), got "tiny"/);
  write("bad-channel", { inherits: ["board-c"], electrodes: [{ channel: 99 }] });
  assert.throws(() => loadBoard("bad-channel", dir), /channel 99/);
  write("override", { inherits: ["board-c"], electrodes: [{ channel: 1, name: "gate", minV: 0, maxV: 1, parkV: 0.5 }] });
  const ranges = electrodeRanges(loadBoard("override", dir));
  assert.equal(ranges.length, base.dac.channels);
  assert.deepEqual(ranges[1], { minV: 0, maxV: 1, parkV: 0.5 });
  assert.deepEqual(ranges[0], base.electrodeSafeV);
});

test("wasm reader: the probe's exports, globals and features (agrees with wasm-objdump)", () => {
  const m = parseWasm(probeBytes);
  assert.deepEqual(m.imports, []);
  assert.deepEqual(m.memories, [{ min: 1, max: 1, shared: false, memory64: false }]);
  assert.deepEqual([...m.features].sort(), ["bulk-memory", "nontrapping-f2i", "sign-extension"]);
  assert.equal(m.ops.f64, 0);
  assert.ok(m.ops.f32 > 20);
  const names = m.exports.map((e) => `${e.kind}:${e.name}`).sort();
  assert.deepEqual(names, ["func:process", "func:reset", "func:step", "global:CHANNELS", "global:HISTORY", "global:OUT", "global:STATE", "memory:memory"]);
  const objdump = spawnSync("wasm-objdump", ["-d", probeWasm], { encoding: "utf8" });
  if (objdump.status === 0) {
    const text = objdump.stdout;
    assert.equal(/memory\.(copy|fill)/.test(text), m.features.has("bulk-memory"));
    assert.equal(/extend(8|16)_s/.test(text), m.features.has("sign-extension"));
    assert.equal(/trunc_sat/.test(text), m.features.has("nontrapping-f2i"));
    assert.equal(/v128|i8x16|f32x4/.test(text), m.features.has("simd"));
  }
});

test("wasm reader: the deepest chain of calls, none where the module can recurse; a board build leaves wasm2c's depth counter out only then", () => {
  // functions of type () -> (), the first exported; `table` adds a funcref table for call_indirect
  const functions = (bodies: number[][], table = false) => {
    const code = bodies.map((b) => [...leb(b.length + 2), 0, ...b, 0x0b]).flat();
    const u = new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0,
      ...section(1, [1, 0x60, 0, 0]), ...section(3, [bodies.length, ...bodies.map(() => 0)]),
      ...(table ? section(4, [1, 0x70, 0, 1]) : []),
      ...section(7, [1, ...str("run"), 0, 0]), ...section(10, [bodies.length, ...code])]);
    assert.ok(WebAssembly.validate(u), "hand-made module must be valid");
    return parseWasm(u);
  };
  const call = (f: number) => [0x10, f];
  const chain = functions([[...call(1), ...call(2)], [...call(2), ...call(2)], []]);
  assert.deepEqual(chain.callees, [[1, 2], [2, 2], []]);
  assert.equal(maxCallDepth(chain), 3);
  assert.equal(callDepthBounded(chain), true);
  for (const [what, m] of [
    ["itself", functions([call(0)])],
    ["a cycle of two", functions([call(1), [...call(2), ...call(0)], []])],
    ["call_indirect", functions([[0x41, 0, 0x11, 0, 0]], true)],
    ["an import, which may call back in", parseWasm(wasmModule({ imports: [1, ...str("env"), ...str("f"), 0, 0], body: [0x10, 0, 0x0b] }))],
  ] as const) {
    assert.equal(maxCallDepth(m), undefined, what);
    assert.equal(callDepthBounded(m), false, what);
  }
  // each build of the controller: no recursion, a short deepest chain
  for (const file of ["hge.wasm", "hge-core.wasm"]) {
    const depth = maxCallDepth(parseWasm(readFileSync(join(REPO_DIR, "build", file))));
    assert.ok(depth !== undefined && depth >= 2 && depth <= 10, `${file}: ${depth}`);
  }
});

test("checker: pages, growth, imports, SIMD, soft float, RAM, largest control count", () => {
  const mps2 = loadBoard("mps2-an386"), rp = loadBoard("rp2040"), stm = loadBoard("stm32f4-discovery");
  const ok = checkModule(mps2, probeBytes);
  assert.ok(ok.ok, ok.errors.join("; "));
  assert.deepEqual(ok.warnings, []);
  assert.equal(ok.facts.pages, 1);
  assert.match(checkModule(rp, probeBytes).warnings.join(), /no FPU/);
  const simd = checkModule(mps2, wasmModule({ memory: [1, 1, 1], body: [0xfd, 0x0c, ...new Array(16).fill(0), 0x1a, 0x0b] }));
  assert.ok(!simd.ok);
  assert.match(simd.errors.join(), /simd/);
  // two pages: the firmware reserves what the module uses, where the board's RAM holds it
  const twoPages = wasmModule({ memory: [1, 2, 2] });
  assert.ok(checkModule(mps2, twoPages).ok);
  assert.match(checkModule({ ...mps2, ramBytes: 100_000 }, twoPages).errors.join(), /module memory \(131072 B\).*exceed/);
  const growable = checkModule(mps2, wasmModule({ memory: [0, 1] }));
  assert.ok(growable.ok);
  assert.match(growable.warnings.join(), /may grow \(maximum none\); memory.grow fails/);
  const importing = checkModule(mps2, wasmModule({ memory: [1, 1, 1], imports: [1, ...str("env"), ...str("abort"), 0, 0] }));
  assert.match(importing.errors.join(), /imports env\.abort/);
  const f64 = checkModule(stm, wasmModule({ memory: [1, 1, 1], body: [0x44, 0, 0, 0, 0, 0, 0, 0xf0, 0x3f, 0x1a, 0x0b] }));
  assert.match(f64.warnings.join(), /f64/);
  // RAM: an image larger than the board
  const tooBig = checkModule(stm, probeBytes, { image: { text: 1000, data: 0, bss: 200_000, flash: 1000, ram: 200_000, moduleMemoryBytes: 65536 } });
  assert.match(tooBig.errors.join(), /RAM/);
  // largest control count: bounded by the page, the RAM left, and the DAC
  const layout = { fixedBytes: 4096, bytesPerControl: 512, maxControls: 128 };
  assert.equal(largestControls(mps2, layout, 10_000), mps2.dac.channels);
  const wide: Board = { ...mps2, dac: { ...mps2.dac, channels: 256 } };
  assert.equal(largestControls(wide, layout, 10_000), 120); // (65536 - 4096) / 512
  assert.equal(largestControls({ ...wide, ramBytes: 40_000 }, layout, 10_000), 50); // (30000 - 4096) / 512
  assert.equal(checkModule(wide, probeBytes, { layout }).facts.largestControls, 120);
});

test("generated C surface: wasm2c's exports become hge_* wrappers and HGE_* constants", () => {
  const header = "/* export: 'step' */\nu32 Z_hgeZ_step(Z_hge_instance_t*, f32);\n\n/* export: 'OUT' */\nu32* Z_hgeZ_OUT(Z_hge_instance_t* instance);\n\n/* export: 'load' */\nu32 Z_hgeZ_load(Z_hge_instance_t*, u32);\n/* export: 'tick' */\nvoid Z_hgeZ_tick(Z_hge_instance_t*);\n/* export: 'USED' */\nu32* Z_hgeZ_USED(Z_hge_instance_t* instance);\n";
  assert.deepEqual(wasm2cExports(header).map((e) => e.name), ["step", "OUT", "load", "tick", "USED"]);
  const api = generateApiHeader("x.wasm", header, { OUT: 1408, CONFIG: 64, USED: 0 }, new Set(["USED"]));
  assert.doesNotMatch(api, /HGE_USED/, "a mutable global is no constant");
  assert.match(api, /static inline uint32_t hge_USED\(void\) \{ return \*Z_hgeZ_USED\(&hge_instance\); \}/);
  assert.match(api, /#define HGE_OUT 1408u/);
  assert.match(api, /#define HGE_CONFIG 64u/);
  assert.match(api, /static inline uint32_t hge_step\(float a0\) \{ return Z_hgeZ_step\(&hge_instance, a0\); \}/);
  assert.match(api, /static inline uint32_t hge_load\(uint32_t a0\)/);
  assert.match(api, /static inline void hge_tick\(void\) \{ Z_hgeZ_tick\(&hge_instance\); \}/);
});

test("hge.h: hge_config() is said to be the staging block, and the typed views' counts the last accepted block's (a refused block stays at CONFIG)", () => {
  const api = generateApiHeader("hge.wasm", "", { CONFIG: 1024, STATUS: 22208, WEIGHTS: 28976 }, new Set(), "/* layout */");
  assert.doesNotMatch(api, /hge_config\(\)->control_count/, "the staging block's counts are not the running configuration's");
  assert.match(api, /hge_config_t \*hge_config\(void\)/);
  assert.match(api, /A staging block:[^]*only when it accepts it/);
  assert.match(api, /the last block hge_configure\(\) accepted/);
  // what it says, in Node: a refused block is left where it was written, the running configuration unchanged
  const device = new AnalyticDevice();
  const c = new Controller();
  c.configure(analyticConfig(device));
  const e = c.exports, words = new Int32Array(e.memory.buffer, e.CONFIG.value as number, L.CONFIG_WORDS);
  words[L.Field.ControlCount] = device.controlCount + 3;
  words[L.Field.Version] = 99;
  assert.equal((e.configure as () => number)(), L.Field.Version);
  assert.equal(words[L.Field.ControlCount], device.controlCount + 3, "hge_config()->control_count: the refused block's");
  assert.equal((e.save as () => number)(), 4 * (5 + L.LEARNED_STATUS_WORDS + 3 * device.controlCount + 1), "the module runs the accepted block's controls");
});

test("boards/README's recipe for hge inside another firmware steps the module in the device unit and ramps from the DACs' power-on voltages (as app_hge.c)", () => {
  const readme = readFileSync(join(REPO_DIR, "boards", "README.md"), "utf8");
  const recipe = readme.slice(readme.indexOf("To run hge inside another firmware"), readme.indexOf("### The emulated boards' I/O"));
  const app = readFileSync(join(REPO_DIR, "boards", "firmware", "app_hge.c"), "utf8");
  assert.match(app, /hge_step\(volts \* HGE_ADC_UNIT_PER_V\)/, "the adapter scales ADC volts to the device unit");
  assert.match(recipe, /hge_step\(volts_read \* HGE_ADC_UNIT_PER_V\)/, "the recipe steps with the reading in the device unit, not ADC volts");
  assert.match(app, /memcpy\(hge_electrodes\(\), park_v[^]*app_configure\(hge_config_block/, "app_init() tells the module the power-on voltages and configures again");
  assert.match(recipe, /power-on voltages at `HGE_ELECTRODES`[^]*`hge_configure\(\)` again/, "the recipe does too (a first configuration's voltages are written as they are)");
});

const hostCc = spawnSync("cc", ["--version"]).status === 0 ? false : "no host C compiler (cc)";
test("frame.c writes every byte of a frame through a hal_uart_write that takes fewer than it is given (hal.h: it returns the number written)", { skip: hostCc }, () => {
  const dir = mkdtempSync(join(tmpdir(), "hge-frame-"));
  try {
    writeFileSync(join(dir, "link_protocol.h"), generateLinkHeader());
    // a transmit buffer with room for 3 bytes at a time, full every other call
    writeFileSync(join(dir, "test.c"), `#include <stdio.h>
#include "frame.h"
static int calls;
int hal_uart_write(const void *buf, int len) {
  if (calls++ % 2) return 0;
  int n = len < 3 ? len : 3;
  for (int i = 0; i < n; i++) printf("%02x", ((const unsigned char *)buf)[i]);
  return n;
}
int main(void) {
  static const unsigned char payload[10] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 };
  hge_frame_send(0x86, payload, 10);
  printf(" ");
  static const unsigned int a[2] = { 0x11223344u, 5u }, b[1] = { 0xa5a5a5a5u };
  const hal_words parts[2] = { { a, 2 }, { b, 1 } };
  hge_frame_send_words(0x84, parts, 2);
  return 0;
}
`);
    const exe = join(dir, "test");
    const built = spawnSync("cc", ["-std=gnu11", "-I", dir, "-I", join(REPO_DIR, "boards", "firmware"), join(dir, "test.c"), join(REPO_DIR, "boards", "firmware", "frame.c"), "-o", exe], { encoding: "utf8" });
    assert.equal(built.status, 0, built.stderr);
    const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString("hex");
    const words = new Uint8Array(new Uint32Array([0x11223344, 5, 0xa5a5a5a5]).buffer);
    const expected = `${hex(encodeFrame(0x86, Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9, 10])))} ${hex(encodeFrame(0x84, words))}`;
    assert.equal(spawnSync(exe, { encoding: "utf8" }).stdout, expected);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

// ---------------------------------------------------------------------------------------
// On the emulated boards.
const readings = testReadings(300);
const expected = probeReference(probeBytes, readings);
const skip = { skip: noToolchain };

for (const board of emulatedBoards()) {
  test(`${board}: the probe is bit-identical to Node (300 samples with NaN, Inf, subnormals)`, skip, async () => {
    const built = buildBoard(board, { wasm: probeWasm, app: "probe", out: out(`${board}-parity`), quiet: true });
    assert.ok(built.check.ok, built.check.errors.join("; "));
    assert.ok(built.size.flash > 1000 && built.size.flash < 64 * 1024, `flash ${built.size.flash}`);
    assert.ok(built.size.ram >= 65536 + built.board.stackBytes, "RAM holds the module memory and the stack");
    const r = await runQemu(built.board, built.elf, { adc: readings, timeoutMs: 60_000 });
    assert.equal(r.code, 0, r.stderr);
    const diff = firstDifference(expected, sampleLines(r.stdout));
    assert.equal(diff, null, diff ?? "");
    assert.equal(r.uart, "hge: ready\n", "the UART driver works");
  });
}

test("instruction counts: minstret on RV32, the TCG plugin on Arm, cross-checked against the exec log", skip, async () => {
  const few = readings.subarray(0, 48);
  // RISC-V: minstret per call (HGE_BENCH_TRACE prints each) against the plugin's count of the
  // same calls: the plugin's span also holds the two counter reads.
  const rv = buildBoard("virt-rv32", { wasm: probeWasm, app: "probe", bench: true, cflags: ["-DHGE_BENCH_TRACE"], out: out("rv-bench"), quiet: true });
  const r = await runQemu(rv.board, rv.elf, { adc: few, icount: true });
  assert.equal(r.code, 0);
  const minstret = r.stdout.split("\n").filter((l) => l.startsWith("B ")).map((l) => parseInt(l.slice(2), 16));
  assert.equal(minstret.length, few.length);
  const bench = parseBench(r.stdout)!;
  assert.equal(bench.calls, few.length);
  assert.equal(bench.overhead, 1);
  const viaPlugin = await countInstructions(rv, few, "plugin");
  assert.deepEqual(viaPlugin.perCall, minstret.map((n) => n + 2));
  const viaLog = await countInstructions(rv, few, "exec-log");
  assert.deepEqual(viaLog.perCall, viaPlugin.perCall);
  // Arm: the plugin and the exec log agree call for call
  const arm = buildBoard("mps2-an386", { wasm: probeWasm, app: "probe", bench: true, out: out("arm-bench"), quiet: true });
  const a1 = await countInstructions(arm, few, "plugin");
  const a2 = await countInstructions(arm, few, "exec-log");
  assert.deepEqual(a1.perCall, a2.perCall);
  assert.ok(a1.mean > 500 && a1.mean < 5000, `arm ${a1.mean}`);
  assert.ok(bench.mean > 500 && bench.mean < 5000, `rv ${bench.mean}`);
  process.stderr.write(`boards.test: probe step(): ${a1.mean.toFixed(1)} instructions per call on mps2-an386, ${bench.mean.toFixed(1)} on virt-rv32\n`);
});

// The trap module reads at its reading + 2048 (the offset in the instruction): 63484 reads the
// last 4 bytes of the 64 KiB page; 63485 runs past it; 2^32 - 1024 carries, and a wrapped sum
// would read address 1024
test("a trap in the module parks the outputs, reports, and exits non-zero (Node throws): past the end, and where the address's sum carries", skip, async () => {
  const trapWasm = buildProbeWasm(join(REPO_DIR, "build", "boards", "test", "trap.wasm"), join(REPO_DIR, "boards", "testdata", "trap.ts"));
  for (const board of ["mps2-an386", "virt-rv32"]) {
    const built = buildBoard(board, { wasm: trapWasm, app: "probe", out: out(`${board}-trap`), quiet: true });
    assert.equal((await runQemu(built.board, built.elf, { adc: new Float32Array([0, 63484]) })).code, 0, `${board}: the last 4 bytes are read`);
    for (const last of [63485, 2 ** 32 - 1024]) {
      const adc = new Float32Array([0, 63484, last]);
      assert.equal(adc[2], last, "exact in f32");
      const { exports } = new WebAssembly.Instance(new WebAssembly.Module(readFileSync(trapWasm)), {}) as any;
      exports.step(adc[0]);
      exports.step(adc[1]);
      assert.throws(() => exports.step(adc[2]), /out of bounds/);
      const r = await runQemu(built.board, built.elf, { adc });
      assert.equal(r.code, 65, `${board}, ${last}: exit 64 + WASM_RT_TRAP_OOB`);
      const lines = r.stdout.trim().split("\n");
      assert.equal(lines.at(-1), "TRAP 00000001 out-of-bounds memory access");
      const park = loadBoard(board).electrodeSafeV.parkV;
      assert.equal(lines.at(-2), ["00000000", ...new Array(built.board.dac.channels).fill(Buffer.from(new Float32Array([park]).buffer).readUInt32LE(0).toString(16).padStart(8, "0"))].join(" "));
    }
  }
});

test("the defined (not emulated) boards build, fit, and report their size", skip, () => {
  for (const board of ["stm32f4-discovery", "rp2040", "esp32-c3", "esp32"]) {
    const b = loadBoard(board);
    if (!toolchainAvailable(b)) {
      assert.ok(b.toolchain.optional, `${board}: its compiler is part of the Debian set`);
      assert.throws(() => buildBoard(b, { wasm: probeWasm, app: "probe", out: out(board), quiet: true }), ToolchainMissing);
      process.stderr.write(`boards.test: ${board} not built: ${b.toolchain.prefix}gcc is not installed (vendor toolchain)\n`);
      continue;
    }
    const built = buildBoard(b, { wasm: probeWasm, app: "probe", out: out(board), quiet: true });
    assert.ok(built.check.ok, built.check.errors.join("; "));
    assert.ok(built.size.flash <= b.flashBytes && built.size.ram <= b.ramBytes);
    const elf = readFileSync(built.elf);
    assert.equal(elf.subarray(0, 4).toString("latin1"), "\x7fELF");
  }
});

test("a board file's module build is the one built in (full or core); --wasm overrides it", skip, () => {
  const mps2 = loadBoard("mps2-an386");
  assert.equal(mps2.module, "full");
  const sizeOf = (built: { dir: string }) => JSON.parse(readFileSync(join(built.dir, "size.json"), "utf8"));
  const core = buildBoard({ ...mps2, module: "core" }, { out: out("module-core"), quiet: true });
  assert.equal(sizeOf(core).wasm, join(REPO_DIR, "build", "hge-core.wasm"));
  assert.ok(core.check.ok, core.check.errors.join("; "));
  const full = buildBoard(mps2, { out: out("module-full"), quiet: true });
  assert.equal(sizeOf(full).wasm, join(REPO_DIR, "build", "hge.wasm"));
  assert.ok(core.size.flash < full.size.flash, `core ${core.size.flash} B of flash, full ${full.size.flash}`);
  assert.equal(sizeOf(buildBoard({ ...mps2, module: "core" }, { wasm: probeWasm, app: "probe", out: out("module-given"), quiet: true })).wasm, probeWasm);
});

test("the M4F's firmware fits 48 KiB of RAM in every entry (issue 12 §4)", skip, async () => {
  const { firmwareSizes } = await import("../boards/measure.ts");
  const f = await firmwareSizes();
  for (const [entry, size] of Object.entries(f.entries)) {
    assert.ok(size.ram <= 48 * 1024, `${f.board} ${entry}: ${size.ram} B of RAM`);
    assert.equal(size.ram, size.moduleMemory + size.stack + size.staticData);
  }
});

test("hge.h and board_config.h are generated with the build", skip, () => {
  const built = buildBoard("mps2-an386", { wasm: probeWasm, app: "probe", out: out("gen-check"), quiet: true });
  const api = readFileSync(join(built.dir, "gen", "hge.h"), "utf8");
  assert.match(api, /#define HGE_OUT 1408u/);
  assert.match(api, /hge_step\(float a0\)/);
  const cfg = readFileSync(join(built.dir, "gen", "board_config.h"), "utf8");
  assert.match(cfg, /#define HGE_CLOCK_HZ 25000000u/);
  assert.match(cfg, /#define HGE_PARK_VOLTS \{ 0\.0f(, 0\.0f){7} \}/);
  const size = JSON.parse(readFileSync(join(built.dir, "size.json"), "utf8"));
  assert.equal(size.flash, built.size.flash);
  // the probe cannot recurse: wasm2c's per-call depth counter is left out (callDepthBounded)
  assert.match(readFileSync(join(built.dir, "flags.txt"), "utf8"), /^CFLAGS=.* -DWASM_RT_USE_STACK_DEPTH_COUNT=0( |$)/m);
});

test("a build directory another live process uses is refused however it is spelled (through a link, before the build made it); a claim whose pid now belongs to another process is stale", skip, async () => {
  const { spawn } = await import("node:child_process");
  mkdirSync(out("claimed-real"));
  symlinkSync(out("claimed-real"), out("claimed-link"));
  const held = join(out("claimed-link"), "build"); // (does not exist yet)
  // another process builds there and stays alive
  const holder = spawn(process.execPath, ["--import", "tsx", "--input-type=module", "-e",
    `import { buildBoard } from "./boards/build.ts"; buildBoard("mps2-an386", { wasm: ${JSON.stringify(probeWasm)}, app: "probe", out: ${JSON.stringify(held)}, quiet: true }); console.log("built"); setInterval(() => {}, 1000);`],
  { cwd: REPO_DIR, stdio: ["ignore", "pipe", "inherit"] });
  try {
    await new Promise<void>((resolve, reject) => { holder.stdout.on("data", () => resolve()); holder.on("exit", (code) => reject(new Error(`holder exited ${code}`))); });
    for (const spelling of [held, join(out("claimed-real"), "build")]) {
      assert.throws(() => buildBoard("mps2-an386", { wasm: probeWasm, app: "probe", out: spelling, quiet: true }),
        (e: unknown) => e instanceof UsageError && e.message === `${spelling} is in use by another hge process (pid ${holder.pid}), which builds or runs its firmware there; wait for it to end, or give another directory`);
    }
    // the holder's claim, as if its pid now were another process's (one that started at another time)
    const claims = join(REPO_DIR, "build", "boards", ".claims");
    const claim = readdirSync(claims).map((name) => join(claims, name)).find((file) => file.endsWith(`.${holder.pid}`) && readFileSync(file, "utf8").startsWith(`${realpathSync(out("claimed-real"))}/build\n`))!;
    const [dir, kind] = readFileSync(claim, "utf8").split("\n");
    writeFileSync(claim, `${dir}\n${kind}\n1\n`);
    const built = buildBoard("mps2-an386", { wasm: probeWasm, app: "probe", out: held, quiet: true });
    assert.equal(built.dir, realpathSync(held));
    assert.ok(!existsSync(claim), "the stale claim is gone");
  } finally {
    holder.kill();
  }
});

test("--out a symbolic link to an earlier build: the build goes where the link leads, the link kept (it was replaced by a directory)", skip, () => {
  const first = buildBoard("mps2-an386", { wasm: probeWasm, app: "probe", out: out("linked-build"), quiet: true });
  symlinkSync(first.dir, out("link-to-build"));
  rmSync(first.elf);
  const again = buildBoard("mps2-an386", { wasm: probeWasm, app: "probe", out: out("link-to-build"), quiet: true });
  assert.ok(lstatSync(out("link-to-build")).isSymbolicLink());
  assert.equal(again.elf, first.elf);
  assert.ok(existsSync(first.elf));
});

test("a board whose ADC is unipolar (0–3.3 V) is read so: the chain hge simulates for it saturates at 0 nA, and its standalone configuration's reading limits are 0 and 33 nA (they were ±33: a negative current pinned at the converter's 0 nA was never counted saturated)", async () => {
  const { boardChain } = await import("../boards/boards.ts");
  const { standaloneConfiguration } = await import("../boards/standalone.ts");
  const { ChainReading, readingLimits } = await import("../host/cosim.ts");
  const { chainModel } = await import("../host/train.ts");
  const { DopantNetwork } = await import("../host/devices/dopant.ts");
  for (const [name, limits] of [["stm32f4-discovery", { min: 0, max: 33 }], ["rp2040", { min: 0, max: 33 }], ["esp32-c3", { min: 0, max: 25 }], ["mps2-an386", { min: -320, max: 320 }]] as const) {
    const board = loadBoard(name);
    const chain = chainModel(boardChain(board, DopantNetwork.default()), undefined);
    assert.deepEqual(readingLimits(chain), limits, name);
    assert.deepEqual(standaloneConfiguration(name, { task: "and" }).config.reading, limits, name);
    // a steady output, read once the low-pass has settled: below the range it reads the range's end
    const read = (output: number) => {
      const reading = new ChainReading(chain);
      let value = 0;
      for (let i = 0; i < 200; i++) value = reading.next(output);
      return value;
    };
    const step = (limits.max - limits.min) / 2 ** board.adc.bits;
    for (const output of [-5, 5]) assert.ok(Math.abs(read(output) - Math.max(output, limits.min)) < step, `${name}: ${output} nA read ${read(output)}`);
  }
});
