/**
 * Figures are Vega-Lite specs, rendered in Node without a browser: Vega draws SVG, resvg turns it into PNG. One theme
 * for every figure: DejaVu Sans (shipped with the dejavu-fonts-ttf package, so the PNGs do not depend on the
 * machine's fonts), the Okabe–Ito colour-blind-safe palette, viridis for heatmaps, and fixed panel sizes.
 */
import { createRequire } from 'node:module';
import { renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Resvg } from '@resvg/resvg-js';
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import { ensureDir } from '../util/safe_fs.js';

/** A figure: a file name without extension, a title for reports, and its Vega-Lite spec. */
export interface Figure {
  name: string;
  title: string;
  spec: TopLevelSpec;
  /** A line under the figure in reports (what is shown, what was left out). */
  caption?: string;
}

/** Okabe & Ito's eight colours, ordered so that the first ones differ most (yellow, faint on white, comes last). */
export const PALETTE = ['#0072B2', '#D55E00', '#009E73', '#CC79A7', '#E69F00', '#56B4E9', '#000000', '#F0E442'];

export const FONT = 'DejaVu Sans';

/** Panel sizes in CSS pixels; PNGs are drawn at twice this. */
export const SIZE = { width: 360, height: 240, small: 220 };

/** Labels in natural order: 'lr=0.001' before 'lr=0.01', 'units=8' before 'units=64'. */
/** Accuracy-like metrics live in [0, 1]: their bands and axes never go past it. */
export const bounded = (metric: string): boolean => /acc|precision|recall|f1|auc/.test(metric) && !/loss|error/.test(metric);

export function naturalOrder(labels: readonly string[]): string[] {
  return [...labels].sort((a, b) => {
    const na = /=(-?[0-9.e+-]+)(\b|$)/.exec(a);
    const nb = /=(-?[0-9.e+-]+)(\b|$)/.exec(b);
    if (na && nb && a.slice(0, na.index) === b.slice(0, nb.index) && Number(na[1]) !== Number(nb[1])) return Number(na[1]) - Number(nb[1]);
    return a.localeCompare(b, 'en', { numeric: true });
  });
}

const THEME = {
  font: FONT,
  background: 'white',
  padding: 8,
  view: { stroke: '#888', strokeWidth: 0.5 },
  title: { fontSize: 14, fontWeight: 'bold', anchor: 'start', offset: 10 },
  axis: {
    labelFontSize: 11,
    titleFontSize: 12,
    titleFontWeight: 'normal',
    gridColor: '#e6e6e6',
    domainColor: '#555',
    tickColor: '#555',
    labelColor: '#222',
    titleColor: '#222',
  },
  legend: { labelFontSize: 11, titleFontSize: 12, titleFontWeight: 'normal', symbolSize: 90, labelLimit: 0 },
  range: { category: PALETTE, heatmap: { scheme: 'viridis' }, ramp: { scheme: 'viridis' } },
  mark: { color: PALETTE[0] },
  line: { strokeWidth: 2 },
  point: { size: 40, filled: true },
  concat: { spacing: 24 },
  facet: { spacing: 12 },
} as const;

/** The spec with the theme and the size defaults merged in (the figure's own config wins). */
export function themed(spec: TopLevelSpec): TopLevelSpec {
  const own = (spec as { config?: Record<string, unknown> }).config ?? {};
  const config: Record<string, unknown> = { ...THEME };
  for (const [k, v] of Object.entries(own)) {
    const base = config[k];
    config[k] = base && typeof base === 'object' && v && typeof v === 'object' && !Array.isArray(v) ? { ...base, ...v } : v;
  }
  return { ...spec, config } as TopLevelSpec;
}

/** The figure as an SVG document. */
export async function renderSvg(figure: Figure): Promise<string> {
  let compiled: vega.Spec;
  try {
    compiled = compile(themed(figure.spec)).spec;
  } catch (e) {
    throw new Error(`figure '${figure.name}': ${(e as Error).message}`);
  }
  const view = new vega.View(vega.parse(compiled), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

let fontFiles: string[] | null = null;

/** The DejaVu TTF files of the dejavu-fonts-ttf package. */
function fonts(): string[] {
  if (fontFiles) return fontFiles;
  const dir = join(dirname(createRequire(import.meta.url).resolve('dejavu-fonts-ttf/package.json')), 'ttf');
  fontFiles = ['DejaVuSans.ttf', 'DejaVuSans-Bold.ttf', 'DejaVuSans-Oblique.ttf', 'DejaVuSansMono.ttf'].map((f) => join(dir, f));
  return fontFiles;
}

/** An SVG drawn as PNG at `scale` times its size, with the bundled fonts only. */
export function svgToPng(svg: string, scale = 2): Buffer {
  const resvg = new Resvg(svg, {
    fitTo: { mode: 'zoom', value: scale },
    background: 'white',
    font: {
      loadSystemFonts: false,
      fontFiles: fonts(),
      defaultFontFamily: FONT,
      sansSerifFamily: FONT,
      monospaceFamily: 'DejaVu Sans Mono',
    },
    imageRendering: 1,
  });
  return resvg.render().asPng();
}

export interface RenderedFigure {
  svg: string;
  png: Buffer;
}

export async function render(figure: Figure, scale = 2): Promise<RenderedFigure> {
  const svg = await renderSvg(figure);
  return { svg, png: svgToPng(svg, scale) };
}

/** Writes `base.svg` and/or `base.png` through temporary files; returns the paths written. */
export async function writeFigure(figure: Figure, base: string, formats: readonly ('svg' | 'png')[] = ['svg', 'png']): Promise<string[]> {
  const { svg, png } = await render(figure);
  ensureDir(dirname(base), '--out');
  const out: string[] = [];
  for (const f of formats) {
    const file = `${base}.${f}`;
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, f === 'svg' ? svg : png);
    renameSync(tmp, file);
    out.push(file);
  }
  return out;
}

/** Long numbers shortened for titles and legends: 0.0001 → 1e-4, 40000 → 40,000. */
export function formatValue(v: unknown): string {
  if (typeof v !== 'number') return typeof v === 'string' ? v : JSON.stringify(v);
  if (v !== 0 && (Math.abs(v) < 1e-3 || Math.abs(v) >= 1e6))
    return v
      .toExponential()
      .replace(/\.?0+e/, 'e')
      .replace('e+', 'e');
  return Number.isInteger(v) ? v.toLocaleString('en-US') : String(Number(v.toPrecision(6)));
}
