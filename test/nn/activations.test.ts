/** Every built-in activation: known values and a finite-difference gradient check; user functions work too. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import * as E from '../../src/engine/index.js';
import { activationNames, Dense, getActivation, Input, Model, registerActivation } from '../../src/nn/index.js';
import { assertClose, checkGradients, spacedTensor } from '../helpers/gradcheck.js';

const known: Record<string, [number[], number[]]> = {
  relu: [
    [-1, 2],
    [0, 2],
  ],
  leaky_relu: [
    [-1, 2],
    [-0.2, 2],
  ],
  elu: [
    [-1, 2],
    [-0.6321205588, 2],
  ],
  selu: [
    [-1, 2],
    [-1.1113307378, 2.1014019747],
  ],
  gelu: [
    [-1, 1],
    [-0.1586552539, 0.8413447461],
  ],
  sigmoid: [
    [0, 2],
    [0.5, 0.880797078],
  ],
  hard_sigmoid: [
    [0, 6],
    [0.5, 1],
  ],
  tanh: [
    [0, 1],
    [0, 0.761594156],
  ],
  softplus: [
    [0, 2],
    [Math.LN2, 2.126928011],
  ],
  softsign: [
    [1, -3],
    [0.5, -0.75],
  ],
  exponential: [
    [0, 1],
    [1, Math.E],
  ],
  swish: [
    [1, -1],
    [0.7310585786, -0.2689414214],
  ],
  silu: [
    [1, -1],
    [0.7310585786, -0.2689414214],
  ],
  linear: [
    [-3, 4],
    [-3, 4],
  ],
  cos: [
    [0, Math.PI],
    [1, -1],
  ],
  sin: [
    [0, Math.PI / 2],
    [0, 1],
  ],
};

describe('activations', () => {
  for (const name of activationNames().filter((n) => n in known || n === 'softmax')) {
    test(`${name}: values and gradients`, () => {
      const fn = getActivation(name).fn;
      if (name !== 'softmax') {
        const [xs, ys] = known[name];
        assertClose(fn(E.tensor(xs)).data, ys, 2e-6, name);
      }
      const x = spacedTensor([3, 4], 3, 0.3);
      checkGradients(() => fn(x), [x]);
    });
  }
  test('every built-in name has a value test', () => {
    for (const n of activationNames()) assert.ok(n in known || n === 'softmax', `no known values for ${n}`);
  });
  test('softmax rows sum to one', () => {
    const y = getActivation('softmax').fn(E.tensor([1, 2, 3, -1, 0, 1], [2, 3]));
    assertClose([y.data[0] + y.data[1] + y.data[2], y.data[3] + y.data[4] + y.data[5]], [1, 1], 1e-6);
  });
  test('a user function built from engine ops works as an activation, by value and by registered name', () => {
    const cube = (x: E.Tensor) => E.mul(E.mul(x, x), x);
    registerActivation('cube', cube);
    const inp = Input({ shape: [2] });
    const byName = new Dense({ units: 1, activation: 'cube', kernelInitializer: 'ones' });
    const byFn = new Dense({ units: 1, activation: cube, kernelInitializer: 'ones' });
    const m = new Model({ inputs: inp, outputs: [byName.apply(inp), byFn.apply(inp)] });
    const [a, b] = m.predictBatch(E.tensor([1, 1], [1, 2]));
    assert.equal(a.item(), 8);
    assert.equal(b.item(), 8);
    assert.throws(() => registerActivation('relu', cube), /built in/);
  });
});
