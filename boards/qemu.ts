// Runs a board's firmware in QEMU (semihosting for the console, the ADC file and the exit
// code) and counts instructions per call of the module.
import { spawn, spawnSync } from "node:child_process";
import { createReadStream, mkdtempSync, mkdirSync, renameSync, rmSync, writeFileSync, readFileSync, existsSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join, resolve } from "node:path";
import { createInterface } from "node:readline";
import { BOARDS_DIR, type Board } from "./boards.ts";

const PLUGIN_SOURCE = join(BOARDS_DIR, "qemu-plugin", "hgecount.c");
const PLUGIN_LIB = join(resolve(BOARDS_DIR, ".."), "build", "boards", "qemu-plugin", "libhgecount.so");

/** Builds the instruction-counting TCG plugin with the host C compiler (once); null when
 *  there is no host compiler. */
export function countingPlugin(): string | null {
  if (existsSync(PLUGIN_LIB) && statSync(PLUGIN_LIB).mtimeMs >= statSync(PLUGIN_SOURCE).mtimeMs) return PLUGIN_LIB;
  mkdirSync(join(PLUGIN_LIB, ".."), { recursive: true });
  const tmp = `${PLUGIN_LIB}.${process.pid}.tmp`; // built aside, then renamed: parallel tests
  for (const cc of ["cc", "gcc", "clang"]) {
    const r = spawnSync(cc, ["-shared", "-fPIC", "-O2", "-o", tmp, PLUGIN_SOURCE], { encoding: "utf8" });
    if (!r.error && r.status === 0) { renameSync(tmp, PLUGIN_LIB); return PLUGIN_LIB; }
  }
  return null;
}

/** Address ranges of the bench markers, from the ELF's symbol table. */
export function markerRanges(b: Board, elf: string): { begin: [number, number]; end: [number, number] } {
  const r = spawnSync(`${b.toolchain.prefix}nm`, ["-S", elf], { encoding: "utf8" });
  const find = (name: string): [number, number] => {
    const m = new RegExp(`^([0-9a-f]+) ([0-9a-f]+) T ${name}$`, "m").exec(r.stdout);
    if (!m) throw new Error(`${elf}: no symbol ${name} (build with bench: true)`);
    const lo = (parseInt(m[1], 16) & ~1) >>> 0; // Thumb bit
    return [lo, lo + parseInt(m[2], 16)];
  };
  return { begin: find("hge_bench_begin"), end: find("hge_bench_end") };
}

export interface RunOptions {
  /** Readings fed to the ADC (little-endian f32), or a path to such a file. */
  adc?: Float32Array | string;
  /** Exact instruction counting: -icount shift=0 (RISC-V minstret). */
  icount?: boolean;
  /** Log every executed instruction (-d exec,nochain -singlestep) and count between the
   *  bench markers; needs the ELF's symbols. Slow (a log line per instruction). */
  execLog?: boolean;
  /** Count between the bench markers with the TCG plugin (qemu-plugin/hgecount.c). */
  plugin?: boolean;
  /** Where the emulated UART goes (a QEMU chardev spec), default a file uart.log in the run dir. */
  serial?: string;
  timeoutMs?: number;
  /** Keep the run directory (for debugging). */
  keep?: boolean;
}

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
  uart: string;
  seconds: number;
  /** Instructions per call between the bench markers (execLog or plugin runs). */
  perCall?: number[];
  dir: string;
}

export function qemuCommand(b: Board, elf: string, o: RunOptions, dir: string): string[] {
  if (!b.emulation) throw new Error(`${b.name} is not emulated`);
  const args = [
    ...b.emulation.args,
    "-kernel", elf,
    "-semihosting-config", `enable=on,target=native,arg=${basename(elf)},arg=adc.bin`,
    "-serial", o.serial ?? `file:${join(dir, "uart.log")}`,
  ];
  if (o.icount || o.execLog) args.push("-icount", "shift=0");
  if (o.execLog) args.push("-d", "exec,nochain", "-singlestep", "-D", join(dir, "exec.log"));
  if (o.plugin) {
    const lib = countingPlugin();
    if (!lib) throw new Error("no host C compiler for the counting plugin; use execLog");
    const m = markerRanges(b, elf);
    args.push("-plugin", `${lib},begin=${m.begin[0]},begin_end=${m.begin[1]},end=${m.end[0]},end_end=${m.end[1]},out=${join(dir, "counts.txt")}`);
  }
  return [b.emulation.qemu, ...args];
}

/** How long runQemu lets a run go on unless told otherwise. */
export const QEMU_TIME_LIMIT_MS = 120_000;

export async function runQemu(b: Board, elf: string, o: RunOptions = {}): Promise<RunResult> {
  const dir = mkdtempSync(join(tmpdir(), `hge-${b.name}-`));
  try {
    if (o.adc instanceof Float32Array) writeFileSync(join(dir, "adc.bin"), new Uint8Array(o.adc.buffer, o.adc.byteOffset, o.adc.byteLength));
    else if (typeof o.adc === "string") writeFileSync(join(dir, "adc.bin"), readFileSync(o.adc));
    else writeFileSync(join(dir, "adc.bin"), new Uint8Array(0));
    const [cmd, ...args] = qemuCommand(b, elf, o, dir);
    const t0 = performance.now();
    const child = spawn(cmd, args, { cwd: dir, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "", stderr = "";
    child.stdout.setEncoding("utf8").on("data", (d) => (stdout += d));
    child.stderr.setEncoding("utf8").on("data", (d) => (stderr += d));
    const timeout = setTimeout(() => child.kill("SIGKILL"), o.timeoutMs ?? QEMU_TIME_LIMIT_MS);
    const code: number | null = await new Promise((res, rej) => {
      child.on("error", rej);
      child.on("close", (c) => res(c));
    });
    clearTimeout(timeout);
    const seconds = (performance.now() - t0) / 1000;
    const uartFile = join(dir, "uart.log");
    const uart = existsSync(uartFile) ? readFileSync(uartFile, "utf8") : "";
    const result: RunResult = { code, stdout, stderr, uart, seconds, dir };
    if (o.execLog) result.perCall = await countBetweenMarkers(join(dir, "exec.log"));
    if (o.plugin) result.perCall = readFileSync(join(dir, "counts.txt"), "utf8").split("\n").filter((l) => /^\d+$/.test(l)).map(Number);
    return result;
  } finally {
    if (!o.keep) rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Counts the instructions executed between hge_bench_begin returning and the call to
 * hge_bench_end, once per bracketed call: the argument load, the call, everything the callee
 * executes, and the result move (the same span minstret measures on RISC-V). With -singlestep every translation block is one
 * instruction and with nochain every block execution is logged, so one "Trace" line is one
 * executed instruction; QEMU names the function each one is in.
 */
export async function countBetweenMarkers(logFile: string): Promise<number[]> {
  const counts: number[] = [];
  let inside = false, n = 0, lastPc = "";
  const rl = createInterface({ input: createReadStream(logFile), crlfDelay: Infinity });
  for await (const line of rl) {
    if (!line.startsWith("Trace ")) continue;
    // "Trace 0: 0x7f.. [cs_base/pc/flags/cflags] symbol". A block that is entered but exits at
    // once (the vCPU was kicked: timer, I/O thread) is logged again when re-entered: the same
    // pc twice in a row. A one-instruction block cannot legitimately follow itself (that
    // would be a branch-to-self, an endless loop), so a repeat is dropped.
    const open = line.indexOf("[");
    const pc = line.slice(line.indexOf("/", open) + 1, line.indexOf("/", line.indexOf("/", open) + 1));
    if (pc === lastPc) continue;
    lastPc = pc;
    const sym = line.slice(line.lastIndexOf("]") + 2);
    if (sym === "hge_bench_begin") { inside = true; n = 0; continue; }
    if (!inside) continue;
    // n - 1: the last instruction before hge_bench_end is the call to it
    if (sym === "hge_bench_end") { counts.push(n - 1); inside = false; continue; }
    n++;
  }
  return counts;
}

/** Parses the firmware's "BENCH calls total_hi total_lo min max overhead" line (hex). */
export function parseBench(stdout: string): { calls: number; total: number; min: number; max: number; overhead: number; mean: number } | undefined {
  const m = /^BENCH ([0-9a-f]{8}) ([0-9a-f]{8}) ([0-9a-f]{8}) ([0-9a-f]{8}) ([0-9a-f]{8}) ([0-9a-f]{8})$/m.exec(stdout);
  if (!m) return undefined;
  const [calls, hi, lo, min, max, overhead] = m.slice(1).map((h) => parseInt(h, 16));
  const total = hi * 2 ** 32 + lo;
  return { calls, total, min, max, overhead, mean: total / calls };
}
