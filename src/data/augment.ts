/**
 * On-the-fly augmentation of uint8 HWC images, drawn fresh for every sample of every epoch from a seeded
 * generator: random crop after padding, horizontal/vertical flips, and a random affine warp (rotation,
 * translation, zoom) with bilinear sampling. Cells that come from outside the image are filled with 0 (black,
 * which the transforms then map like any other 0).
 */
import type { Random } from '../engine/random.js';

export type Augmentation =
  | { randomCrop: { padding: number } }
  | { flip: 'horizontal' | 'vertical' | 'horizontal_and_vertical' }
  | { rotate: number }
  | { translate: number }
  | { zoom: number };

/** One augmented copy of an h×w×c image (src) into dst (same size). */
export function augmentImage(
  src: Uint8Array,
  dst: Uint8Array,
  h: number,
  w: number,
  c: number,
  steps: readonly Augmentation[],
  rng: Random,
): void {
  let cur = src;
  let tmp: Uint8Array | null = null;
  const next = (): Uint8Array => (cur === dst ? (tmp ??= new Uint8Array(dst.length)) : dst);
  // Geometric parameters of the affine warp, gathered first so rotation, translation and zoom resample once.
  let angle = 0;
  let tx = 0;
  let ty = 0;
  let scale = 1;
  let warp = false;
  for (const step of steps) {
    if ('randomCrop' in step) {
      const p = step.randomCrop.padding;
      const oy = rng.int(2 * p + 1) - p;
      const ox = rng.int(2 * p + 1) - p;
      const out = next();
      for (let y = 0; y < h; y++) {
        const sy = y + oy;
        for (let x = 0; x < w; x++) {
          const sx = x + ox;
          const inside = sy >= 0 && sy < h && sx >= 0 && sx < w;
          for (let k = 0; k < c; k++) out[(y * w + x) * c + k] = inside ? cur[(sy * w + sx) * c + k] : 0;
        }
      }
      cur = out;
    } else if ('flip' in step) {
      const horizontal = step.flip !== 'vertical' && rng.next() < 0.5;
      const vertical = step.flip !== 'horizontal' && rng.next() < 0.5;
      if (!horizontal && !vertical) continue;
      const out = next();
      for (let y = 0; y < h; y++) {
        const sy = vertical ? h - 1 - y : y;
        for (let x = 0; x < w; x++) {
          const sx = horizontal ? w - 1 - x : x;
          for (let k = 0; k < c; k++) out[(y * w + x) * c + k] = cur[(sy * w + sx) * c + k];
        }
      }
      cur = out;
    } else if ('rotate' in step) {
      angle += ((rng.next() * 2 - 1) * step.rotate * Math.PI) / 180;
      warp = true;
    } else if ('translate' in step) {
      tx += (rng.next() * 2 - 1) * step.translate * w;
      ty += (rng.next() * 2 - 1) * step.translate * h;
      warp = true;
    } else if ('zoom' in step) {
      scale *= 1 + (rng.next() * 2 - 1) * step.zoom;
      warp = true;
    }
  }
  if (warp) {
    const out = next();
    // Inverse map: output pixel → source position, about the image centre.
    const cy = (h - 1) / 2;
    const cx = (w - 1) / 2;
    const cos = Math.cos(angle) / scale;
    const sin = Math.sin(angle) / scale;
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const dx = x - cx - tx;
        const dy = y - cy - ty;
        const sx = cos * dx + sin * dy + cx;
        const sy = -sin * dx + cos * dy + cy;
        const x0 = Math.floor(sx);
        const y0 = Math.floor(sy);
        const fx = sx - x0;
        const fy = sy - y0;
        for (let k = 0; k < c; k++) {
          const at = (yy: number, xx: number) => (yy >= 0 && yy < h && xx >= 0 && xx < w ? cur[(yy * w + xx) * c + k] : 0);
          const v = (at(y0, x0) * (1 - fx) + at(y0, x0 + 1) * fx) * (1 - fy) + (at(y0 + 1, x0) * (1 - fx) + at(y0 + 1, x0 + 1) * fx) * fy;
          out[(y * w + x) * c + k] = Math.round(v);
        }
      }
    }
    cur = out;
  }
  if (cur !== dst) dst.set(cur);
}
