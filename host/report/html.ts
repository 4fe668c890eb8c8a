// Report pages: one self-contained HTML page per run (summary, plots as inline SVG, the
// configuration) beside its JSON, and an index page for a set of runs (the demo's gates).
import { mkdirSync } from "node:fs";
import { join, relative, sep } from "node:path";
import { resumedTotals, type Result } from "../methods/method.ts";
import { isTransparent, type ModuleDetails } from "../train.ts";
import { perturbsWithTones } from "../controller.ts";
import { compareSpec, renderSvg, runPlots } from "./plots.ts";
import { amplitudeSpectrum } from "../spectrum.ts";
import type { CompareRecord } from "../compare.ts";
import { median, INTERVAL_CONFIDENCE, INTERVAL_MIN_RUNS } from "../metrics.ts";
import { budgetText, criterionLabel, formatCriterion, medianCriterionText } from "./format.ts";
import { DISTORTION_LABEL, diagnose, distortionFinding, lagText } from "./diagnose.ts";
import { keepFile } from "./keep.ts";

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

function solvedCell(run: Result): string {
  return run.solved ? '<span class="yes">yes</span>' : '<span class="no">no</span>';
}

/** Writes `<dir>/report.html` for one run, beside its run.json (keep.ts: keepRun, which the
 *  caller runs first, so that a plot that cannot be drawn never loses the result); returns the
 *  page's path. `warnings`: the caller's besides the run's own (diagnose), such as a task out of
 *  the device's reach. */
export async function writeRunReport(run: Result, dir: string, command: string, warnings: string[] = []): Promise<string> {
  const plots = await runPlots(run);
  const m = run.module;
  const totals = resumedTotals(run);
  const summary: string[][] = [
    ["solved", solvedCell(run)],
    ["method", escapeHtml(run.method)],
    ["ran on", escapeHtml(run.ranOn)],
    ["iterations", `${run.iterations}${run.attempts.length > 1 ? ` over ${run.attempts.length} starts (restarts at ${run.attempts.slice(1).map((a) => a.startIteration).join(", ")})` : ""}`],
    ["device time", `${run.deviceSeconds.toFixed(2)} s`],
    ...(totals.runs > 1 ? [["with the runs it resumed", `${totals.runs} runs, ${totals.iterations} iterations, ${totals.deviceSeconds.toFixed(2)} s of device time in all (run.json: resumedFrom); the plots show this run's`]] : []),
    [criterionLabel(run), formatCriterion(run)],
    ["stopped", run.stopped],
    ...(run.deviceFault !== undefined ? [["device fault", escapeHtml(run.deviceFault)]] : []),
    ["final loss", run.history.loss.length ? run.history.loss.at(-1)!.toPrecision(4) : "—"],
    ["final controls", run.finalWeights.map((v) => `${v.toFixed(3)} V`).join(", ")],
    ["counters", Object.entries(run.counters).map(([k, v]) => `${k} ${v}`).join(", ")],
    ["wall time", `${run.wallSeconds.toFixed(1)} s`],
  ];
  for (const warning of [...warnings, ...diagnose(run)]) summary.push(["⚠ warning", escapeHtml(warning)]);
  if (m && perturbsWithTones(m.controller)) {
    // (codes have no tones, no lag and no spectrum of tones: these rows were zeros and NaN for them)
    const tones = m.toneHz.map((hz, k) => `c${k + 1}: ${+hz.toFixed(3)} Hz (bin ${m.toneBins[k]})${m.toneHits[k] ? " ⚠ hit by an intermodulation product" : ""}`).join("<br>");
    summary.splice(summary.findIndex(([label]) => label === "counters"), 0,
      ["tones", tones],
      ["SNR per tone", run.counters.windows ? toneSnr(m).map((db, k) => `c${k + 1} ${db.toFixed(0)} dB`).join(", ") : "— (no window measured)"],
      ["lag model", `${lagText(m)} (the sampled-chain model: a held sample, a delay, an RC read at the end of the sample${m.lagFrom === "calibration" ? "; fitted at the tones" : ""})${isTransparent(m.chain) ? "; no simulated chain (--no-chain)" : `; the simulated chain is ${m.chain.delaySamples} samples and a ${m.chain.cornerHz} Hz RC of that form`}`],
      ...(m.distortion ? [[DISTORTION_LABEL, escapeHtml(distortionFinding(m, run.outputUnit))]] : []),
    );
  }
  const settings = [["device", escapeHtml(run.device)], ["task", escapeHtml(run.task)], ["seed", String(run.seed)], ...(m ? moduleSettings(run, m) : Object.entries(run.settings).map(([k, v]) => [escapeHtml(k), escapeHtml(typeof v === "string" ? v : JSON.stringify(v))]))];
  const where = run.ranOn === "node" ? "in co-simulation under Node" : `on the board ${escapeHtml(run.ranOn)} (the device simulated on the host)`;
  const body = `<h1>${escapeHtml(run.task)} on ${escapeHtml(run.device)} by ${escapeHtml(run.method)}</h1>
<p>Trained in closed loop ${where}. Command: <code>${escapeHtml(command)}</code>. Data: <a href="run.json">run.json</a>.</p>
<table>${summary.map((r) => row(r)).join("\n")}</table>
<div class="plots">${plots.map((p) => `<figure>${p.svg}</figure>`).join("\n")}</div>
<h2>Settings</h2>
<table>${settings.map((r) => row(r)).join("\n")}</table>`;
  const path = join(dir, "report.html");
  keepFile(path, page(`${run.task} on ${run.device}`, body));
  return path;
}


/** What the module ran with; settings that do not apply to this configuration are left out. */
function moduleSettings(run: Result, m: ModuleDetails): string[][] {
  const c = m.controller;
  const { chain, noise } = m;
  const tones = perturbsWithTones(c);
  return [
    ["sample rate", `${c.sampleRateHz} Hz`],
    ["window / settle", `${c.windowSamples} / ${c.settleSamples} samples (${((c.windowSamples / c.sampleRateHz) * 1000).toFixed(0)} / ${((c.settleSamples / c.sampleRateHz) * 1000).toFixed(0)} ms)`],
    ["perturbation", tones ? ("plan" in c.tones ? `tones planned in ${c.tones.plan.bandLowHz}–${c.tones.plan.bandHighHz} Hz, guard ${c.guardBins} bin` : "explicit tones") : `${c.perturbation}, ${c.chipSamples} samples per chip`],
    ["amplitudes", c.controls.map((k) => `${+(k.amplitudeV * 1000).toFixed(3)} mV`).join(", ")],
    ["optimiser", `${c.optimiser}, learning rate ${c.learningRate}${c.optimiser === "sgd" ? "" : `, β1 ${c.beta1}`}${c.optimiser === "adam" ? `, β2 ${c.beta2}` : ""}`],
    ["loss", `${c.loss}${c.loss === "corrsig" ? `, margin scale ${c.marginScale} ${run.outputUnit}` : ""}`],
    ...(tones ? [["lag", lagText(m)]] : []),
    ["chain", isTransparent(chain) ? "none (--no-chain): the device's outputs read as they are" : `DAC ${chain.dacBits} bit over [${chain.dacRangeV.join(", ")}] V; corner ${chain.cornerHz} Hz; delay ${chain.delaySamples} samples; ADC ${chain.adcBits} bit over [${chain.adcRangeV.join(", ")}] V × ${chain.transimpedancePerV} ${run.outputUnit}/V`],
    ["noise", `white σ ${noise.whiteSigma} ${run.outputUnit}; 1/f ${noise.pinkPsdAt1kHz} ${run.outputUnit}²/Hz at 1 kHz${noise.drift ? `; drift ${escapeHtml(JSON.stringify(noise.drift))}` : ""}${noise.spikes ? `; spikes ${noise.spikes.ratePerS}/s of ${noise.spikes.amplitude} ${run.outputUnit}` : ""}`],
    ["limits", `${m.maxIterations === Number.MAX_SAFE_INTEGER ? "no iteration limit" : `${m.maxIterations} iterations`}, stop after ${m.solvedEpochs} solved epochs in a row${m.patience ? `, restart after ${m.patience} iterations without progress` : ""}`],
  ];
}

/** Each tone's line in the recorded window over the median of the other bins up to twice
 *  the top tone (the noise floor), in dB. */
export function toneSnr(m: ModuleDetails): number[] {
  const spectrum = amplitudeSpectrum(m.oneWindow.readings);
  const top = Math.min(spectrum.length - 1, 2 * Math.max(...m.toneBins));
  const tones = new Set(m.toneBins);
  const floor = median(spectrum.slice(1, top + 1).filter((_, i) => !tones.has(i + 1)));
  return m.toneBins.map((bin) => 20 * Math.log10(spectrum[bin] / floor));
}

/** Writes `<dir>/index.html` linking each run's report in the directory it was kept in. */
export function writeIndex(entries: Array<{ run: Result; dir: string }>, dir: string, command: string, wallSeconds: number, unfinished?: { of: number; why: string }): string {
  mkdirSync(dir, { recursive: true });
  const header = row(["gate", "solved", "iterations", "device time (s)", criterionLabel(entries[0]?.run), "wall time (s)", "report"], true);
  // each gate's directory relative to the index (elsewhere where its --out could not be written)
  const link = (at: string, file: string) => [...relative(dir, at).split(sep), file].map(encodeURIComponent).join("/");
  const rows = entries.map(({ run, dir: at }) =>
    row([escapeHtml(run.task), solvedCell(run), String(run.iterations), run.deviceSeconds.toFixed(2), formatCriterion(run), run.wallSeconds.toFixed(1), `<a href="${link(at, "report.html")}">report</a> · <a href="${link(at, "run.json")}">json</a>`], false, true),
  );
  const solved = entries.filter((e) => e.run.solved).length;
  const device = entries[0]?.run.device ?? "";
  const body = `<h1>hge demo: ${solved} of ${entries.length} gates solved on ${escapeHtml(device)}</h1>
<p>Each gate was trained in closed loop by the hge controller with homodyne gradient extraction. Command: <code>${escapeHtml(command)}</code>; wall time ${wallSeconds.toFixed(1)} s.</p>
<table>${header}\n${rows.join("\n")}</table>${unfinished === undefined ? "" : `\n<p>${escapeHtml(unfinished.why)}: ${entries.length} of ${unfinished.of} gates finished; the others were not trained.</p>`}`;
  const path = join(dir, "index.html");
  keepFile(path, page("hge demo", body));
  return path;
}

/** Writes `<dir>/report.html` for `hge compare`: the ranking and each run's device time. */
export async function writeCompareReport(record: CompareRecord, dir: string): Promise<string> {
  const seconds = (x: number | null) => (x === null ? '<span class="no">not solved</span>' : x.toFixed(2));
  const criterion = record.runs[0].criterionName;
  const header = row(["method", "solved", "median device time (s)", `${INTERVAL_CONFIDENCE * 100}% interval of the median (s)`, `median ${criterion}`, "device time, all runs (s)", "median iterations", "wall time per run (s)"], true);
  const rows = record.summary.map((m) =>
    row([escapeHtml(m.method), `${m.solved}/${m.runs}`, seconds(m.medianDeviceSeconds), m.interval ? `${seconds(m.interval[0])} – ${seconds(m.interval[1])}` : `— (needs ${INTERVAL_MIN_RUNS} runs)`,
      medianCriterionText(m, criterion, record.outputUnit), m.totalDeviceSeconds.toFixed(1), String(m.medianIterations), m.medianWallSeconds.toFixed(1)], false, true));
  const list = (reasons: { [method: string]: string }) => Object.entries(reasons).map(([method, why]) => `<li>${escapeHtml(method)}: ${escapeHtml(why)}</li>`).join("");
  const refused = list(record.refused), cannotTrain = list(record.cannotTrain);
  let plot: string;
  try {
    plot = await renderSvg(compareSpec(record.runs, record.summary));
  } catch (error) {
    plot = `<p>not drawn (${escapeHtml(String((error as Error).message ?? error))})</p>`;
  }
  const body = `<h1>hge compare: ${escapeHtml(record.task)} on ${escapeHtml(record.device)}</h1>
<p>Each method trained from seeds ${record.seeds[0]}–${record.seeds.at(-1)} with ${budgetText(record.setup.budget)}; ranked by the median device time to solve, a run unsolved within it counted as never solving. The interval holds a method's true median with probability ${INTERVAL_CONFIDENCE * 100}% or more, from its runs alone (order statistics): where two methods' intervals overlap, these runs are too few to rank the two with confidence. Command: <code>${escapeHtml(record.command)}</code>.</p>
<table>${header}\n${rows.join("\n")}</table>
${refused ? `<h2>Not compared: refused at set-up</h2><ul>${refused}</ul>` : ""}
${cannotTrain ? `<h2>Not run: the device or the task lacks what they need</h2><ul>${cannotTrain}</ul>` : ""}
<div class="plots"><figure>${plot}</figure></div>`;
  const path = join(dir, "report.html");
  keepFile(path, page(`hge compare: ${record.task} on ${record.device}`, body));
  return path;
}

