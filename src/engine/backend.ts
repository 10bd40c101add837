/**
 * The kernel contract, each kernel declared once in KERNELS: its typed arguments and what it returns, with the sizes
 * of the arrays it returns. A backend implements these kernels over contiguous row-major Float32Arrays and nothing
 * else: autograd, shape checks and every composed op live in the engine core. Kernels never mutate their inputs and
 * return fresh arrays, except the optimizer updates, which work in place on the arrays they are given.
 *
 * Adding a kernel touches three files: its entry here, its TypeScript implementation (exported from a file of
 * backends/ts, which the TypeScript backend gathers by name) and its C++ implementation with its binding (a file of
 * native/src, which registers the binding by name). The native backend's wrapper is generic: it allocates the
 * outputs this table sizes, from the buffer pool, and hands them to the binding first. The registry that picks a
 * backend is in backends/index.ts.
 */
import { conv2dOutputShape, pool2dOutputShape, type Shape, sizeOf } from './shape.js';

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

type F32 = Float32Array;

/**
 * The sizes of the arrays a kernel returns: a number for one array, one entry per array of a tuple (null where the
 * kernel returns null), and null for a kernel that works in place and returns nothing.
 */
export type OutputSizes<R> = R extends F32 ? number : R extends void ? null : { [K in keyof R]: R[K] extends F32 ? number : number | null };

/** One kernel's declaration: its signature (a type) and the sizes of what it returns for given arguments. */
export interface KernelSpec<A extends unknown[], R> {
  readonly outputs: (...args: A) => OutputSizes<R>;
  /** The kernel's signature; a type only, never set. */
  readonly signature?: (...args: A) => R;
}

function kernel<A extends unknown[], R>(outputs: (...args: A) => OutputSizes<R>): KernelSpec<A, R> {
  return { outputs };
}

/** The last dimension (rows of channels), 1 for a scalar. */
const channels = (shape: Shape): number => shape[shape.length - 1] ?? 1;

export const KERNELS = {
  /** y = f(x), elementwise. */
  unary: kernel<[op: UnaryOp, x: F32], F32>((_op, x) => x.length),
  /** out = a (op) b with NumPy broadcasting into outShape. */
  binary: kernel<[op: BinaryOp, a: F32, aShape: Shape, b: F32, bShape: Shape, outShape: Shape], F32>((_op, _a, _as, _b, _bs, outShape) =>
    sizeOf(outShape),
  ),
  /**
   * y = act(x + bias), bias (length = last dimension, or null) repeated along the leading dimensions; for
   * leaky_relu, negative values are multiplied by alpha.
   */
  biasActivation: kernel<[x: F32, shape: Shape, bias: F32 | null, act: FusedActivation, alpha: number], F32>((x) => x.length),
  /** Its adjoint from the output y: dx = dy·act'(y), and db = Σ dx over the leading dimensions when withBias. */
  biasActivationGrad: kernel<[dy: F32, y: F32, shape: Shape, act: FusedActivation, alpha: number, withBias: boolean], [F32, F32 | null]>(
    (dy, _y, shape, _act, _alpha, withBias) => [dy.length, withBias ? channels(shape) : null],
  ),
  /**
   * Training-mode batch normalization over every axis but the last: y = γ·(x − mean)/sqrt(var + ε) + β with the
   * batch's mean and biased variance (γ, β null for 1 and 0). Returns [y, mean, variance].
   */
  batchNorm: kernel<[x: F32, shape: Shape, gamma: F32 | null, beta: F32 | null, eps: number], [F32, F32, F32]>((x, shape) => [
    x.length,
    channels(shape),
    channels(shape),
  ]),
  /** Its adjoint: [dx, dγ, dβ] from dy, x and the batch statistics the forward pass returned. */
  batchNormGrad: kernel<[dy: F32, x: F32, shape: Shape, mean: F32, variance: F32, gamma: F32 | null, eps: number], [F32, F32, F32]>(
    (dy, _x, shape) => [dy.length, channels(shape), channels(shape)],
  ),
  /**
   * Softmax cross-entropy over the last axis, rows = every other axis: loss[r] =
   * −Σ_j t[r,j]·log softmax(z[r])_j. Returns [loss per row, log-softmax of z] (the latter for the backward pass).
   */
  softmaxCrossEntropy: kernel<[logits: F32, targets: F32, shape: Shape], [F32, F32]>((logits, _t, shape) => [
    logits.length / channels(shape),
    logits.length,
  ]),
  /** dz[r,j] = dloss[r]·(softmax(z)[r,j]·Σ_k t[r,k] − t[r,j]), from the log-softmax the forward pass returned. */
  softmaxCrossEntropyGrad: kernel<[dloss: F32, logSoftmax: F32, targets: F32, shape: Shape], F32>((_dl, logSoftmax) => logSoftmax.length),
  /** One SGD step in place (Keras 3): v = μ·v − lr·g; p += v, or p += μ·v − lr·g with Nesterov; p −= lr·g when μ = 0. */
  sgdUpdate: kernel<[p: F32, g: F32, v: F32 | null, lr: number, momentum: number, nesterov: boolean], void>(() => null),
  /**
   * One Adam step in place (Keras 3): m += (g − m)(1 − β1); v += (g² − v)(1 − β2); with AMSGrad vhat = max(vhat, v);
   * p −= alpha·m / (sqrt(vhat or v) + ε), alpha carrying the bias correction.
   */
  adamUpdate: kernel<[p: F32, g: F32, m: F32, v: F32, vhat: F32 | null, alpha: number, beta1: number, beta2: number, eps: number], void>(
    () => null,
  ),
  /**
   * A {0, keep} mask of n values: keep where a uint32 draw u ≥ rate·2³², else 0. The draws come from eight
   * interleaved xoshiro128** streams (element i from stream i mod 8), seeded by 32 draws of `state`, the caller's
   * xoshiro128** state, which advances in place by those 32 draws. Integer-exact, so every backend draws the
   * same mask.
   */
  bernoulliMask: kernel<[state: Uint32Array, n: number, rate: number, keep: number], F32>((_state, n) => n),
  /** Reduce over `axes` (sorted, unique); the result has those axes kept with size 1. */
  reduce: kernel<[op: ReduceOp, x: F32, shape: Shape, axes: readonly number[]], F32>((_op, _x, shape, axes) =>
    sizeOf(shape.map((d, i) => (axes.includes(i) ? 1 : d))),
  ),
  permute: kernel<[x: F32, shape: Shape, perm: readonly number[]], F32>((x) => x.length),
  broadcastTo: kernel<[x: F32, shape: Shape, outShape: Shape], F32>((_x, _shape, outShape) => sizeOf(outShape)),
  slice: kernel<[x: F32, shape: Shape, begin: readonly number[], size: readonly number[]], F32>((_x, _shape, _begin, size) => sizeOf(size)),
  /** Zero padding: pads[i] = [before, after] for dimension i. */
  pad: kernel<[x: F32, shape: Shape, pads: readonly (readonly [number, number])[]], F32>((_x, shape, pads) =>
    sizeOf(shape.map((d, i) => d + pads[i][0] + pads[i][1])),
  ),
  /** [m,n] = op(a) · op(b), where op transposes when the flag is set; a is [m,k] (or [k,m]), b is [k,n] (or [n,k]). */
  matmul: kernel<[a: F32, b: F32, m: number, k: number, n: number, transA: boolean, transB: boolean], F32>((_a, _b, m, _k, n) => m * n),
  /** Cross-correlation, x NHWC, w [kh, kw, cin, cout]; output NHWC, with the epilogue (if any) applied. */
  conv2d: kernel<[x: F32, xShape: Shape, w: F32, wShape: Shape, attrs: Conv2DAttrs, epilogue?: ConvEpilogue], F32>(
    (_x, xShape, _w, wShape, attrs) => sizeOf(conv2dOutputShape(xShape, wShape, attrs)),
  ),
  /** Both gradients of a convolution, [dx or null, dw or null] as the flags ask. */
  conv2dBackprop: kernel<
    [x: F32, xShape: Shape, w: F32, wShape: Shape, dy: F32, dyShape: Shape, attrs: Conv2DAttrs, wantInput: boolean, wantFilter: boolean],
    [F32 | null, F32 | null]
  >((_x, xShape, _w, wShape, _dy, _dyShape, _attrs, wantInput, wantFilter) => [
    wantInput ? sizeOf(xShape) : null,
    wantFilter ? sizeOf(wShape) : null,
  ]),
  /** Max pooling, NHWC; padded cells never win. */
  maxPool2d: kernel<[x: F32, xShape: Shape, attrs: Pool2DAttrs], F32>((_x, xShape, attrs) => sizeOf(pool2dOutputShape(xShape, attrs))),
  maxPool2dBackprop: kernel<[x: F32, xShape: Shape, dy: F32, dyShape: Shape, attrs: Pool2DAttrs], F32>((x) => x.length),
  /** Average pooling, NHWC; padded cells are not counted (TensorFlow's 'same'). */
  avgPool2d: kernel<[x: F32, xShape: Shape, attrs: Pool2DAttrs], F32>((_x, xShape, attrs) => sizeOf(pool2dOutputShape(xShape, attrs))),
  avgPool2dBackprop: kernel<[dy: F32, dyShape: Shape, xShape: Shape, attrs: Pool2DAttrs], F32>((_dy, _dyShape, xShape) => sizeOf(xShape)),
};

export type KernelName = keyof typeof KERNELS;

export const kernelNames = Object.keys(KERNELS) as KernelName[];

/** A kernel's function type, from its declaration. */
export type KernelFn<K extends KernelName> = (typeof KERNELS)[K] extends KernelSpec<infer A, infer R> ? (...args: A) => R : never;

/** The kernels; a backend is an object with one function per kernel and a name. */
export type Kernels = { readonly [K in KernelName]: KernelFn<K> };

export interface Backend extends Kernels {
  readonly name: string;
}
