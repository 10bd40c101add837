/**
 * A metric (or the training time) against a swept parameter: the mean over repeats as a line with points, ± one
 * standard deviation as error bars where a value was repeated, one line per value of a second parameter, and a
 * log axis when the parameter's values span two decades or more.
 */
import type { TopLevelSpec } from 'vega-lite';
import { bounded, formatValue, naturalOrder, PALETTE, SIZE, type Figure } from '../render.js';
import { extent, maxOf } from '../../util/numbers.js';

export interface SweepPoint {
  x: number | string;
  y: number;
  /** The other parameters' values, one line each (its colour). */
  series?: string;
  /** Where exactly two other parameters vary: the second one's value (its dash), the first in `series`. */
  dash?: string;
}

export interface SweepOptions {
  name: string;
  title: string;
  xTitle: string;
  yTitle: string;
  seriesTitle?: string;
  /** The dash's legend title, where a second parameter varies. */
  dashTitle?: string;
  /** Force a log (true) or linear (false) x axis; by default log when positive values span ≥ 100×. */
  logX?: boolean;
  /** Numbers as evenly spaced categories in their order (0, 1e-5, 0.01, 1000: a log axis cannot hold the 0). */
  categoryX?: boolean;
}

/** Log scale for positive numbers spanning two decades or more. */
export function wantsLog(xs: readonly number[]): boolean {
  if (xs.length < 2 || xs.some((x) => !(x > 0))) return false;
  const [lo, hi] = extent(xs);
  return hi / lo >= 100;
}

export function sweepFigure(points: readonly SweepPoint[], options: SweepOptions): Figure {
  const measured = points.filter((p) => Number.isFinite(p.y));
  const finite =
    options.categoryX && measured.every((p) => typeof p.x === 'number')
      ? [...measured].sort((a, b) => (a.x as number) - (b.x as number)).map((p) => ({ ...p, x: formatValue(p.x as number) }))
      : measured;
  if (finite.length === 0) throw new Error(`${options.title}: no finished trial has a value to plot`);
  const numeric = finite.every((p) => typeof p.x === 'number');
  const log = numeric && (options.logX ?? wantsLog(finite.map((p) => p.x as number)));
  const repeated = new Map<string, number>();
  for (const p of finite) repeated.set(`${p.x}|${p.series ?? ''}`, (repeated.get(`${p.x}|${p.series ?? ''}`) ?? 0) + 1);
  const hasRepeats = [...repeated.values()].some((n) => n > 1);
  const withSeries = finite.some((p) => p.series !== undefined);
  const xOrder = numeric ? undefined : [...new Set(finite.map((p) => String(p.x)))];
  const distinct = numeric ? [...new Set(finite.map((p) => p.x as number))].sort((a, b) => a - b) : [];
  // A few swept values are the ticks themselves; many, or values bunched up on a linear axis (10, 1,000 and 50,000),
  // get the scale's own ticks, whose labels do not collide.
  const gaps = distinct.slice(1).map((v, i) => v - distinct[i]);
  const bunched = !log && gaps.length > 1 && extent(gaps)[0] < 0.05 * (distinct[distinct.length - 1] - distinct[0]);
  const ticks = distinct.length <= 10 && !bunched ? { values: distinct } : {};
  const x = numeric
    ? {
        field: 'x',
        type: 'quantitative',
        title: options.xTitle,
        scale: log ? { type: 'log', nice: false, padding: 12 } : { zero: false, padding: 12, ...(bunched ? { nice: false } : {}) },
        axis: {
          ...ticks,
          labelExpr:
            'datum.value >= 1e4 ? format(datum.value, ",") : datum.value > 0 && datum.value < 1e-2 ? format(datum.value, ".0e") : datum.label',
        },
      }
    : { field: 'x', type: 'ordinal', title: options.xTitle, sort: xOrder, axis: { labelAngle: 0 } };
  const dashed = finite.some((p) => p.dash !== undefined);
  const color = {
    ...(withSeries
      ? {
          color: {
            field: 'series',
            type: 'nominal',
            title: options.seriesTitle ?? 'series',
            sort: naturalOrder([...new Set(finite.map((p) => p.series ?? '–'))]),
          },
        }
      : {}),
    ...(dashed
      ? {
          strokeDash: {
            field: 'dash',
            type: 'nominal',
            title: options.dashTitle ?? 'dash',
            sort: naturalOrder([...new Set(finite.map((p) => p.dash ?? '–'))]),
          },
        }
      : {}),
  };
  // An accuracy's error bars (mean + std) may pass 1; its axis stops there.
  const groups = new Map<string, number[]>();
  for (const p of finite)
    groups.set(`${p.x}|${p.series ?? ''}|${p.dash ?? ''}`, [...(groups.get(`${p.x}|${p.series ?? ''}|${p.dash ?? ''}`) ?? []), p.y]);
  const top = maxOf(groups.values(), (ys) => {
    const mean = ys.reduce((a, b) => a + b, 0) / ys.length;
    return ys.length > 1 ? mean + Math.sqrt(ys.reduce((a, b) => a + (b - mean) ** 2, 0) / (ys.length - 1)) : mean;
  });
  const yScale = bounded(options.yTitle) && top > 1 ? { zero: false, domainMax: 1, clamp: true } : { zero: false };
  const layers: Record<string, unknown>[] = [
    {
      mark: { type: 'line', point: { size: 50, filled: true } },
      encoding: { x, y: { aggregate: 'mean', field: 'y', type: 'quantitative', title: options.yTitle, scale: yScale }, ...color },
    },
  ];
  if (hasRepeats)
    layers.push({
      mark: { type: 'errorbar', extent: 'stdev', ticks: { size: 8 }, ...(withSeries ? {} : { color: PALETTE[0] }) },
      encoding: { x, y: { field: 'y', type: 'quantitative', title: options.yTitle, scale: yScale }, ...color },
    });
  const spec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: options.title,
    width: SIZE.width,
    height: SIZE.height,
    data: {
      values: finite.map((p) => ({
        x: p.x,
        y: p.y,
        ...(withSeries ? { series: p.series ?? '–' } : {}),
        ...(dashed ? { dash: p.dash ?? '–' } : {}),
      })),
    },
    layer: layers,
  } as unknown as TopLevelSpec;
  const counts = [...repeated.values()];
  const runs = extent(counts)[0] === extent(counts)[1] ? counts[0] : extent(counts).join('–');
  return {
    name: options.name,
    title: options.title,
    spec,
    caption:
      `${options.yTitle} against ${options.xTitle}${log ? ' (log scale)' : ''}` +
      `${hasRepeats ? `; mean ± one standard deviation over ${runs} runs` : ''}.`,
  };
}
