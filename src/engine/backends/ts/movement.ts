/** Data-movement kernels of the TypeScript backend: permute, broadcast, slice, pad. */
import { alloc } from '../../memory.js';
import { broadcastStrides, sizeOf, stridesOf, type Shape } from '../../shape.js';

/** Copies elements of `x` read at `offset + sum(idx[d] * strides[d])` into a fresh array of shape outShape. */
function gather(x: Float32Array, offset: number, strides: readonly number[], outShape: Shape): Float32Array {
  const n = sizeOf(outShape);
  const out = alloc(n);
  if (n === 0) return out;
  const rank = outShape.length;
  if (rank === 0) {
    out[0] = x[offset];
    return out;
  }
  const last = rank - 1;
  const inner = outShape[last];
  const sl = strides[last];
  const idx = new Array<number>(rank).fill(0);
  let base = offset;
  for (let o = 0; o < n; o += inner) {
    if (sl === 1) for (let j = 0; j < inner; j++) out[o + j] = x[base + j];
    else for (let j = 0, p = base; j < inner; j++, p += sl) out[o + j] = x[p];
    for (let d = last - 1; d >= 0; d--) {
      idx[d]++;
      base += strides[d];
      if (idx[d] < outShape[d]) break;
      base -= strides[d] * outShape[d];
      idx[d] = 0;
    }
  }
  return out;
}

export function permute(x: Float32Array, shape: Shape, perm: readonly number[]): Float32Array {
  const strides = stridesOf(shape);
  return gather(
    x,
    0,
    perm.map((p) => strides[p]),
    perm.map((p) => shape[p]),
  );
}

export function broadcastTo(x: Float32Array, shape: Shape, outShape: Shape): Float32Array {
  return gather(x, 0, broadcastStrides(shape, outShape), outShape);
}

export function slice(x: Float32Array, shape: Shape, begin: readonly number[], size: readonly number[]): Float32Array {
  const strides = stridesOf(shape);
  let offset = 0;
  for (let d = 0; d < shape.length; d++) offset += begin[d] * strides[d];
  return gather(x, offset, strides, size);
}

export function pad(x: Float32Array, shape: Shape, pads: readonly (readonly [number, number])[]): Float32Array {
  const outShape = shape.map((d, i) => d + pads[i][0] + pads[i][1]);
  const out = alloc(sizeOf(outShape));
  const n = x.length;
  if (n === 0) return out;
  const rank = shape.length;
  if (rank === 0) {
    out[0] = x[0];
    return out;
  }
  const os = stridesOf(outShape);
  const last = rank - 1;
  const inner = shape[last];
  const idx = new Array<number>(rank).fill(0);
  let base = 0;
  for (let d = 0; d < rank; d++) base += pads[d][0] * os[d];
  for (let i = 0; i < n; i += inner) {
    for (let j = 0; j < inner; j++) out[base + j] = x[i + j];
    for (let d = last - 1; d >= 0; d--) {
      idx[d]++;
      base += os[d];
      if (idx[d] < shape[d]) break;
      base -= os[d] * shape[d];
      idx[d] = 0;
    }
  }
  return out;
}
