/** A confusion-matrix heatmap: true class down, predicted across, coloured by the row's share, with counts or %. */
import type { TopLevelSpec } from 'vega-lite';
import type { Figure } from '../render.js';

export interface ConfusionOptions {
  name?: string;
  title?: string;
  /** Print each cell's share of its true class in % instead of the count (the colour is the share either way). */
  percent?: boolean;
}

export function confusionFigure(
  matrix: readonly (readonly number[])[],
  classNames: readonly string[],
  options: ConfusionOptions = {},
): Figure {
  const k = matrix.length;
  if (k === 0 || matrix.some((r) => r.length !== k))
    throw new Error(`confusion matrix: expected a square matrix, got ${k} rows of ${matrix.map((r) => r.length).join('/')}`);
  const names = classNames.length === k ? classNames : Array.from({ length: k }, (_, i) => String(i));
  const rows: Record<string, unknown>[] = [];
  matrix.forEach((r, i) => {
    const total = r.reduce((a, b) => a + b, 0);
    r.forEach((count, j) => {
      const share = total > 0 ? count / total : 0;
      rows.push({
        true: names[i],
        predicted: names[j],
        count,
        share,
        text: options.percent ? (count === 0 ? '0' : `${(100 * share).toFixed(share >= 0.995 ? 0 : 1)}`) : String(count),
      });
    });
  });
  const cell = Math.max(22, Math.min(44, Math.round(440 / k)));
  const fontSize = k > 12 ? 8 : cell >= 36 ? 11 : 10;
  const axis = { field: undefined, type: 'ordinal', sort: names };
  const title = options.title ?? 'Confusion matrix';
  const spec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title,
    width: cell * k,
    height: cell * k,
    data: { values: rows },
    encoding: {
      x: { ...axis, field: 'predicted', title: 'predicted class', axis: { labelAngle: -40, orient: 'bottom', labelLimit: 120 } },
      y: { ...axis, field: 'true', title: 'true class', axis: { labelLimit: 120 } },
    },
    layer: [
      {
        mark: { type: 'rect' },
        encoding: {
          color: {
            field: 'share',
            type: 'quantitative',
            title: ['share of', 'true class'],
            scale: { scheme: 'viridis', domain: [0, 1] },
            legend: { format: '.0%', gradientLength: Math.min(200, cell * k) },
          },
          tooltip: [{ field: 'true' }, { field: 'predicted' }, { field: 'count' }, { field: 'share', format: '.1%' }],
        },
      },
      {
        mark: { type: 'text', fontSize },
        encoding: { text: { field: 'text' }, color: { condition: { test: 'datum.share < 0.6', value: 'white' }, value: 'black' } },
      },
    ],
    config: { axis: { grid: false }, view: { stroke: null } },
  } as unknown as TopLevelSpec;
  const total = rows.reduce((s, r) => s + (r.count as number), 0);
  return {
    name: options.name ?? 'confusion',
    title,
    spec,
    caption: `${total.toLocaleString('en-US')} samples; ${options.percent ? 'each cell is the % of its true class' : 'cells are counts'}, colour is the share of the true class.`,
  };
}
