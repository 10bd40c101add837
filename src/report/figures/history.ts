/**
 * Training curves: train against validation for each metric, for one trial or overlaid across trials (colour per
 * trial, dashes for validation).
 */
import type { TopLevelSpec } from 'vega-lite';
import { SYSTEM_KEYS } from '../../lab/system.js';
import { bounded, naturalOrder, SIZE, type Figure } from '../render.js';

export interface HistorySeries {
  label: string;
  /** One record per epoch: epoch, loss, accuracy, val_loss, val_accuracy, ... */
  epochs: Record<string, number>[];
}

/** Keys that are not metrics of a split (and the std of repeats, kept under `<key>__std`). */
const NOT_METRICS = new Set<string>(['epoch', 'seconds', 'samples_per_second', 'lr', 'learning_rate', ...SYSTEM_KEYS]);
const isStd = (k: string) => k.endsWith('__std');

/** Metrics recorded in the histories (base names, without val_), loss first. */
export function historyMetrics(series: readonly HistorySeries[]): string[] {
  const found = new Set<string>();
  for (const s of series)
    for (const e of s.epochs) for (const k of Object.keys(e)) if (!NOT_METRICS.has(k) && !isStd(k)) found.add(k.replace(/^val_/, ''));
  return [...found].sort((a, b) => (a === 'loss' ? -1 : b === 'loss' ? 1 : 0));
}

export interface HistoryOptions {
  name?: string;
  title?: string;
  /** Which metrics get a panel (default: all recorded, loss first, at most 4). */
  metrics?: string[];
  /** Said in the caption (which configurations were left out). */
  note?: string;
}

export function historyFigure(series: readonly HistorySeries[], options: HistoryOptions = {}): Figure {
  if (series.length === 0 || series.every((s) => s.epochs.length === 0)) throw new Error('training curves: no epoch was recorded');
  const available = historyMetrics(series);
  const metrics = options.metrics ?? available.slice(0, 4);
  const missing = metrics.filter((m) => !available.includes(m));
  if (missing.length)
    throw new Error(`training curves: no metric ${missing.join(', ')} in the history; expected one of ${available.join(', ')}`);
  const many = series.length > 1;
  const rows: Record<string, unknown>[] = [];
  series.forEach((s, order) => {
    for (const e of s.epochs) {
      for (const m of metrics) {
        for (const [split, key] of [
          ['train', m],
          ['validation', `val_${m}`],
        ] as const) {
          const v = e[key];
          const sd = e[`${key}__std`];
          // An accuracy's band stays within [0, 1], and so does its axis.
          const [floor, ceil] = bounded(m) ? [0, 1] : [-Infinity, Infinity];
          if (v !== undefined && Number.isFinite(v))
            rows.push({
              trial: s.label,
              order,
              epoch: e.epoch + 1,
              metric: m,
              split,
              value: v,
              ...(sd !== undefined ? { lo: Math.max(floor, v - sd), hi: Math.min(ceil, v + sd) } : {}),
            });
        }
      }
    }
  });
  const splits = [...new Set(rows.map((r) => r.split as string))];
  const labels = naturalOrder(series.map((s) => s.label));
  const banded = rows.some((r) => r.lo !== undefined);
  const color = many
    ? {
        field: 'trial',
        type: 'nominal',
        title: 'trial',
        sort: labels,
        legend: { orient: 'right', columns: labels.length > 12 ? 2 : 1, labelLimit: 0 },
      }
    : { field: 'split', type: 'nominal', title: 'split', sort: ['train', 'validation'] };
  const panel = (m: string) => {
    const x = { field: 'epoch', type: 'quantitative', title: 'epoch', axis: { tickMinStep: 1, format: 'd' }, scale: { nice: false } };
    const yScale = { zero: false };
    const line = {
      mark: { type: 'line', point: rows.length / Math.max(1, metrics.length * series.length * splits.length) <= 30 },
      encoding: {
        x,
        y: { field: 'value', type: 'quantitative', title: m.replace(/_/g, ' '), scale: yScale },
        color,
        ...(many && splits.length > 1
          ? {
              strokeDash: {
                field: 'split',
                type: 'nominal',
                title: 'split',
                sort: ['train', 'validation'],
                scale: {
                  domain: ['train', 'validation'],
                  range: [
                    [1, 0],
                    [5, 3],
                  ],
                },
              },
            }
          : {}),
        detail: { field: 'split' },
        tooltip: [{ field: 'trial' }, { field: 'split' }, { field: 'epoch' }, { field: 'value', format: '.4f' }],
      },
    };
    // Repeats: a band of ± one standard deviation behind the mean line.
    const band = {
      mark: { type: 'errorband', opacity: 0.18 },
      transform: [{ filter: 'isValid(datum.lo)' }],
      encoding: {
        x,
        y: { field: 'lo', type: 'quantitative', scale: yScale, title: m.replace(/_/g, ' ') },
        y2: { field: 'hi' },
        color,
        detail: { field: 'split' },
      },
    };
    return {
      title: { text: m.replace(/_/g, ' '), fontSize: 13 },
      width: SIZE.width,
      height: SIZE.height,
      transform: [{ filter: { field: 'metric', equal: m } }],
      layer: banded ? [band, line] : [line],
    };
  };
  const spec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: options.title ?? (many ? 'Training curves' : `Training curves: ${series[0].label}`),
    data: { values: rows },
    hconcat: metrics.map(panel),
  } as unknown as TopLevelSpec;
  return {
    name: options.name ?? 'history',
    title: options.title ?? (many ? 'Training curves' : `Training curves: ${series[0].label}`),
    spec,
    caption: `${[
      `${metrics.join(', ')} per epoch`,
      ...(splits.includes('validation') ? ['; train against validation'] : []),
      ...(many ? [`, ${series.length} configuration${series.length === 1 ? '' : 's'}`] : []),
      ...(banded ? ['; repeats as their mean, with a band of ± one standard deviation'] : []),
      ...(options.note ? [`; ${options.note}`] : []),
    ].join('')}.`,
  };
}
