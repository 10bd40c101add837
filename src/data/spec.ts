/**
 * The spec's `data:` block: which dataset, transforms, the validation split and a training subset, turned into
 * batch sources for the trainer. Splits and subsets are drawn from the spec's seed.
 */
import { z } from 'zod';
import { Random } from '../engine/random.js';
import type { Tensor } from '../engine/tensor.js';
import { parseArgs } from '../util/spec_error.js';
import { SpecError } from '../util/spec_error.js';
import type { BatchSource } from './source.js';
import type { Augmentation } from './augment.js';
import { channelStats, imageSource, outputShape, type Dataset, type ImageSet, type ImageTransform } from './dataset.js';
import { resizeBilinear } from './image.js';
import { existsSync } from 'node:fs';
import { formatPath } from '../util/spec_error.js';
import { cached, cacheKey } from './cache.js';
import { cifar10Missing, findCifar10, loadCifar10 } from './cifar10.js';
import { clockTargets, generateClocks } from './clocks.js';
import type { TargetLayout } from './targets.js';
import { DataError } from './errors.js';
import { fashionMnistMissing, findFashionMnist, loadFashionMnist } from './fashion_mnist.js';
import { loadImageFolder } from './image_folder.js';
import { loadMnist } from './mnist.js';
import { pickIndices } from './split.js';
import { backgroundOf, type InputPipeline } from './pipeline.js';

const transform = z.union(
  [
    z.strictObject({ pad: z.number().int().nonnegative() }),
    z.strictObject({ scale: z.tuple([z.number(), z.number()]) }),
    z.strictObject({ standardize: z.literal(true) }),
    z.strictObject({
      normalize: z.union([
        z.literal('imagenet'),
        z.strictObject({ mean: z.array(z.number()).min(1), std: z.array(z.number().positive()).min(1) }),
      ]),
    }),
    z.strictObject({ resize: z.tuple([z.number().int().positive(), z.number().int().positive()]) }),
    z.strictObject({ grayscale: z.literal(true) }),
    z.strictObject({ channel: z.number().int().nonnegative() }),
    z.strictObject({ permute_pixels: z.strictObject({ seed: z.number().int() }) }),
    z.strictObject({ one_hot: z.literal(true) }),
  ],
  {
    error:
      'expected one of {pad: n}, {scale: [low, high]}, {standardize: true}, {normalize: imagenet | {mean, std}}, ' +
      '{resize: [h, w]}, {grayscale: true}, {channel: k}, {permute_pixels: {seed: n}}, {one_hot: true}',
  },
);

const augmentation = z.union(
  [
    z.strictObject({ random_crop: z.strictObject({ padding: z.number().int().positive() }) }),
    z.strictObject({ flip: z.enum(['horizontal', 'vertical', 'horizontal_and_vertical']) }),
    z.strictObject({ rotate: z.number().positive().max(180) }),
    z.strictObject({ translate: z.number().positive().max(1) }),
    z.strictObject({ zoom: z.number().positive().lt(1) }),
  ],
  {
    error:
      'expected one of {random_crop: {padding: n}}, {flip: horizontal|vertical|horizontal_and_vertical}, {rotate: degrees}, {translate: fraction}, {zoom: fraction}',
  },
);

export const dataSchema = z.strictObject({
  dataset: z.enum(['mnist', 'fashion-mnist', 'cifar10', 'image-folder', 'clocks']),
  path: z.string().optional(),
  /** image-folder: resize every image to [height, width] (bilinear). */
  size: z.tuple([z.number().int().positive(), z.number().int().positive()]).optional(),
  /** image-folder: rgb (3 channels) or grayscale (1). */
  color: z.enum(['rgb', 'grayscale']).default('rgb'),
  /** image-folder without train/ and test/ folders: the stratified share of each class held out for testing. */
  test_fraction: z.number().gt(0).lt(1).default(0.2),
  /** clocks: how many images (default 18,000) and the label scheme (default hour). */
  count: z.number().int().min(2).optional(),
  target: z.enum(['hour', 'minute', 'classes24', 'classes720', 'regression', 'periodic', 'hour_minute']).optional(),
  transforms: z.array(transform).default([{ scale: [0, 1] }]),
  /** Training-time augmentation, drawn fresh for every sample of every epoch from the spec's seed. */
  augment: z.array(augmentation).default([]),
  validation: z
    .union(
      [
        z.strictObject({ fraction: z.number().gt(0).lt(1), stratified: z.boolean().default(true) }),
        z.strictObject({ count: z.number().int().positive(), stratified: z.boolean().default(true) }),
        z.strictObject({ from: z.literal('test'), count: z.number().int().positive(), stratified: z.boolean().default(true) }),
      ],
      { error: 'expected {fraction: f}, {count: n} or {from: test, count: n} (each with optional stratified)' },
    )
    .optional(),
  /** A subset of the training samples: seeded and stratified (random, the default) or the first n in file order. */
  subset: z.strictObject({ train: z.number().int().positive(), pick: z.enum(['random', 'first']).default('random') }).optional(),
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
  /** The training samples without augmentation, for evaluation (only when the data block augments). */
  trainEvaluation?: BatchSource;
  /** The clocks' label scheme, when the data block names one. */
  targetLayout?: TargetLayout;
  /** How an image file becomes the model's input, saved with the model for `predict`. */
  pipeline: InputPipeline;
}

/**
 * A dataset by name for code, as train / validation / test batch sources that `fit`, `evaluate` and `toTensors`
 * take: `loadDataset('mnist', {transforms: [{scale: [0, 1]}], validation: {fraction: 0.1}})`. The options are
 * those of a spec's data block, plus the seed that draws the splits.
 */
export async function loadDataset(name: string, options: Omit<DataSpec, 'dataset'> & { seed?: number } = {}): Promise<PreparedData> {
  const { seed = 0, ...block } = options;
  return prepareData({ dataset: name, ...block }, seed);
}

/** Every sample of a batch source as one input tensor and one target tensor (the first of each). */
export function toTensors(source: BatchSource): { x: Tensor; y: Tensor } {
  const { x, y } = source.batch(Array.from({ length: source.size }, (_, i) => i));
  return { x: x[0], y: y[0] };
}

/**
 * Why a data block's dataset files cannot be found, checked without reading them (null when they can, or when the
 * dataset needs no files: MNIST comes with its package, clocks are drawn). `convlab run` asks this once per dataset
 * before the first trial, so a missing dataset is one clear error rather than every trial failing alike.
 */
export function dataFilesProblem(block: unknown): string | null {
  const r = dataSchema.safeParse(block);
  if (!r.success) return null; // the block's own errors are reported by its checks
  const spec = r.data;
  try {
    switch (spec.dataset) {
      case 'cifar10':
        return findCifar10(spec.path) ? null : cifar10Missing();
      case 'fashion-mnist':
        return findFashionMnist(spec.path) ? null : fashionMnistMissing(spec.path);
      case 'image-folder':
        if (spec.path === undefined) return 'image-folder: data.path is required (a folder of class folders, or a .tar.gz)';
        return existsSync(spec.path) ? null : `${spec.path}: not found (given as the image folder's data.path)`;
      default:
        return null;
    }
  } catch (e) {
    if (e instanceof DataError) return e.message;
    throw e;
  }
}

/** A dataset by name, as the data block names it (for the CLI's data commands too). */
export async function loadNamedDataset(
  name: string,
  options: { path?: string; size?: [number, number]; color?: 'rgb' | 'grayscale'; count?: number; seed?: number } = {},
): Promise<Dataset> {
  const raw: Record<string, unknown> = { dataset: name };
  if (options.path !== undefined) raw.path = options.path;
  if (options.size) raw.size = options.size;
  if (options.color) raw.color = options.color;
  if (options.count !== undefined) raw.count = options.count;
  const spec = parseArgs(dataSchema, raw, 'data');
  if (spec.path !== undefined && !existsSync(spec.path)) throw new DataError(`${spec.path}: not found`);
  return loadDatasetFiles(spec, options.seed ?? 0, ['data']);
}

async function loadDatasetFiles(spec: z.output<typeof dataSchema>, seed: number, path: (string | number)[]): Promise<Dataset> {
  switch (spec.dataset) {
    case 'mnist':
      return loadMnist();
    case 'fashion-mnist':
      return loadFashionMnist(spec.path);
    case 'cifar10':
      return loadCifar10(spec.path);
    case 'clocks': {
      if (spec.size && spec.size[0] !== spec.size[1])
        throw new SpecError([{ path: [...path, 'size'], message: `clocks are square: expected [n, n], got [${spec.size.join(', ')}]` }]);
      const options = { count: spec.count ?? 18000, size: spec.size?.[0] ?? 150, seed, testFraction: spec.test_fraction };
      return cached(cacheKey('clocks', '.', { ...options, v: 1 }, false), async () => generateClocks(options));
    }
    case 'image-folder': {
      if (!spec.path)
        throw new SpecError([
          { path: [...path, 'path'], message: 'image-folder needs a path: a <class>/<image> folder, or a .tar.gz of one' },
        ]);
      const options = { size: spec.size, color: spec.color, testFraction: spec.test_fraction, seed };
      return cached(cacheKey('image-folder', spec.path, options), () => loadImageFolder(spec.path as string, options));
    }
  }
}

/**
 * What each sample's target is, per model output, from the data block alone (no data is read): 0 for one value (a
 * class index, or a number), n for a row of n values, 'classes' for a one-hot row of the dataset's classes. Null
 * when the block itself is invalid (its checks report that).
 */
export function targetWidths(raw: unknown): (number | 'classes')[] | null {
  let spec: z.output<typeof dataSchema>;
  try {
    spec = parseArgs(dataSchema, raw, 'data');
  } catch {
    return null;
  }
  if (spec.target !== undefined) return spec.dataset === 'clocks' ? clockTargets(spec.target).widths : null;
  return [spec.transforms.some((t) => 'one_hot' in t) ? 'classes' : 0];
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
  let standardize = false;
  let normalize: { mean: number[]; std: number[]; at: number } | null = null;
  let permuteSeed: number | null = null;
  const reshape: ({ resize: [number, number] } | { grayscale: true } | { channel: number })[] = [];
  for (const step of spec.transforms) {
    if ('pad' in step) t.pad += step.pad;
    else if ('scale' in step) t.scale = step.scale;
    else if ('standardize' in step) standardize = true;
    else if ('normalize' in step)
      normalize = { ...(step.normalize === 'imagenet' ? IMAGENET_STATS : step.normalize), at: spec.transforms.indexOf(step) };
    else if ('permute_pixels' in step) permuteSeed = step.permute_pixels.seed;
    else if ('one_hot' in step) t.oneHot = -1;
    else reshape.push(step);
  }
  if (spec.path !== undefined && !existsSync(spec.path))
    throw new DataError(`${spec.path}: not found (given as ${formatPath([...path, 'path'])})`);
  let dataset = await loadDatasetFiles(spec, seed, path);
  // Geometry and colour transforms change the stored uint8 images once, for both splits; a final resize to a size
  // whose images would take more than EAGER_RESIZE_BYTES is done per batch instead, so they are never all held.
  const lastStep = reshape[reshape.length - 1];
  if (lastStep && 'resize' in lastStep) {
    const [rh, rw] = lastStep.resize;
    const channels = reshape.some((s) => 'grayscale' in s || 'channel' in s) ? 1 : dataset.train.channels;
    if ((dataset.train.count + dataset.test.count) * rh * rw * channels > EAGER_RESIZE_BYTES) {
      t.resize = lastStep.resize;
      reshape.pop();
    }
  }
  for (const step of reshape) {
    const where = formatPath([...path, 'transforms', spec.transforms.indexOf(step as never)]);
    dataset = { ...dataset, train: reshapeSet(dataset.train, step, where), test: reshapeSet(dataset.test, step, where) };
  }
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
      throw new SpecError([
        {
          path: [...path, 'validation', 'count'],
          message: `asks for ${count} samples but the ${fromTest ? 'test' : 'training'} set has ${pool.length}`,
        },
      ]);
    }
    const { picked, rest } = pickIndices(labels, pool, count, rng, v.stratified);
    valIdx = picked;
    valFromTest = fromTest;
    if (fromTest) testIdx = rest;
    else trainIdx = rest;
  }
  if (spec.subset) {
    if (spec.subset.train > trainIdx.length) {
      throw new SpecError([
        {
          path: [...path, 'subset', 'train'],
          message: `asks for ${spec.subset.train} samples but ${trainIdx.length} training samples are available`,
        },
      ]);
    }
    trainIdx =
      spec.subset.pick === 'first'
        ? Int32Array.from(trainIdx).sort().subarray(0, spec.subset.train)
        : pickIndices(dataset.train.labels, trainIdx, spec.subset.train, rng, true).picked;
  }
  if (standardize) t.standardize = channelStats(dataset.train, trainIdx);
  if (normalize) {
    const where = [...path, 'transforms', normalize.at, 'normalize'];
    const c = dataset.train.channels;
    if (standardize) throw new SpecError([{ path: where, message: 'does not combine with standardize: true; keep one' }]);
    if (normalize.mean.length !== c || normalize.std.length !== c) {
      throw new SpecError([
        {
          path: where,
          message: `needs one mean and one std per channel: the images have ${c}, given ${normalize.mean.length} and ${normalize.std.length}`,
        },
      ]);
    }
    // Given for values in [0, 1], as torchvision's Normalize takes them; the stored pixels are 0-255.
    t.standardize = { mean: normalize.mean.map((m) => m * 255), std: normalize.std.map((s) => s * 255) };
  }
  if (t.oneHot) t.oneHot = dataset.classNames.length;
  let classNames = dataset.classNames;
  if (spec.target !== undefined) {
    if (spec.dataset !== 'clocks')
      throw new SpecError([{ path: [...path, 'target'], message: `label schemes apply to the clocks dataset, not ${spec.dataset}` }]);
    t.targetLayout = clockTargets(spec.target);
    classNames = t.targetLayout.classNames ?? [];
    if (t.oneHot) throw new SpecError([{ path: [...path, 'transforms'], message: 'one_hot does not combine with a clocks target scheme' }]);
  }
  if (permuteSeed !== null) {
    const [oh, ow] = outputShape(dataset.train, t);
    t.permutation = new Random(permuteSeed).permutation(oh * ow);
  }
  const augment = spec.augment.length ? { steps: spec.augment.map(toAugmentation), rng: new Random(seed ^ 0xa4a) } : undefined;
  return {
    dataset,
    train: imageSource(dataset.train, trainIdx, t, augment),
    trainEvaluation: augment ? imageSource(dataset.train, trainIdx, t) : undefined,
    validation: valIdx ? imageSource(valFromTest ? dataset.test : dataset.train, valIdx, t) : undefined,
    test: imageSource(dataset.test, testIdx, t),
    sampleShape: outputShape(dataset.train, t),
    classNames,
    targetLayout: t.targetLayout ?? undefined,
    pipeline: {
      height: t.resize?.[0] ?? dataset.train.height,
      width: t.resize?.[1] ?? dataset.train.width,
      channels: dataset.train.channels,
      pad: t.pad,
      scale: t.scale,
      standardize: t.standardize ?? null,
      permute_seed: permuteSeed,
      class_names: classNames,
      dataset: dataset.name,
      background: backgroundOf(
        dataset.train.images,
        dataset.train.count,
        dataset.train.height,
        dataset.train.width,
        dataset.train.channels,
      ),
    },
  };
}

function toAugmentation(step: z.output<typeof augmentation>): Augmentation {
  if ('random_crop' in step) return { randomCrop: step.random_crop };
  return step as Augmentation;
}

/** ImageNet's per-channel mean and standard deviation (RGB, values in [0, 1]), as torchvision's models expect. */
export const IMAGENET_STATS = { mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] };

/** The most bytes of resized images held at once; a larger resize happens per batch. */
export const EAGER_RESIZE_BYTES = 512 * 1024 * 1024;

/** resize, grayscale or one channel, applied to every image of a split. */
function reshapeSet(
  set: ImageSet,
  step: { resize: [number, number] } | { grayscale: true } | { channel: number },
  where: string,
): ImageSet {
  const { height: h, width: w, channels: c } = set;
  const per = h * w * c;
  if ('resize' in step) {
    const [oh, ow] = step.resize;
    const images = new Uint8Array(set.count * oh * ow * c);
    for (let i = 0; i < set.count; i++) {
      const r = resizeBilinear({ height: h, width: w, channels: c, data: set.images.subarray(i * per, (i + 1) * per) }, oh, ow);
      images.set(r.data, i * oh * ow * c);
    }
    return { ...set, images, height: oh, width: ow };
  }
  if ('grayscale' in step) {
    if (c === 1) return set;
    if (c !== 3) throw new DataError(`${where}: grayscale needs 1 or 3 channels, the images have ${c}`);
    const images = new Uint8Array(set.count * h * w);
    for (let p = 0; p < set.count * h * w; p++) {
      images[p] = Math.round((set.images[p * 3] * 299 + set.images[p * 3 + 1] * 587 + set.images[p * 3 + 2] * 114) / 1000);
    }
    return { ...set, images, channels: 1 };
  }
  const k = step.channel;
  if (k >= c) throw new DataError(`${where}: channel ${k} does not exist: the images have ${c} channel${c === 1 ? '' : 's'} (0..${c - 1})`);
  const images = new Uint8Array(set.count * h * w);
  for (let p = 0; p < set.count * h * w; p++) images[p] = set.images[p * c + k];
  return { ...set, images, channels: 1 };
}
