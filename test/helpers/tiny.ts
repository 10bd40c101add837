/** Small synthetic problems for training tests: fast, deterministic, and learnable. */
import { Random, Tensor } from '../../src/engine/index.js';

/** n images 8×8×1 whose class (0..2) is where a bright square sits, plus noise. */
export function squares(n: number, seed = 1): { x: Tensor; y: Tensor } {
  const rng = new Random(seed);
  const x = new Float32Array(n * 64);
  const y = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const c = i % 3;
    y[i] = c;
    for (let p = 0; p < 64; p++) x[i * 64 + p] = rng.uniform(0, 0.3);
    const [r0, c0] = [
      [0, 0],
      [0, 5],
      [5, 2],
    ][c];
    for (let r = 0; r < 3; r++) for (let k = 0; k < 3; k++) x[i * 64 + (r0 + r) * 8 + c0 + k] += 0.7;
  }
  return { x: new Tensor(x, [n, 8, 8, 1]), y: new Tensor(y, [n]) };
}
