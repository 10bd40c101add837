/**
 * The decoded-dataset cache: decoding (JPEG, gunzip, tar) happens once; afterwards the uint8 arrays are read back
 * in one bulk read. Entries live in $CONVLAB_CACHE (default ~/.cache/convlab, or $XDG_CACHE_HOME/convlab), keyed
 * by the source's path, size and modification time plus the decoding options. An entry is written to a temporary
 * file and renamed into place, so a half-written cache is never read.
 */
import { createHash } from 'node:crypto';
import { closeSync, existsSync, fsyncSync, openSync, readFileSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Dataset, ImageSet } from './dataset.js';
import { ensureDir } from '../util/safe_fs.js';

const MAGIC = 'convlab-dataset-cache v2\n';

export function cacheDir(): string {
  if (process.env.CONVLAB_CACHE) return process.env.CONVLAB_CACHE;
  const base = process.env.XDG_CACHE_HOME || join(homedir(), '.cache');
  return join(base, 'convlab');
}

/**
 * A cache key for a source file or folder (its path, size and modification time) and the options it was decoded
 * with; with fromFile false (generated data) the options alone.
 */
export function cacheKey(name: string, source: string, options: unknown, fromFile = true): string {
  let parts: unknown[] = [options];
  if (fromFile) {
    const abs = resolve(source);
    const st = statSync(abs);
    parts = [abs, st.size, st.mtimeMs, options];
  }
  const h = createHash('sha256').update(JSON.stringify(parts)).digest('hex').slice(0, 16);
  return `${name}-${h}`;
}

interface Header {
  name: string;
  classNames: string[];
  source: string;
  sets: { count: number; height: number; width: number; channels: number; targets: string[] }[];
}

/** The cached dataset for key, or null when there is none (or it cannot be read: then it is decoded again). */
export function readCache(key: string): Dataset | null {
  const file = join(cacheDir(), `${key}.bin`);
  if (!existsSync(file)) return null;
  try {
    const buf = readFileSync(file);
    const magic = buf.subarray(0, MAGIC.length).toString('latin1');
    if (magic !== MAGIC) return null;
    const hlen = buf.readUInt32LE(MAGIC.length);
    const header = JSON.parse(buf.subarray(MAGIC.length + 4, MAGIC.length + 4 + hlen).toString('utf8')) as Header;
    let off = MAGIC.length + 4 + hlen;
    const sets: ImageSet[] = header.sets.map((s) => {
      const pixels = s.count * s.height * s.width * s.channels;
      const images = new Uint8Array(buf.buffer, buf.byteOffset + off, pixels);
      off += pixels;
      off = (off + 3) & ~3;
      const labels = new Int32Array(buf.buffer.slice(buf.byteOffset + off, buf.byteOffset + off + 4 * s.count));
      off += 4 * s.count;
      const targets: Record<string, Float32Array> = {};
      for (const name of s.targets) {
        targets[name] = new Float32Array(buf.buffer.slice(buf.byteOffset + off, buf.byteOffset + off + 4 * s.count));
        off += 4 * s.count;
      }
      const { count, height, width, channels } = s;
      return { images, labels, count, height, width, channels, ...(s.targets.length ? { targets } : {}) };
    });
    if (off !== buf.length || sets.length !== 2) return null;
    return { name: header.name, classNames: header.classNames, source: header.source, train: sets[0], test: sets[1] };
  } catch {
    return null;
  }
}

/** Writes the dataset under key: to a temporary file first, renamed into place once complete. */
export function writeCache(key: string, d: Dataset): void {
  const dir = cacheDir();
  ensureDir(dir, 'data cache');
  const file = join(dir, `${key}.bin`);
  const tmp = `${file}.${process.pid}.tmp`;
  const header: Header = {
    name: d.name,
    classNames: d.classNames,
    source: d.source,
    sets: [d.train, d.test].map((s) => ({
      count: s.count,
      height: s.height,
      width: s.width,
      channels: s.channels,
      targets: Object.keys(s.targets ?? {}),
    })),
  };
  const hbytes = Buffer.from(JSON.stringify(header), 'utf8');
  const fd = openSync(tmp, 'w');
  try {
    let off = 0;
    const put = (b: Uint8Array) => {
      writeSync(fd, b);
      off += b.length;
    };
    put(Buffer.from(MAGIC, 'latin1'));
    const len = Buffer.alloc(4);
    len.writeUInt32LE(hbytes.length);
    put(len);
    put(hbytes);
    for (const s of [d.train, d.test]) {
      put(s.images.subarray(0, s.count * s.height * s.width * s.channels));
      const pad = ((off + 3) & ~3) - off;
      if (pad) put(new Uint8Array(pad));
      put(new Uint8Array(s.labels.buffer, s.labels.byteOffset, 4 * s.count));
      for (const v of Object.values(s.targets ?? {})) put(new Uint8Array(v.buffer, v.byteOffset, 4 * s.count));
    }
    fsyncSync(fd);
  } catch (e) {
    closeSync(fd);
    rmSync(tmp, { force: true });
    throw e;
  }
  closeSync(fd);
  renameSync(tmp, file);
}

/** The dataset from the cache, or decoded by load() and then cached (a cache that cannot be written is skipped). */
export async function cached(key: string, load: () => Promise<Dataset>): Promise<Dataset & { fromCache: boolean }> {
  const hit = readCache(key);
  if (hit) return { ...hit, fromCache: true };
  const d = await load();
  try {
    writeCache(key, d);
  } catch (e) {
    process.stderr.write(`convlab: could not write the dataset cache in ${cacheDir()} (${(e as Error).message}); continuing without it\n`);
  }
  return { ...d, fromCache: false };
}
