/**
 * CIFAR-10 in either of its forms, searched in this order: a path the user gives; $CONVLAB_DATA/cifar-10-batches-bin
 * (the official binary batches, or a .tar.gz of them); $CONVLAB_DATA/cifar10-jpeg (an image folder with train/ and
 * test/, or a .tar.gz of one). Labels follow the official order. Decoded once, then read from the cache.
 */
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { cached, cacheKey } from './cache.js';
import type { Dataset, ImageSet } from './dataset.js';
import { DataError } from './errors.js';
import { readFiles } from './files.js';
import { loadImageFolder } from './image_folder.js';

export const CIFAR10_CLASSES = ['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck'];

const RECORD = 1 + 32 * 32 * 3;
const TRAIN_FILES = [1, 2, 3, 4, 5].map((i) => `data_batch_${i}.bin`);
const TEST_FILE = 'test_batch.bin';

/** Records of the binary format (label byte, then 1024 red, 1024 green, 1024 blue) into NHWC uint8. */
export function parseCifarBinary(files: { name: string; bytes: Uint8Array }[], where: string): ImageSet {
  let count = 0;
  for (const f of files) {
    if (f.bytes.length === 0 || f.bytes.length % RECORD !== 0) {
      const whole = Math.floor(f.bytes.length / RECORD);
      throw new DataError(
        `${where}/${f.name}: truncated or corrupt: ${f.bytes.length} bytes is not a whole number of ${RECORD}-byte records (the last complete record ends at offset ${whole * RECORD})`,
      );
    }
    count += f.bytes.length / RECORD;
  }
  const images = new Uint8Array(count * 3072);
  const labels = new Int32Array(count);
  let n = 0;
  for (const f of files) {
    const b = f.bytes;
    for (let r = 0; r < b.length / RECORD; r++, n++) {
      const o = r * RECORD;
      const label = b[o];
      if (label > 9) throw new DataError(`${where}/${f.name}: label ${label} at offset ${o} is out of range: expected 0..9`);
      labels[n] = label;
      const dst = n * 3072;
      for (let p = 0; p < 1024; p++) {
        images[dst + p * 3] = b[o + 1 + p];
        images[dst + p * 3 + 1] = b[o + 1 + 1024 + p];
        images[dst + p * 3 + 2] = b[o + 1 + 2048 + p];
      }
    }
  }
  return { images, labels, count, height: 32, width: 32, channels: 3 };
}

/** The official binary batches from a folder or .tar.gz (the batches may sit in a cifar-10-batches-bin/ folder). */
export async function loadCifarBinary(path: string): Promise<Dataset> {
  const wanted = new Set([...TRAIN_FILES, TEST_FILE]);
  const tree = await readFiles(path, (p) => wanted.has(p.split('/').pop() as string));
  const byName = new Map(tree.files.map((f) => [f.path.split('/').pop() as string, f.bytes]));
  const missing = [...wanted].filter((n) => !byName.has(n));
  if (missing.length) throw new DataError(`${path}: not the CIFAR-10 binary batches: missing ${missing.join(', ')}`);
  const get = (name: string) => ({ name, bytes: byName.get(name) as Uint8Array });
  const train = parseCifarBinary(TRAIN_FILES.map(get), path);
  const test = parseCifarBinary([get(TEST_FILE)], path);
  return { name: 'cifar10', classNames: CIFAR10_CLASSES, train, test, source: path };
}

type Form = 'binary' | 'images';

/** Where CIFAR-10 is and in which form, following the search order; null when it is nowhere. */
export function findCifar10(path?: string): { path: string; form: Form } | null {
  const formOf = (p: string): Form => {
    if (/\.(tar\.gz|tgz)$/i.test(p)) return /jpe?g|png|image/i.test(p) ? 'images' : 'binary';
    if (statSync(p).isDirectory() && (existsSync(join(p, 'data_batch_1.bin')) || existsSync(join(p, 'cifar-10-batches-bin'))))
      return 'binary';
    return 'images';
  };
  if (path) {
    if (!existsSync(path)) throw new DataError(`${path}: not found (given as the CIFAR-10 path)`);
    return { path, form: formOf(path) };
  }
  const root = process.env.CONVLAB_DATA;
  if (!root) return null;
  const candidates: [string, Form][] = [
    [join(root, 'cifar-10-batches-bin'), 'binary'],
    [join(root, 'cifar-10-batches-bin.tar.gz'), 'binary'],
    [join(root, 'cifar-10-binary.tar.gz'), 'binary'],
    [join(root, 'cifar10-jpeg'), 'images'],
    [join(root, 'cifar10-jpeg.tar.gz'), 'images'],
  ];
  for (const [p, form] of candidates) if (existsSync(p)) return { path: p, form };
  return null;
}

export function cifar10Candidates(): string[] {
  const root = process.env.CONVLAB_DATA;
  return root ? ['cifar-10-batches-bin[.tar.gz]', 'cifar-10-binary.tar.gz', 'cifar10-jpeg[.tar.gz]'].map((n) => join(root, n)) : [];
}

/** What to say when CIFAR-10 is nowhere it is looked for. */
export function cifar10Missing(): string {
  const where = cifar10Candidates();
  return (
    `CIFAR-10 not found: ${where.length ? `looked in ${where.join(', ')}` : 'CONVLAB_DATA is not set'}; ` +
    'pass data.path (the binary batches, or an image folder with train/ and test/, or a .tar.gz of either)'
  );
}

export async function loadCifar10(path?: string): Promise<Dataset & { fromCache: boolean }> {
  const found = findCifar10(path);
  if (!found) throw new DataError(cifar10Missing());
  const key = cacheKey('cifar10', found.path, { form: found.form });
  return cached(key, async () => {
    const d =
      found.form === 'binary'
        ? await loadCifarBinary(found.path)
        : await loadImageFolder(found.path, { classNames: CIFAR10_CLASSES, color: 'rgb', name: 'cifar10' });
    for (const [split, set] of [
      ['train', d.train],
      ['test', d.test],
    ] as const) {
      if (set.height !== 32 || set.width !== 32 || set.channels !== 3) {
        throw new DataError(`${found.path}: ${split} images are ${set.height}×${set.width}×${set.channels}: CIFAR-10 images are 32×32×3`);
      }
    }
    return d;
  });
}
