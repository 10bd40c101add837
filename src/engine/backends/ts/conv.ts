/**
 * 2-D convolution of the TypeScript backend: im2col + matmul, NHWC input, [kh, kw, cin, cout] filters.
 * Images are processed in chunks so the column buffer stays bounded.
 */
import { alloc } from '../../memory.js';
import type { Conv2DAttrs, ConvEpilogue } from '../../backend.js';
import { biasActivation } from './elementwise.js';
import { conv2dOutputShape, type Shape } from '../../shape.js';
import { gemmRows, matmul, transpose } from './matmul.js';

const COL_BUDGET = 1 << 22; // floats per column buffer (16 MiB)

interface Geometry {
  n: number;
  h: number;
  w: number;
  cin: number;
  kh: number;
  kw: number;
  cout: number;
  oh: number;
  ow: number;
  sh: number;
  sw: number;
  dh: number;
  dw: number;
  pt: number;
  pl: number;
  k: number; // kh * kw * cin
}

function geometry(xShape: Shape, wShape: Shape, attrs: Conv2DAttrs, dyShape?: Shape): Geometry {
  const [n, h, w, cin] = xShape;
  const [kh, kw, , cout] = wShape;
  const [sh, sw] = attrs.strides;
  const [dh, dw] = attrs.dilations;
  const [pt, , pl] = attrs.pads;
  const [, oh, ow] = dyShape ?? conv2dOutputShape(xShape, wShape, attrs);
  return { n, h, w, cin, kh, kw, cout, oh, ow, sh, sw, dh, dw, pt, pl, k: kh * kw * cin };
}

function isPointwise(g: Geometry): boolean {
  return g.kh === 1 && g.kw === 1 && g.sh === 1 && g.sw === 1 && g.pt === 0 && g.pl === 0 && g.oh === g.h && g.ow === g.w;
}

function chunkSize(g: Geometry): number {
  return Math.max(1, Math.min(g.n, Math.floor(COL_BUDGET / Math.max(1, g.oh * g.ow * g.k))));
}

/** Fills col[(b*oh*ow + oy*ow + ox), (ky*kw + kx)*cin + c] for images n0..n0+nb. */
function im2col(x: Float32Array, g: Geometry, n0: number, nb: number, col: Float32Array): void {
  const { h, w, cin, kh, kw, oh, ow, sh, sw, dh, dw, pt, pl, k } = g;
  const run = kw * cin; // with dilation 1, one kernel row is one contiguous run of the input
  let row = 0;
  for (let b = 0; b < nb; b++) {
    const xb = (n0 + b) * h * w * cin;
    for (let oy = 0; oy < oh; oy++) {
      for (let ox = 0; ox < ow; ox++, row++) {
        let dst = row * k;
        const ix0 = ox * sw - pl;
        const rowInside = dw === 1 && ix0 >= 0 && ix0 + kw <= w;
        for (let ky = 0; ky < kh; ky++) {
          const iy = oy * sh - pt + ky * dh;
          if (iy < 0 || iy >= h) {
            col.fill(0, dst, dst + run);
            dst += run;
            continue;
          }
          if (rowInside) {
            const src = xb + (iy * w + ix0) * cin;
            for (let j = 0; j < run; j++) col[dst + j] = x[src + j];
            dst += run;
            continue;
          }
          for (let kx = 0; kx < kw; kx++, dst += cin) {
            const ix = ix0 + kx * dw;
            if (ix < 0 || ix >= w) {
              for (let c = 0; c < cin; c++) col[dst + c] = 0;
            } else {
              const src = xb + (iy * w + ix) * cin;
              for (let c = 0; c < cin; c++) col[dst + c] = x[src + c];
            }
          }
        }
      }
    }
  }
}

/** The transpose of im2col: colT[kIndex * rows + row], so the filter gradient reads both operands along rows. */
function im2colT(x: Float32Array, g: Geometry, n0: number, nb: number, colT: Float32Array): void {
  const { h, w, cin, kh, kw, oh, ow, sh, sw, dh, dw, pt, pl } = g;
  const rows = nb * oh * ow;
  for (let ky = 0; ky < kh; ky++) {
    for (let kx = 0; kx < kw; kx++) {
      for (let c = 0; c < cin; c++) {
        const base = ((ky * kw + kx) * cin + c) * rows;
        let row = 0;
        for (let b = 0; b < nb; b++) {
          const xb = (n0 + b) * h * w * cin + c;
          for (let oy = 0; oy < oh; oy++) {
            const iy = oy * sh - pt + ky * dh;
            if (iy < 0 || iy >= h) {
              colT.fill(0, base + row, base + row + ow);
              row += ow;
              continue;
            }
            const xr = xb + iy * w * cin;
            for (let ox = 0; ox < ow; ox++, row++) {
              const ix = ox * sw - pl + kx * dw;
              colT[base + row] = ix < 0 || ix >= w ? 0 : x[xr + ix * cin];
            }
          }
        }
      }
    }
  }
}

/** Scatter-adds columns back into dx, the adjoint of im2col. */
function col2im(col: Float32Array, g: Geometry, n0: number, nb: number, dx: Float32Array): void {
  const { h, w, cin, kh, kw, oh, ow, sh, sw, dh, dw, pt, pl, k } = g;
  let row = 0;
  for (let b = 0; b < nb; b++) {
    const xb = (n0 + b) * h * w * cin;
    for (let oy = 0; oy < oh; oy++) {
      for (let ox = 0; ox < ow; ox++, row++) {
        let src = row * k;
        for (let ky = 0; ky < kh; ky++) {
          const iy = oy * sh - pt + ky * dh;
          for (let kx = 0; kx < kw; kx++, src += cin) {
            const ix = ox * sw - pl + kx * dw;
            if (iy < 0 || iy >= h || ix < 0 || ix >= w) continue;
            const dst = xb + (iy * w + ix) * cin;
            for (let c = 0; c < cin; c++) dx[dst + c] += col[src + c];
          }
        }
      }
    }
  }
}

function convolve(x: Float32Array, xShape: Shape, w: Float32Array, wShape: Shape, attrs: Conv2DAttrs): Float32Array {
  const g = geometry(xShape, wShape, attrs);
  const pix = g.oh * g.ow;
  if (isPointwise(g)) return matmul(x, w, g.n * pix, g.cin, g.cout, false, false);
  const out = alloc(g.n * pix * g.cout);
  const chunk = chunkSize(g);
  const col = alloc(chunk * pix * g.k);
  for (let n0 = 0; n0 < g.n; n0 += chunk) {
    const nb = Math.min(chunk, g.n - n0);
    im2col(x, g, n0, nb, col);
    const y = matmul(col.subarray(0, nb * pix * g.k), w, nb * pix, g.k, g.cout, false, false);
    out.set(y, n0 * pix * g.cout);
  }
  return out;
}

function conv2dBackpropInput(
  dy: Float32Array,
  dyShape: Shape,
  w: Float32Array,
  wShape: Shape,
  xShape: Shape,
  attrs: Conv2DAttrs,
): Float32Array {
  const g = geometry(xShape, wShape, attrs, dyShape);
  const pix = g.oh * g.ow;
  if (isPointwise(g)) return matmul(dy, w, g.n * pix, g.cout, g.cin, false, true);
  const dx = alloc(g.n * g.h * g.w * g.cin);
  const chunk = chunkSize(g);
  for (let n0 = 0; n0 < g.n; n0 += chunk) {
    const nb = Math.min(chunk, g.n - n0);
    const dyc = dy.subarray(n0 * pix * g.cout, (n0 + nb) * pix * g.cout);
    const dcol = matmul(dyc, w, nb * pix, g.cout, g.k, false, true);
    col2im(dcol, g, n0, nb, dx);
  }
  return dx;
}

function conv2dBackpropFilter(
  x: Float32Array,
  xShape: Shape,
  dy: Float32Array,
  dyShape: Shape,
  wShape: Shape,
  attrs: Conv2DAttrs,
): Float32Array {
  const g = geometry(xShape, wShape, attrs, dyShape);
  const pix = g.oh * g.ow;
  if (isPointwise(g)) return matmul(x, dy, g.cin, g.n * pix, g.cout, true, false);
  // dWᵀ[cout, k] = dyᵀ · col, computed as rows of length `rows` on both sides.
  const dwT = alloc(g.cout * g.k);
  const chunk = chunkSize(g);
  const colT = alloc(chunk * pix * g.k);
  for (let n0 = 0; n0 < g.n; n0 += chunk) {
    const nb = Math.min(chunk, g.n - n0);
    const rows = nb * pix;
    im2colT(x, g, n0, nb, colT);
    const dyT = transpose(dy.subarray(n0 * pix * g.cout, (n0 + nb) * pix * g.cout), rows, g.cout);
    const part = alloc(g.cout * g.k);
    gemmRows(dyT, colT.subarray(0, rows * g.k), g.cout, rows, g.k, part);
    for (let i = 0; i < part.length; i++) dwT[i] += part[i];
  }
  return transpose(dwT, g.cout, g.k);
}

/** The contract's conv2d: the convolution, then its epilogue (bias and activation) if it has one. */
export function conv2d(
  x: Float32Array,
  xShape: Shape,
  w: Float32Array,
  wShape: Shape,
  attrs: Conv2DAttrs,
  epilogue?: ConvEpilogue,
): Float32Array {
  const y = convolve(x, xShape, w, wShape, attrs);
  if (!epilogue) return y;
  return biasActivation(y, conv2dOutputShape(xShape, wShape, attrs), epilogue.bias, epilogue.act, epilogue.alpha);
}

/** The contract's conv2dBackprop: the input gradient and the filter gradient, as the flags ask. */
export function conv2dBackprop(
  x: Float32Array,
  xShape: Shape,
  w: Float32Array,
  wShape: Shape,
  dy: Float32Array,
  dyShape: Shape,
  attrs: Conv2DAttrs,
  wantInput: boolean,
  wantFilter: boolean,
): [Float32Array | null, Float32Array | null] {
  return [
    wantInput ? conv2dBackpropInput(dy, dyShape, w, wShape, xShape, attrs) : null,
    wantFilter ? conv2dBackpropFilter(x, xShape, dy, dyShape, wShape, attrs) : null,
  ];
}
