// Where `--plan-order auto` switches to order 3: the host's rule (planOrderFor, host/controller.ts)
// on the cross-cubic device (the network's gradient plus every (v_j − v0)²(v_k − v0) and
// (v_j − v0)(v_k − v0)², CROSS_CUBIC × scale) across scales, with an order-2 plan. Per scale:
// order 2's error over the tone bound against the tone-smoothed gradient (what the third-order
// products landing on tones add to noise; 1 without them), RMS over noise seeds, and the fraction
// of noise seeds for which the rule, after DISTORTION_EPOCHS calibration windows, chooses order
// 3. Then the error/bound at which half the seeds choose order 3 (linear interpolation).
//   npx tsx scripts/plan-order-trigger.ts [controls=128] [window=4096] [seeds=30] [scales=0.001,0.0025,0.004,0.006,0.01]
import {
  resistorProblem, probeBase, methodConfig, probeRow, scenarioChain, measureDistortion, rowSamples, distortionSamples,
  TONE_AMPLITUDE_V, toneBoundSquaredError, CROSS_CUBIC, DISTORTION_EPOCHS, SAMPLE_RATE_HZ,
} from '../host/bench/fidelity.ts';
import { PolynomialDevice, RecordingDevice, ReplayDevice } from '../host/bench/devices.ts';
import { relativeError } from '../host/metrics.ts';

export interface TriggerRow { scale: number; errorOverBound: number; order3Fraction: number }

/** The sweep: one row per scale of CROSS_CUBIC. The device is static, so each scale records it
 *  once per run length and replays it under every noise seed. */
export function triggerSweep(controls: number, window: number, seeds: number, scales: number[]): TriggerRow[] {
  const { operatingV, exact } = resistorProblem(controls);
  const center = operatingV.subarray(0, controls);
  const bound = Math.sqrt(toneBoundSquaredError(controls, window));
  return scales.map((scale) => {
    const device = new PolynomialDevice(exact, center, 0, 0, CROSS_CUBIC * scale);
    const base = { ...probeBase(device, operatingV), inputs: [], cases: [{ inputsV: [], target: 0 }] }; // controls only
    const config = methodConfig(base, { method: 'multitone', budgetSamples: window, amplitudeV: TONE_AMPLITUDE_V, planOrder: 2 });
    const smooth = device.toneSmoothedGradient(new Array(controls).fill(TONE_AMPLITUDE_V));
    const smoothNorm = Math.hypot(...smooth);
    const row = new RecordingDevice(device, rowSamples(config));
    probeRow(config, row, { sampleRateHz: SAMPLE_RATE_HZ });
    const calibration = new RecordingDevice(device, distortionSamples(config));
    measureDistortion(config, calibration, { sampleRateHz: SAMPLE_RATE_HZ });
    let squares = 0;
    let order3 = 0;
    for (let seed = 1; seed <= seeds; seed++) {
      const estimate = probeRow(config, new ReplayDevice(device, row.outputs), scenarioChain('white', seed)).row;
      squares += (relativeError(estimate, smooth) * smoothNorm) ** 2;
      if (measureDistortion(config, new ReplayDevice(device, calibration.outputs), scenarioChain('white', seed)).planOrderChosen === 3) order3++;
    }
    return { scale, errorOverBound: Math.sqrt(squares / seeds) / bound, order3Fraction: order3 / seeds };
  });
}

/** The error/bound at which the fraction choosing order 3 crosses one half (undefined if it does not). */
export function halfwayPoint(rows: TriggerRow[]): number | undefined {
  for (let i = 1; i < rows.length; i++) {
    const [a, b] = [rows[i - 1], rows[i]];
    if (a.order3Fraction < 0.5 && b.order3Fraction >= 0.5) {
      return a.errorOverBound + ((0.5 - a.order3Fraction) / (b.order3Fraction - a.order3Fraction)) * (b.errorOverBound - a.errorOverBound);
    }
  }
  return undefined;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [controls, window, seeds] = [128, 4096, 30].map((d, i) => Number(process.argv[2 + i] ?? d));
  const scales = (process.argv[5] ?? '0.001,0.0025,0.004,0.006,0.01').split(',').map(Number);
  const started = performance.now();
  const rows = triggerSweep(controls, window, seeds, scales);
  console.log(`${controls} controls, ${window}-sample window, order-2 plan, ${seeds} noise seeds, ${DISTORTION_EPOCHS} calibration windows`);
  console.log('cross-cubic scale  order-2 error / tone bound  order 3 chosen');
  for (const r of rows) console.log(`${String(r.scale).padStart(17)}  ${r.errorOverBound.toFixed(2).padStart(26)}  ${(r.order3Fraction * seeds).toFixed(0)}/${seeds}`);
  const half = halfwayPoint(rows);
  console.log(`half the seeds choose order 3 at error/bound ${half === undefined ? 'outside the sweep' : half.toFixed(2)} (${((performance.now() - started) / 1000).toFixed(1)} s)`);
}
