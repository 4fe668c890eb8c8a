// A device served over HTTP (`hge device <device> --serve <port>`): a stand-in for an instrument
// or a model behind a network API, to try a device file whose calls wait for I/O
// (example-served-device.mjs) before it talks to the real thing. On 127.0.0.1 only:
//   GET  /device  → the device's shape: name, counts, ranges, outputUnit (JSON)
//   POST /output  with a JSON array of every electrode's voltage (controls, then inputs)
//                 → the output (a JSON number); a body that is not such an array gets 400, a
//                 device that throws 500 with its message
import { createServer, type Server } from "node:http";
import type { Device } from "./device.ts";

export function serveDevice(device: Device, port: number): Promise<Server> {
  const shape = JSON.stringify({
    name: device.name, controlCount: device.controlCount, inputCount: device.inputCount, electrodeCount: device.electrodeCount,
    controlRangeV: device.controlRangeV, inputRangeV: device.inputRangeV, outputUnit: device.outputUnit,
  });
  const server = createServer((request, response) => {
    const answer = (status: number, body: string) => response.writeHead(status, { "content-type": "application/json" }).end(body);
    if (request.method === "GET" && request.url === "/device") return answer(200, shape);
    if (request.method !== "POST" || request.url !== "/output") return answer(404, JSON.stringify("GET /device or POST /output"));
    let body = "";
    request.setEncoding("utf8").on("data", (chunk: string) => (body += chunk)).on("end", () => {
      let voltages: unknown;
      try {
        voltages = JSON.parse(body);
      } catch {
        voltages = undefined;
      }
      if (!Array.isArray(voltages) || voltages.length !== device.electrodeCount || !voltages.every(Number.isFinite)) {
        return answer(400, JSON.stringify(`the body must be a JSON array of ${device.electrodeCount} voltages (controls, then inputs)`));
      }
      try {
        answer(200, JSON.stringify(device.output(Float64Array.from(voltages))));
      } catch (error) {
        answer(500, JSON.stringify(error instanceof Error ? error.message : String(error)));
      }
    });
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => resolve(server));
  });
}
