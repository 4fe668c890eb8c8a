// The thread asynchronous device files run on (device-file.ts: `export const asynchronous =
// true`): their createDevice and every method call are awaited here, with this thread's event
// loop free for the file's I/O (an instrument's API, a model served by another process), while
// the training thread waits for each answer (device-file.ts: DeviceThread). Plain JavaScript so
// that the thread needs no TypeScript loader of its own; the files are loaded with tsx like any
// device file. One thread serves every asynchronous file of its process.
//
// A request is { id, call: "create", args: [fileUrl, options] }, which makes a device (the same
// file and options give the same device), or { id, call: "call", args: [deviceId, method,
// methodArgs] }. A device (from createDevice or withInputCount) comes back as its description:
// data fields cloned (one that cannot be, as its text), methods named by their typeof. Each answer,
// { id, result }, { id, error } (what was thrown) or { id, uncloneable } (a result that cannot be
// passed between threads: why), goes to the `replies` port, and then the shared counter is bumped and
// notified.
import { parentPort, workerData } from "node:worker_threads";
import { tsImport } from "tsx/esm/api";

const { replies, answered } = workerData;
const FIELDS = ["name", "controlCount", "inputCount", "electrodeCount", "controlRangeV", "inputRangeV", "outputUnit", "capabilities"];
const METHODS = ["output", "outputGradient", "withInputCount", "setTime"];

/** Every device made here, by id; by file and options, the description of the one made. */
const devices = [];
const made = new Map();

function described(device) {
  if (typeof device !== "object" || device === null) return { value: device === undefined ? "undefined" : String(device) };
  devices.push(device);
  const description = { id: devices.length - 1, fields: {}, uncloneable: {}, methods: {} };
  // (a field that cannot be cloned, a function or a symbol, goes as its text, for the training
  // thread's checks to show: it said "createDevice threw: an answer that cannot be passed on")
  for (const field of FIELDS) {
    const value = device[field];
    if (typeof value === "function" || typeof value === "symbol") description.uncloneable[field] = String(value);
    else description.fields[field] = value;
  }
  for (const method of METHODS) description.methods[method] = typeof device[method];
  return description;
}

async function answer(call, args) {
  if (call === "create") {
    const [fileUrl, options] = args;
    const key = `${fileUrl} ${JSON.stringify(options)}`;
    if (!made.has(key)) made.set(key, described(await (await tsImport(fileUrl, import.meta.url)).createDevice(options)));
    return made.get(key);
  }
  const [id, method, methodArgs] = args;
  const result = await devices[id][method](...methodArgs);
  return method === "withInputCount" ? described(result) : result;
}

function reply(message) {
  try {
    replies.postMessage(message);
  } catch (cloneError) { // (an answer that cannot be cloned to the training thread)
    replies.postMessage("error" in message ? { id: message.id, error: String(message.error) } : { id: message.id, uncloneable: cloneError.message });
  }
  Atomics.add(answered, 0, 1);
  Atomics.notify(answered, 0);
}

parentPort.on("message", async ({ id, call, args }) => {
  try {
    reply({ id, result: await answer(call, args) });
  } catch (error) {
    reply({ id, error }); // (an Error keeps its message and cause)
  }
});
// what a file threw where nothing caught it (a socket's error event, a timer) ends its device:
// the training thread hears of it at once, as the answer to every call from then on (id -1)
process.on("uncaughtException", (error) => reply({ id: -1, error }));
parentPort.postMessage("ready");
