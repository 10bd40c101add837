/** Every primitive and composed op: values on small cases and a finite-difference gradient check. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import * as E from '../../src/engine/index.js';
import { assertClose, checkGradients, randomTensor, spacedTensor } from '../helpers/gradcheck.js';

const { Tensor } = E;
const pos = (shape: number[], seed = 1) => randomTensor(shape, seed, 0.5, 2);

describe('unary ops: gradients match finite differences', () => {
  const cases: [string, (x: E.Tensor) => E.Tensor, () => E.Tensor][] = [
    ['neg', E.neg, () => randomTensor([3, 4])],
    ['exp', E.exp, () => randomTensor([3, 4])],
    ['log', E.log, () => pos([3, 4])],
    ['sqrt', E.sqrt, () => pos([3, 4])],
    ['sin', E.sin, () => randomTensor([3, 4])],
    ['cos', E.cos, () => randomTensor([3, 4])],
    ['tanh', E.tanh, () => randomTensor([3, 4])],
    ['sigmoid', E.sigmoid, () => randomTensor([3, 4], 1, -4, 4)],
    ['relu', E.relu, () => spacedTensor([3, 4])],
    ['abs', E.abs, () => spacedTensor([3, 4])],
    ['erf', E.erf, () => randomTensor([3, 4], 1, -2, 2)],
  ];
  for (const [name, op, make] of cases) {
    test(`${name} x=[3,4]`, () => {
      const x = make();
      checkGradients(() => op(x), [x]);
    });
  }
  test('sign and step have no gradient and give the expected values', () => {
    const x = E.tensor([-2, 0, 3]);
    assert.deepEqual(Array.from(E.sign(x).data), [-1, 0, 1]);
    assert.deepEqual(Array.from(E.step(x).data), [0, 0, 1]);
  });
  test('erf agrees with known values to 1e-6', () => {
    assertClose(E.erf(E.tensor([0, 0.5, 1, -1, 2])).data, [0, 0.5204998778, 0.8427007929, -0.8427007929, 0.995322265], 2e-6);
  });
});

describe('binary ops with broadcasting: gradients reduce back to each input shape', () => {
  const shapes: [number[], number[]][] = [
    [
      [2, 3],
      [2, 3],
    ],
    [[2, 3], [3]],
    [
      [4, 1, 3],
      [2, 1],
    ],
    [[2, 3], []],
    [[1], [2, 2]],
  ];
  const ops: [string, (a: E.Tensor, b: E.Tensor) => E.Tensor, boolean][] = [
    ['add', E.add, false],
    ['sub', E.sub, false],
    ['mul', E.mul, false],
    ['div', E.div, true],
    ['pow', E.pow, true],
    ['maximum', E.maximum, false],
    ['minimum', E.minimum, false],
  ];
  for (const [name, op, positive] of ops) {
    for (const [sa, sb] of shapes) {
      test(`${name} a=[${sa}] b=[${sb}]`, () => {
        const a = positive ? pos(sa, 2) : spacedTensor(sa, 2, 0.11);
        const b = positive ? pos(sb, 3) : spacedTensor(sb, 3, 0.07);
        checkGradients(() => op(a, b), [a, b]);
      });
    }
  }
  test('comparisons give 0/1 with broadcasting', () => {
    const a = E.tensor([1, 2, 3]);
    assert.deepEqual(Array.from(E.greater(a, 2).data), [0, 0, 1]);
    assert.deepEqual(Array.from(E.greaterEqual(a, 2).data), [0, 1, 1]);
    assert.deepEqual(Array.from(E.equal(a, 2).data), [0, 1, 0]);
  });
  test('incompatible shapes are rejected with both shapes named', () => {
    assert.throws(() => E.add(E.zeros([2, 3]), E.zeros([4])), /\[2, 3\] and \[4\]/);
  });
});

describe('reductions', () => {
  for (const axes of [undefined, 0, 1, [0, 2], -1]) {
    test(`sum and max over axes ${JSON.stringify(axes)} of [2,3,4]`, () => {
      const x = spacedTensor([2, 3, 4], 5, 0.03);
      checkGradients(() => E.sum(x, axes), [x]);
      checkGradients(() => E.max(x, axes, true), [x]);
    });
  }
  test('sum values and keepDims shapes', () => {
    const x = E.tensor([1, 2, 3, 4, 5, 6], [2, 3]);
    assert.deepEqual(Array.from(E.sum(x, 0).data), [5, 7, 9]);
    assert.deepEqual(E.sum(x, 1, true).shape, [2, 1]);
    assert.deepEqual(Array.from(E.max(x, 1).data), [3, 6]);
    assert.equal(E.sum(x).item(), 21);
  });
  test('max splits the gradient between tied maxima', () => {
    const x = new Tensor(Float32Array.from([1, 3, 3]), [3], true);
    E.max(x).backward();
    assert.deepEqual(Array.from(x.grad!.data), [0, 0.5, 0.5]);
  });
});

describe('movement ops', () => {
  test('reshape, permute, broadcastTo, slice and pad gradients', () => {
    const x = randomTensor([2, 3, 4]);
    checkGradients(() => E.reshape(x, [4, -1]), [x]);
    checkGradients(() => E.permute(x, [2, 0, 1]), [x]);
    checkGradients(() => E.slice(x, [0, 1, 1], [2, 2, 3]), [x]);
    checkGradients(
      () =>
        E.pad(x, [
          [1, 0],
          [0, 2],
          [1, 1],
        ]),
      [x],
    );
    const b = randomTensor([3, 1]);
    checkGradients(() => E.broadcastTo(b, [2, 3, 4]), [b]);
  });
  test('permute and slice values', () => {
    const x = E.tensor([0, 1, 2, 3, 4, 5], [2, 3]);
    assert.deepEqual(E.permute(x, [1, 0]).toArray(), [
      [0, 3],
      [1, 4],
      [2, 5],
    ]);
    assert.deepEqual(E.slice(x, [1, 1], [1, 2]).toArray(), [[4, 5]]);
    assert.deepEqual(E.pad(E.tensor([1, 2]), [[1, 2]]).toArray(), [0, 1, 2, 0, 0]);
  });
  test('bad reshape and slice are rejected with the shapes involved', () => {
    assert.throws(() => E.reshape(E.zeros([2, 3]), [4, 2]), /\[2, 3\].*\[4, 2\]/);
    assert.throws(() => E.slice(E.zeros([2, 3]), [1, 2], [2, 2]), /does not fit shape \[2, 3\]/);
  });
});

describe('matmul', () => {
  for (const [ta, tb] of [
    [false, false],
    [true, false],
    [false, true],
    [true, true],
  ]) {
    test(`gradients with transA=${ta} transB=${tb}, odd sizes`, () => {
      const [m, k, n] = [5, 7, 3];
      const a = randomTensor(ta ? [k, m] : [m, k], 1);
      const b = randomTensor(tb ? [n, k] : [k, n], 2);
      checkGradients(() => E.matmul(a, b, ta, tb), [a, b]);
    });
  }
  test('values on a 2×3 · 3×2 product, and blocked sizes match a naive product', () => {
    const a = E.tensor([1, 2, 3, 4, 5, 6], [2, 3]);
    const b = E.tensor([7, 8, 9, 10, 11, 12], [3, 2]);
    assert.deepEqual(E.matmul(a, b).toArray(), [
      [58, 64],
      [139, 154],
    ]);
    const x = randomTensor([9, 13], 4);
    const y = randomTensor([13, 6], 5);
    const naive = new Float32Array(9 * 6);
    for (let i = 0; i < 9; i++)
      for (let j = 0; j < 6; j++) for (let p = 0; p < 13; p++) naive[i * 6 + j] += x.data[i * 13 + p] * y.data[p * 6 + j];
    assertClose(E.matmul(x, y).data, naive, 1e-5);
  });
});

function naiveConv(x: E.Tensor, w: E.Tensor, attrs: E.Conv2DAttrs): Float32Array {
  const [n, h, wd, c] = x.shape;
  const [kh, kw, , co] = w.shape;
  const [pt, pb, pl, pr] = attrs.pads;
  const oh = Math.floor((h + pt + pb - ((kh - 1) * attrs.dilations[0] + 1)) / attrs.strides[0]) + 1;
  const ow = Math.floor((wd + pl + pr - ((kw - 1) * attrs.dilations[1] + 1)) / attrs.strides[1]) + 1;
  const out = new Float32Array(n * oh * ow * co);
  for (let b = 0; b < n; b++)
    for (let oy = 0; oy < oh; oy++)
      for (let ox = 0; ox < ow; ox++)
        for (let o = 0; o < co; o++) {
          let s = 0;
          for (let ky = 0; ky < kh; ky++)
            for (let kx = 0; kx < kw; kx++)
              for (let ci = 0; ci < c; ci++) {
                const iy = oy * attrs.strides[0] - pt + ky * attrs.dilations[0];
                const ix = ox * attrs.strides[1] - pl + kx * attrs.dilations[1];
                if (iy >= 0 && iy < h && ix >= 0 && ix < wd)
                  s += x.data[((b * h + iy) * wd + ix) * c + ci] * w.data[((ky * kw + kx) * c + ci) * co + o];
              }
          out[((b * oh + oy) * ow + ox) * co + o] = s;
        }
  return out;
}

describe('conv2d (NHWC, cross-correlation)', () => {
  const cases: [string, number[], number[], E.Conv2DAttrs][] = [
    ['x=[2,5,6,3] f=[3,3,3,4] s=1 valid', [2, 5, 6, 3], [3, 3, 3, 4], { strides: [1, 1], dilations: [1, 1], pads: [0, 0, 0, 0] }],
    ['x=[1,7,7,2] f=[3,3,2,5] s=2 same', [1, 7, 7, 2], [3, 3, 2, 5], { strides: [2, 2], dilations: [1, 1], pads: [1, 1, 1, 1] }],
    [
      'x=[2,6,6,3] f=[2,2,3,2] s=1 same (even kernel, pad bottom/right)',
      [2, 6, 6, 3],
      [2, 2, 3, 2],
      { strides: [1, 1], dilations: [1, 1], pads: [0, 1, 0, 1] },
    ],
    [
      'x=[1,8,8,1] f=[3,3,1,2] s=2 same (asymmetric pads)',
      [1, 8, 8, 1],
      [3, 3, 1, 2],
      { strides: [2, 2], dilations: [1, 1], pads: [0, 1, 0, 1] },
    ],
    ['x=[1,9,9,2] f=[3,3,2,3] dilation 2', [1, 9, 9, 2], [3, 3, 2, 3], { strides: [1, 1], dilations: [2, 2], pads: [0, 0, 0, 0] }],
    ['x=[3,4,4,5] f=[1,1,5,3] pointwise', [3, 4, 4, 5], [1, 1, 5, 3], { strides: [1, 1], dilations: [1, 1], pads: [0, 0, 0, 0] }],
    ['x=[1,5,7,3] f=[3,2,3,2] s=[2,1] rectangular', [1, 5, 7, 3], [3, 2, 3, 2], { strides: [2, 1], dilations: [1, 1], pads: [1, 1, 0, 1] }],
  ];
  for (const [name, xs, ws, attrs] of cases) {
    test(`${name}: values match a naive loop and gradients match finite differences`, () => {
      const x = randomTensor(xs, 11);
      const w = randomTensor(ws, 12);
      assertClose(E.conv2d(x, w, attrs).data, naiveConv(x, w, attrs), 1e-5, 'conv2d');
      checkGradients(() => E.conv2d(x, w, attrs), [x, w]);
    });
  }
  test('with a bias + activation epilogue it equals biasActivation(conv2d), with matching gradients for x, w and bias', () => {
    const attrs: E.Conv2DAttrs = { strides: [2, 2], dilations: [1, 1], pads: [1, 1, 1, 1] };
    const x = randomTensor([2, 7, 7, 3], 31);
    const w = randomTensor([3, 3, 3, 4], 32);
    const b = randomTensor([4], 33);
    for (const [act, alpha] of [
      ['relu', 0],
      ['leaky_relu', 0.2],
      ['linear', 0],
    ] as const) {
      const fused = E.conv2d(x, w, attrs, { bias: b, act, alpha });
      const composed = E.biasActivation(E.conv2d(x, w, attrs), b, act, alpha);
      assertClose(fused.data, composed.data, 1e-6, `conv2d+${act}`);
      checkGradients(() => E.conv2d(x, w, attrs, { bias: b, act, alpha }), [x, w, b]);
    }
    checkGradients(() => E.conv2d(x, w, attrs, { bias: null, act: 'relu' }), [x, w]);
    assert.throws(() => E.conv2d(x, w, attrs, { bias: E.zeros([3]), act: 'relu' }), /bias must have shape \[4\]/);
  });
  test('a kernel larger than the input is rejected', () => {
    assert.throws(
      () => E.conv2d(E.zeros([1, 2, 2, 1]), E.zeros([3, 3, 1, 1]), { strides: [1, 1], dilations: [1, 1], pads: [0, 0, 0, 0] }),
      /output would be empty/,
    );
  });
});

describe('pooling', () => {
  const cases: [string, number[], E.Pool2DAttrs][] = [
    ['2×2 s=2 valid', [2, 4, 6, 3], { pool: [2, 2], strides: [2, 2], pads: [0, 0, 0, 0] }],
    ['3×3 s=2 same (padded cells ignored)', [1, 5, 5, 2], { pool: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1] }],
    ['2×2 s=1 overlapping', [1, 4, 4, 1], { pool: [2, 2], strides: [1, 1], pads: [0, 0, 0, 0] }],
    ['2×2 s=2 odd input', [1, 5, 5, 2], { pool: [2, 2], strides: [2, 2], pads: [0, 0, 0, 0] }],
  ];
  for (const [name, xs, attrs] of cases) {
    test(`max and average ${name}: gradients match finite differences`, () => {
      const x = spacedTensor(xs, 21, 0.04);
      checkGradients(() => E.maxPool2d(x, attrs), [x]);
      checkGradients(() => E.avgPool2d(x, attrs), [x]);
    });
  }
  test('average pooling with same padding divides by the cells inside the image', () => {
    const x = E.tensor([1, 2, 3, 4], [1, 2, 2, 1]);
    const y = E.avgPool2d(x, { pool: [2, 2], strides: [1, 1], pads: [0, 1, 0, 1] });
    assert.deepEqual(Array.from(y.data), [2.5, 3, 3.5, 4]);
    const m = E.maxPool2d(E.tensor([-1, -2, -3, -4], [1, 2, 2, 1]), { pool: [2, 2], strides: [2, 2], pads: [0, 1, 0, 1] });
    assert.deepEqual(Array.from(m.data), [-1]);
  });
});

describe('fused bias + activation', () => {
  test('relu and linear, with and without bias: values and gradients for input and bias', () => {
    // x on a 0.05 lattice offset by 0.025 and bias on multiples of 0.05: x + b never comes near the ReLU kink.
    const x = spacedTensor([4, 3, 5], 41, 0.05);
    const b = new Tensor(Float32Array.from([0.1, -0.05, 0, 0.2, -0.15]), [5], true);
    for (const [act, alpha] of [
      ['relu', 0],
      ['linear', 0],
      ['leaky_relu', 0.3],
    ] as const) {
      checkGradients(() => E.biasActivation(x, b, act, alpha), [x, b]);
      checkGradients(() => E.biasActivation(x, null, act, alpha), [x]);
    }
    assert.deepEqual(Array.from(E.biasActivation(E.tensor([-2, 4]), null, 'leaky_relu', 0.25).data), [-0.5, 4]);
    assert.throws(() => E.biasActivation(E.tensor([1]), null, 'leaky_relu', -1), /alpha ≥ 0/);
    const y = E.biasActivation(E.tensor([-1, 2, 3, -4], [2, 2]), E.tensor([0.5, 1]), 'relu');
    assert.deepEqual(Array.from(y.data), [0, 3, 3.5, 0]);
    assert.throws(() => E.biasActivation(E.zeros([2, 3]), E.zeros([2]), 'relu'), /bias must have shape \[3\]/);
  });
});

describe('batch normalization (training mode)', () => {
  test('values match the composed formula and gradients for x, gamma and beta match finite differences', () => {
    const x = randomTensor([6, 2, 2, 3], 51, -2, 2);
    const gamma = randomTensor([3], 52, 0.5, 1.5);
    const beta = randomTensor([3], 53);
    const { y, mean, variance } = E.batchNormTraining(x, gamma, beta, 1e-3);
    const m = E.mean(x, [0, 1, 2]);
    const v = E.variance(x, [0, 1, 2]);
    assertClose(mean, m.data, 1e-5, 'mean');
    assertClose(variance, v.data, 1e-5, 'variance');
    const composed = E.add(E.mul(E.div(E.sub(x, m), E.sqrt(E.add(v, 1e-3))), gamma), beta);
    assertClose(y.data, composed.data, 1e-5, 'y');
    checkGradients(() => E.batchNormTraining(x, gamma, beta, 1e-3).y, [x, gamma, beta]);
    checkGradients(() => E.batchNormTraining(x, null, null, 1e-3).y, [x]);
  });
});

describe('softmax cross-entropy (fused)', () => {
  test('equals −Σ t·logSoftmax(z) per row, also for huge logits, and its gradients match finite differences', () => {
    const z = randomTensor([4, 6], 21, -3, 3);
    const t = E.softmax(randomTensor([4, 6], 22, -2, 2));
    const fused = E.softmaxCrossEntropy(z, t);
    const composed = E.neg(E.sum(E.mul(t, E.logSoftmax(z)), -1));
    assert.deepEqual(fused.shape, [4]);
    assertClose(fused.data, composed.data, 1e-5);
    const big = E.softmaxCrossEntropy(E.tensor([1000, 0, -1000], [1, 3]), E.tensor([0, 1, 0], [1, 3]));
    assertClose(big.data, [1000], 1e-6);
    const targets = new E.Tensor(t.data.slice(), t.shape, true);
    checkGradients(() => E.softmaxCrossEntropy(z, targets), [z, targets]);
  });
  test('mismatched target shapes are rejected with both shapes', () => {
    assert.throws(() => E.softmaxCrossEntropy(E.zeros([2, 3]), E.zeros([2, 4])), /\[2, 3\].*\[2, 4\]|\[2,3\].*\[2,4\]/);
  });
});

describe('composed ops', () => {
  test('softmax, logSoftmax, logSumExp, mean, variance, clip, softplus and concat gradients', () => {
    const x = randomTensor([3, 5], 7, -3, 3);
    checkGradients(() => E.softmax(x), [x]);
    checkGradients(() => E.logSoftmax(x), [x]);
    checkGradients(() => E.logSumExp(x, -1), [x]);
    checkGradients(() => E.mean(x, 0), [x]);
    checkGradients(() => E.variance(x, 1), [x]);
    checkGradients(() => E.softplus(x), [x]);
    const s = spacedTensor([3, 5], 8, 0.2);
    checkGradients(() => E.clip(s, -0.55, 0.45), [s]);
    const y = randomTensor([3, 2], 9);
    checkGradients(() => E.concat([x, y], 1), [x, y]);
  });
  test('softmax is stable for large logits and sums to one', () => {
    const p = E.softmax(E.tensor([1000, 1001, 1002], [1, 3]));
    assertClose(p.data, [0.09003057, 0.24472847, 0.66524096], 1e-6);
    assert.equal(E.softplus(E.tensor([1000])).item(), 1000);
  });
  test('softplus keeps its tiny positive values and gradients far below zero (log1p accuracy, not log(1 + u))', () => {
    const x = new Tensor(Float32Array.from([-20, -40, -80, -1e-3, 0, 3]), [6], true);
    const y = E.softplus(x);
    const exact = [-20, -40, -80, -1e-3, 0, 3].map((v) => Math.log1p(Math.exp(v)));
    y.data.forEach((v, i) =>
      assert.ok(Math.abs(v - exact[i]) <= 1e-6 * exact[i] + 1e-45, `softplus(${x.data[i]}) = ${v}, expected ${exact[i]}`),
    );
    E.sum(y).backward();
    const sigmoid = [-20, -40, -80, -1e-3, 0, 3].map((v) => 1 / (1 + Math.exp(-v)));
    x.grad!.data.forEach((g, i) =>
      assert.ok(Math.abs(g - sigmoid[i]) <= 1e-6 * sigmoid[i] + 1e-45, `d/dx at ${x.data[i]}: ${g}, expected ${sigmoid[i]}`),
    );
  });
});

describe('autograd', () => {
  test('a value used twice accumulates both gradients', () => {
    const x = new Tensor(Float32Array.from([3]), [1], true);
    E.mul(x, x).backward();
    assert.equal(x.grad!.item(), 6);
  });
  test('a 20,000-op chain runs backward without overflowing the stack', () => {
    const x = new Tensor(Float32Array.from([1]), [1], true);
    let y: E.Tensor = x;
    for (let i = 0; i < 20000; i++) y = E.add(y, 0);
    y.backward();
    assert.equal(x.grad!.item(), 1);
  });
  test('noGrad records nothing and the graph is released after backward', () => {
    const x = new Tensor(Float32Array.from([2]), [1], true);
    const y = E.noGrad(() => E.mul(x, 3));
    assert.equal(y.requiresGrad, false);
    const z = E.mul(E.exp(x), 2);
    z.backward();
    assert.equal(z.node, null);
  });
});
