/**
 * ONNX export, run by ONNX Runtime (onnxruntime-web's WebAssembly build, which installs from the npm registry alone;
 * onnxruntime-node downloads its binaries at install, so it is not used): the strided CIFAR-10 net of the
 * training-size study, resnet18, and a functional model with the remaining layers give convlab's outputs.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import * as ort from 'onnxruntime-web';
import * as E from '../../src/engine/index.js';
import { buildModelFromSpec } from '../../src/lab/model_spec.js';
import { buildResNet, RESNET18 } from '../../src/nn/applications/resnet.js';
import * as L from '../../src/nn/index.js';
import { toOnnx } from '../../src/saving/onnx.js';
import { WeightsFileError } from '../../src/saving/safetensors.js';

ort.env.wasm.numThreads = 1;
ort.env.logLevel = 'error';

/** Runs the model in ONNX Runtime and in convlab on the same input; returns the largest difference and the range. */
async function compare(model: L.Model, shape: number[]): Promise<{ worst: number; range: number }> {
  const n = shape.reduce((a, b) => a * b, 1);
  const x = Float32Array.from({ length: n }, (_, i) => Math.sin(i / 3) + 0.1 * Math.cos(i));
  const session = await ort.InferenceSession.create(toOnnx(model));
  const out = await session.run({ [session.inputNames[0]]: new ort.Tensor('float32', x, shape) });
  const got = out[session.outputNames[0]];
  const want = model.predict(new E.Tensor(x, shape)) as E.Tensor;
  assert.deepEqual([...got.dims], want.shape);
  const data = got.data as Float32Array;
  let worst = 0;
  for (let i = 0; i < want.size; i++) worst = Math.max(worst, Math.abs(data[i] - want.data[i]));
  return { worst, range: Math.max(...want.data) - Math.min(...want.data) };
}

describe('ONNX export runs in ONNX Runtime with convlab’s outputs', () => {
  test('the strided CIFAR-10 net (same-padded stride-2 convolutions, dropout, softmax)', async () => {
    E.setSeed(1);
    L.resetNames();
    const model = buildModelFromSpec({
      input: [32, 32, 3],
      layers: [
        { Conv2D: { filters: 16, kernel_size: 3, padding: 'same', activation: 'relu' } },
        { Conv2D: { filters: 16, kernel_size: 3, strides: 2, padding: 'same', activation: 'relu' } },
        { Conv2D: { filters: 32, kernel_size: 3, padding: 'same', activation: 'relu' } },
        { Conv2D: { filters: 32, kernel_size: 3, strides: 2, padding: 'same', activation: 'relu' } },
        { Dropout: { rate: 0.5 } },
        { Flatten: {} },
        { Dense: { units: 10, activation: 'softmax' } },
      ],
    });
    const { worst } = await compare(model, [2, 32, 32, 3]);
    assert.ok(worst < 1e-5, `largest difference ${worst}`);
  });
  test('resnet18 at 224×224 (padding, max pooling, batch normalization, shortcuts, global pooling)', async () => {
    E.setSeed(2);
    L.resetNames();
    const model = buildResNet(RESNET18, {});
    // Moving statistics away from 0 and 1, so batch normalization is tested with values of its own.
    for (const l of model.layers) {
      if (l.className !== 'BatchNormalization') continue;
      for (const w of l.weights) if (w.name.endsWith('moving_variance')) w.assign(w.value.data.map((_, i) => 0.5 + (i % 7) / 7));
    }
    const { worst, range } = await compare(model, [1, 224, 224, 3]);
    assert.ok(worst < 1e-4 * Math.max(1, range), `largest difference ${worst} (outputs span ${range})`);
  });
  test('a functional model with the other layers: average and global max pooling, concatenation, reshape, activations', async () => {
    E.setSeed(3);
    L.resetNames();
    const x = L.Input({ shape: [12, 12, 2] });
    const a = new L.Conv2D({ filters: 3, kernelSize: 3, padding: 'same', activation: 'gelu' }).apply(x);
    const b = new L.AveragePooling2D({ poolSize: 3, strides: 1, padding: 'same' }).apply(new L.ZeroPadding2D({ padding: [1, 2] }).apply(x));
    const bb = new L.Conv2D({ filters: 3, kernelSize: [3, 5], dilationRate: 1, activation: 'swish' }).apply(b);
    const c = new L.Concatenate({}).apply([a, new L.LeakyReLU({ negativeSlope: 0.1 }).apply(bb)]);
    const d = new L.Activation({ activation: 'softmax' }).apply(new L.BatchNormalization({}).apply(c));
    const e = new L.Reshape({ targetShape: [6, 24, 6] }).apply(d);
    const f = new L.GlobalMaxPooling2D({}).apply(new L.MaxPooling2D({ poolSize: 2, padding: 'same' }).apply(e));
    const out = new L.Dense({ units: 4, activation: 'elu' }).apply(new L.ReLU({}).apply(f));
    const model = new L.Model({ inputs: x, outputs: out });
    const { worst } = await compare(model, [3, 12, 12, 2]);
    assert.ok(worst < 1e-5, `largest difference ${worst}`);
  });
  test('a layer or activation with no ONNX form is an error naming it', () => {
    L.resetNames();
    const x = L.Input({ shape: [4] });
    const model = new L.Model({ inputs: x, outputs: new L.Dense({ units: 2, activation: 'cos', name: 'waves' }).apply(x) });
    assert.throws(
      () => toOnnx(model),
      (e: Error) => e instanceof WeightsFileError && /layer 'waves' \(Dense\): the activation 'cos' has no ONNX form/.test(e.message),
    );
  });
});
