/**
 * Conformance: every native kernel against the TypeScript reference on random shapes (odd sizes, batch 1,
 * stride 2, 'same' and 'valid' padding, channel counts that are not multiples of the vector width). Results agree
 * to a relative 1e-4. Skipped, visibly, when the addon is not built.
 */
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import type { Backend, BinaryOp, Conv2DAttrs, Pool2DAttrs, UnaryOp } from '../../src/engine/backend.js';
import { createNativeBackend, loadAddon, nativeLoadError, setConvAlgorithm } from '../../src/engine/backends/native/index.js';
import { createTsBackend } from '../../src/engine/backends/ts/index.js';
import { Random } from '../../src/engine/index.js';

const available = loadAddon() !== null;
const skip = available ? false : `native addon not available: ${nativeLoadError()}`;
const ts = createTsBackend();
const native: Backend | null = available ? createNativeBackend() : null;
const rng = new Random(2024);

function rand(n: number, low = -1, high = 1): Float32Array {
  return Float32Array.from({ length: n }, () => rng.uniform(low, high));
}

function size(shape: number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

function close(actual: Float32Array, expected: Float32Array, what: string): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  let scale = 0;
  for (const v of expected) scale = Math.max(scale, Math.abs(v));
  for (let i = 0; i < expected.length; i++) {
    const tol = 1e-4 * Math.max(1, Math.abs(expected[i]), scale * 1e-2);
    if (!(Math.abs(actual[i] - expected[i]) <= tol) && !(Number.isNaN(actual[i]) && Number.isNaN(expected[i]))) {
      assert.fail(`${what}[${i}]: native ${actual[i]}, ts ${expected[i]}`);
    }
  }
}

function both<T extends unknown[]>(what: string, run: (b: Backend, ...args: T) => Float32Array, ...args: T): void {
  close(run(native as Backend, ...args), run(ts, ...args), what);
}

const int = (lo: number, hi: number) => lo + rng.int(hi - lo + 1);

describe('native kernels match the TypeScript backend', { skip }, () => {
  // One test per op, so one failing kernel does not hide the others.
  const unaryOps: UnaryOp[] = ['neg', 'exp', 'log', 'sqrt', 'sin', 'cos', 'tanh', 'sigmoid', 'relu', 'abs', 'sign', 'step', 'erf'];
  for (const op of unaryOps) {
    test(`unary ${op}`, () => {
      const x = ['log', 'sqrt'].includes(op) ? rand(1000, 0.01, 3) : rand(100003, -4, 4);
      both(`unary ${op}`, (b) => b.unary(op, x));
    });
  }

  const binaryOps: BinaryOp[] = ['add', 'sub', 'mul', 'div', 'pow', 'maximum', 'minimum', 'greater', 'greaterEqual', 'equal'];
  for (const op of binaryOps)
    test(`binary ${op} with broadcasting`, () => {
      const shapes: [number[], number[]][] = [
        [
          [7, 5],
          [7, 5],
        ],
        [[64, 33], [33]],
        [
          [3, 1, 5],
          [4, 1],
        ],
        [[5, 3], []],
        [[1], [2, 9]],
        [
          [2, 6, 6, 7],
          [2, 1, 1, 7],
        ],
        [
          [300, 301],
          [300, 301],
        ],
      ];
      for (const [sa, sb] of shapes) {
        const a = op === 'pow' ? rand(size(sa), 0.1, 2) : rand(size(sa));
        const bb = op === 'div' ? rand(size(sb), 0.5, 2) : rand(size(sb));
        const out =
          sa.length >= sb.length
            ? sa.map((d, i) => Math.max(d, sb[sb.length - sa.length + i] ?? 1))
            : sb.map((d, i) => Math.max(d, sa[sa.length - sb.length + i] ?? 1));
        both(`${op} [${sa}] [${sb}]`, (b) => b.binary(op, a, sa, bb, sb, out));
      }
    });

  test('fused bias + activation and its gradient', () => {
    for (const shape of [
      [7, 5],
      [64, 32, 32, 16],
      [3, 1001],
    ]) {
      const n = size(shape);
      const c = shape[shape.length - 1];
      const x = rand(n);
      const bias = rand(c);
      const dy = rand(n);
      for (const [act, alpha] of [
        ['relu', 0],
        ['linear', 0],
        ['leaky_relu', 0.3],
        ['leaky_relu', 0.01],
      ] as const) {
        both(`biasActivation ${act} ${alpha} [${shape}]`, (b) => b.biasActivation(x, shape, bias, act, alpha));
        both(`biasActivation ${act} ${alpha} no bias [${shape}]`, (b) => b.biasActivation(x, shape, null, act, alpha));
        const y = ts.biasActivation(x, shape, bias, act, alpha);
        both(`biasActivationGrad dx ${act} ${alpha} [${shape}]`, (b) => b.biasActivationGrad(dy, y, shape, act, alpha, true)[0]);
        both(
          `biasActivationGrad db ${act} ${alpha} [${shape}]`,
          (b) => b.biasActivationGrad(dy, y, shape, act, alpha, true)[1] as Float32Array,
        );
      }
    }
  });

  test('batch normalization forward and backward', () => {
    for (const shape of [
      [64, 16, 16, 128],
      [7, 5],
      [3, 3, 3, 33],
    ]) {
      const n = size(shape);
      const c = shape[shape.length - 1];
      const x = rand(n, -3, 3);
      const gamma = rand(c, 0.5, 1.5);
      const beta = rand(c);
      const dy = rand(n);
      for (const withParams of [true, false]) {
        const g = withParams ? gamma : null;
        const b0 = withParams ? beta : null;
        for (let k = 0; k < 3; k++) both(`batchNorm output ${k} [${shape}]`, (b) => b.batchNorm(x, shape, g, b0, 1e-3)[k]);
        const [, mean, variance] = ts.batchNorm(x, shape, g, b0, 1e-3);
        for (let k = 0; k < 3; k++)
          both(`batchNormGrad output ${k} [${shape}]`, (b) => b.batchNormGrad(dy, x, shape, mean, variance, g, 1e-3)[k]);
      }
    }
  });

  test('fused softmax cross-entropy and its gradient', () => {
    for (const shape of [
      [128, 10],
      [3, 7],
      [1, 1],
      [5, 4, 33],
    ]) {
      const n = size(shape);
      const z = rand(n, -20, 20);
      const t = rand(n, 0, 1);
      const dl = rand(n / shape[shape.length - 1]);
      for (let k = 0; k < 2; k++) both(`softmaxCrossEntropy output ${k} [${shape}]`, (b) => b.softmaxCrossEntropy(z, t, shape)[k]);
      const [, logp] = ts.softmaxCrossEntropy(z, t, shape);
      both(`softmaxCrossEntropyGrad [${shape}]`, (b) => b.softmaxCrossEntropyGrad(dl, logp, t, shape));
    }
  });

  test('fused SGD (plain, momentum, Nesterov) and Adam (with and without AMSGrad) updates', () => {
    for (const n of [1, 37, 70000]) {
      const g = rand(n);
      const start = [rand(n), rand(n), rand(n, 0, 1), rand(n, 0, 1)];
      const run = (b: Backend, f: (b: Backend, p: Float32Array, s: Float32Array[]) => void) => {
        const [p, ...s] = start.map((a) => a.slice());
        f(b, p, s);
        return Float32Array.from([...p, ...s.flatMap((a) => [...a])]);
      };
      both(`sgd n=${n}`, (b) => run(b, (k, p) => k.sgdUpdate(p, g, null, 0.1, 0, false)));
      both(`sgd momentum n=${n}`, (b) => run(b, (k, p, s) => k.sgdUpdate(p, g, s[0], 0.1, 0.9, false)));
      both(`sgd nesterov n=${n}`, (b) => run(b, (k, p, s) => k.sgdUpdate(p, g, s[0], 0.1, 0.9, true)));
      both(`adam n=${n}`, (b) => run(b, (k, p, s) => k.adamUpdate(p, g, s[0], s[1], null, 0.01, 0.9, 0.999, 1e-7)));
      both(`adam amsgrad n=${n}`, (b) => run(b, (k, p, s) => k.adamUpdate(p, g, s[0], s[1], s[2], 0.01, 0.9, 0.999, 1e-7)));
    }
  });

  test('bernoulli (dropout) masks: the same mask and the same generator state on both backends', () => {
    for (const [n, rate] of [
      [1, 0.5],
      [262144, 0.5],
      [1001, 0.1],
      [77, 0.9],
    ] as const) {
      const sn = new Random(n).getState();
      const st = sn.slice();
      close(native!.bernoulliMask(sn, n, rate, 1 / (1 - rate)), ts.bernoulliMask(st, n, rate, 1 / (1 - rate)), `bernoulliMask n=${n}`);
      assert.deepEqual(sn, st);
    }
  });

  test('reductions over every axis combination', () => {
    const shape = [3, 4, 5, 6];
    const x = rand(size(shape));
    const big = rand(256 * 1000);
    for (const axes of [[0], [1], [3], [0, 1], [1, 2], [0, 2], [0, 3], [0, 1, 2, 3], [2, 3]]) {
      both(`sum ${axes}`, (b) => b.reduce('sum', x, shape, axes));
      both(`max ${axes}`, (b) => b.reduce('max', x, shape, axes));
    }
    both('sum over rows of a large matrix', (b) => b.reduce('sum', big, [256, 1000], [0]));
    both('sum over columns of a large matrix', (b) => b.reduce('sum', big, [256, 1000], [1]));
  });

  test('permute, broadcast, slice and pad', () => {
    const shape = [3, 5, 4, 7];
    const x = rand(size(shape));
    for (const perm of [
      [0, 2, 1, 3],
      [3, 2, 1, 0],
      [1, 0, 3, 2],
    ])
      both(`permute ${perm}`, (b) => b.permute(x, shape, perm));
    const small = rand(5 * 7);
    both('broadcastTo', (b) => b.broadcastTo(small, [5, 1, 7], [3, 5, 4, 7]));
    both('slice', (b) => b.slice(x, shape, [1, 2, 0, 3], [2, 3, 4, 4]));
    both('pad', (b) =>
      b.pad(x, shape, [
        [0, 1],
        [2, 0],
        [1, 1],
        [0, 3],
      ]),
    );
    const large = rand(128 * 28 * 28 * 6);
    both('large permute', (b) => b.permute(large, [128, 28, 28, 6], [0, 3, 1, 2]));
  });

  test('matmul: random sizes, both transposes, sizes around the register blocks, classifier-narrow products (≤ 16 columns), several depth panels, row chunks and column groups', () => {
    // [4000, 600, 24]: two depth panels and two packed row chunks per thread; [50, 600, 1400]: columns shared between threads
    // and walked in several groups; [1100, 1030, 70]: three uneven-looking depth panels.
    const sizes = [
      [1, 1, 1],
      [5, 7, 3],
      [13, 33, 31],
      [12, 256, 32],
      [97, 300, 65],
      [200, 513, 129],
      [1, 784, 100],
      [64, 14400, 100],
      [128, 2048, 10],
      [2048, 128, 10],
      [77, 19, 16],
      [40, 300, 1],
      [4000, 600, 24],
      [50, 600, 1400],
      [1100, 1030, 70],
    ];
    for (const [m, k, n] of sizes) {
      for (const [ta, tb] of [
        [false, false],
        [true, false],
        [false, true],
        [true, true],
      ]) {
        const a = rand(m * k);
        const bb = rand(k * n);
        both(`matmul ${m}×${k}×${n} ta=${ta} tb=${tb}`, (b) => b.matmul(a, bb, m, k, n, ta, tb));
      }
    }
  });

  for (const algorithm of ['gemm', 'direct', 'auto'] as const)
    test(`conv2d forward and both gradients on random shapes (${algorithm} algorithm)`, () => {
      setConvAlgorithm(algorithm);
      after(() => setConvAlgorithm('auto'));
      for (let trial = 0; trial < 30; trial++) {
        const n = trial % 4 === 0 ? 1 : int(2, 5);
        // Some channel counts beyond one 16-lane vector and beyond one 64-wide column block.
        const cin = trial % 6 === 5 ? int(17, 40) : int(1, 9);
        const cout = trial % 5 === 4 ? int(33, 70) : int(1, 19);
        const kh = int(1, 5);
        const kw = int(1, 5);
        const stride = int(1, 2);
        const dil = stride === 1 && trial % 5 === 0 ? 2 : 1;
        const same = trial % 2 === 0;
        const h = int(kh * dil, 17);
        const w = int(kw * dil, 17);
        const pad = (len: number, k: number) => {
          if (!same) return [0, 0];
          const span = (k - 1) * dil + 1;
          const total = Math.max((Math.ceil(len / stride) - 1) * stride + span - len, 0);
          return [Math.floor(total / 2), total - Math.floor(total / 2)];
        };
        const [pt, pb] = pad(h, kh);
        const [pl, pr] = pad(w, kw);
        const attrs: Conv2DAttrs = { strides: [stride, stride], dilations: [dil, dil], pads: [pt, pb, pl, pr] };
        const xs = [n, h, w, cin];
        const ws = [kh, kw, cin, cout];
        const oh = Math.floor((h + pt + pb - ((kh - 1) * dil + 1)) / stride) + 1;
        const ow = Math.floor((w + pl + pr - ((kw - 1) * dil + 1)) / stride) + 1;
        const ys = [n, oh, ow, cout];
        const x = rand(size(xs));
        const wt = rand(size(ws));
        const dy = rand(size(ys));
        const name = `x=[${xs}] f=[${ws}] s=${stride} d=${dil} ${same ? 'same' : 'valid'}`;
        both(`conv2d ${name}`, (b) => b.conv2d(x, xs, wt, ws, attrs));
        const bias = trial % 3 === 0 ? null : rand(cout);
        const act = (['relu', 'leaky_relu', 'linear'] as const)[trial % 3];
        both(`conv2d+${act} ${name}`, (b) => b.conv2d(x, xs, wt, ws, attrs, { bias, act, alpha: 0.1 }));
        both(`conv2dBackprop dx ${name}`, (b) => b.conv2dBackprop(x, xs, wt, ws, dy, ys, attrs, true, false)[0]!);
        both(`conv2dBackprop dw ${name}`, (b) => b.conv2dBackprop(x, xs, wt, ws, dy, ys, attrs, false, true)[1]!);
        // Both gradients in one call (side by side on two threads), and each alone.
        const wantInput = trial % 4 !== 1;
        const wantFilter = trial % 4 !== 2;
        const pair = (b: Backend) => b.conv2dBackprop(x, xs, wt, ws, dy, ys, attrs, wantInput, wantFilter);
        const [ndx, ndw] = pair(native as Backend);
        const [tdx, tdw] = pair(ts);
        assert.equal(ndx === null, !wantInput, 'conv2dBackprop returns dx exactly when asked');
        assert.equal(ndw === null, !wantFilter, 'conv2dBackprop returns dw exactly when asked');
        if (ndx && tdx) close(ndx, tdx, `conv2dBackprop dx ${name}`);
        if (ndw && tdw) close(ndw, tdw, `conv2dBackprop dw ${name}`);
      }
    });

  for (const algorithm of ['gemm', 'direct'] as const)
    test(`conv2d at training sizes (batch 64, 32×32, 3→16, 16→16 stride 2, 16→32 and 32→64 channels; ${algorithm} algorithm)`, () => {
      setConvAlgorithm(algorithm);
      after(() => setConvAlgorithm('auto'));
      for (const [h, cin, cout, stride] of [
        [32, 3, 16, 1],
        [32, 16, 16, 2],
        [16, 16, 32, 1],
        [8, 32, 64, 1],
      ]) {
        const xs = [64, h, h, cin];
        const ws = [3, 3, cin, cout];
        const o = Math.ceil(h / stride);
        const total = Math.max((o - 1) * stride + 3 - h, 0);
        const attrs: Conv2DAttrs = {
          strides: [stride, stride],
          dilations: [1, 1],
          pads: [Math.floor(total / 2), total - Math.floor(total / 2), Math.floor(total / 2), total - Math.floor(total / 2)],
        };
        const ys = [64, o, o, cout];
        const x = rand(size(xs));
        const wt = rand(size(ws));
        const dy = rand(size(ys));
        both('conv2d', (b) => b.conv2d(x, xs, wt, ws, attrs));
        both('conv2dBackprop dx', (b) => b.conv2dBackprop(x, xs, wt, ws, dy, ys, attrs, true, false)[0]!);
        both('conv2dBackprop dw', (b) => b.conv2dBackprop(x, xs, wt, ws, dy, ys, attrs, false, true)[1]!);
      }
    });

  test('few-channel layers: LeNet-5 1→6 and 6→16 5×5, odd widths with leftover pixels, stride 2, padding, over 64 filter columns; bias + ReLU', () => {
    setConvAlgorithm('direct');
    after(() => setConvAlgorithm('auto'));
    // [h, w, cin, cout, k, stride, pad]: widths whose output is not a multiple of the pixel group, 2–9 filters, and
    // input gradients whose kw·cin columns overlap from pixel to pixel.
    for (const [h, w, cin, cout, k, stride, p] of [
      [32, 32, 1, 6, 5, 1, 0],
      [13, 15, 1, 6, 5, 1, 0],
      [12, 17, 3, 4, 3, 2, 1],
      [9, 11, 2, 8, 3, 1, 1],
      [10, 9, 1, 2, 3, 1, 0],
      [7, 20, 5, 5, 4, 2, 0],
      [14, 14, 6, 16, 5, 1, 0],
      [9, 12, 14, 6, 5, 1, 2],
      [11, 13, 7, 9, 5, 2, 2],
    ]) {
      const oh = Math.floor((h + 2 * p - k) / stride) + 1;
      const ow = Math.floor((w + 2 * p - k) / stride) + 1;
      const attrs: Conv2DAttrs = { strides: [stride, stride], dilations: [1, 1], pads: [p, p, p, p] };
      const xs = [3, h, w, cin];
      const ws = [k, k, cin, cout];
      const ys = [3, oh, ow, cout];
      const x = rand(size(xs));
      const wt = rand(size(ws));
      const dy = rand(size(ys));
      const bias = rand(cout);
      const name = `x=[${xs}] f=[${ws}] s=${stride} p=${p}`;
      both(`conv2d+relu ${name}`, (b) => b.conv2d(x, xs, wt, ws, attrs, { bias, act: 'relu', alpha: 0 }));
      both(`conv2dBackprop dw ${name}`, (b) => b.conv2dBackprop(x, xs, wt, ws, dy, ys, attrs, false, true)[1]!);
      both(`conv2dBackprop dx ${name}`, (b) => b.conv2dBackprop(x, xs, wt, ws, dy, ys, attrs, true, false)[0]!);
    }
  });

  test('Winograd F(2×2, 3×3): 3×3 stride-1 convolutions with ≥ 64 channels, odd sizes, same and valid, with epilogue', () => {
    setConvAlgorithm('winograd');
    after(() => setConvAlgorithm('auto'));
    for (const [n, h, w, cin, cout, same] of [
      [2, 5, 7, 64, 66, true],
      [1, 9, 4, 70, 64, false],
      [3, 8, 8, 65, 80, true],
      [1, 3, 3, 64, 64, false],
    ] as const) {
      const attrs: Conv2DAttrs = { strides: [1, 1], dilations: [1, 1], pads: same ? [1, 1, 1, 1] : [0, 0, 0, 0] };
      const xs = [n, h, w, cin];
      const ws = [3, 3, cin, cout];
      const ys = [n, same ? h : h - 2, same ? w : w - 2, cout];
      const x = rand(size(xs));
      const wt = rand(size(ws));
      const dy = rand(size(ys));
      const bias = rand(cout);
      const name = `x=[${xs}] f=[${ws}] ${same ? 'same' : 'valid'}`;
      both(`conv2d ${name}`, (b) => b.conv2d(x, xs, wt, ws, attrs));
      both(`conv2d+leaky_relu ${name}`, (b) => b.conv2d(x, xs, wt, ws, attrs, { bias, act: 'leaky_relu', alpha: 0.01 }));
      both(`conv2dBackprop dx ${name}`, (b) => b.conv2dBackprop(x, xs, wt, ws, dy, ys, attrs, true, false)[0]!);
    }
  });

  test('max and average pooling with their gradients', () => {
    for (let trial = 0; trial < 16; trial++) {
      const n = trial % 3 === 0 ? 1 : int(2, 4);
      const c = int(1, 11);
      const ph = int(1, 3);
      const stride = int(1, 3);
      const same = trial % 2 === 0;
      const h = int(ph, 13);
      const w = int(ph, 13);
      const pad = (len: number) => {
        if (!same) return [0, 0];
        const total = Math.max((Math.ceil(len / stride) - 1) * stride + ph - len, 0);
        return [Math.floor(total / 2), total - Math.floor(total / 2)];
      };
      const [pt, pb] = pad(h);
      const [pl, pr] = pad(w);
      const attrs: Pool2DAttrs = { pool: [ph, ph], strides: [stride, stride], pads: [pt, pb, pl, pr] };
      const xs = [n, h, w, c];
      const ys = [n, Math.floor((h + pt + pb - ph) / stride) + 1, Math.floor((w + pl + pr - ph) / stride) + 1, c];
      const x = rand(size(xs));
      const dy = rand(size(ys));
      const name = `x=[${xs}] pool ${ph} s=${stride} ${same ? 'same' : 'valid'}`;
      both(`maxPool2d ${name}`, (b) => b.maxPool2d(x, xs, attrs));
      both(`maxPool2dBackprop ${name}`, (b) => b.maxPool2dBackprop(x, xs, dy, ys, attrs));
      both(`avgPool2d ${name}`, (b) => b.avgPool2d(x, xs, attrs));
      both(`avgPool2dBackprop ${name}`, (b) => b.avgPool2dBackprop(dy, ys, xs, attrs));
    }
  });

  test('tiled average pooling (pool == stride, no padding) matches, leftover rows and columns included', () => {
    // [5, 30, 30, 6]: with two threads the second one starts halfway through a window (row 15).
    const cases: [number[], number][] = [
      [[3, 28, 28, 6], 2],
      [[2, 9, 7, 3], 2],
      [[1, 10, 11, 17], 3],
      [[2, 5, 5, 1], 1],
      [[5, 30, 30, 6], 2],
    ];
    for (const [xs, p] of cases) {
      const attrs: Pool2DAttrs = { pool: [p, p], strides: [p, p], pads: [0, 0, 0, 0] };
      const ys = [xs[0], Math.floor(xs[1] / p), Math.floor(xs[2] / p), xs[3]];
      const x = rand(size(xs));
      const dy = rand(size(ys));
      both(`avgPool2d tiled x=[${xs}] pool ${p}`, (b) => b.avgPool2d(x, xs, attrs));
      both(`avgPool2dBackprop tiled x=[${xs}] pool ${p}`, (b) => b.avgPool2dBackprop(dy, ys, xs, attrs));
    }
  });

  test('bad arguments raise JavaScript errors instead of crashing', () => {
    const lib = loadAddon() as Record<string, (...a: unknown[]) => void>;
    assert.throws(() => lib.unary(new Float32Array(3), 'neg', new Float64Array(3)), /Float32Array/);
    assert.throws(() => lib.conv2d(new Float32Array(1)), /arguments/);
  });
});

describe('subnormal floats', { skip }, () => {
  test('kernels flush subnormals to zero, and JavaScript arithmetic keeps its subnormals after a kernel call', () => {
    // A product of two normal floats that lands below float32's normal range (1.2e-38) becomes 0 in a kernel.
    const m = 64;
    const a = new Float32Array(m * m).fill(1e-20);
    const b = new Float32Array(m * m).fill(1e-20);
    const out = native!.matmul(a, b, m, m, m, false, false);
    assert.ok(
      out.every((v) => v === 0),
      `expected zeros, got ${out[0]}`,
    );
    // Subnormal inputs are read as zero.
    const sub = new Float32Array(m * m).fill(1e-39);
    assert.ok(native!.matmul(sub, new Float32Array(m * m).fill(1), m, m, m, false, false).every((v) => v === 0));
    // The JS thread's floating-point mode is restored: double subnormals still work.
    const tiny = new Float64Array([Number.MIN_VALUE, 1e-310]);
    assert.ok(tiny[0] * 2 > 0 && tiny[1] * 3 > 0 && tiny[1] / 10 > 0);
  });
});
