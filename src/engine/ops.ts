/**
 * The primitive ops: the engine's small, closed set. Each one runs a backend kernel and records its gradient rule,
 * written with these same ops so it holds on every backend. Everything else (softmax, losses, layers) is composed
 * from these in composed.ts and never needs a gradient of its own.
 */
import type { BinaryOp, Conv2DAttrs, FusedActivation, Pool2DAttrs, UnaryOp } from './backend.js';
import { getBackend } from './backends/index.js';
import {
  broadcastShapes,
  conv2dOutputShape,
  formatShape,
  normalizeAxes,
  pool2dOutputShape,
  shapesEqual,
  sizeOf,
  type Shape,
} from './shape.js';
import { record, Tensor } from './tensor.js';

export type TensorLike = Tensor | number;

export function scalar(v: number): Tensor {
  return new Tensor(new Float32Array([v]), []);
}

/** Nested lists of numbers, as Keras users write them: [[1, 2], [3, 4]]. */
export type NestedArray = number | readonly NestedArray[];

/**
 * A tensor from a flat array (with its shape, default 1-D) or from nested lists, whose shape is inferred and
 * checked to be rectangular: tensor([[1, 2], [3, 4]]) is [2, 2].
 */
export function tensor(values: ArrayLike<number> | readonly NestedArray[], shape?: Shape): Tensor {
  const nested = Array.isArray(values) && values.some((v) => Array.isArray(v));
  if (!nested) {
    const data = Float32Array.from(values as ArrayLike<number>);
    const s = shape ?? [data.length];
    if (sizeOf(s) !== data.length)
      throw new Error(`tensor: ${data.length} values do not fill shape ${formatShape(s)} (${sizeOf(s)} values)`);
    return new Tensor(data, s);
  }
  const inferred: number[] = [];
  for (let v: NestedArray = values as NestedArray; Array.isArray(v); v = (v as readonly NestedArray[])[0])
    inferred.push((v as readonly NestedArray[]).length);
  const flat: number[] = [];
  const walk = (v: NestedArray, depth: number, where: string): void => {
    if (depth === inferred.length) {
      if (typeof v !== 'number') throw new Error(`tensor: ${where} is a list where a number was expected (the lists are not rectangular)`);
      flat.push(v);
      return;
    }
    if (!Array.isArray(v) || v.length !== inferred[depth])
      throw new Error(
        `tensor: ${where} has ${Array.isArray(v) ? `${v.length} entries` : 'a number'}, expected a list of ${inferred[depth]} (the lists are not rectangular)`,
      );
    v.forEach((w, i) => walk(w, depth + 1, `${where}[${i}]`));
  };
  walk(values as NestedArray, 0, 'values');
  if (shape && sizeOf(shape) !== flat.length)
    throw new Error(`tensor: nested lists of shape ${formatShape(inferred)} do not fill shape ${formatShape(shape)}`);
  return new Tensor(Float32Array.from(flat), shape ?? inferred);
}

export function zeros(shape: Shape): Tensor {
  return new Tensor(new Float32Array(sizeOf(shape)), shape);
}

export function full(shape: Shape, value: number): Tensor {
  return new Tensor(new Float32Array(sizeOf(shape)).fill(value), shape);
}

function lift(x: TensorLike): Tensor {
  return typeof x === 'number' ? scalar(x) : x;
}

// ---- unary -------------------------------------------------------------------------------------------------

function unaryOp(op: UnaryOp, x: Tensor, grad: ((dy: Tensor, x: Tensor, y: Tensor) => Tensor) | null): Tensor {
  const y = new Tensor(getBackend().unary(op, x.data), x.shape);
  if (!grad) return y;
  return record(y, op, [x], (dy) => [grad(dy, x, y)]);
}

export const neg = (x: Tensor): Tensor => unaryOp('neg', x, (dy) => neg(dy));
export const exp = (x: Tensor): Tensor => unaryOp('exp', x, (dy, _x, y) => mul(dy, y));
export const log = (x: Tensor): Tensor => unaryOp('log', x, (dy, xx) => div(dy, xx));
export const sqrt = (x: Tensor): Tensor => unaryOp('sqrt', x, (dy, _x, y) => div(dy, mul(y, 2)));
export const sin = (x: Tensor): Tensor => unaryOp('sin', x, (dy, xx) => mul(dy, cos(xx)));
export const cos = (x: Tensor): Tensor => unaryOp('cos', x, (dy, xx) => neg(mul(dy, sin(xx))));
export const tanh = (x: Tensor): Tensor => unaryOp('tanh', x, (dy, _x, y) => mul(dy, sub(1, mul(y, y))));
export const sigmoid = (x: Tensor): Tensor => unaryOp('sigmoid', x, (dy, _x, y) => mul(dy, mul(y, sub(1, y))));
export const relu = (x: Tensor): Tensor => unaryOp('relu', x, (dy, xx) => mul(dy, step(xx)));
export const abs = (x: Tensor): Tensor => unaryOp('abs', x, (dy, xx) => mul(dy, sign(xx)));
/** Not differentiable (its derivative is zero almost everywhere). */
export const sign = (x: Tensor): Tensor => unaryOp('sign', x, null);
/** 1 where x > 0, else 0. Not differentiable. */
export const step = (x: Tensor): Tensor => unaryOp('step', x, null);
export const erf = (x: Tensor): Tensor => unaryOp('erf', x, (dy, xx) => mul(dy, mul(exp(neg(mul(xx, xx))), 2 / Math.sqrt(Math.PI))));

// ---- binary (NumPy broadcasting) ---------------------------------------------------------------------------

function binaryOp(
  op: BinaryOp,
  a: TensorLike,
  b: TensorLike,
  grad: ((dy: Tensor, a: Tensor, b: Tensor, y: Tensor) => [Tensor | null, Tensor | null]) | null,
): Tensor {
  const ta = lift(a);
  const tb = lift(b);
  const outShape = broadcastShapes(ta.shape, tb.shape);
  const y = new Tensor(getBackend().binary(op, ta.data, ta.shape, tb.data, tb.shape, outShape), outShape);
  if (!grad) return y;
  return record(y, op, [ta, tb], (dy) => {
    const [ga, gb] = grad(dy, ta, tb, y);
    return [ga && ta.requiresGrad ? sumTo(ga, ta.shape) : null, gb && tb.requiresGrad ? sumTo(gb, tb.shape) : null];
  });
}

export const add = (a: TensorLike, b: TensorLike): Tensor => binaryOp('add', a, b, (dy) => [dy, dy]);
export const sub = (a: TensorLike, b: TensorLike): Tensor => binaryOp('sub', a, b, (dy) => [dy, neg(dy)]);
export const mul = (a: TensorLike, b: TensorLike): Tensor =>
  binaryOp('mul', a, b, (dy, ta, tb) => [ta.requiresGrad ? mul(dy, tb) : null, tb.requiresGrad ? mul(dy, ta) : null]);
export const div = (a: TensorLike, b: TensorLike): Tensor =>
  binaryOp('div', a, b, (dy, ta, tb, y) => [ta.requiresGrad ? div(dy, tb) : null, tb.requiresGrad ? neg(div(mul(dy, y), tb)) : null]);
export const pow = (a: TensorLike, b: TensorLike): Tensor =>
  binaryOp('pow', a, b, (dy, ta, tb, y) => [
    ta.requiresGrad ? mul(dy, mul(tb, pow(ta, sub(tb, 1)))) : null,
    tb.requiresGrad ? mul(dy, mul(y, log(ta))) : null,
  ]);
export const maximum = (a: TensorLike, b: TensorLike): Tensor =>
  binaryOp('maximum', a, b, (dy, ta, tb) => {
    const m = greaterEqual(ta, tb);
    return [mul(dy, m), mul(dy, sub(1, m))];
  });
export const minimum = (a: TensorLike, b: TensorLike): Tensor =>
  binaryOp('minimum', a, b, (dy, ta, tb) => {
    const m = greaterEqual(tb, ta);
    return [mul(dy, m), mul(dy, sub(1, m))];
  });
/** Comparisons give 1 or 0 and are not differentiable. */
export const greater = (a: TensorLike, b: TensorLike): Tensor => binaryOp('greater', a, b, null);
export const greaterEqual = (a: TensorLike, b: TensorLike): Tensor => binaryOp('greaterEqual', a, b, null);
export const equal = (a: TensorLike, b: TensorLike): Tensor => binaryOp('equal', a, b, null);

// ---- fused bias + activation --------------------------------------------------------------------------------

/**
 * act(x + bias) in one pass, bias along the last axis: what Conv2D and Dense apply to their products. Its
 * backward also takes one pass, giving the input and bias gradients together.
 */
export function biasActivation(x: Tensor, bias: Tensor | null, act: FusedActivation, alpha = 0): Tensor {
  const c = x.shape[x.rank - 1];
  if (bias && (bias.rank !== 1 || bias.size !== c)) {
    throw new Error(
      `biasActivation: the bias must have shape [${c}] to match the last axis of [${x.shape.join(', ')}], got [${bias.shape.join(', ')}]`,
    );
  }
  if (act === 'leaky_relu' && !(alpha >= 0)) throw new Error(`biasActivation: leaky_relu needs a slope alpha ≥ 0, got ${alpha}`);
  const y = new Tensor(getBackend().biasActivation(x.data, x.shape, bias ? bias.data : null, act, alpha), x.shape);
  const inputs = bias ? [x, bias] : [x];
  return record(y, `biasActivation(${act})`, inputs, (dy) => {
    const [dx, db] = getBackend().biasActivationGrad(dy.data, y.data, x.shape, act, alpha, Boolean(bias?.requiresGrad));
    const gx = new Tensor(dx, x.shape);
    return bias ? [gx, db ? new Tensor(db, bias.shape) : null] : [gx];
  });
}

// ---- softmax cross-entropy ---------------------------------------------------------------------------------

/**
 * −Σ t·log softmax(z) over the last axis, one value per row: the loss of a softmax classifier as one op, exact for
 * any logits (no overflow), with a one-pass backward. targets has the logits' shape (one-hot or smoothed rows).
 */
export function softmaxCrossEntropy(logits: Tensor, targets: Tensor): Tensor {
  if (!shapesEqual(logits.shape, targets.shape) || logits.rank < 1) {
    throw new Error(
      `softmaxCrossEntropy: targets must have the logits' shape ${formatShape(logits.shape)}, got ${formatShape(targets.shape)}`,
    );
  }
  const [loss, logp] = getBackend().softmaxCrossEntropy(logits.data, targets.data, logits.shape);
  const y = new Tensor(loss, logits.shape.slice(0, -1));
  return record(y, 'softmaxCrossEntropy', [logits, targets], (dy) => {
    const dz = logits.requiresGrad
      ? new Tensor(getBackend().softmaxCrossEntropyGrad(dy.data, logp, targets.data, logits.shape), logits.shape)
      : null;
    // d/dt = −log softmax(z), broadcast along the row.
    const dt = targets.requiresGrad ? mul(neg(new Tensor(logp, logits.shape)), reshape(dy, [...dy.shape, 1])) : null;
    return [dz, dt];
  });
}

// ---- batch normalization (training mode) -------------------------------------------------------------------

export interface BatchNormResult {
  y: Tensor;
  /** The batch mean and biased variance per channel, for the moving statistics. */
  mean: Float32Array;
  variance: Float32Array;
}

/**
 * γ·(x − mean)/sqrt(var + ε) + β with the batch's statistics over every axis but the last, as one op: its
 * backward is one pass giving dx, dγ and dβ, instead of a dozen elementwise ops.
 */
export function batchNormTraining(x: Tensor, gamma: Tensor | null, beta: Tensor | null, eps: number): BatchNormResult {
  const c = x.shape[x.rank - 1];
  for (const p of [gamma, beta]) {
    if (p && (p.rank !== 1 || p.size !== c)) throw new Error(`batchNorm: parameters must have shape [${c}], got [${p.shape.join(', ')}]`);
  }
  const [yData, mean, variance] = getBackend().batchNorm(x.data, x.shape, gamma?.data ?? null, beta?.data ?? null, eps);
  const y = new Tensor(yData, x.shape);
  const inputs = [x, ...(gamma ? [gamma] : []), ...(beta ? [beta] : [])];
  record(y, 'batchNorm', inputs, (dy) => {
    const [dx, dgamma, dbeta] = getBackend().batchNormGrad(dy.data, x.data, x.shape, mean, variance, gamma?.data ?? null, eps);
    const grads: (Tensor | null)[] = [new Tensor(dx, x.shape)];
    if (gamma) grads.push(new Tensor(dgamma, gamma.shape));
    if (beta) grads.push(new Tensor(dbeta, beta.shape));
    return grads;
  });
  return { y, mean, variance };
}

// ---- reductions --------------------------------------------------------------------------------------------

function keptShape(shape: Shape, axes: readonly number[]): number[] {
  return shape.map((d, i) => (axes.includes(i) ? 1 : d));
}

export function sum(x: Tensor, axes?: number | readonly number[], keepDims = false): Tensor {
  const ax = normalizeAxes(axes, x.rank);
  const kept = keptShape(x.shape, ax);
  const outShape = keepDims ? kept : x.shape.filter((_, i) => !ax.includes(i));
  const y = new Tensor(getBackend().reduce('sum', x.data, x.shape, ax), outShape);
  return record(y, 'sum', [x], (dy) => [broadcastTo(reshape(dy, kept), x.shape)]);
}

export function max(x: Tensor, axes?: number | readonly number[], keepDims = false): Tensor {
  const ax = normalizeAxes(axes, x.rank);
  if (x.size === 0) throw new Error('max of an empty tensor');
  const kept = keptShape(x.shape, ax);
  const outShape = keepDims ? kept : x.shape.filter((_, i) => !ax.includes(i));
  const y = new Tensor(getBackend().reduce('max', x.data, x.shape, ax), outShape);
  return record(y, 'max', [x], (dy) => {
    // Ties share the gradient equally.
    const mask = equal(x, reshape(y, kept));
    const count = sum(mask, ax, true);
    return [div(mul(mask, reshape(dy, kept)), count)];
  });
}

// ---- movement ----------------------------------------------------------------------------------------------

export function reshape(x: Tensor, shape: Shape): Tensor {
  const known = shape.filter((d) => d !== -1);
  const inferred = shape.map((d) => (d === -1 ? x.size / Math.max(1, sizeOf(known)) : d));
  if (shape.filter((d) => d === -1).length > 1 || sizeOf(inferred) !== x.size || inferred.some((d) => !Number.isInteger(d))) {
    throw new Error(`cannot reshape a tensor of shape ${formatShape(x.shape)} (${x.size} elements) to ${formatShape(shape)}`);
  }
  if (shapesEqual(inferred, x.shape)) return x;
  const y = new Tensor(x.data, inferred);
  return record(y, 'reshape', [x], (dy) => [reshape(dy, x.shape)]);
}

export function permute(x: Tensor, perm: readonly number[]): Tensor {
  if (perm.length !== x.rank || [...perm].sort((a, b) => a - b).some((p, i) => p !== i)) {
    throw new Error(`permutation [${perm.join(', ')}] does not fit a tensor of rank ${x.rank}`);
  }
  const outShape = perm.map((p) => x.shape[p]);
  const y = new Tensor(getBackend().permute(x.data, x.shape, perm), outShape);
  const inverse = new Array<number>(perm.length);
  perm.forEach((p, i) => (inverse[p] = i));
  return record(y, 'permute', [x], (dy) => [permute(dy, inverse)]);
}

export function broadcastTo(x: Tensor, shape: Shape): Tensor {
  if (shapesEqual(x.shape, shape)) return x;
  const out = broadcastShapes(x.shape, shape);
  if (!shapesEqual(out, shape)) throw new Error(`cannot broadcast shape ${formatShape(x.shape)} to ${formatShape(shape)}`);
  const y = new Tensor(getBackend().broadcastTo(x.data, x.shape, shape), shape);
  return record(y, 'broadcastTo', [x], (dy) => [sumTo(dy, x.shape)]);
}

/** Sums a broadcast result back down to `shape`: the adjoint of broadcastTo. */
export function sumTo(x: Tensor, shape: Shape): Tensor {
  if (shapesEqual(x.shape, shape)) return x;
  const lead = x.rank - shape.length;
  const axes: number[] = [];
  for (let i = 0; i < x.rank; i++) {
    if (i < lead || (shape[i - lead] === 1 && x.shape[i] !== 1)) axes.push(i);
  }
  return reshape(sum(x, axes, true), shape);
}

export function slice(x: Tensor, begin: readonly number[], size: readonly number[]): Tensor {
  const sz = size.map((s, i) => (s === -1 ? x.shape[i] - begin[i] : s));
  if (begin.length !== x.rank || sz.length !== x.rank || sz.some((s, i) => begin[i] < 0 || s < 0 || begin[i] + s > x.shape[i])) {
    throw new Error(`slice begin [${begin.join(', ')}] size [${size.join(', ')}] does not fit shape ${formatShape(x.shape)}`);
  }
  const y = new Tensor(getBackend().slice(x.data, x.shape, begin, sz), sz);
  return record(y, 'slice', [x], (dy) => [
    pad(
      dy,
      x.shape.map((d, i) => [begin[i], d - begin[i] - sz[i]] as [number, number]),
    ),
  ]);
}

export function pad(x: Tensor, pads: readonly (readonly [number, number])[]): Tensor {
  if (pads.length !== x.rank || pads.some(([a, b]) => a < 0 || b < 0)) {
    throw new Error(`padding ${JSON.stringify(pads)} does not fit a tensor of rank ${x.rank}`);
  }
  const outShape = x.shape.map((d, i) => d + pads[i][0] + pads[i][1]);
  const y = new Tensor(getBackend().pad(x.data, x.shape, pads), outShape);
  return record(y, 'pad', [x], (dy) => [
    slice(
      dy,
      pads.map((p) => p[0]),
      x.shape,
    ),
  ]);
}

// ---- linear algebra ----------------------------------------------------------------------------------------

/** [m,k]·[k,n] → [m,n]; the flags transpose an operand without copying it. */
export function matmul(a: Tensor, b: Tensor, transA = false, transB = false): Tensor {
  if (a.rank !== 2 || b.rank !== 2)
    throw new Error(`matmul needs two matrices, got shapes ${formatShape(a.shape)} and ${formatShape(b.shape)}`);
  const [m, k] = transA ? [a.shape[1], a.shape[0]] : a.shape;
  const [k2, n] = transB ? [b.shape[1], b.shape[0]] : b.shape;
  if (k !== k2)
    throw new Error(
      `matmul inner dimensions differ: ${formatShape(a.shape)}${transA ? 'ᵀ' : ''} · ${formatShape(b.shape)}${transB ? 'ᵀ' : ''}`,
    );
  const y = new Tensor(getBackend().matmul(a.data, b.data, m, k, n, transA, transB), [m, n]);
  return record(y, 'matmul', [a, b], (dy) => {
    const da = !a.requiresGrad ? null : transA ? matmul(b, dy, transB, true) : matmul(dy, b, false, !transB);
    const db = !b.requiresGrad ? null : transB ? matmul(dy, a, true, transA) : matmul(a, dy, !transA, false);
    return [da, db];
  });
}

// ---- convolution and pooling (NHWC) ------------------------------------------------------------------------

/**
 * Cross-correlation (NHWC input, [kh, kw, cin, cout] filters). With an epilogue it returns act(conv + bias) as one
 * op: the backend applies bias and activation while it writes the output, and the backward pass takes the
 * activation's gradient in the same single pass that biasActivation uses.
 */
export function conv2d(
  x: Tensor,
  w: Tensor,
  attrs: Conv2DAttrs,
  epilogue?: { bias: Tensor | null; act: FusedActivation; alpha?: number },
): Tensor {
  if (x.rank !== 4 || w.rank !== 4 || x.shape[3] !== w.shape[2]) {
    throw new Error(
      `conv2d needs x [batch, height, width, channels] and w [kh, kw, channels, filters] with equal channels, got ${formatShape(x.shape)} and ${formatShape(w.shape)}`,
    );
  }
  const [kh, kw, , cout] = w.shape;
  const outShape = conv2dOutputShape(x.shape, w.shape, attrs);
  const [, oh, ow] = outShape;
  if (oh <= 0 || ow <= 0) {
    throw new Error(
      `conv2d output would be empty: input ${formatShape(x.shape)}, kernel ${kh}×${kw}, strides ${attrs.strides.join('×')}, pads ${attrs.pads.join(',')}`,
    );
  }
  const bias = epilogue?.bias ?? null;
  if (bias && (bias.rank !== 1 || bias.size !== cout))
    throw new Error(`conv2d: the bias must have shape [${cout}], got ${formatShape(bias.shape)}`);
  const alpha = epilogue?.alpha ?? 0;
  if (epilogue?.act === 'leaky_relu' && !(alpha >= 0)) throw new Error(`conv2d: leaky_relu needs a slope alpha ≥ 0, got ${alpha}`);
  const y = new Tensor(
    getBackend().conv2d(x.data, x.shape, w.data, w.shape, attrs, epilogue && { bias: bias?.data ?? null, act: epilogue.act, alpha }),
    outShape,
  );
  const convGrads = (dz: Tensor): (Tensor | null)[] => {
    const [dx, dw] = getBackend().conv2dBackprop(
      x.data,
      x.shape,
      w.data,
      w.shape,
      dz.data,
      dz.shape,
      attrs,
      x.requiresGrad,
      w.requiresGrad,
    );
    return [dx && new Tensor(dx, x.shape), dw && new Tensor(dw, w.shape)];
  };
  if (!epilogue) return record(y, 'conv2d', [x, w], convGrads);
  const act = epilogue.act;
  return record(y, `conv2d+biasActivation(${act})`, bias ? [x, w, bias] : [x, w], (dy) => {
    const [dz, db] = getBackend().biasActivationGrad(dy.data, y.data, outShape, act, alpha, Boolean(bias?.requiresGrad));
    const grads = convGrads(new Tensor(dz, outShape));
    if (bias) grads.push(db ? new Tensor(db, bias.shape) : null);
    return grads;
  });
}

function poolShape(x: Tensor, attrs: Pool2DAttrs): number[] {
  if (x.rank !== 4) throw new Error(`pooling needs x [batch, height, width, channels], got ${formatShape(x.shape)}`);
  const out = pool2dOutputShape(x.shape, attrs);
  if (out[1] <= 0 || out[2] <= 0)
    throw new Error(`pooling output would be empty: input ${formatShape(x.shape)}, pool ${attrs.pool.join('×')}`);
  return out;
}

export function maxPool2d(x: Tensor, attrs: Pool2DAttrs): Tensor {
  const y = new Tensor(getBackend().maxPool2d(x.data, x.shape, attrs), poolShape(x, attrs));
  return record(y, 'maxPool2d', [x], (dy) => [
    new Tensor(getBackend().maxPool2dBackprop(x.data, x.shape, dy.data, dy.shape, attrs), x.shape),
  ]);
}

export function avgPool2d(x: Tensor, attrs: Pool2DAttrs): Tensor {
  const y = new Tensor(getBackend().avgPool2d(x.data, x.shape, attrs), poolShape(x, attrs));
  return record(y, 'avgPool2d', [x], (dy) => [new Tensor(getBackend().avgPool2dBackprop(dy.data, dy.shape, x.shape, attrs), x.shape)]);
}
