// Controller cost and size. Cost: nanoseconds per control per sample of the module's step()
// under Node, against a plain TypeScript implementation of the same per-sample loop (bin-exact
// NCO from a 1024-entry sine table, lock-in accumulation of in-phase and quadrature
// sums, voltage write with clamp), timed alternately in the same run. More controls than the
// release module's MAX_CONTROLS are timed on a wider build of the same code (host/variant.ts).
// Size: each module's bytes, memory pages and the end of its static buffers (MEMORY_USED).
import { electrodeRangesV } from "../devices/device.ts";
import { execFileSync } from "node:child_process";
import { readFileSync, statSync } from "node:fs";
import { basename, join } from "node:path";
import { fileURLToPath } from "node:url";
import { Controller, ControllerError, RELEASE_WASM, CORE_WASM, type ControllerConfig } from "../controller.ts";
import { planMinWindow } from "./fidelity.ts";
import { REPO, type Variant } from "../variant.ts";
import { median } from "../metrics.ts";
import * as L from "../../assembly/layout.ts";

const TABLE_SIZE = 1024;

/** The module's acquisition loop, written plainly in TypeScript with the same buffers. */
export class PlainLockin {
  private readonly table = new Float32Array(TABLE_SIZE + 1);
  private readonly phase: Int32Array;
  private readonly bin: Int32Array;
  private readonly sin: Float32Array;
  private readonly cos: Float32Array;
  private readonly sumSin: Float32Array;
  private readonly sumCos: Float32Array;
  private readonly center: Float32Array;
  private readonly amplitude: Float32Array;
  private readonly minV: Float32Array;
  private readonly maxV: Float32Array;
  readonly electrodes: Float32Array;
  private readonly scale: number;
  private samplesInWindow = 0;
  private reference = 0;
  private sum = 0;

  constructor(readonly controls: number, readonly windowSamples: number, bins: ArrayLike<number>) {
    for (let i = 0; i <= TABLE_SIZE; i++) this.table[i] = Math.sin((2 * Math.PI * i) / TABLE_SIZE);
    this.phase = new Int32Array(controls);
    this.bin = Int32Array.from(bins);
    this.sin = new Float32Array(controls);
    this.cos = new Float32Array(controls).fill(1);
    this.sumSin = new Float32Array(controls);
    this.sumCos = new Float32Array(controls);
    this.center = new Float32Array(controls).fill(0.1);
    this.amplitude = new Float32Array(controls).fill(0.01);
    this.minV = new Float32Array(controls).fill(-1);
    this.maxV = new Float32Array(controls).fill(1);
    this.electrodes = new Float32Array(controls);
    this.scale = TABLE_SIZE / windowSamples;
  }

  /** One sample, written the way fast TypeScript is written: buffers hoisted into locals. */
  step(reading: number): void {
    if (this.samplesInWindow++ === 0) this.reference = reading;
    const v = reading - this.reference;
    this.sum += v;
    const n = this.controls, window = this.windowSamples, scale = this.scale, table = this.table;
    const sin = this.sin, cos = this.cos, sumSin = this.sumSin, sumCos = this.sumCos;
    const phase = this.phase, bin = this.bin, center = this.center, amplitude = this.amplitude;
    const minV = this.minV, maxV = this.maxV, electrodes = this.electrodes;
    for (let k = 0; k < n; k++) {
      sumSin[k] += v * sin[k];
      sumCos[k] += v * cos[k];
    }
    for (let k = 0; k < n; k++) {
      let p = phase[k] + bin[k];
      if (p >= window) p -= window;
      phase[k] = p;
      const x = p * scale;
      let xc = x + TABLE_SIZE / 4;
      if (xc >= TABLE_SIZE) xc -= TABLE_SIZE;
      const i = x | 0, j = xc | 0;
      const a = table[i], c = table[j];
      const s = a + (x - i) * (table[i + 1] - a);
      sin[k] = s;
      cos[k] = c + (xc - j) * (table[j + 1] - c);
      let out = center[k] + amplitude[k] * s;
      out = out > minV[k] ? out : minV[k];
      electrodes[k] = out < maxV[k] ? out : maxV[k];
    }
  }

  /** Keeps the sums observable, so the loop cannot be optimised away. */
  checksum(): number {
    let s = this.sum;
    for (let k = 0; k < this.controls; k++) s += this.sumSin[k] + this.sumCos[k] + this.electrodes[k];
    return s;
  }
}

/** The readings the timing runs feed step(), over and over (index & 4095). */
const READINGS = Float64Array.from({ length: 4096 }, (_, i) => 0.1 + 0.01 * Math.sin(i * 0.37));

/** A window longer than any timing run: every timed sample is an acquisition sample. */
const COST_WINDOW = 1 << 20;

function costConfig(controls: number): ControllerConfig {
  return {
    sampleRateHz: 5000,
    windowSamples: COST_WINDOW,
    settleSamples: 0,
    tones: { plan: { bandLowHz: 1, bandHighHz: 2500 } }, // planned: no collision check
    guardBins: 0,
    controls: Array.from({ length: controls }, () => ({ amplitudeV: 0.01, minV: -1, maxV: 1, initialV: 0.1 })),
    inputs: [],
    cases: [{ inputsV: [], target: 0 }],
    loss: "mse",
    optimiser: "sgd",
    learningRate: 1e-30,
    calibrationEpochs: 0,
    reading: { min: -1e9, max: 1e9 },
  };
}

export interface CostFigures {
  controls: number;
  /** The module timed: build/hge.wasm, or a wider build for more than its MAX_CONTROLS. */
  module: string;
  moduleNsPerControlSample: number;
  typescriptNsPerControlSample: number;
  moduleOverTypescript: number;
}

/** A timer of `samples` steps of `controller` from the start of a window of `config` (each
 *  timed run stays inside one window when the window is longer): milliseconds. */
function stepTimer(controller: Controller, config: ControllerConfig, samples: number): () => number {
  const step = controller.exports.step;
  return () => {
    controller.configure(config);
    let events = 0;
    const t = performance.now();
    for (let i = 0; i < samples; i++) events |= step(READINGS[i & 4095]);
    const elapsed = performance.now() - t;
    if (events & L.Event.Fault) throw new Error("cost: the module faulted");
    return elapsed;
  };
}

/** Each timer's median over `rounds` alternating rounds, after a warm-up of each (JIT tiers). */
function medianTimes(timers: Array<() => number>, rounds: number): number[] {
  timers.forEach((time) => time());
  const times = timers.map((): number[] => []);
  for (let r = 0; r < rounds; r++) timers.forEach((time, i) => times[i].push(time()));
  return times.map(median);
}

/** Median of `rounds` alternating timings of `samples` steps each, on the release module or
 *  (for more controls than it holds) on `wide`. */
export function measureCost(controls: number, samples: number, rounds: number, wide?: Variant): CostFigures {
  const controller = controls <= L.MAX_CONTROLS || !wide ? new Controller() : new Controller(wide.module, wide.layout);
  const config = costConfig(controls);
  controller.configure(config);
  const plain = new PlainLockin(controls, COST_WINDOW, controller.toneBins());
  let sink = 0;
  const timePlain = () => {
    const t = performance.now();
    for (let i = 0; i < samples; i++) plain.step(READINGS[i & 4095]);
    const elapsed = performance.now() - t;
    sink += plain.checksum();
    return elapsed;
  };
  const [moduleMs, plainMs] = medianTimes([stepTimer(controller, config, samples), timePlain], rounds);
  if (!Number.isFinite(sink)) throw new Error("cost: non-finite checksum");
  const perControlSample = (ms: number) => (ms * 1e6) / (samples * controls);
  const moduleNs = perControlSample(moduleMs);
  const plainNs = perControlSample(plainMs);
  const module = basename(controller.layout === L ? RELEASE_WASM : wide!.path);
  return { controls, module, moduleNsPerControlSample: moduleNs, typescriptNsPerControlSample: plainNs, moduleOverTypescript: moduleNs / plainNs };
}

export interface SizeFigures {
  releaseBytes: number;
  /** The same build before its constant addresses were folded into offsets (scripts/fold-offsets.mjs). */
  unfoldedBytes: number;
  memoryPages: number;
  memoryUsedBytes: number;
  maxControls: number;
  imports: number;
}

/** Where scripts/build.mjs keeps a release build as it was before the offset fold. */
export const unfoldedPath = (wasm: string) => wasm.replace(/\.wasm$/, ".unfolded.wasm");

/** The release module's size, a wider build's, or (path) another build of the same layout's. */
export function measureSize(wide?: Variant, path?: string): SizeFigures {
  const file = wide?.path ?? path ?? RELEASE_WASM;
  const bytes = readFileSync(file);
  const module = new WebAssembly.Module(bytes);
  const controller = wide ? new Controller(module, wide.layout) : new Controller(module);
  return {
    releaseBytes: bytes.length,
    unfoldedBytes: statSync(unfoldedPath(file)).size,
    memoryPages: controller.exports.memory.buffer.byteLength / 65536,
    memoryUsedBytes: Number(controller.exports.MEMORY_USED.value),
    maxControls: controller.layout.MAX_CONTROLS,
    imports: WebAssembly.Module.imports(module).length,
  };
}

/** Where scripts/build.mjs --core-report writes its builds (`<lever>.wasm`) and report.json. */
export const CORE_REPORT_DIR = join(REPO, "build", "core-report");

/** The tones-only core's bytes (scripts/build.mjs --core-report, which builds each variant):
 *  `limitBytes`, `nonCodeBytes`, `parts.<source file>` (code with nothing inlined; `parts.shortcut` the
 *  typical-sample shortcut) and `levers.<lever>` (the core's bytes built with it). */
export function measureCoreBytes(): Record<string, number> {
  execFileSync(process.execPath, [join(REPO, "scripts", "build.mjs"), "--core-report"], { cwd: REPO, stdio: ["ignore", "ignore", "inherit"] });
  const report = JSON.parse(readFileSync(join(CORE_REPORT_DIR, "report.json"), "utf8"));
  const figures: Record<string, number> = { limitBytes: report.limit, nonCodeBytes: report.nonCodeBytes };
  for (const group of ["parts", "levers"]) {
    for (const [name, bytes] of Object.entries(report[group] as Record<string, number>)) figures[`${group}.${name}`] = bytes;
  }
  return figures;
}

/** What the core's noShortcut lever costs in time: nanoseconds per sample of the core and of
 *  the core built without the typical-sample shortcut (measureCoreBytes builds it first), under
 *  Node, `controls` controls in the core's longest window (updates amortised), medians of
 *  alternating rounds of `samples` steps. */
export function measureShortcutCost(controls: number, samples: number, rounds: number): Record<string, number> {
  const config: ControllerConfig = { ...costConfig(controls), windowSamples: L.SINES_MAX_WINDOW, optimiser: "adam" }; // the core's rule
  const timers = [CORE_WASM, join(CORE_REPORT_DIR, "noShortcut.wasm")].map((path) => stepTimer(new Controller(new WebAssembly.Module(readFileSync(path))), config, samples));
  const [core, noShortcut] = medianTimes(timers, rounds).map((ms) => (ms * 1e6) / samples);
  return { [`n${controls}.coreNsPerSample`]: core, [`n${controls}.noShortcutNsPerSample`]: noShortcut, [`n${controls}.noShortcutOverCore`]: noShortcut / core };
}

/** The guards measurePlanSearch is run at: none (the default) and 3 bins, whose search goes furthest (500212 samples). */
export const PLAN_SEARCH_GUARDS = [0, 3] as const;

/** configure()'s planner at MAX_CONTROLS order-3 tones (band 20–2500 Hz at 5 kHz, a guard of
 *  `guardBins`): refused in a 1000-sample window, where the planner also searches every longer
 *  window for the shortest that plans (STATUS.PlanMinWindow), against the plan accepted in that
 *  window; milliseconds, the median of `rounds` of each. */
export function measurePlanSearch(guardBins: number, rounds: number): Record<string, number> {
  const config: ControllerConfig = { ...costConfig(L.MAX_CONTROLS), tones: { plan: { bandLowHz: 20, bandHighHz: 2500 } }, guardBins, windowSamples: 1000 };
  const named = planMinWindow(config);
  const controller = new Controller();
  const configureMs = (windowSamples: number) => () => {
    const started = performance.now();
    try {
      controller.configure({ ...config, windowSamples });
    } catch (error) {
      if (!(error instanceof ControllerError) || error.field !== "Plan") throw error;
    }
    return performance.now() - started;
  };
  const [refused, accepted] = medianTimes([configureMs(config.windowSamples), configureMs(named)], rounds);
  const key = `guard${guardBins}`;
  return { [`${key}.namedWindow`]: named, [`${key}.refusedMs`]: refused, [`${key}.acceptedMs`]: accepted, [`${key}.refusedOverAccepted`]: refused / accepted };
}

/** Simulated device speed: evaluations per wall second of the default dopant network (issue
 *  target: at least 200,000 on this 2-core machine) and of a 256-edge resistor network, each
 *  timed for about `seconds` at random voltages inside the ranges. */
export async function measureDeviceSpeed(seconds: number): Promise<Record<string, number>> {
  const { DopantNetwork } = await import("../devices/dopant.ts");
  const { ResistorNetwork } = await import("../devices/resistor.ts");
  const { Rng } = await import("../noise.ts");
  const rate = (device: { electrodeCount: number; controlRangeV: Array<[number, number]>; inputRangeV: Array<[number, number]>; output(v: Float64Array): number }) => {
    const rng = new Rng(5);
    const ranges = electrodeRangesV(device);
    const inputs = Array.from({ length: 64 }, () => Float64Array.from(ranges, ([low, high]) => rng.between(low, high)));
    let evaluations = 0;
    let sink = 0;
    const start = performance.now();
    while (performance.now() - start < seconds * 1000) {
      for (const v of inputs) sink += device.output(v);
      evaluations += inputs.length;
    }
    if (!Number.isFinite(sink)) throw new Error("device output not finite");
    return evaluations / ((performance.now() - start) / 1000);
  };
  // a device file, checked at every call, in process and behind the asynchronous files' thread
  const { loadDeviceFile } = await import("../devices/device-file.ts");
  const file = (name: string) => loadDeviceFile(fileURLToPath(new URL(name, import.meta.url)), { inputCount: 2 });
  return {
    "devices.dopant.evaluationsPerSecond": rate(DopantNetwork.default()),
    "devices.resistor256.evaluationsPerSecond": rate(new ResistorNetwork({ seed: 1, edgeCount: 256 })),
    "devices.exampleFile.evaluationsPerSecond": rate(await file("../devices/example-device.ts")),
    "devices.exampleOnThread.evaluationsPerSecond": rate(await file("./example-on-thread.mjs")),
  };
}
