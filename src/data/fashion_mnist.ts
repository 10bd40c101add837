/**
 * Fashion-MNIST from IDX files (gzipped or plain), searched in a folder the user gives, then
 * $CONVLAB_DATA/fashion-mnist, then Debian's /usr/share/datasets/fashion-mnist. Official files are checked by sha256.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Dataset } from './dataset.js';
import { DataError } from './errors.js';
import { loadIdxDataset } from './mnist.js';

export const FASHION_MNIST_SHA256 = {
  'train-images-idx3-ubyte': 'c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888',
  'train-labels-idx1-ubyte': 'bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9',
  't10k-images-idx3-ubyte': '5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b',
  't10k-labels-idx1-ubyte': '0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34',
};

export const FASHION_CLASSES = ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot'];

const BASES = Object.keys(FASHION_MNIST_SHA256);

/** The file for `base` in dir, plain or .gz, or null. */
function find(dir: string, base: string): string | null {
  for (const name of [base, `${base}.gz`]) if (existsSync(join(dir, name))) return name;
  return null;
}

export function fashionMnistCandidates(path?: string): string[] {
  const dirs: string[] = [];
  if (path) dirs.push(path);
  if (process.env.CONVLAB_DATA) dirs.push(join(process.env.CONVLAB_DATA, 'fashion-mnist'));
  dirs.push('/usr/share/datasets/fashion-mnist');
  return dirs;
}

export function findFashionMnist(path?: string): string | null {
  if (path && !existsSync(path)) throw new DataError(`${path}: directory not found (given as the Fashion-MNIST path)`);
  for (const dir of fashionMnistCandidates(path)) if (BASES.every((b) => find(dir, b))) return dir;
  if (path) throw new DataError(`${path}: no Fashion-MNIST IDX files here: expected ${BASES.map((b) => `${b}[.gz]`).join(', ')}`);
  return null;
}

/** What to say when Fashion-MNIST is nowhere it is looked for. */
export function fashionMnistMissing(path?: string): string {
  return `Fashion-MNIST not found: looked in ${fashionMnistCandidates(path).join(', ')}; set CONVLAB_DATA, pass data.path, or install Debian's dataset-fashion-mnist`;
}

export function loadFashionMnist(path?: string): Dataset {
  const dir = findFashionMnist(path);
  if (!dir) {
    throw new DataError(fashionMnistMissing(path));
  }
  const f = (b: string) => find(dir, b) as string;
  return loadIdxDataset(
    'fashion-mnist',
    dir,
    {
      trainImages: f('train-images-idx3-ubyte'),
      trainLabels: f('train-labels-idx1-ubyte'),
      testImages: f('t10k-images-idx3-ubyte'),
      testLabels: f('t10k-labels-idx1-ubyte'),
    },
    FASHION_CLASSES,
    FASHION_MNIST_SHA256,
  );
}
