// The update rules for methods that step control voltages on the host (the peers): the
// module's (assembly/optim.ts) SGD, momentum and Adam in double precision, with its defaults
// (host/config-fields.ts), each control clamped to its range after each step and held controls
// left alone. One update rule for every method, so a comparison is not one of optimisers; the
// learning rate is the module's too but for pat's (0.1 V, its own setting: host/methods/pat.ts).
import { OPTIMISERS, type OptimiserName } from "../controller.ts";
import { defaultOf } from "../config-fields.ts";
import { TrainConfigError } from "../errors.ts";
import { DEFAULTS, type TrainOptions } from "../train.ts";

export interface OptimiserSettings {
  optimiser: OptimiserName;
  learningRate: number;
  beta1: number;
  beta2: number;
  epsilon: number;
}

/** The shared options (TrainOptions) optimiserSettings reads. */
export const OPTIMISER_READS = ["optimiser", "learningRate", "beta1", "beta2", "epsilon"] as const satisfies ReadonlyArray<keyof TrainOptions>;

/** The settings a run asks for (TrainOptions: the CLI's flags), the module's defaults where absent. */
export function optimiserSettings(options: Partial<TrainOptions>): OptimiserSettings {
  const optimiser = options.optimiser ?? DEFAULTS.optimiser;
  if (!OPTIMISERS.includes(optimiser)) throw new TrainConfigError("optimiser", `optimiser ${String(optimiser)} is not one of ${OPTIMISERS.join(", ")}`);
  return {
    optimiser,
    learningRate: options.learningRate ?? DEFAULTS.learningRate,
    beta1: options.beta1 ?? DEFAULTS.beta1,
    beta2: options.beta2 ?? DEFAULTS.beta2,
    epsilon: options.epsilon ?? defaultOf("Epsilon"),
  };
}

export class ControlOptimiser {
  private readonly first: Float64Array;
  private readonly second: Float64Array;
  private beta1Power = 1;
  private beta2Power = 1;

  /** Steps `controlsV` in place; `trainable[k]` false holds control k. */
  constructor(
    readonly controlsV: Float64Array,
    readonly rangesV: ReadonlyArray<[number, number]>,
    readonly settings: OptimiserSettings,
    readonly trainable: readonly boolean[] = new Array<boolean>(controlsV.length).fill(true),
  ) {
    this.first = new Float64Array(controlsV.length);
    this.second = new Float64Array(controlsV.length);
  }

  values(): number[] {
    return Array.from(this.controlsV);
  }

  /** Steps refused because the gradient was not finite (the module's SkippedUpdates). */
  skippedUpdates = 0;

  /** One step down `gradient` (∂L/∂control); none where a trainable control's gradient is not
   *  finite (a diverging twin's), as the module's update() refuses one: a NaN step would write
   *  NaN volts. */
  step(gradient: ArrayLike<number>): void {
    if (this.trainable.some((trainable, k) => trainable && !Number.isFinite(gradient[k]))) {
      this.skippedUpdates++;
      return;
    }
    const { optimiser, learningRate, beta1, beta2, epsilon } = this.settings;
    this.beta1Power *= beta1;
    this.beta2Power *= beta2;
    for (let k = 0; k < this.controlsV.length; k++) {
      if (!this.trainable[k]) continue;
      const g = gradient[k];
      let change: number;
      if (optimiser === "sgd") change = g;
      else if (optimiser === "momentum") change = this.first[k] = beta1 * this.first[k] + g;
      else {
        this.first[k] = beta1 * this.first[k] + (1 - beta1) * g;
        this.second[k] = beta2 * this.second[k] + (1 - beta2) * g * g;
        change = this.first[k] / (1 - this.beta1Power) / (Math.sqrt(this.second[k] / (1 - this.beta2Power)) + epsilon);
      }
      const [low, high] = this.rangesV[k];
      this.controlsV[k] = Math.min(high, Math.max(low, this.controlsV[k] - learningRate * change));
    }
  }
}
