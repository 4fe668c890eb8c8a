// Warnings a reader should see before trusting a run: in its report and under hge train's summary.
import type { Result } from "../methods/method.ts";
import { calibrationUnfinished, chainModel, isTransparent, type ChainOptions, type ModuleDetails } from "../train.ts";
import { readingLimits } from "../cosim.ts";
import { NOISE_GAPS } from "../tasks/gates.ts";

const ORDER_2 = "--plan-order 2 (windows that grow as the number of controls, not its square)";

export const DISTORTION_LABEL = "third-order distortion";

/** What the calibration's distortion probe found, the plan order it allows, and whether the run
 *  trained at it. */
export function distortionText(m: ModuleDetails, unit: string): string {
  return `${DISTORTION_LABEL} ${distortionFinding(m, unit)}`;
}

/** distortionText without its label (a report's row has it); for a run with a probe reading. */
export function distortionFinding({ distortion, controller, order2WindowSamples }: ModuleDetails, unit: string): string {
  const d = distortion!;
  const amount = (x: number) => `${x.toPrecision(2)} ${unit}`;
  const found = `${amount(d.thirdOrderAmplitude)} at the calibration's probe, noise ${amount(d.noiseAmplitude)}`;
  // (under auto, order 2 measured above the noise sent the run back to order 3)
  if (d.atOrder2) return `${found}: keep plan order 3: --plan-order auto measured order 2 first (${amount(d.atOrder2.thirdOrderAmplitude)}, noise ${amount(d.atOrder2.noiseAmplitude)}, in its ${d.atOrder2.windowSamples}-sample window) and went back to order 3`;
  const ranAt2 = controller.planOrder === 2; // (under auto too: the probe's verdict)
  // only a given --plan-order 2 trains at 2 where the probe says 3 (auto calibrates again at 3)
  if (d.planOrder === 3) return `${found}: keep plan order 3${ranAt2 ? ": it keeps third-order products off the tones, and this run's --plan-order 2 let them land there" : ""}`;
  const trained = d.switchedFrom !== undefined ? `and the run continued on it in shorter windows than the calibration's ${d.switchedFrom} samples`
    : ranAt2 ? "and the run trained at it"
    : order2WindowSamples ? `${ORDER_2}: ${order2WindowSamples}-sample windows against this run's ${controller.windowSamples}`
    : `but an order-2 plan's window is no shorter (${controller.windowSamples} samples)`;
  return `${found}: plan order 2 is safe here, ${trained}`;
}

const LAG_FROM: Record<ModuleDetails["lagFrom"], string> = {
  calibration: "fitted",
  configuration: "given (not fitted)",
  checkpoint: "kept from the checkpoint resumed (fitted by the run before)", // (a given one is "configuration": TrainOptions.checkpointLagGiven)
};

/** The lag in the module's status, as the summary and the warnings show it. */
const statusLag = ({ status }: ModuleDetails) => `${status.lagDelaySamples.toFixed(2)} samples, corner ${status.lagCornerHz.toFixed(0)} Hz`;

/** The lag the run ended on, and where it comes from (hge train's summary, the report). */
export function lagText(m: ModuleDetails): string {
  return `${calibrationUnfinished(m) ? "configured (not fitted: the calibration did not finish)" : LAG_FROM[m.lagFrom]}: ${statusLag(m)}`;
}

/** A fitted lag whose phase is further than this from the simulated chain's at any tone is
 *  worth a warning: a derivative read through it comes out cos(30°) = 0.87 of its size or less
 *  (90°: none, beyond: the wrong sign). */
const FAR_RADIANS = Math.PI / 6;

type Lag = { delaySamples: number; cornerHz: number };

/** The phase lag (radians) of the module's chain model at `hz` (README: "The chain's lag"; the
 *  module's lagOf): H(z) = z^−L·[(1 − q) + (q − p)·z^−1]/(1 − p·z^−1), L whole samples of the
 *  delay, μ its fraction, p = e^(−2π·fc/fs), q = p^(1−μ); no corner: p = q = 0. */
function lagPhase({ delaySamples, cornerHz }: Lag, hz: number, sampleRateHz: number): number {
  const whole = Math.floor(delaySamples), p = cornerHz > 0 ? Math.exp((-2 * Math.PI * cornerHz) / sampleRateHz) : 0;
  const q = p ** (1 - (delaySamples - whole)), w = (2 * Math.PI * hz) / sampleRateHz;
  const numerator = Math.atan2(-(q - p) * Math.sin(w), 1 - q + (q - p) * Math.cos(w));
  const denominator = Math.atan2(p * Math.sin(w), 1 - p * Math.cos(w));
  return w * whole - numerator + denominator;
}

/** How far (radians, 0..π) lag `a` demodulates a tone at `hz` off lag `b`'s phase: π flips the
 *  derivative's sign, a whole turn is no error. */
export function lagPhaseOff(a: Lag, b: Lag, hz: number, sampleRateHz: number): number {
  const difference = lagPhase(a, hz, sampleRateHz) - lagPhase(b, hz, sampleRateHz);
  return Math.abs(difference - 2 * Math.PI * Math.round(difference / (2 * Math.PI)));
}

/** What `chain` reads, in the output's unit: ±285, or 0 to 33 through a unipolar ADC. */
function readingRange(chain: ChainOptions): string {
  const { min, max } = readingLimits(chainModel(chain, undefined));
  const shown = (x: number) => +x.toPrecision(4);
  return min === -max ? `±${shown(max)}` : `${shown(min)} to ${shown(max)}`;
}

/** Warnings a reader should see before trusting the run. */
export function diagnose(run: Result): string[] {
  const warnings: string[] = [];
  const windows = run.counters.windows ?? 0;
  const discarded = run.counters.discardedWindows ?? 0;
  const chain = run.module?.chain;
  const fullScale = chain && `${readingRange(chain)} ${run.outputUnit}`;
  const reads = !chain ? "" : isTransparent(chain) ? `; with --no-chain the readings, noise included, must be finite and within ${fullScale}` : `; the chain reads ${fullScale}: a device's outputs, noise included, go within it (its outputUnit right, its output scaled), or --no-chain for an instrument's readings`;
  if (discarded > 0 && windows === 0) warnings.push(`every window was discarded (${discarded}): the readings saturated or were not finite; nothing was learned${reads}`);
  else if (discarded > windows) warnings.push(`most windows were discarded (${discarded} of ${windows + discarded}): check the noise, spikes and the ADC range${reads}`);
  // a run the budget, an interruption, its device, its board's link or its twin (below) stopped
  // before its first update measured no epoch at all: nothing was lost to a bad measurement
  const noUpdate = run.iterations === 0 && run.stopped === "budget";
  const unmeasured = noUpdate || (run.iterations === 0 && ["interrupted", "device", "link", "twin", "readout"].includes(run.stopped));
  // (a restart's start the run stopped on before its first update: the controls shown are its)
  const lastStart = run.attempts.length > 1 ? run.attempts.at(-1)! : undefined;
  if (lastStart && lastStart.startIteration === run.iterations && !run.caseOutputs.length) {
    warnings.push(`the controls it ended on, start ${run.attempts.length} after update ${run.iterations}, were never measured (the run stopped: ${run.stopped}); the ${run.criterionName} of earlier starts is in the history`);
  } else if (!Number.isFinite(run.criterion) && !unmeasured) warnings.push(`the ${run.criterionName} is not finite: no epoch was measured cleanly`);
  const pinned = run.finalWeights.filter((v, k) => {
    const [low, high] = run.controlRangeV[k] ?? [-Infinity, Infinity];
    return Math.min(v - low, high - v) <= (high - low) * 0.01;
  }).length;
  const withinNoise = run.counters.confirmationsWithinNoise ?? 0;
  if (withinNoise) warnings.push(`${withinNoise} time${withinNoise > 1 ? "s" : ""} the task read as solved on the epochs that confirm it, but the classes' gap was within ${NOISE_GAPS} times the scatter of the held readings (gates.ts: separatedBeyondNoise), so it was not taken: does the output follow the controls?`);
  // pat's twin (its runs describe it in settings.twin): a fit that diverged (its RMS error not
  // finite: NaN, null in run.json) stopped a run on input cases; gradients not finite skipped
  // their updates
  const twinError = run.counters.twinFitRmsError;
  const skipped = run.counters.skippedUpdates ?? 0;
  const diverged = twinError !== undefined && !Number.isFinite(twinError);
  if (run.settings?.twin !== undefined && (diverged || skipped > 0)) {
    const why = diverged ? `its fit diverged (RMS error not finite)${run.stopped === "twin" ? " and the run stopped" : ""}` : `${skipped} of ${run.iterations} updates were skipped, the twin's gradient not finite`;
    warnings.push(`the twin did not fit: ${why}; give a smaller --set twinLearningRate (this run's ${run.settings?.twinLearningRate})`);
  }
  if (run.stopped === "readout") warnings.push(`the readout diverged (its cross-entropy not finite) and the run stopped; give a smaller --set readoutLearningRate (this run's ${run.settings?.readoutLearningRate})`);
  if (pinned) warnings.push(`${pinned} of ${run.finalWeights.length} controls ended at a limit of their range`);
  const m = run.module;
  // a calibration that found no phase to fit (lockin.ts: lockinCalibrate) left the configured
  // lag in use, and the next start calibrated again
  const inNoise = run.counters.calibrationsInNoise ?? 0;
  if (m && inNoise) {
    const where = `(${inNoise > 1 ? "starts" : "a start"} where the controls barely moved the output)`;
    if (m.lagFrom === "calibration") warnings.push(`${inNoise} calibration${inNoise > 1 ? "s" : ""} found the tones' phases within the noise ${where}: ${inNoise > 1 ? "those starts" : "that start"} demodulated with the configured lag until a later start's calibration fitted one`);
    else warnings.push(`every calibration (${inNoise}) found the tones' phases within the noise ${where}: the run demodulated with the configured lag (${statusLag(m)}), not a fitted one: check that the device responds at all (connected, biased); if it does, give the chain's lag with --lag, or lift the tones out of the noise with a larger --amplitude-mv`);
  }
  // (a configuration switched to after the calibration calibrates no more: lagFrom says; a
  // run.json written before it was kept, its configuration's calibration)
  if (m && (m.lagFrom ? m.lagFrom === "calibration" : (m.controller.calibrationEpochs ?? 0) > 0) && (m.chain.delaySamples > 0 || m.chain.cornerHz > 0)) {
    // the module's lag model is the simulated chain's own form (a held sample, a delay, an RC
    // read at the end of the sample), yet a fit may sit anywhere along the valley where delay
    // and corner trade off: what matters is how far off the chain's phase it demodulates each
    // tone (a chain with no lag, --no-chain, leaves the device's own to the fit: nothing to
    // compare it with)
    const fitted = { delaySamples: m.status.lagDelaySamples, cornerHz: m.status.lagCornerHz };
    const off = Math.max(...m.toneHz.map((hz) => lagPhaseOff(fitted, m.chain, hz, m.chain.sampleRateHz)));
    if (off > FAR_RADIANS) warnings.push(`the fitted lag (${statusLag(m)}) demodulates a tone ${((off * 180) / Math.PI).toFixed(0)}° off the chain's phase (${m.chain.delaySamples} samples, ${m.chain.cornerHz} Hz): check the calibration (more --calibration epochs) or give the chain with --lag`);
  }
  if (noUpdate) {
    if (m) {
      // the module measures whole epochs: every case's settling and window, calibration first
      const c = m.controller;
      const epochSeconds = (c.cases.length * (c.settleSamples + c.windowSamples)) / c.sampleRateHz;
      const calibration = c.calibrationEpochs ?? 0;
      // a shorter plan only where there is one (order2WindowSamples: planned tones at order 3,
      // not codes) and the probe allowed it, or (not measured) with its condition
      const order2 = m.order2WindowSamples ? `${ORDER_2}, ${m.order2WindowSamples}-sample windows against ${c.windowSamples}` : undefined;
      let shorter = "";
      if (order2 && !m.distortion) shorter = `, or ${order2}, if the device's third-order distortion is below the noise`;
      else if (order2 && m.distortion?.planOrder === 2) shorter = `, or ${order2}: the calibration found the device's third-order distortion not above the noise`;
      warnings.push(`the device-time budget ran out before the first update: an epoch takes ${epochSeconds.toPrecision(3)} s (${c.cases.length} cases of ${c.settleSamples} settling and ${c.windowSamples} window samples)${calibration ? `, and ${calibration} epochs calibrate the lag first` : ""}; give --budget several times ${(epochSeconds * (calibration + 1)).toPrecision(3)} s${shorter}`);
    } else warnings.push(`the device-time budget ran out before the first update: give a larger --budget`);
  }
  return warnings;
}
