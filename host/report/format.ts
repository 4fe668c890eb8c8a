// Text formats shared by the reports and the command's summaries (no plotting imports, so
// the command starts fast when it only has to print).
import type { TrainResult } from "../train.ts";

/** Classification: the class gap as a percentage of the output span; MSE: the RMS error. */
export function formatMargin(run: TrainResult): string {
  if (!Number.isFinite(run.margin)) return "—";
  return run.config.controller.loss === "mse" ? `RMS error ${(-run.margin).toPrecision(3)} ${run.outputUnit}` : `${(run.margin * 100).toFixed(1)} %`;
}

/** Rows of cells (the header first) as lines: the first `left` columns padded on the right,
 *  the others right-aligned, two spaces apart; with `rule`, a line of dashes under the header. */
export function textTable(rows: string[][], left = 1, rule = false): string[] {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  const lines = rows.map((cells) => cells.map((cell, c) => (c < left ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join("  "));
  if (rule) lines.splice(1, 0, widths.map((w) => "-".repeat(w)).join("  "));
  return lines;
}
