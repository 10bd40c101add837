/** `convlab summary` on a study: every configuration's parameter counts, or one trial's whole summary. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runConvlab } from '../helpers/cli.js';

const STUDY = 'examples/reproductions/fashion-mnist-variants.yaml';

test("summary of a sweep lists every configuration's parameter counts (the Fashion-MNIST LeNet-5 variants)", () => {
  const r = runConvlab(['summary', STUDY]);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /7 configurations/);
  assert.match(r.out, /Baseline\s+61,706\s+61,706\s+0/);
  assert.match(r.out, /Filter\s+255,230/);
  assert.match(r.out, /Convolution\s+23,706/, 'about 60% fewer than the baseline, as the report says');
});

test('summary --trial shows that trial’s model; a name that is no trial exits 2 listing the trials', () => {
  const r = runConvlab(['summary', STUDY, '--trial', 'Dropout']);
  assert.equal(r.code, 0, r.err);
  assert.equal((r.out.match(/\(Dropout\)/g) ?? []).length, 3);
  const bad = runConvlab(['summary', STUDY, '--trial', 'Wider']);
  assert.equal(bad.code, 2);
  assert.match(
    bad.err,
    /--trial Wider: no such trial in .*: expected one of Baseline, MaxPooling, Filter, Convolution, LR 0\.1, LR 0\.01, Dropout/,
  );
});
