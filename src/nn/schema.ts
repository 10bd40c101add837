/**
 * Argument schemas shared by the layers. Layer arguments are validated with zod in camelCase; YAML's snake_case
 * keys are converted before validation and converted back in error paths, so one schema serves both.
 */
import { z } from 'zod';
import { getActivation } from './activations.js';
import { getInitializer } from './initializers.js';
import { camelToSnake } from './naming.js';
import { getRegularizer } from './regularizers.js';
import { SpecError, type SpecIssue } from './spec.js';

const positiveInt = z.number().int().positive();

/** 3 or [3, 3] → [3, 3]. */
export const intPair = z.union([positiveInt, z.tuple([positiveInt, positiveInt])], { error: 'expected a positive integer or a pair [height, width] of positive integers' }).transform(
  (v): [number, number] => (typeof v === 'number' ? [v, v] : [v[0], v[1]]),
);

export const padding = z.enum(['valid', 'same']);

function resolvable<T>(resolve: (v: never) => T) {
  return z.any().superRefine((v, ctx) => {
    if (v === undefined || v === null) return;
    try {
      resolve(v as never);
    } catch (e) {
      ctx.addIssue({ code: 'custom', message: (e as Error).message });
    }
  });
}

export const activation = resolvable(getActivation);
export const initializer = resolvable(getInitializer);
export const regularizer = resolvable(getRegularizer);

export const baseArgs = {
  name: z.string().min(1).optional(),
  trainable: z.boolean().optional(),
  /** Shape of one sample, without the batch dimension (Keras' input_shape). */
  inputShape: z.array(positiveInt.nullable()).min(1).optional(),
  batchSize: positiveInt.optional(),
  dtype: z.literal('float32').optional(),
  activityRegularizer: regularizer.optional(),
};

export type BaseArgs = {
  name?: string;
  trainable?: boolean;
  inputShape?: (number | null)[];
  batchSize?: number;
  dtype?: 'float32';
  activityRegularizer?: unknown;
};

/** Validates arguments against a schema, throwing a SpecError whose paths use snake_case names. */
export function parseArgs<S extends z.ZodType>(schema: S, args: unknown, owner: string): z.output<S> {
  const result = schema.safeParse(args ?? {}, { reportInput: true });
  if (result.success) return result.data;
  const issues: SpecIssue[] = [];
  for (const issue of result.error.issues) {
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) {
        issues.push({ path: [...issue.path.map(String), camelToSnake(key)], message: `unknown argument of ${owner}` });
      }
    } else {
      issues.push({ path: issue.path.map((p) => (typeof p === 'number' ? p : String(p))), message: describeIssue(issue) });
    }
  }
  throw new SpecError(issues);
}

function describeIssue(issue: z.core.$ZodIssue): string {
  const msg = issue.message.replace(/^Invalid input: /, '');
  if ('input' in issue && issue.input !== undefined && issue.code !== 'custom') {
    return `${msg} (found ${shown(issue.input)})`;
  }
  return msg;
}

/** A value as the user wrote it: NaN and infinities by name (JSON would say null), long values cut. */
function shown(v: unknown): string {
  if (typeof v === 'number' && !Number.isFinite(v)) return Number.isNaN(v) ? '.nan (not a number)' : v > 0 ? '.inf' : '-.inf';
  const text = JSON.stringify(v) ?? String(v);
  return text.length > 80 ? `${text.slice(0, 80)}…` : text;
}
