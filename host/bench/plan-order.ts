// What the automatic plan order (train.ts PlanOrderOption "auto", hge train's default) buys as a
// device grows: AND on transistor–resistor networks of 8, 32 and 64 edges, one control each,
// trained with hge train's defaults at order 3 and at auto. Order 3's windows grow as the square
// of the controls (500, 9450, 37800 samples), order 2's as the controls (200, 350, 650); auto
// calibrates on the shorter of order 3's plan and order 2's with room for the distortion probe
// (one tone spacing more: the same windows here) and stays at order 2 where the network's
// third-order distortion is not above the noise.
import { ResistorNetwork } from "../devices/resistor.ts";
import { gateTask } from "../tasks/gates.ts";
import { DEFAULTS, trainTask, type PlanOrderOption } from "../train.ts";

export interface PlanOrderJob {
  kind: "planOrder";
  edges: number;
  planOrder: Extract<PlanOrderOption, 3 | "auto">;
  seed: number;
  capSeconds: number;
}

export interface PlanOrderResult {
  job: PlanOrderJob;
  solved: boolean;
  /** Device time to solve (the cap when not solved). */
  deviceSeconds: number;
  /** The window the run ended on, samples. */
  windowSamples: number;
  wallSeconds: number;
}

export function runPlanOrder(job: PlanOrderJob): PlanOrderResult {
  const started = performance.now();
  const device = new ResistorNetwork({ edgeCount: job.edges });
  const result = trainTask({
    device, task: gateTask("AND", device.inputRangeV), seed: job.seed, maxDeviceSeconds: job.capSeconds,
    tones: { plan: { ...DEFAULTS.band, planOrder: job.planOrder } },
  });
  return {
    job,
    solved: result.solved,
    deviceSeconds: result.solved ? result.deviceSeconds : job.capSeconds,
    windowSamples: result.module!.controller.windowSamples,
    wallSeconds: (performance.now() - started) / 1000,
  };
}
