/**
 * Files and folders that convlab writes, made safe: names that become paths are checked, a path built from a name
 * stays inside its parent, output locations are checked before any work starts, folders are created one level at a
 * time (Node's recursive mkdir spins forever under /proc), and a folder is only ever replaced when convlab wrote it.
 * Nothing here deletes anything that convlab did not create.
 */
import {
  accessSync,
  closeSync,
  constants,
  existsSync,
  fsyncSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  renameSync,
  rmSync,
  type Stats,
  statSync,
  writeSync,
} from 'node:fs';
import { basename, dirname, join, relative, resolve, sep } from 'node:path';

/** A bad output path or name: what and where, and what was expected. The CLI exits with 2. */
export class OutputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'OutputError';
  }
}

/** Experiment names become folder names: letters, digits and `_ . + = @ -`, starting with a letter or digit. */
const EXPERIMENT_NAME = /^[\p{L}\p{N}][\p{L}\p{N}_.+=@-]{0,99}$/u;
/** Variant (trial) names appear in labels and files: the same, plus spaces, commas and parentheses. */
const VARIANT_NAME = /^[\p{L}\p{N}][\p{L}\p{N} _.,+=@()%#:-]{0,99}$/u;

/** Why `name` is not a safe experiment (or variant) name, or null when it is. */
export function nameProblem(name: string, kind: 'experiment' | 'variant'): string | null {
  const ok = kind === 'experiment' ? EXPERIMENT_NAME : VARIANT_NAME;
  if (typeof name !== 'string' || name.length === 0) return 'expected a non-empty name';
  if (name.includes('..') || !ok.test(name)) {
    const shown = JSON.stringify(name.length > 60 ? `${name.slice(0, 60)}…` : name);
    return kind === 'experiment'
      ? `${shown} is not a safe name: expected letters, digits and _ . + = @ - (at most 100, starting with a letter or digit, no '..'), since it names folders`
      : `${shown} is not a safe name: expected letters, digits, spaces and _ . , + = @ ( ) % # : - (at most 100, starting with a letter or digit, no '..')`;
  }
  return null;
}

/** `parent/name`, refusing any name whose resolved path leaves `parent` (checked after resolving). */
export function inside(parent: string, name: string, what: string): string {
  const root = resolve(parent);
  const full = resolve(root, name);
  const rel = relative(root, full);
  if (rel === '' || rel.startsWith('..') || rel.split(sep).includes('..') || resolve(root, rel) !== full) {
    throw new OutputError(`${what} ${JSON.stringify(name)}: the path ${full} would leave ${root}; expected a plain name`);
  }
  return full;
}

const describeCode = (code: string | undefined): string =>
  ({
    ENOSPC: 'no space left on the device',
    EACCES: 'permission denied',
    EPERM: 'operation not permitted',
    EROFS: 'read-only file system',
    ENOTDIR: 'a part of the path is a file, not a folder',
    EEXIST: 'it exists already',
    ENOENT: 'a part of the path does not exist and cannot be created there',
    EISDIR: 'it is a folder',
    ENAMETOOLONG: 'the name is too long',
    EDQUOT: 'disk quota exceeded',
  })[code ?? ''] ??
  code ??
  'unknown error';

/** A file-system error as one readable line: `<what> <path>: <reason> (<code>)`. */
export function fsProblem(what: string, path: string, e: unknown): OutputError {
  const code = (e as NodeJS.ErrnoException).code;
  return new OutputError(`${what} ${path}: ${describeCode(code)}${code ? ` (${code})` : ''}`);
}

/** The nearest existing ancestor of `path` (path itself when it exists) and the parts below it, outermost first. */
function existingAncestor(path: string): { base: string; missing: string[] } {
  let base = resolve(path);
  const missing: string[] = [];
  for (;;) {
    try {
      lstatSync(base);
      return { base, missing };
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOTDIR') {
        // A part above is a regular file: report that file.
        missing.unshift(basename(base));
        base = dirname(base);
        continue;
      }
      if (code !== 'ENOENT') throw e;
      const up = dirname(base);
      if (up === base) return { base, missing };
      missing.unshift(basename(base));
      base = up;
    }
  }
}

/** Creates `dir` and its missing parents one level at a time; every failure says which folder and why. */
export function ensureDir(dir: string, what: string): string {
  const full = resolve(dir);
  const { base, missing } = existingAncestor(full);
  if (!statSync(base).isDirectory()) {
    throw new OutputError(`${what} ${full}: ${base} is a file, not a folder`);
  }
  let at = base;
  for (const part of missing) {
    at = join(at, part);
    try {
      mkdirSync(at);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EEXIST' && statSync(at).isDirectory()) continue;
      throw fsProblem(`${what}: cannot create the folder`, at, e);
    }
  }
  return full;
}

/**
 * Checks, before any work, that `path` can be written as a file ('file') or a folder ('dir'): whatever exists of it
 * is of that kind, its nearest existing ancestor is a writable folder, and (for a folder that exists) it is
 * writable. Nothing is created.
 */
export function checkWritable(path: string, kind: 'file' | 'dir', what: string): void {
  const full = resolve(path);
  let stat: Stats | null;
  try {
    stat = statSync(full);
  } catch {
    stat = null;
  }
  if (stat) {
    if (kind === 'dir' && !stat.isDirectory())
      throw new OutputError(`${what} ${path}: it is a file; expected a folder (or a path that does not exist yet)`);
    if (kind === 'file' && stat.isDirectory()) throw new OutputError(`${what} ${path}: it is a folder; expected a file name`);
  }
  const { base } = existingAncestor(stat ? dirname(full) : full);
  const where = stat && kind === 'dir' ? full : base;
  if (!statSync(where).isDirectory()) throw new OutputError(`${what} ${path}: ${where} is a file, not a folder`);
  try {
    accessSync(where, constants.W_OK | constants.X_OK);
  } catch (e) {
    throw fsProblem(`${what} ${path}: cannot write in`, where, e);
  }
  if (full.startsWith('/proc/') || full.startsWith('/sys/'))
    throw new OutputError(
      `${what} ${path}: ${full.split('/')[1] === 'proc' ? '/proc' : '/sys'} is a kernel file system; choose a folder on a disk`,
    );
}

/**
 * Checks, before any work, that a folder can be written at `target`: its place is writable, and whatever is there
 * now is something `ours` recognises as written by convlab (it returns why not otherwise).
 */
export function checkReplaceable(target: string, what: string, ours: (dir: string) => string | null): void {
  checkWritable(target, 'dir', what);
  const why = existsSync(target) ? ours(resolve(target)) : null;
  if (why)
    throw new OutputError(
      `${what} ${target}: it exists and ${why}; convlab only replaces what it wrote, so choose another path or move it away yourself`,
    );
}

/** The first half of a replacement: checks `target` and makes a fresh hidden folder beside it. */
function beginReplace(target: string, what: string, ours: (dir: string) => string | null): { full: string; tmp: string } {
  const full = resolve(target);
  checkReplaceable(target, what, ours);
  const parent = ensureDir(dirname(full), what);
  try {
    return { full, tmp: mkdtempSync(join(parent, `.${basename(full)}.tmp-`)) };
  } catch (e) {
    throw fsProblem(`${what}: cannot create a temporary folder in`, parent, e);
  }
}

/** The second half: the new folder takes the target's place; the old one (checked as ours) goes only after that. */
function commitReplace(full: string, tmp: string): void {
  let old: string | null = null;
  try {
    if (existsSync(full)) {
      old = `${tmp}.old`;
      renameSync(full, old);
    }
    renameSync(tmp, full);
  } catch (e) {
    if (old && existsSync(old) && !existsSync(full)) renameSync(old, full);
    throw e;
  }
  if (old) rmSync(old, { recursive: true, force: true });
}

/**
 * Writes a folder that replaces `target` as a whole: `build` fills a fresh hidden folder beside it, which is then
 * renamed into place. An existing `target` is replaced only when `ours` says convlab wrote it (it returns why not
 * otherwise); the old one is removed only after the new one is in place. On any failure the temporary folder goes
 * and `target` is as it was.
 */
export async function replaceFolder<T>(
  target: string,
  what: string,
  ours: (dir: string) => string | null,
  build: (tmp: string) => T | Promise<T>,
): Promise<T> {
  const { full, tmp } = beginReplace(target, what, ours);
  try {
    const result = await build(tmp);
    commitReplace(full, tmp);
    return result;
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
}

/** replaceFolder for a synchronous `build`. */
export function replaceFolderSync<T>(target: string, what: string, ours: (dir: string) => string | null, build: (tmp: string) => T): T {
  const { full, tmp } = beginReplace(target, what, ours);
  try {
    const result = build(tmp);
    commitReplace(full, tmp);
    return result;
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
}

/**
 * Why `dir` is not a folder holding only what convlab writes there, or null when it is: every entry must match
 * `allowed` (paths relative to dir, '/' separators; folders are walked).
 */
export function foreignContent(dir: string, allowed: (rel: string, isDir: boolean) => boolean): string | null {
  let st: Stats;
  try {
    st = lstatSync(dir);
  } catch {
    return null;
  }
  if (!st.isDirectory()) return 'is not a folder';
  const walk = (d: string, prefix: string): string | null => {
    for (const name of readdirSync(d)) {
      const rel = prefix ? `${prefix}/${name}` : name;
      const s = lstatSync(join(d, name));
      if (!allowed(rel, s.isDirectory()) || s.isSymbolicLink()) return `holds '${rel}', which convlab did not write`;
      if (s.isDirectory()) {
        const inner = walk(join(d, name), rel);
        if (inner) return inner;
      }
    }
    return null;
  };
  return walk(dir, '');
}

/** Writes a file through a temporary one beside it and a rename, so it appears whole or not at all. */
export function writeFileAtomic(file: string, chunks: readonly Uint8Array[]): void {
  const tmp = join(dirname(file), `.${basename(file)}.${process.pid}.tmp`);
  const fd = openSync(tmp, 'w');
  try {
    for (const c of chunks) writeSync(fd, c);
    fsyncSync(fd);
    closeSync(fd);
    renameSync(tmp, file);
  } catch (e) {
    try {
      closeSync(fd);
    } catch {
      // already closed
    }
    rmSync(tmp, { force: true });
    throw e;
  }
}
