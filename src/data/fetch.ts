/**
 * `convlab data fetch`: downloads the official Fashion-MNIST and CIFAR-10 (binary) files where a network exists,
 * checks each against its published checksum before anything is written, and writes through a temporary file and
 * a rename, so a failed or interrupted download leaves nothing behind. CONVLAB_DATA_MIRROR replaces the official
 * base URLs (a local mirror, or tests).
 */
import { createHash } from 'node:crypto';
import { renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { DataError } from './errors.js';
import { FASHION_MNIST_SHA256 } from './fashion_mnist.js';
import { ensureDir } from '../util/safe_fs.js';

interface Download {
  url: string;
  /** Where it goes, relative to the data folder. */
  file: string;
  /** Checks the downloaded bytes; returns null when they are right, else what was found. */
  check: (bytes: Buffer) => { expected: string; found: string } | null;
}

const FASHION_BASE = 'http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/';
const CIFAR_BASE = 'https://www.cs.toronto.edu/~kriz/';
/** The md5 the CIFAR-10 page publishes for cifar-10-binary.tar.gz. */
const CIFAR_BINARY_MD5 = 'c32a1d4ab5d03f1284b67883e8d87530';

function base(official: string): string {
  const mirror = process.env.CONVLAB_DATA_MIRROR;
  return mirror ? (mirror.endsWith('/') ? mirror : `${mirror}/`) : official;
}

function downloads(name: string): Download[] {
  if (name === 'fashion-mnist') {
    return Object.entries(FASHION_MNIST_SHA256).map(([file, sha]) => ({
      url: `${base(FASHION_BASE)}${file}.gz`,
      file: join('fashion-mnist', `${file}.gz`),
      check: (bytes) => {
        let found: string;
        try {
          found = createHash('sha256').update(gunzipSync(bytes)).digest('hex');
        } catch {
          found = 'not gzip data';
        }
        return found === sha ? null : { expected: `sha256 ${sha} (decompressed)`, found };
      },
    }));
  }
  if (name === 'cifar10') {
    return [
      {
        url: `${base(CIFAR_BASE)}cifar-10-binary.tar.gz`,
        file: 'cifar-10-binary.tar.gz',
        check: (bytes) => {
          const found = createHash('md5').update(bytes).digest('hex');
          return found === CIFAR_BINARY_MD5 ? null : { expected: `md5 ${CIFAR_BINARY_MD5}`, found };
        },
      },
    ];
  }
  throw new DataError(`cannot fetch '${name}': expected fashion-mnist or cifar10 (MNIST is built in)`);
}

/** Downloads every file of the dataset into dir; returns the paths written. */
export async function fetchDataset(name: string, dir: string, log: (line: string) => void = () => {}): Promise<string[]> {
  const list = downloads(name);
  // Everything is downloaded and checked before the first file is written.
  const got: { file: string; bytes: Buffer }[] = [];
  for (const d of list) {
    log(`downloading ${d.url}`);
    let bytes: Buffer;
    try {
      const res = await fetch(d.url);
      if (!res.ok) throw new Error(`HTTP ${res.status} ${res.statusText}`);
      bytes = Buffer.from(await res.arrayBuffer());
    } catch (e) {
      const cause = (e as { cause?: { message?: string } }).cause?.message;
      throw new DataError(
        `${d.url}: download failed (${(e as Error).message}${cause ? `: ${cause}` : ''}); no network here? Copy the files by hand into ${dir} instead`,
      );
    }
    const bad = d.check(bytes);
    if (bad) throw new DataError(`${d.url}: checksum mismatch: expected ${bad.expected}, got ${bad.found}; nothing was written`);
    got.push({ file: d.file, bytes });
  }
  const written: string[] = [];
  for (const g of got) {
    const target = join(dir, g.file);
    ensureDir(join(target, '..'), 'data cache');
    const tmp = `${target}.${process.pid}.tmp`;
    try {
      writeFileSync(tmp, g.bytes);
      renameSync(tmp, target);
    } catch (e) {
      rmSync(tmp, { force: true });
      throw new DataError(`${target}: could not write (${(e as Error).message})`);
    }
    written.push(target);
  }
  return written;
}
