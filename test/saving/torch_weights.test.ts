/**
 * Weights in from PyTorch: torch.save checkpoints (read without running their pickle) and safetensors files, mapped
 * by name and layout onto torchvision-structured ResNets, checked against PyTorch's own logits and gradients for a
 * small ResNet (test/fixtures/torch/make_resnet.py); every malformed file is an error naming the file and the
 * problem; weights out as a PyTorch-named safetensors file.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { unzipSync, zipSync } from 'fflate';
import * as E from '../../src/engine/index.js';
import { buildResNet, RESNET18, RESNET34 } from '../../src/nn/applications/resnet.js';
import { getLoss, resetNames } from '../../src/nn/index.js';
import {
  loadStateDict,
  loadWeightsFile,
  readSafetensors,
  readTorchStateDict,
  readWeightsFile,
  toStateDict,
  writeSafetensors,
} from '../../src/saving/index.js';
import { assertClose } from '../helpers/gradcheck.js';

const FIXTURES = fileURLToPath(new URL('../../../test/fixtures/torch/', import.meta.url));
const fixture = (name: string) => join(FIXTURES, name);
const reference = JSON.parse(readFileSync(fixture('tiny_resnet.json'), 'utf8')) as {
  widths: number[];
  blocks: number[];
  input_nhwc: { shape: number[]; data: number[] };
  labels: number[];
  logits: number[];
  loss: number;
  grads: Record<string, { shape: number[]; data: number[] }>;
  dtypes: Record<string, number[]>;
};
const dir = mkdtempSync(join(tmpdir(), 'convlab-weights-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function tinyResNet(classes = 10) {
  E.setSeed(1);
  resetNames();
  return buildResNet({ blocks: reference.blocks, widths: reference.widths }, { inputShape: [32, 32, 3], classes });
}

describe('reading weights files', () => {
  test('a torch.save checkpoint and a safetensors file of the same state dict read alike', () => {
    const pth = readTorchStateDict(fixture('tiny_resnet.pth'));
    const st = readSafetensors(fixture('tiny_resnet.safetensors'));
    const floats = pth.filter((t) => t.data);
    assert.deepEqual(
      floats.map((t) => t.name),
      st.map((t) => t.name),
    );
    floats.forEach((t, i) => {
      assert.deepEqual(t.shape, st[i].shape, t.name);
      assert.deepEqual([...t.data!], [...st[i].data!], t.name);
    });
    const counters = pth.filter((t) => !t.data);
    assert.ok(counters.length > 0 && counters.every((t) => t.name.endsWith('.num_batches_tracked') && t.dtype === 'I64'));
  });
  test('F16, BF16 and F64 tensors are converted to float32', () => {
    const byName = new Map(readSafetensors(fixture('tiny_dtypes.safetensors')).map((t) => [t.name, t]));
    for (const [name, values] of Object.entries(reference.dtypes)) assertClose(byName.get(name)!.data!, values, 1e-7, name);
    assert.deepEqual(byName.get('half')!.shape, [2, 3]);
  });
});

describe("a torchvision-structured ResNet with PyTorch's weights", () => {
  const x = new E.Tensor(Float32Array.from(reference.input_nhwc.data), reference.input_nhwc.shape);
  for (const file of ['tiny_resnet.pth', 'tiny_resnet.safetensors']) {
    test(`${file}: every weight loads by name, and the logits are PyTorch's to 1e-4`, () => {
      const model = tinyResNet();
      const report = loadWeightsFile(model, fixture(file));
      assert.equal(report.loaded.length, model.weights.length);
      const logits = model.predict(x) as E.Tensor;
      assertClose(logits.data, reference.logits, 1e-4, 'logits');
    });
  }
  test('one training step (batch statistics) gives PyTorch’s loss and gradients to 1e-4', () => {
    const model = tinyResNet();
    loadWeightsFile(model, fixture('tiny_resnet.pth'));
    const loss = getLoss({ sparse_categorical_crossentropy: { from_logits: true } });
    const y = new E.Tensor(Float32Array.from(reference.labels), [reference.labels.length]);
    const slots = toStateDict(model).map((s) => s.name);
    const keys = Object.keys(reference.grads);
    const weights = keys.map((k) => model.weights[slots.indexOf(k)]);
    const ctx = { training: true, rng: new E.Random(0), addLoss: () => undefined };
    const { value, grads } = E.valueAndGrad(
      () => loss(y, model.call(x, ctx)[0]),
      weights.map((w) => w.value),
    );
    assert.ok(Math.abs(value - reference.loss) < 1e-4, `loss ${value} vs ${reference.loss}`);
    // Compare in PyTorch's layout: the gradients go through the same conversion as the weights.
    grads.forEach((g, i) => weights[i].assign(g.data));
    const asTorch = new Map(toStateDict(model).map((s) => [s.name, s]));
    for (const k of keys) {
      assert.deepEqual(asTorch.get(k)!.shape, reference.grads[k].shape, k);
      assertClose(asTorch.get(k)!.data, reference.grads[k].data, 1e-4, `gradient of ${k}`);
    }
  });
  test('a weights file round-trips through safetensors with PyTorch names', () => {
    const model = tinyResNet();
    loadWeightsFile(model, fixture('tiny_resnet.pth'));
    const out = join(dir, 'out.safetensors');
    writeSafetensors(out, toStateDict(model));
    const again = tinyResNet();
    loadWeightsFile(again, out);
    assert.deepEqual(
      again.weights.map((w) => [...w.value.data]),
      model.weights.map((w) => [...w.value.data]),
    );
    assert.ok(readSafetensors(out).some((t) => t.name === 'layer2.0.downsample.0.weight'));
  });
});

describe('loading reports every problem by name', () => {
  const tensors = readWeightsFile(fixture('tiny_resnet.pth'));
  test('strict: missing keys, unexpected keys and shape mismatches at once, and nothing loaded', () => {
    const model = tinyResNet(5);
    const before = model.weights.map((w) => [...w.value.data]);
    const some = tensors.filter((t) => t.name !== 'layer1.0.conv1.weight');
    some.push({ name: 'extra.weight', dtype: 'F32', shape: [1], data: new Float32Array(1) });
    assert.throws(
      () => loadStateDict(model, some, { source: 'the test state dict' }),
      (e: Error) =>
        /missing from the test state dict: layer1\.0\.conv1\.weight/.test(e.message) &&
        /not in the model: extra\.weight/.test(e.message) &&
        /fc\.weight: the test state dict has \[10, 16\], the model \[5, 16\]/.test(e.message) &&
        /fc\.bias/.test(e.message),
    );
    assert.deepEqual(
      model.weights.map((w) => [...w.value.data]),
      before,
    );
  });
  test('strict: false loads what matches (a new top) and reports the rest', () => {
    const model = tinyResNet(5);
    const report = loadStateDict(model, tensors, { strict: false });
    assert.deepEqual(report.mismatched.map((m) => m.split(':')[0]).sort(), ['fc.bias', 'fc.weight']);
    assert.equal(report.loaded.length, model.weights.length - 2);
  });
});

describe('malformed weights files are errors naming the file and the problem', () => {
  const write = (name: string, bytes: Uint8Array | string) => {
    const file = join(dir, name);
    writeFileSync(file, bytes);
    return file;
  };
  const pth = readFileSync(fixture('tiny_resnet.pth'));
  test('a truncated zip', () => {
    const file = write('cut.pth', pth.subarray(0, pth.length - 300));
    assert.throws(() => readTorchStateDict(file), new RegExp(`${file}: the zip archive is damaged or truncated`));
  });
  test('wrong magic: neither a zip nor a pickle', () => {
    const file = write('text.pth', 'hello, not weights');
    assert.throws(() => readTorchStateDict(file), /not a PyTorch checkpoint: a torch\.save file is a zip archive/);
  });
  test('a safetensors header whose length runs past the end', () => {
    const head = Buffer.alloc(16);
    head.writeBigUInt64LE(1000n);
    const file = write('long.safetensors', head);
    assert.throws(() => readSafetensors(file), /the header length 1000 runs past the end of the file \(16 bytes\)/);
  });
  test('a safetensors tensor of an unsupported dtype, and one whose data is cut short', () => {
    const make = (entry: object, dataBytes: number) => {
      let json = JSON.stringify({ t: entry });
      json += ' '.repeat((8 - (json.length % 8)) % 8);
      const head = Buffer.alloc(8);
      head.writeBigUInt64LE(BigInt(json.length));
      return Buffer.concat([head, Buffer.from(json), Buffer.alloc(dataBytes)]);
    };
    const odd = write('odd.safetensors', make({ dtype: 'F8_E4M3', shape: [2], data_offsets: [0, 2] }, 2));
    assert.throws(() => readSafetensors(odd), /tensor 't': dtype "F8_E4M3" is not supported: expected one of F64, F32, F16, BF16/);
    const short = write('short.safetensors', make({ dtype: 'F32', shape: [4], data_offsets: [0, 16] }, 8));
    assert.throws(() => readSafetensors(short), /tensor 't': its data .* runs past the end of the file: truncated/);
  });
  test('a pickle naming a foreign global is refused by name, and nothing in it runs', () => {
    const marker = join(dir, 'ran');
    // GLOBAL os.system, MARK, the command as BINUNICODE, TUPLE, REDUCE, STOP: what a malicious checkpoint holds.
    const command = `touch ${marker}`;
    const body = Buffer.concat([Buffer.from([0x80, 0x02]), Buffer.from('cos\nsystem\n'), Buffer.from([0x28, 0x58])]);
    const len = Buffer.alloc(4);
    len.writeUInt32LE(command.length);
    const evil = Buffer.concat([body, len, Buffer.from(command), Buffer.from([0x74, 0x52, 0x2e])]);
    const file = write('evil.pth', zipSync({ 'archive/data.pkl': evil, 'archive/version': Buffer.from('3\n') }));
    assert.throws(() => readTorchStateDict(file), /refuses the global os\.system: only a state dict's tensors are read/);
    assert.equal(existsSync(marker), false, 'the command must not have run');
  });
  test('a storage cut short inside the archive', () => {
    const entries = readTorchStateDict(fixture('tiny_resnet.pth'));
    assert.ok(entries.length > 0);
    const files = unzipSync(pth);
    const key = Object.keys(files).find((k) => /\/data\/\d+$/.test(k) && files[k].length > 64)!;
    files[key] = files[key].subarray(0, 8);
    const file = write('short.pth', zipSync(files));
    assert.throws(() => readTorchStateDict(file), /storage data\/\d+ has 8 bytes, expected \d+: truncated/);
  });
});

describe('resnet18 and resnet34 have torchvision’s sizes', () => {
  test("resnet18 with its 1000-class top: 11,689,512 trainable parameters (torchvision's count) and 9,600 moving statistics", () => {
    resetNames();
    const model = buildResNet(RESNET18, {});
    const count = (ws: { value: { size: number } }[]) => ws.reduce((n, w) => n + w.value.size, 0);
    assert.equal(count(model.trainableWeights), 11_689_512);
    assert.equal(count(model.nonTrainableWeights), 9_600);
    assert.match(model.summary({ print: () => undefined }), /Trainable params: 11,689,512\nNon-trainable params: 9,600/);
    assert.deepEqual(model.outputs[0].shape, [null, 1000]);
  });
  test('resnet34 without its top ends at [7, 7, 512] with 21,284,672 trainable parameters', () => {
    resetNames();
    const model = buildResNet(RESNET34, { includeTop: false });
    assert.deepEqual(model.outputs[0].shape, [null, 7, 7, 512]);
    assert.equal(
      model.trainableWeights.reduce((n, w) => n + w.value.size, 0),
      21_284_672,
    );
  });
});
