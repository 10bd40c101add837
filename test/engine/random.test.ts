/** The seeded generator: reproducible streams, bulk generation identical to one-at-a-time, sane distributions. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { getBackend, Random } from '../../src/engine/index.js';

test('the same seed gives the same stream; another seed another', () => {
  const a = new Random(7);
  const b = new Random(7);
  const c = new Random(8);
  const xs = Array.from({ length: 5 }, () => a.nextUint32());
  assert.deepEqual(
    xs,
    Array.from({ length: 5 }, () => b.nextUint32()),
  );
  assert.notDeepEqual(
    xs,
    Array.from({ length: 5 }, () => c.nextUint32()),
  );
});

test('fillUint32 produces exactly the stream of nextUint32 and leaves the generator in the same state', () => {
  const a = new Random(3);
  const b = new Random(3);
  const bulk = a.fillUint32(new Uint32Array(1000));
  const single = Uint32Array.from({ length: 1000 }, () => b.nextUint32());
  assert.deepEqual(bulk, single);
  assert.equal(a.nextUint32(), b.nextUint32());
});

test('bernoulliMask (the dropout kernel) is fixed by the generator state, keeps about 1 − rate, and advances the generator by 32 draws', () => {
  const a = new Random(11);
  const b = new Random(11);
  const c = new Random(11);
  const draw = (r: Random, n: number, rate: number) => {
    const state = r.getState();
    const mask = getBackend().bernoulliMask(state, n, rate, 1 / (1 - rate));
    r.setState(state);
    return mask;
  };
  const m = draw(a, 100000, 0.3);
  assert.deepEqual(m, draw(b, 100000, 0.3));
  const kept = m.reduce((s, v) => s + (v > 0 ? 1 : 0), 0) / m.length;
  assert.ok(Math.abs(kept - 0.7) < 0.01, `kept ${kept}`);
  assert.ok(m.every((v) => v === 0 || Math.abs(v - 1 / 0.7) < 1e-6));
  for (let i = 0; i < 32; i++) c.nextUint32();
  assert.equal(a.nextUint32(), c.nextUint32());
  assert.notDeepEqual(draw(a, 64, 0.5), draw(c.fork(), 64, 0.5));
});

test('uniform, normal and permutation behave', () => {
  const r = new Random(1);
  const u = Array.from({ length: 20000 }, () => r.next());
  const mean = u.reduce((s, v) => s + v, 0) / u.length;
  assert.ok(Math.abs(mean - 0.5) < 0.01 && u.every((v) => v >= 0 && v < 1));
  const z = Array.from({ length: 20000 }, () => r.normal());
  const m = z.reduce((s, v) => s + v, 0) / z.length;
  const sd = Math.sqrt(z.reduce((s, v) => s + (v - m) ** 2, 0) / z.length);
  assert.ok(Math.abs(m) < 0.03 && Math.abs(sd - 1) < 0.03);
  assert.deepEqual(
    [...r.permutation(50)].sort((a, b) => a - b),
    Array.from({ length: 50 }, (_, i) => i),
  );
  assert.ok(Array.from({ length: 5000 }, () => r.truncatedNormal()).every((v) => Math.abs(v) <= 2));
});
