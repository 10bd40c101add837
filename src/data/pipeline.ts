/**
 * A model's input pipeline: what turns an image file into the tensor the model was trained on. It is saved with
 * the model (model.json, `input_pipeline`), so `convlab predict` can feed a new PNG or JPEG exactly as the training
 * images were fed: same size and colours, padding, scaling or standardization (with the training split's
 * statistics) and pixel permutation, and can name the predicted classes.
 */
import { Random } from '../engine/random.js';
import type { Tensor } from '../engine/tensor.js';
import { imageSource, type ImageTransform } from './dataset.js';
import { DataError } from './errors.js';
import { decodeImage, resizeBilinear, type Pixels } from './image.js';

export interface InputPipeline {
  /** The dataset's images after resize/grayscale/channel steps, before padding: what a new image is made into. */
  height: number;
  width: number;
  channels: number;
  pad: number;
  scale: [number, number] | null;
  /** Per-channel mean and std of the training split's raw pixels, when the data block standardizes. */
  standardize: { mean: number[]; std: number[] } | null;
  /** The seed of a fixed pixel permutation (permute_pixels), or null. */
  permute_seed: number | null;
  /** The classes of the first output, in label order. */
  class_names: string[];
  /** The dataset it was made from, for messages. */
  dataset: string;
  /** Grayscale datasets: whether the training images' borders are dark (MNIST) or light; null for colour. */
  background?: 'dark' | 'light' | null;
}

/** The mean of the one-pixel frame around a grayscale image. */
function borderMean(data: Uint8Array, h: number, w: number): number {
  let sum = 0;
  let n = 0;
  for (let x = 0; x < w; x++) {
    sum += data[x] + data[(h - 1) * w + x];
    n += 2;
  }
  for (let y = 1; y < h - 1; y++) {
    sum += data[y * w] + data[y * w + w - 1];
    n += 2;
  }
  return sum / Math.max(1, n);
}

/** Whether a grayscale dataset's images sit on a dark or a light background (from up to 500 of them). */
export function backgroundOf(images: Uint8Array, count: number, h: number, w: number, channels: number): 'dark' | 'light' | null {
  if (channels !== 1 || count === 0) return null;
  let sum = 0;
  const n = Math.min(count, 500);
  for (let i = 0; i < n; i++) sum += borderMean(images.subarray(i * h * w, (i + 1) * h * w), h, w);
  return sum / n < 128 ? 'dark' : 'light';
}

/** The transform of a pipeline, as the dataset's batch sources apply it. */
function transformOf(p: InputPipeline): ImageTransform {
  const oh = p.height + 2 * p.pad;
  const ow = p.width + 2 * p.pad;
  return {
    pad: p.pad,
    scale: p.scale,
    standardize: p.standardize,
    permutation: p.permute_seed === null ? null : new Random(p.permute_seed).permutation(oh * ow),
  };
}

/** Makes a decoded image the size and colour model of the pipeline's images, saying what it changed. */
export function conform(p: InputPipeline, img: Pixels): { pixels: Pixels; notes: string[] } {
  const notes: string[] = [];
  let px = img;
  if (px.channels !== p.channels) {
    if (p.channels === 1 && px.channels === 3) {
      const gray = new Uint8Array(px.height * px.width);
      let colour = false;
      for (let i = 0; i < gray.length; i++) {
        const [r, g, b] = [px.data[i * 3], px.data[i * 3 + 1], px.data[i * 3 + 2]];
        if (r !== g || g !== b) colour = true;
        gray[i] = Math.round((r * 299 + g * 587 + b * 114) / 1000);
      }
      if (colour) notes.push('converted from colour to grayscale (luminance)');
      px = { height: px.height, width: px.width, channels: 1, data: gray };
    } else if (p.channels === 3 && px.channels === 1) {
      const rgb = new Uint8Array(px.height * px.width * 3);
      for (let i = 0; i < px.data.length; i++) rgb[i * 3] = rgb[i * 3 + 1] = rgb[i * 3 + 2] = px.data[i];
      notes.push('grayscale repeated on the 3 colour channels');
      px = { height: px.height, width: px.width, channels: 3, data: rgb };
    } else {
      throw new DataError(`an image of ${px.channels} channels cannot be made into the model's ${p.channels}`);
    }
  }
  // A photo of a dark digit on paper, for a model trained on light digits on black (MNIST): inverted.
  if (p.channels === 1 && p.background && (borderMean(px.data, px.height, px.width) < 128 ? 'dark' : 'light') !== p.background) {
    px = { ...px, data: px.data.map((v) => 255 - v) };
    notes.push(`inverted (the training images are ${p.background === 'dark' ? 'light on dark' : 'dark on light'})`);
  }
  if (px.height !== p.height || px.width !== p.width) {
    notes.push(`resized from ${px.width}×${px.height} to ${p.width}×${p.height} (bilinear)`);
    px = resizeBilinear(px, p.height, p.width);
  }
  return { pixels: px, notes };
}

/** An image file's bytes as the model's input tensor [1, h, w, c], with what was done to fit it. */
export function imageInput(p: InputPipeline, bytes: Uint8Array, where: string): { x: Tensor; notes: string[] } {
  const decoded = decodeImage(bytes, where, 'rgb');
  const { pixels, notes } = conform(p, decoded);
  const set = {
    images: pixels.data,
    labels: Int32Array.of(0),
    count: 1,
    height: pixels.height,
    width: pixels.width,
    channels: pixels.channels,
  };
  const [x] = imageSource(set, Int32Array.of(0), transformOf(p)).batch(Int32Array.of(0)).x;
  return { x, notes };
}
