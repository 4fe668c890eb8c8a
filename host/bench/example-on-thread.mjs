// The example device (devices/example-device.ts) as a device behind I/O: the same createDevice,
// run on the asynchronous device files' thread (devices/device-thread.mjs). The bench times
// its calls against the same file loaded in process: what the hand-over between threads costs.
export const asynchronous = true;
export { createDevice } from "../devices/example-device.ts";
