/**
 * Minimum and maximum of data-sized arrays, by loop: `Math.max(...values)` passes every value as an argument and
 * overflows the stack beyond about a hundred thousand (a photo's pixels, a large layer's weights).
 */

/** [min, max] of the values ([Infinity, -Infinity] when empty); NaN values are skipped. */
export function extent(values: Iterable<number>): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of values) {
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  return [lo, hi];
}

/** The largest of f(item) over the items, or `empty` when there are none. */
export function maxOf<T>(items: Iterable<T>, f: (item: T) => number, empty = -Infinity): number {
  let best = empty;
  for (const item of items) {
    const v = f(item);
    if (v > best) best = v;
  }
  return best;
}
