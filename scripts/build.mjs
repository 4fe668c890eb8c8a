// Builds the controller: release (build/hge.wasm: stub runtime, optimised, then binaryen's
// wasm-opt) and debug (build/hge.debug.wasm), and reports the release module against the
// project's limits (imports, size, memory pages); tests/release.test.ts enforces them.
import { execFileSync } from "node:child_process";
import { readFileSync, mkdirSync } from "node:fs";
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const asc = require.resolve("assemblyscript/bin/asc.js");
const wasmOpt = require.resolve("binaryen/bin/wasm-opt");
const MAX_RELEASE_BYTES = 8192;

function run(cmd, args) {
  execFileSync(cmd, args, { stdio: "inherit" });
}

mkdirSync("build", { recursive: true });
for (const target of ["release", "debug"]) {
  run(process.execPath, [asc, "--config", "asconfig.json", "--target", target]);
}
run(wasmOpt, ["-all", "-Oz", "--converge", "build/hge.wasm", "-o", "build/hge.wasm"]);

const bytes = readFileSync("build/hge.wasm");
const module = new WebAssembly.Module(bytes);
const imports = WebAssembly.Module.imports(module);
const problems = [];
if (imports.length) problems.push(`imports ${imports.map((i) => `${i.module}.${i.name}`).join(", ")}`);
if (bytes.length > MAX_RELEASE_BYTES) problems.push(`${bytes.length} bytes > ${MAX_RELEASE_BYTES}`);
const instance = new WebAssembly.Instance(module, {});
const pages = instance.exports.memory.buffer.byteLength / 65536;
if (pages > 1) problems.push(`${pages} memory pages > 1`);
if (problems.length) console.error(`warning: build/hge.wasm breaks the release limits: ${problems.join("; ")}`);
else console.log(`build/hge.wasm: ${bytes.length} bytes, ${pages} page, no imports`);
