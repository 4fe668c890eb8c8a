// The registry entries for physics-aware training (Wright et al., Nature 2022): pat, and
// pat-hge whose twin Jacobian is corrected by HGE measurements. The training itself is in
// pat-training.ts, imported on first use so that listing or running other methods does not
// load TensorFlow.js (about a second).
import type { Method } from "./method.ts";

export const PAT_NAME = "pat";
export const PAT_HGE_NAME = "pat-hge";
/** pat-hge: pat with an HGE Jacobian measurement every this many updates. */
export const PAT_HGE_DEFAULTS = { hgeEvery: 10 };

const REQUIRES = "a digital twin fitted to device data (and a digital computer for backpropagation)";

export const PAT_METHOD: Method = {
  name: PAT_NAME,
  summary: "physics-aware training (Wright et al. 2022): the device runs every forward pass, a digital twin fitted to a measured sweep supplies the backward pass",
  needs: [],
  tasks: ["cases", "dataset"],
  requires: REQUIRES,
  train: async (device, task, budget, context) => (await import("./pat-training.ts")).trainPat(device, task, budget, context),
};

export const PAT_HGE_METHOD: Method = {
  name: PAT_HGE_NAME,
  summary: `pat whose twin Jacobian is corrected every ${PAT_HGE_DEFAULTS.hgeEvery} updates by the Jacobian HGE measures (one lock-in window per case)`,
  needs: [],
  tasks: ["cases"],
  requires: REQUIRES,
  train: async (device, task, budget, context) =>
    (await import("./pat-training.ts")).trainPat(device, task, budget, { ...context, options: { ...PAT_HGE_DEFAULTS, ...context.options } }),
};
