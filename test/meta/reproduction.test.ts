/**
 * REPRODUCTION.md stays true to the repository: every file it links or shows exists, every reproduction spec is in
 * it, and every figure committed beside it is one it shows (no stray generated files).
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const doc = readFileSync(join(ROOT, 'REPRODUCTION.md'), 'utf8');
// Markdown links and images, and <img src="...">: the local ones (no scheme, no anchor-only links).
const targets = [
  ...[...doc.matchAll(/\]\(([^)\s]+)\)/g)].map((m) => m[1]),
  ...[...doc.matchAll(/<img src="([^"]+)"/g)].map((m) => m[1]),
].filter((t) => !/^[a-z]+:/.test(t) && !t.startsWith('#'));

test('every file REPRODUCTION.md links or shows exists', () => {
  assert.ok(targets.length >= 10, `found ${targets.length} local links`);
  const missing = targets.filter((t) => !existsSync(join(ROOT, t.split('#')[0])));
  assert.deepEqual(missing, []);
});

test('every reproduction spec is in REPRODUCTION.md', () => {
  const specs = readdirSync(join(ROOT, 'examples', 'reproductions')).filter((f) => f.endsWith('.yaml'));
  assert.ok(specs.length >= 10);
  const absent = specs.filter((f) => !targets.includes(`examples/reproductions/${f}`));
  assert.deepEqual(absent, []);
});

test('every figure under docs/reproduction is one that REPRODUCTION.md shows', () => {
  const figures = readdirSync(join(ROOT, 'docs', 'reproduction')).map((f) => `docs/reproduction/${f}`);
  assert.ok(figures.length >= 5);
  const unshown = figures.filter((f) => !targets.includes(f));
  assert.deepEqual(unshown, []);
});
