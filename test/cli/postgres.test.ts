/**
 * The command line on a PostgreSQL store, as a team uses it: `run --store postgres://...` (in this process and with
 * two worker processes), `train`, then ls, compare and show reading it, with the same numbers as the same study in
 * a SQLite store; a second run finds everything finished; a wrong password is exit 2 without the password. The
 * server is started by the test from Debian's binaries (skipped, visibly, where they are missing).
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileWriter, runConvlab } from '../helpers/cli.js';
import { noPostgres, PG_PASSWORD, startPostgres, type TestPostgres } from '../helpers/postgres.js';
import { noSqlite } from '../helpers/sqlite.js';
import { startDashboard } from '../../src/dashboard/server.js';
import { SnapshotStore } from '../../src/lab/open_store.js';
import { PostgresStore } from '../../src/lab/pg_store.js';
import { firstPassOnly } from '../helpers/passes.js';

const dir = mkdtempSync(join(tmpdir(), 'convlab-cli-pg-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const file = fileWriter(dir);
const BIN = fileURLToPath(new URL('../../../bin/convlab.js', import.meta.url));

const spec = () =>
  file(
    'pgstudy.yaml',
    `
name: pgstudy
seed: 4
data: {dataset: mnist, subset: {train: 200}, validation: {count: 50}}
model:
  input: [28, 28, 1]
  layers:
    - Conv2D: {filters: 3, kernel_size: 3, activation: relu}
    - MaxPooling2D: {}
    - Flatten: {}
    - Dense: {units: 10, activation: softmax}
train: {epochs: 2, batch_size: 50}
sweep:
  grid:
    train.optimizer: [adam, sgd, rmsprop]
`,
  );

describe('the command line on a PostgreSQL store', { skip: noSqlite || noPostgres || firstPassOnly }, () => {
  let server: TestPostgres;
  let url: string;
  before(async () => {
    server = await startPostgres();
    url = await server.database('cli');
  });
  after(async () => {
    await server?.stop();
  });

  const withEnv = (vars: Record<string, string>, fn: () => void) => {
    const saved = Object.fromEntries(Object.keys(vars).map((k) => [k, process.env[k]]));
    Object.assign(process.env, vars);
    try {
      fn();
    } finally {
      for (const [k, v] of Object.entries(saved))
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
    }
  };

  test('run records a study there; compare reads the same numbers as the same study in SQLite', () => {
    const s = spec();
    withEnv({ CONVLAB_ARTIFACTS: join(dir, 'artifacts') }, () => {
      const r = runConvlab(['run', s, '--store', url, '--quiet']);
      assert.equal(r.code, 0, r.err);
      assert.match(r.out, /Experiment pgstudy: 3 trials, 0 already finished; store postgres:\/\/convlab:\*\*\*@127\.0\.0\.1/);
      assert.doesNotMatch(r.out + r.err, new RegExp(PG_PASSWORD));
    });
    const onPg = runConvlab(['compare', 'pgstudy', '--store', url, '--json']);
    assert.equal(onPg.code, 0, onPg.err);
    const local = runConvlab(['run', s, '--store', join(dir, 'sqlite'), '--quiet']);
    assert.equal(local.code, 0, local.err);
    const onSqlite = runConvlab(['compare', 'pgstudy', '--store', join(dir, 'sqlite'), '--json']);
    const rows = (out: string) =>
      (JSON.parse(out).rows as { model: string; test_accuracy: number; val_loss: number; params: number }[])
        .map((row) => [row.model, row.test_accuracy, row.val_loss, row.params])
        .sort();
    assert.deepEqual(rows(onPg.out), rows(onSqlite.out));
    assert.equal(rows(onPg.out).length, 3);
  });

  test('output into a pipe that closes early (| head) ends compare quietly, without a stack trace', () => {
    // The reader's connection keeps the process alive after its last write, so the broken pipe surfaces there.
    const r = spawnSync('bash', ['-c', `node ${BIN} compare pgstudy --store "$URL" | true; exit \${PIPESTATUS[0]}`], {
      env: { ...process.env, URL: url },
      encoding: 'utf8',
    });
    assert.equal(r.status, 0, r.stderr);
    assert.doesNotMatch(r.stderr, /EPIPE|Unhandled/);
  });

  test('ls and show read it; a second run finds every trial finished', () => {
    const ls = runConvlab(['ls', '--store', url]);
    assert.equal(ls.code, 0, ls.err);
    assert.match(ls.out, /pgstudy\s+3\s+3/);
    const show = runConvlab(['show', '1', '--store', url]);
    assert.equal(show.code, 0, show.err);
    assert.match(show.out, /History:/);
    withEnv({ CONVLAB_ARTIFACTS: join(dir, 'artifacts') }, () => {
      const again = runConvlab(['run', spec(), '--store', url, '--quiet']);
      assert.equal(again.code, 0, again.err);
      assert.match(again.out, /3 trials, 3 already finished/);
    });
  });

  test('two worker processes share a fresh study through the store and finish every trial', () => {
    withEnv({ CONVLAB_ARTIFACTS: join(dir, 'artifacts'), CONVLAB_STORE: url }, () => {
      const r = runConvlab(['run', spec(), '--fresh', '--parallel', '2', '--json']);
      assert.equal(r.code, 0, r.err);
      const trials = JSON.parse(r.out).trials as { status: string }[];
      assert.deepEqual(
        trials.map((t) => t.status),
        ['finished', 'finished', 'finished'],
      );
    });
    const compare = JSON.parse(runConvlab(['compare', 'pgstudy', '--store', url, '--json']).out);
    assert.equal(compare.rows.length, 3);
  });

  test('evaluate records a confusion matrix and feature maps there, which show, plot and predict then read on another machine', () => {
    // Another machine: its own artifacts folder, empty; the model and the feature maps come from the database.
    withEnv({ CONVLAB_ARTIFACTS: join(dir, 'elsewhere') }, () => {
      const ev = runConvlab(['evaluate', '1', '--store', url, '--confusion-matrix', '--feature-maps', 'conv2d']);
      assert.equal(ev.code, 0, ev.err);
      assert.match(ev.out, /recorded feature_maps conv2d/);
    });
    withEnv({ CONVLAB_ARTIFACTS: join(dir, 'third-machine') }, () => {
      const show = runConvlab(['show', '1', '--store', url]);
      assert.match(show.out, /Confusion matrix \(test/);
      const plot = runConvlab(['plot', 'confusion', '1', '--store', url, '--out', join(dir, 'confusion.png')]);
      assert.equal(plot.code, 0, plot.err);
      const maps = runConvlab(['plot', 'feature-maps', '1', '--store', url, '--out', join(dir, 'maps.png')]);
      assert.equal(maps.code, 0, maps.err);
      assert.ok(existsSync(join(dir, 'third-machine', 'trials', '1', 'artifacts')));
      const save = runConvlab(['data', 'save', 'mnist', '--index', '0', '--out', join(dir, 'digit.png')]);
      assert.equal(save.code, 0, save.err);
      const predict = runConvlab(['predict', '1', join(dir, 'digit.png'), '--store', url, '--json']);
      assert.equal(predict.code, 0, predict.err);
    });
  });

  test('train records a one-trial experiment there', () => {
    withEnv({ CONVLAB_ARTIFACTS: join(dir, 'artifacts') }, () => {
      const r = runConvlab(['train', spec(), '--store', url, '--quiet']);
      assert.equal(r.code, 0, r.err);
      assert.match(r.out, /Recorded as trial #\d+ of experiment pgstudy\.train in postgres:\/\/convlab:\*\*\*@/);
    });
  });

  test('two runs of the same study at once (two machines) share its trials through the store and finish them all', async () => {
    const shared = await server.database('shared');
    const study = spec();
    const start = () => {
      const child = spawn(process.execPath, [BIN, 'run', study, '--quiet'], {
        env: { ...process.env, CONVLAB_STORE: shared, CONVLAB_ARTIFACTS: join(dir, 'artifacts-shared') },
      });
      let err = '';
      child.stderr.on('data', (d) => (err += d));
      return new Promise<{ code: number | null; err: string }>((done) => child.on('exit', (code) => done({ code, err })));
    };
    const results = await Promise.all([start(), start()]);
    for (const r of results) assert.equal(r.code, 0, r.err);
    const check = new pg.Client({ connectionString: shared });
    await check.connect();
    const rows = (
      await check.query(
        `SELECT status, worker, (SELECT COUNT(*)::int FROM convlab.epochs e WHERE e.trial_id = t.id) AS epochs FROM convlab.trials t`,
      )
    ).rows;
    await check.end();
    assert.equal(rows.length, 3);
    for (const r of rows) {
      assert.equal(r.status, 'finished');
      assert.equal(r.epochs, 2);
    }
  });

  test('the server stopped for 10 s in the middle of a study: the run waits, goes on, and loses or repeats nothing', async () => {
    const study = file(
      'outage.yaml',
      `
name: outage
seed: 1
data: {dataset: mnist, subset: {train: 10000}, validation: {count: 500}}
model:
  input: [28, 28, 1]
  layers:
    - Flatten: {}
    - Dense: {units: 10, activation: softmax}
train: {epochs: 10, batch_size: 100, optimizer: {sgd: {learning_rate: 0.1}}}
sweep:
  grid:
    train.optimizer.sgd.learning_rate: [0.01, 0.02, 0.05, 0.1, 0.2, 0.5]
`,
    );
    const outageUrl = await server.database('outage');
    const child = spawn(process.execPath, [BIN, 'run', study, '--store', outageUrl, '--quiet'], {
      env: { ...process.env, CONVLAB_ARTIFACTS: join(dir, 'artifacts-outage'), CONVLAB_PG_RETRY_SECONDS: '120' },
    });
    let err = '';
    child.stderr.on('data', (d) => (err += d));
    const exited = new Promise<number | null>((done) => child.on('exit', (code) => done(code)));
    // As soon as the first epoch is recorded, the server goes away for 10 s.
    const probe = new pg.Client({ connectionString: outageUrl });
    await probe.connect();
    for (let i = 0; i < 600; i++) {
      const r = await probe.query(`SELECT to_regclass('convlab.epochs') IS NOT NULL AS ready`);
      if (r.rows[0].ready && (await probe.query('SELECT COUNT(*)::int AS n FROM convlab.epochs')).rows[0].n > 0) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    await probe.end();
    await server.pause(10_000);
    assert.equal(await exited, 0, err);
    assert.match(err, /is unreachable .*waiting for it/);
    assert.match(err, /is back after \d+ s/);
    const check = new pg.Client({ connectionString: outageUrl });
    await check.connect();
    const trials = (
      await check.query(`SELECT status, (SELECT COUNT(*)::int FROM convlab.epochs e WHERE e.trial_id = t.id) AS epochs,
      (SELECT COUNT(DISTINCT epoch)::int FROM convlab.epochs e WHERE e.trial_id = t.id) AS distinct_epochs FROM convlab.trials t`)
    ).rows;
    await check.end();
    assert.equal(trials.length, 6);
    for (const t of trials) assert.deepEqual(t, { status: 'finished', epochs: 10, distinct_epochs: 10 });
  });

  test('a wrong password is exit 2 naming the problem, never the password', () => {
    const bad = `postgres://convlab:not-it@127.0.0.1:${server.port}/cli`;
    for (const command of [['ls'], ['dashboard', '--port', '0']]) {
      const r = runConvlab([...command, '--store', bad], 20_000);
      assert.equal(r.code, 2, command.join(' '));
      assert.match(r.err, /the server refused the login/);
      assert.doesNotMatch(r.err, /not-it/);
    }
  });

  test('the dashboard serves a PostgreSQL store and shows what another process records, without a reload', async () => {
    const live = await server.database('dashboard');
    const artifacts = join(dir, 'artifacts-dashboard');
    withEnv({ CONVLAB_ARTIFACTS: artifacts }, () => {
      const first = runConvlab(['run', spec(), '--store', live, '--quiet'], 300_000);
      assert.equal(first.code, 0, first.err);
    });
    const d = await startDashboard({ store: live, port: 0 });
    try {
      const get = async (path: string) => (await fetch(new URL(path, d.url))).json();
      const experiments = (await get('/api/experiments')) as { name: string; counts: { finished: number } }[];
      assert.deepEqual(
        experiments.map((e) => [e.name, e.counts.finished]),
        [['pgstudy', 3]],
      );
      const runs = (await get('/api/experiments/pgstudy/runs')) as { rows: unknown[] };
      assert.equal(runs.rows.length, 3);
      const { version } = (await get('/api/version')) as { version: number };
      // Another process records a new experiment: the version moves and the experiment is listed.
      withEnv({ CONVLAB_ARTIFACTS: artifacts }, () => {
        const other = runConvlab(['train', spec(), '--store', live, '--quiet'], 300_000);
        assert.equal(other.code, 0, other.err);
      });
      let names: string[] = [];
      for (let i = 0; i < 100 && !names.includes('pgstudy.train'); i++) {
        await new Promise((r) => setTimeout(r, 100));
        names = ((await get('/api/experiments')) as { name: string }[]).map((e) => e.name);
      }
      assert.deepEqual(names.sort(), ['pgstudy', 'pgstudy.train']);
      assert.ok(((await get('/api/version')) as { version: number }).version > version);
      // What the dashboard holds, refreshed trial by trial from the store's announcements, is what a fresh read
      // of the whole store finds, once the writes have settled.
      const reader = await PostgresStore.open(live, { artifacts });
      try {
        const holds = () => ({
          trials: d.store.trials().map((t) => ({ ...t, heartbeatAt: null })),
          epochs: d.store.trials().map((t) => d.store.epochs(t.id)),
          finals: d.store.trials().map((t) => d.store.finals(t.id)),
          artifacts: d.store.trials().map((t) => d.store.artifacts(t.id)),
        });
        let expected: unknown = null;
        for (let i = 0; i < 50; i++) {
          const fresh = await SnapshotStore.of(reader, 'fresh');
          expected = {
            trials: fresh.trials().map((t) => ({ ...t, heartbeatAt: null })),
            epochs: fresh.trials().map((t) => fresh.epochs(t.id)),
            finals: fresh.trials().map((t) => fresh.finals(t.id)),
            artifacts: fresh.trials().map((t) => fresh.artifacts(t.id)),
          };
          if (JSON.stringify(holds()) === JSON.stringify(expected)) break;
          await new Promise((r) => setTimeout(r, 100));
        }
        assert.deepEqual(holds(), expected);
        assert.equal(d.store.trials().length, 4);
      } finally {
        await reader.close();
      }
    } finally {
      await d.close();
    }
  });
});
