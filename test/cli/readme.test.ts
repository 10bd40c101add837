/** Every YAML example in the README parses, and each block it shows passes the same checks a spec's block does. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { parseDocument } from 'yaml';
import { dataSchema } from '../../src/data/spec.js';
import { buildModelFromSpec } from '../../src/lab/model_spec.js';
import { evaluateSchema, trainSchema } from '../../src/lab/spec.js';
import { sweepSchema } from '../../src/lab/sweep.js';
import { parseArgs } from '../../src/nn/schema.js';

const readme = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8');
const blocks = [...readme.matchAll(/^```ya?ml\n([\s\S]*?)^```/gm)].map((m) => ({
  text: m[1],
  line: readme.slice(0, m.index).split('\n').length + 1,
}));

test('the README has YAML examples to check', () => {
  assert.ok(blocks.length >= 5, `found ${blocks.length}`);
});

for (const { text, line } of blocks) {
  test(`the README's YAML example at line ${line} parses and its blocks pass their checks`, () => {
    const doc = parseDocument(text);
    assert.deepEqual(
      doc.errors.map((e) => e.message.split('\n')[0]),
      [],
      `README.md:${line}`,
    );
    const value = doc.toJS() as Record<string, unknown>;
    if (value.data !== undefined) parseArgs(dataSchema, value.data, 'data');
    if (value.train !== undefined) parseArgs(trainSchema, value.train, 'train');
    if (value.evaluate !== undefined) parseArgs(evaluateSchema, value.evaluate, 'evaluate');
    if (value.sweep !== undefined) parseArgs(sweepSchema, value.sweep, 'sweep');
    if (value.model !== undefined) buildModelFromSpec(withoutImagenet(value.model));
  });
}

/**
 * The model block with `weights: imagenet` of a base set to null: torchvision's checkpoint is a file of the
 * machine's (its error is tested in test/saving/transfer.test.ts); everything else of the example is checked.
 */
function withoutImagenet(model: unknown): unknown {
  const m = model as { base?: Record<string, { weights?: unknown }> };
  if (!m.base) return model;
  const base = Object.fromEntries(Object.entries(m.base).map(([k, v]) => [k, v?.weights === 'imagenet' ? { ...v, weights: null } : v]));
  return { ...m, base };
}

test("the README's TypeScript API example runs exactly as printed", () => {
  const block = /## The TypeScript API\n\n```ts\n([\s\S]*?)^```/m.exec(readme);
  assert.ok(block, 'the README has the example');
  // Inside the package, so 'convlab/nn' and 'convlab/data' resolve to this checkout as they do for a user.
  const file = fileURLToPath(new URL('../../readme-example.mjs', import.meta.url));
  writeFileSync(file, block[1]);
  try {
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      CONVLAB_CACHE: process.env.CONVLAB_CACHE ?? join(tmpdir(), `convlab-readme-cache-${process.pid}`),
    };
    delete env.CONVLAB_BACKEND;
    const r = spawnSync(process.execPath, [file], { encoding: 'utf8', env, timeout: 300_000 });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /Total params: 54,410/);
    assert.match(r.stdout, /\{ loss: [0-9.]+, accuracy: 0\.9\d+ \}/);
  } finally {
    rmSync(file, { force: true });
  }
});
