/**
 * Image datasets kept as uint8 (N × H × W × C) with integer labels, converted to float32 one batch at a time so
 * a whole dataset stays small in memory. Transforms that change geometry or scale are applied during conversion.
 */
import { Tensor } from '../engine/tensor.js';
import type { Batch, BatchSource } from './source.js';
import type { Random } from '../engine/random.js';
import { augmentImage, type Augmentation } from './augment.js';
import type { TargetLayout } from './targets.js';
import { DataError } from './errors.js';
import { resizeBilinear } from './image.js';

export interface ImageSet {
  images: Uint8Array;
  labels: Int32Array;
  /** Extra per-sample values by name, read by a TargetLayout (the clocks' minute). */
  targets?: Record<string, Float32Array>;
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

export function makeImageSet(
  images: Uint8Array,
  labels: Uint8Array | Int32Array,
  dims: [number, number, number, number],
  classes: number,
  where: string,
): ImageSet {
  const [count, height, width, channels] = dims;
  const lab = Int32Array.from(labels);
  for (let i = 0; i < lab.length; i++) {
    if (lab[i] < 0 || lab[i] >= classes)
      throw new DataError(`${where}: label ${lab[i]} of sample ${i} is out of range: expected 0..${classes - 1}`);
  }
  return { images, labels: lab, count, height, width, channels };
}

/** Conversion from uint8 to the float input the model sees. */
export interface ImageTransform {
  /** Zero rows/columns added on every side. */
  pad: number;
  /** Pixel value v becomes low + (high − low)·v/255. */
  scale: [number, number] | null;
  /** Per-channel standardization of the raw 0–255 values (mean and std computed on the training split). */
  standardize?: { mean: number[]; std: number[] } | null;
  /** A fixed permutation of the (padded) pixel positions: out position i takes position perm[i]. */
  permutation?: Int32Array | null;
  /** Targets as one-hot rows of this many classes instead of integer labels. */
  oneHot?: number | null;
  /** A scheme that builds the targets from each sample's label and extra values (the clocks'). */
  targetLayout?: TargetLayout | null;
  /**
   * Resize each image to [height, width] (bilinear) as its batch is made, after augmentation: for sizes whose
   * resized split would not fit in memory (CIFAR-10 at 224×224 would take 7.5 GB).
   */
  resize?: [number, number] | null;
}

export function outputShape(set: ImageSet, t: ImageTransform): [number, number, number] {
  const [h, w] = t.resize ?? [set.height, set.width];
  return [h + 2 * t.pad, w + 2 * t.pad, set.channels];
}

/** Per-channel mean and standard deviation of the raw pixel values of the given samples. */
export function channelStats(set: ImageSet, indices: Int32Array): { mean: number[]; std: number[] } {
  const c = set.channels;
  const per = set.height * set.width * c;
  const sum = new Float64Array(c);
  const sq = new Float64Array(c);
  for (const s of indices) {
    const base = s * per;
    for (let i = 0; i < per; i++) {
      const v = set.images[base + i];
      sum[i % c] += v;
      sq[i % c] += v * v;
    }
  }
  const n = (indices.length * per) / c;
  const mean = Array.from(sum, (v) => v / n);
  const std = Array.from(sq, (v, k) => Math.sqrt(Math.max(v / n - mean[k] * mean[k], 0)) || 1);
  return { mean, std };
}

/**
 * Batches of one split: images stay uint8 and are converted per batch (augmented first, for training, when
 * `augment` is given with its generator).
 */
export function imageSource(
  set: ImageSet,
  indices: Int32Array,
  t: ImageTransform,
  augment?: { steps: readonly Augmentation[]; rng: Random },
): BatchSource {
  const [oh, ow, c] = outputShape(set, t);
  const { height: h, width: w } = set;
  // The size each image is converted at: the stored one, or the one it is resized to per batch.
  const [rh, rw] = t.resize ?? [h, w];
  const pixels = h * w * c;
  // Per channel: x = a·v + b.
  const a = new Float32Array(c);
  const b = new Float32Array(c);
  for (let k = 0; k < c; k++) {
    if (t.standardize) {
      a[k] = 1 / t.standardize.std[k];
      b[k] = -t.standardize.mean[k] / t.standardize.std[k];
    } else {
      const [lo, hi] = t.scale ?? [0, 255];
      a[k] = (hi - lo) / 255;
      b[k] = lo;
    }
  }
  const perm = t.permutation ?? null;
  const scratch = augment?.steps.length ? new Uint8Array(pixels) : null;
  const plane = perm ? new Float32Array(oh * ow * c) : null;
  return {
    size: indices.length,
    // Augmentation draws from its own generator; a checkpoint keeps its place so a resumed run draws the same.
    getState: () => (augment ? [...augment.rng.getState()] : null),
    setState: (s: unknown) => {
      if (augment && Array.isArray(s)) augment.rng.setState(Uint32Array.from(s as number[]));
    },
    batch(idx): Batch {
      const n = idx.length;
      const x = new Float32Array(n * oh * ow * c);
      const y = new Float32Array(t.oneHot ? n * t.oneHot : n);
      const layout = t.targetLayout;
      const ys = layout ? layout.widths.map((wd) => new Float32Array(n * Math.max(1, wd))) : [];
      const extras = layout ? layout.extras.map((name) => set.targets?.[name]) : [];
      const extra = extras.map(() => 0);
      const truth = layout?.truth ? new Float64Array(n) : undefined;
      for (let s = 0; s < n; s++) {
        const sample = indices[idx[s]];
        const label = set.labels[sample];
        extras.forEach((values, i) => (extra[i] = values ? values[sample] : 0));
        if (layout) layout.fill(label, extra, ys, s);
        if (truth && layout?.truth) truth[s] = layout.truth(label, extra);
        else if (t.oneHot) y[s * t.oneHot + label] = 1;
        else y[s] = label;
        let src = set.images.subarray(sample * pixels, (sample + 1) * pixels);
        if (scratch && augment) {
          augmentImage(src, scratch, h, w, c, augment.steps, augment.rng);
          src = scratch;
        }
        if (t.resize) src = resizeBilinear({ height: h, width: w, channels: c, data: src }, rh, rw).data;
        const out = plane ?? x.subarray(s * oh * ow * c, (s + 1) * oh * ow * c);
        // Padded cells are the transformed value of 0.
        if (t.pad > 0) for (let i = 0; i < oh * ow; i++) for (let k = 0; k < c; k++) out[i * c + k] = b[k];
        for (let r = 0; r < rh; r++) {
          const rowDst = ((r + t.pad) * ow + t.pad) * c;
          for (let j = 0; j < rw * c; j++) {
            const k = j % c;
            out[rowDst + j] = a[k] * src[r * rw * c + j] + b[k];
          }
        }
        if (perm && plane) {
          const dst = s * oh * ow * c;
          for (let i = 0; i < oh * ow; i++) for (let k = 0; k < c; k++) x[dst + i * c + k] = plane[perm[i] * c + k];
        }
      }
      const xt = new Tensor(x, [n, oh, ow, c]);
      if (layout) return { x: [xt], y: layout.widths.map((wd, k) => new Tensor(ys[k], wd ? [n, wd] : [n])), truth };
      return { x: [xt], y: [new Tensor(y, t.oneHot ? [n, t.oneHot] : [n])] };
    },
  };
}
