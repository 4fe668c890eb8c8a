// A pool worker (pool.ts): loads the job runner named in workerData, runs each job it is sent
// and posts progress and the result back.
import { parentPort, workerData } from "node:worker_threads";
import type { JobRunner } from "./pool.ts";

const port = parentPort!;
const { runJob } = (await import(workerData.runner as string)) as JobRunner<unknown, unknown>;
port.on("message", async (message: { id: number; job: unknown }) => {
  try {
    const result = await runJob(message.job, (progress) => port.postMessage({ id: message.id, progress }));
    port.postMessage({ id: message.id, result });
  } catch (error) {
    port.postMessage({ id: message.id, error: error instanceof Error ? `${error.message}\n${error.stack}` : String(error) });
  }
});
port.postMessage({ ready: true });
