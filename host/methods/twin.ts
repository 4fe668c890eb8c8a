// pat's digital twin: a differentiable model f_m(v) of a device's output as a function of all
// its electrode voltages (controls, then inputs, in device order), fitted to measured data.
// The MLP twin is TensorFlow.js: the electrode voltages are scaled onto [−1, 1] by their ranges
// and the output standardised inside the graph, so tf.grad returns ∂f_m/∂v in device units.
// Physics-aware training (pat.ts) only ever asks a twin for vector–Jacobian products.
import { Rng } from "../noise.ts";
import { tf } from "./tf.ts";

/** What pat needs of a model of the device. */
export interface Twin {
  /** What it is, for the Result's settings. */
  readonly description: string;
  /** Row r: weights[r] · ∂f_m/∂v at voltages[r], one entry per electrode (device order). */
  weightedGradients(voltages: number[][], weights: number[]): number[][];
}

export interface MlpTwinSettings {
  /** Units per hidden layer (tanh). */
  hiddenUnits: number;
  hiddenLayers: number;
  /** Passes over the data (Adam, mini-batches). */
  epochs: number;
  batchSize: number;
  learningRate: number;
  /** Weight initialisation and batch order. */
  seed: number;
}

/** Rows a forward pass over the whole sweep takes at a time (fitRmsError): a tidy holds every
 *  layer's activations until it ends, rows × hiddenUnits × hiddenLayers floats a few times over,
 *  so a large sweep through a large twin goes through in slices (the default 1000-point sweep
 *  in one, as before). */
const PREDICT_ROWS = 1024;

/** A multilayer perceptron twin: electrodes → hiddenLayers × hiddenUnits tanh → one output. */
export class MlpTwin implements Twin {
  readonly description: string;
  private readonly weights: tf.Variable[];
  private readonly centreV: tf.Tensor1D;
  private readonly inverseHalfWidth: tf.Tensor1D;
  private readonly outputMean: number;
  private readonly outputScale: number;
  /** Weight initialisation, then batch order. */
  private readonly rng: Rng;
  private rmsError = Number.NaN;

  /**
   * Fits a twin to measured (voltages → output) pairs; `electrodeRangesV` sets the input
   * scaling. `keepGoing` is asked after every mini-batch (it may let the event loop run, for
   * Ctrl-C): false ends the fit there, freeing its tensors, and gives undefined.
   */
  static async fit(
    electrodeRangesV: Array<[number, number]>,
    voltages: number[][],
    outputs: number[],
    settings: MlpTwinSettings,
    keepGoing: () => Promise<boolean> = async () => true,
  ): Promise<MlpTwin | undefined> {
    const twin = new MlpTwin(electrodeRangesV, outputs, settings);
    let fitted = false;
    try {
      fitted = await twin.train(voltages, outputs, settings, keepGoing);
    } finally {
      if (!fitted) twin.dispose();
    }
    return fitted ? twin : undefined;
  }

  /** Root-mean-square error of the fitted twin on its own data, output units. */
  get fitRmsError(): number {
    return this.rmsError;
  }

  /** The untrained network (seeded weights) and the scalings. */
  private constructor(electrodeRangesV: Array<[number, number]>, outputs: number[], settings: MlpTwinSettings) {
    const { hiddenUnits, hiddenLayers, epochs, learningRate, seed } = settings;
    const n = outputs.length;
    const electrodes = electrodeRangesV.length;
    this.description = `MLP ${electrodes} → ${hiddenLayers}×${hiddenUnits} tanh → 1, fitted to ${n} measurements (${epochs} epochs, Adam ${learningRate})`;
    this.centreV = tf.tensor1d(electrodeRangesV.map(([low, high]) => (low + high) / 2));
    this.inverseHalfWidth = tf.tensor1d(electrodeRangesV.map(([low, high]) => 2 / (high - low)));
    this.outputMean = outputs.reduce((a, b) => a + b, 0) / n;
    this.outputScale = Math.sqrt(outputs.reduce((sum, y) => sum + (y - this.outputMean) ** 2, 0) / n) || 1;

    this.rng = new Rng(seed);
    const sizes = [electrodes, ...Array(hiddenLayers).fill(hiddenUnits), 1];
    this.weights = [];
    for (let layer = 0; layer + 1 < sizes.length; layer++) {
      const scale = Math.sqrt(1 / sizes[layer]); // LeCun normal: unit-variance tanh inputs
      const values = Array.from({ length: sizes[layer] * sizes[layer + 1] }, () => this.rng.normal() * scale);
      this.weights.push(tf.variable(tf.tensor2d(values, [sizes[layer], sizes[layer + 1]])), tf.variable(tf.zeros([sizes[layer + 1]])));
    }
  }

  /** Adam on mini-batches for `epochs` passes; false when `keepGoing` stopped it. */
  private async train(voltages: number[][], outputs: number[], settings: MlpTwinSettings, keepGoing: () => Promise<boolean>): Promise<boolean> {
    const { epochs, batchSize, learningRate } = settings;
    const n = outputs.length;
    const inputs = tf.tensor2d(voltages);
    const targets = tf.tensor2d(outputs, [n, 1]);
    const optimiser = tf.train.adam(learningRate);
    const order = Array.from({ length: n }, (_, i) => i);
    try {
      for (let epoch = 0; epoch < epochs; epoch++) {
        for (let i = n - 1; i > 0; i--) {
          const j = Math.floor(this.rng.uniform() * (i + 1));
          [order[i], order[j]] = [order[j], order[i]];
        }
        for (let start = 0; start < n; start += batchSize) {
          const batch = tf.tensor1d(order.slice(start, start + batchSize), "int32");
          tf.tidy(() => {
            const x = tf.gather(inputs, batch) as tf.Tensor2D;
            const y = tf.gather(targets, batch) as tf.Tensor2D;
            optimiser.minimize(() => tf.mean(tf.square(tf.sub(this.standardised(x), tf.div(tf.sub(y, this.outputMean), this.outputScale)))) as tf.Scalar);
          });
          batch.dispose();
          if (!(await keepGoing())) return false;
        }
      }
    } finally {
      optimiser.dispose();
      inputs.dispose();
      targets.dispose();
    }
    const predicted = this.predict(voltages);
    this.rmsError = Math.sqrt(predicted.reduce((sum, y, i) => sum + (y - outputs[i]) ** 2, 0) / n);
    return true;
  }

  /** The twin's outputs at the given electrode voltages (output units). */
  predict(voltages: number[][]): number[] {
    const outputs: number[] = [];
    for (let start = 0; start < voltages.length; start += PREDICT_ROWS) {
      const rows = voltages.slice(start, start + PREDICT_ROWS);
      outputs.push(...tf.tidy(() => this.forward(tf.tensor2d(rows)).dataSync()));
    }
    return outputs;
  }

  weightedGradients(voltages: number[][], weights: number[]): number[][] {
    return tf.tidy(() => {
      const w = tf.tensor2d(weights, [weights.length, 1]);
      const gradient = tf.grad((v: tf.Tensor) => tf.sum(tf.mul(this.forward(v as tf.Tensor2D), w)))(tf.tensor2d(voltages));
      return gradient.arraySync() as number[][];
    });
  }

  /** Frees the tensors (the backend holds them until then). */
  dispose(): void {
    for (const w of this.weights) w.dispose();
    this.centreV.dispose();
    this.inverseHalfWidth.dispose();
  }

  /** f_m in output units. */
  private forward(voltages: tf.Tensor2D): tf.Tensor2D {
    return tf.add(tf.mul(this.standardised(voltages), this.outputScale), this.outputMean) as tf.Tensor2D;
  }

  /** The network: voltages scaled onto [−1, 1] in, standardised output out. */
  private standardised(voltages: tf.Tensor2D): tf.Tensor2D {
    let h = tf.mul(tf.sub(voltages, this.centreV), this.inverseHalfWidth) as tf.Tensor2D;
    const layers = this.weights.length / 2;
    for (let layer = 0; layer < layers; layer++) {
      h = tf.add(tf.matMul(h, this.weights[2 * layer] as tf.Tensor2D), this.weights[2 * layer + 1]) as tf.Tensor2D;
      if (layer + 1 < layers) h = tf.tanh(h) as tf.Tensor2D;
    }
    return h;
  }
}
