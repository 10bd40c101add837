/** The seeded generator: reproducible streams, bulk generation identical to one-at-a-time, sane distributions. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { getBackend, Random } from '../../src/engine/index.js';

test('the same seed gives the same stream; another seed another', () => {
  const a = new Random(7);
  const b = new Random(7);
  const c = new Random(8);
  const xs = Array.from({ length: 5 }, () => a.nextUint32());
  assert.deepEqual(xs, Array.from({ length: 5 }, () => b.nextUint32()));
  assert.notDeepEqual(xs, Array.from({ length: 5 }, () => c.nextUint32()));
});

test('fillUint32 produces exactly the stream of nextUint32 and leaves the generator in the same state', () => {
  const a = new Random(3);
  const b = new Random(3);
  const bulk = a.fillUint32(new Uint32Array(1000));
  const single = Uint32Array.from({ length: 1000 }, () => b.nextUint32());
  assert.deepEqual(bulk, single);
  assert.equal(a.nextUint32(), b.nextUint32());
});

test('bernoulliMask (the dropout kernel) keeps exactly the draws of the stream ≥ rate·2³² and advances the generator past them', () => {
  const a = new Random(11);
  const b = new Random(11);
  const state = a.getState();
  const mask = getBackend().bernoulliMask(state, 5000, 0.3, 2);
  a.setState(state);
  const expected = Float32Array.from({ length: 5000 }, () => (b.nextUint32() >= 0.3 * 4294967296 ? 2 : 0));
  assert.deepEqual(mask, expected);
  assert.equal(a.nextUint32(), b.nextUint32());
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
  assert.deepEqual([...r.permutation(50)].sort((a, b) => a - b), Array.from({ length: 50 }, (_, i) => i));
  assert.ok(Array.from({ length: 5000 }, () => r.truncatedNormal()).every((v) => Math.abs(v) <= 2));
});
