/**
 * Bad specs and arguments, for every block's parser (data, nn, train, lab): a SpecError carries each problem with
 * its path (model.layers[3].Conv2D.kernel_size) and the CLI exits with 2; parseArgs validates arguments with zod
 * and reports snake_case paths.
 */
import type { z } from 'zod';

/** kernelSize → kernel_size. */
export function camelToSnake(key: string): string {
  return key.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toLowerCase();
}

/** One problem in a spec or argument map: where it is and what is wrong. */
export interface SpecIssue {
  path: readonly (string | number)[];
  message: string;
}

/** A bad spec, file or argument: carries every issue found, each with its path. Exit code 2 at the CLI. */
export class SpecError extends Error {
  readonly issues: readonly SpecIssue[];
  constructor(issues: readonly SpecIssue[], prefix: readonly (string | number)[] = []) {
    const full = issues.map((i) => ({ path: [...prefix, ...i.path], message: i.message }));
    super(full.map((i) => (i.path.length ? `${formatPath(i.path)}: ${i.message}` : i.message)).join('\n'));
    this.name = 'SpecError';
    this.issues = full;
  }

  /** The same issues, located under a longer path. */
  within(prefix: readonly (string | number)[]): SpecError {
    return new SpecError(this.issues, prefix);
  }
}

/** ['model', 'layers', 3, 'Conv2D', 'kernelSize'] → model.layers[3].Conv2D.kernel_size */
export function formatPath(path: readonly (string | number)[]): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else out += (out ? '.' : '') + (/^[A-Z]/.test(seg) ? seg : seg.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toLowerCase());
  }
  return out;
}

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
