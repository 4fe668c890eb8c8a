// `hge board ...` (boards/cli.ts): every failure is one readable line with the right exit
// code, at once (no board is booted, nothing is built): a CommanderError (the root program
// exits 2), a UsageError (exit 2) or a TrainConfigError (exit 3) from host/errors.ts. Also the
// refusals of trainOnBoard that come before any build (a device the board cannot drive, a
// task the device does not fit). Runs in a few seconds; no toolchain needed.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Command, CommanderError } from "commander";
import { MAX_CONTROLS } from "../assembly/layout.ts";
import { TrainConfigError, UsageError } from "../host/errors.ts";
import { AnalyticDevice } from "../host/devices/analytic.ts";
import { DopantNetwork } from "../host/devices/dopant.ts";
import { sphereTask } from "../host/tasks/sphere.ts";
import { irisTask } from "../host/tasks/iris.ts";
import { listBoards, loadBoard } from "../boards/boards.ts";
import { boardCommand } from "../boards/cli.ts";
import { ToolchainMissing } from "../boards/build.ts";
import { trainOnBoard } from "../boards/hil.ts";
import { deviceRefusal } from "../boards/boards.ts";
import { BoardController, Frame, LinkError, decodeHello, decodeStopped, decodeTelemetry, BoardSession, type ReceivedFrame } from "../boards/link.ts";
import * as L from "../assembly/layout.ts";
import { parseFrames } from "../boards/standalone.ts";
import { encodeFrame } from "../boards/link.ts";
import { DEFAULTS } from "../host/train.ts";

const EMULATED = listBoards().filter((name) => loadBoard(name).emulation);
const DEFINED_ONLY = listBoards().filter((name) => !loadBoard(name).emulation);
const work = mkdtempSync(join(tmpdir(), "hge-boards-cli-"));
process.on("exit", () => rmSync(work, { recursive: true, force: true }));
/** Two f32 readings: a well-formed --adc file. */
const readings = join(work, "readings.f32");
writeFileSync(readings, new Uint8Array(new Float32Array([0.1, -0.1]).buffer));

/** Parses `hge board <argv>` under a root like the CLI's (exitOverride; output captured):
 *  what was thrown, what was written, how long it took. */
async function board(argv: string[], env: { PATH?: string } = {}) {
  let stderr = "";
  let stdout = "";
  const root = new Command("hge").exitOverride().configureOutput({ writeErr: (s) => void (stderr += s), writeOut: (s) => void (stdout += s) });
  root.addCommand(boardCommand(root));
  const path = process.env.PATH;
  if (env.PATH !== undefined) process.env.PATH = env.PATH;
  const started = performance.now();
  let error: unknown;
  try {
    await root.parseAsync(["board", ...argv], { from: "user" });
  } catch (e) {
    error = e;
  } finally {
    process.env.PATH = path;
  }
  return { error, stderr, stdout, ms: performance.now() - started };
}

/** A parse error: the root prints it and exits 2. */
function assertParseError(r: Awaited<ReturnType<typeof board>>, code: string, pattern: RegExp) {
  assert.ok(r.error instanceof CommanderError, `a CommanderError, got ${String(r.error)}`);
  assert.equal(r.error.code, code);
  assert.notEqual(r.error.exitCode, 0, "the root maps it to exit 2");
  assert.match(r.stderr, pattern);
}

/** One line, no stack: what the root prints after "hge: ". */
function assertOneLine(error: unknown, kind: typeof UsageError | typeof TrainConfigError, pattern: RegExp) {
  assert.ok(error instanceof kind, `a ${kind.name}, got ${String(error)}`);
  assert.doesNotMatch(error.message, /\n/);
  assert.match(error.message, pattern);
}

test("an unknown board: exit 2, every board listed; run and probe name the emulated ones as their choices", async () => {
  for (const argv of [["build", "nucleo"], ["check", "nucleo"]]) {
    const r = await board(argv);
    assertParseError(r, "commander.invalidArgument", /Allowed choices are/);
    for (const name of listBoards()) assert.ok(r.stderr.includes(name), `${argv.join(" ")}: lists ${name}`);
  }
  for (const argv of [["run", "mps2-an385", "--hil"], ["probe", "nucleo"]]) {
    const r = await board(argv);
    assertParseError(r, "commander.invalidArgument", new RegExp(`expected an emulated board: ${EMULATED.join(", ")}(, or all)? \\(${DEFINED_ONLY.join(", ")}: defined, not emulated\\)`));
  }
  const help = (await board(["run", "--help"])).stdout;
  assert.match(help, new RegExp(`board +an emulated board: ${EMULATED.join(",\\s+")}\\n`), "run's help names the emulated boards only");
  for (const name of DEFINED_ONLY) assert.ok(!help.includes(name), `run's help does not offer ${name}`);
});

test("run on a board that is defined but not emulated: exit 3, the emulated boards named", async () => {
  assert.ok(DEFINED_ONLY.length > 0 && EMULATED.length > 0);
  for (const name of DEFINED_ONLY) {
    const r = await board(["run", name, "--hil"]);
    assertOneLine(r.error, TrainConfigError, new RegExp(`^${name} is defined but not emulated; hge board run needs an emulated board: ${EMULATED.join(", ")}$`));
    assert.ok(r.ms < 2000, `refused at once (${r.ms.toFixed(0)} ms)`);
  }
});

test("run without a mode, with two, with an unknown flag: exit 2 at once", async () => {
  const none = await board(["run", "mps2-an386"]);
  assertOneLine(none.error, UsageError, /needs exactly one mode of --replay, --hil, --adc <file>, --standalone; got none/);
  assert.ok(none.ms < 2000, `refused at once, not after a QEMU timeout (${none.ms.toFixed(0)} ms)`);

  const two = await board(["run", "mps2-an386", "--hil", "--replay"]);
  assertParseError(two, "commander.conflictingOption", /'--replay' cannot be used with option '--hil'|'--hil' cannot be used with option '--replay'/);

  const unknown = await board(["run", "mps2-an386", "--hil", "--iteratons", "3"]);
  assertParseError(unknown, "commander.unknownOption", /unknown option '--iteratons'[\s\S]*Did you mean --iterations\?/);
  assert.ok(unknown.ms < 2000, `refused at once (${unknown.ms.toFixed(0)} ms)`);

  const misplaced = await board(["run", "mps2-an386", "--replay", "--task", "and"]);
  assertOneLine(misplaced.error, UsageError, /^--task applies to --hil and --standalone, not --replay$/);
  const noCompare = await board(["run", "mps2-an386", "--adc", readings, "--no-compare"]);
  assertOneLine(noCompare.error, UsageError, /^--no-compare applies to --hil, not --adc$/);
});

test("standalone: options of a standalone build refused elsewhere, a bad method or run.json refused (one line, exit 2 or 3)", async () => {
  assertOneLine((await board(["build", "mps2-an386", "--task", "and"])).error, UsageError, /^--task applies to a --standalone build$/);
  assertOneLine((await board(["build", "all", "--standalone"])).error, UsageError, /^--standalone builds one board; give a board, not all$/);
  assertOneLine((await board(["build", "mps2-an386", "--standalone", "--app", "probe"])).error, UsageError, /^--standalone builds the controller/);
  assertOneLine((await board(["run", "mps2-an386", "--standalone", "--method", "pat"])).error, TrainConfigError, /^--method pat: standalone firmware runs the module's estimators/);
  assertOneLine((await board(["run", "mps2-an386", "--hil", "--reset-after", "2"])).error, UsageError, /^--reset-after applies to --standalone, not --hil$/);
  assertOneLine((await board(["build", "mps2-an386", "--standalone", "--from", "package.json"])).error, TrainConfigError, /^--from package\.json: no module configuration in it/);
  // --from names the task and the estimator: given beside it, refused alike in a build and a run
  // (a run took --task and ignored it; --method was exit 3 where --task was 2)
  for (const verb of ["build", "run"]) {
    assertOneLine((await board([verb, "mps2-an386", "--standalone", "--from", "package.json", "--task", "and"])).error, UsageError, /^--task and --from: the run in --from names its task$/);
    assertOneLine((await board([verb, "mps2-an386", "--standalone", "--from", "package.json", "--method", "spsa"])).error, UsageError, /^--method and --from: the run's configuration already names its estimator$/);
  }
  assertOneLine((await board(["watch", "stm32f4-discovery"])).error, TrainConfigError, /stm32f4-discovery/);
});

test("option values are checked with the valid choices named", async () => {
  assertParseError(await board(["run", "mps2-an386", "--hil", "--task", "xnand"]), "commander.invalidArgument", /Allowed choices are and, or, nand, nor, xor, xnor/);
  assertParseError(await board(["run", "mps2-an386", "--hil", "--iterations", "0"]), "commander.invalidArgument", /expected a whole number from 1 to 4294967295/);
  assertParseError(await board(["run", "mps2-an386", "--adc", "no-such-readings.f32"]), "commander.invalidArgument", /no such file/);
  assertParseError(await board(["build", "mps2-an386", "--app", "blinky"]), "commander.invalidArgument", /expected one of hge, hge_sample, probe, reference, or a \.c file/);
  assertParseError(await board(["measure", "--controls", "8,x"]), "commander.invalidArgument", new RegExp(`whole numbers from 1 to ${MAX_CONTROLS} \\(the module's MAX_CONTROLS, assembly/layout\\.ts\\) separated by commas`));
  assertParseError(await board(["measure", "--controls", "8,64,8"]), "commander.invalidArgument", /8 is given twice; each count is measured once/); // (two builds of one count raced)
  assertParseError(await board(["list", "extra"]), "commander.excessArguments", /too many arguments/);
  assertParseError(await board(["train", "--board", "mps2-an386"]), "commander.unknownCommand", /unknown command 'train'/);
  const all = await board(["build", "all", "--out", "somewhere"]);
  assertOneLine(all.error, UsageError, /--out names one board's directory/);
});

test("a missing toolchain: exit 3, says to run bash boards/install.sh", async () => {
  const empty = mkdtempSync(join(tmpdir(), "hge-no-tools-"));
  try {
    const build = await board(["build", "mps2-an386"], { PATH: empty });
    assertOneLine(build.error, TrainConfigError, /^mps2-an386: arm-none-eabi-gcc, wasm2c not on PATH; install the board toolchain with `bash boards\/install\.sh --yes`$/);
    const run = await board(["run", "virt-rv32", "--hil"], { PATH: empty });
    assertOneLine(run.error, TrainConfigError, /^virt-rv32: riscv64-unknown-elf-gcc, wasm2c, qemu-system-riscv32 not on PATH; install the board toolchain with `bash boards\/install\.sh --yes`$/);
    const vendor = await board(["build", "esp32"], { PATH: empty });
    assertOneLine(vendor.error, TrainConfigError, /^esp32: xtensa-esp32-elf-gcc, wasm2c not on PATH; not packaged in Debian: install the vendor toolchain/);
    for (const r of [build, run, vendor]) assert.ok(r.error instanceof ToolchainMissing);
    // hge train --board: the same refusal from trainOnBoard, before anything is built
    const path = process.env.PATH;
    process.env.PATH = empty;
    try {
      await assert.rejects(trainOnBoard({ board: "mps2-an386" }), (e: unknown) => e instanceof ToolchainMissing && /^mps2-an386: arm-none-eabi-gcc, wasm2c, qemu-system-arm not on PATH; install the board toolchain with `bash boards\/install\.sh --yes`$/.test(e.message));
    } finally {
      process.env.PATH = path;
    }
  } finally {
    rmSync(empty, { recursive: true, force: true });
  }
});

test("help everywhere; list names each board once, emulated or defined", async (t) => {
  for (const argv of [["--help"], ["run", "--help"], ["build", "--help"], ["measure", "--help"]]) {
    const r = await board(argv);
    assert.ok(r.error instanceof CommanderError && r.error.exitCode === 0, `${argv.join(" ")}: help exits 0`);
    assert.match(r.stdout, /^Usage: hge board/);
  }
  assert.match((await board(["run", "--help"])).stdout, /Exactly one of --replay, --hil, --adc <file>/);
  const log = t.mock.method(console, "log", () => {});
  const r = await board(["list"]);
  assert.equal(r.error, undefined);
  const lines = log.mock.calls.map((call) => String(call.arguments[0]));
  assert.deepEqual(lines.map((line) => line.split(/\s+/)[0]), listBoards());
  for (const line of lines) assert.match(line, EMULATED.includes(line.split(/\s+/)[0]) ? / emulated / : / defined /);
});

test("train on a board: an unknown or unemulated board, a device the board cannot drive, a task the device does not fit: refused before any build", async () => {
  const mps2 = loadBoard("mps2-an386");
  assert.equal(deviceRefusal(mps2, DopantNetwork.default()), null, "the DNPU's 7 electrodes fit the 8 channels' ±1.5 V");
  const wide = new AnalyticDevice({ controlCount: 7 });
  assert.equal(deviceRefusal(mps2, wide), `${wide.name} has 9 electrodes (7 controls, 2 inputs); mps2-an386 drives 8 DAC channels`);
  const dnpu = DopantNetwork.default();
  const hot = Object.create(dnpu, { controlRangeV: { value: dnpu.controlRangeV.map(([low, high], k) => (k === 2 ? [low, 2] : [low, high])) } });
  assert.equal(deviceRefusal(mps2, hot), `${dnpu.name}'s control 3 spans [-1.2, 2] V; mps2-an386's DAC channel 2 is safe in [-1.5, 1.5] V only`);

  const started = performance.now();
  await assert.rejects(trainOnBoard({ board: "mps2-an385" }), (e: unknown) => e instanceof UsageError && e.message === `unknown board "mps2-an385"; hge train --board runs on ${EMULATED.join(", ")}`);
  await assert.rejects(trainOnBoard({ board: DEFINED_ONLY[0] }), (e: unknown) => e instanceof TrainConfigError && e.message === `${DEFINED_ONLY[0]} is defined but not emulated; hge train --board needs an emulated board: ${EMULATED.join(", ")}`);
  await assert.rejects(trainOnBoard({ board: "mps2-an386", device: wide }), (e: unknown) => e instanceof TrainConfigError && e.option === "device" && /drives 8 DAC channels/.test(e.message));
  const sphere = sphereTask(new AnalyticDevice({ inputCount: 3 }).inputRangeV);
  await assert.rejects(trainOnBoard({ board: "mps2-an386", device: dnpu, task: sphere }), (e: unknown) => e instanceof TrainConfigError && e.option === "task" && /needs 3 data inputs/.test(e.message));
  await assert.rejects(trainOnBoard({ board: "mps2-an386", device: dnpu.withInputCount(4), task: irisTask() }), (e: unknown) => e instanceof TrainConfigError && e.option === "task" && /is a data set; the controller on a board trains tasks with input cases/.test(e.message));
  assert.ok(performance.now() - started < 2000, "nothing was built");
});

test("--out of a build: a file, a directory of something else, a kernel filesystem: exit 2 naming it, before anything is built, nothing removed", async () => {
  const reports = join(work, "reports");
  mkdirSync(reports);
  writeFileSync(join(reports, "run.json"), "{}\n");
  const file = await board(["build", "mps2-an386", "--out", join(reports, "run.json")]);
  assertOneLine(file.error, UsageError, /^--out .*run\.json is a file, not a directory; give a new or empty directory/);
  const foreign = await board(["build", "mps2-an386", "--out", reports]);
  assertOneLine(foreign.error, UsageError, /^--out .*reports holds files that are not an hge board build .*give a new or empty directory/);
  const standalone = await board(["build", "mps2-an386", "--standalone", "--out", reports]);
  assertOneLine(standalone.error, UsageError, /holds files that are not an hge board build/);
  assert.equal(readFileSync(join(reports, "run.json"), "utf8"), "{}\n", "the reports are where they were");
  for (const [out, pattern] of [["/proc/nope", /under \/proc, a kernel filesystem/], ["/sys/x", /under \/sys, a kernel filesystem/], ["/dev/null/x", /under \/dev, a kernel filesystem/]] as const) {
    const r = await board(["build", "mps2-an386", "--out", out]);
    assertOneLine(r.error, UsageError, pattern);
    assert.ok(r.ms < 2000, `${out}: refused at once (${r.ms.toFixed(0)} ms)`);
  }
  assert.ok(!existsSync("/proc/nope"));
});

test("files given to --wasm, --adc, --app are checked when parsed: a directory, not WebAssembly, not whole f32 readings (exit 2)", async () => {
  const notWasm = join(work, "notwasm.wasm");
  writeFileSync(notWasm, "not a module\n");
  for (const argv of [["check", "mps2-an386", "--wasm", notWasm], ["build", "mps2-an386", "--wasm", notWasm]]) {
    assertParseError(await board(argv), "commander.invalidArgument", /not a WebAssembly binary/);
  }
  assertParseError(await board(["build", "mps2-an386", "--wasm", work]), "commander.invalidArgument", /a directory; expected a file/);
  assertParseError(await board(["run", "mps2-an386", "--adc", work]), "commander.invalidArgument", /a directory; expected a file/);
  assertParseError(await board(["build", "mps2-an386", "--app", join(work, "none.c")]), "commander.invalidArgument", /no such file/);
  const odd = join(work, "odd.f32");
  writeFileSync(odd, "abc");
  assertParseError(await board(["run", "mps2-an386", "--adc", odd]), "commander.invalidArgument", /3 bytes; expected raw little-endian f32 readings/);
});

test("flags that would be ignored are refused: watch --port with --seed or --wasm, --block on the link firmware, --reset-after past the run's end, --controls past MAX_CONTROLS; --json where it cannot be written, before measuring", async () => {
  for (const flag of [["--seed", "5"], ["--wasm", "build/hge-core.wasm"]]) {
    const r = await board(["watch", "mps2-an386", "--port", join(work, "no-such-port"), ...flag]);
    assertOneLine(r.error, UsageError, new RegExp(`^${flag[0]} applies without --port .*with --port the board runs the firmware flashed on it$`));
  }
  for (const name of ["stm32f4-discovery", "mps2-an386"]) {
    const r = await board(["build", name, "--block", "2000"]);
    assertOneLine(r.error, UsageError, /^--block sets the main loop's block of samples .*the link firmware of --app hge, the default build, exchanges one sample a frame$/);
    assert.ok(r.ms < 2000, "refused before building");
  }
  const reset = await board(["run", "mps2-an386", "--standalone", "--task", "and", "--reset-after", "100000"]);
  assertOneLine(reset.error, UsageError, new RegExp(`^--reset-after 100000: the run ends by update ${DEFAULTS.maxIterations} .*no reset would happen`));
  const limited = await board(["run", "mps2-an386", "--standalone", "--task", "and", "--iterations", "4", "--reset-after", "4"]);
  assertOneLine(limited.error, UsageError, /^--reset-after 4: the run ends by update 4 \(--iterations\)/);
  const wide = await board(["measure", "--quick", "--controls", String(MAX_CONTROLS + 1)]);
  assertParseError(wide, "commander.invalidArgument", new RegExp(`from 1 to ${MAX_CONTROLS}`));
  assert.ok(wide.ms < 2000, "refused before measuring");
  for (const [json, pattern] of [["/proc/bench.json", /under \/proc, a kernel filesystem/], [work, /is a directory; give a file/], [join(work, "none", "b.json"), /is not a directory; give a file in an existing directory/]] as const) {
    const r = await board(["measure", "--quick", "--json", json]);
    assertOneLine(r.error, UsageError, pattern);
    assert.ok(r.ms < 2000, "refused before measuring");
  }
  assert.match((await board(["measure", "--help"])).stdout, new RegExp(`each 1 to ${MAX_CONTROLS}\\s+\\(the\\s+module's\\s+MAX_CONTROLS`));
});

test("hostile values (an audit's): an empty --out, --port or --json, an unbounded --updates, --samples or standalone --iterations are refused at once; a directory of files merely named as a build's is not removed", async () => {
  for (const [argv, pattern] of [
    [["build", "mps2-an386", "--out", ""], /--out <dir>' argument '' is invalid\. expected a directory, not an empty string/], // (it rebuilt the working directory)
    [["watch", "mps2-an386", "--port", ""], /expected a serial port, not an empty string/],
    [["measure", "--quick", "--json", ""], /expected a file, not an empty string/],
    [["run", "mps2-an386", "--replay", "--updates", "1001"], /expected a whole number from 1 to 1000\./], // (4294967295 held memory for minutes)
    [["probe", "mps2-an386", "--samples", "1000001"], /expected a whole number from 1 to 1000000\./],
  ] as const) {
    const r = await board([...argv]);
    assertParseError(r, "commander.invalidArgument", pattern);
  }
  // the restarts' starts the firmware holds: 4294967295 iterations ran Node out of memory
  const iterations = await board(["build", "mps2-an386", "--standalone", "--iterations", "4294967295"]);
  assertOneLine(iterations.error, TrainConfigError, /^--iterations 4294967295: the firmware holds a start for each of its 429496729 restarts \(one per 10 iterations\), 8589934580 bytes, more than mps2-an386's flash \(4194304 bytes\); at most 2097150 iterations/);
  assert.ok(iterations.ms < 5000, `refused at once (${iterations.ms.toFixed(0)} ms)`);
  // a user's directory holding only names a build writes is not an earlier build (no marker)
  const mine = join(work, "mine");
  mkdirSync(join(mine, "obj"), { recursive: true });
  writeFileSync(join(mine, "size.json"), "my notes\n");
  assertOneLine((await board(["build", "mps2-an386", "--out", mine])).error, UsageError, /holds files that are not an hge board build \(it has no \.hge-board-build\)/);
  assert.equal(readFileSync(join(mine, "size.json"), "utf8"), "my notes\n");
  // --json that would block or go astray: a pipe, a link into /proc
  const fifo = join(work, "fifo");
  execFileSync("mkfifo", [fifo]);
  assertOneLine((await board(["measure", "--quick", "--json", fifo])).error, UsageError, /is not a regular file \(a device or a pipe\); give a file$/);
  symlinkSync("/proc", join(work, "into-proc"));
  assertOneLine((await board(["measure", "--quick", "--json", join(work, "into-proc", "b.json")])).error, UsageError, /under \/proc, a kernel filesystem/);
});

test("a damaged --from run is refused in one line naming what is wrong (each was an internal error), before anything is built", async () => {
  const controller = { sampleRateHz: 5000, controls: [{}], inputs: [{}], cases: [{ target: 1 }] };
  const cases: Array<[unknown, RegExp]> = [
    [null, /not a run \(a JSON object\)/],
    [{ task: 5, module: { controller, solvedEpochs: 5, maxIterations: 10 } }, /its task is 5, not a name/],
    [{ module: { controller: { ...controller, cases: undefined }, solvedEpochs: 5, maxIterations: 10 } }, /its module configuration lacks its controls, inputs or cases/],
    [{ module: { controller, solvedEpochs: 5, maxIterations: "10; abort();" } }, /its solvedEpochs or maxIterations is not a whole number ≥ 1/], // (it went into the generated C)
    [{ targets: ["1"], module: { controller, solvedEpochs: 5, maxIterations: 10, chain: { transimpedancePerV: 32 } } }, /its targets are not finite numbers/],
    // final weights that are not one a control used to be dropped, or read as 0 V, in silence
    [{ finalWeights: [null], module: { controller, solvedEpochs: 5, maxIterations: 10, chain: { transimpedancePerV: 32 } } }, /its finalWeights are not one finite voltage for each of its 1 controls/],
    [{ finalWeights: [0.1, 0.2], module: { controller, solvedEpochs: 5, maxIterations: 10, chain: { transimpedancePerV: 32 } } }, /its finalWeights are not one finite voltage for each of its 1 controls/],
    [{ outputUnit: "nA", module: { controller, solvedEpochs: 5, maxIterations: 10, chain: { transimpedancePerV: 32 } } }, /its module configuration is damaged \(/],
    // "solved" was judged on 2 of 4 cases' outputs (margin 100 % where it was 28 %), or on a 5th never measured (never solved)
    [{ targets: [0, 1], module: { controller, solvedEpochs: 5, maxIterations: 10, chain: { transimpedancePerV: 32 } } }, /its targets are 2, not one for each of its 1 cases/],
    // it said "samples at 5000 Hz; mps2-an386 converts at 5000 Hz"
    [{ module: { controller: { ...controller, sampleRateHz: "5000" }, solvedEpochs: 5, maxIterations: 10, chain: { transimpedancePerV: 32 } } }, /its module configuration's sampleRateHz is "5000", not a number/],
  ];
  for (const [content, pattern] of cases) {
    const file = join(work, "from.json");
    writeFileSync(file, JSON.stringify(content));
    const r = await board(["build", "mps2-an386", "--standalone", "--from", file]);
    assertOneLine(r.error, TrainConfigError, new RegExp(`^--from ${file.replace(/[.]/g, "\\.")}: ${pattern.source}`));
    assert.ok(r.ms < 5000, "refused before building");
  }
});

test("a board tool that fails is one line naming it and its error (exit 3), not an internal error; a refused build leaves no directory behind", async () => {
  const stubs = mkdtempSync(join(tmpdir(), "hge-failing-tools-"));
  try {
    for (const tool of ["wasm2c", "arm-none-eabi-gcc"]) {
      writeFileSync(join(stubs, tool), "#!/bin/sh\necho \"input.wasm:1: error: something is wrong here\" >&2\necho \"a second line\" >&2\nexit 1\n", { mode: 0o755 });
    }
    const out = join(work, "failing", "build");
    const r = await board(["build", "mps2-an386", "--out", out], { PATH: stubs });
    assertOneLine(r.error, TrainConfigError, /^the board's (wasm2c|arm-none-eabi-gcc) failed \(exit 1\): input\.wasm:1: error: something is wrong here$/);
    const empty = mkdtempSync(join(tmpdir(), "hge-no-tools-"));
    const deep = join(work, "never", "made");
    assert.ok((await board(["build", "mps2-an386", "--out", deep], { PATH: empty })).error instanceof ToolchainMissing);
    assert.ok(!existsSync(join(work, "never")), "the refused build made no directory");
    rmSync(empty, { recursive: true, force: true });
  } finally {
    rmSync(stubs, { recursive: true, force: true });
  }
});

test("link frames whose CRC passed but whose length is not their type's are a link error (one line, exit 2), not an internal error", () => {
  const words = (n: number) => new Uint8Array(4 * n);
  for (const [decode, payload, name] of [
    [decodeTelemetry, new Uint8Array(5), "telemetry"], [decodeTelemetry, words(2), "telemetry"], // (counts 0, but no status words)
    [decodeTelemetry, Uint8Array.from([...words(1), 0xff, 0xff, 0xff, 0, ...words(4 + 200)]), "telemetry"], // (255 controls claimed)
    [decodeStopped, new Uint8Array(2), "stopped"], [decodeStopped, new Uint8Array(10), "stopped"], [decodeHello, new Uint8Array(27), "hello"],
  ] as const) {
    assert.throws(() => (decode as (p: Uint8Array) => unknown)(payload), (e: unknown) => e instanceof LinkError && new RegExp(`^link: a ${name} frame of ${payload.length} bytes, a length no ${name} frame of this hge has$`).test(e.message));
  }
  assert.equal(decodeStopped(Uint8Array.from([3, 0, 0, 0, 8, 0, 0, 0, 0, 0, 0x80, 0x3f])).parkedV[0], 1);
});

test("parseFrames (hge board watch): a SYNC byte in the middle of a frame whose start was missed does not hold back the whole frames after it", () => {
  const stopped = encodeFrame(Frame.Stopped, Uint8Array.from([10, 0, 0, 0, 108, 0, 0, 0]));
  const telemetry = encodeFrame(Frame.Telemetry, new Uint8Array(4 * 40).fill(1));
  // the tail of a frame (a port opened mid-run): its 0xa5 reads as a frame of 0x0e84 bytes
  const tail = Uint8Array.from([0x3f, 0xa5, 0x84, 0x84, 0x0e, 0x12, 0x40]);
  const { frames, rest } = parseFrames(Uint8Array.from([...tail, ...telemetry, ...stopped]));
  assert.deepEqual(frames.map((f) => f.type), [Frame.Telemetry, Frame.Stopped]);
  assert.equal(rest.length, 0);
  // a frame still arriving is waited for, and one broken in two pieces is whole once both came
  const half = parseFrames(stopped.subarray(0, 9));
  assert.deepEqual([half.frames.length, half.rest.length], [0, 9]);
  assert.deepEqual(parseFrames(Uint8Array.from([...half.rest, ...stopped.subarray(9)])).frames.map((f) => f.type), [Frame.Stopped]);
});

const python = execFileSyncOk("python3", ["--version"]) ? false : "no python3 (the fake board's pseudo-terminal)";
function execFileSyncOk(cmd: string, args: string[]): boolean {
  try { execFileSync(cmd, args, { stdio: "ignore" }); return true; } catch { return false; }
}

test("--port on a board whose frames go on without a HELLO reply (the standalone firmware's telemetry): one link error within the reply timeout, not a wait until it falls silent", { skip: python }, async () => {
  const { spawn } = await import("node:child_process");
  const { BoardSession } = await import("../boards/link.ts");
  // a board on a pseudo-terminal that sends a TELEMETRY frame every 50 ms for a minute and reads nothing
  const telemetry = Buffer.from(encodeFrame(Frame.Telemetry, new Uint8Array(4 * (2 + L.STATUS_WORDS)))).toString("hex");
  const script = `import os, pty, sys, time
master, slave = pty.openpty()
print(os.ttyname(slave), flush=True)
frame = bytes.fromhex(sys.argv[1])
for _ in range(1200):
    os.write(master, frame)
    time.sleep(0.05)
`;
  const board = spawn("python3", ["-c", script, telemetry], { stdio: ["ignore", "pipe", "inherit"] });
  try {
    const port = await new Promise<string>((resolve) => board.stdout.once("data", (chunk) => resolve(String(chunk).trim())));
    const started = performance.now();
    await assert.rejects(BoardSession.open(loadBoard("mps2-an386"), null, { port, replyTimeoutMs: 1500 }), (e: unknown) => e instanceof LinkError && /^link: mps2-an386 on \/dev\/pts\/\d+ sends Telemetry frames and no HELLO reply within 1500 ms: it runs other firmware than the link's/.test(e.message));
    const seconds = (performance.now() - started) / 1000;
    assert.ok(seconds < 5, `refused after ${seconds.toFixed(1)} s`);
  } finally {
    board.kill("SIGKILL");
  }
});

test("ACK and DAC frames whose CRC passed but whose length is not their type's (or not the configuration's electrodes) are a link error, not a RangeError", () => {
  // a board that answers with the frames given, in order (no port: the controller's decoding only)
  const answering = (...frames: Array<[number, number[]]>) => {
    const queue: ReceivedFrame[] = frames.map(([type, bytes]) => ({ type, payload: Uint8Array.from(bytes) }));
    const session = { board: loadBoard("mps2-an386"), hello: { adcUnitPerV: 32 }, send: () => {}, expect: () => queue.shift()!, receive: () => queue.shift()!, ack: BoardSession.prototype.ack };
    return new BoardController(session as unknown as BoardSession);
  };
  const block = new Uint8Array(4 * L.CONFIG_WORDS);
  const words = new DataView(block.buffer);
  words.setInt32(4 * L.Field.ControlCount, 2, true);
  words.setInt32(4 * L.Field.InputCount, 1, true);
  const accepted = [Frame.Config, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 5, 0, 0, 0, 7, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]; // 2 tones, no hits
  const dac = (electrodes: number) => [0, 0, 0, 0, ...new Array(4 * electrodes).fill(0)];
  const refused = (what: string, bytes: number) => (e: unknown) => e instanceof LinkError && new RegExp(`^link: a ${what} frame of ${bytes} bytes`).test(e.message);
  assert.throws(() => answering([Frame.Ack, [Frame.Config, 0, 0, 0, 0, 0, 0, 0]]).configureBlock(block), refused("ack", 8));
  assert.throws(() => answering([Frame.Ack, accepted.slice(0, 20)]).configureBlock(block), refused("ack", 20), "tones claimed and not sent");
  assert.throws(() => answering([Frame.Ack, accepted], [Frame.Dac, [0, 0, 0, 0, 0]]).configureBlock(block), refused("dac", 5));
  assert.throws(() => answering([Frame.Ack, accepted], [Frame.Dac, dac(0)]).configureBlock(block), refused("dac", 4), "no voltages for 3 electrodes");
  const board = answering([Frame.Ack, accepted], [Frame.Dac, dac(3)], [Frame.Dac, dac(2)], [Frame.Ack, [Frame.Hold, 0, 0, 0]]);
  assert.deepEqual(board.configureBlock(block), { code: 0, index: 0 });
  assert.deepEqual(Array.from(board.toneBins()), [5, 7]);
  assert.equal(board.electrodes().length, 3);
  assert.throws(() => board.step(0), refused("dac", 12), "one electrode short");
  assert.throws(() => board.hold(true), refused("ack", 4));
  // the empty record of a board with no configuration (link.c: GET_TELEMETRY before CONFIG) says so
  assert.throws(() => answering([Frame.Telemetry, []]).weights(), (e: unknown) => e instanceof LinkError && /^link: the board has no configuration/.test(e.message));
});
