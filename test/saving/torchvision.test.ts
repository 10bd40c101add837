/**
 * The full resnet18 against torchvision's: torchvision's model with seeded random weights, saved by torch.save, gives
 * the same logits in convlab. Needs /usr/bin/python3 with torchvision (Debian's python3-torchvision; .ci/run
 * installs it where it can); without it the test reports itself skipped.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import * as E from '../../src/engine/index.js';
import { resetNames } from '../../src/nn/index.js';
import { resnet18 } from '../../src/saving/index.js';

const PYTHON = '/usr/bin/python3';
const probe = spawnSync(PYTHON, ['-c', 'import torchvision'], { encoding: 'utf8' });
const skip = probe.status === 0 ? false : `needs ${PYTHON} with torchvision (apt-get install python3-torchvision)`;
const dir = mkdtempSync(join(tmpdir(), 'convlab-torchvision-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test("resnet18 with torchvision's weights gives torchvision's logits (to 1e-4 of their range)", { skip, timeout: 180_000 }, () => {
  const script = fileURLToPath(new URL('../../../test/fixtures/torch/resnet18_reference.py', import.meta.url));
  const r = spawnSync(PYTHON, [script, dir], { encoding: 'utf8', timeout: 120_000 });
  assert.equal(r.status, 0, r.stderr);
  const expected = (JSON.parse(readFileSync(join(dir, 'logits.json'), 'utf8')) as { logits: number[] }).logits;
  resetNames();
  const model = resnet18({ weights: join(dir, 'resnet18.pth') });
  // The same input as the script's, x[i] = sin(i / 7) in NCHW order, laid out NHWC.
  const x = new Float32Array(2 * 224 * 224 * 3);
  for (let n = 0; n < 2; n++)
    for (let c = 0; c < 3; c++)
      for (let i = 0; i < 224 * 224; i++) x[(n * 224 * 224 + i) * 3 + c] = Math.sin(((n * 3 + c) * 224 * 224 + i) / 7);
  const logits = (model.predict(new E.Tensor(x, [2, 224, 224, 3])) as E.Tensor).data;
  const range = Math.max(...expected) - Math.min(...expected);
  let worst = 0;
  for (let i = 0; i < expected.length; i++) worst = Math.max(worst, Math.abs(logits[i] - expected[i]));
  assert.ok(worst <= 1e-4 * Math.max(1, range), `largest difference ${worst} (logits span ${range})`);
});
