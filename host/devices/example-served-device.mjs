// A device behind a network API, in plain JavaScript: every call waits for an answer over HTTP,
// so the file says `asynchronous = true` and hge runs it on a thread of its own
// (device-file.ts). Its server here is hge's (`npx hge device host/devices/example-device.ts
// --serve 8642`, host/devices/serve.ts: GET /device, POST /output); an instrument's or a
// surrogate model's server in any language answers the same two requests.
export const asynchronous = true;
/** A device lost for this long stops training (its checkpoint kept, as on Ctrl-C). */
export const answerWithinSeconds = 10;

const server = process.env.HGE_DEVICE_URL ?? "http://127.0.0.1:8642";

async function ask(path, body) {
  const response = await fetch(server + path, body === undefined ? {} : { method: "POST", body: JSON.stringify(body) });
  if (!response.ok) throw new Error(`${path}: HTTP ${response.status} ${await response.text()}`);
  return response.json();
}

export async function createDevice() {
  const shape = await ask("/device"); // name, counts, ranges, outputUnit
  return {
    ...shape,
    name: `${shape.name} at ${server}`,
    capabilities: [],
    output: (voltages) => ask("/output", Array.from(voltages)),
  };
}
