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
import { existsSync } from 'node:fs';
import { formatPath } from '../nn/spec.js';
import { cached, cacheKey } from './cache.js';
import { loadCifar10 } from './cifar10.js';
import { DataError } from './errors.js';
import { loadFashionMnist } from './fashion_mnist.js';
import { loadImageFolder } from './image_folder.js';
import { loadMnist } from './mnist.js';
import { pickIndices } from './split.js';

const transform = z.union([
  z.strictObject({ pad: z.number().int().nonnegative() }),
  z.strictObject({ scale: z.tuple([z.number(), z.number()]) }),
], { error: 'expected {pad: n} or {scale: [low, high]}' });

export const dataSchema = z.strictObject({
  dataset: z.enum(['mnist', 'fashion-mnist', 'cifar10', 'image-folder']),
  path: z.string().optional(),
  /** image-folder: resize every image to [height, width] (bilinear). */
  size: z.tuple([z.number().int().positive(), z.number().int().positive()]).optional(),
  /** image-folder: rgb (3 channels) or grayscale (1). */
  color: z.enum(['rgb', 'grayscale']).default('rgb'),
  /** image-folder without train/ and test/ folders: the stratified share of each class held out for testing. */
  testFraction: z.number().gt(0).lt(1).default(0.2),
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

async function loadDataset(spec: z.output<typeof dataSchema>, seed: number, path: (string | number)[]): Promise<Dataset> {
  switch (spec.dataset) {
    case 'mnist': return loadMnist();
    case 'fashion-mnist': return loadFashionMnist(spec.path);
    case 'cifar10': return loadCifar10(spec.path);
    case 'image-folder': {
      if (!spec.path) throw new SpecError([{ path: [...path, 'path'], message: 'image-folder needs a path: a <class>/<image> folder, or a .tar.gz of one' }]);
      const options = { size: spec.size, color: spec.color, testFraction: spec.testFraction, seed };
      return cached(cacheKey('image-folder', spec.path, options), () => loadImageFolder(spec.path as string, options));
    }
  }
}

/** Loads the dataset (decoding it once, then from the cache) and builds the train/validation/test sources. */
export async function prepareData(raw: unknown, seed: number, path: (string | number)[] = ['data']): Promise<PreparedData> {
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
  if (!existsSync(spec.path ?? '.')) throw new DataError(`${spec.path}: not found (given as ${formatPath([...path, 'path'])})`);
  const dataset = await loadDataset(spec, seed, path);
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
