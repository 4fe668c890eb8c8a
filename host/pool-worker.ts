// A pool worker (pool.ts): loads the job runner named in workerData, runs each job it is sent
// and posts progress and the result back; asked to flush, has the runner keep what its jobs
// under way would lose (pool.ts: flushPools).
import { parentPort, workerData } from "node:worker_threads";
import type { JobRunner } from "./pool.ts";
import { isFileSystemError } from "./report/keep.ts";

const port = parentPort!;
const { runJob, flush } = (await import(workerData.runner as string)) as JobRunner<unknown, unknown>;
port.on("message", async (message: { id: number; job: unknown } | { flush: true }) => {
  if ("flush" in message) {
    try {
      flush?.();
    } finally {
      port.postMessage({ flushed: true });
    }
    return;
  }
  try {
    const result = await runJob(message.job, (progress) => port.postMessage({ id: message.id, progress }));
    port.postMessage({ id: message.id, result });
  } catch (error) {
    // a file system's refusal stays one (the command says it on one line), whatever the thread
    const system = isFileSystemError(error) ? { message: error.message, code: error.code, syscall: error.syscall, path: error.path } : undefined;
    port.postMessage({ id: message.id, error: error instanceof Error ? `${error.message}\n${error.stack}` : String(error), system });
  }
});
port.postMessage({ ready: true });
