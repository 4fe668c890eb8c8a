// Builds the controller: release (build/hge.wasm: stub runtime, optimised, then binaryen's
// wasm-opt), the tones-only core (build/hge-core.wasm: the same sources with --use HGE_CORE=1,
// assembly/features.ts) and debug (build/hge.debug.wasm), and reports the release modules
// against the project's limits (imports, size, memory pages); tests/controller.test.ts
// enforces them.
//
//   node scripts/build.mjs                      release + core + debug, MAX_CONTROLS from assembly/layout.ts
//   node scripts/build.mjs --max-controls 256   a wider release build: build/hge-c256.wasm, from a
//                                               copy of assembly/ in build/c256/ whose layout.ts
//                                               differs only in MAX_CONTROLS (the host reads that
//                                               copy's offsets); memory grows to what it needs
import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync, mkdirSync, readdirSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { parseArgs } from "node:util";

const require = createRequire(import.meta.url);
const asc = require.resolve("assemblyscript/bin/asc.js");
const wasmOpt = require.resolve("binaryen/bin/wasm-opt");
const MAX_RELEASE_BYTES = 12288;
const MAX_CORE_BYTES = 4096;
const LIMIT_LINE = /^export const MAX_CONTROLS = \d+;$/m;

function run(cmd, args) {
  execFileSync(cmd, args, { stdio: "inherit" });
}

/** asc's `target` of `config` (which writes `out`), then binaryen's wasm-opt over it. */
function buildRelease(config, out, target = "release") {
  run(process.execPath, [asc, "--config", config, "--target", target]);
  run(wasmOpt, ["-all", "-Oz", "--converge", out, "-o", out]);
}

function inspect(path) {
  const bytes = readFileSync(path);
  const module = new WebAssembly.Module(bytes);
  const imports = WebAssembly.Module.imports(module).map((i) => `${i.module}.${i.name}`);
  const pages = new WebAssembly.Instance(module, {}).exports.memory.buffer.byteLength / 65536;
  return { bytes: bytes.length, imports, pages };
}

/** Warns unless `path` has no imports, at most `maxBytes` bytes and one memory page. */
function report(path, maxBytes) {
  const { bytes, imports, pages } = inspect(path);
  const problems = [];
  if (imports.length) problems.push(`imports ${imports.join(", ")}`);
  if (bytes > maxBytes) problems.push(`${bytes} bytes > ${maxBytes}`);
  if (pages > 1) problems.push(`${pages} memory pages > 1`);
  if (problems.length) console.error(`warning: ${path} breaks the release limits: ${problems.join("; ")}`);
  else console.log(`${path}: ${bytes} bytes, ${pages} page, no imports`);
}

function buildDefault() {
  mkdirSync("build", { recursive: true });
  buildRelease("asconfig.json", "build/hge.wasm");
  buildRelease("asconfig.json", "build/hge-core.wasm", "core");
  run(process.execPath, [asc, "--config", "asconfig.json", "--target", "debug"]);
  report("build/hge.wasm", MAX_RELEASE_BYTES);
  report("build/hge-core.wasm", MAX_CORE_BYTES);
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
  buildRelease(join(dir, "asconfig.json"), out);
  const { bytes, imports, pages } = inspect(out);
  if (imports.length) throw new Error(`${out} imports ${imports.join(", ")}`);
  console.log(`${out}: ${bytes} bytes, ${pages} pages, no imports (MAX_CONTROLS ${maxControls})`);
}

const { values } = parseArgs({ options: { "max-controls": { type: "string" } } });
if (values["max-controls"] === undefined) buildDefault();
else {
  const n = Number(values["max-controls"]);
  // Above 1024 the planner's Sidon search would run for minutes (and no plan fits 2^20 samples).
  if (!Number.isInteger(n) || n < 1 || n > 1024) {
    console.error(`--max-controls: expected an integer 1..1024, got '${values["max-controls"]}'`);
    process.exit(2);
  }
  buildWide(n);
}
