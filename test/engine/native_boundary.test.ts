/**
 * The native boundary: every addon entry point checks each array against the shapes and sizes it is given, so an
 * array one element short is a TypeError naming the kernel and the argument, never a read or write past its end.
 * The optimizers check gradients against their weights, and keep state per weight, not per name.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { loadAddon } from '../../src/engine/backends/native/index.js';
import { Tensor } from '../../src/engine/tensor.js';
import type { Weight } from '../../src/nn/layer.js';
import { Adam } from '../../src/train/optimizers/adam.js';
import { SGD } from '../../src/train/optimizers/sgd.js';

const addon = loadAddon() as unknown as Record<string, (...args: unknown[]) => void> | null;
const f = (n: number, v = 0.5) => new Float32Array(n).fill(v);
const conv = [1, 1, 1, 1, 1, 1, 1, 1];
const pool = [2, 2, 2, 2, 0, 0, 0, 0];

/** A valid call of each kernel: [kernel, argument names (null for non-arrays), arguments]. */
const calls: [string, (string | null)[], unknown[]][] = [
  ['unary', [null, null, 'out'], [0, f(6), f(6)]],
  ['binary', [null, 'a', null, 'b', null, 'out', null], [0, f(6), [2, 3], f(3), [3], f(6), [2, 3]]],
  ['biasActivation', ['x', null, 'bias', null, 'out'], [f(6), 3, f(3), 0, f(6)]],
  ['biasActivationGrad', ['dy', 'y', null, null, 'dx', 'db'], [f(6), f(6), 3, 0, f(6), f(3)]],
  ['batchNorm', ['x', null, 'gamma', 'beta', null, 'y', 'mean', 'variance'], [f(6), 3, f(3), f(3), 1e-3, f(6), f(3), f(3)]],
  [
    'batchNormGrad',
    ['dy', 'x', null, 'mean', 'variance', 'gamma', null, 'dx', 'dgamma', 'dbeta'],
    [f(6), f(6), 3, f(3), f(3), f(3), 1e-3, f(6), f(3), f(3)],
  ],
  ['softmaxCrossEntropy', ['z', 't', null, 'loss', 'logp'], [f(6), f(6), 3, f(2), f(6)]],
  ['softmaxCrossEntropyGrad', ['dl', 'logp', 't', null, 'dz'], [f(2), f(6), f(6), 3, f(6)]],
  ['sgdUpdate', ['p', 'g', 'v', null, null, null], [f(5), f(5), f(5), 0.1, 0.9, false]],
  ['adamUpdate', ['p', 'g', 'm', 'v', 'vhat', null, null, null, null], [f(5), f(5), f(5), f(5), f(5), 0.1, 0.9, 0.999, 1e-7]],
  ['reduce', [null, 'x', null, null, 'out'], [false, f(6), [2, 3], [1], f(2)]],
  ['permute', ['x', null, null, 'out'], [f(6), [2, 3], [1, 0], f(6)]],
  ['broadcastTo', ['x', null, null, 'out'], [f(3), [3], [2, 3], f(6)]],
  ['slice', ['x', null, null, null, 'out'], [f(6), [2, 3], [0, 1], [2, 2], f(4)]],
  ['pad', ['x', null, null, 'out'], [f(6), [2, 3], [1, 0, 0, 1], f(12)]],
  ['matmul', ['a', 'b', null, null, null, null, null, 'out'], [f(6), f(12), 2, 3, 4, false, false, f(8)]],
  [
    'conv2d',
    ['x', null, 'w', null, null, 'out', null, 'bias', null, null],
    [f(2 * 4 * 4 * 2), [2, 4, 4, 2], f(3 * 3 * 2 * 3), [3, 3, 2, 3], conv, f(2 * 4 * 4 * 3), [2, 4, 4, 3], f(3), 0, true],
  ],
  [
    'conv2dBackpropInput',
    ['dy', null, 'w', null, null, null, 'out'],
    [f(2 * 4 * 4 * 3), [2, 4, 4, 3], f(3 * 3 * 2 * 3), [3, 3, 2, 3], [2, 4, 4, 2], conv, f(2 * 4 * 4 * 2)],
  ],
  [
    'conv2dBackpropFilter',
    ['x', null, 'dy', null, null, null, 'out'],
    [f(2 * 4 * 4 * 2), [2, 4, 4, 2], f(2 * 4 * 4 * 3), [2, 4, 4, 3], [3, 3, 2, 3], conv, f(3 * 3 * 2 * 3)],
  ],
  [
    'conv2dBackprop',
    ['x', null, 'w', null, 'dy', null, null, 'dx', 'dw'],
    [
      f(2 * 4 * 4 * 2),
      [2, 4, 4, 2],
      f(3 * 3 * 2 * 3),
      [3, 3, 2, 3],
      f(2 * 4 * 4 * 3),
      [2, 4, 4, 3],
      conv,
      f(2 * 4 * 4 * 2),
      f(3 * 3 * 2 * 3),
    ],
  ],
  ['maxPool2d', ['x', null, null, 'out', null], [f(2 * 4 * 4 * 3), [2, 4, 4, 3], pool, f(2 * 2 * 2 * 3), [2, 2, 2, 3]]],
  [
    'maxPool2dBackprop',
    ['x', null, 'dy', null, null, 'out'],
    [f(2 * 4 * 4 * 3), [2, 4, 4, 3], f(2 * 2 * 2 * 3), [2, 2, 2, 3], pool, f(2 * 4 * 4 * 3)],
  ],
  ['avgPool2d', ['x', null, null, 'out', null], [f(2 * 4 * 4 * 3), [2, 4, 4, 3], pool, f(2 * 2 * 2 * 3), [2, 2, 2, 3]]],
  ['avgPool2dBackprop', ['dy', null, null, null, 'out'], [f(2 * 2 * 2 * 3), [2, 2, 2, 3], [2, 4, 4, 3], pool, f(2 * 4 * 4 * 3)]],
];

describe('native kernels check every array they are given', { skip: addon ? false : 'the native addon is not built' }, () => {
  test('the list covers every kernel of the addon that takes arrays', () => {
    const covered = new Set(calls.map((c) => c[0]));
    const missing = Object.keys(addon!).filter(
      (k) =>
        typeof addon![k] === 'function' &&
        !['setThreads', 'setConvMode', 'getThreads', 'isa', 'bernoulliMask'].includes(k) &&
        !covered.has(k),
    );
    assert.deepEqual(missing, []);
  });

  for (const [kernel, names, args] of calls) {
    test(`${kernel}: a valid call runs; each array one element short is a TypeError naming ${kernel} and the argument`, () => {
      addon![kernel](...args.map((a) => (a instanceof Float32Array ? a.slice() : a)));
      names.forEach((name, i) => {
        if (name === null) return;
        const short = args.map((a, j) => (a instanceof Float32Array ? (j === i ? a.slice(0, a.length - 1) : a.slice()) : a));
        // The short array is named, or (when its length sets the others') named as what they were measured against.
        const named = (m: string) =>
          m.startsWith(`convlab native ${kernel}: ${name}: has `) || new RegExp(`from the length of ${name}( \\(rows\\))?\\)$`).test(m);
        assert.throws(
          () => addon![kernel](...short),
          (e: Error) => e instanceof TypeError && named(e.message),
          `${kernel}(${name} short)`,
        );
      });
    });
  }

  test('shapes that disagree with each other are TypeErrors too', () => {
    const [, , conv2dArgs] = calls.find((c) => c[0] === 'conv2d')!;
    const wrongOut = [...conv2dArgs];
    wrongOut[6] = [2, 5, 4, 3];
    assert.throws(() => addon!.conv2d(...wrongOut), /convlab native conv2d: outShape: is \[2, 5, 4, 3\], expected \[2, 4, 4, 3\]/);
    assert.throws(
      () => addon!.binary(0, f(4), [4], f(3), [3], f(4), [4]),
      /convlab native binary: bShape: \[3\] does not broadcast to \[4\]/,
    );
    assert.throws(() => addon!.slice(f(6), [2, 3], [1, 2], [2, 2], f(4)), /convlab native slice: begin: the slice/);
    assert.throws(() => addon!.permute(f(6), [2, 3], [0, 0], f(6)), /convlab native permute: perm: not a permutation/);
    assert.throws(() => addon!.unary(99, f(2), f(2)), /convlab native unary: op: unknown unary op 99/);
    assert.throws(() => addon!.matmul(f(6), [1, 2], 2, 3, 4, false, false, f(8)), /convlab native matmul: b: expected a Float32Array/);
  });
});

describe('optimizers check gradients against weights and keep state per weight', () => {
  const weight = (name: string, size: number): Weight =>
    ({ name, value: new Tensor(new Float32Array(size).fill(1), [size]) }) as unknown as Weight;

  test('a gradient shorter than its weight is a TypeError naming the weight (SGD and Adam)', () => {
    for (const opt of [new SGD({ learningRate: 0.1, momentum: 0.9 }), new Adam()]) {
      assert.throws(
        () => opt.apply([weight('kernel', 5)], [new Float32Array(3)]),
        /apply: the gradient of weight 'kernel' \(shape \[5\], 5 values\) has 3 values/,
      );
      assert.throws(() => opt.apply([weight('kernel', 5)], []), /apply: 1 weights but 0 gradients/);
    }
  });

  test('two weights that share a name have separate state, of their own sizes', () => {
    const opt = new Adam({ learningRate: 0.1 });
    const a = weight('dense/kernel', 3);
    const b = weight('dense/kernel', 5);
    opt.apply([a, b], [f(3, 1), f(5, -1)]);
    opt.apply([a, b], [f(3, 1), f(5, -1)]);
    // Alone, each would move by the same amount each step; with shared state the second would be corrupted.
    const solo = new Adam({ learningRate: 0.1 });
    const c = weight('c', 5);
    solo.apply([c], [f(5, -1)]);
    solo.apply([c], [f(5, -1)]);
    assert.deepEqual([...b.value.data], [...c.value.data]);
    const state = opt.getState();
    assert.deepEqual(Object.keys(state.slots).sort(), ['dense/kernel', 'dense/kernel#2']);
    assert.deepEqual(
      state.slots['dense/kernel#2'].map((s) => s.length),
      [5, 5],
    );
  });
});
