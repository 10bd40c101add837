/**
 * The native boundary: every addon entry point checks each array against the shapes and sizes it is given, so an
 * array one element short is a TypeError naming the kernel and the argument, never a read or write past its end.
 * The optimizers check gradients against their weights, and keep state per weight, not per name.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { kernelNames } from '../../src/engine/backend.js';
import { loadAddon } from '../../src/engine/backends/native/index.js';
import { Tensor } from '../../src/engine/tensor.js';
import type { Weight } from '../../src/nn/layer.js';
import { Adam } from '../../src/train/optimizers/adam.js';
import { SGD } from '../../src/train/optimizers/sgd.js';

const addon = loadAddon() as Record<string, unknown> | null;
const call = (kernel: string, args: unknown[]) => (addon![kernel] as (...a: unknown[]) => void)(...args);
const f = (n: number, v = 0.5) => new Float32Array(n).fill(v);
const conv = { strides: [1, 1], dilations: [1, 1], pads: [1, 1, 1, 1] };
const pool = { pool: [2, 2], strides: [2, 2], pads: [0, 0, 0, 0] };
const x4 = f(2 * 4 * 4 * 2);
const w4 = f(3 * 3 * 2 * 3);
const y4 = f(2 * 4 * 4 * 3);
const p4 = f(2 * 2 * 2 * 3);

/**
 * A valid call of each kernel's binding (its outputs first, then the contract's arguments): [kernel, argument
 * names (null for non-arrays), arguments].
 */
const calls: [string, (string | null)[], unknown[]][] = [
  ['unary', ['out', null, 'x'], [f(6), 'neg', f(6)]],
  ['binary', ['out', null, 'a', null, 'b', null, null], [f(6), 'add', f(6), [2, 3], f(3), [3], [2, 3]]],
  ['biasActivation', ['out', 'x', null, 'bias', null, null], [f(6), f(6), [2, 3], f(3), 'relu', 0]],
  ['biasActivationGrad', ['dx', 'db', 'dy', 'y', null, null, null, null], [f(6), f(3), f(6), f(6), [2, 3], 'leaky_relu', 0.1, true]],
  ['batchNorm', ['y', 'mean', 'variance', 'x', null, 'gamma', 'beta', null], [f(6), f(3), f(3), f(6), [2, 3], f(3), f(3), 1e-3]],
  [
    'batchNormGrad',
    ['dx', 'dgamma', 'dbeta', 'dy', 'x', null, 'mean', 'variance', 'gamma', null],
    [f(6), f(3), f(3), f(6), f(6), [2, 3], f(3), f(3), f(3), 1e-3],
  ],
  ['softmaxCrossEntropy', ['loss', 'logp', 'z', 't', null], [f(2), f(6), f(6), f(6), [2, 3]]],
  ['softmaxCrossEntropyGrad', ['dz', 'dl', 'logp', 't', null], [f(6), f(2), f(6), f(6), [2, 3]]],
  ['sgdUpdate', ['p', 'g', 'v', null, null, null], [f(5), f(5), f(5), 0.1, 0.9, false]],
  ['adamUpdate', ['p', 'g', 'm', 'v', 'vhat', null, null, null, null], [f(5), f(5), f(5), f(5), f(5), 0.1, 0.9, 0.999, 1e-7]],
  ['bernoulliMask', ['out', null, null, null, null], [f(6), Uint32Array.of(1, 2, 3, 4), 6, 0.5, 2]],
  ['reduce', ['out', null, 'x', null, null], [f(2), 'max', f(6), [2, 3], [1]]],
  ['permute', ['out', 'x', null, null], [f(6), f(6), [2, 3], [1, 0]]],
  ['broadcastTo', ['out', 'x', null, null], [f(6), f(3), [3], [2, 3]]],
  ['slice', ['out', 'x', null, null, null], [f(4), f(6), [2, 3], [0, 1], [2, 2]]],
  [
    'pad',
    ['out', 'x', null, null],
    [
      f(12),
      f(6),
      [2, 3],
      [
        [1, 0],
        [0, 1],
      ],
    ],
  ],
  ['matmul', ['out', 'a', 'b', null, null, null, null, null], [f(8), f(6), f(12), 2, 3, 4, false, false]],
  [
    'conv2d',
    ['out', 'x', null, 'w', null, null, null],
    [y4, x4, [2, 4, 4, 2], w4, [3, 3, 2, 3], conv, { bias: f(3), act: 'relu', alpha: 0 }],
  ],
  [
    'conv2dBackprop',
    ['dx', 'dw', 'x', null, 'w', null, 'dy', null, null, null, null],
    [x4, w4, x4, [2, 4, 4, 2], w4, [3, 3, 2, 3], y4, [2, 4, 4, 3], conv, true, true],
  ],
  ['maxPool2d', ['out', 'x', null, null], [p4, y4, [2, 4, 4, 3], pool]],
  ['maxPool2dBackprop', ['dx', 'x', null, 'dy', null, null], [y4, y4, [2, 4, 4, 3], p4, [2, 2, 2, 3], pool]],
  ['avgPool2d', ['out', 'x', null, null], [p4, y4, [2, 4, 4, 3], pool]],
  ['avgPool2dBackprop', ['dx', 'dy', null, null, null], [y4, p4, [2, 2, 2, 3], [2, 4, 4, 3], pool]],
];

describe('native kernels check every array they are given', { skip: addon ? false : 'the native addon is not built' }, () => {
  test('the addon binds exactly the kernels of the contract, and the list below covers them all', () => {
    const settings = ['setThreads', 'setConvMode', 'getThreads', 'isa'];
    const bound = Object.keys(addon!).filter((k) => typeof addon![k] === 'function' && !settings.includes(k));
    assert.deepEqual([...bound].sort(), [...kernelNames].sort());
    assert.deepEqual(calls.map((c) => c[0]).sort(), [...kernelNames].sort());
  });

  for (const [kernel, names, args] of calls) {
    test(`${kernel}: a valid call runs; each array one element short is a TypeError naming ${kernel} and the argument`, () => {
      const copy = (a: unknown) => (a instanceof Float32Array ? a.slice() : a);
      call(kernel, args.map(copy));
      names.forEach((name, i) => {
        if (name === null) return;
        const short = args.map((a, j) => (j === i && a instanceof Float32Array ? a.slice(0, a.length - 1) : copy(a)));
        // The short array is named, or (when its length sets the others') named as what they were measured against.
        const named = (m: string) => m.startsWith(`convlab native ${kernel}: ${name}: has `) || m.endsWith(`(from ${name})`);
        assert.throws(
          () => call(kernel, short),
          (e: Error) => e instanceof TypeError && named(e.message),
          `${kernel}(${name} short)`,
        );
      });
    });
  }

  test('shapes, attributes and names that disagree are TypeErrors too', () => {
    const [, , back] = calls.find((c) => c[0] === 'conv2dBackprop')!;
    const wrong = [...back];
    wrong[7] = [2, 5, 4, 3];
    assert.throws(
      () => call('conv2dBackprop', wrong),
      /convlab native conv2dBackprop: dyShape: is \[2, 5, 4, 3\], expected \[2, 4, 4, 3\]/,
    );
    assert.throws(
      () => call('conv2d', [y4, x4, [2, 4, 4, 2], w4, [3, 3, 2, 3], conv, { bias: f(2), act: 'relu', alpha: 0 }]),
      /convlab native conv2d: epilogue.bias: has 2 elements, expected 3/,
    );
    assert.throws(() => call('conv2d', [y4, x4, [2, 4, 4, 2], w4, [3, 3, 2, 3], { strides: [1, 1], pads: [1, 1, 1, 1] }]), /conv2d: attrs/);
    assert.throws(
      () => call('binary', [f(4), 'add', f(4), [4], f(3), [3], [4]]),
      /convlab native binary: bShape: \[3\] does not broadcast to \[4\]/,
    );
    assert.throws(() => call('slice', [f(4), f(6), [2, 3], [1, 2], [2, 2]]), /convlab native slice: begin: the slice/);
    assert.throws(() => call('permute', [f(6), f(6), [2, 3], [0, 0]]), /convlab native permute: perm: not a permutation/);
    assert.throws(() => call('unary', [f(2), 'nope', f(2)]), /convlab native unary: op: unknown 'nope': expected one of neg, exp/);
    assert.throws(
      () => call('biasActivation', [f(6), f(6), [2, 3], null, 'gelu', 0]),
      /convlab native biasActivation: act: unknown 'gelu'/,
    );
    assert.throws(() => call('matmul', [f(8), f(6), [1, 2], 2, 3, 4, false, false]), /convlab native matmul: b: expected a Float32Array/);
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
