/** A histogram from counts per bin (e.g. the clock model's errors in 5-minute bins). */
import type { TopLevelSpec } from 'vega-lite';
import { SIZE, type Figure } from '../render.js';

export interface Bin {
  start: number;
  end: number;
  count: number;
}

export function histogramFigure(
  bins: readonly Bin[],
  options: { name?: string; title: string; xTitle: string; yTitle?: string; markers?: { value: number; label: string }[] },
): Figure {
  if (bins.length === 0) throw new Error(`${options.title}: no bins`);
  const total = bins.reduce((s, b) => s + b.count, 0);
  // Trailing empty bins are cut so the shape is readable.
  let last = bins.length - 1;
  while (last > 0 && bins[last].count === 0) last--;
  const shown = bins.slice(0, Math.max(last + 1, Math.min(bins.length, 4)));
  const layers: Record<string, unknown>[] = [
    {
      mark: { type: 'bar', stroke: 'white', strokeWidth: 0.5, color: '#0072B2' },
      encoding: {
        x: { field: 'start', type: 'quantitative', bin: { binned: true, step: shown[0].end - shown[0].start }, title: options.xTitle },
        x2: { field: 'end' },
        y: { field: 'count', type: 'quantitative', title: options.yTitle ?? 'samples' },
        tooltip: [{ field: 'start' }, { field: 'end' }, { field: 'count' }],
      },
    },
  ];
  if (options.markers?.length) {
    layers.push({
      data: { values: options.markers },
      mark: { type: 'rule', color: '#D55E00', strokeDash: [4, 3], strokeWidth: 1.5 },
      encoding: { x: { field: 'value', type: 'quantitative' } },
    });
    // Each label on a line of its own, so markers close together (a median of 4 beside a 90th percentile of 64) do not
    // print over each other.
    layers.push({
      data: { values: options.markers.map((m, i) => ({ ...m, row: 8 + 14 * i })) },
      mark: { type: 'text', align: 'left', dx: 4, dy: -4, color: '#D55E00', fontSize: 11 },
      encoding: {
        x: { field: 'value', type: 'quantitative' },
        y: { field: 'row', type: 'quantitative', scale: null },
        text: { field: 'label' },
      },
    });
  }
  const spec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: options.title,
    width: SIZE.width,
    height: SIZE.height,
    data: { values: shown },
    layer: layers,
  } as unknown as TopLevelSpec;
  return { name: options.name ?? 'histogram', title: options.title, spec, caption: `${total.toLocaleString('en-US')} samples.` };
}
