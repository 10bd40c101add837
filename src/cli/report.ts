/** `convlab report | plot | convolve`: figures and reports from the run store, and the convolution panel. */
import { readFileSync } from 'node:fs';
import { extname, join } from 'node:path';
import type { Command } from 'commander';
import { decodeImage } from '../data/image.js';
import { convolve2d, type ConvolveMode } from '../engine/convolve.js';
import { SpecFileError } from '../lab/spec.js';
import type { RunStore, TrialRow } from '../lab/store.js';
import {
  barsPlot,
  clockErrorPlots,
  confusionPlots,
  curvesFigure,
  featureMapPlot,
  FigureError,
  filterPlot,
  mainMetric,
  predictionPlot,
  sweepPlot,
} from '../report/collect.js';
import { convolutionFigure } from '../report/figures/images.js';
import { minMaxNormalize } from '../lab/grid.js';
import { writeFigure, type Figure } from '../report/render.js';
import { writeReport } from '../report/report.js';
import { inside } from '../util/safe_fs.js';
import { viewTrials } from '../lab/views.js';
import { defaultStore, fetchArtifacts, findExperiment, findTrial, withStore } from './lab.js';
import { extent } from '../util/numbers.js';

const KINDS = ['curves', 'sweep', 'time', 'bars', 'confusion', 'errors', 'feature-maps', 'filters', 'predictions'] as const;
type Kind = (typeof KINDS)[number];
const TRIAL_KINDS: Kind[] = ['confusion', 'errors', 'feature-maps', 'filters', 'predictions'];

interface PlotOptions {
  out?: string;
  store?: string;
  x?: string;
  xScale?: string;
  y?: string;
  metric?: string;
  metrics?: string;
  trials?: string;
  split?: string;
  percent?: boolean;
  sample?: string;
  layers?: string;
  inputChannel?: string;
  only?: string;
  errors?: boolean;
  count?: string;
  all?: boolean;
}

const isTrialRef = (ref: string) => /^#?\d+$/.test(ref);

/** '56-63' or '0,5,9' (or both: '0,56-63') as a list of whole numbers in the given order, without repeats. */
function indexList(flag: string, value: string | undefined): number[] | undefined {
  if (value === undefined) return undefined;
  const out: number[] = [];
  for (const part of value.split(',').map((p) => p.trim())) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part);
    if (!m || (m[2] !== undefined && Number(m[2]) < Number(m[1])))
      throw new SpecFileError(`${flag} ${value}: expected indices like 56-63 or 0,5,9`);
    for (let i = Number(m[1]); i <= Number(m[2] ?? m[1]); i++) if (!out.includes(i)) out.push(i);
  }
  if (out.length > 1024) throw new SpecFileError(`${flag} ${value}: at most 1,024 filters`);
  return out;
}

/** --x-scale: linear, log or category; undefined lets the values decide. */
function xScale(value: string | undefined): 'linear' | 'log' | 'category' | undefined {
  if (value === undefined) return undefined;
  if (value !== 'linear' && value !== 'log' && value !== 'category')
    throw new SpecFileError(`--x-scale ${value}: expected linear, log or category`);
  return value;
}

function nonNegative(flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new SpecFileError(`${flag} ${value}: expected a whole number ≥ 0`);
  return n;
}

/** The trials of an experiment a view shows (see lab/views.ts), or the ones --trials names (ids). */
function experimentTrials(store: RunStore, ref: string, only?: string, all?: boolean): { name: string; trials: TrialRow[] } {
  const e = findExperiment(store, ref);
  let trials = viewTrials(store, e, { all: all || Boolean(only) });
  if (only) {
    const ids = only.split(',').map((s) => Number(s.trim().replace(/^#/, '')));
    const missing = ids.filter((id) => !trials.some((t) => t.id === id));
    if (missing.length || ids.some((id) => !Number.isInteger(id)))
      throw new SpecFileError(`--trials ${only}: experiment '${e.name}' has trials ${trials.map((t) => `#${t.id}`).join(', ')}`);
    trials = trials.filter((t) => ids.includes(t.id));
  }
  return { name: e.name, trials };
}

/** One split's figure out of several: the asked one, else test, validation, train in that order. */
function pickSplit(figures: Figure[], split?: string): Figure {
  if (split) return figures[0];
  for (const s of ['test', 'validation', 'train']) {
    const f = figures.find((x) => x.name.endsWith(`_${s}`));
    if (f) return f;
  }
  return figures[0];
}

function makeFigure(store: RunStore, kind: Kind, target: string, o: PlotOptions): Figure {
  if (TRIAL_KINDS.includes(kind) || (kind === 'curves' && isTrialRef(target))) {
    if (!isTrialRef(target))
      throw new SpecFileError(
        `plot ${kind} draws one trial: give its id (e.g. 3 or '#3'), not '${target}'; \`convlab ls ${target}\` lists them`,
      );
    const t = findTrial(store, target);
    switch (kind) {
      case 'curves':
        return curvesFigure(store, [t], o.metrics?.split(','));
      case 'confusion':
        return pickSplit(confusionPlots(store, t, { split: o.split, percent: o.percent }), o.split);
      case 'errors':
        return pickSplit(clockErrorPlots(store, t, o.split), o.split);
      case 'feature-maps':
        return featureMapPlot(store, t, nonNegative('--sample', o.sample) ?? 0);
      case 'filters':
        return filterPlot(store, t, {
          inputChannel: nonNegative('--input-channel', o.inputChannel),
          layers: o.layers?.split(','),
          only: indexList('--only', o.only),
        });
      default:
        return predictionPlot(store, t, { only: o.errors ? 'errors' : 'all', count: nonNegative('--count', o.count) });
    }
  }
  const { name, trials } = experimentTrials(store, target, o.trials, o.all);
  switch (kind) {
    case 'curves':
      return curvesFigure(store, trials, o.metrics?.split(','));
    case 'bars':
      return barsPlot(store, trials, o.metric ?? mainMetric(store, trials));
    case 'time':
      return sweepPlot(store, name, trials, o.y ?? 'seconds', o.x, xScale(o.xScale));
    default: {
      // By default the main metric on the last split that has it: test, else validation, else train.
      const metric = mainMetric(store, trials);
      const split =
        (['test', 'validation', 'train'] as const).find((s) => trials.some((t) => store.finals(t.id)[s]?.[metric] !== undefined)) ?? 'test';
      return sweepPlot(
        store,
        name,
        trials,
        o.y ?? `${{ test: 'test', validation: 'val', train: 'train' }[split]}_${metric}`,
        o.x,
        xScale(o.xScale),
      );
    }
  }
}

/** `out` split into a base path and the formats to write: a.png → png, a.svg → svg, a (no extension) → both. */
function outputs(out: string | undefined, figure: Figure): { base: string; formats: ('svg' | 'png')[] } {
  if (!out) return { base: figure.name, formats: ['png'] };
  const ext = extname(out).toLowerCase();
  if (ext === '.png' || ext === '.svg') return { base: out.slice(0, -4), formats: [ext.slice(1) as 'png' | 'svg'] };
  if (ext) throw new SpecFileError(`--out ${out}: expected a .png or .svg file (or a name without extension for both)`);
  return { base: out, formats: ['svg', 'png'] };
}

/** "[[-1,-1,-1],[-1,8,-1],[-1,-1,-1]]" → a rectangular matrix of numbers, or an error naming the flag's index. */
export function parseKernel(text: string, index: number): number[][] {
  let k: unknown;
  try {
    k = JSON.parse(text);
  } catch (e) {
    throw new SpecFileError(
      `--kernel #${index + 1}: not JSON (${(e as Error).message}); expected rows of numbers like '[[0,1,0],[1,-4,1],[0,1,0]]'`,
    );
  }
  if (
    !Array.isArray(k) ||
    k.length === 0 ||
    !k.every((r) => Array.isArray(r) && r.length > 0 && r.every((v) => typeof v === 'number' && Number.isFinite(v)))
  ) {
    throw new SpecFileError(`--kernel #${index + 1}: expected a non-empty list of rows of numbers like '[[0,1,0],[1,-4,1],[0,1,0]]'`);
  }
  const rows = k as number[][];
  const bad = rows.findIndex((r) => r.length !== rows[0].length);
  if (bad >= 0)
    throw new SpecFileError(
      `--kernel #${index + 1}: row ${bad} has ${rows[bad].length} values, row 0 has ${rows[0].length}; a kernel is rectangular`,
    );
  return rows;
}

export function registerReportCommands(program: Command): void {
  program
    .command('report')
    .description('write an experiment as one self-contained HTML file and a Markdown version with its figures')
    .argument('<experiment>', 'experiment name (see `convlab ls`)')
    .option('--out <dir>', 'output folder (default convlab-report/<experiment>)')
    .option('--sort <column>', 'sort the comparison table by this column (e.g. test_accuracy, seconds)')
    .option('--no-trials', 'leave out the section per trial')
    .option('--all', "also the trials of earlier versions of the experiment's spec, labelled apart")
    .option('--store <dir>', 'the run store folder (default .convlab, or CONVLAB_STORE)')
    .action(async (name: string, opts: { out?: string; sort?: string; trials: boolean; store?: string; all?: boolean }) => {
      await withStore(opts.store ?? defaultStore(), async (store, files) => {
        await fetchArtifacts(store, files, name);
        const out = opts.out ?? inside('convlab-report', name, 'experiment name');
        const written = await withFigureErrors(() =>
          writeReport(store, name, out, { sort: opts.sort, trials: opts.trials, all: opts.all }),
        );
        console.log(`Wrote ${written.html}`);
        console.log(
          `Wrote ${written.markdown} (${written.figures.length} figure${written.figures.length === 1 ? '' : 's'} as PNG and SVG in ${join(out, 'figures')})`,
        );
      });
    });

  program
    .command('plot')
    .description('draw one figure of a trial or an experiment as PNG and/or SVG')
    .argument('<kind>', KINDS.join(' | '))
    .argument(
      '<target>',
      'experiment name, or trial id for confusion, errors, feature-maps, filters, predictions (and curves of one trial)',
    )
    .option('--out <file>', 'file.png, file.svg, or a name without extension for both (default <figure>.png)')
    .option('--x <param>', 'sweep, time: the swept parameter on the x axis (path or short name)')
    .option(
      '--x-scale <scale>',
      'sweep, time: linear, log, or category (numbers evenly spaced, e.g. with a 0 among decades); default log when the values span decades',
    )
    .option(
      '--y <column>',
      'sweep: the value plotted (test_accuracy, val_loss, ...; several, comma-separated, as lines of their own); time: seconds, seconds_per_epoch or images_per_second',
    )
    .option('--metric <name>', 'bars: the metric (default accuracy)')
    .option('--metrics <list>', 'curves: metrics to draw, comma-separated (default all, loss first)')
    .option('--trials <ids>', 'experiment figures: only these trial ids, comma-separated')
    .option('--all', 'experiment figures: also the trials of earlier versions of the spec, labelled apart')
    .option('--split <split>', 'confusion, errors: train, validation or test (default test)')
    .option('--percent', 'confusion: each cell as % of its true class instead of counts')
    .option('--sample <i>', 'feature-maps: which recorded sample (default 0)')
    .option('--layers <names>', 'filters: only these layers, comma-separated')
    .option('--input-channel <c>', 'filters: the input channel drawn for each filter (default 0)')
    .option('--only <indices>', "filters: which filters, by index: '56-63', '0,5,9' (default the first 64)")
    .option('--errors', 'predictions: only the misclassified samples')
    .option('--count <n>', 'predictions: at most n samples')
    .option('--store <dir>', 'the run store folder (default .convlab, or CONVLAB_STORE)')
    .action(async (kind: string, target: string, opts: PlotOptions) => {
      if (!(KINDS as readonly string[]).includes(kind))
        throw new SpecFileError(`plot: unknown figure kind '${kind}'; expected one of ${KINDS.join(', ')}`);
      if (opts.split && !['train', 'validation', 'test'].includes(opts.split))
        throw new SpecFileError(`--split ${opts.split}: expected train, validation or test`);
      await withStore(opts.store ?? defaultStore(), async (store, files) => {
        await fetchArtifacts(store, files, target);
        const figure = await withFigureErrors(async () => makeFigure(store, kind as Kind, target, opts));
        const { base, formats } = outputs(opts.out, figure);
        for (const f of await writeFigure(figure, base, formats)) console.log(`Wrote ${f}`);
      });
    });

  program
    .command('convolve')
    .description('convolve an image with one or more kernels and draw the input, the kernels and the outputs side by side')
    .argument('<image>', 'a PNG or JPEG file')
    .requiredOption(
      '--kernel <matrix>',
      "a kernel as JSON rows, e.g. '[[-1,-1,-1],[-1,8,-1],[-1,-1,-1]]' (repeatable)",
      (v: string, prev: string[]) => [...prev, v],
      [],
    )
    .option('--channel <c>', 'r, g, b or gray (default gray)', 'gray')
    .option('--mode <mode>', 'output size: same, valid or full (default same)', 'same')
    .option('--correlate', 'cross-correlate (no kernel flip), as CNN layers do; the default flips the kernel (true convolution)')
    .option('--out <file>', 'panel.png, panel.svg, or a name without extension for both', 'convolution.png')
    .action(async (file: string, opts: { kernel: string[]; channel: string; mode: string; correlate?: boolean; out: string }) => {
      if (!['r', 'g', 'b', 'gray'].includes(opts.channel)) throw new SpecFileError(`--channel ${opts.channel}: expected r, g, b or gray`);
      if (!['same', 'valid', 'full'].includes(opts.mode)) throw new SpecFileError(`--mode ${opts.mode}: expected same, valid or full`);
      if (opts.kernel.length === 0)
        throw new SpecFileError(
          "convolve: give at least one --kernel, e.g. --kernel '[[-1,-1,-1],[-1,8,-1],[-1,-1,-1]]' (edges) or '[[1,1,1],[1,1,1],[1,1,1]]' (blur)",
        );
      const kernels = opts.kernel.map(parseKernel);
      let bytes: Buffer;
      try {
        bytes = readFileSync(file);
      } catch (e) {
        throw new SpecFileError(`${file}: cannot read the image (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
      }
      const px = decodeImage(bytes, file, opts.channel === 'gray' ? 'grayscale' : 'rgb');
      const c = { r: 0, g: 1, b: 2, gray: 0 }[opts.channel as 'r' | 'g' | 'b' | 'gray'];
      const image = Array.from({ length: px.height }, (_, y) =>
        Array.from({ length: px.width }, (_, x) => px.data[(y * px.width + x) * px.channels + c] / 255),
      );
      const mode = opts.mode as ConvolveMode;
      const results = kernels.map((k, i) => {
        if (mode === 'valid' && (k.length > px.height || k[0].length > px.width))
          throw new SpecFileError(
            `--kernel #${i + 1}: ${k.length}×${k[0].length} is larger than the ${px.height}×${px.width} image, so 'valid' leaves nothing`,
          );
        return convolve2d(image, k, { mode, correlate: opts.correlate });
      });
      const tile = (m: number[][]) => ({ height: m.length, width: m[0].length, channels: 1 as const, values: minMaxNormalize(m.flat()) });
      const what = opts.correlate ? 'correlated' : 'convolved';
      const figure = convolutionFigure(tile(image), kernels, results.map(tile), {
        title: `Convolution of ${file.replace(/^.*\//, '')}`,
        inputTitle: `input, ${opts.channel === 'gray' ? 'grayscale' : `${opts.channel} channel`} (${px.height}×${px.width})`,
        outputTitles: results.map((r, i) => {
          const [lo, hi] = extent(r.flat());
          return `${what} with kernel ${i + 1}, ${mode} (${r.length}×${r[0].length}; ${lo.toFixed(2)} … ${hi.toFixed(2)})`;
        }),
      });
      const { base, formats } = outputs(opts.out, figure);
      for (const f of await writeFigure(figure, base, formats)) console.log(`Wrote ${f}`);
    });
}

/** Figures that cannot be drawn from the store are bad input (exit 2), not crashes. */
async function withFigureErrors<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if (e instanceof FigureError) throw new SpecFileError(e.message);
    throw e;
  }
}
