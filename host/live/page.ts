// The live view's page (host/live/server.ts serves it): four uPlot charts fed by the
// WebSocket at /stream, or only the loss chart and a note where the run's device-level panels
// are not observed (LiveStart.unobserved). Kept as a string so the server needs no build step.
export const LIVE_PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>hge live</title>
<link rel="stylesheet" href="/uPlot.min.css">
<style>
 body { font: 14px system-ui, sans-serif; margin: 16px; color: #222; }
 h1 { font-size: 18px; margin: 0 0 4px; } #status { color: #555; margin-bottom: 12px; }
 .grid { display: grid; grid-template-columns: repeat(2, 620px); gap: 16px; }
 .chart h2 { font-size: 14px; margin: 0 0 4px; }
</style></head>
<body>
<h1 id="title">hge live</h1><div id="status">connecting…</div><div id="note"></div>
<div class="grid">
 <div class="chart" id="c-loss"><h2>loss and criterion against device time</h2></div>
 <div class="chart" id="c-cases"><h2>each case's output</h2></div>
 <div class="chart" id="c-controls"><h2>control voltages (V)</h2></div>
 <div class="chart" id="c-spectrum"><h2>the device output's spectrum over the last window, each control's tone marked (codes have none)</h2></div>
</div>
<script src="/uPlot.iife.min.js"></script>
<script>
const palette = ["#1f77b4","#d62728","#2ca02c","#9467bd","#ff7f0e","#8c564b","#e377c2","#17becf","#bcbd22","#7f7f7f"];
const state = { updates: 0, start: null, loss: [[],[],[]], cases: null, controls: null, spectrum: [[],[]], tones: [] };
window.hgeLive = state; // for tests: how many updates arrived
const size = { width: 600, height: 260 };
let lossPlot, casesPlot, controlsPlot, spectrumPlot;
function makeLoss(start) {
  lossPlot = new uPlot({ ...size, scales: { x: { time: false } }, axes: [{ label: "device-seconds" }, { label: "loss" }, { side: 1, scale: "c", label: start.criterionName }],
    series: [{}, { label: "loss", stroke: palette[0] }, { label: start.criterionName, stroke: palette[1], scale: "c" }] }, state.loss, document.getElementById("c-loss"));
}
// a threshold separates the classes only where the criterion is the margin (not regression's)
const classifying = () => state.start.criterionName === "margin";
function makeCases(n) {
  state.cases = [[], ...Array.from({ length: n + (classifying() ? 1 : 0) }, () => [])];
  if (classifying()) document.querySelector("#c-cases h2").textContent = "each case's output against the threshold";
  const series = [{}, ...Array.from({ length: n }, (_, p) => ({ label: state.start.caseNames?.[p] ?? "case " + (p + 1), stroke: palette[p % 10] })),
    ...(classifying() ? [{ label: "threshold", stroke: "#000", dash: [6, 4] }] : [])];
  casesPlot = new uPlot({ ...size, scales: { x: { time: false } }, axes: [{ label: "update" }, { label: state.start.outputUnit }], series }, state.cases, document.getElementById("c-cases"));
}
function makeControls(n) {
  state.controls = [[], ...Array.from({ length: n }, () => [])];
  controlsPlot = new uPlot({ ...size, scales: { x: { time: false } }, axes: [{ label: "device-seconds" }, { label: "V" }],
    series: [{}, ...Array.from({ length: n }, (_, k) => ({ label: "control " + (k + 1), stroke: palette[k % 10] }))] }, state.controls, document.getElementById("c-controls"));
}
function makeSpectrum() {
  const tones = { hooks: { draw: [(u) => { const ctx = u.ctx; ctx.save(); ctx.strokeStyle = "#d62728"; ctx.setLineDash([4, 3]);
    for (const hz of state.tones) { const x = u.valToPos(hz, "x", true); ctx.beginPath(); ctx.moveTo(x, u.bbox.top); ctx.lineTo(x, u.bbox.top + u.bbox.height); ctx.stroke(); }
    ctx.restore(); }] } };
  spectrumPlot = new uPlot({ ...size, plugins: [tones], scales: { x: { time: false }, y: { distr: 3 } }, axes: [{ label: "Hz" }, { label: "amplitude (" + state.start.outputUnit + ")", values: (u, ticks) => ticks.map((v) => v == null ? "" : v.toExponential(0)) }],
    series: [{}, { label: "|X(f)|", stroke: palette[0] }] }, state.spectrum, document.getElementById("c-spectrum"));
}
function onMessage(m) {
  if (m.type === "start") {
    state.start = m;
    document.getElementById("title").textContent = m.title;
    makeLoss(m);
    if (m.unobserved) { // the device-level panels would stay empty: say why instead
      document.getElementById("note").textContent = m.unobserved;
      for (const id of ["c-cases", "c-controls", "c-spectrum"]) document.getElementById(id).remove();
      return;
    }
    makeSpectrum();
    if (m.caseCount) makeCases(m.caseCount);
    if (m.controlCount) makeControls(m.controlCount);
    return;
  }
  if (m.type === "update") {
    state.updates++;
    state.loss[0].push(m.deviceSeconds); state.loss[1].push(m.loss); state.loss[2].push(m.criterion);
    lossPlot.setData(state.loss);
    if (m.caseOutputs) {
      if (!state.cases) makeCases(m.caseOutputs.length);
      state.cases[0].push(m.iteration);
      m.caseOutputs.forEach((y, p) => state.cases[p + 1].push(y));
      if (classifying()) state.cases[m.caseOutputs.length + 1].push(m.threshold ?? null);
      casesPlot.setData(state.cases);
    }
    if (m.weights) {
      if (!state.controls) makeControls(m.weights.length);
      state.controls[0].push(m.deviceSeconds);
      m.weights.forEach((v, k) => state.controls[k + 1].push(v));
      controlsPlot.setData(state.controls);
    }
    if (m.spectrum) {
      state.tones = m.spectrum.tonesHz;
      state.spectrum = [m.spectrum.hz, m.spectrum.magnitude.map((v) => Math.max(v, 1e-6))];
      spectrumPlot.setData(state.spectrum);
    }
    document.getElementById("status").textContent = "update " + m.iteration + ", " + m.deviceSeconds.toFixed(2) + " device-seconds, loss " + (m.loss ?? NaN).toFixed(4) + ", " + state.start.criterionName + " " + m.criterionText;
    return;
  }
  if (m.type === "end") {
    state.ended = m;
    document.getElementById("status").textContent += " — " + (m.solved ? "solved" : "stopped: " + m.stopped) + (m.reason ? " (" + m.reason + ")" : "");
  }
}
const ws = new WebSocket((location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/stream");
ws.onmessage = (e) => onMessage(JSON.parse(e.data));
ws.onopen = () => { document.getElementById("status").textContent = "connected, waiting for the first update…"; };
ws.onclose = () => { document.getElementById("status").textContent += " (stream closed)"; };
</script></body></html>
`;
