/**
 * The native backend: the same kernel contract, implemented by the C++ addon in native/ (built by node-gyp at
 * install). Kernels read the Float32Arrays in place and write into outputs allocated here, so nothing is copied
 * across the JS/C++ boundary. The addon picks AVX-512, AVX2 or portable code at run time and runs a thread pool
 * (all cores by default; CONVLAB_THREADS or setThreads to change).
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import type { Backend, BinaryOp, Conv2DAttrs, FusedActivation, Pool2DAttrs, UnaryOp } from '../../backend.js';
import { allocRaw } from '../../memory.js';
import { sizeOf, type Shape } from '../../shape.js';

interface Addon {
  unary(op: number, x: Float32Array, out: Float32Array): void;
  binary(op: number, a: Float32Array, aShape: Shape, b: Float32Array, bShape: Shape, out: Float32Array, outShape: Shape): void;
  biasActivation(x: Float32Array, c: number, bias: Float32Array | null, slope: number, out: Float32Array): void;
  biasActivationGrad(dy: Float32Array, y: Float32Array, c: number, slope: number, dx: Float32Array, db: Float32Array | null): void;
  batchNorm(
    x: Float32Array,
    c: number,
    gamma: Float32Array | null,
    beta: Float32Array | null,
    eps: number,
    y: Float32Array,
    mean: Float32Array,
    variance: Float32Array,
  ): void;
  batchNormGrad(
    dy: Float32Array,
    x: Float32Array,
    c: number,
    mean: Float32Array,
    variance: Float32Array,
    gamma: Float32Array | null,
    eps: number,
    dx: Float32Array,
    dgamma: Float32Array,
    dbeta: Float32Array,
  ): void;
  softmaxCrossEntropy(z: Float32Array, t: Float32Array, c: number, loss: Float32Array, logp: Float32Array): void;
  softmaxCrossEntropyGrad(dl: Float32Array, logp: Float32Array, t: Float32Array, c: number, dz: Float32Array): void;
  sgdUpdate(p: Float32Array, g: Float32Array, v: Float32Array | null, lr: number, momentum: number, nesterov: boolean): void;
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
  bernoulliMask(state: Uint32Array, rate: number, keep: number, out: Float32Array): void;
  reduce(max: boolean, x: Float32Array, shape: Shape, axes: readonly number[], out: Float32Array): void;
  permute(x: Float32Array, shape: Shape, perm: readonly number[], out: Float32Array): void;
  broadcastTo(x: Float32Array, shape: Shape, outShape: Shape, out: Float32Array): void;
  slice(x: Float32Array, shape: Shape, begin: readonly number[], size: readonly number[], out: Float32Array): void;
  pad(x: Float32Array, shape: Shape, pads: number[], out: Float32Array): void;
  matmul(a: Float32Array, b: Float32Array, m: number, k: number, n: number, transA: boolean, transB: boolean, out: Float32Array): void;
  conv2d(
    x: Float32Array,
    xShape: Shape,
    w: Float32Array,
    wShape: Shape,
    attrs: number[],
    out: Float32Array,
    outShape: Shape,
    bias: Float32Array | null,
    slope: number,
    epilogue: boolean,
  ): void;
  conv2dBackpropInput(
    dy: Float32Array,
    dyShape: Shape,
    w: Float32Array,
    wShape: Shape,
    xShape: Shape,
    attrs: number[],
    out: Float32Array,
  ): void;
  conv2dBackpropFilter(
    x: Float32Array,
    xShape: Shape,
    dy: Float32Array,
    dyShape: Shape,
    wShape: Shape,
    attrs: number[],
    out: Float32Array,
  ): void;
  conv2dBackprop(
    x: Float32Array,
    xShape: Shape,
    w: Float32Array,
    wShape: Shape,
    dy: Float32Array,
    dyShape: Shape,
    attrs: number[],
    dx: Float32Array | null,
    dw: Float32Array | null,
  ): void;
  maxPool2d(x: Float32Array, xShape: Shape, attrs: number[], out: Float32Array, outShape: Shape): void;
  maxPool2dBackprop(x: Float32Array, xShape: Shape, dy: Float32Array, dyShape: Shape, attrs: number[], out: Float32Array): void;
  avgPool2d(x: Float32Array, xShape: Shape, attrs: number[], out: Float32Array, outShape: Shape): void;
  avgPool2dBackprop(dy: Float32Array, dyShape: Shape, xShape: Shape, attrs: number[], out: Float32Array): void;
  setThreads(n: number): void;
  setConvMode(mode: number): void;
  getThreads(): number;
  isa(): string;
}

// Codes in the order of the C++ enums in native/src/kernels.h.
const UNARY: UnaryOp[] = ['neg', 'exp', 'log', 'sqrt', 'sin', 'cos', 'tanh', 'sigmoid', 'relu', 'abs', 'sign', 'step', 'erf'];
const BINARY: BinaryOp[] = ['add', 'sub', 'mul', 'div', 'pow', 'maximum', 'minimum', 'greater', 'greaterEqual', 'equal'];

/** The built addon; CONVLAB_ADDON names another build (npm run test:asan uses a sanitizer build). */
export const ADDON_PATH =
  process.env.CONVLAB_ADDON || fileURLToPath(new URL('../../../../../native/build/Release/convlab_native.node', import.meta.url));

let addon: Addon | null | undefined;
let loadError = '';

/** The addon, or null with the reason in nativeLoadError() when it is not built or cannot load here. */
export function loadAddon(): Addon | null {
  if (addon !== undefined) return addon;
  if (!existsSync(ADDON_PATH)) {
    loadError = 'the native addon is not built (npm install builds it; it needs a C++17 compiler)';
    addon = null;
    return addon;
  }
  try {
    addon = createRequire(import.meta.url)(ADDON_PATH) as Addon;
  } catch (e) {
    loadError = `the native addon failed to load: ${(e as Error).message.split('\n')[0]}`;
    addon = null;
  }
  return addon;
}

export function nativeLoadError(): string {
  return loadError;
}

/** The slope below zero that the native kernel applies: 0 relu, alpha leaky_relu, 1 linear. */
function slopeOf(act: FusedActivation, alpha: number): number {
  return act === 'relu' ? 0 : act === 'leaky_relu' ? alpha : 1;
}

function convAttrs(a: Conv2DAttrs): number[] {
  return [a.strides[0], a.strides[1], a.dilations[0], a.dilations[1], ...a.pads];
}

function poolAttrs(a: Pool2DAttrs): number[] {
  return [a.pool[0], a.pool[1], a.strides[0], a.strides[1], ...a.pads];
}

function convOut(xShape: Shape, wShape: Shape, a: Conv2DAttrs): number[] {
  const [n, h, w] = xShape;
  const [pt, pb, pl, pr] = a.pads;
  const oh = Math.floor((h + pt + pb - ((wShape[0] - 1) * a.dilations[0] + 1)) / a.strides[0]) + 1;
  const ow = Math.floor((w + pl + pr - ((wShape[1] - 1) * a.dilations[1] + 1)) / a.strides[1]) + 1;
  return [n, oh, ow, wShape[3]];
}

function poolOut(xShape: Shape, a: Pool2DAttrs): number[] {
  const [n, h, w, c] = xShape;
  const [pt, pb, pl, pr] = a.pads;
  return [n, Math.floor((h + pt + pb - a.pool[0]) / a.strides[0]) + 1, Math.floor((w + pl + pr - a.pool[1]) / a.strides[1]) + 1, c];
}

export function createNativeBackend(): Backend {
  const lib = loadAddon();
  if (!lib) throw new Error(`native backend unavailable: ${loadError}`);
  return {
    name: 'native',
    unary(op, x) {
      const out = allocRaw(x.length);
      lib.unary(UNARY.indexOf(op), x, out);
      return out;
    },
    binary(op, a, aShape, b, bShape, outShape) {
      const out = allocRaw(sizeOf(outShape));
      lib.binary(BINARY.indexOf(op), a, aShape, b, bShape, out, outShape);
      return out;
    },
    biasActivation(x, shape, bias, act, alpha) {
      const out = allocRaw(x.length);
      lib.biasActivation(x, shape[shape.length - 1] ?? 1, bias, slopeOf(act, alpha), out);
      return out;
    },
    biasActivationGrad(dy, y, shape, act, alpha, withBias) {
      const c = shape[shape.length - 1] ?? 1;
      const dx = allocRaw(dy.length);
      const db = withBias ? allocRaw(c) : null;
      lib.biasActivationGrad(dy, y, c, slopeOf(act, alpha), dx, db);
      return [dx, db];
    },
    batchNorm(x, shape, gamma, beta, eps) {
      const c = shape[shape.length - 1];
      const y = allocRaw(x.length);
      const mean = allocRaw(c);
      const variance = allocRaw(c);
      lib.batchNorm(x, c, gamma, beta, eps, y, mean, variance);
      return [y, mean, variance];
    },
    batchNormGrad(dy, x, shape, mean, variance, gamma, eps) {
      const c = shape[shape.length - 1];
      const dx = allocRaw(x.length);
      const dgamma = allocRaw(c);
      const dbeta = allocRaw(c);
      lib.batchNormGrad(dy, x, c, mean, variance, gamma, eps, dx, dgamma, dbeta);
      return [dx, dgamma, dbeta];
    },
    softmaxCrossEntropy(z, t, shape) {
      const c = shape[shape.length - 1] ?? 1;
      const loss = allocRaw(c === 0 ? 0 : z.length / c);
      const logp = allocRaw(z.length);
      lib.softmaxCrossEntropy(z, t, c, loss, logp);
      return [loss, logp];
    },
    softmaxCrossEntropyGrad(dl, logp, t, shape) {
      const dz = allocRaw(logp.length);
      lib.softmaxCrossEntropyGrad(dl, logp, t, shape[shape.length - 1] ?? 1, dz);
      return dz;
    },
    sgdUpdate(p, g, v, lr, momentum, nesterov) {
      lib.sgdUpdate(p, g, v, lr, momentum, nesterov);
    },
    adamUpdate(p, g, m, v, vhat, alpha, beta1, beta2, eps) {
      lib.adamUpdate(p, g, m, v, vhat, alpha, beta1, beta2, eps);
    },
    bernoulliMask(state, n, rate, keep) {
      const out = allocRaw(n);
      lib.bernoulliMask(state, rate, keep, out);
      return out;
    },
    reduce(op, x, shape, axes) {
      const out = allocRaw(sizeOf(shape.map((d, i) => (axes.includes(i) ? 1 : d))));
      lib.reduce(op === 'max', x, shape, axes, out);
      return out;
    },
    permute(x, shape, perm) {
      const out = allocRaw(x.length);
      lib.permute(x, shape, perm, out);
      return out;
    },
    broadcastTo(x, shape, outShape) {
      const out = allocRaw(sizeOf(outShape));
      lib.broadcastTo(x, shape, outShape, out);
      return out;
    },
    slice(x, shape, begin, size) {
      const out = allocRaw(sizeOf(size));
      lib.slice(x, shape, begin, size, out);
      return out;
    },
    pad(x, shape, pads) {
      const out = allocRaw(sizeOf(shape.map((d, i) => d + pads[i][0] + pads[i][1])));
      lib.pad(
        x,
        shape,
        pads.flatMap((p) => [p[0], p[1]]),
        out,
      );
      return out;
    },
    matmul(a, b, m, k, n, transA, transB) {
      const out = allocRaw(m * n);
      lib.matmul(a, b, m, k, n, transA, transB, out);
      return out;
    },
    conv2d(x, xShape, w, wShape, attrs, epilogue) {
      const outShape = convOut(xShape, wShape, attrs);
      const out = allocRaw(sizeOf(outShape));
      const slope = epilogue ? slopeOf(epilogue.act, epilogue.alpha) : 1;
      lib.conv2d(x, xShape, w, wShape, convAttrs(attrs), out, outShape, epilogue?.bias ?? null, slope, Boolean(epilogue));
      return out;
    },
    conv2dBackpropInput(dy, dyShape, w, wShape, xShape, attrs) {
      const out = allocRaw(sizeOf(xShape));
      lib.conv2dBackpropInput(dy, dyShape, w, wShape, xShape, convAttrs(attrs), out);
      return out;
    },
    conv2dBackpropFilter(x, xShape, dy, dyShape, wShape, attrs) {
      const out = allocRaw(sizeOf(wShape));
      lib.conv2dBackpropFilter(x, xShape, dy, dyShape, wShape, convAttrs(attrs), out);
      return out;
    },
    conv2dBackprop(x, xShape, w, wShape, dy, dyShape, attrs, wantInput, wantFilter) {
      const dx = wantInput ? allocRaw(sizeOf(xShape)) : null;
      const dw = wantFilter ? allocRaw(sizeOf(wShape)) : null;
      lib.conv2dBackprop(x, xShape, w, wShape, dy, dyShape, convAttrs(attrs), dx, dw);
      return [dx, dw];
    },
    maxPool2d(x, xShape, attrs) {
      const outShape = poolOut(xShape, attrs);
      const out = allocRaw(sizeOf(outShape));
      lib.maxPool2d(x, xShape, poolAttrs(attrs), out, outShape);
      return out;
    },
    maxPool2dBackprop(x, xShape, dy, dyShape, attrs) {
      const out = allocRaw(x.length);
      lib.maxPool2dBackprop(x, xShape, dy, dyShape, poolAttrs(attrs), out);
      return out;
    },
    avgPool2d(x, xShape, attrs) {
      const outShape = poolOut(xShape, attrs);
      const out = allocRaw(sizeOf(outShape));
      lib.avgPool2d(x, xShape, poolAttrs(attrs), out, outShape);
      return out;
    },
    avgPool2dBackprop(dy, dyShape, xShape, attrs) {
      const out = allocRaw(sizeOf(xShape));
      lib.avgPool2dBackprop(dy, dyShape, xShape, poolAttrs(attrs), out);
      return out;
    },
  };
}

/** Threads the native kernels use (1 when the addon is not loaded: the TypeScript backend is single-threaded). */
export function getThreads(): number {
  return loadAddon()?.getThreads() ?? 1;
}

export function setThreads(n: number): void {
  if (!Number.isInteger(n) || n < 1) throw new Error(`threads must be a positive integer, got ${n}`);
  const lib = loadAddon();
  if (!lib) throw new Error(`cannot set threads: ${loadError}`);
  lib.setThreads(n);
}

/**
 * How the native backend computes convolutions: 'auto' picks by shape, 'gemm' always uses im2col + GEMM,
 * 'direct' uses the direct AVX-512 kernels wherever the CPU has them, and 'winograd' uses Winograd F(2×2, 3×3)
 * for every 3×3 stride-1 convolution with ≥ 64 channels each way. For conformance tests and benchmarks.
 */
export function setConvAlgorithm(mode: 'auto' | 'gemm' | 'direct' | 'winograd'): void {
  const lib = loadAddon();
  if (!lib) throw new Error(`cannot set the convolution algorithm: ${loadError}`);
  lib.setConvMode(['auto', 'gemm', 'direct', 'winograd'].indexOf(mode));
}

/** The instruction set the native GEMM uses: avx512, avx2 or portable. */
export function nativeIsa(): string | null {
  return loadAddon()?.isa() ?? null;
}
