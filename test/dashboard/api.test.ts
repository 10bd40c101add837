/**
 * The dashboard's server without a browser: its JSON API over a hand-filled store (runs table, filters, sorting,
 * grouping, curves, sweep, trial, diff, CSV), that it never writes, that a study written by another connection shows
 * up, that artifacts outside the store are refused, and the headers every response carries.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Hono } from 'hono';
import { dashboardApp, startDashboard } from '../../src/dashboard/server.js';
import { SqliteStore, StoreError, workerId } from '../../src/lab/store.js';
import { runConvlab } from '../helpers/cli.js';
import { addRunningTrial, fixtureStore } from '../helpers/report_store.js';
import { noSqlite } from '../helpers/sqlite.js';
import { firstPassOnly } from '../helpers/passes.js';

const dir = mkdtempSync(join(tmpdir(), 'convlab-dashboard-'));
after(() => rmSync(dir, { recursive: true, force: true }));

describe('the dashboard API', { skip: noSqlite || firstPassOnly }, () => {
  let writer: SqliteStore;
  let reader: SqliteStore;
  let app: Hono;
  const get = async (url: string) => {
    const r = await app.request(url);
    return {
      status: r.status,
      headers: r.headers,
      body: r.headers.get('content-type')?.includes('json') ? await r.json() : await r.text(),
    };
  };
  before(() => {
    writer = fixtureStore(dir) as SqliteStore;
    reader = new SqliteStore(writer.root, { readonly: true });
    app = dashboardApp(reader, { allowedHosts: new Set(['localhost', '127.0.0.1']) });
  });
  after(() => {
    reader.close();
    writer.close();
  });

  test('the experiments list counts trials by status and names the best value of the key metric', async () => {
    const { status, body } = await get('http://localhost/api/experiments');
    assert.equal(status, 200);
    assert.equal(body.length, 1);
    assert.equal(body[0].name, 'fixture');
    assert.equal(body[0].trials, 8);
    assert.equal(body[0].counts.finished, 8);
    assert.equal(body[0].metric, 'val_accuracy');
    assert.ok(Math.abs(body[0].best - 0.89) < 1e-9, `best ${body[0].best}`);
  });

  test('the runs table has a row per trial with swept parameters, final and best metrics, epochs, time and speed', async () => {
    const { body } = await get('http://localhost/api/experiments/fixture/runs');
    assert.equal(body.rows.length, 8);
    const names = body.columns.map((c: { name: string }) => c.name);
    for (const c of [
      'variant',
      'learning_rate',
      'val_accuracy',
      'best_val_accuracy',
      'test_accuracy',
      'status',
      'epochs',
      'seconds',
      'images_per_s',
    ])
      assert.ok(names.includes(c), `${c} in ${names}`);
    assert.equal(body.sort, 'val_accuracy');
    assert.equal(body.desc, true);
    const accs = body.rows.map((r: { values: Record<string, number> }) => r.values.val_accuracy);
    assert.deepEqual(
      accs,
      [...accs].sort((a, b) => b - a),
    );
    assert.equal(body.rows[0].values.images_per_s, 2000);
    assert.equal(body.rows[0].values.epochs, 4);
  });

  test('sorting by a swept parameter or a metric, either way', async () => {
    const up = (await get('http://localhost/api/experiments/fixture/runs?sort=learning_rate&desc=0')).body;
    assert.deepEqual(
      up.rows.map((r: { values: Record<string, number> }) => r.values.learning_rate),
      [0.001, 0.001, 0.001, 0.001, 0.01, 0.01, 0.01, 0.01],
    );
    const down = (await get('http://localhost/api/experiments/fixture/runs?sort=test_accuracy&desc=0')).body;
    const xs = down.rows.map((r: { values: Record<string, number> }) => r.values.test_accuracy);
    assert.deepEqual(
      xs,
      [...xs].sort((a, b) => a - b),
    );
  });

  test('a filter expression on a swept parameter and the status keeps only the matching trials', async () => {
    const q = encodeURIComponent('learning_rate < 0.005 and status == finished and variant == "MaxPool"');
    const { status, body } = await get(`http://localhost/api/experiments/fixture/runs?filter=${q}`);
    assert.equal(status, 200);
    assert.equal(body.rows.length, 2);
    for (const r of body.rows) {
      assert.equal(r.values.learning_rate, 0.001);
      assert.equal(r.values.variant, 'MaxPool');
    }
    assert.equal(body.total, 8);
  });

  test('a filter naming an unknown column, or one that does not parse, is a 400 that says what is wrong', async () => {
    const unknown = await get(`http://localhost/api/experiments/fixture/runs?filter=${encodeURIComponent('lr < 1')}`);
    assert.equal(unknown.status, 400);
    assert.match(unknown.body.error, /the filter names "lr", which is no column here: expected one of .*learning_rate/);
    const broken = await get(`http://localhost/api/experiments/fixture/runs?filter=${encodeURIComponent('learning_rate <')}`);
    assert.equal(broken.status, 400);
    assert.match(broken.body.error, /the filter does not parse/);
    const group = await get('http://localhost/api/experiments/fixture/runs?group=nope');
    assert.equal(group.status, 400);
    assert.match(group.body.error, /cannot group by "nope": expected config or a swept parameter \(variant, learning_rate\)/);
    const sort = await get('http://localhost/api/experiments/fixture/runs?sort=nope');
    assert.equal(sort.status, 400);
    const missing = await get('http://localhost/api/experiments/nope/runs');
    assert.equal(missing.status, 400);
    assert.match(missing.body.error, /no experiment named "nope"/);
  });

  test('grouping by configuration gives repeats as mean ± std with n; by a parameter, one row per value', async () => {
    const { body } = await get('http://localhost/api/experiments/fixture/runs?group=config');
    assert.equal(body.rows.length, 4);
    for (const r of body.rows) {
      assert.equal(r.n, 2);
      assert.ok(Math.abs(r.std.val_accuracy - Math.SQRT1_2 * 0.01) < 1e-9, `std ${r.std.val_accuracy}`);
    }
    const byLr = (await get('http://localhost/api/experiments/fixture/runs?group=learning_rate&sort=label')).body;
    assert.deepEqual(
      byLr.rows.map((r: { label: string; n: number }) => [r.label, r.n]),
      [
        ['learning_rate=0.001', 4],
        ['learning_rate=0.01', 4],
      ],
    );
  });

  test('the CSV export has a header, one line per row, and quotes what a spreadsheet would run as a formula', async () => {
    const r = await app.request('http://localhost/api/experiments/fixture/runs.csv?group=config');
    assert.equal(r.status, 200);
    assert.match(r.headers.get('content-disposition') ?? '', /attachment; filename="fixture-runs.csv"/);
    const lines = (await r.text()).trim().split('\n');
    assert.equal(lines.length, 5);
    assert.match(lines[0], /^label,trials,n,variant,learning_rate,/);
    assert.match(lines[0], /val_accuracy_std/);
  });

  test('curves give every epoch of the asked trials, and a trial outside the experiment is refused', async () => {
    const { body } = await get('http://localhost/api/experiments/fixture/curves?trials=1,2');
    assert.equal(body.length, 2);
    assert.equal(body[0].epochs.length, 4);
    assert.equal(body[0].epochs[3].epoch, 3);
    assert.equal((await get('http://localhost/api/experiments/fixture/curves?trials=99')).status, 400);
    assert.equal((await get('http://localhost/api/experiments/fixture/curves?trials=x')).status, 400);
  });

  test('the sweep view gives each parameter (log-scaled where it spans decades) and its correlation with the metric', async () => {
    const { body } = await get('http://localhost/api/experiments/fixture/sweep?metric=val_accuracy');
    assert.equal(body.metric, 'val_accuracy');
    assert.deepEqual(
      body.params.map((p: { name: string }) => p.name),
      ['variant', 'learning_rate'],
    );
    const lr = body.correlations.find((c: { name: string }) => c.name === 'learning_rate');
    assert.ok(lr.pearson > 0.9, `pearson ${lr.pearson}`);
    assert.equal(body.correlations.find((c: { name: string }) => c.name === 'variant').pearson, null);
    assert.equal(body.points.length, 8);
    assert.equal((await get('http://localhost/api/experiments/fixture/sweep?metric=nope')).status, 400);
  });

  test("a trial gives its config, epochs, finals, evaluation and figures drawn by the report's code as SVG", async () => {
    const { body } = await get('http://localhost/api/trials/1');
    assert.equal(body.trial.id, 1);
    assert.equal(body.epochs.length, 4);
    assert.equal(body.finals.test.accuracy, 0.69);
    const figures = (await get('http://localhost/api/trials/1/figures')).body;
    const names = figures.map((f: { name: string }) => f.name);
    assert.ok(names.includes('curves_trial1'), names.join(', '));
    assert.ok(names.includes('confusion_trial1_test') && names.includes('confusion_trial1_test_normalized'), names.join(', '));
    assert.ok(
      names.some((n: string) => n.startsWith('feature_maps')),
      names.join(', '),
    );
    const svg = await app.request('http://localhost/api/trials/1/figures/0.svg');
    assert.equal(svg.headers.get('content-type'), 'image/svg+xml; charset=utf-8');
    assert.match(await svg.text(), /^<svg/);
    assert.equal((await get('http://localhost/api/trials/1/figures/99.svg')).status, 404);
    assert.equal((await get('http://localhost/api/trials/999')).status, 400);
    const summary = (await get('http://localhost/api/trials/1/summary')).body;
    assert.match(summary.summary, /Total params/);
  });

  test('the diff of two trials lists the config fields that differ', async () => {
    const { body } = await get('http://localhost/api/diff?a=1&b=3');
    assert.deepEqual(
      body.changes.map((c: { path: string }) => c.path),
      ['seed', 'train.optimizer.adam.learning_rate'].filter((p) => body.changes.some((c: { path: string }) => c.path === p)),
    );
    assert.ok(
      body.changes.some((c: { path: string; a: number; b: number }) => c.path === 'train.optimizer.adam.learning_rate' && c.a === 0.001),
    );
  });

  test('every response, errors included, carries a same-origin Content-Security-Policy; other Hosts are refused', async () => {
    for (const url of [
      'http://localhost/',
      'http://localhost/api/experiments',
      'http://localhost/api/nope',
      'http://localhost/api/trials/x',
    ]) {
      const r = await app.request(url);
      assert.match(r.headers.get('content-security-policy') ?? '', /default-src 'none'; script-src 'self'/, url);
      assert.equal(r.headers.get('x-content-type-options'), 'nosniff');
    }
    const rebound = await app.request('http://attacker.example/api/experiments');
    assert.equal(rebound.status, 421);
  });

  test('the dashboard is read-only: other methods are refused, the database file is unchanged, the connection cannot write', async () => {
    const file = join(writer.root, 'runs.db');
    writer.close();
    const before = createHash('sha256').update(readFileSync(file)).digest('hex');
    for (const method of ['POST', 'PUT', 'PATCH', 'DELETE']) {
      const r = await app.request('http://localhost/api/experiments', { method });
      assert.equal(r.status, 405, method);
    }
    for (const url of [
      '/api/experiments',
      '/api/experiments/fixture/runs',
      '/api/trials/1',
      '/api/trials/1/figures',
      '/api/experiments/fixture/sweep',
    ])
      assert.equal((await app.request(`http://localhost${url}`)).status, 200, url);
    assert.equal(createHash('sha256').update(readFileSync(file)).digest('hex'), before);
    assert.throws(() => reader.upsertExperiment('x', {}, null), /readonly/i);
    writer = new SqliteStore(writer.root);
  });

  test('a trial written by another connection appears, with a new data version and its worker, in the dashboard and in ls', async () => {
    const v0 = (await get('http://localhost/api/version')).body.version;
    const t = addRunningTrial(writer, { loss: 1, val_loss: 1.1, seconds: 1, samples_per_second: 100, rss_mb: 120, cpu_seconds: 1.5 });
    const v1 = (await get('http://localhost/api/version')).body.version;
    assert.notEqual(v1, v0);
    const rows = (await get('http://localhost/api/experiments/fixture/runs?filter=status%20%3D%3D%20running')).body.rows;
    assert.equal(rows.length, 1);
    assert.equal(rows[0].values.epochs, 1);
    assert.equal(rows[0].values.worker, workerId());
    assert.ok(rows[0].values.heard_s_ago >= 0 && rows[0].values.heard_s_ago < 60, `heard ${rows[0].values.heard_s_ago}`);
    const ls = runConvlab(['ls', 'fixture', '--store', writer.root]);
    assert.equal(ls.code, 0, ls.err);
    assert.match(ls.out, new RegExp(`Live\\s+running.*${workerId().replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}, heard \\d+ s ago`));
    writer.recordEpoch(t.id, 1, { loss: 0.8, val_loss: 0.9, seconds: 1, samples_per_second: 100, rss_mb: 121, cpu_seconds: 1.4 });
    const curve = (await get(`http://localhost/api/experiments/fixture/curves?trials=${t.id}`)).body[0];
    assert.deepEqual(
      curve.epochs.map((e: { loss: number }) => e.loss),
      [1, 0.8],
    );
    assert.equal(curve.epochs[1].rss_mb, 121);
  });

  test('artifacts: a registered file is served; paths that leave the store (.., %2e%2e, absolute, a symlink out) are refused', async () => {
    const ok = await app.request('http://localhost/api/trials/1/artifacts/filters/conv2d');
    assert.equal(ok.status, 200);
    const outside = join(dir, 'secret.txt');
    writeFileSync(outside, 'secret');
    mkdirSync(join(writer.root, 'trials', '2'), { recursive: true });
    symlinkSync(outside, join(writer.root, 'trials', '2', 'link.npy'));
    const bad: [string, string][] = [
      ['dotdot', '../secret.txt'],
      ['encoded', 'trials/%2e%2e/%2e%2e/secret.txt'],
      ['absolute', outside],
      ['symlink', 'trials/2/link.npy'],
    ];
    for (const [name, path] of bad) writer.addArtifact({ trialId: 2, kind: 'evil', name, path, meta: {} });
    for (const [name] of bad) {
      const r = await app.request(`http://localhost/api/trials/2/artifacts/evil/${name}`);
      assert.equal(r.status, 403, name);
      assert.doesNotMatch(await r.text(), /secret$/);
    }
    for (const url of [
      '/api/trials/1/artifacts/filters/..%2F..%2Fruns.db',
      '/api/trials/1/artifacts/..%2f/x',
      '/assets/..%2F..%2Fpackage.json',
    ])
      assert.equal((await app.request(`http://localhost${url}`)).status, 404, url);
  });

  test('a hostile experiment name comes back as data, never as markup', async () => {
    writer.upsertExperiment('<script>alert(1)</script>', { name: 'x' }, null);
    const { body } = await get('http://localhost/api/experiments');
    assert.ok(body.some((e: { name: string }) => e.name === '<script>alert(1)</script>'));
    const r = await app.request(`http://localhost/api/experiments/${encodeURIComponent('<script>alert(1)</script>')}/runs`);
    assert.equal(r.status, 200);
    assert.match(r.headers.get('content-type') ?? '', /application\/json/);
  });
});

describe('convlab dashboard from the command line', { skip: noSqlite || firstPassOnly }, () => {
  test('a store that does not exist, a file given as the store and a bad port are errors that say what was expected', () => {
    const missing = runConvlab(['dashboard', '--store', join(dir, 'none')]);
    assert.equal(missing.code, 2);
    assert.match(missing.err, /no run store at .*none \(no runs\.db there\)/);
    const port = runConvlab(['dashboard', '--store', join(dir, 'none'), '--port', 'http']);
    assert.equal(port.code, 2);
    assert.match(port.err, /--port: expected a port number from 0 to 65535, got 'http'/);
    writeFileSync(join(dir, 'notes.txt'), 'not a store');
    const file = runConvlab(['dashboard', '--store', join(dir, 'notes.txt')]);
    assert.equal(file.code, 2);
    assert.match(file.err, /notes\.txt: it is a file; expected the folder that holds runs\.db/);
    assert.doesNotMatch(missing.err + port.err + file.err, /at .*\.js:\d+/);
  });

  test('opening a missing store read-only creates nothing', () => {
    assert.throws(() => new SqliteStore(join(dir, 'nothing-here'), { readonly: true }), StoreError);
    assert.throws(() => readFileSync(join(dir, 'nothing-here', 'runs.db')));
  });

  test('a non-loopback --host is warned about (and one this machine lacks is a clear error)', () => {
    const r = runConvlab(['dashboard', '--store', join(dir, 'store'), '--host', '192.0.2.1', '--port', '0'], 20_000);
    assert.match(
      r.err,
      /warning: --host 192\.0\.2\.1 is not a loopback address: anyone who can reach this machine on that address can read the whole run store/,
    );
    assert.equal(r.code, 2);
    assert.match(r.err, /--host 192\.0\.2\.1 --port 0: cannot listen there \(EADDRNOTAVAIL\)/);
  });

  test('it serves on loopback by default', async () => {
    const d = await startDashboard({ store: join(dir, 'store'), port: 0 });
    try {
      assert.match(d.url, /^http:\/\/127\.0\.0\.1:\d+\/$/);
      const r = await fetch(`${d.url}api/experiments`);
      assert.equal(r.status, 200);
    } finally {
      await d.close();
    }
  });
});
