/** Seeded validation splits and training subsets, optionally stratified by class. */
import type { Random } from '../engine/random.js';

/** Picks `take` of the indices (seeded); with stratify, each class gives its proportional share. */
export function pickIndices(
  labels: Int32Array,
  pool: Int32Array,
  take: number,
  rng: Random,
  stratified: boolean,
): { picked: Int32Array; rest: Int32Array } {
  if (take < 0 || take > pool.length) throw new Error(`cannot take ${take} of ${pool.length} samples`);
  let picked: number[];
  if (!stratified) {
    const perm = rng.permutation(pool.length);
    picked = Array.from(perm.subarray(0, take), (i) => pool[i]);
  } else {
    const byClass = new Map<number, number[]>();
    for (const i of pool) {
      const c = labels[i];
      if (!byClass.has(c)) byClass.set(c, []);
      (byClass.get(c) as number[]).push(i);
    }
    const classes = [...byClass.keys()].sort((a, b) => a - b);
    // Largest-remainder apportionment so the shares add up to exactly `take`.
    const exact = classes.map((c) => ((byClass.get(c) as number[]).length * take) / pool.length);
    const counts = exact.map(Math.floor);
    let left = take - counts.reduce((a, b) => a + b, 0);
    const order = exact.map((e, i) => [e - Math.floor(e), i]).sort((a, b) => b[0] - a[0] || a[1] - b[1]);
    for (const [, i] of order) {
      if (left === 0) break;
      counts[i]++;
      left--;
    }
    picked = [];
    classes.forEach((c, k) => {
      const members = byClass.get(c) as number[];
      const perm = rng.permutation(members.length);
      for (let j = 0; j < counts[k]; j++) picked.push(members[perm[j]]);
    });
  }
  picked.sort((a, b) => a - b);
  const chosen = new Set(picked);
  return { picked: Int32Array.from(picked), rest: Int32Array.from(Array.from(pool).filter((i) => !chosen.has(i))) };
}
