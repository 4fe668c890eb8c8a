// Where a command's results go, and the files that hold what a run learned: the directory
// checked before any work (prepareOut), the files written whole or not at all (a new file
// renamed over the old, so that Ctrl-C, a full disk or a crash while writing never leaves a
// truncated one).
import { closeSync, existsSync, mkdirSync, openSync, renameSync, unlinkSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import type { Result } from "../methods/method.ts";
import type { JournalData } from "../methods/journal.ts";
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

/** Keeps one run in `dir`: run.json, for the module the checkpoint its learned state is
 *  (checkpoint.bin, the blob Controller.load() and the boards take), and for a data-set run its
 *  journal (journal.json: what it measured, host/methods/journal.ts); `--resume` reads them.
 *  A checkpoint.bin or journal.json an earlier run left there is removed: it is not this run's.
 *  Returns run.json's path. */
export function keepRun(run: Result, dir: string, command: string, journal?: JournalData): string {
  mkdirSync(dir, { recursive: true });
  const json = join(dir, "run.json");
  keepFile(json, JSON.stringify({ format: "hge-run/2", command, ...run }, null, 1));
  keepBeside(join(dir, "checkpoint.bin"), run.module?.checkpoint && Buffer.from(run.module.checkpoint, "base64"));
  keepBeside(join(dir, "journal.json"), journal && JSON.stringify(journal));
  return json;
}

/** Writes `data` to `path`, or removes what is there when there is none. */
function keepBeside(path: string, data: string | Uint8Array | undefined): void {
  if (data) keepFile(path, data);
  else if (existsSync(path)) unlinkSync(path);
}
