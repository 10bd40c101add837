/** Keras-style names: snake_case class names made unique with a counter (conv2d, conv2d_1, ...). */

/** Keras' to_snake_case: MaxPooling2D → max_pooling2d, LeakyReLU → leaky_re_lu. */
export function toSnakeCase(name: string): string {
  const step1 = name.replace(/(.)([A-Z][a-z0-9]+)/g, '$1_$2');
  return step1.replace(/([a-z])([A-Z])/g, '$1_$2').toLowerCase();
}

export { camelToSnake } from '../util/spec_error.js';

/** kernel_size → kernelSize. */
export function snakeToCamel(key: string): string {
  return key.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

const counters = new Map<string, number>();

export function uniqueName(base: string): string {
  const n = counters.get(base) ?? 0;
  counters.set(base, n + 1);
  return n === 0 ? base : `${base}_${n}`;
}

/** Restarts the counters, so a freshly built model gets conv2d, conv2d_1, ... again. */
export function resetNames(): void {
  counters.clear();
}
