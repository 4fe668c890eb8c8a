// The benchmark's page: build/bench.html with the tables and the plots (Vega-Lite specs rendered
// to inline SVG in Node by the report helper): error against device time per method with the
// Cramér–Rao line, variance against the bound, peers against multi-tone, time to solve per
// task per method, controller cost.
import { writeFileSync, mkdirSync } from "node:fs";
import { dirname } from "node:path";
import type { TopLevelSpec } from "vega-lite";
import { renderSvg } from "../report/plots.ts";
import { escapeHtml } from "../report/html.ts";
import { ESTIMATOR_LABELS, type Estimator } from "../methods/module.ts";
import { METHOD_NAMES } from "../methods/index.ts";
import { BENCH_TASKS } from "./methods.ts";
import { INTERVAL_CONFIDENCE } from "../metrics.ts";
import type { Figures, Series } from "./index.ts";
import { COST_PATHS } from "./cost.ts";

const WIDTH = 420;
const HEIGHT = 240;
const base = { config: { font: "Helvetica, Arial, sans-serif", axis: { labelFontSize: 11, titleFontSize: 12 }, legend: { labelFontSize: 11 } } } as const;
/** The module's estimators keep their colours on every chart; the other methods take the rest. */
const ESTIMATOR_COLOURS: Record<Estimator, string> = {
  published: "#888888", multitone: "#e45756", sequential: "#4c78a8", spsa: "#f58518", random: "#54a24b", walsh: "#b279a2",
};
const OTHER_COLOURS = ["#72b7b2", "#eeca3b", "#9d755d", "#ff9da6", "#17becf", "#8c564b", "#1f77b4", "#bcbd22"];
/** Every series name a chart may hold, in legend order: the registry's methods, then the
 *  fidelity section's variants (multitoneOrder2: tones planned for second-order freedom). */
const SERIES_NAMES = [...METHOD_NAMES, "multitoneOrder2"];
const colourOf = (name: string) => ESTIMATOR_COLOURS[name as Estimator] ?? OTHER_COLOURS[SERIES_NAMES.filter((m) => !(m in ESTIMATOR_COLOURS)).indexOf(name) % OTHER_COLOURS.length];
const labelOf = (name: string) => ESTIMATOR_LABELS[name as Estimator] ?? (name === "multitoneOrder2" ? "multi-tone HGE (order 2)" : name);
/** Colour by method, the same colour for a method on every chart, only the methods shown in the legend. */
function methodColour(methods: Iterable<string>) {
  const shown = SERIES_NAMES.filter((m) => [...methods].includes(m));
  return {
    field: "method",
    type: "nominal",
    title: null,
    sort: shown.map(labelOf),
    scale: { domain: shown.map(labelOf), range: shown.map(colourOf) },
    legend: { labelLimit: 320 },
  } as const;
}
const methodOrder = SERIES_NAMES.map(labelOf);
const TASK_ORDER = [...BENCH_TASKS];

function errorVersusTime(series: Series, controls: number): TopLevelSpec {
  const points = series.fidelity.filter((f) => f.controls === controls).map((f) => ({ ...f, method: labelOf(f.method) }));
  const bound = series.bound.filter((b) => b.controls === controls);
  return {
    ...base,
    width: WIDTH,
    height: HEIGHT,
    title: { text: `${controls} controls`, subtitle: "dashed: tone CRB, the Cramér–Rao bound of sinusoidal probing at peak a (±a codes: √2 lower)" },
    layer: [
      {
        data: { values: bound },
        mark: { type: "line", strokeDash: [6, 4], color: "black" },
        encoding: {
          x: { field: "deviceSeconds", type: "quantitative", scale: { type: "log" }, title: "device time (s)" },
          y: { field: "relativeError", type: "quantitative", scale: { type: "log" }, title: "‖ĝ − g‖ / ‖g‖" },
        },
      },
      {
        data: { values: points },
        mark: { type: "line", point: true },
        encoding: {
          x: { field: "deviceSeconds", type: "quantitative" },
          y: { field: "relativeError", type: "quantitative" },
          color: methodColour(series.fidelity.filter((f) => f.controls === controls).map((f) => f.method)),
          tooltip: [{ field: "method" }, { field: "samples" }, { field: "relativeError" }, { field: "cosine" }],
        },
      },
    ],
  } as TopLevelSpec;
}

function varianceOverBound(series: Series): TopLevelSpec {
  const values = series.linear.map((l) => ({ ...l, method: labelOf(l.method), controlsLabel: `${l.controls} controls` }));
  const controlsOrder = [...new Set(series.linear.map((l) => l.controls))].sort((a, b) => a - b).map((n) => `${n} controls`);
  return {
    ...base,
    width: 520,
    height: HEIGHT,
    title: "Linear device, white noise, equal peak: variance / tone bound 2σ²/(a²T)",
    layer: [
      {
        data: { values },
        mark: { type: "bar" },
        encoding: {
          x: { field: "controlsLabel", type: "nominal", title: null, sort: controlsOrder, axis: { labelAngle: 0 } },
          xOffset: { field: "method", type: "nominal", sort: methodOrder },
          y: { field: "varianceOverBound", type: "quantitative", scale: { type: "log" }, title: "variance / bound (bars start at the bound)" },
          y2: { datum: 1 },
          color: methodColour(series.linear.map((l) => l.method)),
        },
      },
      {
        data: { values: [{ y: 1, label: "bound" }, { y: 1.2, label: "1.2 × bound (target)" }] },
        layer: [
          { mark: { type: "rule", strokeDash: [4, 3], color: "black" }, encoding: { y: { field: "y", type: "quantitative" } } },
          { transform: [{ filter: "datum.y > 1" }], mark: { type: "text", align: "right", x: 516, dy: -5, fontSize: 10 }, encoding: { y: { field: "y", type: "quantitative" }, text: { field: "label" } } },
          { transform: [{ filter: "datum.y == 1" }], mark: { type: "text", align: "right", x: 516, dy: 10, fontSize: 10 }, encoding: { y: { field: "y", type: "quantitative" }, text: { field: "label" } } },
        ],
      },
    ],
  } as TopLevelSpec;
}

function peers(series: Series, controls: number): TopLevelSpec {
  const values = series.peers
    .filter((p) => p.controls === controls && p.method !== "multitone")
    .map((p) => ({ ...p, method: labelOf(p.method), panel: `${p.normalisation === "peak" ? "equal peak" : "equal RMS"}` }));
  return {
    ...base,
    title: `Same time, same noise (${controls} controls, ${(values[0]?.budgetSamples ?? 0) / 5000} s): peer error / multi-tone error`,
    data: { values },
    facet: { column: { field: "panel", type: "nominal", title: null, sort: ["equal peak", "equal RMS"] } },
    spec: {
      width: 300,
      height: HEIGHT,
      layer: [
        {
          mark: { type: "bar" },
          encoding: {
            x: { field: "scenario", type: "nominal", title: null, sort: ["white", "pinkDrift", "lowpass"], axis: { labelAngle: 0 } },
            xOffset: { field: "method", type: "nominal", sort: methodOrder },
            y: { field: "errorRatio", type: "quantitative", scale: { type: "log" }, title: "error / multi-tone error (bars start at 1: a tie)" },
            y2: { datum: 1 },
            color: methodColour(series.peers.filter((p) => p.method !== "multitone").map((p) => p.method)),
          },
        },
        { mark: { type: "rule", color: "black", strokeDash: [4, 3] }, encoding: { y: { datum: 1 } } },
      ],
    },
  } as TopLevelSpec;
}

function timeToSolve(series: Series): TopLevelSpec {
  const values = series.methods.map((t) => ({
    task: t.task,
    method: labelOf(t.method),
    seconds: t.medianDeviceSeconds ?? t.capSeconds,
    censored: t.medianDeviceSeconds === null ? "median not reached (bar at the cap)" : "median",
    label: `${t.solved}/${t.seeds}`,
  }));
  // each median's interval (an end among the unsolved runs drawn at the cap)
  const intervals = series.methods.filter((t) => t.interval).map((t) => ({
    task: t.task, method: labelOf(t.method), low: t.interval![0] ?? t.capSeconds, high: t.interval![1] ?? t.capSeconds,
  }));
  const all = [...values.map((v) => v.seconds), ...intervals.flatMap((i) => [i.low, i.high])];
  const floor = 10 ** Math.floor(Math.log10(Math.min(...all) / 1.5));
  const top = 10 ** Math.ceil(Math.log10(Math.max(...all) * 1.5));
  return {
    ...base,
    title: `Time to solve: median device-seconds per task and method (label: solved / seeds; line: ${INTERVAL_CONFIDENCE * 100}% interval of the median)`,
    data: { values },
    width: 760,
    height: 280,
    layer: [
      {
        mark: { type: "bar" },
        encoding: {
          x: { field: "task", type: "nominal", title: null, sort: TASK_ORDER, axis: { labelAngle: 0 } },
          xOffset: { field: "method", type: "nominal", sort: methodOrder },
          y: { field: "seconds", type: "quantitative", scale: { type: "log", domain: [floor, top] }, title: "device seconds to solve (median)" },
          y2: { datum: floor },
          color: methodColour(series.methods.map((t) => t.method)),
          opacity: { field: "censored", type: "ordinal", title: null, sort: ["median", "median not reached (bar at the cap)"], scale: { domain: ["median", "median not reached (bar at the cap)"], range: [1, 0.3] }, legend: { labelLimit: 320 } },
        },
      },
      {
        data: { values: intervals },
        mark: { type: "rule", color: "black", strokeWidth: 1 },
        encoding: {
          x: { field: "task", type: "nominal", sort: TASK_ORDER },
          xOffset: { field: "method", type: "nominal", sort: methodOrder },
          y: { field: "low", type: "quantitative" },
          y2: { field: "high" },
        },
      },
      {
        mark: { type: "text", dy: -6, fontSize: 8 },
        encoding: {
          x: { field: "task", type: "nominal", sort: TASK_ORDER },
          xOffset: { field: "method", type: "nominal", sort: methodOrder },
          y: { field: "seconds", type: "quantitative" },
          text: { field: "label" },
        },
      },
    ],
  } as TopLevelSpec;
}

function cost(series: Series): TopLevelSpec {
  const pathLabel = (path: string) => `${path} sines`;
  const implementations = ["module (wasm)", "TypeScript, same algorithm"];
  const values = series.cost.flatMap((c) => {
    const controls = c.module !== "hge.wasm" ? `${c.controls}*` : String(c.controls);
    const path = pathLabel(c.path);
    return [
      { path, controls, implementation: implementations[0], ns: c.moduleNsPerControlSample },
      { path, controls, implementation: implementations[1], ns: c.typescriptNsPerControlSample },
    ];
  });
  const wider = series.cost.find((c) => c.module !== "hge.wasm");
  return {
    ...base,
    title: { text: "Controller cost under Node: ns per control per typical sample", subtitle: wider ? `* on ${wider.module}` : "" },
    data: { values },
    width: 240,
    height: HEIGHT,
    mark: { type: "bar" },
    encoding: {
      x: { field: "controls", type: "ordinal", sort: null, axis: { labelAngle: 0 } },
      xOffset: { field: "implementation", type: "nominal", sort: implementations },
      y: { field: "ns", type: "quantitative", title: "ns / control / sample" },
      color: { field: "implementation", type: "nominal", title: null, sort: implementations, legend: { labelLimit: 300 } },
      column: { field: "path", type: "nominal", title: null, sort: COST_PATHS.map(pathLabel) },
    },
  } as TopLevelSpec;
}

const STYLE = `body { font-family: Helvetica, Arial, sans-serif; margin: 2em auto; max-width: 1180px; color: #222; }
h1 { font-size: 1.5em; } h2 { font-size: 1.15em; margin-top: 1.6em; } p { max-width: 60em; line-height: 1.4; }
.plots { display: flex; flex-wrap: wrap; gap: 14px; } figure { margin: 0; }
pre { background: #f6f6f6; padding: 0.8em; font-size: 12px; overflow-x: auto; }`;

export interface BenchPage {
  mode: string;
  figures: Figures;
  series: Series;
  tables: string;
  wallSeconds: number;
}

/** Writes the page; returns its path. */
export async function writeBenchHtml(path: string, page: BenchPage): Promise<string> {
  const { series } = page;
  const sections: string[] = [];
  const plot = async (spec: TopLevelSpec) => `<figure>${await renderSvg(spec)}</figure>`;
  const counts = [...new Set(series.fidelity.map((f) => f.controls))];
  if (counts.length) {
    const charts = await Promise.all(counts.map((n) => plot(errorVersusTime(series, n))));
    sections.push(`<h2>1. Gradient error against device time (transistor–resistor network, white noise, equal peak amplitude)</h2>
<p>Each point is one window of that length, RMS over noise seeds, against the exact adjoint gradient. The dashed line is the
relative error a tone estimator reaches at the tone Cramér–Rao bound 2σ²/(a²T) per control, the bound of sinusoidal
probing at peak amplitude a (codes of ±a carry twice the power: their bound is √2 lower in error). Multi-tone points start at the planner's
shortest window for that many controls.</p><div class="plots">${charts.join("")}</div>`);
  }
  if (series.linear.length) sections.push(`<h2>1b. Variance against the bound</h2><div class="plots">${await plot(varianceOverBound(series))}</div>`);
  const peerCounts = [...new Set(series.peers.map((p) => p.controls))];
  if (peerCounts.length) {
    const charts = await Promise.all(peerCounts.map((n) => plot(peers(series, n))));
    sections.push(`<h2>2. Same device time, same noise</h2>
<p>white: white noise only; pinkDrift: plus 1/f noise (corner 1 kHz) and drift; lowpass: white noise through a 1 kHz first-order
corner and 2 samples of delay (tones told the chain, codes sent as 8-sample chips). Below 1 the peer beats multi-tone.</p>
<div class="plots">${charts.join("")}</div>`);
  }
  if (series.methods.length) sections.push(`<h2>3. Time to solve, per method</h2><div class="plots">${await plot(timeToSolve(series))}</div>`);
  if (series.cost.length) sections.push(`<h2>4. Controller cost</h2><div class="plots">${await plot(cost(series))}</div>`);
  const body = `<h1>hge bench (${escapeHtml(page.mode)})</h1>
<p>Sections 1, 2 and 4 run the module's estimators (configurations of the one controller, host/methods/module.ts); section 3 every registered training method. Figures are in build/bench.json under
the names listed in the project README. Wall time ${page.wallSeconds.toFixed(0)} s.</p>
${sections.join("\n")}
<h2>Tables</h2><pre>${escapeHtml(page.tables)}</pre>`;
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, `<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><title>hge bench</title><style>${STYLE}</style></head>\n<body>\n${body}\n</body></html>\n`);
  return path;
}

