/** Grouped bars: a metric on train, validation and test side by side for each variant, with ± std where repeated. */
import type { TopLevelSpec } from 'vega-lite';
import { SIZE, type Figure } from '../render.js';

export interface SplitBar {
  label: string;
  split: 'train' | 'validation' | 'test';
  value: number;
  std?: number | null;
}

export function splitBarsFigure(bars: readonly SplitBar[], options: { name?: string; metric: string; title?: string }): Figure {
  const rows = bars.filter((b) => Number.isFinite(b.value));
  if (rows.length === 0) throw new Error(`bars: no finished trial has a final ${options.metric}`);
  const labels = [...new Set(rows.map((b) => b.label))];
  const splits = (['train', 'validation', 'test'] as const).filter((s) => rows.some((b) => b.split === s));
  const hasStd = rows.some((b) => b.std !== null && b.std !== undefined);
  const x = {
    field: 'label',
    type: 'nominal',
    title: null,
    sort: labels,
    axis: { labelAngle: labels.some((l) => l.length > 10) ? -30 : 0, labelLimit: 0 },
  };
  const xOffset = { field: 'split', type: 'nominal', sort: splits, scale: { paddingInner: 0.05 } };
  const layers: Record<string, unknown>[] = [
    {
      mark: { type: 'bar' },
      encoding: {
        x,
        xOffset,
        y: { field: 'value', type: 'quantitative', title: options.metric.replace(/_/g, ' ') },
        color: { field: 'split', type: 'nominal', sort: splits, title: 'split' },
        tooltip: [{ field: 'label' }, { field: 'split' }, { field: 'value', format: '.4f' }],
      },
    },
  ];
  if (hasStd) {
    layers.push({
      transform: [
        { filter: 'isValid(datum.std)' },
        { calculate: 'datum.value - datum.std', as: 'lo' },
        { calculate: 'datum.value + datum.std', as: 'hi' },
      ],
      mark: { type: 'rule', color: '#222' },
      encoding: { x, xOffset, y: { field: 'lo', type: 'quantitative' }, y2: { field: 'hi' } },
    });
  }
  const width = Math.max(SIZE.width, labels.length * splits.length * 18 + labels.length * 12);
  const title = options.title ?? `Final ${options.metric.replace(/_/g, ' ')} per trial`;
  const spec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title,
    width,
    height: SIZE.height,
    data: { values: rows.map((b) => ({ ...b, std: b.std ?? null })) },
    layer: layers,
  } as unknown as TopLevelSpec;
  return {
    name: options.name ?? `bars_${options.metric}`,
    title,
    spec,
    caption: `${options.metric.replace(/_/g, ' ')} on ${splits.join(', ')}${hasStd ? '; bars are means, lines ± one standard deviation' : ''}.`,
  };
}
