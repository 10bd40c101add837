/**
 * One harness for every layer (after Keras' run_layer_test): builds it on a symbolic input and checks the output
 * shape, the weight counts, a config round trip through the layer registry, the real output's shape, a
 * finite-difference gradient check of the input and every trainable weight in training and inference mode, one
 * training step inside a model (finite loss, trainable weights moved), and a save/load round trip of that model
 * (the same outputs from the loaded one).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Random, Tensor } from '../../src/engine/index.js';
import { createLayer, Input, Model, type CallContext, type Layer } from '../../src/nn/index.js';
import { loadModel, saveModel } from '../../src/saving/saved_model.js';
import { snakeToCamel } from '../../src/nn/naming.js';
import { checkGradients, randomTensor, type GradCheckOptions } from './gradcheck.js';
// Model's compile/fit/trainOnBatch come with the train module.
import '../../src/train/index.js';

export interface LayerTestCase {
  make: () => Layer;
  /** Input shapes with the batch dimension; several for merging layers. */
  inputShapes: number[][];
  expectedOutputShape: number[];
  trainableWeights?: number;
  nonTrainableWeights?: number;
  /** Input values; random in [-1, 1] by default. */
  input?: (shape: number[], seed: number) => Tensor;
  modes?: ('training' | 'inference')[];
  gradcheck?: GradCheckOptions;
}

function context(training: boolean): CallContext {
  // A fresh generator per call gives the same dropout mask on every evaluation of the check.
  return { training, rng: new Random(7), addLoss: () => undefined };
}

export function runLayerTest(c: LayerTestCase): void {
  const layer = c.make();
  const symbolic = c.inputShapes.map((s) => Input({ shape: s.slice(1) }));
  const out = layer.apply(symbolic.length === 1 ? symbolic[0] : symbolic);
  assert.deepEqual(out.shape, [null, ...c.expectedOutputShape.slice(1)], 'symbolic output shape');
  assert.equal(layer.trainableWeights.length, c.trainableWeights ?? 0, 'trainable weight count');
  assert.equal(layer.nonTrainableWeights.length, c.nonTrainableWeights ?? 0, 'non-trainable weight count');

  // Config round trip: the same class rebuilt from its own config gives the same config.
  const config = layer.getConfig();
  const args = Object.fromEntries(
    Object.entries(config)
      .filter(([k, v]) => v !== null && k !== 'name')
      .map(([k, v]) => [snakeToCamel(k), v]),
  );
  const again = createLayer(layer.className, args);
  const { name: _a, ...c1 } = config;
  const { name: _b, ...c2 } = again.getConfig();
  assert.deepEqual(c2, c1, 'config round trip');

  const inputs = c.inputShapes.map((s, i) => (c.input ? c.input(s, 31 + i) : randomTensor(s, 31 + i)));
  for (const t of inputs) t.requiresGrad = true;
  const arg = () => (inputs.length === 1 ? inputs[0] : inputs);
  for (const mode of c.modes ?? ['training', 'inference']) {
    const y = layer.invoke(arg(), context(mode === 'training'));
    assert.deepEqual([...y.shape], c.expectedOutputShape, `${mode} output shape`);
    const params = [...inputs, ...layer.trainableWeights.map((w) => w.value)];
    checkGradients(() => layer.invoke(arg(), context(mode === 'training')), params, c.gradcheck);
  }

  trainAndReload(
    c,
    inputs.map((t) => new Tensor(t.data.slice(), t.shape)),
  );
}

/** The layer in a model: one SGD step on a squared error moves its trainable weights; saved and loaded, it agrees. */
function trainAndReload(c: LayerTestCase, inputs: Tensor[]): void {
  const symbolic = c.inputShapes.map((s) => Input({ shape: s.slice(1) }));
  const layer = c.make();
  const model = new Model({ inputs: symbolic, outputs: [layer.apply(symbolic.length === 1 ? symbolic[0] : symbolic)] });
  model.compile({ optimizer: { sgd: { learning_rate: 0.1 } }, loss: 'mse' });
  const target = new Tensor(new Float32Array(c.expectedOutputShape.reduce((a, b) => a * b, 1)).fill(0.25), c.expectedOutputShape);
  const before = layer.trainableWeights.map((w) => w.value.data.slice());
  const loss = model.trainOnBatch(inputs, target);
  assert.ok(Number.isFinite(loss), `one training step gives a finite loss (${loss})`);
  if (before.length) {
    const moved = layer.trainableWeights.some((w, i) => w.value.data.some((v, k) => v !== before[i][k]));
    assert.ok(moved, 'one training step moves the trainable weights');
  }
  const dir = mkdtempSync(join(tmpdir(), 'convlab-layer-'));
  try {
    saveModel(model, join(dir, 'model'));
    const back = loadModel(join(dir, 'model'));
    const y = model.predict(inputs) as Tensor;
    const z = back.predict(inputs) as Tensor;
    assert.deepEqual([...z.data], [...y.data], 'the loaded model gives the same outputs');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
