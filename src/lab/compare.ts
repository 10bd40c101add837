/**
 * Comparing trials: one row per trial (or per configuration, with repeats as mean ± std), chosen columns, sorted by
 * any metric, as a terminal table, Markdown, CSV or JSON; and the config differences between two trials.
 */
import { mdText, printable } from '../util/text.js';
import type { RunStore, TrialRow } from './store.js';
import { SYSTEM_KEYS } from './system.js';
import { shortNames } from './sweep.js';

/** A column: a metric (numbers, averaged over a row's trials) or a swept parameter (its value, as given). */
export interface Column {
  name: string;
  numeric: boolean;
  /** A swept parameter's field path ('variant' for the variant name); absent for metrics. */
  param?: string;
}

/** A metric's value in a row: the mean over the row's trials, with the sample std when there are several. */
export interface Aggregate {
  mean: number;
  std: number | null;
  n: number;
}

export interface CompareRow {
  label: string;
  trials: number[];
  status: string;
  /** Metric columns by name (aggregates; a string only for text columns). */
  values: Record<string, Aggregate | string>;
  /** Swept parameters by field path: the value shared by the row's trials, or a list of the distinct values. */
  params: Record<string, unknown>;
}

export interface CompareTable {
  experiment: string;
  columns: Column[];
  rows: CompareRow[];
  sortedBy: string | null;
  /** The sort's direction (null when unsorted). */
  ascending: boolean | null;
  /** The swept parameters of these trials: field path and short name. */
  parameters: { path: string; name: string }[];
  /** The parameter rows were grouped by (--group-by), if any. */
  groupedBy: string | null;
}

const SPLIT_PREFIX: Record<string, string> = { train: 'train_', validation: 'val_', test: 'test_' };

/** train_loss, val_accuracy, test_accuracy, ... from a trial's final metrics. */
export function finalColumns(finals: Record<string, Record<string, number>>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [split, logs] of Object.entries(finals))
    for (const [m, v] of Object.entries(logs)) out[`${SPLIT_PREFIX[split] ?? `${split}_`}${m}`] = v;
  return out;
}

/**
 * The training figures Keras prints for the last epoch, as epoch_loss, epoch_accuracy, ...: running averages over
 * that epoch's batches, with dropout on and the weights still changing. train_* are the final model's, measured
 * after training in inference mode; both are offered because reports quote either.
 */
export function lastEpochColumns(history: readonly Record<string, number>[]): Record<string, number> {
  const last = history[history.length - 1];
  if (!last) return {};
  const skip = new Set<string>(['epoch', 'lr', 'seconds', 'samples_per_second', ...SYSTEM_KEYS]);
  return Object.fromEntries(
    Object.entries(last)
      .filter(([k]) => !skip.has(k) && !k.startsWith('val_'))
      .map(([k, v]) => [`epoch_${k}`, v]),
  );
}

/** Accuracy-like metrics sort best-first from high values; losses and errors from low ones. */
export function higherIsBetter(metric: string): boolean {
  return /acc|f1|precision|recall|r2|auc/.test(metric) && !/loss/.test(metric);
}

export interface CompareOptions {
  /** Aggregate repeats of one configuration into one row (default true when any trial has repeats). */
  group?: boolean;
  /** A metric or a swept parameter (field path or short name), whether or not it is among the columns. */
  sort?: string;
  /** Sort direction; by default best first for a metric, ascending for a parameter. */
  ascending?: boolean;
  /** Metrics and swept parameters (field path or short name, or 'variant'). */
  columns?: string[];
  /** One row per value of this swept parameter (or 'variant'), its trials aggregated as mean ± std. */
  groupBy?: string;
  /** Include failed and unfinished trials (default true). */
  all?: boolean;
}

/** The swept parameters of some trials (grid and random paths, and 'variant' where trials have variants). */
export function sweptParams(trials: readonly TrialRow[]): { path: string; name: string }[] {
  const paths = [...new Set(trials.flatMap((t) => Object.keys(t.values)))];
  const names = shortNames(paths);
  const out = paths.map((path) => ({ path, name: names[path] }));
  return trials.some((t) => t.variant !== null) ? [{ path: 'variant', name: 'variant' }, ...out] : out;
}

const paramValue = (t: TrialRow, path: string): unknown => (path === 'variant' ? t.variant : t.values[path]);
const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

export function compareTrials(store: RunStore, experiment: string, trials: TrialRow[], options: CompareOptions = {}): CompareTable {
  const metrics = new Map<number, Record<string, number>>();
  for (const t of trials) {
    const f = finalColumns(store.finals(t.id));
    Object.assign(f, lastEpochColumns(store.epochs(t.id)));
    if (t.params !== null) f.params = t.params;
    if (t.seconds !== null) f.seconds = t.seconds;
    f.epochs = t.epochsDone;
    metrics.set(t.id, f);
  }
  const available = [...new Set([...metrics.values()].flatMap((m) => Object.keys(m)))];
  const parameters = sweptParams(trials);
  const param = (name: string) => parameters.find((p) => p.path === name || p.name === name);
  const known = () => [...available, ...parameters.map((p) => p.name)].join(', ');
  const preferred = ['train_loss', 'val_loss', 'test_loss', 'train_accuracy', 'val_accuracy', 'test_accuracy'];
  const defaultColumns = [
    ...preferred.filter((c) => available.includes(c)),
    ...available.filter((c) => !preferred.includes(c) && /^(train|val|test)_/.test(c)),
    ...['params', 'epochs', 'seconds'].filter((c) => available.includes(c)),
  ];
  const chosen = options.columns ?? defaultColumns;
  const unknown = chosen.filter((c) => !available.includes(c) && !param(c) && c !== 'status');
  if (unknown.length && trials.some((t) => t.status === 'finished')) {
    throw new Error(`unknown column${unknown.length === 1 ? '' : 's'} ${unknown.join(', ')}: expected some of ${known()}`);
  }
  if (options.sort && !available.includes(options.sort) && !param(options.sort))
    throw new Error(`--sort ${options.sort}: no such metric or swept parameter; expected one of ${known()}`);
  const by = options.groupBy === undefined ? null : param(options.groupBy);
  if (options.groupBy !== undefined && !by)
    throw new Error(
      `--group-by ${options.groupBy}: not a swept parameter of these trials; expected one of ${parameters.map((p) => p.name).join(', ') || '(none: the study sweeps nothing)'}`,
    );
  const group = options.group ?? trials.some((t) => t.repeat > 0);
  const buckets = new Map<string, TrialRow[]>();
  for (const t of trials) {
    const key = by ? JSON.stringify(paramValue(t, by.path) ?? null) : group ? t.group : `${t.id}`;
    buckets.set(key, [...(buckets.get(key) ?? []), t]);
  }
  const rows: CompareRow[] = [...buckets.values()].map((members) => {
    const done = members.filter((t) => t.status === 'finished');
    const values: CompareRow['values'] = {};
    // Every metric is aggregated, shown or not, so any of them can sort the rows.
    for (const c of available) {
      const xs = done.map((t) => metrics.get(t.id)![c]).filter((v) => v !== undefined && !Number.isNaN(v));
      if (xs.length === 0) continue;
      const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
      const std = xs.length > 1 ? Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (xs.length - 1)) : null;
      values[c] = { mean, std, n: xs.length };
    }
    const params: Record<string, unknown> = {};
    for (const p of parameters) {
      const vs = members.map((t) => paramValue(t, p.path)).filter((v, i, all) => all.findIndex((w) => same(v, w)) === i);
      params[p.path] = vs.length === 1 ? vs[0] : vs;
    }
    const statuses = [...new Set(members.map((t) => t.status))];
    const label = by ? `${by.name}=${formatParam(paramValue(members[0], by.path))}` : group ? members[0].group : members[0].label;
    return { label, trials: members.map((t) => t.id), status: statuses.join('/'), values, params };
  });
  const sortKey =
    options.sort ??
    (by
      ? null
      : (chosen.find((c) => c === 'val_accuracy') ??
        chosen.find((c) => c === 'test_accuracy') ??
        chosen.find((c) => /accuracy$/.test(c)) ??
        null));
  const sortParam = sortKey ? param(sortKey) : (by ?? undefined);
  let ascending: boolean | null = null;
  if (sortParam && !(sortKey && available.includes(sortKey))) {
    ascending = options.ascending ?? true;
    const dir = ascending ? 1 : -1;
    rows.sort((a, b) => dir * compareValues(a.params[sortParam.path], b.params[sortParam.path]));
  } else if (sortKey) {
    ascending = options.ascending ?? !higherIsBetter(sortKey);
    const val = (r: CompareRow) => {
      const v = r.values[sortKey];
      return typeof v === 'object' ? v.mean : NaN;
    };
    rows.sort((a, b) => {
      const x = val(a),
        y = val(b);
      if (Number.isNaN(x) || Number.isNaN(y)) return Number.isNaN(x) ? (Number.isNaN(y) ? 0 : 1) : -1;
      return ascending ? x - y : y - x;
    });
  }
  const columns: Column[] = chosen.map((name) => {
    const p = available.includes(name) ? undefined : param(name);
    return p ? { name, numeric: false, param: p.path } : { name, numeric: true };
  });
  for (const r of rows) for (const k of Object.keys(r.values)) if (!chosen.includes(k)) delete r.values[k];
  return { experiment, columns, rows, sortedBy: sortKey ?? (by ? by.name : null), ascending, parameters, groupedBy: by ? by.path : null };
}

/** Numbers by value, anything else by its text; missing values last. */
function compareValues(a: unknown, b: unknown): number {
  if (a === undefined || a === null) return b === undefined || b === null ? 0 : 1;
  if (b === undefined || b === null) return -1;
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  return formatParam(a).localeCompare(formatParam(b), 'en', { numeric: true });
}

/** A parameter's value as text: numbers and strings as written, lists and maps as JSON. */
export function formatParam(v: unknown): string {
  if (v === undefined || v === null) return '–';
  if (Array.isArray(v)) return v.map(formatParam).join(' | ');
  return typeof v === 'object' ? JSON.stringify(v) : String(v);
}

function formatNumber(column: string, v: number): string {
  if (column === 'params' || column === 'epochs') return Math.round(v).toLocaleString('en-US');
  if (column === 'seconds') return v.toFixed(1);
  return v.toFixed(4);
}

function cell(column: string, v: CompareRow['values'][string] | undefined): string {
  if (v === undefined) return '–';
  if (typeof v === 'string') return v;
  return v.std === null ? formatNumber(column, v.mean) : `${formatNumber(column, v.mean)} ± ${formatNumber(column, v.std)}`;
}

/** Header and cell text: rank, trial(s) or configuration, status, then the chosen columns. */
function textRows(t: CompareTable): { header: string[]; body: string[][] } {
  const grouped = t.rows.some((r) => r.trials.length > 1);
  const header = [
    'rank',
    grouped ? 'configuration' : 'trial',
    'model',
    ...(grouped ? ['n'] : []),
    'status',
    ...t.columns.map((c) => c.name),
  ];
  const body = t.rows.map((r, i) => [
    String(i + 1),
    r.trials.map((id) => `#${id}`).join(','),
    r.label,
    ...(grouped ? [String(r.trials.length)] : []),
    r.status,
    ...t.columns.map((c) => (c.param ? formatParam(r.params[c.param]) : cell(c.name, r.values[c.name]))),
  ]);
  return { header, body };
}

export function formatTable(t: CompareTable): string {
  const { header, body: raw } = textRows(t);
  const body = raw.map((r) => r.map(printable));
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((r) => r[i].length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i <= 2 || header[i] === 'status' ? c.padEnd(widths[i]) : c.padStart(widths[i])))
      .join('  ')
      .trimEnd();
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(line)].join('\n');
}

export function formatMarkdown(t: CompareTable): string {
  const { header, body } = textRows(t);
  const align = header.map((h, i) => (i <= 2 || h === 'status' ? '---' : '---:'));
  return [header, align, ...body].map((r) => `| ${r.map(mdText).join(' | ')} |`).join('\n');
}

/**
 * CSV for pandas and spreadsheets: every swept parameter as its own column with its value as given (numbers stay
 * numbers), then the chosen metrics (with _std columns when rows aggregate repeats).
 */
export function formatCsv(t: CompareTable): string {
  const grouped = t.rows.some((r) => r.trials.length > 1);
  const metricColumns = t.columns.filter((c) => !c.param);
  const header = [
    'rank',
    'trials',
    'model',
    'n',
    'status',
    ...t.parameters.map((p) => p.name),
    ...metricColumns.flatMap((c) => (grouped ? [c.name, `${c.name}_std`] : [c.name])),
  ];
  const q = (s: string) => (/[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);
  const rows = t.rows.map((r, i) => [
    String(i + 1),
    r.trials.join(' '),
    r.label,
    String(r.trials.length),
    r.status,
    ...t.parameters.map((p) => {
      const v = r.params[p.path];
      return v === undefined || v === null ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v);
    }),
    ...metricColumns.flatMap((c) => {
      const v = r.values[c.name];
      const mean = typeof v === 'object' ? String(v.mean) : '';
      return grouped ? [mean, typeof v === 'object' && v.std !== null ? String(v.std) : ''] : [mean];
    }),
  ]);
  return [header, ...rows].map((r) => r.map(q).join(',')).join('\n');
}

/** JSON: what was sorted and how, then each row with its swept parameters (typed, by field path) and metrics. */
export function toJson(t: CompareTable): unknown {
  return {
    experiment: t.experiment,
    sorted_by: t.sortedBy,
    ascending: t.ascending,
    grouped_by: t.groupedBy,
    parameters: t.parameters,
    rows: t.rows.map((r, i) => ({
      rank: i + 1,
      model: r.label,
      trials: r.trials,
      status: r.status,
      params: r.params,
      ...Object.fromEntries(
        Object.entries(r.values).map(([k, v]) => [
          k,
          typeof v === 'object' ? (v.std === null ? v.mean : { mean: v.mean, std: v.std, n: v.n }) : v,
        ]),
      ),
    })),
  };
}

export interface ConfigChange {
  path: string;
  a: unknown;
  b: unknown;
}

/**
 * The fields whose values differ between two configs (absent on one side: undefined). Lists of different lengths
 * (layers inserted or deleted) are aligned on their equal elements first, so an inserted layer shows as one
 * insertion rather than as every later layer changed.
 */
export function diffConfigs(a: unknown, b: unknown, prefix = ''): ConfigChange[] {
  if (Array.isArray(a) && Array.isArray(b) && a.length !== b.length) return diffLists(a, b, prefix);
  const isMap = (v: unknown) => typeof v === 'object' && v !== null && !Array.isArray(v);
  if ((isMap(a) && isMap(b)) || (Array.isArray(a) && Array.isArray(b))) {
    const ka = Object.keys(a as object);
    const kb = Object.keys(b as object);
    const keys = [...new Set([...ka, ...kb])];
    const child = (k: string) => (Array.isArray(a) ? `${prefix}[${k}]` : prefix ? `${prefix}.${k}` : k);
    return keys.flatMap((k) => {
      const va = (a as Record<string, unknown>)[k];
      const vb = (b as Record<string, unknown>)[k];
      if (va === undefined || vb === undefined) return JSON.stringify(va) === JSON.stringify(vb) ? [] : [{ path: child(k), a: va, b: vb }];
      return diffConfigs(va, vb, child(k));
    });
  }
  return JSON.stringify(a) === JSON.stringify(b) ? [] : [{ path: prefix, a, b }];
}

/** Aligns two lists by their longest common run of equal elements; the rest are changes, deletions or insertions. */
function diffLists(a: unknown[], b: unknown[], prefix: string): ConfigChange[] {
  const eq = (x: unknown, y: unknown) => JSON.stringify(x) === JSON.stringify(y);
  const lcs = Array.from({ length: a.length + 1 }, () => new Array<number>(b.length + 1).fill(0));
  for (let i = a.length - 1; i >= 0; i--)
    for (let j = b.length - 1; j >= 0; j--) lcs[i][j] = eq(a[i], b[j]) ? lcs[i + 1][j + 1] + 1 : Math.max(lcs[i + 1][j], lcs[i][j + 1]);
  const out: ConfigChange[] = [];
  let i = 0,
    j = 0;
  const gapA: number[] = [],
    gapB: number[] = [];
  const flush = () => {
    out.push(...alignGap(a, b, gapA, gapB, prefix));
    gapA.length = gapB.length = 0;
  };
  while (i < a.length || j < b.length) {
    if (i < a.length && j < b.length && eq(a[i], b[j])) {
      flush();
      i++;
      j++;
    } else if (j >= b.length || (i < a.length && lcs[i + 1][j] >= lcs[i][j + 1])) gapA.push(i++);
    else gapB.push(j++);
  }
  flush();
  return out;
}

/** How many leaf values an element holds (what deleting or inserting it changes). */
function leaves(v: unknown): number {
  if (typeof v !== 'object' || v === null) return 1;
  return Math.max(
    1,
    Object.values(v).reduce((n: number, x) => n + leaves(x), 0),
  );
}

/** Elements that may be compared field by field: the same layer class (or kind of value). */
function sameKind(x: unknown, y: unknown): boolean {
  const isMap = (v: unknown) => typeof v === 'object' && v !== null && !Array.isArray(v);
  if (isMap(x) && isMap(y)) return Object.keys(x as object).join(',') === Object.keys(y as object).join(',');
  return Array.isArray(x) === Array.isArray(y) && isMap(x) === isMap(y);
}

/**
 * The elements between two aligned runs, paired where that changes fewest fields (an edited layer stays one layer
 * with its changed fields) and otherwise deleted from a or inserted into b: a small edit-distance alignment.
 */
function alignGap(a: unknown[], b: unknown[], ia: number[], ib: number[], prefix: string): ConfigChange[] {
  const n = ia.length;
  const m = ib.length;
  const cost = Array.from({ length: n + 1 }, () => new Array<number>(m + 1).fill(0));
  const pairCost = (i: number, j: number) =>
    sameKind(a[ia[i]], b[ib[j]]) ? diffConfigs(a[ia[i]], b[ib[j]]).length : Number.POSITIVE_INFINITY;
  for (let i = n; i >= 0; i--)
    for (let j = m; j >= 0; j--) {
      if (i === n && j === m) continue;
      const options = [
        i < n ? leaves(a[ia[i]]) + cost[i + 1][j] : Number.POSITIVE_INFINITY,
        j < m ? leaves(b[ib[j]]) + cost[i][j + 1] : Number.POSITIVE_INFINITY,
        i < n && j < m ? pairCost(i, j) + cost[i + 1][j + 1] : Number.POSITIVE_INFINITY,
      ];
      cost[i][j] = Math.min(...options);
    }
  const out: ConfigChange[] = [];
  let i = 0;
  let j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && cost[i][j] === pairCost(i, j) + cost[i + 1][j + 1]) {
      out.push(...diffConfigs(a[ia[i]], b[ib[j]], `${prefix}[${ib[j]}]`));
      i++;
      j++;
    } else if (i < n && cost[i][j] === leaves(a[ia[i]]) + cost[i + 1][j]) {
      out.push({ path: `${prefix}[${ia[i]}]`, a: a[ia[i]], b: undefined });
      i++;
    } else {
      out.push({ path: `${prefix}[${ib[j]}]`, a: undefined, b: b[ib[j]] });
      j++;
    }
  }
  return out;
}
