// TensorFlow.js for the host's digital models (pat's twin and readout, phyll's layers): @tensorflow/tfjs-core
// on the WebAssembly backend (SIMD; one thread under Node), with the gradients those models use
// registered. The models are small (tens of units, batches of 64), so per-op overhead rules: the
// WebAssembly backend fits pat's twin about 1.8 times as fast as the pure-JS CPU backend, to
// float32 rounding of the same weights (gradients are defined in tfjs-core, for every backend).
// Why the registration: tfjs-core's CommonJS build (what Node loads) carries no gradient
// functions; the union package registers them all through dist/register_all_gradients.js,
// which Node cannot load as ES modules (its import of './gradients' names both a file and a
// directory). The per-op gradient files load fine and register into the same global
// registry, so we register the ones our ops need; tf.grad names any op that is missing.
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-wasm";
import { addGradConfig } from "@tensorflow/tfjs-core/dist/gradients/Add_grad.js";
import { batchMatMulGradConfig } from "@tensorflow/tfjs-core/dist/gradients/BatchMatMul_grad.js";
import { meanGradConfig } from "@tensorflow/tfjs-core/dist/gradients/Mean_grad.js";
import { multiplyGradConfig } from "@tensorflow/tfjs-core/dist/gradients/Multiply_grad.js";
import { negGradConfig } from "@tensorflow/tfjs-core/dist/gradients/Neg_grad.js";
import { divGradConfig } from "@tensorflow/tfjs-core/dist/gradients/RealDiv_grad.js";
import { reluGradConfig } from "@tensorflow/tfjs-core/dist/gradients/Relu_grad.js";
import { reshapeGradConfig } from "@tensorflow/tfjs-core/dist/gradients/Reshape_grad.js";
import { softplusGradConfig } from "@tensorflow/tfjs-core/dist/gradients/Softplus_grad.js";
import { squareGradConfig } from "@tensorflow/tfjs-core/dist/gradients/Square_grad.js";
import { subGradConfig } from "@tensorflow/tfjs-core/dist/gradients/Sub_grad.js";
import { sumGradConfig } from "@tensorflow/tfjs-core/dist/gradients/Sum_grad.js";
import { tanhGradConfig } from "@tensorflow/tfjs-core/dist/gradients/Tanh_grad.js";

for (const config of [addGradConfig, batchMatMulGradConfig, meanGradConfig, multiplyGradConfig, negGradConfig, divGradConfig, reluGradConfig, reshapeGradConfig, softplusGradConfig, squareGradConfig, subGradConfig, sumGradConfig, tanhGradConfig]) {
  tf.registerGradient(config);
}
// Production mode: no per-op debug checks, and no console banner suggesting tfjs-node.
tf.enableProdMode();
await tf.setBackend("wasm");

export { tf };
