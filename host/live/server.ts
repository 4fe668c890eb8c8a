// The live view: a local page that plots a run while it trains. An HTTP server on 127.0.0.1
// (never another interface) serves the page and uPlot (node_modules/uplot, a small, well-kept
// plotting library for streaming data); a WebSocket (`ws`) at /stream carries the run: a
// "start" message, one "update" per update of the controls, an "end". A page that connects
// late gets every message so far first. `hge train … --live` and `hge board watch --live`
// use it (bin/cli.ts, boards/cli.ts). The server adds the display text the command's summary
// and the report use (host/report/format.ts), so the page never formats a number its own way.
import { createServer, type Server } from "node:http";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { WebSocketServer, type WebSocket } from "ws";
import { LIVE_PAGE } from "./page.ts";
import { EXIT, UsageError } from "../errors.ts";
import { amplitudeSpectrum } from "../spectrum.ts";
import { caseName, formatCriterionValue } from "../report/format.ts";
import type { CriterionName } from "../methods/method.ts";

export interface LiveStart {
  type: "start";
  title: string;
  criterionName: CriterionName;
  outputUnit: string;
  caseCount?: number;
  targets?: number[];
  controlCount?: number;
  /** Why the run's device-level panels (cases, controls, spectrum) are not shown, if not. */
  unobserved?: string;
  /** Added by the server: each case's legend name, as the report's. */
  caseNames?: string[];
}

/** One update: what Progress has, and where the run can give them, the case outputs with the
 *  threshold that separates the classes, the control voltages, and the last window's
 *  demodulated spectrum with the tones marked. */
export interface LiveUpdate {
  type: "update";
  iteration: number;
  deviceSeconds: number;
  loss: number;
  criterion: number;
  caseOutputs?: number[];
  threshold?: number;
  weights?: number[];
  spectrum?: { hz: number[]; magnitude: number[]; tonesHz: number[] };
  /** Added by the server: the criterion as the command's summary writes it. */
  criterionText?: string;
}

/** reason: why a run that did not start (or failed) stopped, said on the page. */
export interface LiveEnd { type: "end"; solved: boolean; stopped: string; reason?: string }

export type LiveMessage = LiveStart | LiveUpdate | LiveEnd;

export interface LiveServer {
  /** http://127.0.0.1:<port>/ */
  url: string;
  publish(message: LiveMessage): void;
  /** Pages connected now. */
  clients(): number;
  /** Settles when the first page opens the stream (an idle connection, a browser's
   *  preconnect, is no page). */
  firstPage: Promise<void>;
  close(): Promise<void>;
}

const uplotDir = () => dirname(createRequire(import.meta.url).resolve("uplot/dist/uPlot.iife.min.js"));

/** Starts the live view on 127.0.0.1 (port 0: any free port). */
export async function startLive(o: { port?: number } = {}): Promise<LiveServer> {
  const dir = uplotDir();
  const files: Record<string, [string, string]> = {
    "/": ["text/html; charset=utf-8", LIVE_PAGE],
    "/uPlot.iife.min.js": ["text/javascript", readFileSync(join(dir, "uPlot.iife.min.js"), "utf8")],
    "/uPlot.min.css": ["text/css", readFileSync(join(dir, "uPlot.min.css"), "utf8")],
  };
  const server: Server = createServer((request, response) => {
    const path = (request.url ?? "/").split("?")[0];
    // no icon, but no 404 either: a browser asks on every load and logs the miss as an error
    if (path === "/favicon.ico") { response.writeHead(204).end(); return; }
    const file = files[path];
    if (!file) { response.writeHead(404).end(); return; }
    response.writeHead(200, { "content-type": file[0], "cache-control": "no-store" }).end(file[1]);
  });
  // only the page's own origin (or a client that names none): another site's page in the
  // browser must not start a waiting run or read it
  let origins: string[] = [];
  const wss = new WebSocketServer({ server, path: "/stream", verifyClient: ({ origin }: { origin?: string }) => origin === undefined || origins.includes(origin) });
  // every message, for a page that opens late; the spectrum only in the latest update that has
  // one (a page shows only that: 2860 updates of 128 controls held 88 MB with all of them)
  const history: string[] = [];
  let spectrumAt = -1, withoutSpectrum = "";
  const sockets = new Set<WebSocket>();
  let pageOpened!: () => void;
  const firstPage = new Promise<void>((resolve) => (pageOpened = resolve));
  let start: LiveStart | undefined;
  wss.on("connection", (socket) => {
    pageOpened();
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => sockets.delete(socket));
    for (const message of history) socket.send(message);
  });
  // (the socket server passes the server's error on: unheard, it was a stack trace)
  await new Promise<void>((resolve, reject) => {
    const cannot = (error: NodeJS.ErrnoException) => reject(new UsageError(`cannot serve the live view on 127.0.0.1 (${error.code ?? error.message}); leave out --live`));
    server.once("error", cannot);
    wss.once("error", cannot);
    server.listen(o.port ?? 0, "127.0.0.1", resolve);
  });
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  origins = [`http://127.0.0.1:${port}`, `http://localhost:${port}`];
  return {
    url: `http://127.0.0.1:${port}/`,
    firstPage,
    publish(message) {
      if (message.type === "start") {
        start = message;
        if (message.targets) message = { ...message, caseNames: message.targets.map((target, p) => caseName(p, target)) };
      }
      if (message.type === "update" && start) message = { ...message, criterionText: formatCriterionValue(message.criterion, start.criterionName, start.outputUnit) };
      const encode = (m: LiveMessage) => JSON.stringify(m, (_, v) => (typeof v === "number" && !Number.isFinite(v) ? null : v));
      const text = encode(message);
      if (message.type === "update" && message.spectrum) {
        if (spectrumAt >= 0) history[spectrumAt] = withoutSpectrum;
        [spectrumAt, withoutSpectrum] = [history.length, encode({ ...message, spectrum: undefined })];
      }
      history.push(text);
      for (const socket of sockets) if (socket.readyState === socket.OPEN) socket.send(text);
    },
    clients: () => sockets.size,
    async close() {
      // a page has a second to take the close; one that does not answer, and idle connections
      // (a browser's preconnect), are then dropped rather than waited for
      const closed = [...sockets].map((socket) => new Promise((resolve) => socket.once("close", resolve)));
      for (const socket of sockets) socket.close();
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([Promise.all(closed), new Promise((resolve) => (timer = setTimeout(resolve, 1000)))]);
      clearTimeout(timer);
      for (const socket of sockets) socket.terminate();
      server.closeAllConnections();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Says where the live view is and waits for a page to open it: a run started before would
 *  be over (a gate trains in under a second) before anyone saw it. When the signal (Ctrl-C)
 *  comes first, closes the view, says so, sets the exit code (interrupted) and returns false. */
export async function waitForPage(live: LiveServer, signal: AbortSignal): Promise<boolean> {
  process.stderr.write(`hge: live view at ${live.url} — open it to start the run (Ctrl-C to stop)\n`);
  if (!signal.aborted) await Promise.race([live.firstPage, new Promise((resolve) => signal.addEventListener("abort", resolve, { once: true }))]);
  if (!signal.aborted) return true;
  await live.close();
  process.stderr.write("hge: interrupted before the run started\n");
  process.exitCode = EXIT.interrupted;
  return false;
}

/** For gates: the threshold halfway between the lowest output of class 1 and the highest of
 *  class 0 (undefined without both classes). */
export function classThreshold(outputs: ArrayLike<number>, targets: ArrayLike<number>): number | undefined {
  let lowestOne = Infinity, highestZero = -Infinity;
  for (let p = 0; p < targets.length; p++) {
    if (targets[p] > 0.5) lowestOne = Math.min(lowestOne, outputs[p]);
    else highestZero = Math.max(highestZero, outputs[p]);
  }
  return Number.isFinite(lowestOne) && Number.isFinite(highestZero) ? (lowestOne + highestZero) / 2 : undefined;
}

/** The magnitude spectrum of one window (rectangular, as the lock-in demodulates: tones are
 *  bin-exact), bins 1 … N/2, as peak amplitude in the readings' unit. */
export function windowSpectrum(readings: ArrayLike<number>, sampleRateHz: number, toneBins: ArrayLike<number>): LiveUpdate["spectrum"] {
  const n = readings.length;
  const magnitude = amplitudeSpectrum(readings).slice(1);
  return { hz: magnitude.map((_, m) => ((m + 1) * sampleRateHz) / n), magnitude, tonesHz: Array.from(toneBins, (b) => (b * sampleRateHz) / n) };
}
