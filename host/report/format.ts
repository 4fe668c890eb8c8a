// Text formats shared by the reports and the command's summaries (no plotting imports, so
// the command starts fast when it only has to print).
import type { Budget, CriterionName, Result } from "../methods/method.ts";
import type { MethodSummary } from "../compare.ts";

/** The criterion's value as text: margin and accuracy in %, RMS error in the output unit. */
export function formatCriterion(run: Pick<Result, "criterion" | "criterionName" | "outputUnit">): string {
  return formatCriterionValue(run.criterion, run.criterionName, run.outputUnit);
}
export function formatCriterionValue(value: number, name: CriterionName, unit: string): string {
  if (!Number.isFinite(value)) return "—";
  return name === "RMS error" ? `${value.toPrecision(3)} ${unit}` : `${(value * 100).toFixed(1)} %`;
}

/** A method's median criterion as hge compare's table and report show it: how many runs it is
 *  of, where some measured none. */
export function medianCriterionText(m: MethodSummary, name: CriterionName, unit: string): string {
  return `${formatCriterionValue(m.medianCriterion, name, unit)}${m.criterionRuns < m.runs ? ` (${m.criterionRuns} of ${m.runs} runs)` : ""}`;
}

/** A comparison's limit on each run, as its summary line and report say it: the device-second
 *  budget, and --max-iterations where given (a run it stopped counts as never solving too). */
export function budgetText(budget: Budget): string {
  return `a budget of ${budget.deviceSeconds} device-s${budget.maxIterations === undefined ? "" : ` and ${budget.maxIterations} iterations`} a run`;
}

/** A case's legend name, numbered from 1 as everywhere a reader sees cases: "case 2 → 1". */
export function caseName(p: number, target: number): string {
  return `case ${p + 1} → ${+target.toFixed(3)}`;
}

/** A column or row title for the criterion. */
export function criterionLabel(run: Pick<Result, "criterionName"> | undefined): string {
  if (!run) return "margin";
  return run.criterionName === "margin" ? "margin (class gap / output span)" : run.criterionName === "accuracy" ? "held-out accuracy" : "RMS error";
}

/** Rows of cells (the header first) as lines: the first `left` columns padded on the right,
 *  the others right-aligned, two spaces apart; with `rule`, a line of dashes under the header. */
export function textTable(rows: string[][], left = 1, rule = false): string[] {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  const lines = rows.map((cells) => cells.map((cell, c) => (c < left ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join("  "));
  if (rule) lines.splice(1, 0, widths.map((w) => "-".repeat(w)).join("  "));
  return lines;
}
