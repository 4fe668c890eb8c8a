// Runs jobs on worker threads (one per core by default), longest first. Workers load the
// TypeScript sources through tsx's API, so the bench runs under plain `tsx` with no build step.
import { Worker } from "node:worker_threads";
import { availableParallelism } from "node:os";
import { runJob, type Job, type JobResult } from "./jobs.ts";

export interface PoolOptions {
  workers?: number;
  /** Relative cost of a job, for scheduling the longest first. */
  cost?: (job: Job) => number;
  onDone?: (done: number, total: number, result: JobResult) => void;
}

function startWorker(): Promise<Worker> {
  const api = import.meta.resolve("tsx/esm/api");
  const entry = new URL("./worker.ts", import.meta.url).href;
  const worker = new Worker(`import(${JSON.stringify(api)}).then(({ tsImport }) => tsImport(${JSON.stringify(entry)}, ${JSON.stringify(import.meta.url)}));`, { eval: true });
  return new Promise((resolve, reject) => {
    worker.once("error", reject);
    worker.once("message", (message: { ready?: boolean }) => (message.ready ? resolve(worker) : reject(new Error("worker did not start"))));
  });
}

/** Results in the order of `jobs`. With one worker the jobs run in this thread. */
export async function runPool(jobs: Job[], options: PoolOptions = {}): Promise<JobResult[]> {
  const count = Math.max(1, Math.min(options.workers ?? availableParallelism(), jobs.length));
  const order = jobs.map((_, i) => i);
  if (options.cost) order.sort((a, b) => options.cost!(jobs[b]) - options.cost!(jobs[a]));
  const results: JobResult[] = new Array(jobs.length);
  let done = 0;
  if (count === 1) {
    for (const i of order) {
      results[i] = runJob(jobs[i]);
      options.onDone?.(++done, jobs.length, results[i]);
    }
    return results;
  }
  const workers = await Promise.all(Array.from({ length: count }, startWorker));
  let next = 0;
  try {
    await Promise.all(
      workers.map(
        (worker) =>
          new Promise<void>((resolve, reject) => {
            const feed = () => {
              if (next >= order.length) return resolve();
              const id = order[next++];
              worker.postMessage({ id, job: jobs[id] });
            };
            worker.on("message", (message: { id: number; result?: JobResult; error?: string }) => {
              if (message.error) return reject(new Error(`job ${JSON.stringify(jobs[message.id])} failed: ${message.error}`));
              results[message.id] = message.result!;
              options.onDone?.(++done, jobs.length, message.result!);
              feed();
            });
            worker.on("error", reject);
            feed();
          }),
      ),
    );
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
  return results;
}
