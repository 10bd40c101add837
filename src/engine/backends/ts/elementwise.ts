/** Elementwise kernels of the TypeScript backend. */
import { alloc } from '../../memory.js';
import type { BinaryOp, FusedActivation, UnaryOp } from '../../backend.js';
import { broadcastStrides, sizeOf, type Shape } from '../../shape.js';

export function unary(op: UnaryOp, x: Float32Array): Float32Array {
  const n = x.length;
  const y = alloc(n);
  switch (op) {
    case 'neg':
      for (let i = 0; i < n; i++) y[i] = -x[i];
      break;
    case 'exp':
      for (let i = 0; i < n; i++) y[i] = Math.exp(x[i]);
      break;
    case 'log':
      for (let i = 0; i < n; i++) y[i] = Math.log(x[i]);
      break;
    case 'sqrt':
      for (let i = 0; i < n; i++) y[i] = Math.sqrt(x[i]);
      break;
    case 'sin':
      for (let i = 0; i < n; i++) y[i] = Math.sin(x[i]);
      break;
    case 'cos':
      for (let i = 0; i < n; i++) y[i] = Math.cos(x[i]);
      break;
    case 'tanh':
      for (let i = 0; i < n; i++) y[i] = Math.tanh(x[i]);
      break;
    case 'sigmoid':
      for (let i = 0; i < n; i++) {
        const v = x[i];
        // Split by sign so exp never overflows.
        if (v >= 0) y[i] = 1 / (1 + Math.exp(-v));
        else {
          const e = Math.exp(v);
          y[i] = e / (1 + e);
        }
      }
      break;
    case 'relu':
      for (let i = 0; i < n; i++) y[i] = Math.max(x[i], 0);
      break;
    case 'abs':
      for (let i = 0; i < n; i++) y[i] = Math.abs(x[i]);
      break;
    case 'sign':
      for (let i = 0; i < n; i++) y[i] = Math.sign(x[i]);
      break;
    case 'step':
      for (let i = 0; i < n; i++) y[i] = x[i] > 0 ? 1 : 0;
      break;
    case 'erf':
      for (let i = 0; i < n; i++) y[i] = erf(x[i]);
      break;
    default:
      throw new Error(`unknown unary op '${op as string}'`);
  }
  return y;
}

/** erf with |error| < 1.2e-7 (Numerical Recipes' erfc Chebyshev fit), below float32 resolution. */
export function erf(x: number): number {
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const r =
    t *
    Math.exp(
      -z * z -
        1.26551223 +
        t *
          (1.00002368 +
            t *
              (0.37409196 +
                t *
                  (0.09678418 +
                    t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
    );
  return x >= 0 ? 1 - r : r - 1;
}

function scalarFn(op: BinaryOp): (a: number, b: number) => number {
  switch (op) {
    case 'add':
      return (a, b) => a + b;
    case 'sub':
      return (a, b) => a - b;
    case 'mul':
      return (a, b) => a * b;
    case 'div':
      return (a, b) => a / b;
    case 'pow':
      return (a, b) => a ** b;
    case 'maximum':
      return (a, b) => (a >= b || Number.isNaN(a) ? a : b);
    case 'minimum':
      return (a, b) => (a <= b || Number.isNaN(a) ? a : b);
    case 'greater':
      return (a, b) => (a > b ? 1 : 0);
    case 'greaterEqual':
      return (a, b) => (a >= b ? 1 : 0);
    case 'equal':
      return (a, b) => (a === b ? 1 : 0);
    default:
      throw new Error(`unknown binary op '${op as string}'`);
  }
}

export function binary(op: BinaryOp, a: Float32Array, aShape: Shape, b: Float32Array, bShape: Shape, outShape: Shape): Float32Array {
  const n = sizeOf(outShape);
  const out = alloc(n);
  // Fast paths: equal sizes, a scalar on either side, or b repeating along the leading dims (bias add).
  if (a.length === n && b.length === n) {
    switch (op) {
      case 'add':
        for (let i = 0; i < n; i++) out[i] = a[i] + b[i];
        return out;
      case 'sub':
        for (let i = 0; i < n; i++) out[i] = a[i] - b[i];
        return out;
      case 'mul':
        for (let i = 0; i < n; i++) out[i] = a[i] * b[i];
        return out;
      case 'div':
        for (let i = 0; i < n; i++) out[i] = a[i] / b[i];
        return out;
      default: {
        const f = scalarFn(op);
        for (let i = 0; i < n; i++) out[i] = f(a[i], b[i]);
        return out;
      }
    }
  }
  if (a.length === n && b.length === 1) {
    const s = b[0];
    switch (op) {
      case 'add':
        for (let i = 0; i < n; i++) out[i] = a[i] + s;
        return out;
      case 'sub':
        for (let i = 0; i < n; i++) out[i] = a[i] - s;
        return out;
      case 'mul':
        for (let i = 0; i < n; i++) out[i] = a[i] * s;
        return out;
      case 'div':
        for (let i = 0; i < n; i++) out[i] = a[i] / s;
        return out;
      default: {
        const f = scalarFn(op);
        for (let i = 0; i < n; i++) out[i] = f(a[i], s);
        return out;
      }
    }
  }
  if (b.length === n && a.length === 1) {
    const s = a[0];
    const f = scalarFn(op);
    for (let i = 0; i < n; i++) out[i] = f(s, b[i]);
    return out;
  }
  if (a.length === n && isTrailing(bShape, outShape)) {
    const m = b.length;
    switch (op) {
      case 'add':
        for (let i = 0; i < n; i += m) for (let j = 0; j < m; j++) out[i + j] = a[i + j] + b[j];
        return out;
      case 'sub':
        for (let i = 0; i < n; i += m) for (let j = 0; j < m; j++) out[i + j] = a[i + j] - b[j];
        return out;
      case 'mul':
        for (let i = 0; i < n; i += m) for (let j = 0; j < m; j++) out[i + j] = a[i + j] * b[j];
        return out;
      case 'div':
        for (let i = 0; i < n; i += m) for (let j = 0; j < m; j++) out[i + j] = a[i + j] / b[j];
        return out;
      default:
        break;
    }
  }
  if (a.length === n && isLeading(bShape, outShape)) {
    // b is [..., 1, 1] against [..., H, W]: one value of b per block of a.
    const block = n / b.length;
    const f = scalarFn(op);
    for (let j = 0, i = 0; j < b.length; j++) {
      const s = b[j];
      for (let e = i + block; i < e; i++) out[i] = f(a[i], s);
    }
    return out;
  }
  // General broadcasting with an odometer over the output index.
  const f = scalarFn(op);
  const rank = outShape.length;
  const sa = broadcastStrides(aShape, outShape);
  const sb = broadcastStrides(bShape, outShape);
  const idx = new Array<number>(rank).fill(0);
  let ia = 0;
  let ib = 0;
  const last = rank - 1;
  const inner = rank > 0 ? outShape[last] : 1;
  const sal = rank > 0 ? sa[last] : 0;
  const sbl = rank > 0 ? sb[last] : 0;
  for (let o = 0; o < n; o += inner) {
    let pa = ia;
    let pb = ib;
    for (let j = 0; j < inner; j++) {
      out[o + j] = f(a[pa], b[pb]);
      pa += sal;
      pb += sbl;
    }
    for (let d = last - 1; d >= 0; d--) {
      idx[d]++;
      ia += sa[d];
      ib += sb[d];
      if (idx[d] < outShape[d]) break;
      ia -= sa[d] * outShape[d];
      ib -= sb[d] * outShape[d];
      idx[d] = 0;
    }
  }
  return out;
}

/** True when `shape` equals the trailing dims of `outShape` after dropping leading 1s. */
function isTrailing(shape: Shape, outShape: Shape): boolean {
  const s = [...shape];
  while (s.length > 0 && s[0] === 1) s.shift();
  if (s.length > outShape.length) return false;
  const off = outShape.length - s.length;
  return s.every((d, i) => d === outShape[off + i]);
}

/** True when `shape` matches a prefix of `outShape` and is 1 everywhere after it. */
function isLeading(shape: Shape, outShape: Shape): boolean {
  if (shape.length !== outShape.length) return false;
  let i = 0;
  while (i < shape.length && shape[i] === outShape[i]) i++;
  for (let j = i; j < shape.length; j++) if (shape[j] !== 1) return false;
  return true;
}

/** The slope below zero: 0 for relu, alpha for leaky_relu, 1 (no change) for linear. */
function negativeSlope(act: FusedActivation, alpha: number): number {
  return act === 'relu' ? 0 : act === 'leaky_relu' ? alpha : 1;
}

export function biasActivation(
  x: Float32Array,
  shape: Shape,
  bias: Float32Array | null,
  act: FusedActivation,
  alpha: number,
): Float32Array {
  const n = x.length;
  const c = shape.length > 0 ? shape[shape.length - 1] : 1;
  const slope = negativeSlope(act, alpha);
  const y = alloc(n);
  for (let i = 0; i < n; i += c) {
    for (let j = 0; j < c; j++) {
      const v = bias ? x[i + j] + bias[j] : x[i + j];
      y[i + j] = v > 0 || slope === 1 ? v : act === 'relu' ? 0 : v * slope;
    }
  }
  return y;
}

export function biasActivationGrad(
  dy: Float32Array,
  y: Float32Array,
  shape: Shape,
  act: FusedActivation,
  alpha: number,
  withBias: boolean,
): [Float32Array, Float32Array | null] {
  const n = dy.length;
  const c = shape.length > 0 ? shape[shape.length - 1] : 1;
  const slope = negativeSlope(act, alpha);
  const dx = slope === 1 ? dy.slice() : alloc(n);
  if (slope !== 1) for (let i = 0; i < n; i++) dx[i] = y[i] > 0 ? dy[i] : dy[i] * slope;
  if (!withBias) return [dx, null];
  const acc = new Float64Array(c);
  for (let i = 0; i < n; i += c) for (let j = 0; j < c; j++) acc[j] += dx[i + j];
  return [dx, Float32Array.from(acc)];
}

export function batchNorm(
  x: Float32Array,
  shape: Shape,
  gamma: Float32Array | null,
  beta: Float32Array | null,
  eps: number,
): [Float32Array, Float32Array, Float32Array] {
  const c = shape[shape.length - 1];
  const rows = x.length / c;
  const sum = new Float64Array(c);
  for (let i = 0; i < x.length; i += c) for (let j = 0; j < c; j++) sum[j] += x[i + j];
  const mean = Float32Array.from(sum, (s) => s / rows);
  const sq = new Float64Array(c);
  for (let i = 0; i < x.length; i += c)
    for (let j = 0; j < c; j++) {
      const d = x[i + j] - mean[j];
      sq[j] += d * d;
    }
  const variance = Float32Array.from(sq, (s) => s / rows);
  const scale = Float64Array.from(variance, (v, j) => (gamma ? gamma[j] : 1) / Math.sqrt(v + eps));
  const y = alloc(x.length);
  for (let i = 0; i < x.length; i += c) for (let j = 0; j < c; j++) y[i + j] = (x[i + j] - mean[j]) * scale[j] + (beta ? beta[j] : 0);
  return [y, mean, variance];
}

export function batchNormGrad(
  dy: Float32Array,
  x: Float32Array,
  shape: Shape,
  mean: Float32Array,
  variance: Float32Array,
  gamma: Float32Array | null,
  eps: number,
): [Float32Array, Float32Array, Float32Array] {
  const c = shape[shape.length - 1];
  const rows = x.length / c;
  const invStd = Float64Array.from(variance, (v) => 1 / Math.sqrt(v + eps));
  const sumDy = new Float64Array(c);
  const sumDyXhat = new Float64Array(c);
  for (let i = 0; i < x.length; i += c) {
    for (let j = 0; j < c; j++) {
      sumDy[j] += dy[i + j];
      sumDyXhat[j] += dy[i + j] * (x[i + j] - mean[j]) * invStd[j];
    }
  }
  // dx = γ·invStd/N · (N·dy − Σdy − x̂·Σ(dy·x̂)).
  const dx = alloc(x.length);
  for (let i = 0; i < x.length; i += c) {
    for (let j = 0; j < c; j++) {
      const xhat = (x[i + j] - mean[j]) * invStd[j];
      dx[i + j] = (((gamma ? gamma[j] : 1) * invStd[j]) / rows) * (rows * dy[i + j] - sumDy[j] - xhat * sumDyXhat[j]);
    }
  }
  return [dx, Float32Array.from(sumDyXhat), Float32Array.from(sumDy)];
}
