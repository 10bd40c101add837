/** Small generated image datasets for loader tests: CIFAR binary batches, PNG/JPEG folders, and .tar.gz archives. */
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import { gzipSync } from 'node:zlib';
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { pack } from 'tar-stream';

/** One CIFAR binary record per (label, pixel function): label byte, then the red, green and blue planes. */
export function cifarRecords(items: { label: number; pixel: (y: number, x: number, c: number) => number }[]): Buffer {
  const out = Buffer.alloc(items.length * 3073);
  items.forEach((it, r) => {
    const o = r * 3073;
    out[o] = it.label;
    for (let c = 0; c < 3; c++)
      for (let y = 0; y < 32; y++) for (let x = 0; x < 32; x++) out[o + 1 + c * 1024 + y * 32 + x] = it.pixel(y, x, c);
  });
  return out;
}

export function pngBytes(width: number, height: number, rgb: (y: number, x: number) => [number, number, number]): Buffer {
  const png = new PNG({ width, height });
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) {
      const [r, g, b] = rgb(y, x);
      const o = (y * width + x) * 4;
      png.data[o] = r;
      png.data[o + 1] = g;
      png.data[o + 2] = b;
      png.data[o + 3] = 255;
    }
  return PNG.sync.write(png);
}

export function jpegBytes(width: number, height: number, rgb: (y: number, x: number) => [number, number, number]): Buffer {
  const data = Buffer.alloc(width * height * 4);
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) {
      const [r, g, b] = rgb(y, x);
      data.set([r, g, b, 255], (y * width + x) * 4);
    }
  return jpeg.encode({ data, width, height }, 95).data;
}

export function writeFileDeep(file: string, bytes: Uint8Array): void {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, bytes);
}

/** A .tar.gz of everything under dir, with paths prefixed by `prefix/` (as archives of one folder are). */
export async function tarGz(dir: string, file: string, prefix = ''): Promise<void> {
  const p = pack();
  const chunks: Buffer[] = [];
  p.on('data', (c: unknown) => chunks.push(c as Buffer));
  const done = new Promise<void>((resolve) => p.on('end', () => resolve()));
  const walk = (d: string) => {
    for (const name of readdirSync(d).sort()) {
      const full = join(d, name);
      const rel = (prefix ? `${prefix}/` : '') + relative(dir, full).split(sep).join('/');
      if (statSync(full).isDirectory()) {
        p.entry({ name: `${rel}/`, type: 'directory' });
        walk(full);
      } else p.entry({ name: rel }, readFileSync(full));
    }
  };
  walk(dir);
  p.finalize();
  await done;
  writeFileSync(file, gzipSync(Buffer.concat(chunks)));
}
