// The live view: a local page that plots a run while it trains. An HTTP server on 127.0.0.1
// (never another interface) serves the page and uPlot (node_modules/uplot, a small, well-kept
// plotting library for streaming data); a WebSocket (`ws`) at /stream carries the run: a
// "start" message, one "update" per update of the controls, an "end". A page that connects
// late gets every message so far first. `hge train … --live` and `hge board watch --live`
// use it (bin/cli.ts, boards/cli.ts).
import { createServer, type Server } from "node:http";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { WebSocketServer, type WebSocket } from "ws";
import { LIVE_PAGE } from "./page.ts";
import { amplitudeSpectrum } from "../spectrum.ts";

export interface LiveStart {
  type: "start";
  title: string;
  criterionName: string;
  outputUnit: string;
  caseCount?: number;
  targets?: number[];
  controlCount?: number;
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
}

export interface LiveEnd { type: "end"; solved: boolean; stopped: string }

export type LiveMessage = LiveStart | LiveUpdate | LiveEnd;

export interface LiveServer {
  /** http://127.0.0.1:<port>/ */
  url: string;
  publish(message: LiveMessage): void;
  /** Pages connected now. */
  clients(): number;
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
    const file = files[(request.url ?? "/").split("?")[0]];
    if (!file) { response.writeHead(404).end(); return; }
    response.writeHead(200, { "content-type": file[0], "cache-control": "no-store" }).end(file[1]);
  });
  const wss = new WebSocketServer({ server, path: "/stream" });
  const history: string[] = [];
  const sockets = new Set<WebSocket>();
  wss.on("connection", (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => sockets.delete(socket));
    for (const message of history) socket.send(message);
  });
  await new Promise<void>((resolve, reject) => { server.once("error", reject); server.listen(o.port ?? 0, "127.0.0.1", resolve); });
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}/`,
    publish(message) {
      const text = JSON.stringify(message, (_, v) => (typeof v === "number" && !Number.isFinite(v) ? null : v));
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
