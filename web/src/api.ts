/** The dashboard API's answers (their shared types, and the trial's as the page reads it) and a fetch that turns error answers into messages. */
export type {
  CurveTrial as Curve,
  ExperimentSummary as Experiment,
  RunsTable,
  SweepData as Sweep,
  TableColumn as Column,
  TableRow as Row,
} from '../../src/dashboard/types';

export type Epoch = Record<string, number | null>;

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
