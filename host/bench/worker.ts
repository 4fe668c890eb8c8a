// A pool worker: runs each job it is sent and posts the result back (pool.ts).
import { parentPort } from "node:worker_threads";
import { runJob, type Job } from "./jobs.ts";

const port = parentPort!;
port.on("message", (message: { id: number; job: Job }) => {
  try {
    port.postMessage({ id: message.id, result: runJob(message.job) });
  } catch (error) {
    port.postMessage({ id: message.id, error: error instanceof Error ? `${error.message}\n${error.stack}` : String(error) });
  }
});
port.postMessage({ ready: true });
