/**
 * Image datasets kept as uint8 (N × H × W × C) with integer labels, converted to float32 one batch at a time so
 * a whole dataset stays small in memory. Transforms that change geometry or scale are applied during conversion.
 */
import { Tensor } from '../engine/tensor.js';
import type { Batch, BatchSource } from '../train/source.js';
import { DataError } from './errors.js';

export interface ImageSet {
  images: Uint8Array;
  labels: Int32Array;
  count: number;
  height: number;
  width: number;
  channels: number;
}

export interface Dataset {
  name: string;
  classNames: string[];
  train: ImageSet;
  test: ImageSet;
  /** Where the files were found. */
  source: string;
}

export function makeImageSet(images: Uint8Array, labels: Uint8Array | Int32Array, dims: [number, number, number, number], classes: number, where: string): ImageSet {
  const [count, height, width, channels] = dims;
  const lab = Int32Array.from(labels);
  for (let i = 0; i < lab.length; i++) {
    if (lab[i] < 0 || lab[i] >= classes) throw new DataError(`${where}: label ${lab[i]} of sample ${i} is out of range: expected 0..${classes - 1}`);
  }
  return { images, labels: lab, count, height, width, channels };
}

/** Conversion from uint8 to the float input the model sees. */
export interface ImageTransform {
  /** Zero rows/columns added on every side. */
  pad: number;
  /** Pixel value v becomes low + (high − low)·v/255. */
  scale: [number, number] | null;
}

export function outputShape(set: ImageSet, t: ImageTransform): [number, number, number] {
  return [set.height + 2 * t.pad, set.width + 2 * t.pad, set.channels];
}

export function imageSource(set: ImageSet, indices: Int32Array, t: ImageTransform): BatchSource {
  const [oh, ow, c] = outputShape(set, t);
  const { height: h, width: w } = set;
  const pixels = h * w * c;
  const [lo, hi] = t.scale ?? [0, 255];
  const mul = (hi - lo) / 255;
  return {
    size: indices.length,
    batch(idx): Batch {
      const n = idx.length;
      const x = new Float32Array(n * oh * ow * c);
      const y = new Float32Array(n);
      for (let b = 0; b < n; b++) {
        const s = indices[idx[b]];
        y[b] = set.labels[s];
        const src = s * pixels;
        const dst = b * oh * ow * c;
        // Padded pixels are the transformed value of 0, i.e. the bottom of the scale.
        if (t.pad > 0 && lo !== 0) x.fill(lo, dst, dst + oh * ow * c);
        for (let r = 0; r < h; r++) {
          const rowSrc = src + r * w * c;
          const rowDst = dst + ((r + t.pad) * ow + t.pad) * c;
          for (let j = 0; j < w * c; j++) x[rowDst + j] = lo + set.images[rowSrc + j] * mul;
        }
      }
      return { x: [new Tensor(x, [n, oh, ow, c])], y: [new Tensor(y, [n])] };
    },
  };
}
