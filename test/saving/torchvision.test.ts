/**
 * The full resnet18 against torchvision's: torchvision's model with seeded random weights, saved by torch.save, gives
 * the same logits in convlab. Needs /usr/bin/python3 with torchvision (Debian's python3-torchvision; .ci/run
 * installs it where it can); without it the test reports itself skipped.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import * as E from '../../src/engine/index.js';
import { resetNames } from '../../src/nn/index.js';
import type { Model } from '../../src/nn/index.js';
import { resnet18, toTorchStateDict, writeSafetensors } from '../../src/saving/index.js';

const PYTHON = '/usr/bin/python3';
const probe = spawnSync(PYTHON, ['-c', 'import torchvision'], { encoding: 'utf8' });
const skip = probe.status === 0 ? false : `needs ${PYTHON} with torchvision (apt-get install python3-torchvision)`;
const dir = mkdtempSync(join(tmpdir(), 'convlab-torchvision-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const script = fileURLToPath(new URL('../../../test/fixtures/torch/resnet18_reference.py', import.meta.url));

/** The script's logits (it writes logits.json into `out`). */
function torchLogits(out: string, ...args: string[]): number[] {
  const r = spawnSync(PYTHON, [script, out, ...args], { encoding: 'utf8', timeout: 120_000 });
  assert.equal(r.status, 0, r.stderr);
  return (JSON.parse(readFileSync(join(out, 'logits.json'), 'utf8')) as { logits: number[] }).logits;
}

/** convlab's logits for the script's input, x[i] = sin(i / 7) in NCHW order, laid out NHWC. */
function convlabLogits(model: Model): Float32Array {
  const x = new Float32Array(2 * 224 * 224 * 3);
  for (let n = 0; n < 2; n++)
    for (let c = 0; c < 3; c++)
      for (let i = 0; i < 224 * 224; i++) x[(n * 224 * 224 + i) * 3 + c] = Math.sin(((n * 3 + c) * 224 * 224 + i) / 7);
  return (model.predict(new E.Tensor(x, [2, 224, 224, 3])) as E.Tensor).data;
}

function assertClose(got: Float32Array, expected: number[]): void {
  const range = Math.max(...expected) - Math.min(...expected);
  let worst = 0;
  for (let i = 0; i < expected.length; i++) worst = Math.max(worst, Math.abs(got[i] - expected[i]));
  assert.ok(worst <= 1e-4 * Math.max(1, range), `largest difference ${worst} (logits span ${range})`);
}

test("resnet18 with torchvision's weights gives torchvision's logits (to 1e-4 of their range)", { skip, timeout: 180_000 }, () => {
  const expected = torchLogits(dir);
  resetNames();
  assertClose(convlabLogits(resnet18({ weights: join(dir, 'resnet18.pth') })), expected);
});

test("convlab's safetensors export loads into torchvision's resnet18 with load_state_dict(strict=True) and gives its logits", {
  skip,
  timeout: 180_000,
}, () => {
  E.setSeed(9);
  resetNames();
  const model = resnet18();
  for (const w of model.weights) if (w.name.endsWith('moving_variance')) w.assign(w.value.data.map((_, i) => 0.5 + (i % 5) / 5));
  const file = join(dir, 'convlab-resnet18.safetensors');
  writeSafetensors(file, toTorchStateDict(model));
  const out = join(dir, 'loaded');
  mkdirSync(out);
  assertClose(convlabLogits(model), torchLogits(out, '--load', file));
});
