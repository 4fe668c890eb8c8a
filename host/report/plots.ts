// The report's plots: Vega-Lite specifications rendered to SVG strings headlessly (vega's
// SVG renderer needs no canvas). One function per plot, each taking a finished run.
import * as vega from "vega";
import { compile, type TopLevelSpec } from "vega-lite";
import type { Result } from "../methods/method.ts";
import type { CompareRun, MethodSummary } from "../compare.ts";
import { amplitudeSpectrum } from "../spectrum.ts";
import { hypotOf, maxOf, minOf } from "../metrics.ts";
import { caseName } from "./format.ts";
import { perturbsWithTones } from "../controller.ts";

const WIDTH = 500;
const HEIGHT = 220;

/** Renders a Vega-Lite spec to an SVG string. */
export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: "none" });
  const svg = await view.toSVG();
  view.finalize();
  return svg;
}

const PALETTE = ["#4c78a8", "#f58518", "#54a24b", "#e45756", "#72b7b2", "#b279a2", "#ff9da6", "#9d755d", "#bab0ac", "#eeca3b", "#1f77b4", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#17becf"];

const base = { width: WIDTH, height: HEIGHT, config: { font: "Helvetica, Arial, sans-serif", axis: { labelFontSize: 11, titleFontSize: 12 } } } as const;

/** Vertical rules where training restarted from a new start (none if it never did). */
function restartLayer(run: Result, x: "iteration" | "seconds" = "iteration"): object[] {
  const restarts = run.attempts.slice(1).map((a) => ({ iteration: x === "seconds" ? (run.history.deviceSeconds[a.startIteration - 1] ?? 0) : a.startIteration - 0.5, label: "restart" }));
  if (!restarts.length) return [];
  return [
    {
      data: { values: restarts },
      layer: [
        { mark: { type: "rule", color: "gray", strokeDash: [3, 3] }, encoding: { x: { field: "iteration", type: "quantitative" } } },
        { mark: { type: "text", color: "gray", fontSize: 9, angle: 270, align: "right", baseline: "bottom", dx: -3, y: 0 }, encoding: { x: { field: "iteration", type: "quantitative" }, text: { field: "label" } } },
      ],
    },
  ];
}

/** Loss against device time; log scale when the loss is positive and spans more than a
 *  decade. Non-finite losses (an epoch with no clean window) are left out. */
export function lossSpec(run: Result): TopLevelSpec {
  const values = run.history.loss.map((loss, i) => ({ iteration: run.history.deviceSeconds[i], loss })).filter((v) => Number.isFinite(v.loss) && Number.isFinite(v.iteration));
  const losses = values.map((v) => v.loss);
  const positive = losses.every((x) => x > 0);
  const spread = positive ? maxOf(losses) / minOf(losses) : 1;
  return {
    ...base,
    title: `Loss (${run.lossName}) against device time`,
    layer: [
      {
        data: { values },
        mark: { type: "line", point: values.length <= 60 },
        encoding: {
          x: { field: "iteration", type: "quantitative", title: "device time (s)" },
          y: { field: "loss", type: "quantitative", title: "loss", scale: positive && spread > 10 ? { type: "log" } : { zero: false } },
        },
      },
      ...restartLayer(run, "seconds"),
    ],
  } as TopLevelSpec;
}

/** The criterion against device time (margin with the band the task asks for, RMS error,
 *  accuracy), and the norm of the gradient the update used where the method has one. */
export function criterionSpec(run: Result): TopLevelSpec {
  const values = run.history.criterion.map((value, i) => ({ seconds: run.history.deviceSeconds[i], value, series: run.criterionName }))
    .filter((v) => Number.isFinite(v.value) && Number.isFinite(v.seconds));
  return {
    ...base,
    title: `${run.criterionName} against device time`,
    data: { values },
    mark: { type: "line", point: values.length <= 60 },
    encoding: {
      x: { field: "seconds", type: "quantitative", title: "device time (s)" },
      y: { field: "value", type: "quantitative", title: run.criterionName === "RMS error" ? `RMS error (${run.outputUnit})` : run.criterionName, axis: run.criterionName === "RMS error" ? {} : { format: "%" }, scale: { zero: false } },
    },
  } as TopLevelSpec;
}

/** The estimated gradient against the exact one (devices that have it): relative error and
 *  1 − cosine per update, log scale. */
export function fidelitySpec(run: Result): TopLevelSpec {
  const exact = run.history.exactGradient ?? [];
  const values = (run.history.gradient ?? []).flatMap((g, i) => {
    const e = exact[i];
    if (!e) return [];
    const norm = hypotOf(e);
    const error = hypotOf(g.map((x, k) => x - e[k])) / norm;
    const cosine = g.reduce((sum, x, k) => sum + x * e[k], 0) / (hypotOf(g) * norm);
    return [
      { seconds: run.history.deviceSeconds[i], value: error, measure: "‖ĝ − g‖ / ‖g‖" },
      { seconds: run.history.deviceSeconds[i], value: 1 - cosine, measure: "1 − cos(ĝ, g)" },
    ];
  }).filter((v) => Number.isFinite(v.value) && v.value > 0);
  return {
    ...base,
    title: "Estimated gradient against the exact one",
    data: { values },
    mark: { type: "line", point: values.length <= 120 },
    encoding: {
      x: { field: "seconds", type: "quantitative", title: "device time (s)" },
      y: { field: "value", type: "quantitative", title: "error", scale: { type: "log" } },
      color: { field: "measure", type: "nominal", title: null },
    },
  } as TopLevelSpec;
}

export function gradientNormSpec(run: Result): TopLevelSpec {
  const values = (run.history.gradient ?? []).map((g, i) => ({ seconds: run.history.deviceSeconds[i], norm: hypotOf(g) }))
    .filter((v) => Number.isFinite(v.norm) && v.norm > 0 && Number.isFinite(v.seconds));
  return {
    ...base,
    title: "Norm of the gradient each epoch measured",
    data: { values },
    mark: { type: "line", point: values.length <= 60 },
    encoding: {
      x: { field: "seconds", type: "quantitative", title: "device time (s)" },
      // an MSE is in the output's unit squared; the other losses have none
      y: { field: "norm", type: "quantitative", title: `‖∂L/∂w‖ (${run.lossName === "mse" ? `${run.outputUnit}² ` : ""}per V)`, scale: { type: "log" } },
    },
  } as TopLevelSpec;
}

/** An axis label for a case: "(0.30, −0.45) V", its input voltages, for up to four cases, else
 *  its number (from 1, as caseName). */
function caseLabel(run: Result, p: number): string {
  const inputs = run.caseInputsV[p].map((v) => v.toFixed(2).replace("-", "−")).join(", ");
  return run.caseInputsV.length <= 4 ? `(${inputs}) V` : String(p + 1);
}

/** Classification: a threshold between the classes, midway between the largest class-0 and
 *  the smallest class-1 output (the middle of the gap when they are separated). */
export function threshold(outputs: number[], targets: number[]): number {
  const ones = outputs.filter((_, p) => targets[p] > 0.5);
  const zeros = outputs.filter((_, p) => targets[p] <= 0.5);
  return (minOf(ones) + maxOf(zeros)) / 2;
}

/** Each case's final output against the threshold (classification) or its target (MSE). */
export function outputsSpec(run: Result): TopLevelSpec {
  const unit = run.outputUnit;
  const classification = run.criterionName === "margin";
  const values = run.caseOutputs.map((output, p) => ({
    case: caseLabel(run, p),
    output,
    target: run.targets[p],
    class: classification ? `target ${run.targets[p]}` : "output",
  }));
  const layers: object[] = [
    {
      mark: { type: "bar", opacity: 0.85 },
      encoding: {
        x: { field: "case", type: "nominal", title: run.caseInputsV.length <= 4 ? "input voltages" : "case", sort: null, axis: { labelAngle: 0, labelLimit: 200 } },
        y: { field: "output", type: "quantitative", title: `mean output (${unit})` },
        color: { field: "class", type: "nominal", scale: classification ? { domain: ["target 0", "target 1"], range: ["#4c78a8", "#e45756"] } : { range: ["#72b7b2"] }, title: null, legend: classification ? {} : null },
      },
    },
  ];
  if (classification) {
    const line = threshold(run.caseOutputs, run.targets);
    // the gap the task asks for, centred on the threshold: solved when no bar reaches into it
    const half = (run.criterionTarget * (maxOf(run.caseOutputs) - minOf(run.caseOutputs))) / 2;
    layers.push({
      data: { values: [{ low: line - half, high: line + half }] },
      mark: { type: "rect", color: "#999", opacity: 0.18 },
      encoding: { y: { field: "low", type: "quantitative" }, y2: { field: "high" } },
    });
    layers.push({
      data: { values: [{ threshold: line, label: `threshold ${line.toFixed(2)} ${unit}` }] },
      layer: [
        { mark: { type: "rule", strokeDash: [6, 4], color: "black" }, encoding: { y: { field: "threshold", type: "quantitative" } } },
        { mark: { type: "text", align: "right", dx: WIDTH / 2 - 4, dy: -7, fontSize: 11 }, encoding: { y: { field: "threshold", type: "quantitative" }, text: { field: "label" } } },
      ],
    });
  } else {
    layers.push({
      mark: { type: "tick", color: "black", thickness: 2, size: 40 },
      encoding: { x: { field: "case", type: "nominal", sort: null }, y: { field: "target", type: "quantitative" } },
    });
  }
  return {
    ...base,
    title: classification ? "Each case's output against the threshold and the gap the task asks for (grey)" : "Each case's output (bars) and target (ticks), last epoch",
    data: { values },
    layer: layers,
  } as TopLevelSpec;
}

/** Each case's output over the iterations (dashed: target 0), with the threshold. */
export function outputsHistorySpec(run: Result): TopLevelSpec {
  const classification = run.criterionName === "margin";
  const history = run.history.caseOutputs ?? [];
  const values = history.flatMap((outputs, i) =>
    outputs.map((output, p) => ({ iteration: i + 1, output, case: caseName(p, run.targets[p]), class: classification ? `target ${run.targets[p]}` : "output" })),
  );
  if (classification) {
    for (const [i, outputs] of history.entries()) {
      values.push({ iteration: i + 1, output: threshold(outputs, run.targets), case: "threshold", class: "threshold" });
    }
  }
  const names = [...run.targets.map((_, p) => caseName(p, run.targets[p])), ...(classification ? ["threshold"] : [])];
  const colours = [...run.targets.map((_, p) => PALETTE[p % PALETTE.length]), "black"];
  return {
    ...base,
    title: classification ? "Case outputs per iteration, and the threshold between the classes" : "Case outputs per iteration",
    data: { values },
    mark: { type: "line", strokeWidth: 1.5 },
    encoding: {
      x: { field: "iteration", type: "quantitative" },
      y: { field: "output", type: "quantitative", title: `mean output (${run.outputUnit})`, scale: { zero: false } },
      color: { field: "case", type: "nominal", title: null, sort: names, scale: { domain: names, range: colours } },
      strokeDash: {
        field: "class",
        type: "nominal",
        title: null,
        scale: classification ? { domain: ["target 1", "target 0", "threshold"], range: [[1, 0], [5, 3], [2, 2]] } : { range: [[1, 0]] },
        legend: classification ? {} : null,
      },
    },
  } as TopLevelSpec;
}

/** Control voltages after each update (0 = the start; phyll-hge's physical steps), with the safe range. */
export function controlsSpec(run: Result): TopLevelSpec {
  const values = run.history.weights.flatMap((weights, i) => weights.map((volts, k) => ({ update: i, volts, control: `control ${k + 1}` })));
  const low = minOf(run.controlRangeV.map(([minV]) => minV));
  const high = maxOf(run.controlRangeV.map(([, maxV]) => maxV));
  return {
    ...base,
    title: "Control voltages",
    layer: [
      {
        data: { values },
        mark: { type: "line" },
        encoding: {
          x: { field: "update", type: "quantitative" },
          y: { field: "volts", type: "quantitative", title: "voltage (V)", scale: { domain: [low, high] } },
          color: { field: "control", type: "nominal", title: null },
        },
      },
      {
        data: { values: [{ bound: low }, { bound: high }] },
        mark: { type: "rule", strokeDash: [2, 3], color: "gray" },
        encoding: { y: { field: "bound", type: "quantitative" } },
      },      ...restartLayer(run),
    ],
  } as TopLevelSpec;
}

/** The spectrum of one recorded window as stems (log amplitude), each control's tone marked. */
export function spectrumSpec(run: Result): TopLevelSpec {
  const { oneWindow, toneHz, toneHits } = run.module!;
  const { readings, sampleRateHz } = oneWindow;
  const n = readings.length;
  const spectrum = amplitudeSpectrum(readings);
  const top = Math.min(maxOf(toneHz) * 2.2, sampleRateHz / 2);
  const values = spectrum.map((amplitude, m) => ({ hz: (m * sampleRateHz) / n, amplitude })).filter((v) => v.hz > 0 && v.hz <= top);
  const floor = 10 ** Math.floor(Math.log10(Math.max(1e-9, minOf(values.map((v) => v.amplitude).filter((a) => a > 0)))));
  for (const v of values) v.amplitude = Math.max(v.amplitude, floor);
  // Labels stagger over three heights so that neighbouring tones stay readable.
  const tones = toneHz.map((hz, k) => ({ hz, label: `c${k + 1}${toneHits[k] ? "!" : ""}`, height: 4 + (k % 3) * 12 }));
  const x = { field: "hz", type: "quantitative", title: "frequency (Hz)", scale: { domain: [0, top] } } as const;
  return {
    ...base,
    title: { text: `Spectrum of one window (case ${oneWindow.case + 1}, ${n} samples, last epoch with tones)`, subtitle: `tones c1..c${toneHz.length} marked${toneHits.some((h) => h) ? "; ! = hit by an intermodulation product" : ""}` },
    layer: [
      {
        data: { values: tones },
        mark: { type: "rule", color: "#e45756", strokeDash: [4, 3], opacity: 0.7 },
        encoding: { x },
      },
      {
        data: { values },
        mark: { type: "rule", color: "#4c78a8", strokeWidth: Math.max(1, Math.min(3, (WIDTH / values.length) * 0.6)) },
        encoding: {
          x,
          y: { field: "amplitude", type: "quantitative", title: `amplitude (${run.outputUnit}, peak)`, scale: { type: "log", domain: [floor, maxOf(values.map((v) => v.amplitude)) * 3] } },
          y2: { datum: floor },
        },
      },
      {
        data: { values: tones },
        mark: { type: "text", color: "#e45756", fontSize: 10, baseline: "top", dx: 3, align: "left" },
        encoding: { x, y: { field: "height", type: "quantitative", scale: null }, text: { field: "label" } },
      },
    ],
  } as unknown as TopLevelSpec;
}

/** `hge compare`: each run's device time, one row per method in the ranking's order, solved
 *  runs circles and unsolved ones crosses (where they stopped), each method's median a tick. */
export function compareSpec(runs: CompareRun[], ranking: MethodSummary[]): TopLevelSpec {
  const order = ranking.map((m) => m.method);
  const values = runs.map((r) => ({ method: r.method, seconds: r.deviceSeconds, outcome: r.solved ? "solved" : "not solved", seed: r.seed }));
  const medians = ranking.filter((m) => m.medianDeviceSeconds !== null).map((m) => ({ method: m.method, seconds: m.medianDeviceSeconds }));
  const y = { field: "method", type: "nominal", sort: order, title: null };
  const x = { field: "seconds", type: "quantitative", title: "device time (s)", scale: { type: "log" } };
  return {
    ...base,
    height: Math.max(HEIGHT, 26 * order.length),
    title: "Device time of each run (median: tick)",
    layer: [
      {
        data: { values },
        mark: { type: "point", size: 60, opacity: 0.8, filled: true },
        encoding: {
          x, y,
          shape: { field: "outcome", type: "nominal", title: null, scale: { domain: ["solved", "not solved"], range: ["circle", "cross"] } },
          color: { field: "outcome", type: "nominal", title: null, scale: { domain: ["solved", "not solved"], range: ["#4c78a8", "#e45756"] } },
          tooltip: [{ field: "method" }, { field: "seed" }, { field: "seconds", format: ".2f" }, { field: "outcome" }],
        },
      },
      { data: { values: medians }, mark: { type: "tick", color: "black", thickness: 2 }, encoding: { x, y } },
    ],
  } as unknown as TopLevelSpec;
}

/** All the plots the run has data for, rendered. A plot without data (a run stopped before its
 *  first update) is left out, named in one line; one that cannot be drawn becomes a line saying
 *  why: a report is never lost to its plotting. */
export async function runPlots(run: Result): Promise<{ title: string; svg: string }[]> {
  const cases = run.caseOutputs.length > 0 && run.caseOutputs.every(Number.isFinite);
  const anyFinite = (values: number[]) => values.some(Number.isFinite);
  // [title, whether it has data, its spec]; the plots listed only where they apply have data
  const specs: ReadonlyArray<readonly [string, boolean, () => TopLevelSpec]> = [
    ["Loss", anyFinite(run.history.loss), () => lossSpec(run)],
    [run.criterionName, anyFinite(run.history.criterion), () => criterionSpec(run)],
    ...(cases ? ([["Outputs", true, () => outputsSpec(run)], ["Outputs per iteration", (run.history.caseOutputs?.length ?? 0) > 0, () => outputsHistorySpec(run)]] as const) : []),
    ["Control voltages", run.history.weights.length > 1, () => controlsSpec(run)], // (the first entry is the start)
    ...(run.history.gradient?.length ? ([["Gradient norm", true, () => gradientNormSpec(run)]] as const) : []),
    ...(run.history.exactGradient?.length ? ([["Gradient against the exact one", true, () => fidelitySpec(run)]] as const) : []),
    // (a window of tones measured; codes have none to show)
    ...(run.module && perturbsWithTones(run.module.controller) && run.counters.windows && run.module.oneWindow.readings.every(Number.isFinite) ? ([["Spectrum", true, () => spectrumSpec(run)]] as const) : []),
  ];
  const plots = [];
  for (const [title, hasData, spec] of specs) {
    if (!hasData) continue;
    try {
      plots.push({ title, svg: await renderSvg(spec()) });
    } catch (error) {
      plots.push({ title, svg: `<p>${title}: not drawn (${String((error as Error).message ?? error).replace(/[<&]/g, " ")})</p>` });
    }
  }
  const empty = specs.filter(([, hasData]) => !hasData).map(([title]) => title);
  if (empty.length) plots.push({ title: "Not drawn", svg: `<p>Not drawn, no data (no update was measured): ${empty.join(", ")}</p>` });
  return plots;
}
