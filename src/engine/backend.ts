/**
 * The kernel contract. A backend implements these kernels over contiguous row-major Float32Arrays and nothing else:
 * autograd, shape checks and every composed op live in the engine core, so a second backend (the native addon)
 * only has to supply kernels. Kernels never mutate their inputs and always return a fresh output array, except
 * the optimizer updates, which work in place on the parameter and slot arrays they are given. The registry that
 * picks a backend is in backends/index.ts, beside the implementations.
 */
import type { Shape } from './shape.js';

export type UnaryOp = 'neg' | 'exp' | 'log' | 'sqrt' | 'sin' | 'cos' | 'tanh' | 'sigmoid' | 'relu' | 'abs' | 'sign' | 'step' | 'erf';

export type BinaryOp = 'add' | 'sub' | 'mul' | 'div' | 'pow' | 'maximum' | 'minimum' | 'greater' | 'greaterEqual' | 'equal';

export type ReduceOp = 'sum' | 'max';

/** Activations that can be fused with a bias add into one pass; leaky_relu takes its slope as alpha. */
export type FusedActivation = 'linear' | 'relu' | 'leaky_relu';

/** Explicit spatial padding: [top, bottom, left, right]. */
export type Pads2D = readonly [number, number, number, number];

export interface Conv2DAttrs {
  strides: readonly [number, number];
  dilations: readonly [number, number];
  pads: Pads2D;
}

/** Bias and activation applied to a convolution's output as it is written (act(y + bias) per element). */
export interface ConvEpilogue {
  bias: Float32Array | null;
  act: FusedActivation;
  alpha: number;
}

export interface Pool2DAttrs {
  pool: readonly [number, number];
  strides: readonly [number, number];
  pads: Pads2D;
}

export interface Backend {
  readonly name: string;
  /** y = f(x), elementwise. */
  unary(op: UnaryOp, x: Float32Array): Float32Array;
  /** out = a (op) b with NumPy broadcasting into outShape. */
  binary(op: BinaryOp, a: Float32Array, aShape: Shape, b: Float32Array, bShape: Shape, outShape: Shape): Float32Array;
  /**
   * y = act(x + bias), bias (length = last dimension, or null) repeated along the leading dimensions; for
   * leaky_relu, negative values are multiplied by alpha.
   */
  biasActivation(x: Float32Array, shape: Shape, bias: Float32Array | null, act: FusedActivation, alpha: number): Float32Array;
  /** Its adjoint from the output y: dx = dy·act'(y), and db = Σ dx over the leading dimensions when withBias. */
  biasActivationGrad(
    dy: Float32Array,
    y: Float32Array,
    shape: Shape,
    act: FusedActivation,
    alpha: number,
    withBias: boolean,
  ): [Float32Array, Float32Array | null];
  /**
   * Training-mode batch normalization over every axis but the last: y = γ·(x − mean)/sqrt(var + ε) + β with the
   * batch's mean and biased variance (γ, β null for 1 and 0). Returns [y, mean, variance].
   */
  batchNorm(
    x: Float32Array,
    shape: Shape,
    gamma: Float32Array | null,
    beta: Float32Array | null,
    eps: number,
  ): [Float32Array, Float32Array, Float32Array];
  /** Its adjoint: [dx, dγ, dβ] from dy, x and the batch statistics the forward pass returned. */
  batchNormGrad(
    dy: Float32Array,
    x: Float32Array,
    shape: Shape,
    mean: Float32Array,
    variance: Float32Array,
    gamma: Float32Array | null,
    eps: number,
  ): [Float32Array, Float32Array, Float32Array];
  /**
   * Softmax cross-entropy over the last axis, rows = every other axis: loss[r] =
   * −Σ_j t[r,j]·log softmax(z[r])_j. Returns [loss per row, log-softmax of z] (the latter for the backward pass).
   */
  softmaxCrossEntropy(logits: Float32Array, targets: Float32Array, shape: Shape): [Float32Array, Float32Array];
  /** dz[r,j] = dloss[r]·(softmax(z)[r,j]·Σ_k t[r,k] − t[r,j]), from the log-softmax the forward pass returned. */
  softmaxCrossEntropyGrad(dloss: Float32Array, logSoftmax: Float32Array, targets: Float32Array, shape: Shape): Float32Array;
  /** One SGD step in place (Keras 3): v = μ·v − lr·g; p += v, or p += μ·v − lr·g with Nesterov; p −= lr·g when μ = 0. */
  sgdUpdate(p: Float32Array, g: Float32Array, v: Float32Array | null, lr: number, momentum: number, nesterov: boolean): void;
  /**
   * One Adam step in place (Keras 3): m += (g − m)(1 − β1); v += (g² − v)(1 − β2); with AMSGrad vhat = max(vhat, v);
   * p −= alpha·m / (sqrt(vhat or v) + ε), alpha carrying the bias correction.
   */
  adamUpdate(
    p: Float32Array,
    g: Float32Array,
    m: Float32Array,
    v: Float32Array,
    vhat: Float32Array | null,
    alpha: number,
    beta1: number,
    beta2: number,
    eps: number,
  ): void;
  /**
   * A {0, keep} mask of n values: keep where a uint32 draw u ≥ rate·2³², else 0. The draws come from eight
   * interleaved xoshiro128** streams (element i from stream i mod 8), seeded by 32 draws of `state`, the caller's
   * xoshiro128** state, which advances in place by those 32 draws. Integer-exact, so every backend draws the
   * same mask.
   */
  bernoulliMask(state: Uint32Array, n: number, rate: number, keep: number): Float32Array;
  /** Reduce over `axes` (sorted, unique); the result has those axes kept with size 1. */
  reduce(op: ReduceOp, x: Float32Array, shape: Shape, axes: readonly number[]): Float32Array;
  permute(x: Float32Array, shape: Shape, perm: readonly number[]): Float32Array;
  broadcastTo(x: Float32Array, shape: Shape, outShape: Shape): Float32Array;
  slice(x: Float32Array, shape: Shape, begin: readonly number[], size: readonly number[]): Float32Array;
  /** Zero padding: pads[i] = [before, after] for dimension i. */
  pad(x: Float32Array, shape: Shape, pads: readonly (readonly [number, number])[]): Float32Array;
  /** [m,n] = op(a) · op(b), where op transposes when the flag is set; a is [m,k] (or [k,m]), b is [k,n] (or [n,k]). */
  matmul(a: Float32Array, b: Float32Array, m: number, k: number, n: number, transA: boolean, transB: boolean): Float32Array;
  /** Cross-correlation, x NHWC, w [kh, kw, cin, cout]; output NHWC, with the epilogue (if any) applied. */
  conv2d(x: Float32Array, xShape: Shape, w: Float32Array, wShape: Shape, attrs: Conv2DAttrs, epilogue?: ConvEpilogue): Float32Array;
  conv2dBackpropInput(dy: Float32Array, dyShape: Shape, w: Float32Array, wShape: Shape, xShape: Shape, attrs: Conv2DAttrs): Float32Array;
  conv2dBackpropFilter(x: Float32Array, xShape: Shape, dy: Float32Array, dyShape: Shape, wShape: Shape, attrs: Conv2DAttrs): Float32Array;
  /**
   * Both gradients of a convolution in one call, [dx or null, dw or null] as the flags ask: the same numbers as the
   * two kernels above, which a backend may compute side by side.
   */
  conv2dBackprop(
    x: Float32Array,
    xShape: Shape,
    w: Float32Array,
    wShape: Shape,
    dy: Float32Array,
    dyShape: Shape,
    attrs: Conv2DAttrs,
    wantInput: boolean,
    wantFilter: boolean,
  ): [Float32Array | null, Float32Array | null];
  /** Max pooling, NHWC; padded cells never win. */
  maxPool2d(x: Float32Array, xShape: Shape, attrs: Pool2DAttrs): Float32Array;
  maxPool2dBackprop(x: Float32Array, xShape: Shape, dy: Float32Array, dyShape: Shape, attrs: Pool2DAttrs): Float32Array;
  /** Average pooling, NHWC; padded cells are not counted (TensorFlow's 'same'). */
  avgPool2d(x: Float32Array, xShape: Shape, attrs: Pool2DAttrs): Float32Array;
  avgPool2dBackprop(dy: Float32Array, dyShape: Shape, xShape: Shape, attrs: Pool2DAttrs): Float32Array;
}
