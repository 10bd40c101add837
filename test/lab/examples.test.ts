/**
 * Every spec under examples/ (the reproductions included) reads, expands into its trials, and each trial passes the
 * checks `convlab run` makes before it trains anything: data block, model (built), evaluate block. A spec that drifts
 * from the API fails here, not hours into a run. The reproductions' parameter counts are the reports'.
 */
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { checkTrials } from '../../src/lab/runner.js';
import { readSpecFile } from '../../src/lab/spec.js';
import { expandSweep } from '../../src/lab/sweep.js';
import { buildModelFromSpec } from '../../src/lab/model_spec.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const examples = join(root, 'examples');

function specFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? specFiles(join(dir, e.name)) : /\.ya?ml$/.test(e.name) ? [join(dir, e.name)] : [],
  );
}

const files = specFiles(examples);

test('there are example specs and reproductions to check', () => {
  assert.ok(files.length >= 10, `found ${files.length}`);
  assert.ok(files.filter((f) => f.includes('/reproductions/')).length >= 10);
});

for (const file of files) {
  const name = relative(root, file);
  test(`${name}: every trial of its sweep passes the checks made before a run`, () => {
    const plans = expandSweep(readSpecFile(file)).map((p) => ({ ...p, spec: withoutImagenet(p.spec) }));
    assert.ok(plans.length >= 1);
    checkTrials(plans, name);
  });
}

/**
 * The spec with `weights: imagenet` of a base set to null: torchvision's checkpoint is a file of the machine's, not
 * of the repository (its absence is tested in test/saving/transfer.test.ts); everything else is checked.
 */
function withoutImagenet(spec: Record<string, unknown>): Record<string, unknown> {
  const model = spec.model as { base?: Record<string, { weights?: unknown }> } | undefined;
  if (!model?.base) return spec;
  const base = Object.fromEntries(Object.entries(model.base).map(([k, v]) => [k, v?.weights === 'imagenet' ? { ...v, weights: null } : v]));
  return { ...spec, model: { ...model, base } };
}

/** Parameter counts by trial label, as the reports print them. */
const reported: Record<string, Record<string, number>> = {
  'cifar10-architectures.yaml': { Strided: 37146, 'Extra-Layers': 23314 },
  'cifar10-regularization.yaml': {
    'M1 none': 48970,
    'M1 batchnorm': 53322,
    'M2 none': 1442902,
    'M2 batchnorm': 1443558,
    'M3 none': 1121430,
    'M3 batchnorm': 1122086,
  },
  'cifar10-early-stopping.yaml': { 'Keras init': 390410, 'PyTorch init': 390410 },
  'fashion-mnist-variants.yaml': { Baseline: 61706, Convolution: 23706 },
};

for (const [file, counts] of Object.entries(reported)) {
  test(`examples/reproductions/${file}: the parameter counts are the report's`, () => {
    const plans = expandSweep(readSpecFile(join(examples, 'reproductions', file)));
    for (const [label, params] of Object.entries(counts)) {
      const plan = plans.find((p) => p.label === label || p.group === label);
      assert.ok(plan, `${file} has no trial '${label}' (has ${plans.map((p) => p.label).join(', ')})`);
      const model = buildModelFromSpec((plan.spec as { model: unknown }).model);
      assert.equal(model.countParams(), params, `${file} ${label}`);
    }
  });
}
