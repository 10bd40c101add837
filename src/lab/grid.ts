/**
 * Pictures made of tiles: sample grids, feature maps (one tile per channel) and filters (one tile per input and
 * output channel), written as PNG files.
 */
import { renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { PNG } from 'pngjs';
import { ensureDir } from '../util/safe_fs.js';
import { maxOf } from '../util/numbers.js';

/** One tile: h × w pixels of 1 (gray) or 3 (RGB) channels, values in [0, 1], HWC order. */
export interface Tile {
  height: number;
  width: number;
  channels: 1 | 3;
  values: ArrayLike<number>;
}

export interface GridOptions {
  /** Tiles per row (default: about the square root of the count). */
  cols?: number;
  /** Each pixel drawn as zoom × zoom (default 1). */
  zoom?: number;
  /** Pixels between tiles (default 2). */
  gap?: number;
  /** Gray level of the gaps, 0–255 (default 255, white). */
  background?: number;
}

/** Lays tiles out row by row; tiles of different sizes get cells as large as the largest. */
export function tileGrid(tiles: readonly Tile[], options: GridOptions = {}): PNG {
  if (tiles.length === 0) throw new Error('tileGrid: no tiles to draw');
  const zoom = options.zoom ?? 1;
  const gap = options.gap ?? 2;
  const cols = Math.min(tiles.length, options.cols ?? Math.ceil(Math.sqrt(tiles.length)));
  const rows = Math.ceil(tiles.length / cols);
  const cellH = maxOf(tiles, (t) => t.height) * zoom + gap;
  const cellW = maxOf(tiles, (t) => t.width) * zoom + gap;
  const png = new PNG({ width: cols * cellW + gap, height: rows * cellH + gap });
  png.data.fill(options.background ?? 255);
  tiles.forEach((t, i) => {
    const oy = gap + Math.floor(i / cols) * cellH;
    const ox = gap + (i % cols) * cellW;
    for (let y = 0; y < t.height * zoom; y++) {
      for (let x = 0; x < t.width * zoom; x++) {
        const p = (Math.floor(y / zoom) * t.width + Math.floor(x / zoom)) * t.channels;
        const o = ((oy + y) * png.width + ox + x) * 4;
        for (let k = 0; k < 3; k++) png.data[o + k] = Math.round(255 * Math.min(1, Math.max(0, t.values[p + (t.channels === 3 ? k : 0)])));
        png.data[o + 3] = 255;
      }
    }
  });
  return png;
}

/** Writes a PNG through a temporary file, so a reader never sees half of it. */
export function writePng(file: string, png: PNG): void {
  ensureDir(dirname(file), 'output');
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, PNG.sync.write(png));
  renameSync(tmp, file);
}

/** Values stretched to [0, 1] by their own minimum and maximum (a constant map becomes mid-gray). */
export function minMaxNormalize(values: ArrayLike<number>): Float32Array {
  let lo = Infinity,
    hi = -Infinity;
  for (let i = 0; i < values.length; i++) {
    lo = Math.min(lo, values[i]);
    hi = Math.max(hi, values[i]);
  }
  const out = new Float32Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = hi > lo ? (values[i] - lo) / (hi - lo) : 0.5;
  return out;
}

/**
 * One sample's activations [H, W, C] as C tiles (each normalized on its own), or a vector [U] as one block of
 * units, row by row (the unused end of the last row is black).
 */
export function featureMapTiles(values: Float32Array, shape: readonly number[]): Tile[] {
  if (shape.length === 1) {
    const w = Math.ceil(Math.sqrt(shape[0]));
    const block = new Float32Array(w * Math.ceil(shape[0] / w));
    block.set(minMaxNormalize(values));
    return [{ height: block.length / w, width: w, channels: 1, values: block }];
  }
  if (shape.length !== 3)
    throw new Error(`feature maps: expected one sample's [height, width, channels] or [units], got [${shape.join(', ')}]`);
  const [h, w, c] = shape;
  return Array.from({ length: c }, (_, k) => {
    const plane = new Float32Array(h * w);
    for (let p = 0; p < h * w; p++) plane[p] = values[p * c + k];
    return { height: h, width: w, channels: 1 as const, values: minMaxNormalize(plane) };
  });
}

/**
 * A Conv2D kernel [kh, kw, cin, cout] as cin × cout tiles (row: input channel, column: filter), on one scale for the
 * whole layer: mid-gray is 0, white the largest positive weight, black its negative. A large layer shows its first
 * `limit` input channels and filters (the .npy beside the picture has them all).
 */
export function filterTiles(values: Float32Array, shape: readonly number[], limit = 64): { tiles: Tile[]; cols: number } {
  if (shape.length !== 4) throw new Error(`filters: expected a Conv2D kernel [kh, kw, in, out], got [${shape.join(', ')}]`);
  const [kh, kw, cin, cout] = shape;
  let maxAbs = 0;
  for (const v of values) maxAbs = Math.max(maxAbs, Math.abs(v));
  const rows = Math.min(cin, limit);
  const cols = Math.min(cout, limit);
  const tiles: Tile[] = [];
  for (let ci = 0; ci < rows; ci++) {
    for (let co = 0; co < cols; co++) {
      const t = new Float32Array(kh * kw);
      for (let p = 0; p < kh * kw; p++) t[p] = maxAbs > 0 ? 0.5 + (0.5 * values[(p * cin + ci) * cout + co]) / maxAbs : 0.5;
      tiles.push({ height: kh, width: kw, channels: 1, values: t });
    }
  }
  // A single input channel wraps its filters into a square; otherwise each input channel is one row.
  return { tiles, cols: cin === 1 ? Math.ceil(Math.sqrt(cols)) : cols };
}

/** A zoom that makes the largest tile side about `target` pixels (at least 1). */
export function zoomFor(tiles: readonly Tile[], target = 48): number {
  const side = maxOf(tiles, (t) => Math.max(t.height, t.width), 1);
  return Math.max(1, Math.round(target / side));
}
