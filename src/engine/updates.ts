/**
 * The kernels that are not differentiable ops, for the layers and optimizers above the engine: random keep masks
 * (dropout) and the in-place optimizer steps. Nothing above the engine calls a backend directly; these run the
 * kernel of the backend in use. The optimizer steps take raw arrays because they update a weight's array and its
 * slots in place, outside any graph, fused into one pass each.
 */
import { getBackend } from './backends/index.js';
import type { Random } from './random.js';
import { type Shape, sizeOf } from './shape.js';
import { Tensor } from './tensor.js';

/** A mask of `shape` holding `keep` where a draw from rng's stream falls at or above `rate`, else 0; every backend draws the same mask. */
export function bernoulliMask(shape: Shape, rate: number, keep: number, rng: Random): Tensor {
  const state = rng.getState();
  const data = getBackend().bernoulliMask(state, sizeOf(shape), rate, keep);
  rng.setState(state);
  return new Tensor(data, shape);
}

/** One SGD step in place (Keras 3): v = μ·v − lr·g; p += v, or p += μ·v − lr·g with Nesterov; p −= lr·g without momentum. */
export function sgdStep(p: Float32Array, g: Float32Array, v: Float32Array | null, lr: number, momentum: number, nesterov: boolean): void {
  getBackend().sgdUpdate(p, g, v, lr, momentum, nesterov);
}

/** One Adam step in place (Keras 3), alpha carrying the bias correction; vhat for AMSGrad, else null. */
export function adamStep(
  p: Float32Array,
  g: Float32Array,
  m: Float32Array,
  v: Float32Array,
  vhat: Float32Array | null,
  alpha: number,
  beta1: number,
  beta2: number,
  eps: number,
): void {
  getBackend().adamUpdate(p, g, m, v, vhat, alpha, beta1, beta2, eps);
}
