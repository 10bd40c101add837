/**
 * `convlab dashboard`: a read-only web app over a run store. Hono routes a JSON API (experiments, runs table, curves,
 * sweep, trial, diff, figures, artifacts) and serves the page's bundle, built by esbuild into dist/web at install.
 * Nothing else is fetched: no CDN, no other host. Every response carries a Content-Security-Policy that allows only
 * this origin; requests whose Host is not this server's (DNS rebinding) and every method but GET/HEAD are refused.
 */
import { existsSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type ServerType, serve } from '@hono/node-server';
import { Hono } from 'hono';
import { checkSpec } from '../lab/spec.js';
import { buildSpecModel } from '../lab/run_checks.js';
import { type RunStore, SqliteStore } from '../lab/store.js';
import { isPostgresUrl, LiveSnapshot } from '../lab/open_store.js';
import { confusionPlots, trialFigures } from '../report/collect.js';
import { renderSvg, type Figure } from '../report/render.js';
import { DashboardData, QueryError, type RunsQuery } from './data.js';

export const CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; font-src 'self'; " +
  "base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/** Where the built page lives: dist/web beside dist/src (this file is dist/src/dashboard/server.js). */
export function webDir(): string {
  return resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', 'web');
}

const ASSET_TYPES: Record<string, string> = {
  'app.js': 'text/javascript; charset=utf-8',
  'app.css': 'text/css; charset=utf-8',
};

export interface DashboardOptions {
  /** The page's files (index.html, app.js, app.css); default dist/web. */
  web?: string;
  /** The Host names requests may carry (a guard against DNS rebinding); every name when absent. */
  allowedHosts?: Set<string>;
}

/** The dashboard's app over an open store; `app.request()` serves tests without a socket. */
export function dashboardApp(store: RunStore & { dataVersion?: number }, options: DashboardOptions = {}): Hono {
  const data = new DashboardData(store);
  const web = options.web ?? webDir();
  const app = new Hono();
  const figureCache = new Map<string, { stamp: string; figures: Figure[] }>();

  app.use('*', async (c, next) => {
    c.header('Content-Security-Policy', CSP);
    c.header('X-Content-Type-Options', 'nosniff');
    c.header('Referrer-Policy', 'no-referrer');
    c.header('Cross-Origin-Resource-Policy', 'same-origin');
    c.header('X-Frame-Options', 'DENY');
    if (c.req.method !== 'GET' && c.req.method !== 'HEAD') return c.text('the dashboard is read-only', 405, { Allow: 'GET, HEAD' });
    // The request's URL carries the Host header's name (the Node adapter builds it from that header).
    const host = new URL(c.req.url).hostname.replace(/^\[|\]$/g, '');
    const allowed = options.allowedHosts;
    if (allowed && !allowed.has(host)) return c.text(`unknown Host ${JSON.stringify(host)}`, 421);
    await next();
  });

  app.onError((e, c) => {
    if (e instanceof QueryError) return c.json({ error: e.message }, 400);
    return c.json({ error: `internal error: ${e.message}` }, 500);
  });

  const page = () => {
    const file = join(web, 'index.html');
    if (!existsSync(file)) throw new Error(`the dashboard's page is not built (${file} is missing); run npm run build`);
    return readFileSync(file, 'utf8');
  };
  app.get('/', (c) => c.html(page()));
  app.get('/favicon.ico', (c) => c.body(null, 204));
  app.get('/assets/:file', (c) => {
    const name = c.req.param('file');
    const type = ASSET_TYPES[name];
    if (!type) return c.text('not found', 404);
    const file = join(web, name);
    if (!existsSync(file)) return c.text('not found', 404);
    return c.body(readFileSync(file), 200, { 'Content-Type': type, 'Cache-Control': 'no-cache' });
  });

  app.get('/api/version', (c) => c.json({ version: store.dataVersion ?? 0 }));
  app.get('/api/experiments', (c) => c.json(data.experiments()));
  const runsQuery = (q: (k: string) => string | undefined): RunsQuery => ({
    filter: q('filter'),
    sort: q('sort') || undefined,
    desc: q('desc') === undefined ? undefined : q('desc') === '1' || q('desc') === 'true',
    group: q('group') || undefined,
    all: q('all') === '1',
  });
  app.get('/api/experiments/:name/runs', (c) =>
    c.json(
      data.runs(
        c.req.param('name'),
        runsQuery((k) => c.req.query(k)),
      ),
    ),
  );
  app.get('/api/experiments/:name/runs.csv', (c) => {
    const t = data.runs(
      c.req.param('name'),
      runsQuery((k) => c.req.query(k)),
    );
    const cols = t.columns.map((col) => col.name);
    const header = [
      'label',
      'trials',
      'n',
      ...cols,
      ...cols.filter((n) => t.rows.some((r) => r.std[n] !== undefined)).map((n) => `${n}_std`),
    ];
    const lines = [header.map(csvCell).join(',')];
    const stds = header.slice(3 + cols.length).map((h) => h.slice(0, -4));
    for (const r of t.rows)
      lines.push(
        [r.label, r.trials.join(' '), r.n, ...cols.map((n) => r.values[n] ?? ''), ...stds.map((n) => r.std[n] ?? '')]
          .map(csvCell)
          .join(','),
      );
    const file = `${t.experiment.replace(/[^\w.-]+/g, '_')}-runs.csv`;
    return c.body(`${lines.join('\n')}\n`, 200, {
      'Content-Type': 'text/csv; charset=utf-8',
      'Content-Disposition': `attachment; filename="${file}"`,
    });
  });
  app.get('/api/experiments/:name/curves', (c) => {
    const ids = (c.req.query('trials') ?? '')
      .split(',')
      .filter((s) => s !== '')
      .map(trialId);
    return c.json(data.curves(c.req.param('name'), ids));
  });
  app.get('/api/experiments/:name/sweep', (c) => c.json(data.sweep(c.req.param('name'), c.req.query('metric') || undefined)));
  app.get('/api/trials/:id', (c) => c.json(data.trial(trialId(c.req.param('id')))));
  app.get('/api/trials/:id/summary', (c) => {
    const t = data.trial(trialId(c.req.param('id'))).trial;
    try {
      return c.json({ summary: buildSpecModel(checkSpec(t.config)).summary({ print: () => {} }) });
    } catch (e) {
      return c.json({ summary: null, error: `the model cannot be built: ${(e as Error).message}` });
    }
  });
  const figuresOf = (id: number): Figure[] => {
    const t = data.trial(id).trial;
    const stamp = `${t.status}|${t.epochsDone}|${t.finishedAt}|${store.artifacts(id).length}|${JSON.stringify(store.extra(id)).length}`;
    const known = figureCache.get(String(id));
    if (known && known.stamp === stamp) return known.figures;
    // Each confusion matrix twice: counts, and normalized (each true class's row sums to 100%).
    const all = trialFigures(store, t).flatMap((f) => {
      if (!f.name.startsWith('confusion_')) return [f];
      const split = f.name.slice(f.name.lastIndexOf('_') + 1);
      const [counts] = confusionPlots(store, t, { split, percent: false });
      const [share] = confusionPlots(store, t, { split, percent: true });
      return [
        { ...counts, title: `${counts.title} (counts)` },
        { ...share, name: `${share.name}_normalized`, title: `${share.title} (normalized)` },
      ];
    });
    figureCache.set(String(id), { stamp, figures: all });
    return all;
  };
  app.get('/api/trials/:id/figures', (c) =>
    c.json(figuresOf(trialId(c.req.param('id'))).map((f, i) => ({ index: i, name: f.name, title: f.title, caption: f.caption ?? null }))),
  );
  app.get('/api/trials/:id/figures/:file', async (c) => {
    const m = /^(\d+)\.svg$/.exec(c.req.param('file'));
    if (!m) return c.text('not found', 404);
    const f = figuresOf(trialId(c.req.param('id')))[Number(m[1])];
    if (!f) return c.text('not found', 404);
    return c.body(await renderSvg(f), 200, { 'Content-Type': 'image/svg+xml; charset=utf-8' });
  });
  app.get('/api/diff', (c) => c.json(data.diff(trialId(c.req.query('a') ?? ''), trialId(c.req.query('b') ?? ''))));
  app.get('/api/trials/:id/artifacts/:kind/:name', (c) => {
    const id = trialId(c.req.param('id'));
    const art = store.artifacts(id).find((a) => a.kind === c.req.param('kind') && a.name === c.req.param('name'));
    if (!art) return c.text('no such artifact', 404);
    const file = confinedFile(store.root, art.path);
    if (!file) return c.text('refused: the artifact is not a file inside the run store', 403);
    return c.body(readFileSync(file), 200, {
      'Content-Type': 'application/octet-stream',
      'Content-Disposition': `attachment; filename="${art.name.replace(/[^\w.-]+/g, '_')}"`,
    });
  });
  app.notFound((c) => (c.req.path.startsWith('/api/') ? c.json({ error: `no such route: ${c.req.path}` }, 404) : c.text('not found', 404)));
  return app;
}

function trialId(s: string): number {
  if (!/^\d+$/.test(s)) throw new QueryError(`${JSON.stringify(s)} is no trial id: expected a number such as 12`);
  return Number(s);
}

function csvCell(v: unknown): string {
  const s = typeof v === 'number' ? String(v) : String(v ?? '');
  // A leading =, +, - or @ would be read as a formula by a spreadsheet: quote it with a leading apostrophe.
  const safe = /^[=+\-@\t\r]/.test(s) && typeof v !== 'number' ? `'${s}` : s;
  return /[",\n\r]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

/**
 * A registered artifact's file, only when its stored path is relative, stays under the store's folder, and (after
 * following symbolic links) is a regular file still under that folder. Anything else is null.
 */
export function confinedFile(root: string, stored: string): string | null {
  if (isAbsolute(stored) || stored.split(/[\\/]/).includes('..') || /%2e|%2f|%5c/i.test(stored)) return null;
  const full = resolve(root, stored);
  if (relative(root, full).startsWith('..')) return null;
  try {
    const real = realpathSync(full);
    const realRoot = realpathSync(root);
    if (real !== realRoot && !real.startsWith(realRoot + sep)) return null;
    return statSync(real).isFile() ? real : null;
  } catch {
    return null;
  }
}

export interface RunningDashboard {
  url: string;
  server: ServerType;
  store: RunStore;
  close(): Promise<void>;
}

/** The store as the dashboard reads it: SQLite through a read-only connection, PostgreSQL as a live snapshot. */
async function openForReading(ref: string): Promise<{ store: RunStore & { dataVersion?: number }; close: () => Promise<void> }> {
  if (isPostgresUrl(ref)) {
    const view = await LiveSnapshot.open(ref);
    return { store: view, close: () => view.shutdown() };
  }
  const store = new SqliteStore(ref, { readonly: true });
  return { store, close: async () => store.close() };
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1']);

export function isLoopback(host: string): boolean {
  return LOOPBACK.has(host) || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/** Opens the store read-only and serves the dashboard on host:port (port 0: any free port). */
export async function startDashboard(options: { store: string; host?: string; port?: number; web?: string }): Promise<RunningDashboard> {
  const { store, close } = await openForReading(options.store);
  const host = options.host ?? '127.0.0.1';
  // On loopback, only requests addressed to loopback names: a page elsewhere cannot reach this server by DNS rebinding.
  const allowedHosts = isLoopback(host) ? new Set(['127.0.0.1', 'localhost', '::1', host]) : undefined;
  const app = dashboardApp(store, { web: options.web, allowedHosts });
  return new Promise((resolvePromise, reject) => {
    const server = serve({ fetch: app.fetch, hostname: host, port: options.port ?? 4700 }, (info) => {
      const shown = info.address.includes(':') ? `[${info.address}]` : info.address;
      resolvePromise({
        url: `http://${shown}:${info.port}/`,
        server,
        store,
        close: () =>
          new Promise((done) => {
            server.close(() => void close().then(done));
          }),
      });
    });
    server.on('error', (e: NodeJS.ErrnoException) => {
      void close();
      reject(
        e.code === 'EADDRINUSE'
          ? new QueryError(`port ${options.port} on ${host} is in use; choose another with --port (0 picks a free one)`)
          : e,
      );
    });
  });
}
