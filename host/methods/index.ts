// The registry of training methods: the CLI (`hge methods`, `hge train --method`), the bench
// and the tests all iterate this list. A new method is one file, and here an import and an
// entry in METHODS (a list written out, so that the order of `hge methods` is chosen).
import type { Device } from "../devices/device.ts";
import type { AnyTask } from "../tasks/task.ts";
import type { Method } from "./method.ts";
import { MODULE_METHODS } from "./module.ts";
import { RESISTIVE_METHODS } from "./resistive.ts";
import { PAT_HGE_METHOD, PAT_METHOD } from "./pat.ts";
import { PHYLL } from "./phyll.ts";
import { PHYLL_HGE } from "./phyll-hge.ts";

export const METHODS: readonly Method[] = [
  ...MODULE_METHODS,
  ...RESISTIVE_METHODS,
  PAT_METHOD,
  PAT_HGE_METHOD,
  PHYLL,
  PHYLL_HGE,
];

export const METHOD_NAMES = METHODS.map((method) => method.name);

/** The method called `name`, or undefined. */
export function findMethod(name: string): Method | undefined {
  return METHODS.find((method) => method.name === name);
}

/** Why `method` cannot train `task` on `device` (one line naming what is missing, and the
 *  methods that can: each of them passes every check here, and is among `among`, where given:
 *  a board's estimators), or undefined when it can. */
export function refusal(method: Method, device: Device, task: AnyTask, among?: readonly string[]): string | undefined {
  const why = cannot(method, device, task);
  if (!why) return undefined;
  const can = METHODS.filter((m) => !cannot(m, device, task) && (!among || among.includes(m.name))).map((m) => m.name);
  return `${why} (${can.length ? `methods that can train ${task.name} on it: ${can.join(", ")}` : `no registered method can train ${task.name} on it`})`;
}

function cannot(method: Method, device: Device, task: AnyTask): string | undefined {
  const missing = method.needs.filter((capability) => !device.capabilities.includes(capability));
  if (missing.length) return `method ${method.name} needs a device with ${missing.join(", ")}; ${device.name} offers ${device.capabilities.length ? device.capabilities.join(", ") : "output only"}`;
  const misfit = method.misfit?.(device, task);
  if (misfit) return `method ${method.name}: ${misfit}`;
  if (!method.tasks.includes(task.kind)) return `method ${method.name} cannot train ${task.name} (${task.kind === "dataset" ? "a labelled data set" : "input cases"})`;
  if (task.kind === "cases" && method.losses && !method.losses.includes(task.loss)) return `method ${method.name} trains with the ${method.losses.join(" or ")} loss; ${task.name} uses ${task.loss}`;
  return undefined;
}
