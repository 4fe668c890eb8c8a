// Controller cost and size. Cost: nanoseconds per control per typical sample of the module's
// step() under Node, against the same algorithm written plainly in TypeScript (PlainLockin),
// timed alternately in the same run, on each per-sample path (CostPath). More controls than the
// release module's MAX_CONTROLS are timed on a wider build of the same code (host/variant.ts).
// Size: each module's bytes, memory pages and the end of its static buffers (MEMORY_USED).
import { electrodeRangesV } from "../devices/device.ts";
import { execFileSync } from "node:child_process";
import { readFileSync, statSync } from "node:fs";
import { basename, join } from "node:path";
import { fileURLToPath } from "node:url";
import { Controller, ControllerError, RELEASE_WASM, CORE_WASM, type ControllerConfig, type Layout } from "../controller.ts";
import { planMinWindow } from "./fidelity.ts";
import { REPO, type Variant } from "../variant.ts";
import { median } from "../metrics.ts";
import * as L from "../../assembly/layout.ts";

const TABLE_SIZE = 1024;
/** A control's record in words, laid out as the module's (assembly/records.ts: phase and step,
 *  i32; the two lock-in sums, centre and amplitude, f32; 24 bytes). */
const RECORD_WORDS = 6;

/** The sine at `x` table entries, 0 <= x < TABLE_SIZE, interpolated (nco.ts: sineAt). */
function sineAt(table: Float32Array, x: number): number {
  const i = x & (TABLE_SIZE - 1), a = table[i];
  return a + (x - i) * (table[i + 1] - a);
}
/** x a quarter period on, in [0, TABLE_SIZE): where the cosine at x is read (nco.ts). */
function quarterOn(x: number): number {
  const xc = x + TABLE_SIZE / 4;
  return xc >= TABLE_SIZE ? xc - TABLE_SIZE : xc;
}

/** The module's typical sample (trainer.ts: typicalSample) in plain TypeScript: the same
 *  algorithm and data layout, so that the comparison is of the code. Per sample: count it, check
 *  the reading against the saturation limits, add it to the window's sum, centre it on the
 *  window's first reading; then one pass per control: the reading times the tone's sine and
 *  cosine at its phase, the phase stepped by the tone's bin modulo the window, the electrode
 *  written at centre + amplitude · sine of the new phase (no clamp: the module's typical sample
 *  has none). The sines come from the window's own table when it has one (`path` "table",
 *  filled once with the interpolated values, nco.ts: SINES), else from interpolation in the
 *  1024-entry period table (nco.ts: sineAt); the window's last sample restarts the sums. Written
 *  the way fast TypeScript is written: fields hoisted into locals, typed arrays. */
export class PlainLockin {
  private readonly table = new Float32Array(TABLE_SIZE + 1);
  /** sin, cos of each phase of the window ("table" only). */
  private readonly sines: Float32Array;
  private readonly words: Int32Array;
  private readonly values: Float32Array;
  readonly electrodes: Float32Array;
  private readonly scale: number;
  private samples = 0;
  private samplesInWindow = 0;
  private readingSum = 0;
  private spoiled = false;
  private reference = 0;
  private sum = 0;

  readonly controls: number;
  readonly windowSamples: number;
  private readonly readingMin: number;
  private readonly readingMax: number;

  /** The twin of `config` (costConfig: every control alike) on `path`, its tones at `bins`;
   *  readings outside the config's reading limits are saturated. */
  constructor(config: ControllerConfig, readonly path: CostPath, bins: ArrayLike<number>) {
    const { initialV: centreV, amplitudeV } = config.controls[0];
    const controls = (this.controls = config.controls.length), windowSamples = (this.windowSamples = config.windowSamples);
    this.readingMin = config.reading!.min;
    this.readingMax = config.reading!.max;
    for (let i = 0; i <= TABLE_SIZE; i++) this.table[i] = Math.sin((2 * Math.PI * i) / TABLE_SIZE);
    this.scale = TABLE_SIZE / windowSamples;
    this.sines = new Float32Array(path === "table" ? 2 * windowSamples : 0);
    for (let p = 0; 2 * p < this.sines.length; p++) {
      this.sines[2 * p] = sineAt(this.table, p * this.scale);
      this.sines[2 * p + 1] = sineAt(this.table, quarterOn(p * this.scale));
    }
    const records = new ArrayBuffer(controls * RECORD_WORDS * 4);
    this.words = new Int32Array(records);
    this.values = new Float32Array(records);
    for (let k = 0; k < controls; k++) {
      this.words[k * RECORD_WORDS + 1] = bins[k];
      this.values[k * RECORD_WORDS + 4] = centreV;
      this.values[k * RECORD_WORDS + 5] = amplitudeV;
    }
    this.electrodes = new Float32Array(controls).fill(centreV);
  }

  step(reading: number): void {
    this.samples++;
    let v = 0;
    if (reading > this.readingMin && reading < this.readingMax) {
      this.readingSum += reading;
      if (this.samplesInWindow === 0) this.reference = reading;
      v = reading - this.reference;
      this.sum += v;
    } else {
      this.spoiled = true; // (the module repeats the window; its tones run on)
    }
    const n = this.controls, window = this.windowSamples, words = this.words, values = this.values, electrodes = this.electrodes;
    if (this.path === "table") {
      const sines = this.sines;
      for (let k = 0, r = 0; k < n; k++, r += RECORD_WORDS) {
        const phase = words[r];
        values[r + 2] += v * sines[2 * phase];
        values[r + 3] += v * sines[2 * phase + 1];
        let next = phase + words[r + 1];
        if (next >= window) next -= window;
        words[r] = next;
        electrodes[k] = values[r + 4] + values[r + 5] * sines[2 * next];
      }
    } else {
      const scale = this.scale, table = this.table;
      for (let k = 0, r = 0; k < n; k++, r += RECORD_WORDS) {
        const phase = words[r], x = phase * scale;
        values[r + 2] += v * sineAt(table, x);
        values[r + 3] += v * sineAt(table, quarterOn(x));
        let next = phase + words[r + 1];
        if (next >= window) next -= window;
        words[r] = next;
        electrodes[k] = values[r + 4] + values[r + 5] * sineAt(table, next * scale);
      }
    }
    if (++this.samplesInWindow === window) {
      this.samplesInWindow = 0;
      this.spoiled = false;
      for (let k = 0, r = 0; k < n; k++, r += RECORD_WORDS) values[r + 2] = values[r + 3] = 0;
    }
  }

  /** Keeps the sums observable, so the loop cannot be optimised away. */
  checksum(): number {
    let s = this.sum + this.readingSum + this.samples + (this.spoiled ? 1 : 0);
    for (let k = 0; k < this.controls; k++) s += this.values[k * RECORD_WORDS + 2] + this.values[k * RECORD_WORDS + 3] + this.electrodes[k];
    return s;
  }
}

/** The readings the timing runs feed step(), over and over (a power of two of them: the loops
 *  mask the index by length − 1). */
const READINGS = Float64Array.from({ length: 4096 }, (_, i) => 0.1 + 0.01 * Math.sin(i * 0.37));

/** The two per-sample paths timed: "table", a window with its own sine table (at most the
 *  build's SINES_MAX_WINDOW samples: the defaults' windows, and the boards' bench), timed at
 *  that longest window; "interpolated", a longer window, whose sines are interpolated in the
 *  period table, timed at COST_WINDOW. */
export type CostPath = "table" | "interpolated";
export const COST_PATHS: readonly CostPath[] = ["table", "interpolated"];

/** A window longer than any timing run (the interpolated path's). */
const COST_WINDOW = 1 << 20;

/** The configuration timed on `path` by a build of `layout`: `controls` tones over COST_WINDOW
 *  samples, planned (and not checked for collisions); for the table path, over the longest window
 *  with a table, given at bins 1, 2, 3, … (an order-3 plan of 128 tones needs a longer window;
 *  collisions cost nothing per sample). */
export function costConfig(controls: number, path: CostPath = "interpolated", layout: Layout = L): ControllerConfig {
  const given = path === "table";
  return {
    sampleRateHz: 5000,
    windowSamples: given ? layout.SINES_MAX_WINDOW : COST_WINDOW,
    settleSamples: 0,
    tones: given ? { explicit: true } : { plan: { bandLowHz: 1, bandHighHz: 2500 } },
    guardBins: 0,
    controls: Array.from({ length: controls }, (_, k) => ({ amplitudeV: 0.01, minV: -1, maxV: 1, initialV: 0.1, ...(given ? { toneBin: k + 1 } : {}) })),
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
  path: CostPath;
  windowSamples: number;
  /** The module timed: build/hge.wasm, or a wider build for more than its MAX_CONTROLS. */
  module: string;
  moduleNsPerControlSample: number;
  typescriptNsPerControlSample: number;
  moduleOverTypescript: number;
}

/** `loop` compiled afresh, with type feedback of its own. V8 keeps one record of what a
 *  function's calls have called for all the closures of that function in the source, and its
 *  optimising compiler builds the function's loop for that record: a timing loop shared by two
 *  callees (the module's step() and the twin's, or two builds' step()s) runs code built for both,
 *  or for one when it was compiled before the other had run. Whichever came first decided the
 *  8-control table-path figure: from 3.3 to 9.2 ns from one bench run to the next. A copy per timer
 *  sees one callee. `loop` may use only its arguments and the globals. */
function ownCopy<F extends (...args: never[]) => unknown>(loop: F): F {
  return new Function(`return ${loop}`)() as F;
}

/** `samples` steps through `step`: [milliseconds, the events they raised OR'ed together]
 *  (`step` returns the module's events, or nothing: the twin). Used through ownCopy. */
function stepLoop(step: (reading: number) => number | void, readings: Float64Array, samples: number): [number, number] {
  const mask = readings.length - 1;
  let events = 0;
  const t = performance.now();
  for (let i = 0; i < samples; i++) events |= step(readings[i & mask]) ?? 0;
  return [performance.now() - t, events];
}

/** `windows` whole windows of `window` samples through `step`, which is at the start of one;
 *  only samples 1 … window − 2 of each are timed (the typical samples; the module's first and
 *  last of a window take its general path, the last with the update): [milliseconds, the timed
 *  samples' events OR'ed, the windows' last samples' events AND'ed (−1 from the twin)]. Used
 *  through ownCopy. */
function windowLoop(step: (reading: number) => number | void, readings: Float64Array, window: number, windows: number): [number, number, number] {
  const mask = readings.length - 1;
  let elapsed = 0, timedEvents = 0, lastEvents = -1, i = 0;
  for (let w = 0; w < windows; w++) {
    step(readings[i++ & mask]);
    const t = performance.now();
    for (let s = 2; s < window; s++) timedEvents |= step(readings[i++ & mask]) ?? 0;
    elapsed += performance.now() - t;
    lastEvents &= step(readings[i++ & mask]) ?? -1;
  }
  return [elapsed, timedEvents, lastEvents];
}

/** A timer of `samples` steps of `controller` from the start of a window of `config` (each
 *  timed run stays inside one window when the window is longer): milliseconds. */
function stepTimer(controller: Controller, config: ControllerConfig, samples: number): () => number {
  const loop = ownCopy(stepLoop), step = controller.exports.step;
  return () => {
    controller.configure(config);
    const [elapsed, events] = loop(step, READINGS, samples);
    if (events & L.Event.Fault) throw new Error("cost: the module faulted");
    return elapsed;
  };
}

/** A timer of `windows` windows of `window` samples through `step` (windowLoop), which checks
 *  that no timed sample raises an event and that each window's last ends it: milliseconds. */
function typicalTimer(step: (reading: number) => number | void, window: number, windows: number): () => number {
  const loop = ownCopy(windowLoop);
  return () => {
    const [elapsed, timedEvents, lastEvents] = loop(step, READINGS, window, windows);
    if (!(lastEvents & L.Event.WindowDone)) throw new Error(`cost: a window did not end at its sample ${window} (events ${lastEvents})`);
    if (timedEvents) throw new Error(`cost: a timed sample raised events ${timedEvents}`);
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

/** Median of `rounds` alternating timings of about `samples` steps each, on the release module
 *  or (for more controls than it holds) on `wide`, against its twin in plain TypeScript, on
 *  `path`: ns per control per timed sample. */
export function measureCost(controls: number, samples: number, rounds: number, path: CostPath, wide?: Variant): CostFigures {
  const controller = controls <= L.MAX_CONTROLS || !wide ? new Controller() : new Controller(wide.module, wide.layout);
  const config = costConfig(controls, path, controller.layout);
  controller.configure(config);
  const plain = new PlainLockin(config, path, controller.toneBins());
  let sink = 0;
  const twin = (time: () => number) => () => {
    const elapsed = time();
    sink += plain.checksum();
    return elapsed;
  };
  const step = (reading: number) => plain.step(reading);
  let timed: number, timers: Array<() => number>;
  if (path === "table") {
    const window = config.windowSamples, windows = Math.ceil(samples / window);
    timed = windows * (window - 2);
    // a module configured for the first time starts a window at its first step (a later
    // configuration ramps a sample first): typicalTimer checks that every window ends in place
    timers = [typicalTimer(controller.exports.step, window, windows), twin(typicalTimer(step, window, windows))];
  } else {
    timed = samples;
    const loop = ownCopy(stepLoop);
    timers = [stepTimer(controller, config, samples), twin(() => loop(step, READINGS, samples)[0])];
  }
  const [moduleMs, plainMs] = medianTimes(timers, rounds);
  if (!Number.isFinite(sink)) throw new Error("cost: non-finite checksum");
  const perControlSample = (ms: number) => (ms * 1e6) / (timed * controls);
  const moduleNs = perControlSample(moduleMs);
  const plainNs = perControlSample(plainMs);
  const module = basename(controller.layout === L ? RELEASE_WASM : wide!.path);
  return { controls, path, windowSamples: config.windowSamples, module, moduleNsPerControlSample: moduleNs, typescriptNsPerControlSample: plainNs, moduleOverTypescript: moduleNs / plainNs };
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
