// The one worker pool: runs jobs on worker threads (one per core by default), longest first.
// A job runner is a module exporting `runJob(job, post)` (post sends progress to the main
// thread); jobs and results are plain data. Workers load the TypeScript sources through tsx's
// API, so the pool works under plain `tsx` and from bin/hge.mjs with no build step. With one
// worker the jobs run in this thread. On Ctrl-C, flushPools() has every job under way keep what
// it would otherwise lose (the runner's `flush`), in whichever thread it runs.
import { Worker } from "node:worker_threads";
import { availableParallelism } from "node:os";

export interface PoolOptions<J, R> {
  workers?: number;
  /** Relative cost of a job, for scheduling the longest first. */
  cost?: (job: J) => number;
  onDone?: (done: number, total: number, result: R, index: number) => void;
  onProgress?: (index: number, progress: unknown) => void;
  /** Checked before each job starts: once true, no more jobs start (those under way finish). */
  stop?: () => boolean;
}

export type JobRunner<J, R> = {
  runJob(job: J, post: (progress: unknown) => void): R | Promise<R>;
  /** Keeps what the jobs under way in this thread would lose if the process ended now. */
  flush?(): void;
};

/** Worker threads a core at most (MAX_WORKERS). A job that computes gains nothing from more
 *  threads than cores; one that waits on a device served elsewhere (README: "Your own device")
 *  gains from a few more. Each thread costs its own V8 heap, the sources and TensorFlow.js where
 *  a method loads it, about 50 MB: 32 on a 2-core machine took 1.5 GB. */
export const WORKERS_PER_CORE = 4;
/** The most worker threads --workers takes (hge compare, hge demo). */
export const MAX_WORKERS = WORKERS_PER_CORE * availableParallelism();

/** How long flushPools() waits for a worker: a job lets its thread's event loop run at least
 *  every Breather.EVERY_MS (methods/method.ts), so only a worker that is stuck misses it. */
const FLUSH_WAIT_MS = 2000;
/** One function a running pool: flushes every job it has under way. */
const running = new Set<() => Promise<void>>();

/** Has every job under way in every running pool keep what it would lose if the process ended
 *  now (Ctrl-C), and resolves once they have (a worker that does not answer in FLUSH_WAIT_MS is
 *  given up on). */
export async function flushPools(): Promise<void> {
  await Promise.all([...running].map((flush) => flush()));
}

function flushWorker(worker: Worker): Promise<void> {
  return new Promise((resolve) => {
    const answered = (message: { flushed?: boolean }) => { if (message.flushed) done(); };
    const timer = setTimeout(() => done(), FLUSH_WAIT_MS);
    const done = () => { clearTimeout(timer); worker.off("message", answered); resolve(); };
    worker.on("message", answered);
    worker.postMessage({ flush: true });
  });
}

function startWorker(runner: URL): Promise<Worker> {
  const api = import.meta.resolve("tsx/esm/api");
  const entry = new URL("./pool-worker.ts", import.meta.url).href;
  const worker = new Worker(`import(${JSON.stringify(api)}).then(({ tsImport }) => tsImport(${JSON.stringify(entry)}, ${JSON.stringify(import.meta.url)}));`, { eval: true, workerData: { runner: runner.href } });
  return new Promise((resolve, reject) => {
    worker.once("error", reject);
    worker.once("message", (message: { ready?: boolean }) => (message.ready ? resolve(worker) : reject(new Error("worker did not start"))));
  });
}

/** A worker thread ended while it had a job (a device file's process.reallyExit, a native
 *  addon's exit; its process.exit is a device fault, device-file.ts: guardedExit): the pool
 *  stops with this, not with the job never answered (Node's exit 13). */
export class WorkerEnded extends Error {}

/** Results in the order of `jobs`; `runner` is the URL of the job runner module. */
export async function runPool<J, R>(runner: URL, jobs: J[], options: PoolOptions<J, R> = {}): Promise<R[]> {
  const count = Math.max(1, Math.min(options.workers ?? availableParallelism(), jobs.length));
  const order = jobs.map((_, i) => i);
  if (options.cost) order.sort((a, b) => options.cost!(jobs[b]) - options.cost!(jobs[a]));
  const results: R[] = new Array(jobs.length);
  let done = 0;
  if (count === 1) {
    const { runJob, flush } = (await import(runner.href)) as JobRunner<J, R>;
    const flushHere = async () => flush?.();
    running.add(flushHere);
    try {
      for (const i of order) {
        await new Promise((resolve) => setImmediate(resolve)); // a Ctrl-C since the last job is heard
        if (options.stop?.()) break;
        results[i] = await runJob(jobs[i], (progress) => options.onProgress?.(i, progress));
        options.onDone?.(++done, jobs.length, results[i], i);
      }
    } finally {
      running.delete(flushHere);
    }
    return results;
  }
  const workers = await Promise.all(Array.from({ length: count }, () => startWorker(runner)));
  const flushWorkers = async () => void (await Promise.all(workers.map(flushWorker)));
  running.add(flushWorkers);
  let next = 0;
  try {
    await Promise.all(
      workers.map(
        (worker) =>
          new Promise<void>((resolve, reject) => {
            const feed = () => {
              if (next >= order.length || options.stop?.()) return resolve();
              const id = order[next++];
              worker.postMessage({ id, job: jobs[id] });
            };
            worker.on("message", (message: { id: number; progress?: unknown; result?: R; error?: string; system?: { message: string }; flushed?: boolean }) => {
              if (message.flushed) return; // (flushWorker's answer)
              if (message.system) return reject(Object.assign(new Error(message.system.message), message.system));
              if (message.error) return reject(new Error(`job ${JSON.stringify(jobs[message.id])} failed: ${message.error}`));
              if ("progress" in message) return options.onProgress?.(message.id, message.progress);
              results[message.id] = message.result!;
              options.onDone?.(++done, jobs.length, message.result!, message.id);
              feed();
            });
            worker.on("error", reject);
            // (after the pool settled, terminate()'s exit rejects nothing)
            worker.on("exit", (code) => reject(new WorkerEnded(`a worker thread ended (exit code ${code}) in the middle of a run`)));
            feed();
          }),
      ),
    );
  } finally {
    running.delete(flushWorkers);
    await Promise.all(workers.map((w) => w.terminate()));
  }
  return results;
}
