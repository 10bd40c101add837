/** Fused softmax cross-entropy, the optimizer updates and dropout masks of the TypeScript backend. */
import { alloc } from '../../memory.js';
import type { Shape } from '../../shape.js';

export function softmaxCrossEntropy(z: Float32Array, t: Float32Array, shape: Shape): [Float32Array, Float32Array] {
  const c = shape[shape.length - 1] ?? 1;
  const rows = c === 0 ? 0 : z.length / c;
  const loss = alloc(rows);
  const logp = alloc(z.length);
  for (let r = 0; r < rows; r++) {
    const o = r * c;
    let max = -Infinity;
    for (let j = 0; j < c; j++) max = Math.max(max, z[o + j]);
    let sum = 0;
    for (let j = 0; j < c; j++) sum += Math.exp(z[o + j] - max);
    const lse = max + Math.log(sum);
    let l = 0;
    for (let j = 0; j < c; j++) {
      const lp = z[o + j] - lse;
      logp[o + j] = lp;
      if (t[o + j] !== 0) l -= t[o + j] * lp;
    }
    loss[r] = l;
  }
  return [loss, logp];
}

export function softmaxCrossEntropyGrad(dl: Float32Array, logp: Float32Array, t: Float32Array, shape: Shape): Float32Array {
  const c = shape[shape.length - 1] ?? 1;
  const rows = dl.length;
  const dz = alloc(logp.length);
  for (let r = 0; r < rows; r++) {
    const o = r * c;
    let tsum = 0;
    for (let j = 0; j < c; j++) tsum += t[o + j];
    for (let j = 0; j < c; j++) dz[o + j] = dl[r] * (Math.exp(logp[o + j]) * tsum - t[o + j]);
  }
  return dz;
}

export function sgdUpdate(p: Float32Array, g: Float32Array, v: Float32Array | null, lr: number, mu: number, nesterov: boolean): void {
  if (!v || mu === 0) {
    for (let i = 0; i < p.length; i++) p[i] -= lr * g[i];
    return;
  }
  for (let i = 0; i < p.length; i++) {
    v[i] = mu * v[i] - lr * g[i];
    p[i] += nesterov ? mu * v[i] - lr * g[i] : v[i];
  }
}

export function adamUpdate(
  p: Float32Array,
  g: Float32Array,
  m: Float32Array,
  v: Float32Array,
  vhat: Float32Array | null,
  alpha: number,
  b1: number,
  b2: number,
  eps: number,
): void {
  for (let i = 0; i < p.length; i++) {
    m[i] += (g[i] - m[i]) * (1 - b1);
    v[i] += (g[i] * g[i] - v[i]) * (1 - b2);
    let denom = v[i];
    if (vhat) {
      vhat[i] = Math.max(vhat[i], v[i]);
      denom = vhat[i];
    }
    p[i] -= (alpha * m[i]) / (Math.sqrt(denom) + eps);
  }
}

/** One xoshiro128** step on the four words at s[o..o+3]; returns the output. */
function xoshiroNext(s: Uint32Array, o: number): number {
  const m = Math.imul(s[o + 1], 5) >>> 0;
  const u = Math.imul(((m << 7) | (m >>> 25)) >>> 0, 9) >>> 0;
  const t = (s[o + 1] << 9) >>> 0;
  s[o + 2] ^= s[o];
  s[o + 3] ^= s[o + 1];
  s[o + 1] ^= s[o + 2];
  s[o] ^= s[o + 3];
  s[o + 2] ^= t;
  s[o + 3] = (s[o + 3] << 11) | (s[o + 3] >>> 21);
  return u;
}

/** Eight interleaved xoshiro128** streams seeded by 32 draws of `state` (see Backend.bernoulliMask). */
export function bernoulliMask(state: Uint32Array, n: number, rate: number, keep: number): Float32Array {
  const out = alloc(n);
  const lanes = new Uint32Array(32);
  for (let k = 0; k < 8; k++) {
    for (let j = 0; j < 4; j++) lanes[k * 4 + j] = xoshiroNext(state, 0);
    if ((lanes[k * 4] | lanes[k * 4 + 1] | lanes[k * 4 + 2] | lanes[k * 4 + 3]) === 0) lanes[k * 4] = 1;
  }
  const threshold = rate * 4294967296;
  for (let i = 0; i < n; i++) {
    // keep·(0 or 1) rather than a conditional: a random mask mispredicts a branch half the time.
    out[i] = keep * +(xoshiroNext(lanes, (i & 7) * 4) >= threshold);
  }
  return out;
}
