// The serial link between a host and a board running link.c: the framed protocol (defined
// here, generated into the firmware as link_protocol.h), and the host's side of it. A board
// in QEMU exposes its UART as a Unix socket; a worker thread moves the bytes, so the host can
// talk to the board synchronously: BoardController has the Controller's methods, backed by
// the module running on the board.
import { spawn, type ChildProcess } from "node:child_process";
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Worker } from "node:worker_threads";
import * as L from "../assembly/layout.ts";
import { Controller, ControllerError, type ControllerConfig, type ControllerStatus } from "../host/controller.ts";
import type { Board } from "./boards.ts";
import { qemuCommand } from "./qemu.ts";

/** Frame: SYNC, type (u8), payload length (u16), payload, CRC-16/CCITT-FALSE of type,
 *  length and payload (u16); every multi-byte field little-endian. */
export const LINK = {
  SYNC: 0xa5,
  VERSION: 1,
  /** Largest payload either side sends (a configuration block is CONFIG_WORDS * 4 bytes). */
  MAX_PAYLOAD: 4096,
  /** Room kept for a checkpoint blob: header and learned status, 3 words a control, the CRC. */
  MAX_CHECKPOINT: 4 * (5 + L.LEARNED_STATUS_WORDS + 3 * L.MAX_CONTROLS + 1),
} as const;

/** Frame types: host to board below 0x80, board to host from 0x80. */
export enum Frame {
  Hello = 0x01, //          -> HelloReply (and Stopped again when stopped)
  Config = 0x02, //         configuration block -> Ack (+ tone bins and hits) then Dac
  Adc = 0x03, //            f32 reading -> [Telemetry] then Dac (or Stopped)
  Stop = 0x04, //           -> [Telemetry] Stopped: park, keep the checkpoint
  GetCheckpoint = 0x05, //  -> Checkpoint
  LoadCheckpoint = 0x06, // blob -> Ack
  Exit = 0x07, //           i32 code -> Ack, then the firmware ends (emulation)
  GetTelemetry = 0x08, //   -> Telemetry (the state now; empty before a configuration)
  HelloReply = 0x81,
  Ack = 0x82,
  Dac = 0x83,
  Telemetry = 0x84,
  Stopped = 0x85,
  Checkpoint = 0x86,
}

/** Why the board stopped training (the STOPPED frame's first byte). */
export enum StopReason {
  Host = 1, //        a STOP frame
  BadCrc = 2,
  BadLength = 3, //   longer than MAX_PAYLOAD
  BadType = 4,
  BadPayload = 5, //  wrong size for its type
  Truncated = 6, //   a frame cut short
  NoSync = 7, //      stray bytes between frames
  Timeout = 8, //     no frame while running: the link is gone
  Fault = 9, //       the controller's fault event
}

export enum LinkState { Idle = 0, Running = 1, Stopped = 2 }

/** A telemetry record follows a sample with any of these events (app_hge.c), and ends a run
 *  (bit 31, APP_REPORT_FINAL); bit 30 (APP_REPORT_REQUEST) marks one the host asked for. */
export const TELEMETRY_EVENTS = L.Event.UpdateDone | L.Event.EpochDone | L.Event.Calibrated | L.Event.Fault | L.Event.WindowDiscarded;
export const REPORT_FINAL = 0x80000000;
export const REPORT_REQUEST = 0x40000000;

/** ACK codes besides the module's (enum Field) and the board's refusals (0x100 | field). */
export const ACK = { BOARD_REFUSAL: 0x100, BAD_BLOCK_SIZE: 0x1ff, NOT_RUNNING: 0x200, UNKNOWN_TYPE: 0x201 } as const;

/** link_protocol.h for the firmware (the link and the telemetry), from the definitions above. */
export function generateLinkHeader(): string {
  const upper = (s: string) => s.replace(/([a-z0-9])([A-Z])/g, "$1_$2").toUpperCase();
  const enumLines = (prefix: string, e: Record<string, string | number>) =>
    Object.entries(e).filter(([, v]) => typeof v === "number").map(([k, v]) => `#define HGE_LINK_${prefix}${upper(k)} ${v}`);
  return [
    "/* link_protocol.h: the serial protocol's constants, generated from boards/link.ts. */",
    "#ifndef HGE_LINK_PROTOCOL_H",
    "#define HGE_LINK_PROTOCOL_H",
    `#define HGE_LINK_SYNC 0x${LINK.SYNC.toString(16)}`,
    `#define HGE_LINK_VERSION ${LINK.VERSION}`,
    `#define HGE_LINK_MAX_PAYLOAD ${LINK.MAX_PAYLOAD}`,
    `#define HGE_LINK_MAX_CHECKPOINT ${LINK.MAX_CHECKPOINT}`,
    ...enumLines("", Frame as unknown as Record<string, number>),
    ...enumLines("STOP_", StopReason as unknown as Record<string, number>),
    ...enumLines("STATE_", LinkState as unknown as Record<string, number>),
    `#define HGE_LINK_NOT_RUNNING 0x${ACK.NOT_RUNNING.toString(16)}`,
    "/* the events after which the controller's adapter sends a telemetry record */",
    `#define HGE_TELEMETRY_EVENTS 0x${TELEMETRY_EVENTS.toString(16)}u`,
    `#define HGE_REPORT_FINAL 0x${REPORT_FINAL.toString(16)}u`,
    `#define HGE_REPORT_REQUEST 0x${REPORT_REQUEST.toString(16)}u`,
    `#define HGE_LINK_UNKNOWN_TYPE 0x${ACK.UNKNOWN_TYPE.toString(16)}`,
    "#endif",
    "",
  ].join("\n");
}

/** CRC-16/CCITT-FALSE (poly 0x1021, init 0xFFFF, no reflection, no final xor). */
export function crc16(bytes: Uint8Array, crc = 0xffff): number {
  for (const b of bytes) {
    crc ^= b << 8;
    for (let i = 0; i < 8; i++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
  }
  return crc;
}

export function encodeFrame(type: number, payload: Uint8Array = new Uint8Array(0)): Uint8Array {
  if (payload.length > LINK.MAX_PAYLOAD) throw new Error(`link: payload of ${payload.length} bytes > ${LINK.MAX_PAYLOAD}`);
  const out = new Uint8Array(payload.length + 6);
  out[0] = LINK.SYNC;
  out[1] = type;
  out[2] = payload.length & 0xff;
  out[3] = payload.length >> 8;
  out.set(payload, 4);
  const crc = crc16(out.subarray(1, 4 + payload.length));
  out[4 + payload.length] = crc & 0xff;
  out[5 + payload.length] = crc >> 8;
  return out;
}

export interface ReceivedFrame { type: number; payload: Uint8Array }

/** A broken link or a board that stopped answering. */
export class LinkError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "LinkError";
  }
}

/** The board stopped training (STOPPED frame): why, where the electrodes are parked, and
 *  how large the checkpoint it kept is. */
export interface Stopped { reason: StopReason; reasonName: string; checkpointBytes: number; parkedV: number[] }

export class BoardStopped extends Error {
  constructor(readonly stopped: Stopped) {
    super(`board stopped training: ${stopped.reasonName}`);
    this.name = "BoardStopped";
  }
}

// ---------------------------------------------------------------------------------------
// Transport: a worker thread owns the socket and copies what arrives into a shared ring;
// the host thread waits on it with Atomics.wait (a timeout, no busy loop) and writes with
// postMessage. Synchronous for the caller, so the board can stand in for a Controller.

const RING_BYTES = 1 << 20;
const sleep = (ms: number) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
const WORKER_SOURCE = `
const { parentPort, workerData } = require("node:worker_threads");
const net = require("node:net");
const { header, ring, path } = workerData;
const size = ring.length;
let socket = null;
function connect(deadline) {
  const s = net.createConnection(path);
  s.setNoDelay?.(true);
  s.on("connect", () => { socket = s; Atomics.store(header, 4, s._handle.fd); Atomics.store(header, 2, 1); Atomics.add(header, 3, 1); Atomics.notify(header, 3); });
  s.on("data", (chunk) => {
    let at = Atomics.load(header, 0);
    for (let i = 0; i < chunk.length; i++) ring[(at + i) % size] = chunk[i];
    Atomics.store(header, 0, (at + chunk.length) | 0);
    Atomics.add(header, 3, 1);
    Atomics.notify(header, 3);
  });
  s.on("error", () => {
    if (socket === null && Date.now() < deadline) { setTimeout(() => connect(deadline), 20); return; }
  });
  s.on("close", () => {
    if (socket === s) { socket = null; Atomics.store(header, 2, 2); Atomics.add(header, 3, 1); Atomics.notify(header, 3); }
    else if (socket === null && Date.now() >= deadline) { Atomics.store(header, 2, 3); Atomics.add(header, 3, 1); Atomics.notify(header, 3); }
  });
}
parentPort.on("message", (m) => {
  if (m.write) { if (socket) socket.write(m.write); }
  else if (m.connect) { Atomics.store(header, 2, 0); connect(Date.now() + m.connect); }
  else if (m.drop) { if (socket) { const s = socket; socket = null; s.destroy(); } Atomics.store(header, 2, 2); Atomics.add(header, 3, 1); Atomics.notify(header, 3); }
  else if (m.close) { if (socket) socket.destroy(); process.exit(0); }
});
`;

/** header: [0] bytes received (running count), [2] connection: 0 connecting, 1 connected,
 *  2 dropped, 3 never connected; [3] bumped on every change (waited on); [4] the socket's fd. */
class SocketTransport {
  private readonly header = new Int32Array(new SharedArrayBuffer(32));
  private readonly ring = new Uint8Array(new SharedArrayBuffer(RING_BYTES));
  private readonly worker: Worker;
  private readAt = 0;

  constructor(readonly path: string) {
    this.worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { header: this.header, ring: this.ring, path } });
    this.worker.unref();
  }

  /** Connects (retrying while the socket file appears) within `timeoutMs`. */
  connect(timeoutMs: number): void {
    this.worker.postMessage({ connect: timeoutMs });
    const deadline = performance.now() + timeoutMs + 200;
    for (;;) {
      const state = Atomics.load(this.header, 2);
      if (state === 1) return;
      if (state === 3 || performance.now() > deadline) throw new LinkError(`link: could not connect to ${this.path}`);
      const seq = Atomics.load(this.header, 3);
      Atomics.wait(this.header, 3, seq, 50);
    }
  }

  get connected(): boolean { return Atomics.load(this.header, 2) === 1; }

  /** Writes straight to the socket (the worker only reads): no message hop per frame. */
  write(bytes: Uint8Array): void {
    if (!this.connected) throw new LinkError("link: not connected");
    const fd = Atomics.load(this.header, 4);
    for (let at = 0; at < bytes.length;) {
      try {
        at += writeSync(fd, bytes, at, bytes.length - at);
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code !== "EAGAIN") throw new LinkError(`link: write failed (${code})`);
        sleep(1);
      }
    }
  }

  /** The next `n` bytes, waiting up to `timeoutMs` in all; null on timeout or a closed link. */
  read(n: number, timeoutMs: number): Uint8Array | null {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const seq = Atomics.load(this.header, 3);
      const available = (Atomics.load(this.header, 0) - this.readAt) | 0;
      if (available > RING_BYTES) throw new LinkError("link: receive ring overrun");
      if (available >= n) {
        const out = new Uint8Array(n);
        for (let i = 0; i < n; i++) out[i] = this.ring[(this.readAt + i) % RING_BYTES];
        this.readAt = (this.readAt + n) | 0;
        return out;
      }
      if (!this.connected) return null;
      const left = deadline - performance.now();
      if (left <= 0) return null;
      Atomics.wait(this.header, 3, seq, left);
    }
  }

  /** Closes the connection as a pulled cable would (the board is not told). */
  drop(): void {
    this.worker.postMessage({ drop: true });
    for (let i = 0; i < 100 && Atomics.load(this.header, 2) !== 2; i++) Atomics.wait(this.header, 3, Atomics.load(this.header, 3), 10);
  }

  /** Bytes received and not read yet are discarded (after a reconnection). */
  discard(): void { this.readAt = Atomics.load(this.header, 0); }

  close(): void { this.worker.postMessage({ close: true }); }
}

// ---------------------------------------------------------------------------------------
// A board in QEMU with its UART on a socket.

export interface LinkOptions {
  /** How long to wait for any answer (ms). Default 10 s: QEMU may be slow to start. */
  replyTimeoutMs?: number;
  /** QEMU in a process group of its own, so a Ctrl-C at the terminal (SIGINT to the
   *  foreground group) reaches only the host, which then stops the board cleanly (parks,
   *  keeps the checkpoint). Only for a host that handles SIGINT: otherwise QEMU would outlive
   *  it. */
  ownProcessGroup?: boolean;
}

/** The firmware (built with entry "link") running in QEMU, its UART on a Unix socket. */
export class BoardSession {
  readonly transport: SocketTransport;
  readonly dir: string;
  private readonly child: ChildProcess;
  private exitCode: number | null | undefined;
  private readonly exited: Promise<number | null>;
  readonly replyTimeoutMs: number;

  private constructor(readonly board: Board, readonly elf: string, o: LinkOptions) {
    if (!board.emulation) throw new Error(`${board.name} is not emulated`);
    this.replyTimeoutMs = o.replyTimeoutMs ?? 10_000;
    this.dir = mkdtempSync(join(tmpdir(), `hge-link-${board.name}-`));
    const socket = join(this.dir, "uart.sock");
    const [cmd, ...args] = qemuCommand(board, elf, { serial: `unix:${socket},server=on,wait=on` }, this.dir);
    const console = openSync(join(this.dir, "console.log"), "w");
    this.child = spawn(cmd, args, { cwd: this.dir, stdio: ["ignore", console, console], detached: o.ownProcessGroup ?? false });
    closeSync(console);
    this.exited = new Promise((resolve) => this.child.on("exit", (code) => { this.exitCode = code; resolve(code); }));
    this.child.on("error", () => { this.exitCode = -1; });
    this.transport = new SocketTransport(socket);
  }

  /** Starts QEMU and connects to its UART; the board's HELLO is read. */
  static open(board: Board, elf: string, o: LinkOptions = {}): { session: BoardSession; hello: Hello } {
    const session = new BoardSession(board, elf, o);
    try {
      session.transport.connect(session.replyTimeoutMs);
      const frame = session.expect([Frame.HelloReply]);
      return { session, hello: decodeHello(frame.payload) };
    } catch (e) {
      session.kill();
      throw e;
    }
  }

  send(type: number, payload?: Uint8Array): void { this.transport.write(encodeFrame(type, payload)); }

  /** Writes bytes as they are (a test's malformed frame). */
  sendRaw(bytes: Uint8Array): void { this.transport.write(bytes); }

  /** The next frame; LinkError on a timeout, a closed link or a corrupt frame. */
  receive(timeoutMs = this.replyTimeoutMs): ReceivedFrame {
    const t = this.transport;
    for (;;) {
      const sync = t.read(1, timeoutMs);
      if (!sync) throw new LinkError(`link: no frame from ${this.board.name} within ${timeoutMs} ms${this.exitCode !== undefined ? ` (QEMU exited ${this.exitCode})` : ""}`);
      if (sync[0] !== LINK.SYNC) throw new LinkError(`link: stray byte 0x${sync[0].toString(16)} from the board`);
      const head = t.read(3, timeoutMs);
      if (!head) throw new LinkError("link: frame cut short");
      const length = head[1] | (head[2] << 8);
      if (length > LINK.MAX_PAYLOAD) throw new LinkError(`link: frame of ${length} bytes`);
      const rest = t.read(length + 2, timeoutMs);
      if (!rest) throw new LinkError("link: frame cut short");
      const crc = crc16(rest.subarray(0, length), crc16(head));
      if ((rest[length] | (rest[length + 1] << 8)) !== crc) throw new LinkError(`link: bad CRC on a frame of type 0x${head[0].toString(16)}`);
      return { type: head[0], payload: rest.slice(0, length) };
    }
  }

  /** The next frame of one of `types`; a STOPPED frame instead throws BoardStopped. */
  expect(types: number[], timeoutMs?: number): ReceivedFrame {
    const frame = this.receive(timeoutMs);
    if (types.includes(frame.type)) return frame;
    if (frame.type === Frame.Stopped) throw new BoardStopped(decodeStopped(frame.payload));
    throw new LinkError(`link: expected frame ${types.map((t) => Frame[t]).join("/")}, got ${Frame[frame.type] ?? frame.type}`);
  }

  /** Drops the connection (the socket closes; QEMU waits for a new one). */
  drop(): void { this.transport.drop(); }

  /** Connects again after drop(); returns the HELLO the board answers with. */
  reconnect(): Hello {
    this.transport.discard();
    this.transport.connect(this.replyTimeoutMs);
    this.send(Frame.Hello);
    return decodeHello(this.expect([Frame.HelloReply]).payload);
  }

  /** What the firmware printed on the semihosting console (parked DAC lines, traps). */
  console(): string {
    const file = join(this.dir, "console.log");
    return existsSync(file) ? readFileSync(file, "utf8") : "";
  }

  /** The checkpoint the firmware stored (the emulated flash), if any. */
  storedCheckpoint(): Uint8Array | null {
    const file = join(this.dir, "checkpoint.bin");
    return existsSync(file) ? new Uint8Array(readFileSync(file)) : null;
  }

  /** Asks the firmware to end (EXIT frame) and waits for QEMU; returns its exit code. */
  async exit(code = 0, timeoutMs = 10_000): Promise<number | null> {
    try {
      if (this.transport.connected) {
        const payload = new Uint8Array(4);
        new DataView(payload.buffer).setInt32(0, code, true);
        this.send(Frame.Exit, payload);
      }
    } catch { /* already gone */ }
    const timer = setTimeout(() => this.kill(), timeoutMs);
    const result = await this.exited;
    clearTimeout(timer);
    this.transport.close();
    return result;
  }

  kill(): void {
    if (this.exitCode === undefined) this.child.kill("SIGKILL");
    this.transport.close();
  }

  /** Removes the run directory (after reading console() and storedCheckpoint()). */
  cleanup(): void { rmSync(this.dir, { recursive: true, force: true }); }
}

// ---------------------------------------------------------------------------------------
// Payloads

export interface Hello { version: number; state: LinkState; stopReason: number; configWords: number; statusWords: number; dacChannels: number; maxPayload: number; clockHz: number; sampleRateHz: number; linkTimeoutMs: number; board: string }

export function decodeHello(p: Uint8Array): Hello {
  const v = new DataView(p.buffer, p.byteOffset, p.byteLength);
  return {
    version: p[0], state: p[1], stopReason: p[2], configWords: v.getUint16(4, true), statusWords: v.getUint16(6, true),
    dacChannels: v.getUint16(8, true), maxPayload: v.getUint16(10, true), clockHz: v.getUint32(12, true),
    sampleRateHz: v.getUint32(16, true), linkTimeoutMs: v.getUint32(20, true), board: new TextDecoder().decode(p.subarray(24)),
  };
}

export function decodeStopped(p: Uint8Array): Stopped {
  const v = new DataView(p.buffer, p.byteOffset, p.byteLength);
  const parkedV: number[] = [];
  for (let at = 8; at + 4 <= p.length; at += 4) parkedV.push(v.getFloat32(at, true));
  return { reason: p[0], reasonName: StopReason[p[0]] ?? `reason ${p[0]}`, checkpointBytes: v.getUint32(4, true), parkedV };
}

/** A telemetry record (app_hge.c): events, the counts, the status words, then weights,
 *  gradient and case outputs. Words kept as bits: parity compares them. */
export interface Telemetry { events: number; controls: number; inputs: number; cases: number; words: Uint32Array }

export function decodeTelemetry(p: Uint8Array): Telemetry {
  const words = new Uint32Array(p.slice().buffer);
  const counts = words[1];
  return { events: words[0], controls: counts & 0xff, inputs: (counts >> 8) & 0xff, cases: (counts >> 16) & 0xff, words };
}

/** The parts of a telemetry record, as the Controller's read-outs return them. */
export function telemetryParts(t: Telemetry) {
  const f = new Float32Array(t.words.buffer, t.words.byteOffset, t.words.length);
  const status = 2, weights = status + L.STATUS_WORDS, gradient = weights + t.controls, outputs = gradient + t.controls;
  return {
    status: new Int32Array(t.words.buffer, t.words.byteOffset + status * 4, L.STATUS_WORDS),
    statusF32: f.subarray(status, weights),
    weights: f.subarray(weights, gradient),
    gradient: f.subarray(gradient, outputs),
    caseOutputs: f.subarray(outputs, outputs + t.cases),
  };
}

/** The same record from a Node Controller (for comparing a board's telemetry bit for bit). */
export function telemetryOf(controller: Controller, events: number, inputs: number): Uint32Array {
  const e = controller.exports;
  const memory = new Uint32Array(e.memory.buffer);
  const at = (name: "STATUS" | "WEIGHTS" | "GRADIENT" | "CASE_OUTPUTS", n: number) => Array.from(memory.subarray((e[name].value as number) / 4, (e[name].value as number) / 4 + n));
  const controls = controller.controlCount, cases = controller.caseCount;
  return Uint32Array.from([events >>> 0, controls | (inputs << 8) | (cases << 16), ...at("STATUS", L.STATUS_WORDS), ...at("WEIGHTS", controls), ...at("GRADIENT", controls), ...at("CASE_OUTPUTS", cases)]);
}

export function statusFromWords(i: Int32Array, f: Float32Array): ControllerStatus {
  const S = L.Status;
  return {
    samples: (i[S.Samples] >>> 0) + (i[S.Samples + 1] >>> 0) * 2 ** 32,
    windows: i[S.Windows], discardedWindows: i[S.DiscardedWindows], updates: i[S.Updates], epochs: i[S.Epochs],
    loss: f[S.Loss], lagDelaySamples: f[S.LagDelaySamples], lagCornerHz: f[S.LagCornerHz], consecutiveDiscards: i[S.Faults],
    case: i[S.Case], configured: i[S.Configured] === 1, skippedUpdates: i[S.SkippedUpdates], hitTones: i[S.HitTones],
    optimiserResets: i[S.OptimiserResets], thirdOrderAmplitude: f[S.ThirdOrderAmplitude], noiseAmplitude: f[S.NoiseAmplitude],
  };
}

// ---------------------------------------------------------------------------------------

/** The encoded configuration block for `config` (the bytes Controller.configure writes), and
 *  the Node module's verdict on it: the board runs the same module, so it answers the same. */
export function encodeConfig(config: ControllerConfig, scratch = new Controller()): { block: Uint8Array; error?: ControllerError; scratch: Controller } {
  let error: ControllerError | undefined;
  try { scratch.configure(config); } catch (e) { if (e instanceof ControllerError) error = e; else throw e; }
  const e = scratch.exports;
  const block = new Uint8Array(e.memory.buffer, e.CONFIG.value as number, L.CONFIG_WORDS * 4).slice();
  return { block, error, scratch };
}

/**
 * The controller on a board, with the Controller's methods: configure, step, and the
 * read-outs. Read-outs come from the board's telemetry (the record sent after epochs,
 * updates and faults); between records a read-out asks the board for a fresh one.
 */
export class BoardController {
  private controls = 0;
  private inputs = 0;
  private cases = 0;
  private dac = new Float32Array(0);
  private telemetry: Telemetry | null = null;
  private fresh = false;
  private bins = new Int32Array(0);
  private hits = new Int32Array(0);
  private scratch = new Controller();
  /** The last STOPPED frame, once the board has stopped. */
  stopped: Stopped | null = null;

  constructor(readonly session: BoardSession) {}

  /** Exposes the Node twin's exports (the same block was configured there; e.g. STATUS's
   *  PlanMinWindow after a Plan refusal). Not the board's memory. */
  get exports() { return this.scratch.exports; }

  configure(config: ControllerConfig): void {
    const { block, error } = encodeConfig(config, this.scratch);
    const { code, index } = this.configureBlock(block);
    if (code === 0) return;
    if (error && error.code === code) throw error;
    const field = L.Field[code & 0xff] ?? `code ${code}`;
    if (code & ACK.BOARD_REFUSAL) {
      throw new ControllerError(code & 0xff, field, index, `configuration refused by the board ${this.session.board.name}: ${field} (element ${index}) is outside what the board can drive safely`);
    }
    throw new ControllerError(code, field, index, `configuration refused: ${field} (element ${index})`);
  }

  /** Sends a configuration block; on acceptance the first DAC frame is read. */
  configureBlock(block: Uint8Array): { code: number; index: number } {
    this.session.send(Frame.Config, block);
    const ack = this.session.expect([Frame.Ack]).payload;
    const v = new DataView(ack.buffer, ack.byteOffset, ack.byteLength);
    const code = v.getInt32(4, true), index = v.getInt32(8, true);
    if (code !== 0) return { code, index };
    const n = v.getUint32(12, true);
    this.bins = new Int32Array(ack.slice(16, 16 + 4 * n).buffer);
    this.hits = new Int32Array(ack.slice(16 + 4 * n, 16 + 8 * n).buffer);
    const c = new DataView(block.buffer, block.byteOffset, block.byteLength);
    this.controls = c.getInt32(L.Field.ControlCount * 4, true);
    this.inputs = c.getInt32(L.Field.InputCount * 4, true);
    this.cases = c.getInt32(L.Field.CaseCount * 4, true);
    this.stopped = null;
    this.fresh = false;
    this.readDac();
    return { code, index };
  }

  private readDac(): number {
    for (;;) {
      let frame: ReceivedFrame;
      try {
        frame = this.session.expect([Frame.Dac, Frame.Telemetry]);
      } catch (e) {
        if (e instanceof BoardStopped) {
          this.stopped = e.stopped;
          this.resynchronise();
        }
        throw e;
      }
      if (frame.type === Frame.Telemetry) {
        this.telemetry = decodeTelemetry(frame.payload);
        this.fresh = true;
        continue;
      }
      this.dac = new Float32Array(frame.payload.slice(4).buffer);
      return new DataView(frame.payload.buffer, frame.payload.byteOffset).getUint32(0, true);
    }
  }

  get controlCount(): number { return this.controls; }
  get inputCount(): number { return this.inputs; }
  get caseCount(): number { return this.cases; }

  private readonly adc = new Uint8Array(4);
  private readonly adcView = new DataView(this.adc.buffer);

  /** One sample on the board: the reading in, the events out; electrodes() has the next
   *  voltages. A fault stops the board (BoardStopped is thrown on the next step). */
  step(reading: number): number {
    if (this.stopped) throw new BoardStopped(this.stopped);
    this.adcView.setFloat32(0, reading, true);
    this.session.send(Frame.Adc, this.adc);
    this.fresh = false;
    try {
      return this.readDac();
    } catch (e) {
      // the board parks on a fault: its last telemetry carries the Fault event
      if (e instanceof BoardStopped && this.fresh && this.telemetry && (this.telemetry.events & L.Event.Fault)) return this.telemetry.events;
      throw e;
    }
  }

  /** A telemetry record for the state after the last step (asked for when none came). */
  private record(): ReturnType<typeof telemetryParts> {
    if (!this.fresh || !this.telemetry) {
      this.session.send(Frame.GetTelemetry);
      const t = decodeTelemetry(this.session.expect([Frame.Telemetry]).payload);
      if (t.words.length === 0) throw new LinkError("link: the board has no configuration");
      this.telemetry = t;
      this.fresh = true;
    }
    return telemetryParts(this.telemetry);
  }

  /** After the board stopped on its own, frames sent meanwhile may still be answered (an ADC
   *  frame that arrived after the stop is refused with an ACK): a HELLO round trip skips them. */
  private resynchronise(): void {
    this.session.send(Frame.Hello);
    for (let frame = this.session.receive(); frame.type !== Frame.HelloReply; frame = this.session.receive()) {}
    // a stopped board repeats its STOPPED frame after the HELLO reply
    this.session.expect([Frame.Stopped]);
  }

  /** After a lost link: connects again; a board that stopped meanwhile (its link timeout) says
   *  so, and that STOPPED frame is returned. */
  reconnect(): Stopped | null {
    this.fresh = false;
    const hello = this.session.reconnect();
    if (hello.state !== LinkState.Stopped) return null;
    return (this.stopped = decodeStopped(this.session.expect([Frame.Stopped]).payload));
  }

  electrodes(): Float32Array { return this.dac; }
  weights(): Float32Array { return this.record().weights; }
  gradient(): Float32Array { return this.record().gradient; }
  caseOutputs(): Float32Array { return this.record().caseOutputs; }
  toneBins(): Int32Array { return this.bins; }
  toneHits(): Int32Array { return this.hits; }
  status(): ControllerStatus {
    const r = this.record();
    return statusFromWords(r.status, r.statusF32);
  }
  /** The telemetry record as sent (bits), after the last step. */
  telemetryWords(): Uint32Array { this.record(); return this.telemetry!.words; }

  /** The learned state: the board's checkpoint (the one kept at the stop, once stopped). */
  save(): Uint8Array {
    this.session.send(Frame.GetCheckpoint);
    return this.session.expect([Frame.Checkpoint]).payload;
  }

  load(blob: Uint8Array): void {
    this.session.send(Frame.LoadCheckpoint, blob);
    const ack = this.session.expect([Frame.Ack]).payload;
    const code = new DataView(ack.buffer, ack.byteOffset).getInt32(4, true);
    if (code !== 0) throw new ControllerError(L.Field.Checkpoint, "Checkpoint", -1, "checkpoint refused by the board: corrupt, of another version, or for another configuration");
  }

  /** Reads what a board that is stopping sends (its last telemetry, then STOPPED) and throws
   *  BoardStopped. */
  awaitStop(): never {
    for (;;) {
      const frame = this.session.receive();
      if (frame.type === Frame.Telemetry) { this.telemetry = decodeTelemetry(frame.payload); this.fresh = true; continue; }
      if (frame.type === Frame.Stopped) {
        this.stopped = decodeStopped(frame.payload);
        this.resynchronise();
        throw new BoardStopped(this.stopped);
      }
      throw new LinkError(`link: expected STOPPED, got ${Frame[frame.type] ?? frame.type}`);
    }
  }

  /** Stops training: the board parks the electrodes and keeps the checkpoint. */
  stop(): Stopped {
    this.session.send(Frame.Stop);
    for (;;) {
      const frame = this.session.receive();
      if (frame.type === Frame.Telemetry) { this.telemetry = decodeTelemetry(frame.payload); this.fresh = true; continue; }
      if (frame.type === Frame.Stopped) return (this.stopped = decodeStopped(frame.payload));
      throw new LinkError(`link: expected STOPPED, got ${Frame[frame.type] ?? frame.type}`);
    }
  }
}
