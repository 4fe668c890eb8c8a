// Where a command's results go, and the files that hold what a run learned: the directory
// checked before any work (prepareOut), the files written whole or not at all (a new file
// renamed over the old, so that Ctrl-C, a full disk or a crash while writing never leaves a
// truncated one).
import { closeSync, existsSync, mkdirSync, openSync, renameSync, unlinkSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import type { Result } from "../methods/method.ts";
import { UsageError } from "../errors.ts";

/** Checks that `dir` (an --out) can take `what` before any work runs, so that a result is never
 *  lost to an unwritable directory; `check` refuses a directory for its own reasons first (a
 *  board build's, which replaces what is there). Kernel filesystems are refused outright (a
 *  mkdir under /proc does not return). Returns the full path. */
export function prepareOut(dir: string, what = "reports", check?: (full: string) => void): string {
  const full = resolve(dir);
  if (/^\/(proc|sys|dev)(\/|$)/.test(full)) throw new UsageError(`--out ${dir} is under /${full.split("/")[1]}, a kernel filesystem, not a place for ${what}; choose a directory of your own`);
  check?.(full);
  try {
    mkdirSync(full, { recursive: true });
    const probe = join(full, `.hge-write-test-${process.pid}`);
    closeSync(openSync(probe, "w"));
    unlinkSync(probe);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    throw new UsageError(`--out ${dir} is not writable (${code}); choose a directory you can write`);
  }
  return full;
}

export function keepFile(path: string, data: string | Uint8Array): void {
  writeFileSync(`${path}.tmp`, data);
  renameSync(`${path}.tmp`, path);
}

/** Keeps one run in `dir`: run.json, and for the module the checkpoint its learned state is
 *  (checkpoint.bin, the blob Controller.load() and the boards take; `--resume` reads either).
 *  A checkpoint.bin an earlier run left there is removed: it is not this run's. Returns
 *  run.json's path. */
export function keepRun(run: Result, dir: string, command: string): string {
  mkdirSync(dir, { recursive: true });
  const json = join(dir, "run.json"), checkpoint = join(dir, "checkpoint.bin");
  keepFile(json, JSON.stringify({ format: "hge-run/2", command, ...run }, null, 1));
  if (run.module?.checkpoint) keepFile(checkpoint, Buffer.from(run.module.checkpoint, "base64"));
  else if (existsSync(checkpoint)) unlinkSync(checkpoint);
  return json;
}
