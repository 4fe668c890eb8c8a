// Files written whole or not at all (host/report/keep.ts: keepFile), also when two processes keep
// the same file at once (two `hge train` into one --out): a temporary name the two shared tore
// the file a reader saw and failed one process's rename with ENOENT.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { scratchDir } from "./fixtures.ts";

const scratch = scratchDir("hge-keep-");
const KEEP = fileURLToPath(new URL("../host/report/keep.ts", import.meta.url));
const TSX = fileURLToPath(new URL("../node_modules/tsx/dist/cli.mjs", import.meta.url));

test("two processes keeping one file at once: every read sees one whole file, and both finish", async () => {
  const writer = join(scratch, "writer.ts");
  writeFileSync(writer, `import { keepFile } from ${JSON.stringify(KEEP)};
import { readFileSync } from "node:fs";
const [path, tag] = process.argv.slice(2);
const data = JSON.stringify({ tag, fill: tag.repeat(2_000_000) }); // (4 MB: long writes, so they overlap)
let torn = 0;
for (let i = 0; i < 60; i++) {
  keepFile(path, data);
  try { JSON.parse(readFileSync(path, "utf8")); } catch { torn++; }
}
console.log(torn);
`);
  const file = join(scratch, "kept.json");
  const runs = await Promise.all(["a", "b"].map((tag) => new Promise<{ code: number | null; out: string; err: string }>((resolve) => {
    const child = spawn(process.execPath, [TSX, writer, file, tag], { stdio: ["ignore", "pipe", "pipe"] });
    let out = "", err = "";
    child.stdout.on("data", (chunk) => (out += chunk));
    child.stderr.on("data", (chunk) => (err += chunk));
    child.on("exit", (code) => resolve({ code, out, err }));
  })));
  for (const run of runs) {
    assert.equal(run.code, 0, run.err);
    assert.equal(run.out.trim(), "0", "torn reads");
  }
  assert.ok(["a", "b"].includes(JSON.parse(readFileSync(file, "utf8")).tag));
  assert.deepEqual(readdirSync(scratch).sort(), ["kept.json", "writer.ts"], "no file left aside");
});

test("a write that fails leaves nothing aside: here the rename, over a directory", async () => {
  const { keepFile, isFileSystemError } = await import("../host/report/keep.ts");
  const dir = join(scratch, "refusing");
  mkdirSync(join(dir, "taken"), { recursive: true });
  writeFileSync(join(dir, "taken", "inside"), "");
  assert.throws(() => keepFile(join(dir, "taken"), "data"), (error: unknown) => isFileSystemError(error) && error.syscall === "rename");
  assert.deepEqual(readdirSync(dir), ["taken"]);
});

test("a report the file system cuts short is not left torn in --out: the report before it stays whole", () => {
  // (ulimit -f: a file past 60 KiB fails with EFBIG; a report is about 140 KB. report.html was
  // written in place, and a full disk left the first 60 KiB of it beside a whole run.json.)
  const out = join(scratch, "cut-report");
  mkdirSync(out, { recursive: true });
  writeFileSync(join(out, "report.html"), "an earlier report\n");
  const cli = fileURLToPath(new URL("../bin/hge.mjs", import.meta.url));
  const run = spawnSync("bash", ["-c", `trap '' XFSZ; ulimit -f 60; exec "${process.execPath}" "${cli}" train --task and --budget 3 --no-progress --out "${out}"`], { encoding: "utf8" });
  assert.match(run.stderr, /EFBIG/, "the limit bit");
  const report = readFileSync(join(out, "report.html"), "utf8");
  assert.ok(report === "an earlier report\n" || report.endsWith("</html>\n"), `report.html torn: ${report.length} bytes`);
});
