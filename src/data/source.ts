/** Batch sources: what fit, evaluate and predict read batches from (datasets give them; tensors make one). */
import { Tensor } from '../engine/tensor.js';

export interface Batch {
  x: Tensor[];
  y: Tensor[];
  /**
   * The exact value each sample's targets stand for, where a label scheme rounds it (the clocks' time in minutes,
   * which 24 classes round to the half hour): what an evaluation measures predictions against.
   */
  truth?: Float64Array;
}

export interface BatchSource {
  /** Number of samples. */
  readonly size: number;
  /** The samples at these indices, in this order. */
  batch(indices: ArrayLike<number>): Batch;
  /** Sources that draw random numbers (augmentation) save and restore their generator for exact resumes. */
  getState?(): unknown;
  setState?(state: unknown): void;
}

/** Rows of t (along axis 0) at the given indices. */
export function takeRows(t: Tensor, indices: ArrayLike<number>): Tensor {
  const row = t.size / t.shape[0];
  const out = new Float32Array(indices.length * row);
  for (let i = 0; i < indices.length; i++) {
    const r = indices[i];
    out.set(t.data.subarray(r * row, (r + 1) * row), i * row);
  }
  return new Tensor(out, [indices.length, ...t.shape.slice(1)]);
}

export function tensorSource(x: Tensor | Tensor[], y: Tensor | Tensor[]): BatchSource {
  const xs = Array.isArray(x) ? x : [x];
  const ys = Array.isArray(y) ? y : [y];
  const size = xs[0].shape[0];
  for (const t of [...xs, ...ys]) {
    if (t.shape[0] !== size)
      throw new Error(
        `inputs and targets must have the same number of samples: got ${xs.map((a) => a.shape[0]).join(', ')} inputs and ${ys.map((a) => a.shape[0]).join(', ')} targets`,
      );
  }
  return {
    size,
    batch: (idx) => ({ x: xs.map((t) => takeRows(t, idx)), y: ys.map((t) => takeRows(t, idx)) }),
  };
}

/** A view of some of a source's samples (validation splits, subsets). */
export function subsetSource(source: BatchSource, indices: ArrayLike<number>): BatchSource {
  const map = Int32Array.from(indices as ArrayLike<number>);
  return {
    size: map.length,
    batch: (idx) => source.batch(Array.from(idx as ArrayLike<number>, (i) => map[i])),
  };
}

export function range(start: number, end: number): Int32Array {
  const out = new Int32Array(Math.max(0, end - start));
  for (let i = 0; i < out.length; i++) out[i] = start + i;
  return out;
}
