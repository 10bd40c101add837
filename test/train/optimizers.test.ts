/**
 * Each optimizer takes three steps on p = [1, −2] with fixed gradients. The expected values were computed by hand
 * from Keras 3's update rules in float64 (a separate Python script), so a wrong rule or default shows up here.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Tensor } from '../../src/engine/index.js';
import { Weight } from '../../src/nn/index.js';
import {
  Adadelta,
  Adagrad,
  Adam,
  Adamax,
  AdamW,
  getOptimizer,
  Nadam,
  RMSprop,
  SGD,
  type Optimizer,
} from '../../src/train/optimizers/index.js';
import { assertClose } from '../helpers/gradcheck.js';

const grads = [
  [0.5, 0.1],
  [-0.3, 0.2],
  [0.4, -0.6],
];

function run(opt: Optimizer): number[] {
  const w = new Weight('w', new Tensor(Float32Array.from([1, -2]), [2], true), true);
  for (const g of grads) opt.apply([w], [Float32Array.from(g)]);
  return Array.from(w.value.data);
}

const expected: [string, () => Optimizer, number[]][] = [
  ['SGD', () => new SGD({ learningRate: 0.1 }), [0.94, -1.97]],
  ['SGD momentum 0.9', () => new SGD({ learningRate: 0.1, momentum: 0.9 }), [0.8815, -2.0051]],
  ['SGD Nesterov', () => new SGD({ learningRate: 0.1, momentum: 0.9, nesterov: true }), [0.83335, -1.97459]],
  ['Adam', () => new Adam({ learningRate: 0.1 }), [0.832489710851803, -2.162690719940341]],
  ['AdamW (weight decay 0.004)', () => new AdamW({ learningRate: 0.1 }), [0.8313778341617952, -2.160173091606581]],
  ['RMSprop', () => new RMSprop({ learningRate: 0.1 }), [0.6628650865424713, -2.3034494759580446]],
  ['RMSprop momentum 0.5', () => new RMSprop({ learningRate: 0.1, momentum: 0.5 }), [0.5102100276917709, -2.6834641279722713]],
  ['Nadam', () => new Nadam({ learningRate: 0.1 }), [0.8778202867798998, -2.104640415882903]],
  ['Adagrad', () => new Adagrad({ learningRate: 0.1 }), [0.9090715095019275, -1.997774084684166]],
  ['Adadelta', () => new Adadelta({ learningRate: 0.1 }), [0.9998331239815449, -2.0000700332022583]],
  ['Adamax', () => new Adamax({ learningRate: 0.1 }), [0.8446322718974529, -2.155466946303608]],
  ['SGD clipnorm 0.2', () => new SGD({ learningRate: 0.1, clipnorm: 0.2 }), [0.9859353884484339, -1.9983753207405117]],
  ['SGD clipvalue 0.25', () => new SGD({ learningRate: 0.1, clipvalue: 0.25 }), [0.975, -2.005]],
  ['SGD with learning rate 0.1/(1+step)', () => new SGD({ learningRate: (step) => 0.1 / (1 + step) }), [0.9516666666666667, -2]],
];

describe('optimizer steps match hand-computed Keras 3 updates', () => {
  for (const [name, make, values] of expected) {
    test(name, () => assertClose(run(make()), values, 3e-6, name));
  }
});

describe('optimizer specs', () => {
  test('names and Keras-style arguments resolve, with defaults', () => {
    const a = getOptimizer({ adam: { learning_rate: 0.01, beta_1: 0.8 } }) as Adam;
    assert.equal(a.currentLearningRate(), 0.01);
    assert.equal(a.beta1, 0.8);
    assert.equal((getOptimizer('sgd') as SGD).currentLearningRate(), 0.01);
    assert.equal(getOptimizer({ class_name: 'RMSprop', config: { rho: 0.8 } }).className, 'RMSprop');
  });
  test('unknown optimizers and arguments are rejected by name', () => {
    assert.throws(() => getOptimizer('adamm'), /unknown optimizer 'adamm'/);
    assert.throws(() => getOptimizer({ adam: { learning_rat: 0.1 } }), /learning_rat/);
    assert.throws(() => getOptimizer({ sgd: { momentum: 2 } }), /momentum/);
  });
  test('state round-trips so a resumed optimizer continues identically', () => {
    const a = new Adam({ learningRate: 0.1 });
    const w = new Weight('w', new Tensor(Float32Array.from([1, -2]), [2], true), true);
    a.apply([w], [Float32Array.from(grads[0])]);
    const b = new Adam({ learningRate: 0.1 });
    b.setState(a.getState());
    const w2 = new Weight('w', new Tensor(Float32Array.from(w.value.data), [2], true), true);
    a.apply([w], [Float32Array.from(grads[1])]);
    b.apply([w2], [Float32Array.from(grads[1])]);
    assert.deepEqual(Array.from(w2.value.data), Array.from(w.value.data));
  });
});
