/** 2-D pooling kernels of the TypeScript backend, NHWC. */
import { alloc } from '../../memory.js';
import type { Pool2DAttrs } from '../../backend.js';
import { pool2dOutputShape, type Shape } from '../../shape.js';

function outSize(xShape: Shape, attrs: Pool2DAttrs): [number, number] {
  const [, oh, ow] = pool2dOutputShape(xShape, attrs);
  return [oh, ow];
}

/** Calls visit(outIndexBase, inIndexBase) for every valid (output pixel, window cell) pair, channel 0. */
function windows(xShape: Shape, attrs: Pool2DAttrs, visit: (o: number, i: number, count: number, first: boolean) => void): void {
  const [n, h, w, c] = xShape;
  const [oh, ow] = outSize(xShape, attrs);
  const [ph, pw] = attrs.pool;
  const [sh, sw] = attrs.strides;
  const [pt, , pl] = attrs.pads;
  for (let b = 0; b < n; b++) {
    for (let oy = 0; oy < oh; oy++) {
      const y0 = Math.max(0, oy * sh - pt);
      const y1 = Math.min(h, oy * sh - pt + ph);
      for (let ox = 0; ox < ow; ox++) {
        const x0 = Math.max(0, ox * sw - pl);
        const x1 = Math.min(w, ox * sw - pl + pw);
        const o = ((b * oh + oy) * ow + ox) * c;
        const count = (y1 - y0) * (x1 - x0);
        let first = true;
        for (let iy = y0; iy < y1; iy++) {
          for (let ix = x0; ix < x1; ix++) {
            visit(o, ((b * h + iy) * w + ix) * c, count, first);
            first = false;
          }
        }
      }
    }
  }
}

export function maxPool2d(x: Float32Array, xShape: Shape, attrs: Pool2DAttrs): Float32Array {
  const [oh, ow] = outSize(xShape, attrs);
  const c = xShape[3];
  const out = alloc(xShape[0] * oh * ow * c).fill(-Infinity);
  windows(xShape, attrs, (o, i) => {
    for (let k = 0; k < c; k++) if (x[i + k] > out[o + k]) out[o + k] = x[i + k];
  });
  return out;
}

export function maxPool2dBackprop(x: Float32Array, xShape: Shape, dy: Float32Array, dyShape: Shape, attrs: Pool2DAttrs): Float32Array {
  const c = xShape[3];
  const dx = alloc(x.length);
  const best = alloc(dy.length).fill(-Infinity);
  const arg = new Int32Array(dy.length).fill(-1);
  // The first maximum in scan order takes the whole gradient, as TensorFlow does.
  windows(xShape, attrs, (o, i) => {
    for (let k = 0; k < c; k++) {
      if (x[i + k] > best[o + k]) {
        best[o + k] = x[i + k];
        arg[o + k] = i + k;
      }
    }
  });
  for (let j = 0; j < dy.length; j++) if (arg[j] >= 0) dx[arg[j]] += dy[j];
  void dyShape;
  return dx;
}

export function avgPool2d(x: Float32Array, xShape: Shape, attrs: Pool2DAttrs): Float32Array {
  const [oh, ow] = outSize(xShape, attrs);
  const c = xShape[3];
  const out = alloc(xShape[0] * oh * ow * c);
  windows(xShape, attrs, (o, i, count) => {
    const inv = 1 / count;
    for (let k = 0; k < c; k++) out[o + k] += x[i + k] * inv;
  });
  return out;
}

export function avgPool2dBackprop(dy: Float32Array, dyShape: Shape, xShape: Shape, attrs: Pool2DAttrs): Float32Array {
  const c = xShape[3];
  const dx = alloc(xShape[0] * xShape[1] * xShape[2] * c);
  windows(xShape, attrs, (o, i, count) => {
    const inv = 1 / count;
    for (let k = 0; k < c; k++) dx[i + k] += dy[o + k] * inv;
  });
  void dyShape;
  return dx;
}
