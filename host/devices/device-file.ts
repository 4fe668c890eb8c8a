// A device of your own: `--device path/to/my-device.ts` (or .mts, .js, .mjs). The file exports
// createDevice(options) returning a Device (device.ts), or a promise of one, with
// options.inputCount data inputs (the task's; undefined where the task takes the device's own,
// iris) and built from options.seed (--device-seed; undefined: the device as it is). hge checks
// what it returns before anything trains, and every output() while it trains; what is wrong is
// one line naming the file and the field (DeviceFileError: exit 2). example-device.ts is one.
// A file that says `export const asynchronous = true` runs on a thread of its own
// (device-thread.mjs), where its createDevice and methods may wait for I/O: every call from
// training waits for the answer, at most `answerWithinSeconds` (default 30). That is also how
// long any file's createDevice promise may take. What a file throws where nothing catches it (a
// timer's callback, a promise nothing awaits) is a fault of its device too (LoadedFile).
import { once } from "node:events";
import { syncBuiltinESMExports } from "node:module";
import { existsSync } from "node:fs";
import { basename, extname, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { MessageChannel, Worker, isMainThread, receiveMessageOnPort, type MessagePort } from "node:worker_threads";
import { tsImport } from "tsx/esm/api";
import { CAPABILITIES, DeviceView, checkPointV, electrodeMidpointsV, type Capability, type Device } from "./device.ts";
import { EXIT, UsageError } from "../errors.ts";
import { hypotOf } from "../metrics.ts";

export const DEVICE_FILE_EXTENSIONS = [".ts", ".mts", ".js", ".mjs"];

export interface DeviceFileOptions {
  inputCount?: number;
  seed?: number;
}

/** What a device file does wrong, at load or while training. */
export class DeviceFileError extends UsageError {}

/** Output units hge has a measurement chain, noise and a margin scale for (train.ts:
 *  defaultChain, NOISE_DEFAULTS, MARGIN_SCALE_DEFAULTS). */
const UNITS = ["nA", "V"];
/** The one capability a device file can offer: the others are hge's resistor network model's,
 *  whose methods use that model itself (methods/resistive.ts). */
const FILE_CAPABILITIES: readonly Capability[] = ["assignable-inputs"];
/** outputGradient must agree with central differences to this fraction of the gradient's norm
 *  (steps of FD_STEP of each control's range). */
const GRADIENT_TOLERANCE = 0.02;
const FD_STEP = 1e-5;
/** Points besides the range midpoints where outputGradient is checked. */
const GRADIENT_POINTS = 3;
/** How long createDevice's promise, and an asynchronous device's call, may take before the
 *  device counts as lost (a file's `answerWithinSeconds`). */
const ANSWER_WITHIN_SECONDS = 30;

export function isDeviceFile(spec: string): boolean {
  return DEVICE_FILE_EXTENSIONS.includes(extname(spec));
}

/** A short name for reports and directories: the file's name without its extension. */
export function deviceFileStem(path: string): string {
  return basename(path, extname(path));
}

/** A value a file gave, as written in JavaScript: a string quoted, NaN as NaN (JSON would
 *  show "5" as 5 and NaN as null). */
const shown = (value: unknown): string =>
  typeof value === "string" ? JSON.stringify(value) : typeof value === "bigint" ? `${value}n (a BigInt)` : Array.isArray(value) ? `[${value.map(shown).join(", ")}]` : String(value);

/** What a file at `path` does wrong, as the error that says so. */
const failFor = (path: string) => (what: string) => new DeviceFileError(`--device ${path}: ${what}`);
/** What went wrong, on one line: the error's message, and its cause's (a failed fetch's
 *  "connect ECONNREFUSED …"). */
const firstLine = (error: unknown): string => {
  const text = error instanceof Error ? error.message + (error.cause instanceof Error ? ` (${error.cause.message})` : "") : String(error);
  return text.split("\n")[0];
};

/** A file whose code has run in this thread, and what it threw where nothing caught it (a timer's
 *  callback, an event handler, a promise nothing awaited), which would otherwise end hge with
 *  Node's stack trace: its devices throw that at their next call, so that the run stops as on
 *  any device fault, with what it learned kept, and a load of it throws it at once. Where the
 *  command would still exit 0 or 1 (no call came, or its caller let it pass), the main thread
 *  says it at exit, exit 2. */
interface LoadedFile {
  path: string;
  file: string;
  url: string;
  /** Its loads under way or done: a file none of whose loads made a device is forgotten. */
  loads: number;
  /** Run on the device thread (export const asynchronous = true). */
  asynchronous?: boolean;
  fault?: DeviceFileError;
}

/** Loaded files by URL (while there is one, one set of listeners for all hears what nothing
 *  caught), and where hge's own sources lie (what they throw is not a file's). */
const loaded = new Map<string, LoadedFile>();
const HGE_ROOT = fileURLToPath(new URL("../../", import.meta.url));
const HGE_ROOT_URL = pathToFileURL(HGE_ROOT).href;

/** What nothing caught, for the loaded files whose frames its stack shows; for all of them if it
 *  shows none of hge's own either (a thrown string, a socket's error event); hge's own otherwise,
 *  which ends hge as it would have without this listener. */
function uncaught(error: unknown, event: "uncaughtException" | "unhandledRejection"): void {
  const files = culprits(framesOf(error));
  faultOf(files, error);
  if (files.length || process.listenerCount(event) > 1) return; // (another listener's to handle)
  listen(false);
  process.nextTick(() => { throw error; });
}
const framesOf = (error: unknown): string[] =>
  (error instanceof Error && typeof error.stack === "string" ? error.stack : "").split("\n").filter((line) => /^\s+at /.test(line));
/** The loaded files whose code `frames` show (a .ts file tsx made CommonJS runs from a data: URL
 *  naming its path encoded). */
const filesIn = (frames: string[]) => [...loaded.values()].filter((f) => frames.some((line) => [f.url, f.file, encodeURIComponent(f.file)].some((name) => line.includes(name))));
/** filesIn, or all the loaded files if the frames show none of hge's own either (a thrown
 *  string, a socket's error event). */
function culprits(frames: string[]): LoadedFile[] {
  const files = filesIn(frames);
  const hges = frames.some((line) => (line.includes(HGE_ROOT) || line.includes(HGE_ROOT_URL)) && !line.includes("/node_modules/"));
  return files.length || hges ? files : [...loaded.values()];
}

/** process.exit while files are loaded: a file's call would end hge with nothing kept or said
 *  (exit 0 where it gave 0), so it is the file's fault, thrown into the call that made it. Any
 *  other caller exits: hge's own, and Node's (where a file gave Node process.exit itself to call,
 *  setTimeout(process.exit), hge cannot tell it from Node's own). */
const exitOfNode = process.exit;
function guardedExit(code?: number | string | null): never {
  const files = filesIn(framesOf(new Error()));
  if (!files.length) return exitOfNode.call(process, code);
  const error = new Error(`called process.exit(${code ?? ""}), which would end hge and lose the run; throw an Error instead`);
  for (const f of files) f.fault ??= failFor(f.path)(error.message); // (even where the file catches it)
  throw error;
}

/** `files`' fault: they threw `error` where nothing caught it. */
function faultOf(files: LoadedFile[], error: unknown): void {
  for (const f of files) f.fault ??= failFor(f.path)(`threw where nothing caught it (a timer, an event handler or a promise nothing awaited): ${firstLine(error)}`);
}
const thrown = (error: unknown) => uncaught(error, "uncaughtException");
const rejected = (reason: unknown) => uncaught(reason, "unhandledRejection");

/** At exit, a file's fault the command did not stop on, on one line (on the main thread: a
 *  worker's stderr may be gone by then). */
function untoldAtExit(code: number): void {
  DeviceThread.running?.unread();
  const fault = [...loaded.values()].find((f) => f.fault)?.fault;
  if (!fault || (code !== EXIT.solved && code !== EXIT.unsolved)) return; // (the command said what stopped it)
  process.stderr.write(`hge: ${fault.message}\n`);
  process.exitCode = EXIT.usage;
}

let listening = false;
function listen(on: boolean): void {
  if (on === listening) return;
  listening = on;
  const method = on ? "on" : "off";
  process[method]("uncaughtException", thrown);
  process[method]("unhandledRejection", rejected);
  if (isMainThread) process[method]("exit", untoldAtExit);
  process.exit = on ? guardedExit : exitOfNode;
  syncBuiltinESMExports(); // (import { exit } from "node:process" too)
}

/** The file's fault (LoadedFile), once it has one, thrown. */
function throwFault(source: LoadedFile): void {
  if (source.fault) throw source.fault;
}

/** The device `path` creates for `options`, checked. */
export async function loadDeviceFile(path: string, options: DeviceFileOptions): Promise<Device> {
  const fail = failFor(path);
  const file = resolve(path);
  if (!existsSync(file)) throw fail("no such file");
  const url = pathToFileURL(file).href;
  const source = loaded.get(url) ?? { path, file, url, loads: 0 };
  loaded.set(url, source);
  source.loads++;
  listen(true);
  try {
    throwFault(source);
    const device = await deviceOf(source, options);
    await new Promise((resolve) => setImmediate(resolve)); // (a rejection nothing handled is heard after a turn)
    throwFault(source);
    return device;
  } catch (error) {
    if (--source.loads === 0) loaded.delete(url);
    if (loaded.size === 0) listen(false);
    throw error;
  }
}

/** loadDeviceFile's device: the file imported, its exports read, its device made and checked. */
async function deviceOf(source: LoadedFile, options: DeviceFileOptions): Promise<Device> {
  const { path, url } = source;
  const fail = failFor(path);
  let exported: { createDevice?: unknown; asynchronous?: unknown; answerWithinSeconds?: unknown };
  try {
    // as ES modules wherever the file lies (a .ts file outside a "type": "module" package would
    // be CommonJS to a plain import)
    // (its own answerWithinSeconds is not known before its top level has run)
    exported = await within(ANSWER_WITHIN_SECONDS, tsImport(url, import.meta.url));
  } catch (error) {
    if (error instanceof NoAnswer) throw fail(`its top level gave no answer within ${error.seconds} s (wait for I/O in createDevice, whose wait answerWithinSeconds sets)`);
    throw fail(`cannot be loaded: ${(error instanceof Error ? error.message : String(error)).replace(/\s*\n\s*/g, " ").trim()}`);
  }
  if (typeof exported.createDevice !== "function") {
    const names = Object.keys(exported).filter((name) => name !== "default"); // (tsx's CommonJS interop adds it)
    type Wrapped = { createDevice?: unknown; default?: Wrapped } | undefined;
    const byDefault = (exported as { default?: Wrapped }).default; // (a .ts file made CommonJS wraps it once more)
    const inDefault = [byDefault, byDefault?.default].some((d) => typeof d === "function" || typeof d?.createDevice === "function");
    throw fail(`exports no createDevice(options) function (its exports: ${names.join(", ") || "none"}${inDefault ? "; its default export has a function: export it by name, export function createDevice" : ""})`);
  }
  const { asynchronous = false, answerWithinSeconds = ANSWER_WITHIN_SECONDS } = exported;
  if (typeof asynchronous !== "boolean") throw fail(`asynchronous is ${shown(asynchronous)}; it must be true (output() and createDevice may wait for I/O) or false`);
  source.asynchronous = asynchronous;
  if (!(typeof answerWithinSeconds === "number" && answerWithinSeconds > 0 && answerWithinSeconds <= 86400)) {
    throw fail(`answerWithinSeconds is ${shown(answerWithinSeconds)}; it must be a number of seconds in (0, 86400]`);
  }
  const made = `createDevice(${JSON.stringify(options)})`;
  let device: Device;
  try {
    device = asynchronous
      ? deviceOnThread(await DeviceThread.started(), url, options, answerWithinSeconds)
      : // (a promise where it loads something first: a surrogate model's weights)
        await within(answerWithinSeconds, (exported.createDevice as (options: DeviceFileOptions) => Device | PromiseLike<Device>)({ ...options }));
  } catch (error) {
    throw callFailed(fail, made, error);
  }
  return new CheckedDevice(device, source, options.inputCount, `createDevice({ inputCount: ${options.inputCount} })`, asynchronous);
}

/** An asynchronous device's call that did not answer in time. */
class NoAnswer extends Error {
  constructor(readonly seconds: number) {
    super(`no answer within ${seconds} s`);
  }
}
/** A call on the device thread returned what cannot be passed to this thread (a function). */
class Uncloneable extends Error {}

/** `value`, or once it is a promise, what it settles to; NoAnswer if it has not settled within
 *  `seconds` (a promise that never settles would otherwise end the process with nothing said:
 *  Node's exit 13 for an unsettled top-level await). */
async function within<T>(seconds: number, value: T | PromiseLike<T>): Promise<T> {
  if (typeof (value as PromiseLike<T> | null)?.then !== "function") return value as T;
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([value, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new NoAnswer(seconds)), seconds * 1000)))]);
  } finally {
    clearTimeout(timer);
  }
}

/** The error to throw for `error`, thrown by the file's `what` (or its answer's absence). */
function callFailed(fail: (what: string) => DeviceFileError, what: string, error: unknown): DeviceFileError {
  if (error instanceof DeviceFileError) return error;
  if (error instanceof NoAnswer) return fail(`${what} gave no answer within ${error.seconds} s`);
  return fail(error instanceof Uncloneable ? `${what} returned what cannot be passed between threads (${error.message})` : `${what} threw: ${firstLine(error)}`);
}

/** The asynchronous device files' thread (device-thread.mjs), one per process, started by the
 *  first such file: a call posts a request and waits (Atomics.wait on a shared counter the
 *  thread bumps after each answer) for the answer with its id. (Not synckit: in this Node a
 *  thread it starts from a worker thread, as hge compare's pool does, never started.) */
class DeviceThread {
  private static thread?: Promise<DeviceThread>;
  static running?: DeviceThread;
  private next = 0;
  /** What a file threw where nothing caught it (the thread's id −1), or what ended the thread:
   *  every call from then on throws it. */
  private ended?: unknown;

  private constructor(private readonly worker: Worker, private readonly replies: MessagePort, private readonly answered: Int32Array) {
    worker.on("error", (error) => (this.ended ??= error));
  }

  /** The thread, once it is ready for calls (waiting for it asynchronously lets a thread started
   *  from a worker thread start at all). */
  static started(): Promise<DeviceThread> {
    DeviceThread.thread ??= (async () => {
      const { port1, port2 } = new MessageChannel();
      const answered = new Int32Array(new SharedArrayBuffer(4));
      const worker = new Worker(new URL("./device-thread.mjs", import.meta.url), { workerData: { replies: port2, answered }, transferList: [port2] });
      worker.unref();
      await once(worker, "message"); // "ready" (or the error that kept it from starting)
      return (DeviceThread.running = new DeviceThread(worker, port1, answered));
    })();
    return DeviceThread.thread;
  }

  /** The answer to `call` with `args`, or NoAnswer once `seconds` passed (a late answer is
   *  dropped when it comes); what the call threw, if it threw. */
  ask(seconds: number, call: string, ...args: unknown[]): unknown {
    if (this.ended !== undefined) throw this.ended;
    const id = this.next++;
    this.worker.postMessage({ id, call, args });
    const deadline = performance.now() + seconds * 1000;
    for (;;) {
      const seen = Atomics.load(this.answered, 0);
      for (let reply; (reply = receiveMessageOnPort(this.replies)); ) {
        const answer = reply.message as { id: number; result?: unknown; error?: unknown; uncloneable?: string };
        if (answer.id === -1) throw this.faulted(answer.error);
        if (answer.id !== id) continue; // an answer that came too late
        if ("error" in answer) throw answer.error;
        if (answer.uncloneable !== undefined) throw new Uncloneable(answer.uncloneable);
        return answer.result;
      }
      const left = deadline - performance.now();
      if (left <= 0 || Atomics.wait(this.answered, 0, seen, left) === "timed-out") throw new NoAnswer(seconds);
    }
  }

  /** What a file threw on the thread where nothing caught it: the asynchronous files' fault too,
   *  which untoldAtExit says where no call stopped on it (the plain check's, after the run). */
  private faulted(error: unknown): unknown {
    faultOf([...loaded.values()].filter((f) => f.asynchronous), error);
    return (this.ended = error);
  }

  /** The answers no call has read (at exit: what the thread sent after the last call). */
  unread(): void {
    for (let reply; (reply = receiveMessageOnPort(this.replies)); ) {
      if (reply.message.id === -1) this.faulted(reply.message.error);
    }
  }
}

/** The device the file at `url` makes for `options` on `thread`, as a Device whose every method
 *  waits for the thread's answer, at most `seconds`. Checked as any device. */
function deviceOnThread(thread: DeviceThread, url: string, options: DeviceFileOptions, seconds: number): Device {
  const ask = (call: string, ...args: unknown[]) => thread.ask(seconds, call, ...args);
  type Description = { value: string } | { id: number; fields: Record<string, unknown>; uncloneable: Record<string, string>; methods: Record<string, string> };
  const device = (description: Description): Device => {
    if ("value" in description) return description.value as unknown as Device; // (not a device: checkedShape says so)
    const made: Record<string, unknown> = { ...description.fields };
    // (a function where a field should be: not a string, a number or an array, shown as its text)
    for (const [field, text] of Object.entries(description.uncloneable)) made[field] = { toString: () => text };
    for (const [method, kind] of Object.entries(description.methods)) {
      // a field that is not a method is passed on as its typeof, for checkedShape to refuse
      if (kind !== "function") made[method] = kind === "undefined" ? undefined : kind;
      else if (method === "withInputCount") made[method] = (n: number) => device(ask("call", description.id, method, [n]) as Description);
      else made[method] = (...args: unknown[]) => ask("call", description.id, method, args);
    }
    return made as unknown as Device;
  };
  return device(ask("create", url, { ...options }) as Description);
}

/** The shape of the file's device (everything but its methods), checked; `madeBy` is the call
 *  that made it, for the error when it has not the inputs asked for. */
function checkedShape(device: Device, fail: (what: string) => DeviceFileError, wantedInputs: number | undefined, madeBy: string) {
  const d = device as unknown as Record<string, unknown>;
  if (typeof d !== "object" || d === null) throw fail(`${madeBy} returned ${String(d)}, not a device`);
  // (a name is said in one-line messages on a terminal: a line break kept from a file it was read
  // from, or an escape sequence, broke them)
  if (typeof d.name !== "string" || d.name === "" || /\p{Cc}/u.test(d.name)) throw fail(`name is ${shown(d.name)}; it must be a non-empty string of printable characters (no line break)`);
  const count = (field: string, least: number): number => {
    const value = d[field];
    if (!Number.isInteger(value) || (value as number) < least) throw fail(`${field} is ${shown(value)}; it must be a whole number ≥ ${least}`);
    return value as number;
  };
  const controlCount = count("controlCount", 1), inputCount = count("inputCount", 0), electrodeCount = count("electrodeCount", 1);
  if (electrodeCount !== controlCount + inputCount) throw fail(`electrodeCount is ${electrodeCount}; it must be controlCount + inputCount = ${controlCount + inputCount}`);
  if (wantedInputs !== undefined && inputCount !== wantedInputs) {
    throw fail(`${wantedInputs} data inputs were asked for; ${madeBy} returned a device with inputCount ${inputCount}`);
  }
  const ranges = (field: string, length: number): Array<[number, number]> => {
    const value = d[field];
    if (!Array.isArray(value) || value.length !== length) throw fail(`${field} must be an array of ${length} [low, high] pairs, volts`);
    value.forEach((range, i) => {
      if (!Array.isArray(range) || range.length !== 2 || !range.every(Number.isFinite) || !(range[0] < range[1])) {
        throw fail(`${field}[${i}] is ${shown(range)}; it must be [low, high], finite volts with low < high`);
      }
    });
    return value.map(([low, high]) => [low, high]);
  };
  if (typeof d.outputUnit !== "string" || !UNITS.includes(d.outputUnit)) {
    throw fail(`outputUnit is ${shown(d.outputUnit)}; hge's measurement chain, noise and margin defaults are for ${UNITS.join(" or ")}`);
  }
  if (!Array.isArray(d.capabilities)) throw fail(`capabilities must be an array (${FILE_CAPABILITIES.join(", ")}, or none)`);
  for (const capability of d.capabilities as string[]) {
    if (!CAPABILITIES.includes(capability as Capability)) throw fail(`capability ${JSON.stringify(capability)} is none of hge's (${CAPABILITIES.join(", ")})`);
    if (!FILE_CAPABILITIES.includes(capability as Capability)) {
      throw fail(`capability ${capability} is the resistor network model's (--device resistor), whose methods use that model itself; a device file offers ${FILE_CAPABILITIES.join(", ")} or none`);
    }
  }
  for (const method of ["withInputCount", "outputGradient", "setTime"]) {
    if (d[method] !== undefined && typeof d[method] !== "function") throw fail(`${method} must be a method or absent`);
  }
  if (typeof d.output !== "function") throw fail("has no output(voltages) method");
  if ((d.capabilities as Capability[]).includes("assignable-inputs") && typeof d.withInputCount !== "function") {
    throw fail("offers assignable-inputs but has no withInputCount(inputCount) method");
  }
  return {
    name: d.name, controlCount, inputCount, electrodeCount, controlRangeV: ranges("controlRangeV", controlCount),
    inputRangeV: ranges("inputRangeV", inputCount), outputUnit: d.outputUnit, capabilities: [...(d.capabilities as Capability[])],
  };
}

/** The file's device, its shape checked when made, its output() and outputGradient() at every
 *  call (and once against each other; setTime(0) once), so that a fault in the file stops training with one
 *  line rather than a stack trace, and no NaN reaches a method. */
class CheckedDevice extends DeviceView {
  override readonly capabilities: readonly Capability[];
  readonly withInputCount?: (inputCount: number) => Device;
  readonly outputGradient?: (voltages: Float64Array | Float32Array) => Float64Array;
  readonly setTime?: (deviceSeconds: number) => void;
  private readonly inner: Device;
  private readonly fail: (what: string) => DeviceFileError;
  private readonly source: LoadedFile;
  /** The voltages the file's output() and outputGradient() are given: a copy of hge's, which a
   *  file may change (converting them to mV in place) without changing what hge drives and
   *  records (pat's sweep recorded them so, its twin fitted to voltages 1000× too large). */
  private readonly given: Float64Array;

  constructor(inner: Device, source: LoadedFile, wantedInputs: number | undefined, madeBy: string, readonly exclusive: boolean) {
    const fail = failFor(source.path);
    let shape: ReturnType<typeof checkedShape>;
    try { // (a field may be a getter that throws)
      shape = checkedShape(inner, fail, wantedInputs, madeBy);
    } catch (error) {
      throw callFailed(fail, "reading the device's fields", error);
    }
    super(shape, shape.name);
    this.capabilities = shape.capabilities;
    this.inner = inner;
    this.fail = fail;
    this.source = source;
    this.given = new Float64Array(shape.electrodeCount);
    if (inner.withInputCount) this.withInputCount = (n) => new CheckedDevice(this.call(() => inner.withInputCount!(n), () => `withInputCount(${n})`), source, n, `withInputCount(${n})`, exclusive);
    if (inner.setTime) {
      this.setTime = (seconds) => this.call(() => inner.setTime!(seconds), () => `setTime(${seconds})`);
      this.setTime(0); // as every run begins: a file whose clock fails is refused when made
    }
    const middle = electrodeMidpointsV(this);
    const y = this.output(middle);
    // a simulation must be deterministic (hge adds the noise); an asynchronous file, an
    // instrument's set-and-read, has its own noise and is not held to it
    if (!exclusive && this.output(middle) !== y) throw fail(`output() gave two values at the same voltages (${volts(middle)}); it must be deterministic (hge adds the noise: --white-noise, --pink-noise; an instrument, whose readings carry their own, is a file that says export const asynchronous = true)`);
    if (inner.outputGradient) {
      this.outputGradient = (voltages) => this.checkedGradient(voltages);
      // at the midpoints, where a symmetric device's gradient may vanish (a gradient 1.3× too
      // large in one control passed there alone), and at GRADIENT_POINTS fixed points spread
      // over the middle 80% of every range
      this.checkGradientAt(middle, "the range midpoints");
      for (let p = 1; p <= GRADIENT_POINTS; p++) this.checkGradientAt(checkPointV(this, p), `check point ${p}`);
    }
  }

  output(voltages: Float64Array | Float32Array): number {
    if (this.source.fault) throwFault(this.source);
    let y: number;
    try { // (here, not through call(): the per-sample path makes no closures)
      this.given.set(voltages);
      y = this.inner.output(this.given);
    } catch (error) {
      throw callFailed(this.fail, `output() at ${volts(voltages)}`, error);
    }
    if (typeof y !== "number" || !Number.isFinite(y)) {
      if ((y as unknown) instanceof Promise) throw this.fail("output() returned a promise: a device whose calls wait for I/O says so, export const asynchronous = true (README: \"Your own device\")");
      throw this.fail(`output() gave ${shown(y)} at ${volts(voltages)}; it must be a finite number of ${this.outputUnit}`);
    }
    return y;
  }

  private checkedGradient(voltages: Float64Array | Float32Array): Float64Array {
    this.given.set(voltages);
    const g: unknown = this.call(() => this.inner.outputGradient!(this.given), () => `outputGradient() at ${volts(voltages)}`);
    // (a plain array is taken too: a file in JavaScript returns one naturally)
    const values = g instanceof Float64Array || g instanceof Float32Array || Array.isArray(g) ? Float64Array.from(g as ArrayLike<number>) : undefined;
    if (!values || values.length !== this.controlCount || !values.every(Number.isFinite)) {
      throw this.fail(`outputGradient() at ${volts(voltages)} must give ${this.controlCount} finite numbers, one a control (an array or a Float64Array)`);
    }
    return values;
  }

  /** outputGradient against central differences of output() at `at` (`where`, for the message). */
  private checkGradientAt(at: Float64Array, where: string): void {
    const exact = this.checkedGradient(at);
    const differences = this.controlRangeV.map(([low, high], k) => {
      const h = FD_STEP * (high - low);
      const shifted = (by: number) => this.output(at.map((v, j) => (j === k ? v + by : v)));
      return (shifted(h) - shifted(-h)) / (2 * h);
    });
    const norm = (x: ArrayLike<number>) => hypotOf(x);
    const error = norm(differences.map((d, k) => exact[k] - d));
    if (error > GRADIENT_TOLERANCE * Math.max(norm(differences), norm(exact)) + 1e-12) {
      throw this.fail(`outputGradient() at ${where} (${volts(at)}) is ${fixed(exact)}; central differences of output() give ${fixed(differences)} (they must agree within ${GRADIENT_TOLERANCE * 100}%)`);
    }
  }

  /** body(), or the error naming `what` threw. */
  private call<T>(body: () => T, what: () => string): T {
    throwFault(this.source);
    try {
      return body();
    } catch (error) {
      throw callFailed(this.fail, what(), error);
    }
  }
}

const fixed = (values: ArrayLike<number>) => `[${Array.from(values, (x) => x.toPrecision(4)).join(", ")}]`;
const volts = (voltages: ArrayLike<number>) => `${fixed(voltages)} V`;
