/** The dashboard API's answers, as the page uses them, and a fetch that turns error answers into messages. */
export interface Experiment {
  id: number;
  name: string;
  trials: number;
  counts: Record<string, number>;
  updatedAt: string;
  lastActivity: string | null;
  metric: string | null;
  best: number | null;
  bestTrial: number | null;
}

export interface Column {
  name: string;
  kind: 'param' | 'metric' | 'info';
  higherIsBetter?: boolean;
}

export interface Row {
  trials: number[];
  label: string;
  status: string;
  values: Record<string, number | string | null>;
  std: Record<string, number>;
  n: number;
}

export interface RunsTable {
  experiment: string;
  columns: Column[];
  rows: Row[];
  total: number;
  sort: string | null;
  desc: boolean;
}

export type Epoch = Record<string, number | null>;

export interface Curve {
  id: number;
  label: string;
  status: string;
  epochs: Epoch[];
}

export interface Sweep {
  metric: string | null;
  params: { name: string; numeric: boolean; log: boolean; values: (number | string | null)[] }[];
  points: { id: number; label: string; metric: number | null; values: (number | string | null)[] }[];
  correlations: { name: string; pearson: number | null; spearman: number | null }[];
  metrics: string[];
}

export interface Trial {
  id: number;
  experiment: string;
  label: string;
  status: string;
  seed: number;
  config: Record<string, unknown>;
  env: Record<string, unknown>;
  params: number | null;
  seconds: number | null;
  epochsDone: number;
  error: string | null;
  startedAt: string | null;
  finishedAt: string | null;
}

export interface TrialDetail {
  trial: Trial;
  epochs: Epoch[];
  finals: Record<string, Record<string, number | null>>;
  extra: Record<string, unknown>;
  artifacts: { kind: string; name: string }[];
}

export interface FigureInfo {
  index: number;
  name: string;
  title: string;
  caption: string | null;
}

export interface Diff {
  a: Trial;
  b: Trial;
  changes: { path: string; a: unknown; b: unknown }[];
}

export async function getJson<T>(url: string): Promise<T> {
  const r = await fetch(url, { headers: { Accept: 'application/json' } });
  const body = (await r.json().catch(() => null)) as (T & { error?: string }) | null;
  if (!r.ok) throw new Error(body?.error ?? `${r.status} ${r.statusText}`);
  return body as T;
}

export const enc = encodeURIComponent;

/** Numbers for tables: integers with separators, others to 4 significant digits. */
export function fmt(v: number | string | null | undefined, digits = 4): string {
  if (v === null || v === undefined) return '–';
  if (typeof v === 'string') return v;
  if (!Number.isFinite(v)) return '–';
  if (Number.isInteger(v)) return v.toLocaleString('en');
  const a = Math.abs(v);
  if (a !== 0 && (a < 1e-3 || a >= 1e6)) return v.toExponential(2);
  return String(+v.toPrecision(digits));
}
