/**
 * From the run store to figures: what each figure kind needs, read from a trial (its epochs, final metrics,
 * evaluation and artifacts) or from a study (its trials and their swept values).
 */
import { inside } from '../util/safe_fs.js';
import { maxOf } from '../util/numbers.js';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { finalColumns, higherIsBetter, lastEpochColumns } from '../lab/compare.js';
import type { SplitEvaluation } from '../lab/train_run.js';
import type { PredictionMeta } from '../lab/inspect.js';
import type { ArtifactRow, RunStore, TrialRow } from '../lab/store.js';
import { shortNames } from '../lab/sweep.js';
import { minMaxNormalize, type Tile } from '../lab/grid.js';
import { readNpy } from '../lab/npy.js';
import { formatValue, type Figure } from './render.js';
import { splitBarsFigure, type SplitBar } from './figures/bars.js';
import { confusionFigure } from './figures/confusion.js';
import { historyFigure, historyMetrics, type HistorySeries } from './figures/history.js';
import { histogramFigure } from './figures/histogram.js';
import { featureMapFigure, filterFigure, sampleGridFigure } from './figures/images.js';
import { sweepFigure, type SweepPoint } from './figures/sweep.js';

/** A figure that cannot be drawn from what the store holds, said with what is there instead. */
export class FigureError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FigureError';
  }
}

const safe = (s: string) => s.replace(/[^A-Za-z0-9_.-]+/g, '_').replace(/^_+|_+$/g, '');

export function trialSeries(store: RunStore, t: TrialRow): HistorySeries {
  return { label: t.label, epochs: store.epochs(t.id) };
}

/** Repeats' histories as one: the mean per epoch and key, with the sample std (under `key__std`) where n > 1. */
function meanSeries(label: string, histories: readonly Record<string, number>[][]): HistorySeries & { repeats: number } {
  if (histories.length === 1) return { label, epochs: histories[0], repeats: 1 };
  const epochs: Record<string, number>[] = [];
  const longest = maxOf(histories, (h) => h.length, 0);
  for (let i = 0; i < longest; i++) {
    const rows = histories.map((h) => h[i]).filter(Boolean);
    const out: Record<string, number> = { epoch: i };
    for (const k of new Set(rows.flatMap((r) => Object.keys(r)))) {
      if (k === 'epoch') continue;
      const xs = rows.map((r) => r[k]).filter((v) => v !== undefined && Number.isFinite(v));
      if (xs.length === 0) continue;
      const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
      out[k] = mean;
      if (xs.length > 1) out[`${k}__std`] = Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (xs.length - 1));
    }
    epochs.push(out);
  }
  return { label: `${label} (mean of ${histories.length})`, epochs, repeats: histories.length };
}

/** How many configurations an overlay of curves draws before it keeps only the best. */
export const MAX_CURVES = 8;

/**
 * One trial's curves, or every configuration's overlaid: repeats of a configuration (its trials' group) as one mean
 * line with a ± one standard deviation band; beyond MAX_CURVES configurations, the best by the main validation
 * (else training) metric, with a note saying so.
 */
export function curvesFigure(store: RunStore, trials: readonly TrialRow[], metrics?: string[], name?: string): Figure {
  const withEpochs = trials.filter((t) => store.epochs(t.id).length > 0);
  if (withEpochs.length === 0)
    throw new FigureError(`no epoch is recorded for ${trials.length === 1 ? `trial #${trials[0].id}` : 'these trials'} yet`);
  const groups = new Map<string, TrialRow[]>();
  for (const t of withEpochs)
    groups.set(trials.length === 1 ? t.label : t.group, [...(groups.get(trials.length === 1 ? t.label : t.group) ?? []), t]);
  let series = [...groups].map(([label, members]) =>
    meanSeries(
      label,
      members.map((t) => store.epochs(t.id)),
    ),
  );
  let note: string | undefined;
  if (series.length > MAX_CURVES) {
    const key =
      ['val_accuracy', 'accuracy', 'val_loss', 'loss'].find((k) => series.some((s) => s.epochs.some((e) => e[k] !== undefined))) ?? 'loss';
    const last = (s: HistorySeries) => s.epochs[s.epochs.length - 1]?.[key] ?? NaN;
    const better = higherIsBetter(key) ? -1 : 1;
    const ranked = [...series].sort((a, b) => (Number.isNaN(last(a)) ? 1 : Number.isNaN(last(b)) ? -1 : better * (last(a) - last(b))));
    note = `the ${MAX_CURVES} best of ${series.length} configurations by final ${key.replace(/_/g, ' ')}; \`--trials\` picks others`;
    series = ranked.slice(0, MAX_CURVES);
  }
  try {
    return historyFigure(series, { metrics, note, name: name ?? (trials.length === 1 ? `curves_trial${trials[0].id}` : 'curves') });
  } catch (e) {
    throw new FigureError((e as Error).message);
  }
}

/** The metric a study is judged by: accuracy where recorded, else the first other metric, else the loss. */
export function mainMetric(store: RunStore, trials: readonly TrialRow[]): string {
  const names = new Set<string>();
  for (const t of trials) for (const logs of Object.values(store.finals(t.id))) for (const m of Object.keys(logs)) names.add(m);
  if (names.has('accuracy')) return 'accuracy';
  return [...names].find((m) => m !== 'loss') ?? 'loss';
}

/** Parameters swept across these trials (taking two or more values), with short names. */
export function sweptParameters(trials: readonly TrialRow[]): { path: string; name: string; numeric: boolean }[] {
  const paths = [...new Set(trials.flatMap((t) => Object.keys(t.values)))];
  const names = shortNames(paths);
  return paths
    .map((path) => {
      const values = trials.map((t) => t.values[path]).filter((v) => v !== undefined);
      return {
        path,
        name: names[path],
        numeric: values.every((v) => typeof v === 'number'),
        distinct: new Set(values.map((v) => JSON.stringify(v))).size,
      };
    })
    .filter((p) => p.distinct >= 2)
    .map(({ path, name, numeric }) => ({ path, name, numeric }));
}

/**
 * A final value of a trial: a split metric (test_accuracy, val_loss, ...), a Keras last-epoch figure (epoch_accuracy,
 * ...), seconds, params, or images_per_second.
 */
export function trialValue(store: RunStore, t: TrialRow, column: string): number | undefined {
  if (column.startsWith('epoch_')) return lastEpochColumns(store.epochs(t.id))[column];
  if (column === 'seconds') return t.seconds ?? undefined;
  if (column === 'params') return t.params ?? undefined;
  if (column === 'seconds_per_epoch') return t.seconds !== null && t.epochsDone > 0 ? t.seconds / t.epochsDone : undefined;
  if (column === 'images_per_second') {
    const samples = (store.extra(t.id).samples as Record<string, number> | undefined)?.train;
    return samples && t.seconds ? (samples * t.epochsDone) / t.seconds : undefined;
  }
  return finalColumns(store.finals(t.id))[column];
}

const TITLES: Record<string, string> = {
  seconds: 'training time (s)',
  seconds_per_epoch: 'seconds per epoch',
  images_per_second: 'training images per second',
  params: 'parameters',
};
export const columnTitle = (c: string) =>
  TITLES[c] ??
  c
    .replace(/^epoch_(.*)$/, "$1 (Keras' last epoch)")
    .replace(/^val_/, 'validation_')
    .replace(/_/g, ' ');

/**
 * A final value against a swept parameter: the other swept parameters (and the variant) become one line each.
 * `x` is a swept path or its short name; by default the first numeric one. `y` may name several columns
 * ('train_accuracy,test_accuracy'): each is a line of its own, drawn dashed apart from the others.
 */
export function sweepPlot(
  store: RunStore,
  experiment: string,
  trials: readonly TrialRow[],
  y: string,
  x?: string,
  scale?: 'linear' | 'log' | 'category',
): Figure {
  const ys = [
    ...new Set(
      y
        .split(',')
        .map((c) => c.trim())
        .filter(Boolean),
    ),
  ];
  if (ys.length === 0) throw new FigureError(`--y '${y}': expected a column name, or several separated by commas`);
  const params = sweptParameters(trials);
  if (params.length === 0)
    throw new FigureError(
      `experiment '${experiment}' sweeps no parameter over two or more values (it has ${trials.length} trial${trials.length === 1 ? '' : 's'}); plot its bars or curves instead`,
    );
  const chosen = x === undefined ? (params.find((p) => p.numeric) ?? params[0]) : params.find((p) => p.path === x || p.name === x);
  if (!chosen)
    throw new FigureError(`--x ${x}: not a swept parameter of '${experiment}'; expected one of ${params.map((p) => p.name).join(', ')}`);
  const others = params.filter((p) => p !== chosen);
  const variants = new Set(trials.map((t) => t.variant).filter((v) => v !== null));
  const finished = trials.filter((t) => t.status === 'finished');
  if (finished.length === 0) throw new FigureError(`experiment '${experiment}' has no finished trial yet`);
  const points: SweepPoint[] = [];
  for (const column of ys) {
    let found = false;
    for (const t of finished) {
      const v = trialValue(store, t, column);
      if (v === undefined) continue;
      found = true;
      const parts = [
        ...(variants.size > 1 && t.variant ? [t.variant] : []),
        ...(ys.length > 1 ? [columnTitle(column)] : []),
        ...others.map((p) => `${p.name}=${formatValue(t.values[p.path])}`),
      ];
      // Two other dimensions: colour for the first, dash for the second; more are joined into one label.
      const split = parts.length === 2 ? { series: parts[0], dash: parts[1] } : parts.length ? { series: parts.join(' ') } : {};
      points.push({ x: t.values[chosen.path] as number | string, y: v, ...split });
    }
    if (!found)
      throw new FigureError(
        `no finished trial of '${experiment}' has a value '${column}'; expected one of ${availableColumns(store, finished).join(', ')}`,
      );
  }
  const dims = [...(variants.size > 1 ? ['variant'] : []), ...(ys.length > 1 ? ['value'] : []), ...others.map((p) => p.name)];
  const titles = dims.length === 2 ? { seriesTitle: dims[0], dashTitle: dims[1] } : { seriesTitle: dims.join(', ') };
  // Columns of one metric (train_accuracy, val_accuracy) share its name as the axis title; the legend tells them apart.
  const metrics = new Set(ys.map((c) => c.replace(/^(train|val|test|epoch)_/, '')));
  const yTitle = metrics.size === 1 && ys.length > 1 ? [...metrics][0].replace(/_/g, ' ') : ys.map(columnTitle).join(', ');
  return sweepFigure(points, {
    name: `${ys.map(safe).join('_')}_vs_${safe(chosen.name)}`,
    title: `${sentence(ys.map(columnTitle).join(' and '))} against ${chosen.name}`,
    xTitle: chosen.name,
    yTitle,
    logX: scale === undefined || scale === 'category' ? undefined : scale === 'log',
    categoryX: scale === 'category',
    ...titles,
  });
}

function sentence(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

export function availableColumns(store: RunStore, trials: readonly TrialRow[]): string[] {
  const cols = new Set<string>(['seconds', 'seconds_per_epoch', 'params']);
  for (const t of trials) {
    for (const c of Object.keys(finalColumns(store.finals(t.id)))) cols.add(c);
    for (const c of Object.keys(lastEpochColumns(store.epochs(t.id)))) cols.add(c);
    if ((store.extra(t.id).samples as Record<string, number> | undefined)?.train) cols.add('images_per_second');
  }
  return [...cols];
}

/** Train, validation and test values of a metric per trial (repeats as mean ± std), in the given order. */
export function barsPlot(store: RunStore, trials: readonly TrialRow[], metric: string): Figure {
  const groups = new Map<string, TrialRow[]>();
  for (const t of trials.filter((t) => t.status === 'finished')) groups.set(t.group, [...(groups.get(t.group) ?? []), t]);
  if (groups.size === 0) throw new FigureError('no finished trial to draw');
  const bars: SplitBar[] = [];
  for (const [label, members] of groups) {
    for (const split of ['train', 'validation', 'test'] as const) {
      const xs = members.map((t) => store.finals(t.id)[split]?.[metric]).filter((v): v is number => v !== undefined && Number.isFinite(v));
      if (xs.length === 0) continue;
      const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
      const std = xs.length > 1 ? Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (xs.length - 1)) : null;
      bars.push({ label, split, value: mean, std });
    }
  }
  if (bars.length === 0)
    throw new FigureError(
      `no trial has a final '${metric}'; expected one of ${[...new Set(trials.flatMap((t) => Object.values(store.finals(t.id)).flatMap((l) => Object.keys(l))))].join(', ')}`,
    );
  return splitBarsFigure(bars, { metric, name: `bars_${safe(metric)}` });
}

function evaluationOf(store: RunStore, t: TrialRow): Record<string, SplitEvaluation> {
  return (store.extra(t.id).evaluation as Record<string, SplitEvaluation> | undefined) ?? {};
}

/** Confusion matrices recorded for a trial, one figure per split. */
export function confusionPlots(store: RunStore, t: TrialRow, options: { split?: string; percent?: boolean } = {}): Figure[] {
  const ev = evaluationOf(store, t);
  const splits = Object.entries(ev).filter(([s, e]) => e.confusion_matrix && (options.split === undefined || s === options.split));
  if (splits.length === 0) {
    const have = Object.entries(ev)
      .filter(([, e]) => e.confusion_matrix)
      .map(([s]) => s);
    throw new FigureError(
      `trial #${t.id} has no confusion matrix${options.split ? ` for the ${options.split} split` : ''}${have.length ? ` (it has: ${have.join(', ')})` : ''}; ` +
        `\`convlab evaluate ${t.id} --confusion-matrix${options.split ? ` --split ${options.split}` : ''}\` ` +
        `computes it from the trial's saved weights`,
    );
  }
  return splits.map(([split, e]) => {
    const percent = options.percent ?? e.confusion_display === 'normalized';
    return confusionFigure(e.confusion_matrix!, e.classNames, {
      name: `confusion_trial${t.id}_${split}`,
      title: `Confusion matrix: ${t.label}, ${split}`,
      percent,
    });
  });
}

/** The clock model's error histograms (evaluate.time_difference). */
export function clockErrorPlots(store: RunStore, t: TrialRow, split?: string): Figure[] {
  const ev = evaluationOf(store, t);
  const found = Object.entries(ev).filter(([s, e]) => e.time_difference && (split === undefined || s === split));
  if (found.length === 0)
    throw new FigureError(
      `trial #${t.id} has no time differences${split ? ` for the ${split} split` : ''}; they come from evaluate.time_difference: true on the clocks dataset`,
    );
  return found.map(([s, e]) => {
    const d = e.time_difference!;
    const bins = d.histogram.map((count, i) => ({ start: i * d.binMinutes, end: (i + 1) * d.binMinutes, count }));
    return histogramFigure(bins, {
      name: `clock_errors_trial${t.id}_${s}`,
      title: `Clock errors: ${t.label}, ${s}`,
      xTitle: 'minutes between predicted and true time',
      yTitle: 'clocks',
      markers: [
        { value: d.median, label: `median ${d.median.toFixed(1)}` },
        { value: d.p90, label: `90th pct ${d.p90.toFixed(1)}` },
      ],
    });
  });
}

/** An artifact's file, which must lie inside the store's folder whatever path the store records. */
function artifactFile(store: RunStore, a: ArtifactRow): string {
  try {
    return inside(store.root, a.path, `trial #${a.trialId}'s ${a.kind} artifact`);
  } catch (e) {
    throw new FigureError((e as Error).message);
  }
}

/** One sample's input and layer activations from a trial's feature-map artifacts. */
export function featureMapPlot(store: RunStore, t: TrialRow, sample = 0): Figure {
  const arts = store.artifacts(t.id);
  const maps = arts.filter((a) => a.kind === 'feature_maps');
  if (maps.length === 0)
    throw new FigureError(
      `trial #${t.id} recorded no feature maps; \`convlab evaluate ${t.id} --feature-maps LAYER,...\` computes them from the trial's saved weights`,
    );
  const input = arts.find((a) => a.kind === 'inputs');
  const layers = maps.map((a) => {
    const { data, shape } = readNpy(artifactFile(store, a));
    if (sample >= shape[0])
      throw new FigureError(`--sample ${sample}: trial #${t.id} recorded ${shape[0]} sample${shape[0] === 1 ? '' : 's'}`);
    const per = data.length / shape[0];
    return { name: a.name, shape: shape.slice(1), values: data.subarray(sample * per, (sample + 1) * per) };
  });
  let tile: Tile | null = null;
  if (input && existsSync(artifactFile(store, input))) {
    const { data, shape } = readNpy(artifactFile(store, input));
    tile = imageTile(data, shape, sample);
  }
  return featureMapFigure(tile, layers, {
    name: `feature_maps_trial${t.id}_sample${sample}`,
    title: `Feature maps: ${t.label}, sample ${sample}`,
  });
}

/** Sample i of an [n, h, w, c] array as a displayable tile (gray or RGB, stretched to [0, 1]). */
export function imageTile(data: Float32Array, shape: number[], i: number): Tile | null {
  if (shape.length !== 4 || (shape[3] !== 1 && shape[3] !== 3)) return null;
  const per = shape[1] * shape[2] * shape[3];
  return { height: shape[1], width: shape[2], channels: shape[3] as 1 | 3, values: minMaxNormalize(data.subarray(i * per, (i + 1) * per)) };
}

export function filterPlot(
  store: RunStore,
  t: TrialRow,
  options: { inputChannel?: number; layers?: string[]; only?: number[] } = {},
): Figure {
  let arts = store.artifacts(t.id).filter((a) => a.kind === 'filters');
  if (arts.length === 0)
    throw new FigureError(
      `trial #${t.id} recorded no filters; \`convlab evaluate ${t.id} --filters\` takes them from the trial's saved weights`,
    );
  if (options.layers) {
    const missing = options.layers.filter((l) => !arts.some((a) => a.name === l));
    if (missing.length)
      throw new FigureError(`trial #${t.id} has no filters of ${missing.join(', ')}; it has ${arts.map((a) => a.name).join(', ')}`);
    arts = arts.filter((a) => options.layers!.includes(a.name));
  }
  const layers = arts.map((a) => ({ name: a.name, ...(({ data, shape }) => ({ values: data, shape }))(readNpy(artifactFile(store, a))) }));
  if (options.only) {
    for (const l of layers) {
      const out = l.shape[l.shape.length - 1];
      const beyond = options.only.filter((i) => i >= out);
      if (beyond.length)
        throw new FigureError(`--only ${beyond.join(', ')}: layer ${l.name} has ${out} filters (0 to ${out - 1}); --layers picks layers`);
    }
  }
  return filterFigure(layers, {
    name: `filters_trial${t.id}`,
    title: `Filters: ${t.label}`,
    inputChannel: options.inputChannel,
    only: options.only,
  });
}

export function predictionPlot(store: RunStore, t: TrialRow, options: { only?: 'all' | 'errors'; count?: number } = {}): Figure {
  const a = store.artifacts(t.id).find((x) => x.kind === 'predictions');
  if (!a)
    throw new FigureError(
      `trial #${t.id} recorded no predictions; \`convlab evaluate ${t.id} --predictions 36\` computes them from the trial's saved weights`,
    );
  const meta =
    (a.meta as { predictions?: PredictionMeta }).predictions ??
    (JSON.parse(readFileSync(join(store.root, (a.meta.files as string[])[1]), 'utf8')) as PredictionMeta);
  const { data, shape } = readNpy(artifactFile(store, a));
  let idx = meta.labels.map((_, i) => i);
  if (options.only === 'errors') idx = idx.filter((i) => meta.labels[i] !== meta.predicted[i]);
  idx = idx.slice(0, options.count ?? idx.length);
  if (idx.length === 0)
    throw new FigureError(
      `trial #${t.id}: none of the ${meta.labels.length} recorded predictions is ${options.only === 'errors' ? 'wrong' : 'there'}`,
    );
  const samples = idx.map((i) => {
    const image = imageTile(data, shape, i);
    if (!image)
      throw new FigureError(`trial #${t.id}: the recorded inputs have shape [${shape.join(', ')}], which is not a batch of images`);
    return { image, label: meta.labels[i], predicted: meta.predicted[i], confidence: meta.confidence[i] };
  });
  return sampleGridFigure(samples, meta.classNames, {
    name: `predictions_trial${t.id}`,
    title: `Predictions: ${t.label}, ${meta.split} split`,
  });
}

/** Every figure a trial's records allow (curves, confusion matrices, clock errors, feature maps, filters, predictions). */
export function trialFigures(store: RunStore, t: TrialRow): Figure[] {
  const out: Figure[] = [];
  const arts = store.artifacts(t.id);
  if (store.epochs(t.id).length) out.push(curvesFigure(store, [t]));
  const ev = evaluationOf(store, t);
  // The last split evaluated (test, else validation, else train) stands for the trial; `plot` draws the others.
  const last = (has: (e: SplitEvaluation) => boolean) => ['test', 'validation', 'train'].find((s) => ev[s] && has(ev[s]));
  const cm = last((e) => Boolean(e.confusion_matrix));
  if (cm) out.push(...confusionPlots(store, t, { split: cm }));
  const td = last((e) => Boolean(e.time_difference));
  if (td) out.push(...clockErrorPlots(store, t, td));
  if (arts.some((a) => a.kind === 'feature_maps')) out.push(featureMapPlot(store, t));
  if (arts.some((a) => a.kind === 'filters')) out.push(filterPlot(store, t));
  if (arts.some((a) => a.kind === 'predictions')) out.push(predictionPlot(store, t));
  return out;
}

/** A study's own figures: overlaid curves, bars per variant, each metric and the time against each swept parameter. */
export function studyFigures(store: RunStore, experiment: string, trials: readonly TrialRow[]): Figure[] {
  const out: Figure[] = [];
  const withEpochs = trials.filter((t) => store.epochs(t.id).length > 0);
  if (withEpochs.length > 1) {
    const metrics = historyMetrics(withEpochs.map((t) => trialSeries(store, t)));
    out.push(curvesFigure(store, withEpochs, metrics.slice(0, 2), 'curves'));
  }
  const finished = trials.filter((t) => t.status === 'finished');
  if (finished.length === 0) return out;
  const metric = mainMetric(store, finished);
  if (new Set(finished.map((t) => t.group)).size > 1) out.push(barsPlot(store, finished, metric));
  const params = sweptParameters(finished);
  const splitOf =
    ['test', 'validation', 'train'].find((s) => finished.some((t) => store.finals(t.id)[s]?.[metric] !== undefined)) ?? 'test';
  const column = `${{ train: 'train_', validation: 'val_', test: 'test_' }[splitOf]}${metric}`;
  for (const p of params) {
    out.push(sweepPlot(store, experiment, finished, column, p.path));
    out.push(sweepPlot(store, experiment, finished, 'seconds', p.path));
  }
  return out;
}
