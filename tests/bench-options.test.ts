// npm run bench's options (host/bench/index.ts): --help prints them; a bad one is one line and
// exit 2 before any job runs (--help started the whole bench, and an unknown section threw).
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";

const BENCH = fileURLToPath(new URL("../host/bench/index.ts", import.meta.url));
const bench = (...args: string[]) => spawnSync(process.execPath, ["--import", "tsx", BENCH, ...args], { encoding: "utf8", timeout: 60_000 });

test("npm run bench -- --help lists the options and the sections, and runs nothing", () => {
  const r = bench("--help");
  assert.equal(r.status, 0, r.stderr);
  for (const word of ["--quick", "--only", "--workers", "--out", "--replot", "fidelity, peers, methods, cost, size, boards"]) assert.ok(r.stdout.includes(word), word);
  assert.equal(r.stderr, "");
});

test("a bad option, section or worker count is one line naming it, exit 2, no job started", () => {
  for (const [args, said] of [
    [["--bogus"], /'--bogus'/],
    [["--only", "fidelity,nope"], /unknown section "nope": one of fidelity, peers, methods, cost, size, boards/],
    [["--workers", "0"], /--workers must be a whole number 1\.\.256, not "0"/],
    [["--workers", "2.5"], /not "2\.5"/],
    [["--workers"], /--workers/],
    [["stray"], /'stray'/],
  ] as const) {
    const r = bench(...args);
    assert.equal(r.status, 2, `${args.join(" ")}: ${r.stderr}`);
    const lines = r.stderr.trim().split("\n");
    assert.equal(lines.length, 1, r.stderr);
    assert.match(lines[0], /^bench: /);
    assert.match(lines[0], said);
    assert.equal(r.stdout, "", "no job ran");
  }
});
