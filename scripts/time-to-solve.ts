// Time to solve the gates with one method, seed by seed, through the bench's own job
// (host/bench/methods.ts runMethod): the numbers behind methods.<GATE>.<method>.medianDeviceSeconds
// and .solvedFraction, without the rest of the bench. A run not solved by the cap counts as the cap.
// --set name=JSON (repeatable) runs with that option of hge train's (host/train.ts TrainOptions)
// in place of its default: what each default bought (README, "What each default bought").
//   npx tsx scripts/time-to-solve.ts [--gates XOR,XNOR] [--seeds 10] [--cap 60] [--method multitone] [--set windowSamples=500]
import { parseArgs } from "node:util";
import { runMethod, type BenchTask } from "../host/bench/methods.ts";
import { GATE_NAMES } from "../host/tasks/gates.ts";

const { values } = parseArgs({ options: { gates: { type: "string" }, seeds: { type: "string" }, cap: { type: "string" }, method: { type: "string" }, set: { type: "string", multiple: true } } });
const options = Object.fromEntries((values.set ?? []).map((pair) => {
  const at = pair.indexOf("=");
  if (at < 1) throw new Error(`--set ${pair}: expected name=JSON`);
  return [pair.slice(0, at), JSON.parse(pair.slice(at + 1))];
}));
const gates = (values.gates?.split(",") ?? [...GATE_NAMES]) as BenchTask[];
const seeds = Number(values.seeds ?? 10);
const capSeconds = Number(values.cap ?? 60);
const method = values.method ?? "multitone";
for (const task of gates) {
  const runs = [];
  for (let seed = 1; seed <= seeds; seed++) runs.push(await runMethod({ kind: "method", task, method, seed, capSeconds, options }));
  const times = runs.map((r) => r.deviceSeconds).sort((a, b) => a - b);
  const median = (times[(times.length - 1) >> 1] + times[times.length >> 1]) / 2;
  const solved = runs.filter((r) => r.solved).length;
  console.log(`${task} ${method}${values.set ? ` ${values.set.join(" ")}` : ""}: solved ${solved}/${seeds} within ${capSeconds} s, median ${median.toFixed(2)} s, max ${times.at(-1)!.toFixed(1)} s; seconds by seed ${runs.map((r) => r.deviceSeconds.toFixed(1)).join(" ")}; restarts ${runs.map((r) => r.restarts).join(" ")}`);
}
