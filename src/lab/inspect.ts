/**
 * Looking inside a trained model for the evaluate block: feature maps of chosen layers for a few samples, the
 * filters of convolution layers, and the clocks' common-sense time differences with their distribution.
 */
import type { Tensor } from '../engine/tensor.js';
import type { TargetLayout } from '../data/targets.js';
import { timeDifferenceSummary, type TimeDifferenceSummary } from '../metrics/regression.js';
import type { Model } from '../nn/model.js';
import type { BatchSource } from '../data/source.js';

/** An array taken from a model: per-sample activations or a layer's kernel. */
export interface ArrayArtifact {
  kind: 'inputs' | 'feature_maps' | 'filters' | 'predictions';
  /** The layer's name (the model's first input for `inputs`). */
  layer: string;
  /** [samples, ...] for inputs and feature maps; the kernel's own shape for filters. */
  shape: number[];
  data: Float32Array;
  /** Predictions: the samples' indices in the split, true and predicted classes, confidence and class names. */
  meta?: PredictionMeta;
}

export interface PredictionMeta {
  split: string;
  indices: number[];
  labels: number[];
  predicted: number[];
  /** The predicted class's softmax probability (or output value when the model ends in probabilities). */
  confidence: number[];
  classNames: string[];
}

/** The inputs and the chosen layers' activations (inference mode) for the first `samples` samples of a source. */
export function featureMapArtifacts(
  model: Model,
  source: BatchSource,
  layers: readonly (string | number)[],
  samples: number,
): ArrayArtifact[] {
  const n = Math.min(samples, source.size);
  const { x } = source.batch(Array.from({ length: n }, (_, i) => i));
  return featureMapsOf(model, x, layers);
}

/** The inputs and the chosen layers' activations (inference mode) for given inputs (an image file's, say). */
export function featureMapsOf(model: Model, x: Tensor[], layers: readonly (string | number)[]): ArrayArtifact[] {
  const unique = [...new Map(layers.map((l) => [model.getLayer(l).name, l])).values()];
  const maps = model.featureMaps(unique, x);
  const names = unique.map((l) => model.getLayer(l).name);
  return [
    { kind: 'inputs', layer: model.inputNames[0], shape: [...x[0].shape], data: Float32Array.from(x[0].data) },
    ...maps.map((t, i) => ({ kind: 'feature_maps' as const, layer: names[i], shape: [...t.shape], data: Float32Array.from(t.data) })),
  ];
}

/** The kernels of the chosen Conv2D layers, or of every Conv2D layer when `layers` is 'all'. */
export function filterArtifacts(model: Model, layers: readonly (string | number)[] | 'all'): ArrayArtifact[] {
  const chosen = layers === 'all' ? model.layers.filter((l) => l.className === 'Conv2D') : layers.map((l) => model.getLayer(l));
  if (chosen.length === 0) throw new Error(`model '${model.name}' has no Conv2D layer whose filters could be drawn`);
  return chosen.map((layer) => {
    if (layer.className !== 'Conv2D') throw new Error(`filters: layer '${layer.name}' is a ${layer.className}, not a Conv2D`);
    const kernel = layer.weights[0].value;
    return { kind: 'filters', layer: layer.name, shape: [...kernel.shape], data: Float32Array.from(kernel.data) };
  });
}

/** Rows of sample i of each tensor. */
function rowsOf(tensors: readonly Tensor[], i: number): Float32Array[] {
  return tensors.map((t) => {
    const width = t.size / t.shape[0];
    return t.data.subarray(i * width, (i + 1) * width);
  });
}

/**
 * Minutes between the predicted and the true time on a 12-hour dial for every sample of a source, decoded by the
 * clocks' label scheme, summarized as mean, percentiles and a histogram.
 */
export function timeDifferenceEvaluation(model: Model, source: BatchSource, layout: TargetLayout): TimeDifferenceSummary {
  const decode = layout.minutes;
  if (!decode)
    throw new Error(
      'the time difference needs a label scheme that gives the whole time (classes24, classes720, regression, periodic or hour_minute)',
    );
  const diffs = new Float64Array(source.size);
  const step = 256;
  for (let start = 0; start < source.size; start += step) {
    const idx = Array.from({ length: Math.min(step, source.size - start) }, (_, i) => start + i);
    const { x, y, truth } = source.batch(idx);
    const out = model.predictBatch(x);
    for (let i = 0; i < idx.length; i++) {
      // The exact time where the source gives it; a scheme that rounds it (24 classes) would hide the rounding.
      const d = Math.abs(decode(rowsOf(out, i)) - (truth ? truth[i] : decode(rowsOf(y, i)))) % 720;
      diffs[start + i] = Math.min(d, 720 - d);
    }
  }
  return timeDifferenceSummary(diffs);
}

/**
 * The first `count` images of a split (or its first misclassified ones) with their true and predicted classes, for
 * sample grids. The images are the model's inputs (after the data block's transforms).
 */
export function predictionArtifact(
  model: Model,
  source: BatchSource,
  split: string,
  classNames: string[],
  count: number,
  only: 'all' | 'errors',
): ArrayArtifact {
  const picked: { index: number; x: Float32Array; label: number; pred: number; conf: number }[] = [];
  let sampleShape: number[] = [];
  const step = 256;
  for (let start = 0; start < source.size && picked.length < count; start += step) {
    const idx = Array.from({ length: Math.min(step, source.size - start) }, (_, i) => start + i);
    const { x, y } = source.batch(idx);
    sampleShape = x[0].shape.slice(1);
    const out = model.predictBatch(x)[0];
    const k = out.shape[out.shape.length - 1];
    const width = x[0].size / x[0].shape[0];
    for (let i = 0; i < idx.length && picked.length < count; i++) {
      const row = out.data.subarray(i * k, (i + 1) * k);
      let pred = 0;
      for (let j = 1; j < k; j++) if (row[j] > row[pred]) pred = j;
      const label = y[0].rank === 2 ? argmax(y[0].data.subarray(i * k, (i + 1) * k)) : y[0].data[i];
      if (only === 'errors' && pred === label) continue;
      picked.push({
        index: start + i,
        x: Float32Array.from(x[0].data.subarray(i * width, (i + 1) * width)),
        label,
        pred,
        conf: confidence(row, pred),
      });
    }
  }
  const per = sampleShape.reduce((a, b) => a * b, 1);
  const data = new Float32Array(picked.length * per);
  picked.forEach((p, i) => data.set(p.x, i * per));
  return {
    kind: 'predictions',
    layer: model.inputNames[0],
    shape: [picked.length, ...sampleShape],
    data,
    meta: {
      split,
      indices: picked.map((p) => p.index),
      labels: picked.map((p) => p.label),
      predicted: picked.map((p) => p.pred),
      confidence: picked.map((p) => p.conf),
      classNames,
    },
  };
}

function argmax(row: ArrayLike<number>): number {
  let best = 0;
  for (let j = 1; j < row.length; j++) if (row[j] > row[best]) best = j;
  return best;
}

/** Rows that already are probabilities (non-negative, summing to 1) are read as they are; logits go through softmax. */
function confidence(row: Float32Array, pred: number): number {
  let sum = 0;
  let negative = false;
  for (const v of row) {
    sum += v;
    if (v < 0) negative = true;
  }
  if (!negative && Math.abs(sum - 1) < 1e-3) return row[pred];
  let z = 0;
  for (const v of row) z += Math.exp(v - row[pred]);
  return 1 / z;
}
