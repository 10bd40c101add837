/**
 * Named-object specs shared by initializers, regularizers, optimizers and losses. One thing can be written as
 * 'glorot_uniform', {glorot_uniform: {seed: 1}}, or Keras' {class_name: 'GlorotUniform', config: {seed: 1}}.
 */
import { toSnakeCase } from './naming.js';

export interface Named {
  name: string;
  config: Record<string, unknown>;
}

export function parseNamed(spec: unknown, what: string): Named {
  if (typeof spec === 'string') return { name: toSnakeCase(spec), config: {} };
  if (spec && typeof spec === 'object' && !Array.isArray(spec)) {
    const obj = spec as Record<string, unknown>;
    if (typeof obj.class_name === 'string') {
      const config = obj.config ?? {};
      if (typeof config !== 'object' || config === null || Array.isArray(config)) throw new Error(`${what} config must be a mapping`);
      return { name: toSnakeCase(obj.class_name), config: config as Record<string, unknown> };
    }
    const keys = Object.keys(obj);
    if (keys.length === 1) {
      const config = obj[keys[0]] ?? {};
      if (typeof config !== 'object' || Array.isArray(config)) {
        throw new Error(`${what} '${keys[0]}' takes a mapping of arguments, got ${JSON.stringify(config)}`);
      }
      return { name: toSnakeCase(keys[0]), config: config as Record<string, unknown> };
    }
  }
  throw new Error(`${what} must be a name, {name: {args}} or {class_name, config}; got ${JSON.stringify(spec)}`);
}

/** Reads numeric arguments with defaults, rejecting unknown ones. */
export function numericArgs<K extends string>(
  config: Record<string, unknown>,
  defaults: Record<K, number | null>,
  what: string,
): Record<K, number | null> {
  const out = { ...defaults };
  for (const [key, value] of Object.entries(config)) {
    if (key === 'seed' && (value === null || typeof value === 'number')) continue;
    if (!(key in defaults)) {
      throw new Error(
        `${what} has no argument '${key}': expected ${
          Object.keys(defaults)
            .map((k) => `'${k}'`)
            .join(', ') || 'none'
        }`,
      );
    }
    if (typeof value !== 'number' || !Number.isFinite(value))
      throw new Error(`${what} argument '${key}' must be a number, got ${JSON.stringify(value)}`);
    out[key as K] = value;
  }
  return out;
}

export { SpecError, formatPath, type SpecIssue } from '../util/spec_error.js';
