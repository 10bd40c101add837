/**
 * Looking inside a trained model for the evaluate block: feature maps of chosen layers for a few samples, the
 * filters of convolution layers, and the clocks' common-sense time differences with their distribution.
 */
import type { Tensor } from '../engine/tensor.js';
import type { TargetLayout } from '../data/clocks.js';
import { timeDifferenceSummary, type TimeDifferenceSummary } from '../metrics/regression.js';
import type { Model } from '../nn/model.js';
import type { BatchSource } from '../train/source.js';

/** An array taken from a model: per-sample activations or a layer's kernel. */
export interface ArrayArtifact {
  kind: 'inputs' | 'feature_maps' | 'filters';
  /** The layer's name (the model's first input for `inputs`). */
  layer: string;
  /** [samples, ...] for inputs and feature maps; the kernel's own shape for filters. */
  shape: number[];
  data: Float32Array;
}

/** The inputs and the chosen layers' activations (inference mode) for the first `samples` samples of a source. */
export function featureMapArtifacts(model: Model, source: BatchSource, layers: readonly (string | number)[], samples: number): ArrayArtifact[] {
  const n = Math.min(samples, source.size);
  const { x } = source.batch(Array.from({ length: n }, (_, i) => i));
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
  if (!decode) throw new Error('the time difference needs a label scheme that gives the whole time (classes24, classes720, regression, periodic or hour_minute)');
  const diffs = new Float64Array(source.size);
  const step = 256;
  for (let start = 0; start < source.size; start += step) {
    const idx = Array.from({ length: Math.min(step, source.size - start) }, (_, i) => start + i);
    const { x, y } = source.batch(idx);
    const out = model.predictBatch(x);
    for (let i = 0; i < idx.length; i++) {
      const d = Math.abs(decode(rowsOf(out, i)) - decode(rowsOf(y, i))) % 720;
      diffs[start + i] = Math.min(d, 720 - d);
    }
  }
  return timeDifferenceSummary(diffs);
}
