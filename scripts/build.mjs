// Builds the controller: release (build/hge.wasm: stub runtime, optimised, then binaryen's
// wasm-opt), the tones-only core (build/hge-core.wasm: the same sources with --use HGE_CORE=1,
// assembly/features.ts) and debug (build/hge.debug.wasm), and reports the release modules
// against the project's limits (imports, size, memory pages); tests/controller.test.ts
// enforces them.
//
//   node scripts/build.mjs                      release + core + debug, MAX_CONTROLS from assembly/layout.ts
//   node scripts/build.mjs --core-report         the core's bytes by source file and the levers
//                                               tried on its size, each a build in
//                                               build/core-report/ (report.json; npm run bench)
//   node scripts/build.mjs --max-controls 256   a wider release build: build/hge-c256.wasm, from a
//                                               copy of assembly/ in build/c256/ whose layout.ts
//                                               differs only in MAX_CONTROLS (the host reads that
//                                               copy's offsets); memory grows to what it needs
import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync, mkdirSync, readdirSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { foldOffsets } from "./fold-offsets.mjs";

const require = createRequire(import.meta.url);
const asc = require.resolve("assemblyscript/bin/asc.js");
const wasmOpt = require.resolve("binaryen/bin/wasm-opt");
const MAX_RELEASE_BYTES = 12288;
const MAX_CORE_BYTES = 4096;
const LIMIT_LINE = /^export const MAX_CONTROLS = \d+;$/m;

function run(cmd, args) {
  execFileSync(cmd, args, { stdio: "inherit" });
}

/** asc's `target` of `config` (which writes `out`), then binaryen's wasm-opt over it, its
 *  constant addresses folded into offsets (fold-offsets.mjs) and wasm-opt again. The module as it
 *  was before the fold is kept beside `out` (unfoldedPath: the bench's `unfoldedBytes`, and the
 *  tests run it to the same bits). A variant writes `out` (and its .wat) in place of the
 *  target's files, with more asc flags and wasm-opt passes (run before -Oz), and keeps nothing
 *  else. */
function buildRelease(config, out, target = "release", variant = undefined) {
  const more = variant ? ["-o", out, "--textFile", out.replace(/wasm$/, "wat"), ...variant.asc] : [];
  run(process.execPath, [asc, "--config", config, "--target", target, ...more]);
  const optimise = () => run(wasmOpt, ["-all", ...(variant?.passes ?? []), "-Oz", "--converge", out, "-o", out]);
  optimise(); // (at -O0, the core report's uninlined build, asc leaves the buffers' addresses in globals)
  const unfolded = readFileSync(out);
  if (!variant) writeFileSync(unfoldedPath(out), unfolded);
  const { bytes, folded } = foldOffsets(unfolded);
  writeFileSync(out, bytes);
  optimise();
  return folded;
}

/** Where buildRelease keeps `out` as it was before the fold (host/bench/cost.ts reads it). */
function unfoldedPath(out) {
  return out.replace(/\.wasm$/, ".unfolded.wasm");
}

/** What the fold of `out` did, for the build's report. */
function foldNote(out, folded) {
  return `${readFileSync(unfoldedPath(out)).length} before ${folded} addresses were folded into offsets`;
}

function inspect(path) {
  const bytes = readFileSync(path);
  const module = new WebAssembly.Module(bytes);
  const imports = WebAssembly.Module.imports(module).map((i) => `${i.module}.${i.name}`);
  const pages = new WebAssembly.Instance(module, {}).exports.memory.buffer.byteLength / 65536;
  return { bytes: bytes.length, imports, pages };
}

/** Warns unless `path` has no imports, at most `maxBytes` bytes and one memory page. */
function report(path, maxBytes, folded) {
  const { bytes, imports, pages } = inspect(path);
  const problems = [];
  if (imports.length) problems.push(`imports ${imports.join(", ")}`);
  if (bytes > maxBytes) problems.push(`${bytes} bytes > ${maxBytes}`);
  if (pages > 1) problems.push(`${pages} memory pages > 1`);
  const fold = foldNote(path, folded);
  if (problems.length) console.error(`warning: ${path} (${fold}) breaks the release limits: ${problems.join("; ")}`);
  else console.log(`${path}: ${bytes} bytes (${fold}), ${pages} page, no imports`);
}

function buildDefault() {
  mkdirSync("build", { recursive: true });
  const folded = buildRelease("asconfig.json", "build/hge.wasm");
  const coreFolded = buildRelease("asconfig.json", "build/hge-core.wasm", "core");
  run(process.execPath, [asc, "--config", "asconfig.json", "--target", "debug"]);
  report("build/hge.wasm", MAX_RELEASE_BYTES, folded);
  report("build/hge-core.wasm", MAX_CORE_BYTES, coreFolded);
}

/** Unsigned LEB128 at bytes[at]: [value, offset after it]. */
function leb(bytes, at) {
  let value = 0;
  for (let shift = 0; ; shift += 7) {
    const byte = bytes[at++];
    value += (byte & 127) * 2 ** shift;
    if (byte < 128) return [value, at];
  }
}

/** The sections (or a name section's subsections) in bytes[from..] as [id, start, end]. */
function sections(bytes, from) {
  const out = [];
  for (let at = from, size; at < bytes.length; at += size) {
    const id = bytes[at];
    [size, at] = leb(bytes, at + 1);
    out.push([id, at, at + size]);
  }
  return out;
}

/** The code section's [start, end] in a module's bytes. */
function codeSection(bytes) {
  const [, start, end] = sections(bytes, 8).find(([id]) => id === 10);
  return [start, end];
}

/** The code bytes of each function, by name, of a build that kept its names (wasm-opt -g). */
function functionBytes(path) {
  const bytes = readFileSync(path);
  const sizes = [];
  let [count, at] = leb(bytes, codeSection(bytes)[0]);
  for (let size; sizes.length < count; at += size) {
    [size, at] = leb(bytes, at);
    sizes.push(size);
  }
  const module = new WebAssembly.Module(bytes);
  if (WebAssembly.Module.imports(module).length) throw new Error(`${path}: function indices shifted by imports`);
  const names = Buffer.from(WebAssembly.Module.customSections(module, "name")[0]);
  const out = {};
  for (const [id, start] of sections(names, 0)) {
    if (id !== 1) continue; // the function names
    let [entries, at] = leb(names, start);
    for (let i = 0, index, length; i < entries; i++, at += length) {
      [index, at] = leb(names, at);
      [length, at] = leb(names, at);
      out[names.toString("utf8", at, at + length)] = sizes[index];
    }
  }
  return out;
}

/** The core's bytes, and what each lever tried on them gives, each a build in build/core-report/:
 *  the code of each source file with no function inlined into another (asc -O0, wasm-opt
 *  --no-inline; the typical-sample shortcut apart from the rest of trainer.ts), the sections
 *  other than code in the core as built, and the core's size with each lever. */
function coreReport() {
  const dir = join("build", "core-report");
  mkdirSync(dir, { recursive: true });
  const core = (name, asc = [], passes = []) => {
    const out = join(dir, `${name}.wasm`);
    buildRelease("asconfig.json", out, "core", { asc, passes });
    return readFileSync(out);
  };
  const built = core("core");
  const [codeStart, codeEnd] = codeSection(built);
  const parts = {};
  core("uninlined", ["-O0", "--debug"], ["--no-inline=*", "-g"]);
  for (const [name, bytes] of Object.entries(functionBytes(join(dir, "uninlined.wasm")))) {
    const part = name.endsWith("/typicalSample") ? "shortcut" : (/assembly\/(\w+)/.exec(name)?.[1] ?? "other");
    parts[part] = (parts[part] ?? 0) + bytes;
  }
  const LEVERS = {
    noShortcut: [["--use", "HGE_NO_SHORTCUT=1"], []],
    shrinkLevel2: [["--shrinkLevel", "2"], []],
    ignoreImplicitTraps: [[], ["--ignore-implicit-traps"]],
  };
  const levers = {};
  for (const [name, [asc, passes]] of Object.entries(LEVERS)) levers[name] = core(name, asc, passes).length;
  const all = Object.values(LEVERS);
  levers.all = core("all", all.flatMap(([asc]) => asc), all.flatMap(([, passes]) => passes)).length;
  const report = {
    bytes: built.length, limit: MAX_CORE_BYTES, nonCodeBytes: built.length - (codeEnd - codeStart),
    parts: Object.fromEntries(Object.entries(parts).sort(([, a], [, b]) => b - a)), levers,
  };
  writeFileSync(join(dir, "report.json"), JSON.stringify(report, null, 2));
  console.log(JSON.stringify(report, null, 2));
}

function buildWide(maxControls) {
  const dir = join("build", `c${maxControls}`);
  const out = join("build", `hge-c${maxControls}.wasm`);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(join(dir, "assembly"), { recursive: true });
  for (const name of readdirSync("assembly")) {
    if (!name.endsWith(".ts")) continue;
    let text = readFileSync(join("assembly", name), "utf8");
    if (name === "layout.ts") {
      if (!LIMIT_LINE.test(text)) throw new Error("assembly/layout.ts: no 'export const MAX_CONTROLS = N;' line to vary");
      text = text.replace(LIMIT_LINE, `export const MAX_CONTROLS = ${maxControls}; // scripts/build.mjs --max-controls`);
    }
    writeFileSync(join(dir, "assembly", name), text);
  }
  const release = JSON.parse(readFileSync("asconfig.json", "utf8")).targets.release;
  const { initialMemory, maximumMemory, ...options } = release;
  writeFileSync(join(dir, "asconfig.json"), JSON.stringify({
    entries: ["assembly/index.ts"],
    targets: { release: { ...options, outFile: `../hge-c${maxControls}.wasm`, textFile: `../hge-c${maxControls}.wat` } },
  }, null, 2));
  const folded = buildRelease(join(dir, "asconfig.json"), out);
  const { bytes, imports, pages } = inspect(out);
  if (imports.length) throw new Error(`${out} imports ${imports.join(", ")}`);
  console.log(`${out}: ${bytes} bytes (${foldNote(out, folded)}), ${pages} pages, no imports (MAX_CONTROLS ${maxControls})`);
}

const { values } = parseArgs({ options: { "max-controls": { type: "string" }, "core-report": { type: "boolean" } } });
if (values["core-report"]) coreReport();
else if (values["max-controls"] === undefined) buildDefault();
else {
  const n = Number(values["max-controls"]);
  // Above 1024 the planner's Sidon search would run for minutes (and no plan fits 2^20 samples).
  if (!Number.isInteger(n) || n < 1 || n > 1024) {
    console.error(`--max-controls: expected an integer 1..1024, got '${values["max-controls"]}'`);
    process.exit(2);
  }
  buildWide(n);
}
