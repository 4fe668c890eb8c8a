// Text formats shared by the reports and the command's summaries (no plotting imports, so
// the command starts fast when it only has to print).
import type { TrainResult } from "../train.ts";

/** Classification: the class gap as a percentage of the output span; MSE: the RMS error. */
export function formatMargin(run: TrainResult): string {
  if (!Number.isFinite(run.margin)) return "—";
  return run.config.controller.loss === "mse" ? `RMS error ${(-run.margin).toPrecision(3)} ${run.outputUnit}` : `${(run.margin * 100).toFixed(1)} %`;
}
