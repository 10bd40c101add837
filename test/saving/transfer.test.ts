/**
 * Fine-tuning pieces: a pretrained base in the model block (weights by file or torchvision's cache, frozen or
 * not), frozen layers (no gradient, no optimizer state, non-trainable in the summary, a frozen BatchNormalization
 * in inference mode), ImageNet normalization and per-batch resizing, and the weights commands.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import * as E from '../../src/engine/index.js';
import { loadDataset } from '../../src/data/index.js';
import { EAGER_RESIZE_BYTES } from '../../src/data/spec.js';
import { resizeBilinear } from '../../src/data/image.js';
import { buildModelFromSpec } from '../../src/lab/model_spec.js';
import type { SpecError } from '../../src/nn/spec.js';
import { BatchNormalization, Dense, Input, Model, resetNames } from '../../src/nn/index.js';
import { buildResNet, RESNET18 } from '../../src/nn/applications/resnet.js';
import { readSafetensors, toStateDict, writeSafetensors } from '../../src/saving/index.js';
import { isConvlabOnnx } from '../../src/saving/onnx.js';
import '../../src/train/index.js';
import { runConvlab } from '../helpers/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'convlab-transfer-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const FIXTURES = fileURLToPath(new URL('../../../test/fixtures/torch/', import.meta.url));

describe('a pretrained base in the model block', () => {
  // resnet18's own weights, as a file: random ones, written the way a PyTorch export is.
  const weightsFile = join(dir, 'resnet18.safetensors');
  E.setSeed(3);
  resetNames();
  const source = buildResNet(RESNET18, { inputShape: [32, 32, 3] });
  writeSafetensors(weightsFile, toStateDict(source));

  test('base: {resnet18: {weights: FILE, trainable: false}} under a new top loads every weight and freezes the base', () => {
    resetNames();
    const model = buildModelFromSpec({
      input: [32, 32, 3],
      base: { resnet18: { weights: weightsFile, include_top: false, trainable: false } },
      layers: [{ GlobalAveragePooling2D: {} }, { Dense: { units: 10, activation: 'softmax' } }],
    });
    const conv1 = model.getLayer('conv1');
    assert.deepEqual([...conv1.weights[0].value.data], [...source.getLayer('conv1').weights[0].value.data]);
    assert.equal(
      model.trainableWeights.reduce((n, w) => n + w.value.size, 0),
      512 * 10 + 10,
    );
    assert.equal(
      model.nonTrainableWeights.reduce((n, w) => n + w.value.size, 0),
      11_689_512 - 513_000 + 9_600,
    );
    assert.match(model.summary({ print: () => undefined }), /Trainable params: 5,130/);
  });
  test('spec mistakes name their place: an unknown architecture, an unknown key, a weights file that is not there', () => {
    const build = (base: unknown) => () => buildModelFromSpec({ input: [32, 32, 3], base, layers: [{ Flatten: {} }] });
    assert.throws(build({ resnet50: {} }), (e: SpecError) =>
      /model\.base\.resnet50: unknown architecture: expected one of resnet18, resnet34/.test(e.message),
    );
    assert.throws(
      build({ resnet18: { freeze: true } }),
      /model\.base\.resnet18\.freeze: unknown key: expected one of weights, include_top, trainable, strict/,
    );
    assert.throws(build({ resnet18: { weights: join(dir, 'nope.pth') } }), /model\.base\.resnet18\.weights: .*nope\.pth: cannot read/);
  });
  test("weights: imagenet looks in torchvision's cache and says where to put the checkpoint", () => {
    const saved = process.env.TORCH_HOME;
    process.env.TORCH_HOME = join(dir, 'torch-home');
    try {
      assert.throws(
        () => buildModelFromSpec({ input: [32, 32, 3], base: { resnet18: { weights: 'imagenet' } }, layers: [] }),
        new RegExp(
          `checkpoint is not at ${join(dir, 'torch-home', 'hub', 'checkpoints', 'resnet18-f37072fd.pth')}.*download\\.pytorch\\.org/models/resnet18-f37072fd\\.pth`,
        ),
      );
      mkdirSync(join(dir, 'torch-home', 'hub', 'checkpoints'), { recursive: true });
      writeFileSync(join(dir, 'torch-home', 'hub', 'checkpoints', 'resnet18-f37072fd.pth'), 'not the checkpoint');
      assert.throws(
        () => buildModelFromSpec({ input: [32, 32, 3], base: { resnet18: { weights: 'imagenet' } }, layers: [] }),
        /sha256 [0-9a-f]{64} does not start with f37072fd, as its name says/,
      );
    } finally {
      if (saved === undefined) delete process.env.TORCH_HOME;
      else process.env.TORCH_HOME = saved;
    }
  });
});

describe('frozen layers', () => {
  function net() {
    E.setSeed(5);
    resetNames();
    const x = Input({ shape: [4] });
    const hidden = new Dense({ units: 3, name: 'hidden' });
    const bn = new BatchNormalization({ name: 'bn' });
    const top = new Dense({ units: 2, activation: 'softmax', name: 'top' });
    return { model: new Model({ inputs: x, outputs: top.apply(bn.apply(hidden.apply(x))) }), hidden, bn };
  }
  const x = new E.Tensor(
    Float32Array.from({ length: 32 }, (_, i) => Math.sin(i)),
    [8, 4],
  );
  const y = new E.Tensor(
    Float32Array.from({ length: 8 }, (_, i) => i % 2),
    [8],
  );
  test('get no gradient and no optimizer state, and keep their values through training', () => {
    const { model, hidden, bn } = net();
    hidden.trainable = false;
    bn.trainable = false;
    const before = [...hidden.weights, ...bn.weights].map((w) => [...w.value.data]);
    model.compile({ optimizer: 'adam', loss: 'sparse_categorical_crossentropy' });
    model.fit(x, y, { epochs: 3, batchSize: 4, verbose: 0 });
    assert.deepEqual(
      [...hidden.weights, ...bn.weights].map((w) => [...w.value.data]),
      before,
    );
    assert.ok(hidden.weights.every((w) => !w.value.requiresGrad && w.value.grad === null));
    assert.deepEqual(Object.keys(model.optimizer.getState().slots).sort(), ['top/bias', 'top/kernel']);
    hidden.trainable = true;
    assert.ok(hidden.weights.every((w) => w.value.requiresGrad));
  });
  test('a frozen BatchNormalization normalizes with its moving statistics, in training too', () => {
    const { bn } = net();
    bn.trainable = false;
    const h = new E.Tensor(
      Float32Array.from({ length: 24 }, (_, i) => i / 5),
      [8, 3],
    );
    bn.apply(h);
    const inference = bn.apply(h).data;
    assert.deepEqual([...bn.apply(h, { training: true }).data], [...inference]);
  });
});

describe('ImageNet normalization and per-batch resizing', () => {
  test('{normalize: imagenet} is (v/255 − mean)/std per channel; a channel count that does not match is a spec error', async () => {
    const data = await loadDataset('mnist', { transforms: [{ normalize: { mean: [0.5], std: [0.25] } }], subset: { train: 10 } });
    const raw = await loadDataset('mnist', { transforms: [{ scale: [0, 255] }], subset: { train: 10 } });
    const a = data.train.batch([0]).x[0].data;
    const b = raw.train.batch([0]).x[0].data;
    for (let i = 0; i < a.length; i += 97) assert.ok(Math.abs(a[i] - (b[i] / 255 - 0.5) / 0.25) < 1e-5);
    await assert.rejects(
      loadDataset('mnist', { transforms: [{ normalize: 'imagenet' }] }),
      /normalize: needs one mean and one std per channel: the images have 1, given 3 and 3/,
    );
  });
  test('a resize too large to hold happens per batch, with the same pixels as resizing ahead', async () => {
    // MNIST at 90×90 is 70,000 × 8,100 bytes: more than the eager limit, so it is resized per batch.
    assert.ok(70_000 * 90 * 90 > EAGER_RESIZE_BYTES);
    const data = await loadDataset('mnist', { transforms: [{ resize: [90, 90] }, { scale: [0, 255] }], subset: { train: 20 } });
    assert.deepEqual(data.sampleShape, [90, 90, 1]);
    assert.equal(data.dataset.train.height, 28, 'the stored images keep their size');
    const raw = await loadDataset('mnist', { transforms: [{ scale: [0, 255] }], subset: { train: 20 } });
    const { x } = data.test.batch([0, 1]);
    assert.deepEqual(x[0].shape, [2, 90, 90, 1]);
    const original = raw.test.batch([1]).x[0].data;
    const expected = resizeBilinear({ height: 28, width: 28, channels: 1, data: Uint8Array.from(original) }, 90, 90).data;
    assert.deepEqual([...x[0].data.subarray(8100)], [...expected]);
    assert.equal(data.pipeline.height, 90);
  });
});

describe('convlab weights inspect and convlab export', () => {
  test('inspect lists a checkpoint’s tensors; a file that is not weights exits 2 naming it', () => {
    const r = runConvlab(['weights', 'inspect', join(FIXTURES, 'tiny_resnet.pth')]);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /layer3\.0\.downsample\.0\.weight\s+F32\s+\[8, 8, 1, 1\]/);
    assert.match(r.out, /bn1\.num_batches_tracked\s+I64\s+\[\]/);
    const bad = join(dir, 'bad.pth');
    writeFileSync(bad, 'PK but not a zip at all');
    const b = runConvlab(['weights', 'inspect', bad]);
    assert.equal(b.code, 2);
    assert.match(b.err, /bad\.pth: the zip archive is damaged or truncated/);
    assert.doesNotMatch(b.err, /at .*\.js:/);
  });
  test('export writes a trained model’s weights as safetensors with PyTorch layouts, and never overwrites a foreign file', () => {
    const spec = join(dir, 'tiny.yaml');
    writeFileSync(
      spec,
      'name: tiny-export\ndata: {dataset: mnist, subset: {train: 64}}\nmodel:\n  input: [28, 28, 1]\n  layers:\n    - Conv2D: {filters: 2, kernel_size: 3, name: c1}\n    - Flatten: {}\n    - Dense: {units: 10, activation: softmax, name: out}\ntrain: {optimizer: adam, loss: sparse_categorical_crossentropy, epochs: 1}\n',
    );
    const saved = join(dir, 'tiny-model');
    assert.equal(runConvlab(['train', spec, '--save', saved, '--no-store', '-q']).code, 0);
    const out = join(dir, 'tiny.safetensors');
    const r = runConvlab(['export', saved, '--out', out]);
    assert.equal(r.code, 0, r.err);
    const byName = new Map(readSafetensors(out).map((t) => [t.name, t]));
    assert.deepEqual(byName.get('c1.weight')!.shape, [2, 1, 3, 3]);
    assert.deepEqual(byName.get('out.weight')!.shape, [10, 26 * 26 * 2]);
    const foreign = join(dir, 'notes.txt');
    writeFileSync(foreign, 'mine');
    const f = runConvlab(['export', saved, '--out', foreign]);
    assert.equal(f.code, 2);
    assert.match(f.err, /exists and is not a safetensors file; convlab replaces only its own exports/);
    assert.equal(readFileSync(foreign, 'utf8'), 'mine');
    const onnxFile = join(dir, 'm.onnx');
    const onnx = runConvlab(['export', saved, '--format', 'onnx', '--out', onnxFile]);
    assert.equal(onnx.code, 0, onnx.err);
    assert.ok(isConvlabOnnx(readFileSync(onnxFile)));
    assert.equal(runConvlab(['export', saved, '--format', 'onnx', '--out', onnxFile]).code, 0, 'an earlier export is replaced');
    const other = join(dir, 'other.onnx');
    writeFileSync(other, 'someone else’s model');
    const refused = runConvlab(['export', saved, '--format', 'onnx', '--out', other]);
    assert.equal(refused.code, 2);
    assert.match(refused.err, /is not an ONNX model written by convlab/);
    assert.equal(readFileSync(other, 'utf8'), 'someone else’s model');
    const bad = runConvlab(['export', saved, '--format', 'tflite', '--out', join(dir, 'm.tflite')]);
    assert.equal(bad.code, 2);
    assert.match(bad.err, /--format: expected safetensors or onnx, got 'tflite'/);
  });
});

describe('convlab weights fetch', () => {
  test('a server that is not there or a file whose checksum is wrong exits 2, and nothing is written', async () => {
    const home = join(dir, 'fetch-home');
    const env = { TORCH_HOME: home };
    const server = createServer((_req, res) => res.end('not a checkpoint'));
    await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
    const port = (server.address() as AddressInfo).port;
    try {
      const wrong = await runAsync(['weights', 'fetch', 'resnet18'], { ...env, CONVLAB_WEIGHTS_MIRROR: `http://127.0.0.1:${port}/models` });
      assert.equal(wrong.code, 2, wrong.err);
      assert.match(
        wrong.err,
        /resnet18-f37072fd\.pth: checksum mismatch: sha256 [0-9a-f]{64} does not start with f37072fd; nothing was written/,
      );
    } finally {
      server.close();
    }
    const gone = await runAsync(['weights', 'fetch', 'resnet18'], { ...env, CONVLAB_WEIGHTS_MIRROR: `http://127.0.0.1:${port}/models` });
    assert.equal(gone.code, 2);
    assert.match(gone.err, /download failed .*no network here\? Put resnet18-f37072fd\.pth in .*hub\/checkpoints by hand/);
    assert.equal(existsSync(join(home, 'hub', 'checkpoints', 'resnet18-f37072fd.pth')), false);
    const cached = join(home, 'hub', 'checkpoints');
    mkdirSync(cached, { recursive: true });
    writeFileSync(join(cached, 'resnet18-f37072fd.pth'), 'a file of someone else’s');
    const foreign = await runAsync(['weights', 'fetch', 'resnet18'], env);
    assert.equal(foreign.code, 2);
    assert.match(foreign.err, /exists, but its sha256 [0-9a-f]{64} does not start with f37072fd; move it aside/);
    assert.equal(readFileSync(join(cached, 'resnet18-f37072fd.pth'), 'utf8'), 'a file of someone else’s');
    const unknown = await runAsync(['weights', 'fetch', 'vgg16'], env);
    assert.equal(unknown.code, 2);
    assert.match(unknown.err, /no ImageNet weights for 'vgg16': expected one of resnet18, resnet34/);
  });
});

/** The CLI in a child process without blocking this one (the test serves HTTP meanwhile). */
function runAsync(args: string[], env: Record<string, string>): Promise<{ code: number | null; err: string }> {
  const bin = fileURLToPath(new URL('../../../bin/convlab.js', import.meta.url));
  return new Promise((done) => {
    const child = spawn(process.execPath, [bin, ...args], { env: { ...process.env, ...env } });
    let err = '';
    child.stderr.on('data', (d) => (err += d));
    child.on('close', (code) => done({ code, err }));
  });
}
