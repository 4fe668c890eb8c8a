// A wider build of the controller for more electrodes than the release module's MAX_CONTROLS:
// `node scripts/build.mjs --max-controls N` compiles a copy of assembly/ whose layout.ts differs
// only in that limit, to build/hge-cN.wasm (more memory pages, the same code). The host drives it
// with the copy's layout, so every offset still comes from one file.
import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import type { Layout } from "./controller.ts";

/** The repository's root. */
export const REPO = fileURLToPath(new URL("..", import.meta.url));

export interface Variant {
  maxControls: number;
  path: string;
  module: WebAssembly.Module;
  layout: Layout;
  /** The copy of assembly/layout.ts it was built from. */
  layoutFile: string;
}

/** Builds build/hge-cN.wasm unless it is newer than every file it is built from, then loads it. */
export async function loadVariant(maxControls: number): Promise<Variant> {
  const path = join(REPO, "build", `hge-c${maxControls}.wasm`);
  const layoutPath = join(REPO, "build", `c${maxControls}`, "assembly", "layout.ts");
  const inputs = [...readdirSync(join(REPO, "assembly")).map((name) => join("assembly", name)), "asconfig.json", join("scripts", "build.mjs"), join("scripts", "fold-offsets.mjs")];
  const sources = inputs.map((file) => statSync(join(REPO, file)).mtimeMs);
  const builtAt = existsSync(path) && existsSync(layoutPath) ? statSync(path).mtimeMs : -Infinity;
  if (sources.some((t) => t > builtAt)) {
    execFileSync(process.execPath, [join(REPO, "scripts", "build.mjs"), "--max-controls", String(maxControls)], { cwd: REPO, stdio: ["ignore", "ignore", "inherit"] });
  }
  const layout = (await import(pathToFileURL(layoutPath).href)) as Layout;
  if (layout.MAX_CONTROLS !== maxControls) throw new Error(`${layoutPath}: MAX_CONTROLS is ${layout.MAX_CONTROLS}, not ${maxControls}`);
  return { maxControls, path, module: new WebAssembly.Module(readFileSync(path)), layout, layoutFile: layoutPath };
}
