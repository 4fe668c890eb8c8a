// The benchmark's units of work: plain data in, plain data out, so that they run the same
// in the main thread or in a worker (host/pool.ts).
import { runFidelity, runLinear, type FidelityJob, type FidelityResult, type LinearJob, type LinearResult } from "./fidelity.ts";
import { runMethodGroup, type MethodGroup, type MethodGroupResult } from "./methods.ts";
import { runPlanOrder, type PlanOrderJob, type PlanOrderResult } from "./plan-order.ts";

export type Job = FidelityJob | LinearJob | MethodGroup | PlanOrderJob;
export type JobResult = FidelityResult | LinearResult | MethodGroupResult | PlanOrderResult;

export async function runJob(job: Job): Promise<JobResult> {
  switch (job.kind) {
    case "fidelity":
      return runFidelity(job);
    case "linear":
      return runLinear(job);
    case "methods":
      return runMethodGroup(job);
    case "planOrder":
      return runPlanOrder(job);
  }
}
