// The serial link between a host and a board running link.c: the framed protocol (defined
// here, generated into the firmware as link_protocol.h), and the host's side of it. A board
// in QEMU exposes its UART as a pseudo-terminal, opened like a real port with `serialport`; a worker thread moves the bytes, so the host can
// talk to the board synchronously: BoardController has the Controller's methods, backed by
// the module running on the board.
import { spawn, type ChildProcess } from "node:child_process";
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, readSync, rmSync, writeSync } from "node:fs";
import { createConnection } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as L from "../assembly/layout.ts";
import { Controller, ControllerError, CORE_WASM, statusFromWords, type ControllerConfig, type ControllerStatus } from "../host/controller.ts";
import { TrainConfigError } from "../host/errors.ts";
import type { Board } from "./boards.ts";
import { qemuCommand } from "./qemu.ts";

/** Frame: SYNC, type (u8), payload length (u16), payload, CRC-16/CCITT-FALSE of type,
 *  length and payload (u16); every multi-byte field little-endian. */
export const LINK = {
  SYNC: 0xa5,
  /** 2: HELLO carries the board's ADC scale (device unit per volt) before the name.
   *  3: HOLD (the controls held to confirm a solved epoch, as on Node). */
  VERSION: 3,
  /** Largest payload either side sends: a configuration block (CONFIG_WORDS * 4 bytes). */
  MAX_PAYLOAD: 4 * L.CONFIG_WORDS,
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
  Hold = 0x09, //           i32 on -> Ack: the module's hold(on), between two samples
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
  Solved = 10, //     standalone firmware: the task is solved
  Limit = 11, //      standalone firmware: the iteration limit
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

/** The serial ports this machine shows, for a message. */
async function serialPorts(): Promise<string> {
  const { SerialPort } = await import("serialport");
  const ports = await SerialPort.list().then((list) => list.map((p) => p.path), () => []);
  return ports.length ? `the serial ports here: ${ports.join(", ")}` : "this machine shows no serial port: is the board plugged in?";
}

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
// Transport: a worker thread owns the serial port and copies what arrives into a shared ring;
// the host thread waits on it with Atomics.wait (a timeout, no busy loop) and writes with
// postMessage. Synchronous for the caller, so the board can stand in for a Controller.

/** How long the host waits for a HELLO reply before it sends HELLO again: longer than the
 *  board waits for the rest of a frame (link.c HGE_LINK_BYTE_TIMEOUT_US, 1 s). */
const HELLO_AGAIN_MS = 1500;
const sleep = (ms: number) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
/** A serial port (a USB CDC device such as /dev/ttyACM0, a UART adapter, or the
 *  pseudo-terminal QEMU gives an emulated board's UART), opened and set up (raw, baud rate)
 *  with the `serialport` package. Reads and writes then go straight to its file descriptor
 *  from the host's thread: the caller waits synchronously (non-blocking reads, short sleeps
 *  while nothing has arrived), so the board can stand in for a Controller. (serialport's
 *  own reader runs on the event loop, which a synchronous caller blocks, and its native
 *  binding is not safe in a worker thread.) */
export class SerialTransport {
  private port: import("serialport").SerialPort | null = null;
  private fd = -1;
  private buffer = new Uint8Array(65536);
  private start = 0;
  private end = 0;
  private state: "closed" | "open" | "dropped" = "closed";

  constructor(readonly path: string, readonly baudRate = 115200) {}

  /** Opens the port (retrying while it cannot be opened) within `timeoutMs`; `gone` says why
   *  retrying is pointless (the emulator exited), or null. */
  async connect(timeoutMs: number, gone: () => string | null = () => null): Promise<void> {
    const { SerialPort } = await import("serialport");
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const port = new SerialPort({ path: this.path, baudRate: this.baudRate, autoOpen: false, hupcl: false });
      const error = await new Promise<Error | null>((resolve) => port.open((e) => resolve(e ?? null)));
      if (!error) {
        const fd = (port.port as unknown as { fd?: number } | undefined)?.fd;
        if (typeof fd !== "number") throw new LinkError(`link: ${this.path}: the serialport binding gave no file descriptor`);
        this.port = port;
        this.fd = fd;
        this.state = "open";
        this.discard();
        return;
      }
      if (performance.now() > deadline) throw new LinkError(`link: could not open ${this.path}: ${error.message.replace(/^Error: /, "")}`);
      const why = gone();
      if (why) throw new LinkError(`link: ${why}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  get connected(): boolean { return this.state === "open"; }

  write(bytes: Uint8Array): void {
    if (!this.connected) throw new LinkError("link: not connected");
    for (let at = 0; at < bytes.length;) {
      try {
        at += writeSync(this.fd, bytes, at, bytes.length - at);
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code === "EIO") {
          this.state = "dropped"; // the other side is gone (QEMU exited, the USB port went away)
          throw new LinkError(`link: port ${this.path} hung up (write: EIO)`);
        }
        if (code !== "EAGAIN") throw new LinkError(`link: write failed (${code})`);
        sleep(1);
      }
    }
  }

  /** Moves what the port has into the buffer; false when the port is gone. */
  private fill(): boolean {
    if (this.start === this.end) this.start = this.end = 0;
    if (this.end === this.buffer.length) {
      const bigger = new Uint8Array(this.buffer.length * 2);
      bigger.set(this.buffer.subarray(this.start, this.end));
      this.end -= this.start;
      this.start = 0;
      this.buffer = bigger;
    }
    try {
      const n = readSync(this.fd, this.buffer, this.end, this.buffer.length - this.end, null);
      if (n === 0) {
        // end of file: the other side hung up (QEMU exited, the board's USB port went away);
        // a port with nothing to read says EAGAIN (opened non-blocking, VMIN 1)
        this.state = "dropped";
        return false;
      }
      this.end += n;
      return true;
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === "EAGAIN") return true;
      this.state = "dropped"; // EIO: the other side (QEMU) is gone
      return false;
    }
  }

  /** The next `n` bytes, waiting up to `timeoutMs` in all; null on timeout or a closed link. */
  read(n: number, timeoutMs: number): Uint8Array | null {
    const deadline = performance.now() + timeoutMs;
    for (let idle = 0; ; idle++) {
      if (this.end - this.start >= n) {
        const out = this.buffer.slice(this.start, this.start + n);
        this.start += n;
        return out;
      }
      if (!this.connected) return null;
      const before = this.end;
      if (!this.fill()) return null;
      if (this.end > before) { idle = 0; continue; }
      if (performance.now() > deadline) return null;
      // nothing yet: a board answers within a sample, so look again at once for ~200 reads
      // (a sample 878 -> 712 us on the M4F), then sleep a little, longer the longer it is quiet
      if (idle > 200) Atomics.wait(SLEEPER, 0, 0, idle < 2000 ? 0.05 : 1);
    }
  }

  /** Whether a byte comes within `timeoutMs`; it is left to be read. */
  waitReadable(timeoutMs: number): boolean {
    if (!this.read(1, timeoutMs)) return false;
    this.start--; // read() moved past it; the byte is still in the buffer
    return true;
  }

  /** Whatever has arrived, waiting up to `timeoutMs` for the first byte (empty: nothing; null:
   *  the port is gone). */
  readSome(timeoutMs: number): Uint8Array | null {
    const first = this.read(1, timeoutMs);
    if (!first) return this.connected ? new Uint8Array(0) : null;
    this.fill();
    const out = new Uint8Array(1 + this.end - this.start);
    out[0] = first[0];
    out.set(this.buffer.subarray(this.start, this.end), 1);
    this.start = this.end;
    return out;
  }

  /** Closes the port as a pulled cable would (the board is not told). */
  drop(): void {
    this.state = "dropped";
    this.port?.close(() => {});
    this.port = null;
  }

  /** Bytes received and not read yet are discarded (after a reconnection). */
  discard(): void {
    if (this.connected) while (this.fill() && this.end > this.start) this.start = this.end;
    this.start = this.end = 0;
  }

  close(): void { this.drop(); this.state = "closed"; }
}
const SLEEPER = new Int32Array(new SharedArrayBuffer(4));

// ---------------------------------------------------------------------------------------
// A board on a serial port: a real one (--port /dev/ttyACM0), or an emulated board in QEMU
// whose UART is a pseudo-terminal (-serial pty), opened exactly as the real one.

export interface LinkOptions {
  /** How long to wait for any answer (ms). Default 10 s: QEMU may be slow to start. */
  replyTimeoutMs?: number;
  /** QEMU in a process group of its own, so a Ctrl-C at the terminal (SIGINT to the
   *  foreground group) reaches only the host, which then stops the board cleanly (parks,
   *  keeps the checkpoint). Only for a host that handles SIGINT: otherwise QEMU would outlive
   *  it. */
  ownProcessGroup?: boolean;
  /** A real board's serial port (e.g. /dev/ttyACM0): no QEMU is started, the firmware is
   *  expected to be flashed and running. */
  port?: string;
  /** The port's baud rate (default 115200; a pseudo-terminal ignores it). */
  baudRate?: number;
  /** Expect no HELLO (standalone firmware only sends telemetry): open() returns once the port
   *  is open and the board runs. */
  noHello?: boolean;
}

/** Sends one command to QEMU's monitor (a Unix socket). */
function monitorCommand(socket: string, command: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const deadline = Date.now() + 5000;
    const attempt = () => {
      const s = createConnection(socket);
      s.on("connect", () => { s.write(`${command}\n`); setTimeout(() => { s.end(); resolve(); }, 50); });
      s.on("error", (e) => (Date.now() < deadline ? setTimeout(attempt, 20) : reject(new LinkError(`link: QEMU's monitor: ${e.message}`))));
    };
    attempt();
  });
}

/** QEMU names the pseudo-terminal it made for the UART on its output. */
const PTY_LINE = /char device redirected to (\/dev\/pts\/\d+) \(label (\w+)\)/;

/** The firmware (built with entry "link") on a serial port: a real board's, or an emulated
 *  board's pseudo-terminal (QEMU started here, paused until the port is open). */
export class BoardSession {
  readonly transport: SerialTransport;
  readonly dir: string;
  private readonly child: ChildProcess | null;
  private exitCode: number | null | undefined;
  private exitSignal: string | null = null;
  private readonly exited: Promise<number | null>;
  readonly replyTimeoutMs: number;
  /** The serial port the host opened (a pseudo-terminal for an emulated board). */
  readonly portPath: string;
  /** HELLO replies that may still come: helloReply() sent HELLO again and took the first reply
   *  (none comes when the board lost the first HELLO). */
  private repliesDue = 0;
  private readonly monitorSocket: string | null;
  /** The board's last HELLO (its ADC scale converts the host's readings to ADC volts). */
  hello!: Hello;

  private constructor(readonly board: Board, readonly elf: string | null, o: LinkOptions) {
    this.replyTimeoutMs = o.replyTimeoutMs ?? 10_000;
    this.dir = mkdtempSync(join(tmpdir(), `hge-link-${board.name}-`));
    if (o.port) {
      this.child = null;
      this.monitorSocket = null;
      this.exited = Promise.resolve(null);
      this.portPath = o.port;
      this.transport = new SerialTransport(o.port, o.baudRate);
      return;
    }
    if (!board.emulation) throw new Error(`${board.name} is not emulated: give its serial port`);
    if (!elf) throw new Error("an emulated board needs its firmware");
    this.monitorSocket = join(this.dir, "monitor.sock");
    const [cmd, ...args] = qemuCommand(board, elf, { serial: "pty" }, this.dir);
    const at = args.indexOf("-monitor");
    if (at >= 0) args.splice(at, 2);
    // paused (-S) until the host has the pseudo-terminal open: the boot HELLO is not lost
    args.push("-S", "-monitor", `unix:${this.monitorSocket},server=on,wait=off`);
    const console = openSync(join(this.dir, "console.log"), "w");
    const child = spawn(cmd, args, { cwd: this.dir, stdio: ["ignore", console, console], detached: o.ownProcessGroup ?? false });
    this.child = child;
    closeSync(console);
    this.exited = new Promise((resolve) => child.on("exit", (code, signal) => { this.exitCode = code; this.exitSignal = signal; resolve(code); }));
    child.on("error", () => { this.exitCode = -1; });
    this.portPath = this.waitForPty();
    this.transport = new SerialTransport(this.portPath, o.baudRate);
  }

  /** The pseudo-terminal QEMU reports on its output. */
  private waitForPty(): string {
    const deadline = performance.now() + this.replyTimeoutMs;
    for (;;) {
      const m = PTY_LINE.exec(this.console());
      if (m) return m[1];
      if (this.exitCode !== undefined || performance.now() > deadline) {
        this.kill();
        throw new LinkError(`link: QEMU gave no pseudo-terminal for ${this.board.name}${this.exitCode !== undefined ? ` (exited ${this.exitCode})` : ""}: ${this.console().trim().slice(0, 300)}`);
      }
      sleep(10);
    }
  }

  /** Starts QEMU (an emulated board) or opens the board's port, and reads its HELLO. */
  static async open(board: Board, elf: string | null, o: LinkOptions = {}): Promise<{ session: BoardSession; hello: Hello }> {
    // a port that is not there at all is a wrong path, said at once (a board's port that goes
    // away mid-run is waited for: reconnect)
    if (o.port && !existsSync(o.port)) throw new LinkError(`link: no such port ${o.port}; ${await serialPorts()}`);
    const session = new BoardSession(board, elf, o);
    try {
      await session.transport.connect(session.replyTimeoutMs);
      if (session.monitorSocket) await monitorCommand(session.monitorSocket, "cont");
      if (o.noHello) return { session, hello: session.hello };
      if (!session.monitorSocket) {
        // a running board said HELLO long ago: ask again, skipping whatever was on the line
        sleep(50);
        session.transport.discard();
        session.send(Frame.Hello);
      }
      session.hello = decodeHello(session.helloReply().payload);
      if (session.hello.version !== LINK.VERSION) {
        throw new TrainConfigError("firmware", `${session.hello.board} speaks link protocol version ${session.hello.version}; this host speaks ${LINK.VERSION}: build and flash its firmware again (hge board build ${board.name})`);
      }
      if (session.hello.state === LinkState.Stopped) session.expect([Frame.Stopped]);
      return { session, hello: session.hello };
    } catch (e) {
      session.kill();
      session.cleanup();
      throw e;
    }
  }

  send(type: number, payload?: Uint8Array): void { this.transport.write(encodeFrame(type, payload)); }

  /** Writes bytes as they are (a test's malformed frame). */
  sendRaw(bytes: Uint8Array): void { this.transport.write(bytes); }

  /** The next frame; LinkError on a timeout, a closed link or a corrupt frame. A HELLO reply
   *  that comes late, to a HELLO helloReply() sent again, is skipped, with the STOPPED frame a
   *  stopped board sends after it; any other comes as it is (a board that restarted says HELLO). */
  receive(timeoutMs = this.replyTimeoutMs, hello = false): ReceivedFrame {
    const t = this.transport;
    for (let late = false; ;) {
      const sync = t.read(1, timeoutMs);
      if (!sync && !t.connected) throw new LinkError(`link: ${this.board.name}'s port ${this.portPath} hung up${this.child ? " (QEMU gone)" : ""}`);
      if (!sync) throw this.silence(timeoutMs);
      if (sync[0] !== LINK.SYNC) throw new LinkError(`link: stray byte 0x${sync[0].toString(16)} from the board`);
      const head = t.read(3, timeoutMs);
      if (!head) throw new LinkError("link: frame cut short");
      const length = head[1] | (head[2] << 8);
      if (length > LINK.MAX_PAYLOAD) throw new LinkError(`link: frame of ${length} bytes`);
      const rest = t.read(length + 2, timeoutMs);
      if (!rest) throw new LinkError("link: frame cut short");
      const crc = crc16(rest.subarray(0, length), crc16(head));
      if ((rest[length] | (rest[length + 1] << 8)) !== crc) throw new LinkError(`link: bad CRC on a frame of type 0x${head[0].toString(16)}`);
      if (head[0] === Frame.HelloReply && !hello && this.repliesDue > 0) {
        this.repliesDue--;
        late = rest[1] === LinkState.Stopped;
        continue;
      }
      if (head[0] === Frame.Stopped && late) { late = false; continue; }
      // the board answers in order: a late reply comes before the answer to any later request
      // (the STOPPED after the reply taken is not one), so none is due after such an answer
      if (!hello && head[0] !== Frame.Stopped) this.repliesDue = 0;
      return { type: head[0], payload: rest.slice(0, length) };
    }
  }

  private silence(timeoutMs: number): LinkError {
    return new LinkError(`link: no frame from ${this.board.name} within ${timeoutMs} ms${this.exitCode !== undefined ? ` (QEMU exited ${this.exitCode})` : ""}`);
  }

  /** The next frame of one of `types`; a STOPPED frame instead throws BoardStopped. */
  expect(types: number[], timeoutMs?: number): ReceivedFrame {
    const frame = this.receive(timeoutMs);
    if (types.includes(frame.type)) return frame;
    if (frame.type === Frame.Stopped) throw new BoardStopped(decodeStopped(frame.payload));
    throw new LinkError(`link: expected frame ${types.map((t) => Frame[t]).join("/")}, got ${Frame[frame.type] ?? frame.type}`);
  }

  /** The ACK that answers a `request` of this type; LinkError when it answers another (the
   *  host and the board out of step: an answer left unread, or a request the board lost). */
  ack(request: number): ReturnType<typeof decodeAck> {
    const ack = decodeAck(this.expect([Frame.Ack]).payload);
    if (ack.request !== request) throw new LinkError(`link: an ACK of ${Frame[ack.request] ?? ack.request} where one of ${Frame[request]} was due: the host and the board are out of step`);
    return ack;
  }

  /** Drops the connection, as a pulled cable would (the port is closed; QEMU keeps the
   *  pseudo-terminal for a new one). */
  drop(): void { this.transport.drop(); }

  /** Connects again after drop(); returns the HELLO the board answers with. An emulated board
   *  whose QEMU has exited is not waited for. */
  async reconnect(): Promise<Hello> {
    const gone = () => (this.child && this.exitCode !== undefined ? `QEMU exited (${this.exitSignal ?? `code ${this.exitCode}`}); nothing to connect to` : null);
    if (this.child) await Promise.race([this.exited, new Promise((resolve) => setTimeout(resolve, 250))]);
    if (gone()) throw new LinkError(`link: ${gone()}`);
    // a port still open (a frame garbled or out of order, a board that restarted) is asked
    // again as it is: opened a second time, its lock refuses it
    if (this.transport.connected) sleep(50);
    else await this.transport.connect(this.replyTimeoutMs, gone);
    this.transport.discard();
    this.send(Frame.Hello);
    return (this.hello = decodeHello(this.helloReply().payload));
  }

  /** The board's HELLO reply, what comes before it skipped, within the reply timeout: a board
   *  whose frames go on without one (the standalone firmware's telemetry) is not waited on
   *  until it falls silent. */
  helloReply(): ReceivedFrame {
    const deadline = performance.now() + this.replyTimeoutMs;
    let other: ReceivedFrame | null = null; // the last frame that came instead
    const noReply = (frame: ReceivedFrame) => new LinkError(`link: ${this.board.name} on ${this.portPath} sends ${Frame[frame.type] ?? `0x${frame.type.toString(16)}`} frames and no HELLO reply within ${this.replyTimeoutMs} ms: it runs other firmware than the link's (the standalone firmware's telemetry?); flash the one hge board build ${this.board.name} makes`);
    for (;;) {
      // a HELLO the board lost (taken into a broken frame: a stray SYNC byte before it, a frame
      // cut short by the last host) is sent again once the board has given up on that frame
      const left = deadline - performance.now();
      if (!this.transport.waitReadable(Math.min(HELLO_AGAIN_MS, Math.max(0, left)))) {
        if (!this.transport.connected) this.receive(0, true); // (throws: the port hung up)
        if (left <= HELLO_AGAIN_MS) throw other ? noReply(other) : this.silence(this.replyTimeoutMs);
        this.send(Frame.Hello);
        this.repliesDue++;
        continue;
      }
      const frame = this.receive(this.replyTimeoutMs, true);
      if (frame.type === Frame.HelloReply) return frame;
      if (performance.now() > deadline) throw noReply(frame);
      other = frame;
    }
  }

  /** A command to QEMU's monitor (an emulated board; a test's system_reset). */
  async monitor(command: string): Promise<void> {
    if (!this.monitorSocket) throw new Error("monitor: a board on a port has no QEMU monitor");
    await monitorCommand(this.monitorSocket, command);
  }

  /** What the firmware printed on the semihosting console (parked DAC lines, traps), and
   *  QEMU's own messages. */
  console(): string {
    const file = join(this.dir, "console.log");
    return existsSync(file) ? readFileSync(file, "utf8") : "";
  }

  /** The checkpoint the firmware stored (the emulated flash), if any. */
  storedCheckpoint(): Uint8Array | null {
    const file = join(this.dir, "checkpoint.bin");
    return existsSync(file) ? new Uint8Array(readFileSync(file)) : null;
  }

  /** Whether QEMU has exited (an emulated board), and with what. */
  get qemuExit(): number | null | undefined { return this.exitCode; }

  /** QEMU's process id (an emulated board), for a test that kills it. */
  get qemuPid(): number | undefined { return this.child?.pid; }

  /** Asks the firmware to end (EXIT frame) and waits for QEMU; returns its exit code. A board on
   *  its port (not started by hge) is not asked: on hardware its firmware would stop for good
   *  (hal_exit spins), and the next session would find no board; it stays as the run left it,
   *  stopped and parked. */
  async exit(code = 0, timeoutMs = 10_000): Promise<number | null> {
    try {
      if (this.child && this.transport.connected) {
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
    if (this.child && this.exitCode === undefined) this.child.kill("SIGKILL");
    this.transport.close();
  }

  /** Removes the run directory (after reading console() and storedCheckpoint()). */
  cleanup(): void { rmSync(this.dir, { recursive: true, force: true }); }
}

// ---------------------------------------------------------------------------------------
// Payloads

/** The ADC volts (an f32) a reading is sent as: the firmware multiplies them back to the reading
 *  exactly (host/cosim.ts: firmwareReading) whenever any f32 of volts does. At a power-of-two
 *  scale, as on the emulated boards, that is every reading; at another scale only some, so a
 *  board's chain (boardChain) and a recording for it (replay.ts) hold readings its firmware makes. */
export const adcVoltsFor = (reading: number, unitPerV: number): number => Math.fround(Math.fround(reading) / Math.fround(unitPerV));

/** adcUnitPerV: the device unit per ADC volt the firmware was built with (board file
 *  adc.unitPerV): the ADC frames carry volts, and the board multiplies them by it. */
export interface Hello { version: number; state: LinkState; stopReason: number; configWords: number; statusWords: number; dacChannels: number; maxPayload: number; clockHz: number; sampleRateHz: number; linkTimeoutMs: number; adcUnitPerV: number; board: string }

/** Refuses (LinkError) a payload its CRC passed whose length is not what its frame type has:
 *  another firmware's frames, or a board's fault. */
function sized(p: Uint8Array, what: string, fits: boolean): DataView {
  if (!fits) throw new LinkError(`link: a ${what} frame of ${p.length} bytes, a length no ${what} frame of this hge has`);
  return new DataView(p.buffer, p.byteOffset, p.byteLength);
}

export function decodeHello(p: Uint8Array): Hello {
  const v = sized(p, "hello", p.length >= 28);
  return {
    version: p[0], state: p[1], stopReason: p[2], configWords: v.getUint16(4, true), statusWords: v.getUint16(6, true),
    dacChannels: v.getUint16(8, true), maxPayload: v.getUint16(10, true), clockHz: v.getUint32(12, true),
    sampleRateHz: v.getUint32(16, true), linkTimeoutMs: v.getUint32(20, true), adcUnitPerV: v.getFloat32(24, true), board: new TextDecoder().decode(p.subarray(28)),
  };
}

export function decodeStopped(p: Uint8Array): Stopped {
  const v = sized(p, "stopped", p.length >= 8 && p.length % 4 === 0);
  const parkedV: number[] = [];
  for (let at = 8; at + 4 <= p.length; at += 4) parkedV.push(v.getFloat32(at, true));
  return { reason: p[0], reasonName: StopReason[p[0]] ?? `reason ${p[0]}`, checkpointBytes: v.getUint32(4, true), parkedV };
}

/** An ACK (link.c send_ack): the request it answers, its code and index, and after an accepted
 *  CONFIG the tone bins and hits of each control. */
export function decodeAck(p: Uint8Array): { request: number; code: number; index: number; bins: Int32Array<ArrayBuffer>; hits: Int32Array<ArrayBuffer> } {
  const head = sized(p, "ack", p.length >= 12);
  const n = p.length >= 16 ? head.getUint32(12, true) : 0;
  sized(p, "ack", p.length === 12 || (p.length >= 16 && p.length === 16 + 8 * n));
  return { request: p[0], code: head.getInt32(4, true), index: head.getInt32(8, true), bins: new Int32Array(p.slice(16, 16 + 4 * n).buffer as ArrayBuffer), hits: new Int32Array(p.slice(16 + 4 * n).buffer as ArrayBuffer) };
}

/** A DAC frame: the step's events and the voltages of the `electrodes` configured. */
export function decodeDac(p: Uint8Array, electrodes: number): { events: number; volts: Float32Array<ArrayBuffer> } {
  const v = sized(p, "dac", p.length === 4 + 4 * electrodes);
  return { events: v.getUint32(0, true), volts: new Float32Array(p.slice(4).buffer as ArrayBuffer) };
}

/** A telemetry record (app_hge.c): events, the counts, the status words, then weights,
 *  gradient and case outputs. Words kept as bits: parity compares them. */
export interface Telemetry { events: number; controls: number; inputs: number; cases: number; words: Uint32Array }

export function decodeTelemetry(p: Uint8Array): Telemetry {
  const v = sized(p, "telemetry", p.length >= 8 && p.length % 4 === 0);
  const counts = v.getUint32(4, true);
  const t = { events: v.getUint32(0, true), controls: counts & 0xff, inputs: (counts >> 8) & 0xff, cases: (counts >> 16) & 0xff, words: new Uint32Array(p.slice().buffer) };
  sized(p, "telemetry", t.words.length >= 2 + L.STATUS_WORDS + 2 * t.controls + t.cases);
  return t;
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

// ---------------------------------------------------------------------------------------

/** The encoded configuration block for `config` (the bytes Controller.configure writes), and
 *  the Node module's verdict on it: the board runs the same module, so it answers the same. */
export function encodeConfig(config: ControllerConfig, scratch = new Controller()): { block: Uint8Array; error?: ControllerError; scratch: Controller } {
  let error: ControllerError | undefined;
  try { scratch.configure(config); } catch (e) { if (e instanceof ControllerError) error = e; else throw e; }
  const e = scratch.exports;
  const block = new Uint8Array(e.memory.buffer, e.CONFIG.value as number, scratch.layout.CONFIG_WORDS * 4).slice();
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
  /** The events of the telemetry the last step sent (not a final record's). */
  private stepEvents = 0;
  private bins = new Int32Array(0);
  private hits = new Int32Array(0);
  /** The build the board's file says it runs (answers a configuration as the board does). */
  private scratch: Controller;
  /** The last STOPPED frame, once the board has stopped. */
  stopped: Stopped | null = null;
  /** The last checkpoint keepCheckpoint() fetched: what is left of the learned state when the
   *  link is lost for good. */
  private kept: Uint8Array | null = null;
  /** The link is gone for good (offline()): read-outs answer from what the host received. */
  private lost = false;

  /** `wasm`: the module the board's firmware was built with (default: the board file's build),
   *  whose refusals are given as the Node twin's, with their reasons. */
  constructor(readonly session: BoardSession, wasm = session.board.module === "core" ? CORE_WASM : undefined) {
    this.scratch = wasm ? new Controller(new WebAssembly.Module(readFileSync(wasm))) : new Controller();
  }

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
    const { code, index, bins, hits } = this.session.ack(Frame.Config);
    if (code !== 0) return { code, index };
    this.bins = bins;
    this.hits = hits;
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
        if (!(this.telemetry.events & REPORT_FINAL)) this.stepEvents = this.telemetry.events;
        continue;
      }
      const { events, volts } = decodeDac(frame.payload, this.controls + this.inputs);
      this.dac = volts;
      return events;
    }
  }

  get controlCount(): number { return this.controls; }
  get inputCount(): number { return this.inputs; }
  get caseCount(): number { return this.cases; }

  private readonly adc = new Uint8Array(4);
  private readonly adcView = new DataView(this.adc.buffer);

  /** One sample on the board: the reading in (the device unit), the events out; electrodes()
   *  has the next voltages. The frame carries what the board's ADC would read, volts that the
   *  board multiplies back by adc.unitPerV to the reading exactly (adcVoltsFor: the board's
   *  chain makes only readings it reaches, so the run stays bit-identical to Node). A fault
   *  stops the board (link.c parks it): the step returns the Fault event, and the next step
   *  throws BoardStopped unless a configuration starts the board again (a restart). */
  step(reading: number): number {
    if (this.stopped) throw new BoardStopped(this.stopped);
    this.adcView.setFloat32(0, adcVoltsFor(reading, this.session.hello.adcUnitPerV), true);
    this.session.send(Frame.Adc, this.adc);
    this.fresh = false;
    this.stepEvents = 0;
    try {
      return this.readDac();
    } catch (e) {
      // the step's telemetry carried the Fault event (the final record after it, the state kept)
      if (e instanceof BoardStopped && e.stopped.reason === StopReason.Fault && (this.stepEvents & L.Event.Fault)) return this.stepEvents;
      throw e;
    }
  }

  /** A telemetry record for the state after the last step (asked for when none came). Offline:
   *  the last record received, or before any the configured state (the Node twin's). */
  private record(): ReturnType<typeof telemetryParts> {
    if (this.lost) return telemetryParts(this.telemetry ?? { events: 0, controls: this.controls, inputs: this.inputs, cases: this.cases, words: telemetryOf(this.scratch, 0, this.inputs) });
    if (!this.fresh || !this.telemetry) {
      this.session.send(Frame.GetTelemetry);
      const record = this.session.expect([Frame.Telemetry]).payload;
      // (an empty record: no configuration, e.g. a board that restarted since)
      if (record.length === 0) throw new LinkError("link: the board has no configuration (has it restarted?)");
      this.telemetry = decodeTelemetry(record);
      this.fresh = true;
    }
    return telemetryParts(this.telemetry);
  }

  /** After the board stopped on its own, frames sent meanwhile may still be answered (an ADC
   *  frame that arrived after the stop is refused with an ACK): a HELLO round trip skips them. */
  private resynchronise(): void {
    this.session.send(Frame.Hello);
    this.session.helloReply();
    // a stopped board repeats its STOPPED frame after the HELLO reply
    this.session.expect([Frame.Stopped]);
  }

  /** After a lost link: connects again; a board that stopped meanwhile (its link timeout) says
   *  so, and that STOPPED frame is returned. */
  async reconnect(): Promise<Stopped | null> {
    this.fresh = false;
    const hello = await this.session.reconnect();
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

  /** Fetches the board's checkpoint now and keeps it (after each update: trainOnBoard), so that
   *  a link lost for good still leaves the learned state of the last update. */
  keepCheckpoint(): void { this.kept = this.save(); }

  /** The link is lost for good: from now on the read-outs answer from the last telemetry record
   *  received and save() with the last checkpoint kept (empty when none was). */
  offline(): void { this.lost = true; }

  /** The learned state: the board's checkpoint (the one kept at the stop, once stopped;
   *  offline, the last one kept). */
  save(): Uint8Array {
    if (this.lost) return this.kept ?? new Uint8Array(0);
    this.session.send(Frame.GetCheckpoint);
    return this.session.expect([Frame.Checkpoint]).payload;
  }

  /** The module's hold(on) on the board, between two samples (host/train.ts confirms a solved
   *  epoch on held controls, as with the Node controller). */
  hold(on: boolean): void {
    this.session.send(Frame.Hold, new Uint8Array(new Int32Array([on ? 1 : 0]).buffer));
    const { code } = this.session.ack(Frame.Hold);
    if (code !== 0) throw new LinkError(`link: HOLD refused (code 0x${code.toString(16)}): the board is not running`);
    this.fresh = false; // the weights moved back: the next read-out asks for a record
  }

  /** Loads a checkpoint into the board, and keeps it (keepCheckpoint): until the next update it
   *  is the learned state a link lost for good leaves. */
  load(blob: Uint8Array): void {
    this.session.send(Frame.LoadCheckpoint, blob);
    const { code } = this.session.ack(Frame.LoadCheckpoint);
    if (code !== 0) throw new ControllerError(L.Field.Checkpoint, "Checkpoint", -1, "checkpoint refused by the board: corrupt, of another version, or for another configuration");
    this.keepCheckpoint();
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
