/** The data block's transforms and augmentation: hand-computed values, permutation properties, seeded determinism. */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { augmentImage } from '../../src/data/augment.js';
import { channelStats, imageSource, type ImageSet } from '../../src/data/dataset.js';
import { prepareData } from '../../src/data/spec.js';
import { Random } from '../../src/engine/index.js';
import { pngBytes, writeFileDeep } from '../helpers/image_files.js';

const root = mkdtempSync(join(tmpdir(), 'convlab-transforms-'));
after(() => rmSync(root, { recursive: true, force: true }));
process.env.CONVLAB_CACHE = join(root, 'cache');

/** Two 2×2 RGB images with known pixels. */
const tiny: ImageSet = {
  images: Uint8Array.from([0, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100, 110, 120, 130, 140, 150, 160, 170, 180, 190, 200, 210, 220, 230]),
  labels: Int32Array.from([1, 0]),
  count: 2,
  height: 2,
  width: 2,
  channels: 3,
};

// An image folder of 3 classes × 6 images of 6×6 RGB, with every pixel distinct within an image.
const folder = join(root, 'imgs');
for (let k = 0; k < 3; k++)
  for (let i = 0; i < 6; i++)
    writeFileDeep(
      join(folder, `c${k}`, `${i}.png`),
      pngBytes(6, 6, (y, x) => [(y * 6 + x) * 7, k * 50 + i, x * 40]),
    );

describe('transforms', () => {
  test("standardize uses the training split's per-channel mean and std; scale maps 0–255 linearly", () => {
    const stats = channelStats(tiny, Int32Array.from([0, 1]));
    // Red channel values: 0, 30, 60, 90, 120, 150, 180, 210 → mean 105, population variance 4725.
    assert.ok(Math.abs(stats.mean[0] - 105) < 1e-9);
    assert.ok(Math.abs(stats.std[0] - Math.sqrt(4725)) < 1e-9);
    const std = imageSource(tiny, Int32Array.from([0]), { pad: 0, scale: null, standardize: stats }).batch([0]).x[0];
    assert.ok(Math.abs(std.data[0] - (0 - 105) / Math.sqrt(4725)) < 1e-6);
    const scaled = imageSource(tiny, Int32Array.from([1]), { pad: 1, scale: [-1, 1] }).batch([0]).x[0];
    assert.deepEqual(scaled.shape, [1, 4, 4, 3]);
    assert.equal(scaled.data[0], -1, 'padding is the transformed value of 0');
    assert.ok(Math.abs(scaled.data[(1 * 4 + 1) * 3] - (-1 + (2 * 120) / 255)) < 1e-6);
  });

  test('one_hot gives [batch, classes] targets', async () => {
    const p = await prepareData({ dataset: 'image-folder', path: folder, transforms: [{ scale: [0, 1] }, { one_hot: true }] }, 3);
    const { y } = p.train.batch([0, 1, 2]);
    assert.deepEqual(y[0].shape, [3, 3]);
    for (let r = 0; r < 3; r++) assert.equal(y[0].data[r * 3] + y[0].data[r * 3 + 1] + y[0].data[r * 3 + 2], 1);
  });

  test('permute_pixels: one fixed permutation for every image and split, a bijection of pixel positions', async () => {
    const spec = { dataset: 'image-folder', path: folder, transforms: [{ scale: [0, 255] }, { permute_pixels: { seed: 7 } }] };
    const plain = await prepareData({ dataset: 'image-folder', path: folder, transforms: [{ scale: [0, 255] }] }, 3);
    const perm = await prepareData(spec, 3);
    const again = await prepareData(spec, 3);
    const a = plain.train.batch([0, 1]).x[0].data;
    const b = perm.train.batch([0, 1]).x[0].data;
    assert.deepEqual(b, again.train.batch([0, 1]).x[0].data);
    assert.notDeepEqual(a, b);
    // The red channel holds distinct values per position: recover the permutation from image 0 and check image 1
    // and a test image follow the same one.
    const pos = (data: Float32Array, img: number) => Array.from({ length: 36 }, (_, i) => data[img * 108 + i * 3]);
    const order = pos(b, 0).map((v) => pos(a, 0).indexOf(v));
    assert.deepEqual(
      [...order].sort((p, q) => p - q),
      Array.from({ length: 36 }, (_, i) => i),
    );
    for (let i = 0; i < 36; i++) assert.equal(b[108 + i * 3 + 1], a[108 + order[i] * 3 + 1]);
    const ta = plain.test.batch([0]).x[0].data;
    const tb = perm.test.batch([0]).x[0].data;
    for (let i = 0; i < 36; i++) assert.equal(tb[i * 3 + 2], ta[order[i] * 3 + 2]);
  });

  test('resize, grayscale and channel change the stored images; a missing channel is named', async () => {
    const r = await prepareData({ dataset: 'image-folder', path: folder, transforms: [{ resize: [3, 3] }, { grayscale: true }] }, 3);
    assert.deepEqual(r.sampleShape, [3, 3, 1]);
    const c = await prepareData({ dataset: 'image-folder', path: folder, transforms: [{ channel: 2 }, { scale: [0, 255] }] }, 3);
    assert.deepEqual(c.sampleShape, [6, 6, 1]);
    assert.equal(c.train.batch([0]).x[0].data[5], 200, 'blue of pixel (0, 5) = 5·40');
    await assert.rejects(
      () => prepareData({ dataset: 'image-folder', path: folder, transforms: [{ channel: 3 }] }, 3),
      /data\.transforms\[0\]: channel 3 does not exist: the images have 3 channels/,
    );
    await assert.rejects(
      () => prepareData({ dataset: 'image-folder', path: folder, transforms: [{ blur: 1 }] }, 3),
      /data\.transforms\[0\]: expected one of/,
    );
  });
});

describe('subsets', () => {
  test('pick: first takes the first n training samples in file order; random is seeded and stratified', async () => {
    const first = await prepareData({ dataset: 'image-folder', path: folder, test_fraction: 0.5, subset: { train: 3, pick: 'first' } }, 3);
    const all = await prepareData({ dataset: 'image-folder', path: folder, test_fraction: 0.5 }, 3);
    assert.deepEqual(first.train.batch([0, 1, 2]).x[0].data, all.train.batch([0, 1, 2]).x[0].data);
    const a = await prepareData({ dataset: 'image-folder', path: folder, test_fraction: 0.5, subset: { train: 6 } }, 3);
    const b = await prepareData({ dataset: 'image-folder', path: folder, test_fraction: 0.5, subset: { train: 6 } }, 3);
    assert.deepEqual(a.train.batch([0, 1, 2, 3, 4, 5]).y[0].data, b.train.batch([0, 1, 2, 3, 4, 5]).y[0].data);
    assert.deepEqual([...a.train.batch([0, 1, 2, 3, 4, 5]).y[0].data].sort(), [0, 0, 1, 1, 2, 2], 'two of each class');
  });
});

describe('augmentation', () => {
  test('the same seed gives the same augmented batches; each epoch draws new ones', async () => {
    const spec = {
      dataset: 'image-folder',
      path: folder,
      augment: [{ random_crop: { padding: 2 } }, { flip: 'horizontal' }, { rotate: 15 }, { zoom: 0.1 }, { translate: 0.1 }],
    };
    const a = await prepareData(spec, 11);
    const b = await prepareData(spec, 11);
    const e1 = a.train.batch([0, 1, 2, 3]).x[0].data;
    assert.deepEqual(e1, b.train.batch([0, 1, 2, 3]).x[0].data);
    assert.notDeepEqual(a.train.batch([0, 1, 2, 3]).x[0].data, e1, 'a second epoch draws fresh augmentations');
    const plain = await prepareData({ dataset: 'image-folder', path: folder }, 11);
    assert.deepEqual(a.test.batch([0]).x[0].data, plain.test.batch([0]).x[0].data, 'test batches are never augmented');
  });

  test('a horizontal flip mirrors the image or leaves it; a random crop shifts it within the padding', () => {
    const h = 2,
      w = 3,
      c = 1;
    const src = Uint8Array.from([1, 2, 3, 4, 5, 6]);
    const dst = new Uint8Array(6);
    const rng = new Random(1);
    const seen = new Set<string>();
    for (let i = 0; i < 20; i++) {
      augmentImage(src, dst, h, w, c, [{ flip: 'horizontal' }], rng);
      seen.add(dst.join(','));
    }
    assert.deepEqual([...seen].sort(), ['1,2,3,4,5,6', '3,2,1,6,5,4']);
    for (let i = 0; i < 20; i++) {
      augmentImage(src, dst, h, w, c, [{ randomCrop: { padding: 1 } }], rng);
      // Every kept value sits at its original position shifted by the same (dy, dx) in [−1, 1].
      const nonzero = [...dst].filter((v) => v > 0);
      assert.ok(nonzero.length >= 2 && nonzero.every((v) => v >= 1 && v <= 6));
    }
  });
});
