// The demo's unit of work (run on the worker pool, host/pool.ts): train one gate on the
// default dopant network with the default method and write its report.
import { DopantNetwork } from "./devices/dopant.ts";
import { gateTask, type GateName } from "./tasks/gates.ts";
import { findMethod } from "./methods/index.ts";
import type { Budget, Result } from "./methods/method.ts";
import { writeRunReport } from "./report/html.ts";

export interface DemoJob {
  kind: "demo";
  gate: GateName;
  seed: number;
  out: string;
  command: string;
  budget: Budget;
}

export async function runJob(job: DemoJob, post: (progress: unknown) => void): Promise<{ run: Result }> {
  const device = DopantNetwork.default();
  const task = gateTask(job.gate, device.inputRangeV);
  const run = await findMethod("multitone")!.train(device, task, job.budget, { seed: job.seed, progress: post });
  await writeRunReport(run, job.out, job.command);
  return { run };
}
