// Where a command's results go, and the files that hold what a run learned: the directory
// checked before any work (prepareOut), the files written whole or not at all (a new file
// renamed over the old, so that Ctrl-C, a full disk or a crash while writing never leaves a
// truncated one).
import { accessSync, closeSync, constants, existsSync, mkdirSync, mkdtempSync, openSync, realpathSync, renameSync, rmdirSync, rmSync, statSync, unlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { threadId } from "node:worker_threads";
import { dirname, join, relative, resolve } from "node:path";
import type { Result } from "../methods/method.ts";
import type { JournalData } from "../methods/journal.ts";
import { UsageError } from "../errors.ts";

/** The directories prepareOut made in this process, outermost first. */
const made: string[] = [];

/** Removes the directories prepareOut made that are still empty, deepest first: a command
 *  refused after it made its --out (a board it cannot run on, say) leaves nothing behind. (It
 *  left an empty report directory.) */
export function removeUnusedOut(): void {
  for (const dir of made.splice(0).reverse()) {
    try {
      rmdirSync(dir);
    } catch {
      // (not empty: something was kept there)
    }
  }
}

/** Checks that `dir` (an --out) can take `what` before any work runs, so that a result is never
 *  lost to an unwritable directory; `check` refuses a directory for its own reasons first (a
 *  board build's, which replaces what is there). Kernel filesystems are refused outright (a
 *  mkdir under /proc does not return). The directory is made, unless `make` is false (a board
 *  build's, which may yet be refused: then its deepest existing part must be a directory it can
 *  write). Returns the full path. */
export function prepareOut(dir: string, what = "reports", check?: (full: string) => void, make = true): string {
  const full = resolve(dir);
  const kernel = kernelFilesystem(full);
  if (kernel) throw new UsageError(`--out ${dir} is under ${kernel}, a kernel filesystem, not a place for ${what}; choose a directory of your own`);
  check?.(full);
  try {
    if (make) {
      const first = mkdirSync(full, { recursive: true }); // (the outermost it made, if any)
      const chain: string[] = [];
      for (let dir = full; first !== undefined; dir = dirname(dir)) {
        chain.unshift(dir);
        if (dir === first) break;
      }
      made.push(...chain);
      const probe = join(full, `.hge-write-test-${process.pid}`);
      closeSync(openSync(probe, "w"));
      unlinkSync(probe);
    } else {
      const existing = deepestExisting(full);
      if (!statSync(existing).isDirectory()) throw Object.assign(new Error(`${existing} is a file`), { code: "ENOTDIR" });
      accessSync(existing, constants.W_OK | constants.X_OK);
    }
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    throw new UsageError(`--out ${dir} is not writable (${code}); choose a directory you can write`);
  }
  return full;
}

/** The kernel filesystem (/proc, /sys, /dev) where the absolute `path` really is, a symbolic
 *  link on the way followed (its deepest existing part), or undefined. */
export function kernelFilesystem(path: string): string | undefined {
  const existing = deepestExisting(path);
  const real = join(realpathSync(existing), relative(existing, path));
  return /^\/(proc|sys|dev)(\/|$)/.test(real) ? `/${real.split("/")[1]}` : undefined;
}

/** The absolute `path` itself if it exists, else its deepest existing ancestor. */
function deepestExisting(path: string): string {
  let existing = path;
  while (!existsSync(existing)) existing = dirname(existing);
  return existing;
}

/** Writes `data` to `path` whole or not at all: into a file of this process's and thread's own
 *  beside it, then renamed over it (two runs keeping the same file at once, say two `hge train`
 *  with one --out, each leave a whole one; a shared name tore the file and failed the rename). */
export function keepFile(path: string, data: string | Uint8Array): void {
  const aside = `${path}.${process.pid}-${threadId}.tmp`;
  try {
    writeFileSync(aside, data);
    renameSync(aside, path);
  } catch (error) {
    removeKept(aside); // (a part written before the disk filled)
    throw error;
  }
}

/** An error of the file system (no space, a directory removed, read-only, no permission): Node's
 *  errors for a system call, which name it. */
export function isFileSystemError(error: unknown): error is NodeJS.ErrnoException {
  return error instanceof Error && typeof (error as NodeJS.ErrnoException).syscall === "string";
}

/** A file kept again and again while a run goes on (a journal, the runs of a comparison):
 *  `keep()` writes what `data()` gives now, as keepFile does. A write the file system refuses
 *  does not stop the run: it is said once on stderr, and each later write tries again. */
export function keeper(path: string, data: () => string | Uint8Array): () => void {
  let said = false;
  return () => {
    try {
      keepFile(path, data());
    } catch (error) {
      if (!isFileSystemError(error)) throw error;
      if (!said) process.stderr.write(`hge: cannot keep ${path} (${error.code}); the run goes on, and tries again at the next write\n`);
      said = true;
    }
  };
}

/** Removes a file kept while a run went on (a journal, once the run is kept whole; a part
 *  written aside). One the file system will not remove is left: a journal names a finished run,
 *  which --resume does not replay. */
export function removeKept(path: string): void {
  try {
    rmSync(path, { force: true });
  } catch (error) {
    if (!isFileSystemError(error)) throw error;
  }
}

/** The writes that end a command, `write(dir)` into its --out directory; if the file system
 *  refuses them there (the directory removed, full or read-only since prepareOut checked it),
 *  into a new directory under the system's temporary one instead, said on stderr: what a run
 *  learned is not lost. Returns the directory written and what `write` returned. */
export async function keepFinally<T>(dir: string, write: (dir: string) => T | Promise<T>): Promise<[string, T]> {
  try {
    return [dir, await write(dir)];
  } catch (error) {
    if (!isFileSystemError(error)) throw error;
    const elsewhere = mkdtempSync(join(tmpdir(), "hge-"));
    process.stderr.write(`hge: cannot write in ${dir} (${error.code}); kept in ${elsewhere} instead\n`);
    return [elsewhere, await write(elsewhere)];
  }
}

/** run.json's format: what `--resume` reads (bin/cli.ts: readResume), which refuses any other. */
export const RUN_FORMAT = "hge-run/2";

/** Keeps one run in `dir`: run.json, for the module the checkpoint its learned state is
 *  (checkpoint.bin, the blob Controller.load() and the boards take), and for a data-set run its
 *  journal (journal.json: what it measured, host/methods/journal.ts); `--resume` reads them.
 *  A checkpoint.bin or journal.json an earlier run left there is removed: it is not this run's.
 *  Returns run.json's path. */
export function keepRun(run: Result, dir: string, command: string, journal?: JournalData): string {
  mkdirSync(dir, { recursive: true });
  const json = join(dir, "run.json");
  keepFile(json, JSON.stringify({ format: RUN_FORMAT, command, ...run }, null, 1));
  keepBeside(join(dir, "checkpoint.bin"), run.module?.checkpoint && Buffer.from(run.module.checkpoint, "base64"));
  keepBeside(join(dir, "journal.json"), journal && JSON.stringify({ ...journal, ended: true }));
  return json;
}

/** Writes `data` to `path`, or removes what is there when there is none. */
function keepBeside(path: string, data: string | Uint8Array | undefined): void {
  if (data) keepFile(path, data);
  else if (existsSync(path)) unlinkSync(path);
}
