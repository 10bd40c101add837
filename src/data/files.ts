/**
 * The files of a dataset, from a directory tree or a .tar.gz of one, as (relative path, bytes) pairs. Archives are
 * read in one streaming pass (gunzip + tar-stream); nothing is extracted to disk.
 */
import { createReadStream, existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { extract } from 'tar-stream';
import { DataError } from './errors.js';

export interface FileEntry {
  /** Path relative to the tree's root, with '/' separators. */
  path: string;
  bytes: Uint8Array;
}

export interface Tree {
  files: FileEntry[];
  /** Every directory (relative, '/' separators, no trailing slash), so empty folders can be reported. */
  dirs: string[];
}

export function isTarGz(path: string): boolean {
  return /\.(tar\.gz|tgz)$/i.test(path);
}

/** Every regular file under dir (sorted by path), read into memory. */
export function readTree(dir: string, keep: (path: string) => boolean = () => true): Tree {
  if (!existsSync(dir)) throw new DataError(`${dir}: directory not found`);
  if (!statSync(dir).isDirectory()) throw new DataError(`${dir}: not a directory`);
  const files: FileEntry[] = [];
  const dirs: string[] = [];
  const walk = (d: string) => {
    for (const name of readdirSync(d).sort()) {
      const full = join(d, name);
      const st = statSync(full);
      const rel = relative(dir, full).split(sep).join('/');
      if (st.isDirectory()) {
        dirs.push(rel);
        walk(full);
      } else if (st.isFile() && keep(rel)) files.push({ path: rel, bytes: readFileSync(full) });
    }
  };
  walk(dir);
  return { files, dirs };
}

/** Every regular file in a .tar.gz (sorted by path). A truncated or corrupt archive is reported with its name. */
export async function readTarGz(file: string, keep: (path: string) => boolean = () => true): Promise<Tree> {
  if (!existsSync(file)) throw new DataError(`${file}: file not found`);
  const out: FileEntry[] = [];
  const dirs: string[] = [];
  const ex = extract();
  ex.on('entry', (header, stream, next) => {
    const path = header.name.replace(/^\.\//, '').replace(/\/$/, '');
    const wanted = header.type === 'file' && keep(path);
    const chunks: Buffer[] = [];
    // When the archive breaks off inside this entry, its stream fails too; the pipeline below reports that.
    stream.on('error', () => {});
    if (wanted) stream.on('data', (c: unknown) => chunks.push(c as Buffer));
    stream.on('end', () => {
      if (header.type === 'directory') dirs.push(path);
      else if (wanted) out.push({ path, bytes: Buffer.concat(chunks) });
      next();
    });
    stream.resume();
  });
  // Streamed: the archive is never held in memory whole, only the files kept from it.
  try {
    await pipeline(createReadStream(file), createGunzip(), ex);
  } catch (e) {
    const msg = (e as Error).message;
    throw new DataError(
      `${file}: ${/gzip|header|zlib|incorrect|unexpected end/i.test(msg) ? 'truncated or corrupt .tar.gz' : 'unreadable archive'} (${msg})`,
    );
  }
  out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  // Directories implied by file paths count too (archives need not list them).
  const all = new Set(dirs.filter((d) => d !== '' && d !== '.'));
  for (const f of out) {
    const parts = f.path.split('/');
    for (let i = 1; i < parts.length; i++) all.add(parts.slice(0, i).join('/'));
  }
  return { files: out, dirs: [...all].sort() };
}

/** A tree given as a directory or a .tar.gz. */
export async function readFiles(path: string, keep?: (path: string) => boolean): Promise<Tree> {
  return isTarGz(path) ? readTarGz(path, keep) : readTree(path, keep);
}
