// The demo's unit of work (run on the worker pool, host/pool.ts): train one gate on the device
// (the default dopant network unless --device says another) with the default method and write
// its report.
import { loadDevice, type DeviceSpec } from "./devices/index.ts";
import { DeviceFileError } from "./devices/device-file.ts";
import { gateTask, type GateName } from "./tasks/gates.ts";
import { findMethod } from "./methods/index.ts";
import { trainWithinBudget, type Budget, type Result } from "./methods/method.ts";
import { writeRunReport } from "./report/html.ts";
import { keepFinally, keepRun } from "./report/keep.ts";

export interface DemoJob {
  kind: "demo";
  gate: GateName;
  device: DeviceSpec;
  deviceSeed?: number;
  seed: number;
  out: string;
  command: string;
  budget: Budget;
}

/** The demo's device: every gate takes the same two inputs, so any gate's device. */
export function demoDevice(spec: DeviceSpec, deviceSeed?: number) {
  return loadDevice(spec, "and", deviceSeed);
}

/** The gate's run and the directory it is kept in (its --out, or where keepFinally put it when
 *  that could not be written), or what a device file did wrong in it (device-file.ts). */
export type DemoOutcome = { run: Result; dir: string } | { deviceFault: string };

export async function runJob(job: DemoJob, post: (progress: unknown) => void): Promise<DemoOutcome> {
  try {
    const device = await demoDevice(job.device, job.deviceSeed);
    const task = gateTask(job.gate, device.inputRangeV);
    const run = await trainWithinBudget(findMethod("multitone")!, device, task, job.budget, { seed: job.seed, progress: post });
    const [dir] = await keepFinally(job.out, async (into) => {
      keepRun(run, into, job.command);
      await writeRunReport(run, into, job.command);
    });
    return run.deviceFault ? { deviceFault: run.deviceFault } : { run, dir };
  } catch (error) {
    if (error instanceof DeviceFileError) return { deviceFault: error.message };
    throw error;
  }
}
