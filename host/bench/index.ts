// `npm run bench [-- --quick]`: every estimator through the one controller module, on the same
// devices, noise and device-time budgets. Prints tables, writes build/bench.json (every figure
// under a stable name, listed in README.md) and build/bench.html (the plots).
// Options: USAGE below (`npm run bench -- --help`).
import { mkdirSync, writeFileSync, readFileSync, existsSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { availableParallelism } from "node:os";
import { fileURLToPath } from "node:url";
import { GATE_NAMES } from "../tasks/gates.ts";
import { SCALABLE_ESTIMATORS, ESTIMATORS, type Estimator } from "../methods/module.ts";
import { runPool } from "../pool.ts";
import type { Job, JobResult } from "./jobs.ts";
import {
  WHITE_SIGMA_V, TONE_AMPLITUDE_V, SAMPLE_RATE_HZ, resistorProblem, toneBoundSquaredError,
  type FidelityJob, type FidelityResult, type LinearJob, type LinearResult, type Scenario, type Normalisation,
} from "./fidelity.ts";
import { groupMethodJobs, methodsFor, type BenchTask, type Drift, type MethodGroupResult, type MethodJob } from "./methods.ts";
import type { PlanOrderResult } from "./plan-order.ts";
import { DEFAULT_FABRICATION_SPREAD } from "../devices/resistor.ts";
import { DEFAULTS } from "../train.ts";
import { METHOD_NAMES, findMethod } from "../methods/index.ts";
import { measureCost, COST_PATHS, measureSize, measureCoreBytes, measureShortcutCost, measureDeviceSpeed, measurePlanSearch, PLAN_SEARCH_GUARDS, type CostFigures } from "./cost.ts";
import { CORE_WASM } from "../controller.ts";
import { loadVariant } from "../variant.ts";
import { textTable } from "../report/format.ts";
import { median, medianMeasured, censoredMedian, censoredMedianInterval, INTERVAL_CONFIDENCE } from "../metrics.ts";
import { writeBenchHtml } from "./report.ts";

export const SECTIONS = ["fidelity", "peers", "methods", "cost", "size", "boards"] as const;
type Section = (typeof SECTIONS)[number];

interface Plan {
  mode: "quick" | "full";
  /** Per control count: device-time budgets (samples at 5 kHz), noise seeds, code seeds; for
   *  multitoneOrder2, noise seeds per budget where they differ (a seed replays the recorded
   *  device through the controller: cheap at short windows), the network's distortion probe's
   *  noise seeds (T ≤ 16384; the rule's false-alarm rate) and the budgets of the collision
   *  contrast (planned order-2 set against a colliding set on the quadratic devices). */
  fidelity: Record<number, { budgets: number[]; seeds: number; codeSeeds: number; order2Seeds?: Record<number, number>; probeSeeds?: number; collision?: { budgets: number[]; seeds: number } }>;
  /** Variance against the bound on the linear device: window and seeds per control count. */
  linear: Record<number, { windowSamples: number; seeds: number }>;
  /** Same time, same noise: one budget per control count. */
  peers: Record<number, { budgetSamples: number; seeds: number }>;
  /** Time to solve: per task, seeds and the device-time cap; every method that can train it,
   *  or the ones named (to keep the full run within 10 minutes). */
  methods: Array<{ task: BenchTask; seeds: number; capSeconds: number; only?: readonly string[] }>;
  /** Model mismatch: the regression on instances with these fabrication spreads. */
  spread: { spreads: number[]; seeds: number; capSeconds: number; only: readonly string[] };
  /** The automatic plan order against order 3: AND on resistor networks (plan-order.ts), seeds
   *  per number of edges (one at 64: a run there takes 30 s of wall time at order 3), and the
   *  device-time cap. */
  planOrder: { seeds: Record<number, number>; capSeconds: number };
  /** Drift: a gate on a DNPU that warms while it is trained (after pat's twin is fitted). */
  drift?: { task: BenchTask; drift: Drift; seeds: number; capSeconds: number; only: readonly string[] };
  costControls: number[];
  costRounds: number;
}

/** The core's noShortcut lever is timed at these control counts: the DNPU's 5, and 9, the most
 *  order-3 tones the core plans in its longest window (512 samples). */
const SHORTCUT_CONTROLS = [5, 9];
/** Cost and size are also measured on a build with this MAX_CONTROLS (host/variant.ts). */
const WIDE_CONTROLS = 256;

/** The model-mismatch stress: the model-based methods (analytic's nominal model, coupled
 *  learning's nominal g′) against the default HGE. (pat learns its twin from the instance, ep
 *  shares coupled's rule; a first full run showed neither moved with the spread.) */
const SPREAD_METHODS = ["multitone", "analytic", "coupled"];

const FULL: Plan = {
  mode: "full",
  fidelity: {
    8: { budgets: [512, 2048, 8192, 32768], seeds: 12, codeSeeds: 12, order2Seeds: { 512: 160, 2048: 160, 8192: 160 }, probeSeeds: 200 },
    32: { budgets: [4096, 16384, 65536], seeds: 8, codeSeeds: 8, order2Seeds: { 4096: 40, 16384: 40 }, probeSeeds: 100 },
    128: { budgets: [4096, 65536, 131072, 262144], seeds: 2, codeSeeds: 1, order2Seeds: { 4096: 60 }, probeSeeds: 40, collision: { budgets: [4096], seeds: 20 } },
  },
  linear: { 8: { windowSamples: 512, seeds: 400 }, 32: { windowSamples: 4096, seeds: 150 }, 128: { windowSamples: 65536, seeds: 24 } },
  peers: { 8: { budgetSamples: 2048, seeds: 40 }, 32: { budgetSamples: 16384, seeds: 24 } },
  methods: [
    // every method that trains gates on the hardest one; the module's estimators on all six
    ...GATE_NAMES.map((task) => ({ task, seeds: 10, capSeconds: 120, ...(task === "XOR" ? {} : { only: ESTIMATORS }) })),
    { task: "regression", seeds: 10, capSeconds: 300 },
    { task: "iris", seeds: 10, capSeconds: DEFAULTS.datasetBudgetSeconds },
  ],
  spread: { spreads: [0, 0.05, 0.2], seeds: 10, capSeconds: 300, only: SPREAD_METHODS },
  planOrder: { seeds: { 8: 5, 32: 5, 64: 1 }, capSeconds: 600 },
  drift: { task: "XOR", drift: { thermalFraction: 0.1, startSeconds: 20, endSeconds: 25 }, seeds: 10, capSeconds: 120, only: ["multitone", "pat", "pat-hge"] },
  costControls: [8, 64, 128, WIDE_CONTROLS],
  costRounds: 7,
};

const QUICK: Plan = {
  mode: "quick",
  fidelity: { 8: { budgets: [512, 2048, 8192], seeds: 3, codeSeeds: 3 }, 32: { budgets: [4096, 16384], seeds: 2, codeSeeds: 2 }, 128: { budgets: [4096], seeds: 3, codeSeeds: 1 } },
  linear: { 8: { windowSamples: 512, seeds: 100 }, 32: { windowSamples: 4096, seeds: 30 } },
  peers: { 8: { budgetSamples: 2048, seeds: 8 }, 32: { budgetSamples: 16384, seeds: 4 } },
  methods: [
    { task: "AND", seeds: 1, capSeconds: 30, only: ESTIMATORS },
    { task: "NAND", seeds: 1, capSeconds: 30, only: ESTIMATORS },
    { task: "regression", seeds: 1, capSeconds: 150, only: ["multitone", "analytic", "coupled"] },
  ],
  spread: { spreads: [], seeds: 1, capSeconds: 150, only: SPREAD_METHODS },
  planOrder: { seeds: { 8: 1, 32: 1 }, capSeconds: 600 },
  costControls: [8, 64, 128, WIDE_CONTROLS],
  costRounds: 3,
};

const PEER_SCENARIOS: Scenario[] = ["white", "pinkDrift"];
/** Multi-tone planned free of second-order products only (PlanOrder 2): its figures' name. */
const ORDER2 = "multitoneOrder2";
/** The plan orders compared on growing resistor networks (plan-order.ts), and their figures' names. */
const PLAN_ORDERS = [3, "auto"] as const;
const planOrderName = (order: (typeof PLAN_ORDERS)[number]) => (order === 3 ? "order3" : "auto");
/** The fidelity table's estimators: the scalable ones, then multi-tone at plan order 2. */
const FIDELITY_COLUMNS = [...SCALABLE_ESTIMATORS, ORDER2] as const;
const planOrderOf = (column: (typeof FIDELITY_COLUMNS)[number]) => (column === ORDER2 ? 2 : undefined);
const methodOf = (column: (typeof FIDELITY_COLUMNS)[number]): Estimator => (column === ORDER2 ? "multitone" : column);
const NORMALISATIONS: Normalisation[] = ["peak", "rms"];

/** Every job the plan asks for. */
function planJobs(plan: Plan, sections: Set<Section>): Job[] {
  const jobs: Job[] = [];
  for (const [controlsKey, f] of Object.entries(plan.fidelity)) {
    const controls = Number(controlsKey);
    const peers = plan.peers[controls];
    for (const method of SCALABLE_ESTIMATORS) {
      for (const budgetSamples of f.budgets) {
        const atPeers = sections.has("peers") && peers?.budgetSamples === budgetSamples;
        if (!sections.has("fidelity") && !atPeers) continue;
        for (const normalisation of NORMALISATIONS) {
          if (normalisation === "rms" && (!atPeers || method === "multitone")) continue; // a tone's amplitude is the same in both
          jobs.push({
            kind: "fidelity", controls, method, budgetSamples, normalisation,
            scenarios: atPeers ? PEER_SCENARIOS : ["white"],
            seeds: atPeers ? peers.seeds : f.seeds,
            codeSeeds: atPeers ? peers.seeds : f.codeSeeds,
          } satisfies FidelityJob);
          if (atPeers) {
            jobs.push({ kind: "fidelity", controls, method, budgetSamples, normalisation, scenarios: ["lowpass"], seeds: peers.seeds, codeSeeds: peers.seeds });
          }
        }
        if (method === "multitone" && sections.has("fidelity")) {
          const seeds = f.order2Seeds?.[budgetSamples] ?? f.seeds;
          jobs.push({
            kind: "fidelity", controls, method, budgetSamples, normalisation: "peak", scenarios: ["white"], seeds, codeSeeds: Math.min(f.codeSeeds, seeds), planOrder: 2,
            ...(f.probeSeeds ? { probeSeeds: f.probeSeeds } : {}),
            ...(f.collision?.budgets.includes(budgetSamples) ? { collisionSeeds: f.collision.seeds } : {}),
          });
        }
      }
    }
  }
  if (sections.has("fidelity")) {
    for (const [controlsKey, l] of Object.entries(plan.linear)) {
      for (const column of FIDELITY_COLUMNS) {
        jobs.push({ kind: "linear", controls: Number(controlsKey), method: methodOf(column), windowSamples: l.windowSamples, seeds: l.seeds, planOrder: planOrderOf(column) } satisfies LinearJob);
      }
    }
  }
  if (sections.has("methods")) {
    const runs = new Map<string, MethodJob>(); // identical runs (the default spread's) once
    const add = (job: MethodJob) => runs.set(JSON.stringify(job), job);
    for (const { task, seeds, capSeconds, only } of plan.methods) {
      for (const method of methodsFor(task).filter((m) => !only || only.includes(m))) {
        for (let seed = 1; seed <= seeds; seed++) add({ kind: "method", task, method, seed, capSeconds });
      }
    }
    const { spreads, seeds, capSeconds, only } = plan.spread;
    for (const fabricationSpread of spreads) {
      for (const method of methodsFor("regression").filter((m) => only.includes(m))) {
        for (let seed = 1; seed <= seeds; seed++) add({ kind: "method", task: "regression", method, seed, capSeconds, ...(fabricationSpread === DEFAULT_FABRICATION_SPREAD ? {} : { fabricationSpread }) });
      }
    }
    if (plan.drift) {
      const { task, drift, seeds, capSeconds, only } = plan.drift;
      for (const method of only) for (let seed = 1; seed <= seeds; seed++) add({ kind: "method", task, method, seed, capSeconds, drift });
    }
    jobs.push(...groupMethodJobs([...runs.values()]));
    for (const [edges, seeds] of Object.entries(plan.planOrder.seeds)) {
      for (const planOrder of PLAN_ORDERS) for (let seed = 1; seed <= seeds; seed++) jobs.push({ kind: "planOrder", edges: Number(edges), planOrder, seed, capSeconds: plan.planOrder.capSeconds });
    }
  }
  return jobs;
}

/** Rough wall seconds of a job on this machine, for running the longest first. */
function jobCost(job: Job): number {
  const devicePerSampleUs: Record<number, number> = { 8: 0.5, 32: 2.8, 128: 75 };
  const controllerUs = (n: number) => 0.15 + 0.012 * n;
  if (job.kind === "fidelity") {
    const passes = job.method === "spsa" || job.method === "random" ? Math.min(job.codeSeeds, job.seeds) : 1;
    const noiseUs = job.scenarios.includes("pinkDrift") ? 1 : 0.1;
    const probe = job.budgetSamples <= 16384 ? (job.probeSeeds ?? 0) * 2 * controllerUs(job.controls) : 0;
    const collision = (job.collisionSeeds ?? 0) * 4 * (controllerUs(job.controls) + 0.01 * job.controls);
    return (job.budgetSamples * (passes * (devicePerSampleUs[job.controls] + controllerUs(job.controls)) + job.seeds * job.scenarios.length * (controllerUs(job.controls) + noiseUs) + probe + collision)) / 1e6;
  }
  if (job.kind === "linear") return (job.windowSamples * job.seeds * (controllerUs(job.controls) + 0.1 + 0.01 * job.controls)) / 1e6;
  if (job.kind === "planOrder") return (job.planOrder === 3 ? 30 : 12) * (job.edges / 64) ** 3.3; // measured at 64 edges in a full run
  return job.jobs.reduce((sum, run) => sum + methodCost(run), 0);
}

/** Rough wall seconds of one method run (per-run means of a full run on this machine). */
function methodCost(job: MethodJob): number {
  if (job.method === "pat" || job.method === "pat-hge") return 8; // TensorFlow.js twin fits
  if (job.method === "coupled") return 7;
  if (job.method === "ep" || job.method === "published") return 4;
  if (job.task === "iris") return 3;
  return job.task === "regression" ? 1.5 : 0.3;
}

const rms = (values: number[]) => Math.sqrt(values.reduce((s, x) => s + x * x, 0) / values.length);
const mean = (values: number[]) => values.reduce((s, x) => s + x, 0) / values.length;
/** The standard error of rms(values) over independent seeds: that of the mean of the squares
 *  (their sample standard deviation / √n) through d√m/dm = 1/(2√m). NaN for one value. */
function rmsStandardError(values: number[]): number {
  const squares = values.map((x) => x * x);
  const m = mean(squares);
  const variance = squares.reduce((s, x) => s + (x - m) ** 2, 0) / (values.length - 1);
  return Math.sqrt(variance / values.length) / (2 * Math.sqrt(m));
}

export type Figures = Record<string, number | null>;

export interface Series {
  fidelity: Array<{ controls: number; method: Estimator; samples: number; deviceSeconds: number; relativeError: number; cosine: number; noiselessRelativeError: number }>;
  bound: Array<{ controls: number; samples: number; deviceSeconds: number; relativeError: number }>;
  linear: Array<{ controls: number; method: Estimator; varianceOverBound: number; worstBiasZ: number }>;
  peers: Array<{ controls: number; budgetSamples: number; scenario: Scenario; normalisation: Normalisation; method: Estimator; relativeError: number; errorRatio: number }>;
  methods: Array<{ task: BenchTask; method: string; seeds: number; solved: number; medianDeviceSeconds: number | null; interval: [number | null, number | null] | null; capSeconds: number; times: Array<number | null>; plainSolved?: number }>;
  spread: Array<{ spread: number; method: string; seeds: number; solved: number; medianDeviceSeconds: number | null; capSeconds: number }>;
  drift: Array<{ method: string; seeds: number; solved: number; medianDeviceSeconds: number | null; capSeconds: number }>;
  planOrder?: Array<{ edges: number; planOrder: string; seeds: number; solved: number; medianDeviceSeconds: number | null; windowSamples: number; capSeconds: number }>;
  cost: CostFigures[];
}

/** Turns the job results into flat named figures and the series the plots draw. */
function collect(plan: Plan, results: JobResult[]): { figures: Figures; series: Series } {
  const figures: Figures = {};
  const series: Series = { fidelity: [], bound: [], linear: [], peers: [], methods: [], spread: [], drift: [], planOrder: [], cost: [] };
  const fidelity = results.filter((r): r is FidelityResult => r.job.kind === "fidelity");
  const find = (controls: number, method: Estimator, budget: number, normalisation: Normalisation, scenario: Scenario, planOrder?: number) =>
    fidelity.find((r) => r.job.controls === controls && r.job.budgetSamples === budget && r.job.scenarios.includes(scenario) && r.job.planOrder === planOrder &&
      (r.job.method === method) && (r.job.normalisation === normalisation || (method === "multitone" && r.job.normalisation === "peak")));

  for (const [controlsKey, f] of Object.entries(plan.fidelity)) {
    const controls = Number(controlsKey);
    const exactNorm = Math.hypot(...resistorProblem(controls).exact);
    for (const budget of f.budgets) {
      const any = fidelity.some((r) => r.job.controls === controls && r.job.budgetSamples === budget);
      if (!any) continue;
      const boundError = Math.sqrt(toneBoundSquaredError(controls, budget)) / exactNorm;
      figures[`fidelity.n${controls}.T${budget}.boundRelativeError`] = boundError;
      series.bound.push({ controls, samples: budget, deviceSeconds: budget / SAMPLE_RATE_HZ, relativeError: boundError });
      for (const method of FIDELITY_COLUMNS) {
        const r = find(controls, methodOf(method), budget, "peak", "white", planOrderOf(method));
        if (r?.planMinWindow !== undefined) figures[`fidelity.n${controls}.${method}.planMinWindow`] = r.planMinWindow;
        const white = r?.scenarios.white;
        if (!r || !white) continue; // not run, or the planner refuses this budget
        const key = `fidelity.n${controls}.T${budget}.${method}`;
        figures[`${key}.relativeError`] = rms(white.relativeError);
        if (methodOf(method) === "multitone") {
          figures[`${key}.errorOverBound`] = rms(white.relativeError) / boundError;
          figures[`${key}.errorOverBoundStandardError`] = rmsStandardError(white.relativeError) / boundError;
        }
        for (const [device, d] of Object.entries(r.distortion ?? {})) {
          const at = device === "network" ? key : `${key}.${device}`;
          figures[`${at}.thirdOrderAmplitude`] = d.thirdOrderAmplitude;
          figures[`${at}.noiseAmplitude`] = d.noiseAmplitude;
          figures[`${at}.planOrderChosen`] = d.planOrderChosen;
        }
        if (r.probe) {
          figures[`${key}.probe.seeds`] = r.probe.seeds;
          figures[`${key}.probe.order3Fraction`] = r.probe.order3Fraction;
          figures[`${key}.probe.noiselessThirdOrderAmplitude`] = r.probe.noiselessThirdOrderAmplitude;
          figures[`${key}.probe.noiseAmplitude`] = r.probe.noiseAmplitude;
          figures[`${key}.probe.noiselessOverNoise`] = r.probe.noiselessThirdOrderAmplitude / r.probe.noiseAmplitude;
        }
        if (r.collision) {
          figures[`${key}.collision.seeds`] = r.collision.seeds;
          figures[`${key}.collision.plannedHits`] = r.collision.plannedHits;
          figures[`${key}.collision.collidingHits`] = r.collision.collidingHits;
          for (const device of ["static", "lagged"] as const) {
            figures[`${key}.collision.${device}.plannedErrorOverBound`] = r.collision[device].planned;
            figures[`${key}.collision.${device}.collidingErrorOverBound`] = r.collision[device].colliding;
          }
        }
        figures[`${key}.seeds`] = white.relativeError.length;
        figures[`${key}.cosine`] = mean(white.cosine);
        figures[`${key}.noiselessRelativeError`] = r.noiseless.relativeError;
        figures[`${key}.samples`] = r.samples;
        if (method !== ORDER2) series.fidelity.push({ controls, method, samples: r.samples, deviceSeconds: r.samples / SAMPLE_RATE_HZ, relativeError: rms(white.relativeError), cosine: mean(white.cosine), noiselessRelativeError: r.noiseless.relativeError });
      }
    }
  }
  for (const r of results.filter((r): r is LinearResult => r.job.kind === "linear")) {
    const method = r.job.planOrder === 2 ? ORDER2 : r.job.method;
    figures[`crb.n${r.job.controls}.${method}.varianceOverBound`] = r.varianceOverBound;
    figures[`crb.n${r.job.controls}.${method}.worstBiasZ`] = r.worstBiasZ;
    figures[`crb.n${r.job.controls}.${method}.samples`] = r.samples;
    if (method !== ORDER2) series.linear.push({ controls: r.job.controls, method, varianceOverBound: r.varianceOverBound, worstBiasZ: r.worstBiasZ });
  }
  for (const [controlsKey, p] of Object.entries(plan.peers)) {
    const controls = Number(controlsKey);
    for (const scenario of [...PEER_SCENARIOS, "lowpass"] as Scenario[]) {
      const reference = find(controls, "multitone", p.budgetSamples, "peak", scenario);
      if (!reference) continue;
      const referenceError = rms(reference.scenarios[scenario].relativeError);
      for (const normalisation of NORMALISATIONS) {
        for (const method of SCALABLE_ESTIMATORS) {
          const r = find(controls, method, p.budgetSamples, normalisation, scenario);
          if (!r) continue;
          const error = rms(r.scenarios[scenario].relativeError);
          const key = `peers.n${controls}.T${p.budgetSamples}.${scenario}.${normalisation}.${method}`;
          figures[`${key}.relativeError`] = error;
          figures[`${key}.cosine`] = mean(r.scenarios[scenario].cosine);
          if (method !== "multitone") figures[`${key}.errorRatio`] = error / referenceError;
          series.peers.push({ controls, budgetSamples: p.budgetSamples, scenario, normalisation, method, relativeError: error, errorRatio: error / referenceError });
        }
      }
    }
  }
  const runs = results.flatMap((r) => (r.job.kind === "methods" ? (r as MethodGroupResult).results : []));
  const nominal = runs.filter((r) => r.job.fabricationSpread === undefined && !r.job.drift);
  for (const { task } of plan.methods) {
    const reference = nominal.filter((r) => r.job.task === task && r.job.method === "multitone");
    const referenceMedian = reference.length ? censoredMedian(reference) : null;
    for (const method of METHOD_NAMES) {
      const mine = nominal.filter((r) => r.job.task === task && r.job.method === method);
      if (!mine.length) continue;
      const seconds = censoredMedian(mine);
      const key = `methods.${task}.${method}`;
      figures[`${key}.medianDeviceSeconds`] = seconds;
      figures[`${key}.solvedFraction`] = mine.filter((r) => r.solved).length / mine.length;
      figures[`${key}.medianCriterion`] = medianMeasured(mine.map((r) => r.criterion));
      figures[`${key}.medianWallSeconds`] = median(mine.map((r) => r.wallSeconds));
      figures[`${key}.wallSecondsPerIteration`] = median(mine.map((r) => r.wallSeconds / Math.max(1, r.iterations)));
      figures[`${key}.ratioToMultitone`] = seconds === null || referenceMedian === null ? null : seconds / referenceMedian;
      const interval = censoredMedianInterval(mine);
      figures[`${key}.medianIntervalLow`] = interval ? interval[0] : null;
      figures[`${key}.medianIntervalHigh`] = interval ? interval[1] : null;
      const checked = mine.some((r) => r.plainSolved !== undefined);
      const plainSolved = mine.filter((r) => r.plainSolved).length;
      if (checked) figures[`${key}.plainSolvedFraction`] = plainSolved / mine.length;
      series.methods.push({
        task, method, seeds: mine.length, solved: mine.filter((r) => r.solved).length, medianDeviceSeconds: seconds, interval,
        ...(checked ? { plainSolved } : {}),
        capSeconds: mine[0].job.capSeconds, times: mine.map((r) => (r.solved ? r.deviceSeconds : null)),
      });
    }
  }
  if (plan.drift) {
    for (const method of plan.drift.only) {
      const mine = runs.filter((r) => r.job.drift && r.job.method === method);
      if (!mine.length) continue;
      const key = `methods.drift.${plan.drift.task}.${method}`;
      figures[`${key}.medianDeviceSeconds`] = censoredMedian(mine);
      figures[`${key}.solvedFraction`] = mine.filter((r) => r.solved).length / mine.length;
      figures[`${key}.medianCriterion`] = medianMeasured(mine.map((r) => r.criterion));
      series.drift.push({ method, seeds: mine.length, solved: mine.filter((r) => r.solved).length, medianDeviceSeconds: censoredMedian(mine), capSeconds: mine[0].job.capSeconds });
    }
  }
  for (const spread of plan.spread.spreads) {
    for (const method of METHOD_NAMES.filter((m) => plan.spread.only.includes(m))) {
      // the default spread's runs are the nominal regression's (planJobs runs them once)
      const mine = runs.filter((r) => r.job.task === "regression" && r.job.method === method && r.job.capSeconds === plan.spread.capSeconds &&
        (r.job.fabricationSpread ?? DEFAULT_FABRICATION_SPREAD) === spread);
      if (!mine.length) continue;
      const seconds = censoredMedian(mine);
      const key = `methods.spread${Math.round(spread * 100)}.regression.${method}`;
      figures[`${key}.medianDeviceSeconds`] = seconds;
      figures[`${key}.solvedFraction`] = mine.filter((r) => r.solved).length / mine.length;
      figures[`${key}.medianCriterion`] = medianMeasured(mine.map((r) => r.criterion));
      series.spread.push({ spread, method, seeds: mine.length, solved: mine.filter((r) => r.solved).length, medianDeviceSeconds: seconds, capSeconds: mine[0].job.capSeconds });
    }
  }
  const orders = results.filter((r): r is PlanOrderResult => r.job.kind === "planOrder");
  for (const edges of Object.keys(plan.planOrder.seeds).map(Number)) {
    const order3Seconds = censoredMedian(orders.filter((r) => r.job.edges === edges && r.job.planOrder === 3));
    for (const order of PLAN_ORDERS) {
      const mine = orders.filter((r) => r.job.edges === edges && r.job.planOrder === order);
      if (!mine.length) continue;
      const key = `planOrder.resistor${edges}.${planOrderName(order)}`;
      const seconds = censoredMedian(mine);
      const solved = mine.filter((r) => r.solved).length;
      const windowSamples = median(mine.map((r) => r.windowSamples));
      figures[`${key}.medianDeviceSeconds`] = seconds;
      figures[`${key}.solvedFraction`] = solved / mine.length;
      figures[`${key}.windowSamples`] = windowSamples;
      if (order !== 3) figures[`${key}.overOrder3`] = seconds === null || order3Seconds === null ? null : seconds / order3Seconds;
      series.planOrder!.push({ edges, planOrder: planOrderName(order), seeds: mine.length, solved, medianDeviceSeconds: seconds, windowSamples, capSeconds: mine[0].job.capSeconds });
    }
  }
  return { figures, series };
}

// ---- printing ------------------------------------------------------------------------------

function formatNumber(x: number | null | undefined, digits = 3): string {
  if (x === null || x === undefined || !Number.isFinite(x)) return "—";
  if (x !== 0 && (Math.abs(x) >= 1e4 || Math.abs(x) < 1e-3)) return x.toExponential(digits - 1);
  return x.toPrecision(digits);
}

function table(title: string, header: string[], rows: string[][], left = 1): string {
  return [`\n${title}`, ...textTable([header, ...rows], left, true)].join("\n");
}

export function formatTables(plan: Plan, figures: Figures, series: Series): string {
  const out: string[] = [];
  const methods = [...SCALABLE_ESTIMATORS];
  const columns = [...FIDELITY_COLUMNS];
  if (series.fidelity.length) {
    const rows: string[][] = [];
    for (const [controlsKey, f] of Object.entries(plan.fidelity)) {
      for (const budget of f.budgets) {
        const key = `fidelity.n${controlsKey}.T${budget}`;
        if (figures[`${key}.boundRelativeError`] === undefined) continue;
        const refused = (m: string) => (figures[`fidelity.n${controlsKey}.${m}.planMinWindow`] ?? 0) > budget;
        rows.push([`${controlsKey} × ${(budget / SAMPLE_RATE_HZ).toFixed(2)} s`, formatNumber(figures[`${key}.boundRelativeError`]),
          ...columns.map((m) => refused(m) ? `plan needs ${figures[`fidelity.n${controlsKey}.${m}.planMinWindow`]}` :
            `${formatNumber(figures[`${key}.${m}.relativeError`])} (${formatNumber(figures[`${key}.${m}.cosine`], 4)})`)]);
      }
    }
    out.push(table("1. Fidelity on the transistor-resistor network: relative error (cosine) vs the adjoint gradient; white noise, equal peak amplitude; multitone plans order 3, multitoneOrder2 order 2; tone CRB: the Cramér–Rao bound of sinusoidal probing at peak a, 2σ²/(a²T) per control (±a codes carry twice the power: their bound is √2 lower in error)",
      ["controls × device time", "tone CRB", ...columns], rows));
  }
  if (series.linear.length) {
    const counts = [...new Set(series.linear.map((l) => l.controls))];
    out.push(table("1b. Linear device, white noise: variance / tone Cramér–Rao bound 2σ²/(a²T) at equal peak (worst |bias| in standard errors; multitone lengthened to its plan's shortest window)",
      ["controls", ...columns], counts.map((n) => [String(n), ...columns.map((m) => `${formatNumber(figures[`crb.n${n}.${m}.varianceOverBound`])} (${formatNumber(figures[`crb.n${n}.${m}.worstBiasZ`], 2)})`)])));
  }
  if (series.peers.length) {
    const rows: string[][] = [];
    for (const [controlsKey, p] of Object.entries(plan.peers)) {
      for (const scenario of [...PEER_SCENARIOS, "lowpass"]) {
        for (const normalisation of NORMALISATIONS) {
          const key = `peers.n${controlsKey}.T${p.budgetSamples}.${scenario}.${normalisation}`;
          if (figures[`${key}.multitone.relativeError`] === undefined) continue;
          rows.push([`${controlsKey} ${scenario} ${normalisation}`, formatNumber(figures[`${key}.multitone.relativeError`]),
            ...methods.slice(1).map((m) => formatNumber(figures[`${key}.${m}.errorRatio`]))]);
        }
      }
    }
    out.push(table("2. Same device time, same noise: peer error / multi-tone error (multi-tone: its relative error)", ["controls scenario norm", ...methods], rows));
  }
  const cell = (t: { medianDeviceSeconds: number | null; capSeconds: number; solved: number; seeds: number } | undefined) =>
    t ? `${t.medianDeviceSeconds === null ? `>${t.capSeconds}` : t.medianDeviceSeconds.toFixed(1)} s ${t.solved}/${t.seeds}` : "—";
  // section 3's tables: a row per task, a column per method that ran, `format` per cell
  const methodsShown = METHOD_NAMES.filter((m) => series.methods.some((t) => t.method === m));
  const methodRows = (format: (t: (typeof series.methods)[number] | undefined) => string) =>
    [...new Set(series.methods.map((t) => t.task))].map((task) => [task, ...methodsShown.map((m) => format(series.methods.find((x) => x.task === task && x.method === m)))]);
  if (series.methods.length) {
    out.push(table("3. Methods: median device-seconds to solve, solved/seeds (— : the method cannot train the task)", ["task", ...methodsShown], methodRows(cell)));
    out.push(table("3a. What each method needs besides the device", ["method", "needs"], methodsShown.map((m) => [m, findMethod(m)!.requires || "nothing (the module and the device)"]), 2));
  }
  if (series.spread.length) {
    const shown = METHOD_NAMES.filter((m) => series.spread.some((t) => t.method === m));
    const spreads = [...new Set(series.spread.map((t) => t.spread))];
    out.push(table("3b. Model mismatch: the regression on instances with a fabrication spread (median device-seconds, solved/seeds)", ["spread", ...shown],
      spreads.map((spread) => [`${spread * 100}%`, ...shown.map((m) => cell(series.spread.find((x) => x.spread === spread && x.method === m)))])));
  }
  if (series.drift.length && plan.drift) {
    const { task, drift } = plan.drift;
    out.push(table(`3c. Drift: ${task} on a DNPU warming by ${drift.thermalFraction * 100}% of kT between ${drift.startSeconds} and ${drift.endSeconds} device-s (median device-seconds, solved/seeds)`,
      series.drift.map((t) => t.method), [series.drift.map((t) => cell(t))]));
  }
  if (series.methods.length) {
    const interval = (t: (typeof series.methods)[number] | undefined) =>
      !t ? "—" : t.interval ? t.interval.map((x) => (x === null ? "never" : x.toFixed(1))).join("–") : "too few seeds";
    out.push(table(`3d. The ${INTERVAL_CONFIDENCE * 100}% interval of each median in table 3, device-s (an end "never": among the unsolved runs)`, ["task", ...methodsShown], methodRows(interval)));
    const plain = (t: (typeof series.methods)[number] | undefined) => (t?.plainSolved === undefined ? "—" : `${t.plainSolved}/${t.solved}`);
    out.push(table("3f. Solved runs whose final controls solve the task read plainly (the simulated device's output: no perturbation, no noise)", ["task", ...methodsShown], methodRows(plain)));
  }
  if (series.planOrder?.length) {
    const edges = [...new Set(series.planOrder.map((t) => t.edges))];
    const cellOf = (n: number, order: string) => {
      const t = series.planOrder!.find((x) => x.edges === n && x.planOrder === order);
      return t ? `${cell(t)}, ${t.windowSamples}-sample windows` : "—";
    };
    out.push(table("3e. Plan order: AND on resistor networks of N edges, hge train's defaults at order 3 and at auto (median device-seconds, solved/seeds, the window trained in)",
      ["edges", "order 3", "auto", "auto / order 3"], edges.map((n) => [String(n), cellOf(n, "order3"), cellOf(n, "auto"), formatNumber(figures[`planOrder.resistor${n}.auto.overOrder3`] as number)])));
  }
  if (series.cost.length) {
    out.push(table("4. Controller cost: ns per control per typical sample (module under Node vs the same algorithm in plain TypeScript, same run)", ["path", "window", "controls", "build", "module", "TypeScript", "module/TS"],
      series.cost.map((c) => [c.path, String(c.windowSamples), String(c.controls), c.module, formatNumber(c.moduleNsPerControlSample), formatNumber(c.typescriptNsPerControlSample), formatNumber(c.moduleOverTypescript)])));
  }
  if (figures["devices.dopant.evaluationsPerSecond"] !== undefined) {
    out.push(table("4b. Simulated devices: evaluations per wall second", ["device", "evaluations/s"],
      [["dopant network (default)", "devices.dopant"], ["resistor network, 256 edges", "devices.resistor256"], ["example device file, checked at every call", "devices.exampleFile"],
        ["the same behind the asynchronous files' thread", "devices.exampleOnThread"]].map(([device, name]) => [device, formatNumber(figures[`${name}.evaluationsPerSecond`] as number)])));
  }
  if (figures[`cost.planSearch.guard${PLAN_SEARCH_GUARDS[0]}.refusedMs`] !== undefined) {
    out.push(table("4c. configure() with 128 planned order-3 tones (band 20–2500 Hz at 5 kHz): refused in a 1000-sample window, searching for the shortest that plans, against accepted in that window (ms)",
      ["guard bins", "window named", "refused", "accepted", "refused/accepted"],
      PLAN_SEARCH_GUARDS.map((g) => [String(g), ...["namedWindow", "refusedMs", "acceptedMs", "refusedOverAccepted"].map((k) => formatNumber(figures[`cost.planSearch.guard${g}.${k}`] as number))])));
  }
  if (figures["size.releaseBytes"] !== undefined) {
    out.push(table("5. Size", ["figure", "hge.wasm", "hge-core.wasm", `hge-c${WIDE_CONTROLS}.wasm`], ["releaseBytes", "unfoldedBytes", "memoryPages", "memoryUsedBytes", "maxControls", "imports"].map((k) => [k, String(figures[`size.${k}`]), String(figures[`size.core.${k}`]), String(figures[`size.c${WIDE_CONTROLS}.${k}`])])));
    const core = (prefix: string) => Object.keys(figures).filter((k) => k.startsWith(`size.core.${prefix}.`)).map((k) => [k.slice(`size.core.${prefix}.`.length), String(figures[k])]);
    out.push(table(`5b. The core's ${figures["size.core.releaseBytes"]} bytes (limit ${figures["size.core.limitBytes"]}): code by source file, nothing inlined, and the sections other than code`, ["part", "bytes"],
      [...core("parts"), ["sections other than code", String(figures["size.core.nonCodeBytes"])]]));
    out.push(table("5c. Levers tried on the core: its bytes built with each", ["lever", "bytes"], core("levers")));
    out.push(table("5d. The noShortcut lever's time: ns per sample under Node (core's longest window)", ["controls", "core", "noShortcut", "ratio"],
      SHORTCUT_CONTROLS.map((n) => [String(n), ...["coreNsPerSample", "noShortcutNsPerSample", "noShortcutOverCore"].map((k) => formatNumber(figures[`size.core.shortcut.n${n}.${k}`] as number))])));
  }
  return out.join("\n");
}

// ---- the boards hook -------------------------------------------------------------------------

/** HOOK for boards/: if a module there exports `measureBoards(options)` (boards/measure.ts), its
 *  numeric results go into bench.json under "boards.*" (nested keys joined with dots). Files are
 *  checked for the name before import, so no board CLI runs by accident. It needs the boards'
 *  toolchain (boards/install.sh); `--only` without `boards` skips it. */
async function boardFigures(quick: boolean): Promise<Figures | undefined> {
  for (const candidate of ["../../boards/index.ts", "../../boards/bench.ts", "../../boards/measure.ts", "../../boards/build.ts", "../../boards/boards.ts"]) {
    const path = fileURLToPath(new URL(candidate, import.meta.url));
    if (!existsSync(path) || !/export\s+(async\s+)?function\s+measureBoards\b|export\s+const\s+measureBoards\b/.test(readFileSync(path, "utf8"))) continue;
    const module = await import(candidate);
    // boards/measure.ts: measureBoards({ controls, targets, quiet }); quick = its own --quick subset
    const measured = await module.measureBoards(quick ? { quiet: true, install: true, controls: [8], targets: ["mps2-an386", "virt-rv32"] } : { quiet: true, install: true });
    const figures: Figures = {};
    const flatten = (value: unknown, key: string) => {
      if (typeof value === "number") figures[key] = Number.isFinite(value) ? value : null;
      else if (value && typeof value === "object") for (const [k, v] of Object.entries(value)) flatten(v, `${key}.${k}`);
    };
    flatten(measured, "boards");
    return figures;
  }
  return undefined;
}

// ---- main --------------------------------------------------------------------------------------

const USAGE = `npm run bench [-- options]
  --quick               the CI subset, under a minute (the boards only with --only ...,boards)
  --only S[,S...]       these sections only: ${SECTIONS.join(", ")}
  --workers N           worker threads (default: this machine's parallelism)
  --out DIR             where bench.json and bench.html go (default build)
  --replot              redraw bench.html from DIR/bench.json, measuring nothing
  --help                this`;

/** The options, or one line naming what is wrong and exit 2. */
function benchOptions() {
  const refuse = (why: string): never => {
    console.error(`bench: ${why} (npm run bench -- --help)`);
    process.exit(2);
  };
  let values;
  try {
    ({ values } = parseArgs({ strict: true, options: {
      quick: { type: "boolean" }, only: { type: "string" }, workers: { type: "string" }, out: { type: "string" },
      replot: { type: "boolean" }, help: { type: "boolean" },
    } }));
  } catch (error) {
    return refuse(error instanceof Error ? error.message.split("\n")[0] : String(error));
  }
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const only = values.only?.split(",");
  const unknown = only?.find((s) => !(SECTIONS as readonly string[]).includes(s));
  if (unknown !== undefined) refuse(`unknown section "${unknown}": one of ${SECTIONS.join(", ")}`);
  const workers = values.workers === undefined ? availableParallelism() : Number(values.workers);
  if (!(Number.isInteger(workers) && workers >= 1 && workers <= 256)) refuse(`--workers must be a whole number 1..256, not "${values.workers}"`);
  return { quick: values.quick ?? false, only: only as Section[] | undefined, workers, out: values.out, replot: values.replot ?? false };
}

async function main(): Promise<void> {
  const options = benchOptions();
  const quick = options.quick;
  const plan = quick ? QUICK : FULL;
  const outDirOption = options.out ?? fileURLToPath(new URL("../../build", import.meta.url));
  if (options.replot) {
    // Redraw bench.html from an existing bench.json (no measuring).
    const saved = JSON.parse(readFileSync(join(outDirOption, "bench.json"), "utf8"));
    const tables = formatTables(saved.settings.plan, saved.figures, saved.series);
    console.log(tables);
    console.log(`\nplots → ${await writeBenchHtml(join(outDirOption, "bench.html"), { mode: saved.mode, figures: saved.figures, series: saved.series, tables, wallSeconds: saved.figures["meta.wallSeconds"] })}`);
    return;
  }
  // Quick mode leaves the boards out unless asked for (--only ...,boards): they need the
  // boards' toolchain, which boards/install.sh may have to install first.
  const sections = new Set<Section>(options.only ?? SECTIONS.filter((s) => !quick || s !== "boards"));
  const workers = options.workers;
  const outDir = outDirOption;
  const started = performance.now();

  const jobs = planJobs(plan, sections);
  let coreSeconds = 0;
  const sectionSeconds: Record<string, number> = {};
  let lastReport = 0;
  const results = await runPool<Job, JobResult>(new URL("./jobs.ts", import.meta.url), jobs, {
    workers,
    cost: jobCost,
    onDone: (done, total, result) => {
      coreSeconds += result.wallSeconds;
      const section = result.job.kind === "methods" || result.job.kind === "planOrder" ? "methods" : result.job.kind === "linear" ? "crb" : "fidelity";
      sectionSeconds[section] = (sectionSeconds[section] ?? 0) + result.wallSeconds;
      const elapsed = (performance.now() - started) / 1000;
      if (process.stderr.isTTY) process.stderr.write(`\r${done}/${total} jobs, ${elapsed.toFixed(0)} s`);
      else if (elapsed - lastReport >= 30 || done === total) {
        lastReport = elapsed;
        process.stderr.write(`${done}/${total} jobs, ${elapsed.toFixed(0)} s\n`);
      }
    },
  });
  if (process.stderr.isTTY && jobs.length) process.stderr.write("\n");
  const { figures, series } = collect(plan, results);

  // Timing runs alone, after the pool: nothing else of ours is running.
  const wide = sections.has("cost") || sections.has("size") ? await loadVariant(WIDE_CONTROLS) : undefined;
  if (sections.has("cost")) {
    for (const path of COST_PATHS) {
      for (const controls of plan.costControls) {
        const cost = measureCost(controls, Math.round((quick ? 1.5e6 : 4e6) / controls), plan.costRounds, path, wide);
        series.cost.push(cost);
        const key = `cost.${path}.n${controls}`;
        figures[`${key}.windowSamples`] = cost.windowSamples;
        figures[`${key}.moduleNsPerControlSample`] = cost.moduleNsPerControlSample;
        figures[`${key}.typescriptNsPerControlSample`] = cost.typescriptNsPerControlSample;
        figures[`${key}.moduleOverTypescript`] = cost.moduleOverTypescript;
      }
    }
    Object.assign(figures, await measureDeviceSpeed(quick ? 1 : 3));
    for (const guard of PLAN_SEARCH_GUARDS) for (const [k, v] of Object.entries(measurePlanSearch(guard, plan.costRounds))) figures[`cost.planSearch.${k}`] = v;
  }
  if (sections.has("size")) {
    for (const [k, v] of Object.entries(measureSize())) figures[`size.${k}`] = v;
    for (const [k, v] of Object.entries(measureSize(wide))) figures[`size.c${WIDE_CONTROLS}.${k}`] = v;
    for (const [k, v] of Object.entries(measureSize(undefined, CORE_WASM))) figures[`size.core.${k}`] = v;
    for (const [k, v] of Object.entries(measureCoreBytes())) figures[`size.core.${k}`] = v;
    for (const controls of SHORTCUT_CONTROLS) {
      for (const [k, v] of Object.entries(measureShortcutCost(controls, quick ? 200_000 : 1_000_000, plan.costRounds))) figures[`size.core.shortcut.${k}`] = v;
    }
  }
  if (sections.has("boards")) {
    const boardsStarted = performance.now();
    const boards = await boardFigures(quick).catch((error) => {
      console.error(`boards: measureBoards failed: ${error instanceof Error ? error.message : error}`);
      return undefined;
    });
    if (boards) Object.assign(figures, boards);
    figures["meta.boardsSeconds"] = (performance.now() - boardsStarted) / 1000;
  }
  const wallSeconds = (performance.now() - started) / 1000;
  figures["meta.wallSeconds"] = wallSeconds;
  figures["meta.jobCoreSeconds"] = coreSeconds;
  for (const [section, seconds] of Object.entries(sectionSeconds)) figures[`meta.jobCoreSeconds.${section}`] = seconds;

  const tables = formatTables(plan, figures, series);
  console.log(tables);
  mkdirSync(outDir, { recursive: true });
  const document = {
    format: "hge-bench/1",
    mode: plan.mode,
    date: new Date().toISOString(),
    node: process.version,
    workers,
    sections: [...sections],
    settings: {
      sampleRateHz: SAMPLE_RATE_HZ, toneAmplitudeV: TONE_AMPLITUDE_V, whiteSigmaV: WHITE_SIGMA_V,
      plan: { ...plan },
    },
    figures: Object.fromEntries(Object.entries(figures).sort(([a], [b]) => a.localeCompare(b))),
    series,
  };
  writeFileSync(join(outDir, "bench.json"), JSON.stringify(document, null, 1));
  const html = await writeBenchHtml(join(outDir, "bench.html"), { mode: plan.mode, figures, series, tables, wallSeconds });
  console.log(`\n${Object.keys(figures).length} figures → ${join(outDir, "bench.json")}, plots → ${html}; ${wallSeconds.toFixed(1)} s wall (${coreSeconds.toFixed(0)} s in jobs on ${Math.min(workers, Math.max(1, jobs.length))} workers)`);
}

await main();
