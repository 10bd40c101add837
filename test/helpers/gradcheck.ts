/**
 * Finite-difference gradient checks. The scalar checked is Σ y·W with a fixed random W, so every output element
 * carries a different weight. Central differences in float32 need a fairly large step; the tolerances reflect that.
 */
import assert from 'node:assert/strict';
import { mul, noGrad, Random, sum, Tensor } from '../../src/engine/index.js';

export interface GradCheckOptions {
  eps?: number;
  rtol?: number;
  atol?: number;
  /** At most this many elements per parameter are perturbed (chosen at random). */
  maxChecks?: number;
}

export function randomTensor(shape: number[], seed = 1, low = -1, high = 1): Tensor {
  const rng = new Random(seed);
  const n = shape.reduce((a, b) => a * b, 1);
  return new Tensor(
    Float32Array.from({ length: n }, () => rng.uniform(low, high)),
    shape,
    true,
  );
}

/** Values at least `gap` apart and at least gap/2 away from 0: safe for max, relu, abs and sorting kinks. */
export function spacedTensor(shape: number[], seed = 1, gap = 0.05): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const perm = new Random(seed).permutation(n);
  const data = Float32Array.from(perm, (p) => (p - Math.floor(n / 2)) * gap + gap / 2);
  return new Tensor(data, shape, true);
}

export function checkGradients(f: () => Tensor, params: Tensor[], options: GradCheckOptions = {}): void {
  const eps = options.eps ?? 5e-3;
  const rtol = options.rtol ?? 2e-2;
  const atol = options.atol ?? 2e-3;
  const maxChecks = options.maxChecks ?? 24;
  for (const p of params) {
    assert.ok(p.requiresGrad, 'every checked parameter must require gradients');
    p.grad = null;
  }
  const y0 = f();
  const rng = new Random(99);
  const w = new Tensor(
    Float32Array.from({ length: y0.size }, () => rng.uniform(-1, 1)),
    y0.shape,
  );
  sum(mul(y0, w)).backward();
  const analytic = params.map((p) => (p.grad ? Float64Array.from(p.grad.data) : new Float64Array(p.size)));
  const evaluate = (): number =>
    noGrad(() => {
      const y = f();
      let s = 0;
      for (let i = 0; i < y.size; i++) s += y.data[i] * w.data[i];
      return s;
    });
  params.forEach((p, k) => {
    const picks =
      p.size <= maxChecks ? Array.from({ length: p.size }, (_, i) => i) : Array.from(rng.permutation(p.size).subarray(0, maxChecks));
    for (const i of picks) {
      const orig = p.data[i];
      p.data[i] = orig + eps;
      const plus = evaluate();
      p.data[i] = orig - eps;
      const minus = evaluate();
      p.data[i] = orig;
      const numeric = (plus - minus) / (2 * eps);
      const a = analytic[k][i];
      const tol = atol + rtol * Math.max(Math.abs(a), Math.abs(numeric));
      assert.ok(
        Math.abs(a - numeric) <= tol,
        `parameter ${k} (shape [${p.shape.join(', ')}]) element ${i}: analytic ${a}, numeric ${numeric}`,
      );
    }
  });
  for (const p of params) p.grad = null;
}

export function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tol = 1e-5, what = 'value'): void {
  assert.equal(actual.length, expected.length, `${what}: length ${actual.length} vs ${expected.length}`);
  for (let i = 0; i < actual.length; i++) {
    const ok = Math.abs(actual[i] - expected[i]) <= tol * Math.max(1, Math.abs(expected[i]));
    assert.ok(ok, `${what}[${i}]: got ${actual[i]}, expected ${expected[i]}`);
  }
}
