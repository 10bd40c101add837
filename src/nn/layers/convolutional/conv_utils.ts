/** Output sizes and Keras/TensorFlow padding for convolutions and pooling. */
import type { Pads2D } from '../../../engine/backend.js';
import { windowOutput } from '../../../engine/shape.js';
import type { LayerShape } from '../../layer.js';

export type Padding = 'valid' | 'same';

/** Spatial output length along one axis, as Keras computes it. */
export function convOutputLength(length: number, kernel: number, padding: Padding, stride: number, dilation = 1): number {
  if (padding === 'same') return Math.ceil(length / stride);
  return windowOutput(length, 0, 0, kernel, stride, dilation);
}

/** TensorFlow's 'same' splits the padding with the extra row/column at the bottom/right. */
export function samePadding(length: number, kernel: number, stride: number, dilation = 1): [number, number] {
  const span = (kernel - 1) * dilation + 1;
  const out = Math.ceil(length / stride);
  const total = Math.max((out - 1) * stride + span - length, 0);
  const before = Math.floor(total / 2);
  return [before, total - before];
}

export function pads2d(
  h: number,
  w: number,
  kernel: readonly [number, number],
  strides: readonly [number, number],
  padding: Padding,
  dilation: readonly [number, number] = [1, 1],
): Pads2D {
  if (padding === 'valid') return [0, 0, 0, 0];
  const [t, b] = samePadding(h, kernel[0], strides[0], dilation[0]);
  const [l, r] = samePadding(w, kernel[1], strides[1], dilation[1]);
  return [t, b, l, r];
}

/** Checks an NHWC input shape with known spatial dimensions and returns [h, w, c]. */
export function spatialDims(inputShape: LayerShape, owner: string): [number, number, number] {
  if (inputShape.length !== 4) {
    throw new Error(
      `${owner} needs an input of rank 4 (batch, height, width, channels), got shape (${inputShape.map((d) => d ?? 'None').join(', ')})`,
    );
  }
  const [, h, w, c] = inputShape;
  if (h === null || w === null || c === null)
    throw new Error(`${owner} needs known height, width and channels, got (${inputShape.map((d) => d ?? 'None').join(', ')})`);
  return [h, w, c];
}
