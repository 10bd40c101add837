/**
 * What the dashboard shows, read from a run store on a read-only connection: experiments with their trial counts,
 * the runs table of an experiment (filtered, sorted, grouped), curves, the sweep view's points and correlations, a
 * trial's details and the diff of two configs. Each trial's summary (its final and best metrics, speed) is kept and
 * recomputed only when the trial has changed (status, epochs or finish time), so a poll of a thousand-trial study
 * while one trial trains reads that one trial again, not all of them.
 */
import { compileExpression } from 'filtrex';
import { diffConfigs, finalColumns, formatParam, higherIsBetter, lastEpochColumns, sweptParams } from '../lab/compare.js';
import type { ExperimentRow, RunStore, TrialRow } from '../lab/store.js';
import { SYSTEM_KEYS } from '../lab/system.js';
import { viewTrials } from '../lab/views.js';
import { extent } from '../util/numbers.js';
import type { CurveTrial, ExperimentSummary, RunsTable, SweepData, TableColumn, TableRow } from './types.js';

export type { CurveTrial, ExperimentSummary, RunsTable, SweepData, TableColumn, TableRow } from './types.js';

export interface RunsQuery {
  filter?: string;
  sort?: string;
  desc?: boolean;
  /** 'config' (repeats as mean ± std), a parameter's name, or none (a row per trial). */
  group?: string;
  /** Also trials of earlier versions of the spec. */
  all?: boolean;
}

/** A user's mistake in a query (an unknown column, a filter that does not parse): answered with 400. */
export class QueryError extends Error {}

interface TrialSummary {
  stamp: string;
  values: Record<string, number>;
}

const INFO = ['status', 'epochs', 'seconds', 'images_per_s', 'params', 'worker', 'heard_s_ago'];
/** Facts about where a trial runs, not numbers of its summary. */
const PLACE = new Set(['status', 'worker', 'heard_s_ago']);
const NOT_METRICS = new Set<string>(['epoch', 'lr', 'seconds', 'samples_per_second', ...SYSTEM_KEYS]);

export class DashboardData {
  private summaries = new Map<number, TrialSummary>();
  private views = new Map<string, { version: number; at: number; trials: TrialRow[] }>();

  constructor(readonly store: RunStore & { dataVersion?: number }) {}

  /**
   * The trials a view of the experiment shows (see lab/views.ts), kept while the store's data version stands still:
   * between two writes by other processes every request reads them once. Running trials' status depends on the
   * clock too (a worker that died), so they are never kept longer than a few seconds.
   */
  private view(e: ExperimentRow, all = false): TrialRow[] {
    const version = this.store.dataVersion;
    const key = `${e.id}|${all}`;
    const known = this.views.get(key);
    if (version !== undefined && known && known.version === version && Date.now() - known.at < 5000) return known.trials;
    const trials = viewTrials(this.store, e, { all });
    if (version !== undefined) this.views.set(key, { version, at: Date.now(), trials });
    return trials;
  }

  experiment(name: string): ExperimentRow {
    const e = this.store.getExperiment(name);
    if (!e) throw new QueryError(`no experiment named ${JSON.stringify(name)} in this store`);
    return e;
  }

  experiments(): ExperimentSummary[] {
    return this.store.listExperiments().map((e) => {
      const trials = this.view(e);
      const counts: Record<string, number> = { finished: 0, running: 0, pending: 0, interrupted: 0, failed: 0 };
      for (const t of trials) counts[t.status] = (counts[t.status] ?? 0) + 1;
      const stamps = trials.flatMap((t) => [t.heartbeatAt, t.finishedAt, t.startedAt]).filter((s): s is string => s !== null);
      const last = stamps.sort().at(-1) ?? null; // ISO times sort as text
      const metric = this.keyMetric(trials);
      let best: number | null = null;
      let bestTrial: number | null = null;
      if (metric) {
        const up = higherIsBetter(metric);
        for (const t of trials) {
          const v = this.summary(t).values[metric];
          if (v === undefined || Number.isNaN(v)) continue;
          if (best === null || (up ? v > best : v < best)) {
            best = v;
            bestTrial = t.id;
          }
        }
      }
      return { id: e.id, name: e.name, trials: trials.length, counts, updatedAt: e.updatedAt, lastActivity: last, metric, best, bestTrial };
    });
  }

  /** The metric an experiment is ranked by: validation accuracy, else test accuracy, else any accuracy, else a loss. */
  keyMetric(trials: readonly TrialRow[]): string | null {
    const names = new Set(trials.flatMap((t) => Object.keys(this.summary(t).values)));
    const order = ['val_accuracy', 'test_accuracy', 'best_val_accuracy', 'val_loss', 'test_loss', 'best_val_loss'];
    return order.find((m) => names.has(m)) ?? [...names].find((m) => /accuracy$/.test(m)) ?? null;
  }

  /** A trial's numbers: final metrics, the last epoch's running figures, the best of each validation metric, speed. */
  summary(t: TrialRow): TrialSummary {
    const stamp = `${t.status}|${t.epochsDone}|${t.finishedAt ?? ''}`;
    const known = this.summaries.get(t.id);
    if (known && known.stamp === stamp) return known;
    const epochs = this.store.epochs(t.id);
    const values: Record<string, number> = { ...finalColumns(this.store.finals(t.id)), ...lastEpochColumns(epochs) };
    for (const k of new Set(epochs.flatMap((e) => Object.keys(e)))) {
      if (!k.startsWith('val_')) continue;
      const xs = epochs.map((e) => e[k]).filter((v) => v !== undefined && !Number.isNaN(v));
      if (xs.length) values[`best_${k}`] = extent(xs)[higherIsBetter(k) ? 1 : 0];
    }
    const speeds = epochs.map((e) => e.samples_per_second).filter((v) => v !== undefined && Number.isFinite(v));
    if (speeds.length) values.images_per_s = speeds.reduce((a, b) => a + b, 0) / speeds.length;
    const rss = epochs.map((e) => e.rss_mb).filter((v) => v !== undefined && Number.isFinite(v));
    if (rss.length) values.peak_rss_mb = extent(rss)[1];
    values.epochs = t.epochsDone;
    if (t.params !== null) values.params = t.params;
    const seconds = t.seconds ?? epochs.reduce((a, e) => a + (Number.isFinite(e.seconds) ? e.seconds : 0), 0);
    if (t.seconds !== null || epochs.length) values.seconds = seconds;
    const s = { stamp, values };
    this.summaries.set(t.id, s);
    return s;
  }

  runs(name: string, q: RunsQuery = {}): RunsTable {
    const e = this.experiment(name);
    const trials = this.view(e, q.all);
    const params = sweptParams(trials);
    const paramName = (p: { path: string; name: string }) => p.name;
    const metricNames = [...new Set(trials.flatMap((t) => Object.keys(this.summary(t).values)))].filter(
      (m) => !INFO.includes(m) && !NOT_METRICS.has(m),
    );
    const metricOrder = (m: string) => {
      const rank = ['best_val_', 'val_', 'test_', 'train_', 'epoch_', 'peak_'].findIndex((p) => m.startsWith(p));
      return rank === -1 ? 9 : rank;
    };
    metricNames.sort((a, b) => metricOrder(a) - metricOrder(b) || a.localeCompare(b));
    const columns: TableColumn[] = [
      ...params.map((p) => ({ name: paramName(p), kind: 'param' as const })),
      ...metricNames.map((m) => ({ name: m, kind: 'metric' as const, higherIsBetter: higherIsBetter(m) })),
      ...INFO.map((n) => ({ name: n, kind: 'info' as const })),
    ];
    const flat = (t: TrialRow): Record<string, number | string | null> => {
      const s = this.summary(t).values;
      const row: Record<string, number | string | null> = { id: t.id, label: t.label, status: t.status, seed: t.seed };
      for (const p of params) {
        const v = p.path === 'variant' ? t.variant : t.values[p.path];
        row[p.name] = v === undefined || v === null ? null : typeof v === 'number' || typeof v === 'string' ? v : formatParam(v);
      }
      for (const m of [...metricNames, ...INFO.filter((c) => !PLACE.has(c))]) row[m] = s[m] ?? null;
      // Which process holds a running trial (pid@host), and how long ago it was last heard from.
      const held = (t.status === 'running' || t.status === 'interrupted') && t.worker !== null;
      row.worker = held ? t.worker : null;
      row.heard_s_ago = held && t.heartbeatAt ? Math.max(0, Math.round((Date.now() - Date.parse(t.heartbeatAt)) / 1000)) : null;
      return row;
    };
    let rows = trials.map((t) => ({ t, row: flat(t) }));
    if (q.filter?.trim()) {
      const test = compileFilter(q.filter, [...columns.map((c) => c.name), 'id', 'label', 'seed']);
      rows = rows.filter(({ row }) => test(row));
    }
    const groupBy = q.group
      ? q.group === 'config'
        ? 'config'
        : (columns.find((c) => c.name === q.group && c.kind === 'param') ?? null)
      : null;
    if (q.group && groupBy === null)
      throw new QueryError(
        `cannot group by ${JSON.stringify(q.group)}: expected config or a swept parameter (${params.map(paramName).join(', ') || 'none'})`,
      );
    const buckets = new Map<string, { t: TrialRow; row: Record<string, number | string | null> }[]>();
    for (const r of rows) {
      const key = groupBy === null ? String(r.t.id) : groupBy === 'config' ? r.t.group : JSON.stringify(r.row[groupBy.name]);
      buckets.set(key, [...(buckets.get(key) ?? []), r]);
    }
    const out: TableRow[] = [...buckets.values()].map((members) => {
      const values: TableRow['values'] = {};
      const std: Record<string, number> = {};
      for (const c of columns) {
        if (c.name === 'status') continue;
        const vs = members.map((m) => m.row[c.name]);
        if (vs.every((v) => typeof v === 'number')) {
          const xs = vs as number[];
          const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
          values[c.name] = mean;
          if (xs.length > 1) std[c.name] = Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (xs.length - 1));
        } else {
          const distinct = [...new Set(vs.filter((v) => v !== null).map(String))];
          values[c.name] =
            distinct.length === 0 ? null : distinct.length === 1 ? (vs.find((v) => v !== null) ?? null) : distinct.join(' / ');
        }
      }
      const first = members[0];
      const label =
        groupBy === null || groupBy === 'config'
          ? groupBy === 'config'
            ? first.t.group
            : first.t.label
          : `${groupBy.name}=${formatParam(first.row[groupBy.name])}`;
      const status = [...new Set(members.map((m) => m.t.status))].join('/');
      values.status = status;
      return { trials: members.map((m) => m.t.id), label, status, values, std, n: members.length };
    });
    const sort = q.sort ?? this.keyMetric(trials);
    if (sort && !columns.some((c) => c.name === sort) && sort !== 'label')
      throw new QueryError(`cannot sort by ${JSON.stringify(sort)}: expected one of label, ${columns.map((c) => c.name).join(', ')}`);
    const column = columns.find((c) => c.name === sort);
    const desc = q.desc ?? (column?.kind === 'metric' ? (column.higherIsBetter ?? false) : false);
    if (sort) {
      const dir = desc ? -1 : 1;
      const value = (r: TableRow) => (sort === 'label' ? r.label : r.values[sort]);
      out.sort((a, b) => {
        const x = value(a);
        const y = value(b);
        if (x === null || x === undefined || (typeof x === 'number' && Number.isNaN(x))) return y === null || y === undefined ? 0 : 1;
        if (y === null || y === undefined || (typeof y === 'number' && Number.isNaN(y))) return -1;
        if (typeof x === 'number' && typeof y === 'number') return dir * (x - y);
        return dir * String(x).localeCompare(String(y), 'en', { numeric: true });
      });
    }
    return { experiment: e.name, columns, rows: out, total: trials.length, sort: sort ?? null, desc };
  }

  /** Every epoch of the given trials (those of the experiment, in the order asked). */
  curves(name: string, ids: number[]): CurveTrial[] {
    const e = this.experiment(name);
    const trials = new Map(this.view(e, true).map((t) => [t.id, t]));
    return ids.map((id) => {
      const t = trials.get(id);
      if (!t) throw new QueryError(`trial ${id} is not in experiment ${e.name}`);
      return { id, label: t.label, status: t.status, epochs: this.store.epochs(id).map(finite) };
    });
  }

  /** The sweep view: each finished trial's swept values and the metric, and each numeric parameter's correlation. */
  sweep(name: string, metric?: string): SweepData {
    const e = this.experiment(name);
    const trials = this.view(e).filter((t) => t.status === 'finished');
    const table = this.runs(name, {});
    const metrics = table.columns.filter((c) => c.kind === 'metric').map((c) => c.name);
    const chosen = metric ?? this.keyMetric(trials);
    if (chosen && !metrics.includes(chosen))
      throw new QueryError(`no metric ${JSON.stringify(chosen)} in ${e.name}: expected one of ${metrics.join(', ')}`);
    const params = sweptParams(trials);
    const raw = (t: TrialRow, path: string): number | string | null => {
      const v = path === 'variant' ? t.variant : t.values[path];
      return v === undefined || v === null ? null : typeof v === 'number' || typeof v === 'string' ? v : formatParam(v);
    };
    const points = trials.map((t) => ({
      id: t.id,
      label: t.label,
      metric: chosen ? (this.summary(t).values[chosen] ?? null) : null,
      values: params.map((p) => raw(t, p.path)),
    }));
    const axes = params.map((p, i) => {
      const values = [...new Set(points.map((pt) => pt.values[i]))];
      const numeric = values.every((v) => typeof v === 'number');
      const nums = values.filter((v): v is number => typeof v === 'number');
      const positive = nums.filter((v) => v > 0);
      const [lo, hi] = extent(nums);
      const log = numeric && positive.length === nums.length && nums.length > 1 && hi / lo >= 100;
      return { name: p.name, numeric, log, values };
    });
    const correlations = axes.map((a, i) => {
      if (!a.numeric) return { name: a.name, pearson: null, spearman: null };
      const pairs = points
        .filter((p) => p.metric !== null && Number.isFinite(p.metric))
        .map((p) => [p.values[i] as number, p.metric as number]);
      const xs = pairs.map((p) => (a.log ? Math.log10(p[0]) : p[0]));
      const ys = pairs.map((p) => p[1]);
      return { name: a.name, pearson: pearson(xs, ys), spearman: pearson(ranks(xs), ranks(ys)) };
    });
    return { metric: chosen, params: axes, points, correlations, metrics };
  }

  trial(id: number): {
    trial: TrialRow;
    epochs: Record<string, number | null>[];
    finals: Record<string, Record<string, number | null>>;
    extra: Record<string, unknown>;
    artifacts: { kind: string; name: string }[];
  } {
    const t = this.store.getTrial(id);
    if (!t) throw new QueryError(`no trial #${id} in this store`);
    const finals = Object.fromEntries(Object.entries(this.store.finals(id)).map(([k, v]) => [k, finite(v)]));
    return {
      trial: t,
      epochs: this.store.epochs(id).map(finite),
      finals,
      extra: this.store.extra(id),
      artifacts: this.store.artifacts(id).map((a) => ({ kind: a.kind, name: a.name })),
    };
  }

  diff(a: number, b: number): { a: TrialRow; b: TrialRow; changes: { path: string; a: unknown; b: unknown }[] } {
    const ta = this.store.getTrial(a);
    const tb = this.store.getTrial(b);
    if (!ta || !tb) throw new QueryError(`no trial #${!ta ? a : b} in this store`);
    return { a: ta, b: tb, changes: diffConfigs(ta.config, tb.config).map((c) => ({ path: c.path, a: c.a ?? null, b: c.b ?? null })) };
  }
}

/** NaN and infinities as null, so the JSON says "no value" rather than failing. */
function finite(o: Record<string, number>): Record<string, number | null> {
  return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, Number.isFinite(v) ? v : null]));
}

const STATUS_WORDS = ['finished', 'running', 'pending', 'interrupted', 'failed'];

/**
 * A row filter from an expression such as `learning_rate < 0.01 and status == finished` (filtrex's grammar: and, or,
 * not, == != < <= > >=, in, ~= for a regular expression; "double quotes" for text). Status words need no quotes. A
 * row without a value for a compared column does not match.
 */
function compileFilter(expression: string, names: string[]): (row: Record<string, unknown>) => boolean {
  let f: (row: Record<string, unknown>) => unknown;
  try {
    f = compileExpression(expression, {
      constants: Object.fromEntries(STATUS_WORDS.filter((w) => !names.includes(w)).map((w) => [w, w])),
      customProp: (name: string, get: (name: string) => unknown) => {
        if (!names.includes(name))
          throw new QueryError(`the filter names ${JSON.stringify(name)}, which is no column here: expected one of ${names.join(', ')}`);
        return get(name);
      },
    });
  } catch (e) {
    if (e instanceof QueryError) throw e;
    throw new QueryError(`the filter does not parse: ${(e as Error).message.replace(/\n/g, ' ')}`);
  }
  // filtrex returns an error rather than throwing it. An unknown name shows on a probe row of every column (so an
  // empty table reports it too); a type mismatch (a missing value, text against a number) only makes a row not match.
  const probe = f(Object.fromEntries(names.map((n) => [n, null])));
  if (probe instanceof QueryError) throw probe;
  return (row) => f(row) === true;
}

function pearson(xs: number[], ys: number[]): number | null {
  const n = xs.length;
  if (n < 3) return null;
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    sxy += (xs[i] - mx) * (ys[i] - my);
    sxx += (xs[i] - mx) ** 2;
    syy += (ys[i] - my) ** 2;
  }
  return sxx === 0 || syy === 0 ? null : sxy / Math.sqrt(sxx * syy);
}

/** Ranks (1-based), ties sharing their mean rank. */
function ranks(xs: number[]): number[] {
  const order = xs.map((x, i) => [x, i] as const).sort((a, b) => a[0] - b[0]);
  const r = new Array<number>(xs.length);
  for (let i = 0; i < order.length; ) {
    let j = i;
    while (j + 1 < order.length && order[j + 1][0] === order[i][0]) j++;
    for (let k = i; k <= j; k++) r[order[k][1]] = (i + j) / 2 + 1;
    i = j + 1;
  }
  return r;
}
