// phyll against phyll-hge on iris at equal seeds: per device and number of configurations K,
// held-out accuracy, solved fraction (≥ 90% held out, the task's criterion), median device-s
// and median wall-s, each run on the bench's budget (2000 device-s, no iteration limit), one
// after the other (no worker threads). Device-s medians: over every run as it stopped, and the
// bench's (an unsolved run counts as never: "—" when the median run did not solve).
//   npx tsx scripts/phyll-hge-compare.ts [--devices dnpu,resistor] [--configurations 4,8,16]
//     [--seeds 5] [--cap 2000] [--methods phyll,phyll-hge] [--set name=value,...]
import { parseArgs } from "node:util";
import { buildDevice, DEVICES } from "../host/devices/index.ts";
import { findMethod } from "../host/methods/index.ts";
import { median } from "../host/metrics.ts";
import { textTable } from "../host/report/format.ts";
import { irisTask } from "../host/tasks/iris.ts";

const { values } = parseArgs({
  options: {
    devices: { type: "string", default: "dnpu,resistor" },
    configurations: { type: "string", default: "4,8,16" },
    seeds: { type: "string", default: "5" },
    cap: { type: "string", default: "2000" },
    methods: { type: "string", default: "phyll,phyll-hge" },
    set: { type: "string", default: "" },
  },
});
const devices = values.devices.split(",") as Array<(typeof DEVICES)[number]>;
const configurations = values.configurations.split(",").map(Number);
const seeds = Number(values.seeds);
const capSeconds = Number(values.cap);
const methods = values.methods.split(",");
const extra = Object.fromEntries(values.set.split(",").filter(Boolean).map((pair) => [pair.split("=")[0], Number(pair.split("=")[1])]));
const task = irisTask();
const rows: string[][] = [];
for (const deviceName of devices) {
  for (const k of configurations) {
    for (const name of methods) {
      const method = findMethod(name);
      if (!method) throw new Error(`no method ${name}`);
      const runs = [];
      for (let seed = 1; seed <= seeds; seed++) {
        const result = await method.train(buildDevice(deviceName, "iris"), task, { deviceSeconds: capSeconds }, { seed, options: { configurations: k, ...extra } });
        runs.push(result);
        console.error(`${deviceName} K=${k} ${name} seed ${seed}: ${(result.criterion * 100).toFixed(1)}% held out, ${result.stopped}, ${result.deviceSeconds.toFixed(0)} device-s, ${result.wallSeconds.toFixed(1)} s wall, ${JSON.stringify(result.counters)}`);
      }
      const solved = runs.filter((r) => r.solved).length;
      const bench = median(runs.map((r) => (r.solved ? r.deviceSeconds : Infinity)));
      const accuracies = runs.map((r) => r.criterion * 100);
      rows.push([
        deviceName, String(k), name,
        `${(accuracies.reduce((a, b) => a + b, 0) / runs.length).toFixed(1)} (${Math.min(...accuracies).toFixed(1)}–${Math.max(...accuracies).toFixed(1)})`,
        `${solved}/${runs.length}`,
        median(runs.map((r) => r.deviceSeconds)).toFixed(0),
        Number.isFinite(bench) ? bench.toFixed(0) : "—",
        median(runs.map((r) => r.wallSeconds)).toFixed(1),
      ]);
    }
  }
}
console.log(`iris, seeds 1–${seeds}, cap ${capSeconds} device-s${values.set ? `, ${values.set}` : ""}`);
console.log(textTable([["device", "K", "method", "held-out % mean (min–max)", "solved", "median device-s", "bench median device-s", "median wall-s"], ...rows], 3, true).join("\n"));
