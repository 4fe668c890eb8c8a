// A device served over HTTP (`hge device <device> --serve <port>`): a stand-in for an instrument
// or a model behind a network API, to try a device file whose calls wait for I/O
// (example-served-device.mjs) before it talks to the real thing. On 127.0.0.1 only:
//   GET  /device  → the device's shape: name, counts, ranges, outputUnit (JSON)
//   POST /output  with a JSON array of every electrode's voltage (controls, then inputs)
//                 → the output (a JSON number); a body that is not such an array, or a voltage
//                 outside its electrode's range (the device's shape), gets 400 and one line
//                 saying what is wrong, a body longer than any such array 413, a device that
//                 throws 500 with its message
import { createServer, type Server } from "node:http";
import { electrodeRangesV, type Device } from "./device.ts";

export function serveDevice(device: Device, port: number): Promise<Server> {
  const shape = JSON.stringify({
    name: device.name, controlCount: device.controlCount, inputCount: device.inputCount, electrodeCount: device.electrodeCount,
    controlRangeV: device.controlRangeV, inputRangeV: device.inputRangeV, outputUnit: device.outputUnit,
  });
  const rangesV = electrodeRangesV(device);
  const electrode = (e: number) => `electrode ${e + 1} (${e < device.controlCount ? `control ${e + 1}` : `input ${e - device.controlCount + 1}`})`;
  const server = createServer((request, response) => {
    const answer = (status: number, body: string) => response.writeHead(status, { "content-type": "application/json" }).end(body);
    if (request.method === "GET" && request.url === "/device") return answer(200, shape);
    if (request.method !== "POST" || request.url !== "/output") return answer(404, JSON.stringify("GET /device or POST /output"));
    // a body longer than any array of the device's voltages is read to its end but not kept
    let body = "", size = 0;
    const longest = 64 + 40 * device.electrodeCount;
    request.setEncoding("utf8").on("data", (chunk: string) => {
      size += chunk.length;
      if (size <= longest) body += chunk;
    }).on("end", () => {
      if (size > longest) return answer(413, JSON.stringify(`the body is ${size} characters; ${device.electrodeCount} voltages take at most ${longest}`));
      let voltages: unknown;
      try {
        voltages = JSON.parse(body);
      } catch {
        voltages = undefined;
      }
      if (!Array.isArray(voltages) || voltages.length !== device.electrodeCount || !voltages.every(Number.isFinite)) {
        return answer(400, JSON.stringify(`the body must be a JSON array of ${device.electrodeCount} voltages (controls, then inputs)`));
      }
      const outside = voltages.findIndex((v: number, e) => !(v >= rangesV[e][0] && v <= rangesV[e][1]));
      if (outside >= 0) {
        const [low, high] = rangesV[outside];
        return answer(400, JSON.stringify(`${electrode(outside)} at ${voltages[outside]} V is outside its range [${low}, ${high}] V`));
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
