/**
 * Layers, activations, losses and SGD against values computed by PyTorch (test/fixtures/torch/make_reference.py),
 * for the cases where Keras and PyTorch compute the same function: outputs, and the gradients of sum(output · seed)
 * with respect to the input and every weight. Keras' layouts (NHWC, HWIO) and 'same' padding (the extra row at the
 * bottom) are the reference's too; the script converts for PyTorch.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import * as E from '../../src/engine/index.js';
import { createLayer, getLoss, type Layer, Weight } from '../../src/nn/index.js';
import { getOptimizer } from '../../src/train/index.js';
import { assertClose } from '../helpers/gradcheck.js';

interface Arr {
  shape: number[];
  data: number[];
}
interface Case {
  name: string;
  kind: string;
  config: Record<string, unknown>;
  inputs: Record<string, Arr>;
  weights: Record<string, Arr>;
  output: Arr;
  seed: number[];
  grads: Record<string, number[]>;
}
interface OptimizerRun {
  name: string;
  optimizer: Record<string, unknown>;
  initial: number[];
  grads: number[][];
  final: number[];
}

const reference = JSON.parse(readFileSync(new URL('../../../test/fixtures/torch/layers.json', import.meta.url), 'utf8')) as {
  cases: Case[];
  optimizers: OptimizerRun[];
};

const tensor = (a: Arr, requiresGrad = false) => new E.Tensor(Float32Array.from(a.data), a.shape, requiresGrad);
const camel = (k: string) => k.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());

/** The convlab function a case describes, with the tensors its gradients are taken with respect to. */
function build(c: Case): { run: (x: E.Tensor) => E.Tensor; params: [string, E.Tensor][] } {
  if (c.kind === 'Loss') {
    const loss = getLoss(c.config.loss as string);
    const yTrue = tensor(c.config.y_true as Arr);
    return { run: (yPred) => loss.perSample(yTrue, yPred), params: [] };
  }
  const { training, ...config } = c.config;
  const layer: Layer = createLayer(c.kind, Object.fromEntries(Object.entries(config).map(([k, v]) => [camel(k), v])));
  const x = tensor(c.inputs.x);
  layer.apply(x);
  const names = Object.keys(c.weights);
  if (names.length) {
    // The reference's weights in the layer's own order (kernel, bias; gamma, beta), the moving statistics kept.
    layer.setWeights(
      layer.weights.map((w) => (c.weights[w.name.split('/').pop()!] ? tensor(c.weights[w.name.split('/').pop()!]) : w.value)),
    );
  }
  const params = names.map((n) => {
    const w = layer.weights.find((v) => v.name.endsWith(`/${n}`));
    assert.ok(w, `${c.name}: the layer has no weight '${n}'`);
    return [n, w.value] as [string, E.Tensor];
  });
  return { run: (input) => layer.apply(input, { training: Boolean(training) }), params };
}

describe('layers, activations and losses match PyTorch', () => {
  for (const c of reference.cases) {
    test(`${c.name}: output and gradients`, () => {
      const { run, params } = build(c);
      const inputName = Object.keys(c.inputs)[0];
      const x = tensor(c.inputs[inputName], true);
      const y = run(x);
      assert.deepEqual(y.shape, c.output.shape, `${c.name}: output shape`);
      assertClose(y.data, c.output.data, 2e-5, `${c.name}: output`);
      const seed = new E.Tensor(Float32Array.from(c.seed), c.output.shape);
      const { grads } = E.valueAndGrad(() => E.sum(E.mul(run(x), seed)), [x, ...params.map(([, t]) => t)]);
      assertClose(grads[0].data, c.grads[inputName], 2e-5, `${c.name}: gradient of ${inputName}`);
      params.forEach(([name], i) => assertClose(grads[i + 1].data, c.grads[name], 2e-5, `${c.name}: gradient of ${name}`));
    });
  }
});

describe('optimizers match PyTorch where the two agree', () => {
  for (const run of reference.optimizers) {
    test(`${run.name}: three steps end on PyTorch's weights`, () => {
      const opt = getOptimizer(run.optimizer);
      const w = new Weight('w', new E.Tensor(Float32Array.from(run.initial), [run.initial.length], true), true);
      for (const g of run.grads) opt.applyGradients([[Float32Array.from(g), w]]);
      assertClose(w.value.data, run.final, 1e-6, run.name);
    });
  }
});
