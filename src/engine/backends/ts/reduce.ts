/** Reduction kernels of the TypeScript backend. */
import { alloc } from '../../memory.js';
import type { ReduceOp } from '../../backend.js';
import { sizeOf, type Shape } from '../../shape.js';
import { permute } from './movement.js';

export function reduce(op: ReduceOp, x: Float32Array, shape: Shape, axes: readonly number[]): Float32Array {
  if (axes.length === 0) return x.slice();
  const contiguous = axes.every((a, i) => i === 0 || a === axes[i - 1] + 1);
  if (!contiguous) {
    // Move the reduced axes to the end, then reduce them as one block.
    const kept = shape.map((_, i) => i).filter((i) => !axes.includes(i));
    const perm = [...kept, ...axes];
    const moved = permute(x, shape, perm);
    const keptSize = sizeOf(kept.map((i) => shape[i]));
    return reduceBlock(op, moved, keptSize, sizeOf(axes.map((i) => shape[i])), 1);
  }
  const first = axes[0];
  const lastAxis = axes[axes.length - 1];
  const outer = sizeOf(shape.slice(0, first));
  const red = sizeOf(shape.slice(first, lastAxis + 1));
  const inner = sizeOf(shape.slice(lastAxis + 1));
  return reduceBlock(op, x, outer, red, inner);
}

/** x viewed as [outer, red, inner] reduced over the middle axis. */
function reduceBlock(op: ReduceOp, x: Float32Array, outer: number, red: number, inner: number): Float32Array {
  const out = alloc(outer * inner);
  if (op === 'sum') {
    for (let o = 0; o < outer; o++) {
      const ob = o * inner;
      const xb = o * red * inner;
      if (inner === 1) {
        let s = 0;
        for (let r = 0; r < red; r++) s += x[xb + r];
        out[ob] = s;
      } else {
        for (let r = 0; r < red; r++) {
          const rb = xb + r * inner;
          for (let i = 0; i < inner; i++) out[ob + i] += x[rb + i];
        }
      }
    }
  } else {
    out.fill(-Infinity);
    for (let o = 0; o < outer; o++) {
      const ob = o * inner;
      const xb = o * red * inner;
      for (let r = 0; r < red; r++) {
        const rb = xb + r * inner;
        for (let i = 0; i < inner; i++) {
          const v = x[rb + i];
          if (v > out[ob + i] || Number.isNaN(v)) out[ob + i] = v;
        }
      }
    }
  }
  return out;
}
