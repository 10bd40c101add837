/** Every YAML example in the README parses, and each block it shows passes the same checks a spec's block does. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { parseDocument } from 'yaml';
import { dataSchema } from '../../src/data/spec.js';
import { buildModelFromSpec } from '../../src/lab/model_spec.js';
import { evaluateSchema, trainSchema } from '../../src/lab/spec.js';
import { sweepSchema } from '../../src/lab/sweep.js';
import { parseArgs } from '../../src/nn/schema.js';

const readme = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8');
const blocks = [...readme.matchAll(/^```ya?ml\n([\s\S]*?)^```/gm)].map((m) => ({ text: m[1], line: readme.slice(0, m.index).split('\n').length + 1 }));

test('the README has YAML examples to check', () => {
  assert.ok(blocks.length >= 5, `found ${blocks.length}`);
});

for (const { text, line } of blocks) {
  test(`the README's YAML example at line ${line} parses and its blocks pass their checks`, () => {
    const doc = parseDocument(text);
    assert.deepEqual(doc.errors.map((e) => e.message.split('\n')[0]), [], `README.md:${line}`);
    const value = doc.toJS() as Record<string, unknown>;
    if (value.data !== undefined) parseArgs(dataSchema, value.data, 'data');
    if (value.train !== undefined) parseArgs(trainSchema, value.train, 'train');
    if (value.evaluate !== undefined) parseArgs(evaluateSchema, value.evaluate, 'evaluate');
    if (value.sweep !== undefined) parseArgs(sweepSchema, value.sweep, 'sweep');
    if (value.model !== undefined) buildModelFromSpec(value.model);
  });
}
