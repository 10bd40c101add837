/**
 * Figures made of pictures: feature maps (a tile per channel, per layer), filters, image samples with their labels
 * and predictions, and the convolution panel. Each tile is a PNG (upscaled by whole pixels, so no smoothing blurs it)
 * placed by Vega-Lite image marks, which gives titles, labels and frames like every other figure.
 */
import type { TopLevelSpec } from 'vega-lite';
import { PNG } from 'pngjs';
import * as vega from 'vega';
import { minMaxNormalize, type Tile } from '../../lab/grid.js';
import { PALETTE, formatValue, type Figure } from '../render.js';
import { maxOf } from '../../util/numbers.js';

type Colormap = 'gray' | 'viridis' | 'diverging';

const luts = new Map<Colormap, Uint8Array>();

/** 256 RGB entries of a Vega colour scheme (viridis; blueorange for signed values), or gray. */
function lut(map: Colormap): Uint8Array {
  const cached = luts.get(map);
  if (cached) return cached;
  const out = new Uint8Array(256 * 3);
  const scheme = map === 'gray' ? null : (vega.scheme(map === 'viridis' ? 'viridis' : 'blueorange') as (t: number) => string);
  for (let i = 0; i < 256; i++) {
    if (!scheme) {
      out.set([i, i, i], i * 3);
      continue;
    }
    out.set(parseColor(scheme(i / 255)), i * 3);
  }
  luts.set(map, out);
  return out;
}

/** A tile (values in [0, 1]) as a PNG data URI, each pixel drawn zoom × zoom; one-channel tiles through a colormap. */
export function tileUri(tile: Tile, zoom: number, map: Colormap = 'viridis'): string {
  const png = new PNG({ width: tile.width * zoom, height: tile.height * zoom });
  const table = lut(map);
  for (let y = 0; y < png.height; y++) {
    for (let x = 0; x < png.width; x++) {
      const p = (Math.floor(y / zoom) * tile.width + Math.floor(x / zoom)) * tile.channels;
      const o = (y * png.width + x) * 4;
      if (tile.channels === 3) {
        for (let k = 0; k < 3; k++) png.data[o + k] = Math.round(255 * clamp01(tile.values[p + k]));
      } else {
        const i = Math.round(255 * clamp01(tile.values[p])) * 3;
        png.data[o] = table[i];
        png.data[o + 1] = table[i + 1];
        png.data[o + 2] = table[i + 2];
      }
      png.data[o + 3] = 255;
    }
  }
  return `data:image/png;base64,${PNG.sync.write(png).toString('base64')}`;
}

/** '#rrggbb' or 'rgb(r, g, b)', as Vega's interpolators return them. */
function parseColor(c: string): [number, number, number] {
  const hex = /^#([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})$/i.exec(c);
  if (hex) return [parseInt(hex[1], 16), parseInt(hex[2], 16), parseInt(hex[3], 16)];
  const rgb = /^rgb\((\d+(?:\.\d+)?), ?(\d+(?:\.\d+)?), ?(\d+(?:\.\d+)?)\)$/.exec(c);
  if (rgb) return [Math.round(Number(rgb[1])), Math.round(Number(rgb[2])), Math.round(Number(rgb[3]))];
  throw new Error(`colormap: cannot read the colour '${c}'`);
}

/** Min–max scaling, except that a constant map (a dead ReLU channel) is drawn as the low end, not mid-scale. */
function stretchOrZero(values: Float32Array): Float32Array {
  let lo = Infinity,
    hi = -Infinity;
  for (const v of values) {
    lo = Math.min(lo, v);
    hi = Math.max(hi, v);
  }
  return hi > lo ? minMaxNormalize(values) : new Float32Array(values.length);
}

const clamp01 = (v: number) => (v > 1 ? 1 : Math.max(v, 0));

/** The whole-pixel zoom that makes a side of `side` pixels about `target` pixels on screen. */
const zoomTo = (side: number, target: number) => Math.max(1, Math.round(target / side));

interface Cell {
  url: string;
  caption: string;
  /** Drawn with an orange frame (misclassified samples). */
  marked?: boolean;
}

/** A grid of image cells with a caption under each, `columns` wide. */
function cellGrid(
  cells: readonly Cell[],
  size: { width: number; height: number },
  columns: number,
  title: string | null,
  captionLines = 1,
): Record<string, unknown> {
  return {
    ...(title ? { title: { text: title, fontSize: 12, fontWeight: 'bold', anchor: 'start' } } : {}),
    data: { values: cells.map((c, i) => ({ ...c, i, marked: Boolean(c.marked) })) },
    facet: { field: 'i', type: 'ordinal', title: null, header: { labelExpr: "''", labelPadding: 0, labelFontSize: 1, title: null } },
    columns,
    spacing: { row: 6 + captionLines * 13, column: 8 },
    spec: {
      width: size.width,
      height: size.height,
      layer: [
        {
          mark: { type: 'image', width: size.width, height: size.height, align: 'left', baseline: 'top', aria: false },
          encoding: { url: { field: 'url', type: 'nominal' }, x: { value: 0 }, y: { value: 0 } },
        },
        {
          mark: { type: 'rect', fill: null, strokeWidth: 3, aria: false },
          encoding: {
            x: { value: -1.5 },
            y: { value: -1.5 },
            x2: { value: size.width + 1.5 },
            y2: { value: size.height + 1.5 },
            stroke: { condition: { test: 'datum.marked', value: PALETTE[1] }, value: null },
          },
        },
        {
          mark: { type: 'text', align: 'center', baseline: 'top', fontSize: 10, lineBreak: '\n', aria: false },
          encoding: {
            x: { value: size.width / 2 },
            y: { value: size.height + 4 },
            text: { field: 'caption' },
            color: { condition: { test: 'datum.marked', value: PALETTE[1] }, value: '#222' },
          },
        },
      ],
    },
  };
}

export interface LayerMaps {
  /** Layer name. */
  name: string;
  /** One sample's activations: [h, w, c] or [units]. */
  shape: number[];
  values: Float32Array;
}

/** One sample's feature maps: its input image, then each layer's channels (at most `maxChannels` of each). */
export function featureMapFigure(
  input: Tile | null,
  layers: readonly LayerMaps[],
  options: { name?: string; title?: string; maxChannels?: number } = {},
): Figure {
  if (layers.length === 0) throw new Error('feature maps: no layer recorded');
  const max = options.maxChannels ?? 32;
  const blocks: Record<string, unknown>[] = [];
  if (input) {
    const side = Math.max(input.height, input.width);
    const zoom = zoomTo(side, 96);
    blocks.push(
      cellGrid(
        [{ url: tileUri(input, zoom, 'gray'), caption: `${input.height}×${input.width}×${input.channels}` }],
        { width: input.width * zoom, height: input.height * zoom },
        1,
        'input',
      ),
    );
  }
  let cut = false;
  for (const l of layers) {
    if (l.shape.length === 1) {
      const w = Math.ceil(Math.sqrt(l.shape[0]));
      const block = new Float32Array(w * Math.ceil(l.shape[0] / w));
      block.set(minMaxNormalize(l.values));
      const zoom = zoomTo(w, 96);
      blocks.push(
        cellGrid(
          [{ url: tileUri({ height: block.length / w, width: w, channels: 1, values: block }, zoom), caption: `${l.shape[0]} units` }],
          { width: w * zoom, height: (block.length / w) * zoom },
          1,
          `${l.name}  [${l.shape[0]}]`,
        ),
      );
      continue;
    }
    const [h, w, c] = l.shape;
    const shown = Math.min(c, max);
    cut ||= shown < c;
    const zoom = zoomTo(Math.max(h, w), h >= 24 ? 64 : 48);
    const cells: Cell[] = Array.from({ length: shown }, (_, k) => {
      const plane = new Float32Array(h * w);
      for (let p = 0; p < h * w; p++) plane[p] = l.values[p * c + k];
      return { url: tileUri({ height: h, width: w, channels: 1, values: stretchOrZero(plane) }, zoom), caption: `${k}` };
    });
    blocks.push(
      cellGrid(
        cells,
        { width: w * zoom, height: h * zoom },
        Math.min(shown, 8),
        `${l.name}  [${h}×${w}×${c}]${shown < c ? `, first ${shown} channels` : ''}`,
      ),
    );
  }
  const title = options.title ?? 'Feature maps';
  const spec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title,
    vconcat: blocks,
    config: { view: { stroke: null }, concat: { spacing: 18 } },
  } as unknown as TopLevelSpec;
  return {
    name: options.name ?? 'feature_maps',
    title,
    spec,
    caption:
      `One tile per channel, each scaled to its own range (viridis: dark low, yellow ` +
      `high; a constant channel is dark)${cut ? `; layers with more than ${max} channels show the first ${max}` : ''}.`,
  };
}

export interface LayerKernel {
  name: string;
  /** [kh, kw, in, out] */
  shape: number[];
  values: Float32Array;
}

/**
 * Conv2D filters, one block per layer: a tile per filter (input channel 0, or the RGB kernel itself for 3-channel
 * first layers shown as colour), on one symmetric scale per layer (blue negative, orange positive).
 */
/** 56, 57, 58, 59 → '56–59'; 1, 4, 9 → '1, 4, 9'. */
function compactRange(xs: readonly number[]): string {
  const consecutive = xs.length > 2 && xs.every((x, i) => i === 0 || x === xs[i - 1] + 1);
  return consecutive ? `${xs[0]}–${xs[xs.length - 1]}` : xs.join(', ');
}

export function filterFigure(
  layers: readonly LayerKernel[],
  options: { name?: string; title?: string; maxFilters?: number; inputChannel?: number; only?: readonly number[] } = {},
): Figure {
  if (layers.length === 0) throw new Error('filters: no Conv2D kernel recorded');
  const max = options.maxFilters ?? 64;
  const blocks = layers.map((l) => {
    if (l.shape.length !== 4)
      throw new Error(`filters: layer '${l.name}' has a kernel of shape [${l.shape.join(', ')}], expected [kh, kw, in, out]`);
    const [kh, kw, cin, cout] = l.shape;
    const ci = Math.min(options.inputChannel ?? 0, cin - 1);
    let maxAbs = 0;
    for (const v of l.values) maxAbs = Math.max(maxAbs, Math.abs(v));
    const zoom = zoomTo(Math.max(kh, kw), 40);
    // The chosen filters (by output channel), or the first `max`.
    const picked = options.only ? options.only.filter((co) => co < cout) : Array.from({ length: Math.min(cout, max) }, (_, co) => co);
    const shown = picked.length;
    const cells: Cell[] = picked.map((co) => {
      const t = new Float32Array(kh * kw);
      for (let p = 0; p < kh * kw; p++) t[p] = maxAbs > 0 ? 0.5 + (0.5 * l.values[(p * cin + ci) * cout + co]) / maxAbs : 0.5;
      return { url: tileUri({ height: kh, width: kw, channels: 1, values: t }, zoom, 'diverging'), caption: `${co}` };
    });
    const which = options.only ? `, filters ${compactRange(picked)}` : shown < cout ? `, first ${shown} filters` : '';
    return cellGrid(
      cells,
      { width: kw * zoom, height: kh * zoom },
      Math.min(shown, 16),
      `${l.name}  [${kh}×${kw}, ${cin} → ${cout}]` +
        `${cin > 1 ? `, input channel ${ci}` : ''}${which}` +
        `  (|w| ≤ ${formatValue(Number(maxAbs.toPrecision(3)))})`,
    );
  });
  const title = options.title ?? 'Filters';
  const spec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title,
    vconcat: blocks,
    config: { view: { stroke: null }, concat: { spacing: 18 } },
  } as unknown as TopLevelSpec;
  return {
    name: options.name ?? 'filters',
    title,
    spec,
    caption: 'One tile per filter; blue is negative, white zero, orange positive, on one scale per layer.',
  };
}

export interface Sample {
  image: Tile;
  label: number;
  predicted?: number;
  confidence?: number;
}

/** Image samples with their true class and, where given, the prediction; misclassified ones framed in orange. */
export function sampleGridFigure(
  samples: readonly Sample[],
  classNames: readonly string[],
  options: { name?: string; title?: string; columns?: number; zoom?: number } = {},
): Figure {
  if (samples.length === 0) throw new Error('sample grid: no samples');
  const name = (k: number) => classNames[k] ?? String(k);
  const side = Math.max(samples[0].image.height, samples[0].image.width);
  const zoom = options.zoom ?? zoomTo(side, 64);
  const withPred = samples.some((s) => s.predicted !== undefined);
  const cells: Cell[] = samples.map((s) => ({
    url: tileUri(s.image, zoom, 'gray'),
    caption: withPred
      ? `${name(s.label)}\n→ ${name(s.predicted!)}${s.confidence !== undefined ? ` ${Math.round(100 * s.confidence)}%` : ''}`
      : name(s.label),
    marked: withPred && s.predicted !== s.label,
  }));
  const wrong = cells.filter((c) => c.marked).length;
  const title = options.title ?? (withPred ? 'Predictions' : 'Samples');
  const spec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title,
    ...cellGrid(
      cells,
      { width: samples[0].image.width * zoom, height: samples[0].image.height * zoom },
      options.columns ?? Math.min(samples.length, 8),
      null,
      withPred ? 2 : 1,
    ),
    config: { view: { stroke: null } },
  } as unknown as TopLevelSpec;
  return {
    name: options.name ?? 'samples',
    title,
    spec,
    caption: withPred
      ? `Under each image: true class, → predicted class and its probability. ${wrong} of ${samples.length} misclassified (orange frame).`
      : `${samples.length} images with their classes.`,
  };
}

/** The convolution panel: the input, each kernel with its weights written in, and each output. */
export function convolutionFigure(
  input: Tile,
  kernels: readonly (readonly (readonly number[])[])[],
  outputs: readonly Tile[],
  options: { name?: string; title?: string; inputTitle?: string; outputTitles?: string[] } = {},
): Figure {
  if (kernels.length !== outputs.length) throw new Error('convolution panel: one output per kernel');
  const side = Math.max(input.height, input.width);
  const zoom = Math.max(1, Math.round(200 / side));
  const image = (t: Tile, title: string, map: Colormap) => ({
    title: { text: title, fontSize: 12 },
    width: t.width * zoom,
    height: t.height * zoom,
    data: { values: [{ url: tileUri(t, zoom, map) }] },
    mark: { type: 'image', width: t.width * zoom, height: t.height * zoom, align: 'left', baseline: 'top', aria: false },
    encoding: { url: { field: 'url', type: 'nominal' }, x: { value: 0 }, y: { value: 0 } },
  });
  const kernelView = (k: readonly (readonly number[])[], i: number) => {
    const cells = k.flatMap((row, y) => row.map((v, x) => ({ x, y, v, t: formatValue(Number(v.toPrecision(3))) })));
    const maxAbs = maxOf(cells, (c) => Math.abs(c.v), 1e-12);
    const cell = Math.max(18, Math.min(40, Math.floor(160 / Math.max(k.length, k[0].length))));
    return {
      title: { text: `kernel ${i + 1} (${k.length}×${k[0].length})`, fontSize: 12 },
      width: cell * k[0].length,
      height: cell * k.length,
      data: { values: cells },
      encoding: { x: { field: 'x', type: 'ordinal', axis: null }, y: { field: 'y', type: 'ordinal', axis: null } },
      layer: [
        {
          mark: { type: 'rect', stroke: 'white', strokeWidth: 1 },
          encoding: {
            color: { field: 'v', type: 'quantitative', scale: { scheme: 'blueorange', domain: [-maxAbs, maxAbs] }, legend: null },
          },
        },
        {
          mark: { type: 'text', fontSize: cell >= 30 ? 11 : 9 },
          encoding: {
            text: { field: 't' },
            color: { condition: { test: `abs(datum.v) > ${0.6 * maxAbs}`, value: 'white' }, value: '#111' },
          },
        },
      ],
    };
  };
  const titles = options.outputTitles ?? outputs.map((_, i) => `output ${i + 1}`);
  const columns = [
    { vconcat: [image(input, options.inputTitle ?? `input (${input.height}×${input.width})`, 'gray')] },
    ...kernels.map((k, i) => ({ vconcat: [kernelView(k, i), image(outputs[i], titles[i], 'gray')] })),
  ];
  const title = options.title ?? 'Convolution';
  const spec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title,
    hconcat: columns,
    resolve: { scale: { color: 'independent' } },
    padding: { left: 8, top: 8, right: 8, bottom: 16 },
    config: { view: { stroke: null }, concat: { spacing: 20 } },
  } as unknown as TopLevelSpec;
  return {
    name: options.name ?? 'convolution',
    title,
    spec,
    caption: 'Each output is scaled to its own range (black lowest, white highest).',
  };
}
