/**
 * The spec's `data:` block: which dataset, transforms, the validation split and a training subset, turned into
 * batch sources for the trainer. Splits and subsets are drawn from the spec's seed.
 */
import { z } from 'zod';
import { Random } from '../engine/random.js';
import { parseArgs } from '../nn/schema.js';
import { SpecError } from '../nn/spec.js';
import type { BatchSource } from '../train/source.js';
import { imageSource, outputShape, type Dataset, type ImageTransform } from './dataset.js';
import { loadFashionMnist } from './fashion_mnist.js';
import { loadMnist } from './mnist.js';
import { pickIndices } from './split.js';

const transform = z.union([
  z.strictObject({ pad: z.number().int().nonnegative() }),
  z.strictObject({ scale: z.tuple([z.number(), z.number()]) }),
], { error: 'expected {pad: n} or {scale: [low, high]}' });

export const dataSchema = z.strictObject({
  dataset: z.enum(['mnist', 'fashion-mnist']),
  path: z.string().optional(),
  transforms: z.array(transform).default([{ scale: [0, 1] }]),
  validation: z.union([
    z.strictObject({ fraction: z.number().gt(0).lt(1), stratified: z.boolean().default(true) }),
    z.strictObject({ count: z.number().int().positive(), stratified: z.boolean().default(true) }),
    z.strictObject({ from: z.literal('test'), count: z.number().int().positive(), stratified: z.boolean().default(true) }),
  ], { error: 'expected {fraction: f}, {count: n} or {from: test, count: n} (each with optional stratified)' }).optional(),
  subset: z.strictObject({ train: z.number().int().positive() }).optional(),
});
export type DataSpec = z.input<typeof dataSchema>;

export interface PreparedData {
  dataset: Dataset;
  train: BatchSource;
  validation: BatchSource | undefined;
  test: BatchSource;
  /** Shape of one sample after the transforms. */
  sampleShape: [number, number, number];
  classNames: string[];
}

function loadDataset(name: string, path: string | undefined): Dataset {
  switch (name) {
    case 'mnist': return loadMnist();
    case 'fashion-mnist': return loadFashionMnist(path);
    default: throw new Error(`unknown dataset '${name}'`);
  }
}

export function prepareData(raw: unknown, seed: number, path: (string | number)[] = ['data']): PreparedData {
  let spec: z.output<typeof dataSchema>;
  try {
    spec = parseArgs(dataSchema, raw, 'data');
  } catch (e) {
    throw e instanceof SpecError ? e.within(path) : e;
  }
  const t: ImageTransform = { pad: 0, scale: null };
  for (const step of spec.transforms) {
    if ('pad' in step) t.pad += step.pad;
    else t.scale = step.scale;
  }
  const dataset = loadDataset(spec.dataset, spec.path);
  const rng = new Random(seed ^ 0x5eed);
  const all = (n: number) => Int32Array.from({ length: n }, (_, i) => i);
  let trainIdx: Int32Array = all(dataset.train.count);
  let testIdx: Int32Array = all(dataset.test.count);
  let valIdx: Int32Array | undefined;
  let valFromTest = false;
  const v = spec.validation;
  if (v) {
    const fromTest = 'from' in v;
    const pool = fromTest ? testIdx : trainIdx;
    const labels = fromTest ? dataset.test.labels : dataset.train.labels;
    const count = 'fraction' in v ? Math.round(v.fraction * pool.length) : v.count;
    if (count >= pool.length) {
      throw new SpecError([{ path: [...path, 'validation', 'count'], message: `asks for ${count} samples but the ${fromTest ? 'test' : 'training'} set has ${pool.length}` }]);
    }
    const { picked, rest } = pickIndices(labels, pool, count, rng, v.stratified);
    valIdx = picked;
    valFromTest = fromTest;
    if (fromTest) testIdx = rest;
    else trainIdx = rest;
  }
  if (spec.subset) {
    if (spec.subset.train > trainIdx.length) {
      throw new SpecError([{ path: [...path, 'subset', 'train'], message: `asks for ${spec.subset.train} samples but ${trainIdx.length} training samples are available` }]);
    }
    trainIdx = pickIndices(dataset.train.labels, trainIdx, spec.subset.train, rng, true).picked;
  }
  return {
    dataset,
    train: imageSource(dataset.train, trainIdx, t),
    validation: valIdx ? imageSource(valFromTest ? dataset.test : dataset.train, valIdx, t) : undefined,
    test: imageSource(dataset.test, testIdx, t),
    sampleShape: outputShape(dataset.train, t),
    classNames: dataset.classNames,
  };
}
