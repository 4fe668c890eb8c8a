// `hge board build` and `run` on what a user gives them, where the answer needs the toolchain
// (a build, a QEMU run): a build directory replaced only when it is an earlier build's, the
// documented `run --adc FILE` with each adapter offered, and bad input (a block the RAM cannot
// hold, a C adapter that does not compile or link, a module the adapter does not take) refused
// in one line, exit 2 or 3, not a compiler dump as a bug in hge. Builds reuse cached objects: a
// few seconds. The board toolchain (Debian packages) is installed by boards/install.sh when missing.
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { spawnSync } from "node:child_process";
import { BUILD_MARKER, PROBE_WASM, REPO_DIR, buildProbeWasm, ensureToolchain } from "../boards/build.ts";

let noToolchain: string | false = false;
try { ensureToolchain(); }
catch (e) { noToolchain = `board toolchain unavailable and not installable here: ${(e as Error).message}`; }
if (noToolchain) process.stderr.write(`boards-inputs.test: skipping: ${noToolchain}\n`);
const skip = { skip: noToolchain };
const work = mkdtempSync(join(tmpdir(), "hge-boards-inputs-"));
process.on("exit", () => rmSync(work, { recursive: true, force: true }));
if (!noToolchain && !existsSync(PROBE_WASM)) buildProbeWasm();
/** Forty readings (ADC volts): an --adc file. */
const readings = join(work, "readings.f32");
writeFileSync(readings, new Uint8Array(Float32Array.from({ length: 40 }, (_, n) => 0.02 * Math.sin(n)).buffer));

/** `hge board <argv>` run as a user runs it (bin/cli.ts in a process of its own): its exit code,
 *  what it printed, how long it took. */
function board(argv: string[]) {
  const started = performance.now();
  const r = spawnSync(process.execPath, ["--import", "tsx", join(REPO_DIR, "bin", "cli.ts"), "board", ...argv], { cwd: REPO_DIR, encoding: "utf8", timeout: 150_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr, seconds: (performance.now() - started) / 1000 };
}

/** A refusal: one line on stderr ("hge: …"), the exit code given, nothing else. */
function assertRefused(r: ReturnType<typeof board>, code: 2 | 3, pattern: RegExp) {
  assert.equal(r.code, code, `exit ${code}, got ${r.code}: ${r.stderr.slice(-800)}`);
  assert.equal(r.stderr.trim().split("\n").length, 1, `one line: ${r.stderr}`);
  assert.match(r.stderr.trim(), pattern);
}

test("--out: an earlier build's directory is replaced, a new or empty one is used; the build marks its directory and removes only its own files", skip, () => {
  const out = join(work, "build");
  const first = board(["build", "mps2-an386", "--out", out]);
  assert.equal(first.code, 0, first.stderr);
  assert.ok(existsSync(join(out, BUILD_MARKER)) && existsSync(join(out, "hge.elf")));
  assert.equal(board(["build", "mps2-an386", "--out", out]).code, 0, "an earlier build's directory is replaced");
  // a file put into an earlier build's directory (at its top, or among its generated sources) is not the build's
  for (const put of ["precious.txt", "gen/precious.txt"]) {
    writeFileSync(join(out, put), "mine\n");
    assertRefused(board(["build", "mps2-an386", "--out", out]), 2, new RegExp(`^hge: --out .*build is an earlier build's directory, but ${put} in it is not that build's`));
    assert.equal(readFileSync(join(out, put), "utf8"), "mine\n");
    rmSync(join(out, put));
  }
  // nor does a marker that no build wrote make a directory a build's
  const marked = join(work, "marked");
  mkdirSync(marked);
  writeFileSync(join(marked, BUILD_MARKER), "");
  writeFileSync(join(marked, "data.csv"), "1,2\n");
  assertRefused(board(["build", "mps2-an386", "--out", marked]), 2, /^hge: --out .*marked holds files that are not an hge board build/);
  assert.equal(readFileSync(join(marked, "data.csv"), "utf8"), "1,2\n");
  const empty = join(work, "empty");
  mkdirSync(empty);
  assert.equal(board(["build", "mps2-an386", "--out", empty]).code, 0);
  // a directory of something else, whatever is in it, is refused and left as it is
  const mine = join(work, "mine");
  mkdirSync(join(mine, "gen"), { recursive: true });
  writeFileSync(join(mine, "notes.txt"), "mine\n");
  assertRefused(board(["build", "mps2-an386", "--out", mine]), 2, /^hge: --out .*mine holds files that are not an hge board build/);
  assert.equal(readFileSync(join(mine, "notes.txt"), "utf8"), "mine\n");
});

test("run --adc FILE (documented) runs the main loop and ends: the controller configured as hge train --board would, the probe, the reference", skip, () => {
  for (const app of [[], ["--app", "probe"], ["--app", "reference"]]) {
    const r = board(["run", "mps2-an386", "--adc", readings, ...app]);
    assert.equal(r.code, 0, `${app.join(" ") || "--app hge"}: ${r.stderr.slice(-800)}`);
    const lines = r.stdout.split("\n").filter((l) => /^[0-9a-f]{8}( [0-9a-f]{8})+$/.test(l));
    // the controller's adapter writes its configuration's first step before the first reading
    // (a ramp from the DACs' power-on voltages), then one line a reading, as the others do
    assert.equal(lines.length, app.length ? 40 : 41, `${app.join(" ") || "--app hge"}: a DAC line a reading`);
    assert.match(r.stderr, /qemu: exit 0 in/);
    assert.ok(r.seconds < 60, `ends (${r.seconds.toFixed(1)} s), not at QEMU's timeout`);
  }
});

test("bad input to a build: a block the RAM cannot hold, a C adapter that does not compile or link, a module the adapter does not take (one line, exit 2 or 3)", skip, () => {
  // the block: bounded before building, then exactly by the linker
  assertRefused(board(["build", "mps2-an386", "--app", "probe", "--block", "99999999", "--out", join(work, "block")]), 2, /^hge: --block 99999999: the main loop's buffers take 44 bytes a sample on mps2-an386/);
  const over = board(["build", "mps2-an386", "--app", "probe", "--block", "95000", "--out", join(work, "block")]);
  assertRefused(over, 2, /^hge: --block 95000: the firmware overflows mps2-an386's RAM by \d+ bytes .* at most (\d+) samples fit$/);
  const fits = /at most (\d+) samples fit/.exec(over.stderr)![1];
  assert.equal(board(["build", "mps2-an386", "--app", "probe", "--block", fits, "--out", join(work, "block")]).code, 0, `--block ${fits} fits`);
  assertRefused(board(["build", "mps2-an386", "--app", "probe", "--block", String(Number(fits) + 1), "--out", join(work, "block")]), 2, new RegExp(`at most ${fits} samples fit`));

  const bad = join(work, "bad.c");
  writeFileSync(bad, '#include "app.h"\nint app_init(void) { return undefined_thing; }\n');
  assertRefused(board(["build", "mps2-an386", "--app", bad, "--out", join(work, "bad")]), 3, /^hge: configuration refused: --app .*bad\.c does not compile: .*bad\.c:2:\d+: error: 'undefined_thing' undeclared/);
  const half = join(work, "half.c");
  writeFileSync(half, '#include "app.h"\nint app_init(void) { return 0; }\n');
  assertRefused(board(["build", "mps2-an386", "--app", half, "--out", join(work, "half")]), 3, /^hge: configuration refused: --app .*half\.c does not link: nothing defines .*app_step/);

  assertRefused(board(["build", "mps2-an386", "--wasm", PROBE_WASM, "--out", join(work, "probe-as-hge")]), 3, /is not a module --app hge adapts: it exports no CONFIG, STATUS, .*, and this module is one for --app probe$/);
  assertRefused(board(["run", "mps2-an386", "--adc", readings, "--app", "probe", "--wasm", "build/hge.wasm"]), 3, /build\/hge\.wasm is not a module --app probe adapts: it exports no CHANNELS, OUT, reset/);
});

test("a module that would refuse the firmware's configuration is refused before anything runs: the tones-only core for replay, standalone and the main loop (one line, exit 3)", skip, () => {
  const left = /^hge: configuration refused: build\/hge-core\.wasm would refuse the firmware's compiled-in configuration at power-up: CalibrationEpochs = 2 is left out of this build \(the tones-only core/;
  for (const argv of [["run", "mps2-an386", "--replay"], ["run", "mps2-an386", "--adc", readings], ["build", "mps2-an386", "--standalone", "--out", join(work, "core-standalone")]]) {
    const r = board([...argv, "--wasm", "build/hge-core.wasm"]);
    assertRefused(r, 3, left);
    assert.ok(r.seconds < 60, `${argv.join(" ")}: refused at once (${r.seconds.toFixed(1)} s), not after QEMU`);
  }
});

test("run --adc with a C adapter of the user's: voltages beyond an electrode's safe range, infinite or NaN never reach the DAC (held at the range's ends, NaN parked)", skip, () => {
  const wild = join(work, "wild.c");
  writeFileSync(wild, [
    "#include <stdint.h>",
    "static float out[7] = {100.0f, -100.0f, 0.0f / 0.0f, 1.0f / 0.0f, 5.0f, -5.0f, 0.3f};",
    "int app_init(void) { return 0; }",
    "uint32_t app_step(float reading) { (void)reading; return 0; }",
    "const float *app_outputs(void) { return out; }",
    "int app_output_count(void) { return 7; }",
  ].join("\n") + "\n");
  const r = board(["run", "mps2-an386", "--adc", readings, "--app", wild]);
  assert.equal(r.code, 0, r.stderr.slice(-800));
  const lines = r.stdout.split("\n").filter((l) => /^[0-9a-f]{8}( [0-9a-f]{8})+$/.test(l));
  assert.equal(lines.length, 40);
  const volts = (line: string) => line.split(" ").slice(1).map((w) => new Float32Array(new Uint32Array([parseInt(w, 16)]).buffer)[0]);
  // mps2-an386's electrodes: ±1.5 V each, parked at 0 V
  for (const line of lines) assert.deepEqual(volts(line), [1.5, -1.5, 0, 1.5, 1.5, -1.5, Math.fround(0.3)], line);
});

test("measure --json replaces an earlier measurement's file only: any other file is refused and kept (exit 2)", skip, () => {
  const notes = join(work, "notes.txt");
  writeFileSync(notes, "mine\n");
  assertRefused(board(["measure", "--quick", "--controls", "1", "--json", notes]), 2, /^hge: --json .*notes\.txt exists and is not an earlier hge board measure --json \(which is replaced\); give a new file$/);
  assert.equal(readFileSync(notes, "utf8"), "mine\n");
});

test("run --standalone --reset-after N: a run that ends before update N says no reset happened, and exits 1", skip, () => {
  const r = board(["run", "mps2-an386", "--standalone", "--task", "and", "--reset-after", "50"]);
  assert.match(r.stdout, /no reset: the run ended after update \d+, before update 50 \(--reset-after\); resuming was not tried/);
  assert.equal(r.code, 1);
});

test("a compiled-in configuration the board refuses stops the main loop with exit 3 (configuration refused) and the field named; it exited with the field's id (SampleRateHz: 2, which says \"fault\")", skip, async () => {
  const { loadBoard } = await import("../boards/boards.ts");
  const { buildBoard } = await import("../boards/build.ts");
  const { encodeConfig } = await import("../boards/link.ts");
  const { runQemu } = await import("../boards/qemu.ts");
  const { standaloneConfiguration } = await import("../boards/standalone.ts");
  const mps2 = loadBoard("mps2-an386");
  // planned for 10 kHz (a window as long, in time): the module takes it, the board (5 kHz converters) does not
  const { config, unitPerV } = standaloneConfiguration(mps2, { task: "and" });
  const { block, error } = encodeConfig({ ...config, sampleRateHz: 2 * mps2.sampleRateHz, windowSamples: 2 * config.windowSamples });
  assert.equal(error, undefined);
  const built = buildBoard(mps2, { app: "hge", config: block, configUnitPerV: unitPerV, quiet: true, out: join(work, "refused") });
  const r = await runQemu(mps2, built.elf, { adc: new Float32Array(4) });
  assert.equal(r.code, 3, r.stdout);
  assert.match(r.stdout, /^# hge: configuration refused: SampleRateHz\[0\] \(field 2\), outside the board's limits$/m);
});

test("the size line names the module's memory only where it is linked: the reference adapter's RAM has none (it said 'module memory 43072' inside an 18 KB total)", skip, () => {
  const reference = board(["build", "stm32f4-discovery", "--app", "reference", "--out", join(work, "reference-size")]);
  assert.equal(reference.code, 0, reference.stderr.slice(-800));
  assert.match(reference.stdout + reference.stderr, /RAM +\d+ B \([\d.]+% of 131072; stack \d+\)/);
  const controller = board(["build", "stm32f4-discovery", "--out", join(work, "controller-size")]);
  assert.match(controller.stdout + controller.stderr, /RAM +\d+ B \([\d.]+% of 131072; module memory \d+, stack \d+\)/);
});
