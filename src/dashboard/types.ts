/**
 * The dashboard API's answers that the page reads, shared by the server (src/dashboard) and the page (web/src), so
 * both sides are checked against one definition. No imports: the page's type check reads this file alone.
 */
/** A runs-table column: a swept parameter, a metric, or a fact about the trial (status, epochs, time, speed). */
export interface TableColumn {
  name: string;
  kind: 'param' | 'metric' | 'info';
  /** For metrics: whether higher values are better (the default sort direction). */
  higherIsBetter?: boolean;
}

export interface TableRow {
  /** The trials behind the row (one, or a configuration's repeats, or a group). */
  trials: number[];
  label: string;
  status: string;
  /** Values by column name: numbers (means over the row's trials), strings, or null where there is none. */
  values: Record<string, number | string | null>;
  /** Sample standard deviations of numeric columns, where the row has several trials. */
  std: Record<string, number>;
  n: number;
}

export interface RunsTable {
  experiment: string;
  columns: TableColumn[];
  rows: TableRow[];
  total: number;
  sort: string | null;
  desc: boolean;
}

/** An experiment on the first page: its trials by status, last activity and best value of its key metric. */
export interface ExperimentSummary {
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

/** One trial's epochs for the curves and system views (non-finite values as null). */
export interface CurveTrial {
  id: number;
  label: string;
  status: string;
  epochs: Record<string, number | null>[];
}

/** The sweep view: every swept parameter's values, each finished trial as a point, correlations with the metric. */
export interface SweepData {
  metric: string | null;
  params: { name: string; numeric: boolean; log: boolean; values: (number | string | null)[] }[];
  points: { id: number; label: string; metric: number | null; values: (number | string | null)[] }[];
  correlations: { name: string; pearson: number | null; spearman: number | null }[];
  metrics: string[];
}
