/** The one place the engine imports TensorFlow.js from (tfjs core + cpu; wasm registered too). */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';

export { tf };
