/**
 * Imports run one way: cli → dashboard → report → lab → saving → train → nn → data and metrics → engine, with util beneath them
 * all. This test reads every import in src/ and fails on an import that runs upward or on files that import each
 * other, directly or around a longer loop (a cycle).
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const SRC = resolve(fileURLToPath(new URL('../../../src', import.meta.url)));
const LEVEL: Record<string, number> = {
  util: 0,
  engine: 1,
  data: 2,
  metrics: 2,
  nn: 3,
  train: 4,
  saving: 5,
  lab: 6,
  report: 7,
  dashboard: 8,
  cli: 9,
  api: 10,
};

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? files(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

function imports(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(/^\s*(?:import|export)\s[^'"]*?from\s+'(\.{1,2}\/[^']+)'/gm)].map((m) =>
    resolve(dirname(file), m[1].replace(/\.js$/, '.ts')),
  );
}

const rel = (f: string) => relative(SRC, f).split('\\').join('/');
const level = (f: string) => LEVEL[rel(f).split('/')[0]];

test('no import runs upward', () => {
  const found = new Set<string>();
  for (const f of files(SRC)) {
    if (rel(f) === 'index.ts') continue;
    for (const g of imports(f)) {
      if (level(f) !== undefined && level(g) !== undefined && level(g) > level(f)) found.add(`${rel(f)} → ${rel(g)}`);
    }
  }
  assert.deepEqual([...found], [], 'upward imports');
});

test('no files import each other, directly or around a loop', () => {
  const graph = new Map(files(SRC).map((f) => [f, imports(f)]));
  // Tarjan's strongly connected components.
  let index = 0;
  const idx = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const on = new Set<string>();
  const cycles: string[][] = [];
  const visit = (v: string) => {
    idx.set(v, index);
    low.set(v, index++);
    stack.push(v);
    on.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!graph.has(w)) continue;
      if (!idx.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (on.has(w)) low.set(v, Math.min(low.get(v)!, idx.get(w)!));
    }
    if (low.get(v) === idx.get(v)) {
      const scc: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        on.delete(w);
        scc.push(rel(w));
      } while (w !== v);
      if (scc.length > 1) cycles.push(scc.sort());
    }
  };
  for (const v of graph.keys()) if (!idx.has(v)) visit(v);
  const names = cycles.map((c) => c.join(' ⇄ ')).sort();
  assert.deepEqual(names, [], 'import cycles');
});
