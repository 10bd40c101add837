/** Initializers (Keras formulas, seeded) and regularizers (penalties, gradients, added to the training loss). */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import * as E from '../../src/engine/index.js';
import { Dense, getInitializer, getRegularizer, initializerNames, Input, Model, Sequential } from '../../src/nn/index.js';
import { computeFans } from '../../src/nn/initializers.js';
import { assertClose, checkGradients, randomTensor } from '../helpers/gradcheck.js';
// Model's compile/fit/trainOnBatch come with the train module.
import '../../src/train/index.js';

function stats(a: Float32Array): { mean: number; std: number; min: number; max: number } {
  const mean = a.reduce((s, v) => s + v, 0) / a.length;
  const std = Math.sqrt(a.reduce((s, v) => s + (v - mean) ** 2, 0) / a.length);
  return { mean, std, min: Math.min(...a), max: Math.max(...a) };
}

describe('initializers', () => {
  const shape = [3, 3, 16, 32];
  const [fanIn, fanOut] = computeFans(shape);
  test('fans of a conv kernel count the receptive field', () => {
    assert.deepEqual([fanIn, fanOut], [144, 288]);
    assert.deepEqual(computeFans([20, 10]), [20, 10]);
  });
  const cases: [string, (s: ReturnType<typeof stats>) => void][] = [
    ['zeros', (s) => assert.ok(s.min === 0 && s.max === 0)],
    ['ones', (s) => assert.ok(s.min === 1 && s.max === 1)],
    ['random_normal', (s) => assert.ok(Math.abs(s.std - 0.05) < 0.003)],
    ['random_uniform', (s) => assert.ok(s.min >= -0.05 && s.max <= 0.05 && Math.abs(s.std - 0.05 / Math.sqrt(3)) < 0.002)],
    ['truncated_normal', (s) => assert.ok(s.min >= -0.1 && s.max <= 0.1)],
    [
      'glorot_uniform',
      (s) => {
        const l = Math.sqrt(6 / (fanIn + fanOut));
        assert.ok(s.max <= l && s.min >= -l && Math.abs(s.std - l / Math.sqrt(3)) < 0.003);
      },
    ],
    ['glorot_normal', (s) => assert.ok(Math.abs(s.std - Math.sqrt(2 / (fanIn + fanOut))) < 0.004)],
    [
      'he_uniform',
      (s) => {
        const l = Math.sqrt(6 / fanIn);
        assert.ok(s.max <= l && Math.abs(s.std - l / Math.sqrt(3)) < 0.005);
      },
    ],
    ['he_normal', (s) => assert.ok(Math.abs(s.std - Math.sqrt(2 / fanIn)) < 0.006)],
    [
      'lecun_uniform',
      (s) => {
        const l = Math.sqrt(3 / fanIn);
        assert.ok(s.max <= l && Math.abs(s.std - l / Math.sqrt(3)) < 0.004);
      },
    ],
    ['lecun_normal', (s) => assert.ok(Math.abs(s.std - Math.sqrt(1 / fanIn)) < 0.004)],
  ];
  for (const [name, check] of cases) {
    test(`${name} has Keras' distribution`, () => check(stats(getInitializer(name).init(shape, new E.Random(1)))));
  }
  test('every initializer name is covered, constant and variance_scaling take arguments', () => {
    for (const n of initializerNames) assert.ok(cases.some(([c]) => c === n) || n === 'constant' || n === 'variance_scaling', n);
    assert.ok(
      getInitializer({ constant: { value: 0.3 } })
        .init([4], new E.Random(1))
        .every((v) => Math.abs(v - 0.3) < 1e-7),
    );
    const vs = getInitializer({ variance_scaling: { scale: 2, mode: 'fan_in', distribution: 'uniform' } }).init(shape, new E.Random(1));
    assert.ok(stats(vs).max <= Math.sqrt(6 / fanIn));
    assert.throws(() => getInitializer({ random_normal: { stdev: 1 } }), /no argument 'stdev'/);
  });
  test('the same seed gives the same weights; another seed gives others; Keras defaults are glorot_uniform and zeros', () => {
    const build = (seed: number) => {
      E.setSeed(seed);
      return new Sequential([Input({ shape: [4] }).layer, new Dense({ units: 3 })]);
    };
    const [a, b, c] = [build(5), build(5), build(6)];
    assert.deepEqual(Array.from(a.weights[0].value.data), Array.from(b.weights[0].value.data));
    assert.notDeepEqual(Array.from(a.weights[0].value.data), Array.from(c.weights[0].value.data));
    assert.ok(a.weights[1].value.data.every((v) => v === 0));
    const limit = Math.sqrt(6 / 7);
    assert.ok(a.weights[0].value.data.every((v) => Math.abs(v) <= limit));
  });
});

describe('regularizers', () => {
  test('penalties: l1·Σ|x| + l2·Σx²', () => {
    const x = E.tensor([1, -2]);
    assertClose(getRegularizer({ l1: 0.1 }).penalty(x).data, [0.3]);
    assertClose(getRegularizer({ l2: 0.1 }).penalty(x).data, [0.5]);
    assertClose(getRegularizer({ l1_l2: { l1: 0.1, l2: 0.1 } }).penalty(x).data, [0.8]);
    assertClose(getRegularizer('l2').penalty(x).data, [0.05]);
    assert.throws(() => getRegularizer({ l3: 1 }), /unknown regularizer 'l3'/);
  });
  test('penalty gradients match finite differences', () => {
    const x = randomTensor([5], 3);
    checkGradients(() => getRegularizer({ l1: 0.3, l2: 0.2 }).penalty(x), [x]);
  });
  test('kernel, bias and activity penalties are added to the loss as Keras adds them', () => {
    E.setSeed(1);
    const inp = Input({ shape: [2] });
    const d = new Dense({
      units: 1,
      kernelInitializer: 'ones',
      biasInitializer: 'ones',
      kernelRegularizer: { l1: 0.5 },
      biasRegularizer: { l2: 0.25 },
      activityRegularizer: { l1: 0.1 },
    });
    const m = new Model({ inputs: inp, outputs: d.apply(inp) });
    m.compile({ optimizer: 'sgd', loss: 'mse' });
    const x = E.tensor([1, 1, 2, 2], [2, 2]);
    const y = E.tensor([3, 5], [2, 1]);
    // Outputs 3 and 5: data loss 0. Kernel 0.5·2 = 1, bias 0.25·1 = 0.25, activity 0.1·(3+5)/batch 2 = 0.4.
    assertClose([m.evaluate(x, y).loss], [1.65], 1e-6);
  });
});
