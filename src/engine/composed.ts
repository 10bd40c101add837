/** Ops composed from the primitives. Their gradients come from the primitives' rules; none has its own. */
import { add, div, exp, log, max, maximum, minimum, mul, pad, reshape, sub, sum, type TensorLike } from './ops.js';
import { normalizeAxes, normalizeAxis, sizeOf } from './shape.js';
import type { Tensor } from './tensor.js';

export const square = (x: Tensor): Tensor => mul(x, x);

export function mean(x: Tensor, axes?: number | readonly number[], keepDims = false): Tensor {
  const ax = normalizeAxes(axes, x.rank);
  const count = sizeOf(ax.map((a) => x.shape[a]));
  return div(sum(x, ax, keepDims), count);
}

/** Biased variance (divides by n), as Keras' moments and BatchNormalization use. */
export function variance(x: Tensor, axes?: number | readonly number[], keepDims = false): Tensor {
  const m = mean(x, axes, true);
  return mean(square(sub(x, m)), axes, keepDims);
}

export function clip(x: Tensor, low: number, high: number): Tensor {
  return minimum(maximum(x, low), high);
}

export function logSumExp(x: Tensor, axis = -1, keepDims = false): Tensor {
  const m = max(x, axis, true);
  const lse = add(log(sum(exp(sub(x, m)), axis, true)), m);
  return keepDims
    ? lse
    : reshape(
        lse,
        x.shape.filter((_, i) => i !== normalizeAxis(axis, x.rank)),
      );
}

export function logSoftmax(x: Tensor, axis = -1): Tensor {
  return sub(x, logSumExp(x, axis, true));
}

/** Softmax that remembers its logits, so cross-entropy from probabilities can take the stable path. */
export function softmax(x: Tensor, axis = -1): Tensor {
  const e = exp(sub(x, max(x, axis, true)));
  const y = div(e, sum(e, axis, true));
  if (normalizeAxis(axis, x.rank) === x.rank - 1) y.source = { kind: 'softmax', logits: x };
  return y;
}

/** log(1 + exp(x)), without overflow for large x and without rounding to 0 for very negative x. */
export function softplus(x: Tensor): Tensor {
  // relu(x) + log1p(e^-|x|). log(1 + u) alone rounds 1 + u to 1 for u < 6e-8 (x < -16.6) in float32 and returns 0,
  // which kills the unit and lets a softplus output layer's rows sum to 0 (NaN in a cross-entropy). The correction
  // term restores log1p's accuracy: with w = fl(1 + u), log1p(u) ≈ log(w) − (w − 1 − u)/w, which is u for tiny u.
  // −|x| as x − 2·max(x, 0): at x = 0 the two kinks' gradients then cancel to sigmoid(0) = 0.5, as they should.
  const positive = maximum(x, 0);
  const u = exp(sub(x, mul(positive, 2)));
  const w = add(1, u);
  return add(positive, sub(log(w), div(sub(sub(w, 1), u), w)));
}

/** Joins tensors along an axis, as a sum of zero-padded copies: pad's adjoint (slice) routes each gradient back. */
export function concat(xs: readonly Tensor[], axis: number): Tensor {
  if (xs.length === 0) throw new Error('concat needs at least one tensor');
  const ax = normalizeAxis(axis, xs[0].rank);
  const total = xs.reduce((s, t) => s + t.shape[ax], 0);
  let offset = 0;
  let out: Tensor | null = null;
  for (const t of xs) {
    if (t.rank !== xs[0].rank || t.shape.some((d, i) => i !== ax && d !== xs[0].shape[i])) {
      throw new Error(`concat: shapes [${xs[0].shape.join(', ')}] and [${t.shape.join(', ')}] differ outside axis ${axis}`);
    }
    const pads = t.shape.map((_, i) => (i === ax ? [offset, total - offset - t.shape[ax]] : [0, 0]) as [number, number]);
    const padded = pad(t, pads);
    out = out ? add(out, padded) : padded;
    offset += t.shape[ax];
  }
  return out as Tensor;
}

export function flatten2d(x: Tensor): Tensor {
  return reshape(x, [x.shape[0], sizeOf(x.shape.slice(1))]);
}

export function sumAll(xs: readonly TensorLike[]): TensorLike {
  return xs.reduce<TensorLike>((a, b) => (typeof a === 'number' && typeof b === 'number' ? a + b : add(a, b)), 0);
}
