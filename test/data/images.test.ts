/**
 * CIFAR-10 (binary batches and image folders, plain and .tar.gz), image-folder datasets, PNG/JPEG decoding,
 * resizing and grayscale, the decoded-dataset cache, every bad-input case, and (with ../shared/data) the real
 * CIFAR-10.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, describe, test } from 'node:test';
import { readCache } from '../../src/data/cache.js';
import { CIFAR10_CLASSES, findCifar10, loadCifar10, loadCifarBinary } from '../../src/data/cifar10.js';
import { DataError } from '../../src/data/errors.js';
import { readTarGz } from '../../src/data/files.js';
import { decodeImage, resizeBilinear } from '../../src/data/image.js';
import { loadImageFolder } from '../../src/data/image_folder.js';
import { prepareData } from '../../src/data/spec.js';
import { cifarRecords, jpegBytes, pngBytes, tarGz, writeFileDeep } from '../helpers/image_files.js';

const root = mkdtempSync(join(tmpdir(), 'convlab-images-'));
after(() => rmSync(root, { recursive: true, force: true }));
process.env.CONVLAB_CACHE = join(root, 'cache');

/** Pixel (y, x, c) of the i-th generated CIFAR record. */
const px = (i: number) => (y: number, x: number, c: number) => (i * 7 + y * 3 + x * 5 + c * 11) % 256;

function writeCifarBinary(dir: string): void {
  mkdirSync(dir, { recursive: true });
  for (let b = 1; b <= 5; b++)
    writeFileSync(join(dir, `data_batch_${b}.bin`), cifarRecords([0, 1].map((k) => ({ label: (b * 2 + k) % 10, pixel: px(b * 2 + k) }))));
  writeFileSync(join(dir, 'test_batch.bin'), cifarRecords([{ label: 3, pixel: px(99) }]));
}

describe('CIFAR-10 binary batches', () => {
  const dir = join(root, 'cifar-bin', 'cifar-10-batches-bin');
  writeCifarBinary(dir);
  test('records become NHWC images with their labels, from a folder and from a .tar.gz', async () => {
    const d = await loadCifarBinary(dir);
    assert.equal(d.train.count, 10);
    assert.equal(d.test.count, 1);
    assert.deepEqual([...d.train.labels], [2, 3, 4, 5, 6, 7, 8, 9, 0, 1]);
    // Sample 0 is record (b=1, k=0) = generator index 2; pixel (y=4, x=5), green.
    assert.equal(d.train.images[(4 * 32 + 5) * 3 + 1], px(2)(4, 5, 1));
    assert.equal(d.test.images[(31 * 32 + 31) * 3 + 2], px(99)(31, 31, 2));
    const archive = join(root, 'cifar-10-binary.tar.gz');
    await tarGz(join(root, 'cifar-bin'), archive);
    const t = await loadCifarBinary(archive);
    assert.deepEqual(t.train.images, d.train.images);
    assert.deepEqual(t.test.labels, d.test.labels);
  });
  test('a truncated batch, a label out of range and a missing batch are reported with the file', async () => {
    const bad = join(root, 'cifar-bad');
    writeCifarBinary(bad);
    writeFileSync(join(bad, 'data_batch_3.bin'), cifarRecords([{ label: 1, pixel: px(1) }]).subarray(0, 3000));
    await assert.rejects(
      () => loadCifarBinary(bad),
      (e: Error) => e instanceof DataError && /data_batch_3\.bin: truncated or corrupt: 3000 bytes/.test(e.message),
    );
    writeFileSync(join(bad, 'data_batch_3.bin'), cifarRecords([{ label: 12, pixel: px(1) }]));
    await assert.rejects(() => loadCifarBinary(bad), /data_batch_3\.bin: label 12 at offset 0 is out of range: expected 0\.\.9/);
    rmSync(join(bad, 'data_batch_3.bin'));
    await assert.rejects(() => loadCifarBinary(bad), /missing data_batch_3\.bin/);
  });
  test('the search order finds the binary batches under CONVLAB_DATA, and a missing path is named', () => {
    const saved = process.env.CONVLAB_DATA;
    process.env.CONVLAB_DATA = join(root, 'cifar-bin');
    try {
      assert.deepEqual(findCifar10(), { path: dir, form: 'binary' });
    } finally {
      if (saved === undefined) delete process.env.CONVLAB_DATA;
      else process.env.CONVLAB_DATA = saved;
    }
    assert.throws(() => findCifar10(join(root, 'nope')), /nope: not found/);
  });
});

describe('image folders', () => {
  const color =
    (cls: number, i: number) =>
    (y: number, x: number): [number, number, number] => [cls * 60 + i, y * 10, x * 10];
  const split = join(root, 'split');
  ['cat', 'dog', 'ant'].forEach((c, k) => {
    for (let i = 0; i < 3; i++) writeFileDeep(join(split, 'train', c, `${i}.png`), pngBytes(4, 3, color(k, i)));
    writeFileDeep(join(split, 'test', c, 'a.jpg'), jpegBytes(4, 3, color(k, 9)));
  });
  test('train/ and test/ folders with PNG and JPEG: sorted class names, exact PNG pixels, near JPEG pixels', async () => {
    const d = await loadImageFolder(split);
    assert.deepEqual(d.classNames, ['ant', 'cat', 'dog']);
    assert.equal(d.train.count, 9);
    assert.equal(d.test.count, 3);
    assert.deepEqual([d.train.height, d.train.width, d.train.channels], [3, 4, 3]);
    // train is sorted by path: ant/0, ant/1, ant/2, cat/0 … ; ant was written with k = 2.
    assert.deepEqual([...d.train.labels], [0, 0, 0, 1, 1, 1, 2, 2, 2]);
    assert.deepEqual([...d.train.images.subarray(0, 3)], color(2, 0)(0, 0));
    const jpg = d.test.images.subarray(3 * 4 * 3 + (2 * 4 + 3) * 3, 3 * 4 * 3 + (2 * 4 + 3) * 3 + 3);
    color(0, 9)(2, 3).forEach((v, c) => assert.ok(Math.abs(jpg[c] - v) <= 12, `jpeg channel ${c}: ${jpg[c]} vs ${v}`));
  });
  test('a .tar.gz cut off in the middle of a file is a DataError naming the archive, not a crash', async () => {
    // An incompressible file, so the cut lands inside its data (where the old reader crashed the process).
    const big = join(root, 'big-tree');
    writeFileDeep(
      join(big, 'cat', 'noise.bin'),
      Uint8Array.from({ length: 300_000 }, (_, i) => (i * 2654435761) >>> 24),
    );
    const archive = join(root, 'whole.tar.gz');
    await tarGz(big, archive);
    const bytes = readFileSync(archive);
    const cut = join(root, 'cut.tar.gz');
    writeFileSync(cut, bytes.subarray(0, Math.floor(bytes.length * 0.6)));
    await assert.rejects(
      () => readTarGz(cut),
      (e: Error) => e instanceof DataError && /cut\.tar\.gz: truncated or corrupt \.tar\.gz/.test(e.message),
    );
  });

  test('the same tree as a .tar.gz inside one folder loads identically', async () => {
    const archive = join(root, 'split.tar.gz');
    await tarGz(split, archive, 'my-images');
    const a = await loadImageFolder(archive);
    const b = await loadImageFolder(split);
    assert.deepEqual(a.train.images, b.train.images);
    assert.deepEqual(a.classNames, b.classNames);
  });
  test('without train/test folders a seeded, stratified 20% of each class becomes the test split', async () => {
    const flat = join(root, 'flat');
    ['x', 'y'].forEach((c, k) => {
      for (let i = 0; i < 10; i++) writeFileDeep(join(flat, c, `${i}.png`), pngBytes(2, 2, color(k, i)));
    });
    const d = await loadImageFolder(flat, { seed: 5 });
    assert.equal(d.train.count, 16);
    assert.equal(d.test.count, 4);
    assert.deepEqual([...d.test.labels].sort(), [0, 0, 1, 1]);
    const again = await loadImageFolder(flat, { seed: 5 });
    assert.deepEqual(again.test.images, d.test.images);
  });
  test('mixed sizes need a size; with one every image is resized; grayscale gives one channel', async () => {
    const mixed = join(root, 'mixed');
    writeFileDeep(
      join(mixed, 'a', '0.png'),
      pngBytes(4, 4, () => [10, 20, 30]),
    );
    writeFileDeep(
      join(mixed, 'b', '0.png'),
      pngBytes(8, 6, () => [200, 100, 0]),
    );
    await assert.rejects(() => loadImageFolder(mixed), /images of different sizes: a\/0\.png is 4×4, b\/0\.png is 6×8; give a size/);
    const d = await loadImageFolder(mixed, { size: [5, 5], color: 'grayscale', testFraction: 0.5 });
    assert.deepEqual([d.train.height, d.train.width, d.train.channels], [5, 5, 1]);
    // Luma of (200, 100, 0) = round(0.299·200 + 0.587·100) = 119; of (10, 20, 30) = 18.
    const values = new Set([...d.train.images, ...d.test.images]);
    assert.deepEqual(
      [...values].sort((p, q) => p - q),
      [18, 119],
    );
  });
  test('an empty class folder, an unreadable image and a missing folder are errors naming them', async () => {
    const bad = join(root, 'bad');
    writeFileDeep(
      join(bad, 'a', '0.png'),
      pngBytes(2, 2, () => [1, 2, 3]),
    );
    mkdirSync(join(bad, 'empty'), { recursive: true });
    await assert.rejects(() => loadImageFolder(bad), /class folder 'empty' has no \.png or \.jpg images/);
    rmSync(join(bad, 'empty'), { recursive: true });
    writeFileDeep(join(bad, 'b', 'broken.jpg'), Buffer.from('this is not a jpeg'));
    await assert.rejects(() => loadImageFolder(bad), /b\/broken\.jpg: unreadable image/);
    await assert.rejects(() => loadImageFolder(join(root, 'missing')), /missing: directory not found/);
  });
  test('bilinear resize follows the half-pixel convention; decoding rejects unknown formats', () => {
    const img = { height: 2, width: 2, channels: 1, data: Uint8Array.from([0, 100, 200, 250]) };
    assert.deepEqual([...resizeBilinear(img, 1, 1).data], [138]);
    assert.deepEqual([...resizeBilinear(img, 4, 4).data.subarray(0, 4)], [0, 25, 75, 100]);
    assert.throws(() => decodeImage(Uint8Array.from([1, 2, 3, 4]), 'x.png', 'rgb'), /x\.png: unreadable image: not a PNG or JPEG/);
  });
  test('a spec with dataset image-folder trains from the folder; a missing path names data.path', async () => {
    const prepared = await prepareData({ dataset: 'image-folder', path: split, size: [8, 8], transforms: [{ scale: [0, 1] }] }, 1);
    assert.deepEqual(prepared.sampleShape, [8, 8, 3]);
    assert.equal(prepared.train.size, 9);
    const { x } = prepared.train.batch([0]);
    assert.deepEqual(x[0].shape, [1, 8, 8, 3]);
    await assert.rejects(() => prepareData({ dataset: 'image-folder' }, 1), /data\.path: image-folder needs a path/);
    await assert.rejects(
      () => prepareData({ dataset: 'image-folder', path: join(root, 'none') }, 1),
      /none: not found \(given as data\.path\)/,
    );
  });
});

describe('the decoded-dataset cache', () => {
  test('the second load comes from the cache with the same pixels; a corrupt or half-written entry is not used', async () => {
    const dir = join(root, 'cache-src', 'cifar-10-batches-bin');
    writeCifarBinary(dir);
    const first = await loadCifar10(dir);
    const second = await loadCifar10(dir);
    assert.equal(first.fromCache, false);
    assert.equal(second.fromCache, true);
    assert.deepEqual(second.train.images, first.train.images);
    assert.deepEqual(second.test.labels, first.test.labels);
    const cacheDir = process.env.CONVLAB_CACHE as string;
    const entries = readdirSync(cacheDir);
    assert.ok(
      entries.every((e) => e.endsWith('.bin')),
      `no temporary files left: ${entries}`,
    );
    const entry = entries.find((e) => e.startsWith('cifar10-')) as string;
    writeFileSync(join(cacheDir, entry), Buffer.from('convlab-dataset-cache v1\ngarbage'));
    assert.equal(readCache(entry.replace(/\.bin$/, '')), null);
    const third = await loadCifar10(dir);
    assert.equal(third.fromCache, false);
    assert.deepEqual(third.train.images, first.train.images);
  });
});

describe('CIFAR-10 from ../shared/data', () => {
  const shared = resolve('..', 'shared', 'data');
  const dataRoot = process.env.CONVLAB_DATA ?? (existsSync(shared) ? shared : undefined);
  const archive = dataRoot ? join(dataRoot, 'cifar10-jpeg.tar.gz') : '';
  const present = dataRoot !== undefined && existsSync(archive);
  test('the JPEG archive gives 50,000/10,000 32×32×3 images, 5,000/1,000 per class, in the official class order', {
    skip: present ? false : 'cifar10-jpeg.tar.gz not found (set CONVLAB_DATA to ../shared/data)',
  }, async () => {
    // A cache shared by the two backend runs of npm test, so the 60,000 JPEGs are decoded once.
    const saved = process.env.CONVLAB_CACHE;
    process.env.CONVLAB_CACHE = join(tmpdir(), 'convlab-test-cache');
    try {
      const d = await loadCifar10(archive);
      assert.deepEqual(d.classNames, CIFAR10_CLASSES);
      assert.equal(d.train.count, 50000);
      assert.equal(d.test.count, 10000);
      assert.deepEqual([d.train.height, d.train.width, d.train.channels], [32, 32, 3]);
      const count = (labels: Int32Array) =>
        labels.reduce((c, l) => {
          c[l]++;
          return c;
        }, new Array<number>(10).fill(0));
      assert.deepEqual(count(d.train.labels), new Array(10).fill(5000));
      assert.deepEqual(count(d.test.labels), new Array(10).fill(1000));
    } finally {
      process.env.CONVLAB_CACHE = saved;
    }
  });
});
