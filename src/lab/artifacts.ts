/**
 * Arrays taken from a model, written for people and for NumPy: every array as .npy, feature maps as one PNG grid
 * per layer and sample (a tile per channel), filters as one PNG grid per layer (a row per input channel).
 */
import { renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { ArrayArtifact } from './inspect.js';
import { featureMapTiles, filterTiles, tileGrid, writePng, zoomFor, type Tile } from './grid.js';
import { writeNpy } from './npy.js';
import { ensureDir } from '../util/safe_fs.js';

export interface WrittenArtifact {
  kind: ArrayArtifact['kind'];
  layer: string;
  shape: number[];
  files: string[];
  meta?: ArrayArtifact['meta'];
}

const safe = (name: string) => name.replace(/[^A-Za-z0-9_.-]/g, '_');

function sampleTiles(a: ArrayArtifact, s: number): Tile[] {
  const per = a.data.length / a.shape[0];
  const values = a.data.subarray(s * per, (s + 1) * per);
  if (a.kind === 'inputs' && a.shape.length === 4 && (a.shape[3] === 1 || a.shape[3] === 3)) {
    return [{ height: a.shape[1], width: a.shape[2], channels: a.shape[3] as 1 | 3, values: stretch(values) }];
  }
  return featureMapTiles(values, a.shape.slice(1));
}

/** An input image on one scale for all its channels (so colours keep their balance). */
function stretch(values: Float32Array): Float32Array {
  let lo = Infinity,
    hi = -Infinity;
  for (const v of values) {
    lo = Math.min(lo, v);
    hi = Math.max(hi, v);
  }
  return Float32Array.from(values, (v) => (hi > lo ? (v - lo) / (hi - lo) : 0.5));
}

export function writeArtifacts(dir: string, artifacts: readonly ArrayArtifact[]): WrittenArtifact[] {
  return artifacts.map((a) => {
    if (a.kind === 'predictions') {
      const files = [join(dir, 'predictions', 'images.npy'), join(dir, 'predictions', 'predictions.json')];
      writeNpy(files[0], a.data, a.shape);
      writeJson(files[1], a.meta);
      return { kind: a.kind, layer: a.layer, shape: a.shape, files, meta: a.meta };
    }
    const folder = join(dir, a.kind === 'filters' ? 'filters' : 'feature_maps');
    const base = join(folder, a.kind === 'inputs' ? 'input' : safe(a.layer));
    const files = [`${base}.npy`];
    writeNpy(files[0], a.data, a.shape);
    if (a.kind === 'filters') {
      if (a.shape.length === 4) {
        const { tiles, cols } = filterTiles(a.data, a.shape);
        files.push(`${base}.png`);
        writePng(files[1], tileGrid(tiles, { cols, zoom: Math.max(4, zoomFor(tiles, 24)), gap: 1, background: 255 }));
      }
    } else {
      for (let s = 0; s < a.shape[0]; s++) {
        const tiles = sampleTiles(a, s);
        const file = `${base}_sample${s}.png`;
        writePng(file, tileGrid(tiles, { zoom: zoomFor(tiles), gap: 2 }));
        files.push(file);
      }
    }
    return { kind: a.kind, layer: a.layer, shape: a.shape, files };
  });
}

function writeJson(file: string, value: unknown): void {
  ensureDir(dirname(file), 'output');
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(value));
  renameSync(tmp, file);
}
