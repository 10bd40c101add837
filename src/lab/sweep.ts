/**
 * Sweeps: one spec becomes many trials. `variants` are named sets of overrides (set a field, insert or delete list
 * items such as layers), `grid` is a cartesian product over field paths, `random` draws N trials from ranges and
 * choices, and `repeats` runs each with K seeds. Trials = variants × grid × random draws × repeats.
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { Random } from '../engine/random.js';
import { parseArgs } from '../nn/schema.js';
import { SpecError } from '../nn/spec.js';
import { parsePath } from './spec.js';
import { nameProblem } from '../util/safe_fs.js';

type Path = readonly (string | number)[];
type Issue = { path: Path; message: string };

const distribution = z.union(
  [
    z.strictObject({ uniform: z.tuple([z.number(), z.number()]) }),
    z.strictObject({ log_uniform: z.tuple([z.number().positive(), z.number().positive()]) }),
    z.strictObject({ int: z.tuple([z.number().int(), z.number().int()]) }),
    z.strictObject({ choice: z.array(z.any()).min(1) }),
  ],
  { error: 'expected {uniform: [low, high]}, {log_uniform: [low, high]}, {int: [low, high]} or {choice: [...]}' },
);

const structuredVariant = z.strictObject({
  description: z.string().optional(),
  set: z.record(z.string(), z.any()).optional(),
  insert: z.record(z.string(), z.any()).optional(),
  delete: z.array(z.string()).optional(),
});

/** Variant names label trials in tables, figures and reports. */
const safeVariantNames = (v: Record<string, unknown>, ctx: z.RefinementCtx) => {
  for (const name of Object.keys(v)) {
    const why = nameProblem(name, 'variant');
    if (why) ctx.addIssue({ code: 'custom', path: [name], message: `variant name ${why}` });
  }
};
const nonEmpty = (what: string) =>
  [
    (v: Record<string, unknown>) => Object.keys(v).length > 0,
    `an empty mapping makes no trials: expected at least one ${what}, or leave the field out`,
  ] as const;

export const sweepSchema = z.strictObject({
  variants: z
    .record(z.string(), z.union([z.record(z.string(), z.any()), z.null()]))
    .superRefine(safeVariantNames)
    .refine(...nonEmpty('variant'))
    .optional(),
  grid: z
    .record(z.string(), z.array(z.any()).min(1, 'an empty list makes no trials: expected at least one value'))
    .refine(...nonEmpty('field path with its values'))
    .optional(),
  random: z
    .strictObject({
      trials: z.number().int().positive(),
      seed: z.number().int().optional(),
      params: z.record(z.string(), distribution).refine(...nonEmpty('parameter with its distribution')),
    })
    .optional(),
  repeats: z.number().int().positive().default(1),
});
export type SweepSpec = z.output<typeof sweepSchema>;

/** One trial: the resolved spec (no sweep block) and what distinguishes it. */
export interface TrialPlan {
  /** A stable identity: the hash of the resolved spec (seed included). */
  key: string;
  /** Variant name, grid and random values: 'MaxPooling learning_rate=0.01'. */
  label: string;
  variant: string | null;
  /** The label without the repeat number: repeats of one configuration share it. */
  group: string;
  /** Swept values by path (grid and random). */
  values: Record<string, unknown>;
  repeat: number;
  seed: number;
  spec: Record<string, unknown>;
}

const clone = <T>(v: T): T => structuredClone(v);

/** Walks to the container of a path's last key, reporting where the path leaves the spec. */
function locate(
  root: unknown,
  path: Path,
  where: Path,
  create: boolean,
): { container: Record<string | number, unknown>; key: string | number } {
  let node = root as Record<string | number, unknown>;
  for (let i = 0; i < path.length - 1; i++) {
    const key = path[i];
    if (typeof key === 'number') {
      if (!Array.isArray(node))
        throw new SpecError([{ path: where, message: `${fmt(path.slice(0, i))} is not a list, so it has no element [${key}]` }]);
      if (key >= node.length)
        throw new SpecError([{ path: where, message: `${fmt(path.slice(0, i))} has ${node.length} elements, so there is no [${key}]` }]);
    } else if (Array.isArray(node)) {
      throw new SpecError([{ path: where, message: `${fmt(path.slice(0, i))} is a list: expected an index [n], found '${key}'` }]);
    } else if (node[key] === undefined || node[key] === null) {
      if (!create) throw new SpecError([{ path: where, message: `${fmt(path.slice(0, i + 1))} does not exist` }]);
      node[key] = typeof path[i + 1] === 'number' ? [] : {};
    }
    node = node[key] as Record<string | number, unknown>;
    if (typeof node !== 'object' || node === null)
      throw new SpecError([{ path: where, message: `${fmt(path.slice(0, i + 1))} is ${JSON.stringify(node)}, not a mapping or list` }]);
  }
  return { container: node, key: path[path.length - 1] };
}

function fmt(path: Path): string {
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? p : `.${p}`)).join('') || '(the spec)';
}

function readPath(text: string, where: Path): Path {
  try {
    return parsePath(text);
  } catch {
    throw new SpecError([
      { path: where, message: `cannot read the field path '${text}': expected e.g. train.epochs or model.layers[2].Dense.units` },
    ]);
  }
}

/** An error location: the sweep field, then the field path it names (as segments, so it prints as written). */
function at(prefix: Path, text: string): Path {
  try {
    return [...prefix, ...parsePath(text)];
  } catch {
    return [...prefix, text];
  }
}

/** Sets a field (creating missing mappings); a list index must exist. */
export function setPath(spec: Record<string, unknown>, text: string, value: unknown, where: Path): void {
  const path = readPath(text, where);
  const { container, key } = locate(spec, path, where, true);
  if (typeof key === 'number') {
    if (!Array.isArray(container)) throw new SpecError([{ path: where, message: `${fmt(path.slice(0, -1))} is not a list` }]);
    if (key >= container.length)
      throw new SpecError([
        { path: where, message: `${fmt(path.slice(0, -1))} has ${container.length} elements, so there is no [${key}]` },
      ]);
  }
  container[key] = clone(value);
}

/**
 * Applies a variant: a map of path → value (set), {set, insert, delete}, or both at once (paths beside insert and
 * delete are set). Paths refer to the base spec.
 */
export function applyVariant(spec: Record<string, unknown>, name: string, variant: Record<string, unknown> | null): void {
  const where: Path = ['sweep', 'variants', name];
  if (variant === null) return;
  // Field paths may stand beside set/insert/delete: {train.epochs: 5, insert: {...}} sets train.epochs too.
  const STRUCTURAL = ['description', 'set', 'insert', 'delete'];
  const paths = Object.keys(variant).filter((k) => !STRUCTURAL.includes(k));
  const structural = Object.fromEntries(Object.entries(variant).filter(([k]) => STRUCTURAL.includes(k)));
  const v = parseArgs(structuredVariant, structural, `sweep.variants.${name}`);
  for (const p of paths) {
    if (v.set && p in v.set) throw new SpecError([{ path: at(where, p), message: `given twice: beside set and inside it; keep one` }]);
  }
  for (const [p, value] of Object.entries(v.set ?? {})) setPath(spec, p, value, at([...where, 'set'], p));
  for (const p of paths) setPath(spec, p, variant[p], at(where, p));
  // Inserts and deletes name indices of the base spec, so they are applied from the highest index down; at the same
  // index the delete goes first (delete + insert = replace).
  const edits: { path: Path; index: number; insert?: unknown[]; where: Path }[] = [];
  for (const p of v.delete ?? []) {
    const w = at([...where, 'delete'], p);
    const path = readPath(p, w);
    if (typeof path[path.length - 1] !== 'number')
      throw new SpecError([{ path: w, message: `deletes remove list elements: expected a path ending in [n], e.g. model.layers[3]` }]);
    edits.push({ path: path.slice(0, -1), index: path[path.length - 1] as number, where: w });
  }
  for (const [p, items] of Object.entries(v.insert ?? {})) {
    const w = at([...where, 'insert'], p);
    const path = readPath(p, w);
    if (typeof path[path.length - 1] !== 'number')
      throw new SpecError([{ path: w, message: `inserts go before a list index: expected a path ending in [n], e.g. model.layers[3]` }]);
    edits.push({
      path: path.slice(0, -1),
      index: path[path.length - 1] as number,
      insert: Array.isArray(items) ? items : [items],
      where: w,
    });
  }
  edits.sort((a, b) => b.index - a.index || (a.insert ? 1 : 0) - (b.insert ? 1 : 0));
  for (const e of edits) {
    const { container, key } = locate(spec, [...e.path, 0], e.where, false);
    void key;
    if (!Array.isArray(container)) throw new SpecError([{ path: e.where, message: `${fmt(e.path)} is not a list` }]);
    if (e.insert) {
      if (e.index > container.length)
        throw new SpecError([
          { path: e.where, message: `${fmt(e.path)} has ${container.length} elements: an insert goes at [0]..[${container.length}]` },
        ]);
      container.splice(e.index, 0, ...clone(e.insert));
    } else {
      if (e.index >= container.length)
        throw new SpecError([
          { path: e.where, message: `${fmt(e.path)} has ${container.length} elements, so there is no [${e.index}] to delete` },
        ]);
      container.splice(e.index, 1);
    }
  }
}

function draw(d: z.output<typeof distribution>, rng: Random): unknown {
  if ('uniform' in d) return d.uniform[0] + rng.next() * (d.uniform[1] - d.uniform[0]);
  if ('log_uniform' in d) {
    const [lo, hi] = d.log_uniform.map(Math.log);
    return Number(Math.exp(lo + rng.next() * (hi - lo)).toPrecision(6));
  }
  if ('int' in d) return d.int[0] + Math.floor(rng.next() * (d.int[1] - d.int[0] + 1));
  return d.choice[Math.floor(rng.next() * d.choice.length)];
}

/** Short names for swept paths: the last key, or more of the path where two would read the same. */
export function shortNames(paths: string[]): Record<string, string> {
  const parts = paths.map((p) => p.split('.'));
  const out: Record<string, string> = {};
  paths.forEach((p, i) => {
    for (let n = 1; n <= parts[i].length; n++) {
      const name = parts[i].slice(-n).join('.');
      if (parts.every((q, j) => j === i || q.slice(-n).join('.') !== name) || n === parts[i].length) {
        out[p] = name;
        break;
      }
    }
  });
  return out;
}

function show(v: unknown): string {
  return typeof v === 'object' && v !== null ? JSON.stringify(v) : String(v);
}

export function hashSpec(spec: unknown): string {
  const canonical = (v: unknown): unknown =>
    Array.isArray(v)
      ? v.map(canonical)
      : typeof v === 'object' && v !== null
        ? Object.fromEntries(
            Object.keys(v)
              .sort()
              .map((k) => [k, canonical((v as Record<string, unknown>)[k])]),
          )
        : v;
  return createHash('sha256')
    .update(JSON.stringify(canonical(spec)))
    .digest('hex')
    .slice(0, 16);
}

/**
 * Expands a raw spec (with or without `sweep`) into trial plans. Structural problems (bad paths, bad sweep fields)
 * are collected over every trial and thrown together.
 */
export function expandSweep(raw: Record<string, unknown>): TrialPlan[] {
  const base = clone(raw);
  delete base.sweep;
  const sweep =
    raw.sweep === undefined
      ? parseArgs(sweepSchema, {}, 'sweep')
      : (() => {
          try {
            return parseArgs(sweepSchema, raw.sweep, 'sweep');
          } catch (e) {
            throw e instanceof SpecError ? e.within(['sweep']) : e;
          }
        })();
  const variants: [string | null, Record<string, unknown> | null][] = sweep.variants ? Object.entries(sweep.variants) : [[null, null]];
  const gridPaths = Object.keys(sweep.grid ?? {});
  let points: Record<string, unknown>[] = [{}];
  for (const p of gridPaths) points = points.flatMap((pt) => sweep.grid![p].map((v) => ({ ...pt, [p]: v })));
  let draws: Record<string, unknown>[] = [{}];
  if (sweep.random) {
    const rng = new Random(sweep.random.seed ?? ((raw.seed as number | undefined) ?? 0) ^ 0x5eed);
    draws = Array.from({ length: sweep.random.trials }, () =>
      Object.fromEntries(Object.entries(sweep.random!.params).map(([p, d]) => [p, draw(d, rng)])),
    );
  }
  const swept = [...gridPaths, ...Object.keys(sweep.random?.params ?? {})];
  const names = shortNames(swept);
  const baseSeed = (raw.seed as number | undefined) ?? 0;
  const issues: Issue[] = [];
  const plans: TrialPlan[] = [];
  const seen = new Map<string, string>();
  for (const [variant, overrides] of variants) {
    for (const point of points) {
      for (const drawn of draws) {
        for (let repeat = 0; repeat < sweep.repeats; repeat++) {
          const spec = clone(base);
          const values = { ...point, ...drawn };
          // Each step is tried even when an earlier one failed, so one run reports every bad path.
          let ok = true;
          const attempt = (fn: () => void) => {
            try {
              fn();
            } catch (e) {
              if (!(e instanceof SpecError)) throw e;
              ok = false;
              for (const i of e.issues) if (!issues.some((j) => fmt(j.path) === fmt(i.path) && j.message === i.message)) issues.push(i);
            }
          };
          if (variant !== null) attempt(() => applyVariant(spec, variant, overrides));
          for (const [p, v] of Object.entries(point)) attempt(() => setPath(spec, p, v, at(['sweep', 'grid'], p)));
          for (const [p, v] of Object.entries(drawn)) attempt(() => setPath(spec, p, v, at(['sweep', 'random', 'params'], p)));
          if (!ok) continue;
          const seed = baseSeed + repeat;
          spec.seed = seed;
          const label =
            [variant ?? '', ...Object.entries(values).map(([p, v]) => `${names[p]}=${show(v)}`)].filter(Boolean).join(' ') ||
            (spec.name as string | undefined) ||
            'trial';
          const key = hashSpec(spec);
          if (seen.has(key)) {
            issues.push({ path: ['sweep'], message: `trials '${seen.get(key)}' and '${label}' have the same configuration` });
            continue;
          }
          seen.set(key, label);
          plans.push({
            key,
            label: sweep.repeats > 1 ? `${label} #${repeat + 1}` : label,
            group: label,
            variant,
            values,
            repeat,
            seed,
            spec,
          });
        }
      }
    }
  }
  if (issues.length) throw new SpecError(issues);
  return plans;
}
