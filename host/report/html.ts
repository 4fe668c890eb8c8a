// Report pages: one self-contained HTML page per run (summary, plots as inline SVG, the
// configuration) beside its JSON, and an index page for a set of runs (the demo's gates).
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { TrainResult } from "../train.ts";
import { runPlots } from "./plots.ts";
import { formatMargin } from "./format.ts";

const STYLE = `
body { font-family: Helvetica, Arial, sans-serif; margin: 2em auto; max-width: 1360px; color: #222; }
h1 { font-size: 1.5em; } h2 { font-size: 1.1em; margin-top: 1.5em; }
table { border-collapse: collapse; margin: 0.5em 0; } td, th { border: 1px solid #ccc; padding: 3px 10px; text-align: left; }
th { background: #f3f3f3; } td.number { text-align: right; font-variant-numeric: tabular-nums; }
.plots { display: flex; flex-wrap: wrap; gap: 16px 24px; margin-top: 1em; } .plots figure { margin: 0; }
.yes { color: #1a7f37; font-weight: bold; } .no { color: #c62828; font-weight: bold; }
code { background: #f5f5f5; padding: 0 3px; }`;

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);
}

function page(title: string, body: string): string {
  return `<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title><style>${STYLE}</style></head>\n<body>\n${body}\n</body></html>\n`;
}

/** A table row; `numeric` right-aligns the cells that hold a number (column tables only). */
function row(cells: string[], header = false, numeric = false): string {
  const tag = header ? "th" : "td";
  return `<tr>${cells.map((c) => `<${tag}${numeric && /^[−\-+]?[\d.]+( ?%)?$/.test(c) ? ' class="number"' : ""}>${c}</${tag}>`).join("")}</tr>`;
}

function solvedCell(run: TrainResult): string {
  return run.solved ? '<span class="yes">yes</span>' : '<span class="no">no</span>';
}

/** Writes `<dir>/report.html` and `<dir>/run.json` for one run; returns the HTML path. */
export async function writeRunReport(run: TrainResult, dir: string, command: string): Promise<string> {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "run.json"), JSON.stringify(runJson(run, command), null, 1));
  const plots = await runPlots(run);
  const c = run.config.controller;
  const chain = run.config.chain;
  const noise = run.config.noise;
  const tones = run.toneHz.map((hz, k) => `c${k + 1}: ${+hz.toFixed(3)} Hz (bin ${run.toneBins[k]})${run.toneHits[k] ? " ⚠ hit by an intermodulation product" : ""}`).join("<br>");
  const summary = [
    ["solved", solvedCell(run)],
    ["iterations", `${run.iterations}${run.attempts.length > 1 ? ` over ${run.attempts.length} starts (restarts at ${run.attempts.slice(1).map((a) => a.startIteration).join(", ")})` : ""}`],
    ["device time", `${run.deviceSeconds.toFixed(2)} s`],
    [run.config.controller.loss === "mse" ? "error" : "margin (class gap / output span)", formatMargin(run)],
    ["stopped", run.stopped],
    ["final loss", run.lossHistory.length ? run.lossHistory.at(-1)!.toPrecision(4) : "—"],
    ["final controls", run.finalWeights.map((v) => `${v.toFixed(3)} V`).join(", ")],
    ["tones", tones],
    ["fitted lag model", `${run.counters.lagDelaySamples.toFixed(2)} samples delay, corner ${run.counters.lagCornerHz.toFixed(0)} Hz: the delay + first-order model closest, at the tones, to the simulated chain (${chain.delaySamples} samples, then a ${chain.cornerHz} Hz RC sampled behind the DAC's zero-order hold)`],
    ["windows", `${run.counters.windows} measured, ${run.counters.discardedWindows} discarded, ${run.counters.skippedUpdates} updates skipped`],
    ["wall time", `${run.wallSeconds.toFixed(1)} s`],
  ];
  const settings = [
    ["device", escapeHtml(run.device)],
    ["task", escapeHtml(run.task)],
    ["seed", String(run.seed)],
    ["sample rate", `${c.sampleRateHz} Hz`],
    ["window / settle", `${c.windowSamples} / ${c.settleSamples} samples (${((c.windowSamples / c.sampleRateHz) * 1000).toFixed(0)} / ${((c.settleSamples / c.sampleRateHz) * 1000).toFixed(0)} ms)`],
    ["tone choice", "plan" in c.tones ? `planned in ${c.tones.plan.bandLowHz}–${c.tones.plan.bandHighHz} Hz, guard ${c.guardBins} bin` : "explicit"],
    ["amplitudes", c.controls.map((k) => `${+(k.amplitudeV * 1000).toFixed(3)} mV`).join(", ")],
    ["optimiser", `${c.optimiser}, learning rate ${c.learningRate}, β1 ${c.beta1}, β2 ${c.beta2}`],
    ["loss", `${c.loss}${c.loss === "corrsig" ? `, margin scale ${c.marginScale} ${run.outputUnit}` : ""}`],
    ["calibration", `${c.calibrationWindows} epochs fitting the chain's lag`],
    ["chain", `DAC ${chain.dacBits} bit over [${chain.dacRangeV.join(", ")}] V; corner ${chain.cornerHz} Hz; delay ${chain.delaySamples} samples; ADC ${chain.adcBits} bit ±${chain.adcFullScaleV} V × ${chain.transimpedancePerV} ${run.outputUnit}/V`],
    ["noise", `white σ ${noise.whiteSigma} ${run.outputUnit}; 1/f ${noise.pinkPsdAt1kHz} ${run.outputUnit}²/Hz at 1 kHz${noise.drift ? `; drift ${escapeHtml(JSON.stringify(noise.drift))}` : ""}${noise.spikes ? `; spikes ${noise.spikes.ratePerS}/s of ${noise.spikes.amplitude} ${run.outputUnit}` : ""}`],
    ["iteration limit", `${run.config.maxIterations}, stop after ${run.config.solvedEpochs} solved epochs in a row`],
  ];
  const body = `<h1>${escapeHtml(run.task)} on ${escapeHtml(run.device)}</h1>
<p>Trained in closed loop by the hge controller (build/hge.wasm) in co-simulation. Command: <code>${escapeHtml(command)}</code>. Data: <a href="run.json">run.json</a>.</p>
<table>${summary.map((r) => row(r)).join("\n")}</table>
<div class="plots">${plots.map((p) => `<figure>${p.svg}</figure>`).join("\n")}</div>
<h2>Settings</h2>
<table>${settings.map((r) => row(r)).join("\n")}</table>`;
  const path = join(dir, "report.html");
  writeFileSync(path, page(`${run.task} on ${run.device}`, body));
  return path;
}

/** Writes `<dir>/index.html` linking runs whose reports sit in `<dir>/<name>/`. */
export function writeIndex(entries: Array<{ name: string; run: TrainResult }>, dir: string, command: string, wallSeconds: number): string {
  mkdirSync(dir, { recursive: true });
  const header = row(["gate", "solved", "iterations", "device time (s)", "margin", "wall time (s)", "report"], true);
  const rows = entries.map(({ name, run }) =>
    row([escapeHtml(run.task), solvedCell(run), String(run.iterations), run.deviceSeconds.toFixed(2), formatMargin(run), run.wallSeconds.toFixed(1), `<a href="${encodeURIComponent(name)}/report.html">report</a> · <a href="${encodeURIComponent(name)}/run.json">json</a>`], false, true),
  );
  const solved = entries.filter((e) => e.run.solved).length;
  const device = entries[0]?.run.device ?? "";
  const body = `<h1>hge demo: ${solved} of ${entries.length} gates trained on ${escapeHtml(device)}</h1>
<p>Each gate was trained in closed loop by the hge controller with homodyne gradient extraction. Command: <code>${escapeHtml(command)}</code>; wall time ${wallSeconds.toFixed(1)} s.</p>
<table>${header}\n${rows.join("\n")}</table>`;
  const path = join(dir, "index.html");
  writeFileSync(path, page("hge demo", body));
  return path;
}

/** The run's JSON document: the documented fields, in a stable order. */
export function runJson(run: TrainResult, command: string): object {
  return {
    format: "hge-run/1",
    command,
    device: run.device,
    task: run.task,
    seed: run.seed,
    solved: run.solved,
    stopped: run.stopped,
    iterations: run.iterations,
    deviceSeconds: run.deviceSeconds,
    wallSeconds: run.wallSeconds,
    margin: Number.isFinite(run.margin) ? run.margin : null,
    outputUnit: run.outputUnit,
    targets: run.targets,
    caseOutputs: run.caseOutputs,
    finalWeights: run.finalWeights,
    toneBins: run.toneBins,
    toneHz: run.toneHz,
    toneHits: run.toneHits,
    counters: run.counters,
    config: run.config,
    lossHistory: run.lossHistory,
    weightsHistory: run.weightsHistory,
    caseOutputsHistory: run.caseOutputsHistory,
    oneWindow: run.oneWindow,
  };
}
