/** convolve2d: true convolution (kernel flipped) and cross-correlation, with scipy's output sizes. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { convolve2d } from '../../src/engine/index.js';

const image = [
  [2, 1, 2, 3, 1],
  [3, 9, 1, 1, 4],
  [4, 5, 0, 7, 0],
];
const sobel = [
  [-1, 0, 1],
  [-2, 0, 2],
  [-1, 0, 1],
];

test('reproduces the hand-worked 3×5 convolution of the CIFAR-10 early-stopping study (zero padding, same size), as scipy.ndimage.convolve gives', () => {
  assert.deepEqual(convolve2d(image, sobel, { mode: 'same' }), [
    [-11, 2, 4, -1, 7],
    [-24, 8, 12, -5, 12],
    [-19, 10, 4, -3, 15],
  ]);
});

test('correlation does not flip the kernel: for this antisymmetric kernel it is the negated convolution', () => {
  const conv = convolve2d(image, sobel);
  const corr = convolve2d(image, sobel, { correlate: true });
  assert.deepEqual(
    corr,
    conv.map((r) => r.map((v) => (v === 0 ? 0 : -v))),
  );
});

test("'full' and 'valid' sizes follow scipy.signal.convolve2d", () => {
  assert.equal(convolve2d(image, sobel, { mode: 'full' }).length, 5);
  assert.equal(convolve2d(image, sobel, { mode: 'full' })[0].length, 7);
  assert.deepEqual(convolve2d(image, sobel, { mode: 'valid' }), [[8, 12, -5]]);
  assert.deepEqual(
    convolve2d(
      [
        [1, 2],
        [3, 4],
      ],
      [[1]],
      { mode: 'full' },
    ),
    [
      [1, 2],
      [3, 4],
    ],
  );
});

test('bad input is rejected with the reason', () => {
  assert.throws(() => convolve2d([[1, 2], [3]], sobel), /rows have different lengths/);
  assert.throws(() => convolve2d([[1]], sobel, { mode: 'valid' }), /at least as large as the kernel/);
});
