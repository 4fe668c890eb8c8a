#!/usr/bin/env node
// Entry point of the `hge` command: registers tsx so Node 20 can load the TypeScript
// sources, builds the controller module first if this is a fresh clone, then runs bin/cli.ts.
import { existsSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { register } from "tsx/esm/api";

const wasm = fileURLToPath(new URL("../build/hge.wasm", import.meta.url));
if (!existsSync(wasm)) {
  process.stderr.write("hge: build/hge.wasm is missing (a fresh clone?): building it first (npm run build)\n");
  const build = spawnSync(process.execPath, [fileURLToPath(new URL("../scripts/build.mjs", import.meta.url))], { cwd: fileURLToPath(new URL("..", import.meta.url)), stdio: ["ignore", "ignore", "inherit"] });
  if (build.status !== 0 || !existsSync(wasm)) {
    process.stderr.write("hge: the build failed: run `npm install`, then `npm run build`, and try again\n");
    process.exit(2);
  }
}
// A reader that stops early (`hge methods | head`) closes the pipe: that ends the command quietly,
// with the exit code it has by then (`hge train --seed abc 2>&1 | true`: 2, an unsolved run's
// summary unread: 1; 0 if it had none yet). A terminal that is gone (EIO: a closed window, a
// dropped ssh session) is no one's to write to: the output stops there and the command goes on
// (its hang-up, SIGHUP, stops it as Ctrl-C does, keeping what it learned; under nohup it runs
// on). Output that cannot be written otherwise (a full disk) is a usage error (2), as an --out
// that cannot be written is.
const silenced = () => true;
for (const stream of [process.stdout, process.stderr]) {
  stream.on("error", (error) => {
    if (error.code === "EIO") for (const gone of [process.stdout, process.stderr]) gone.write = silenced;
    else process.exit(error.code === "EPIPE" ? (process.exitCode ?? 0) : 2);
  });
}
register();
const cli = await import("./cli.ts");
await cli.main(process.argv.slice(2));
