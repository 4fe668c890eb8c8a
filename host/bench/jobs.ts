// The benchmark's units of work: plain data in, plain data out, so that they run the same
// in the main thread or in a worker (host/pool.ts).
import { runFidelity, runLinear, type FidelityJob, type FidelityResult, type LinearJob, type LinearResult } from "./fidelity.ts";
import { runMethod, type MethodJob, type MethodResult } from "./methods.ts";

export type Job = FidelityJob | LinearJob | MethodJob;
export type JobResult = FidelityResult | LinearResult | MethodResult;

export async function runJob(job: Job): Promise<JobResult> {
  switch (job.kind) {
    case "fidelity":
      return runFidelity(job);
    case "linear":
      return runLinear(job);
    case "method":
      return runMethod(job);
  }
}
