/**
 * Sweeps spread over workers through the pg-boss queue of a PostgreSQL store: `run --enqueue` twice at once queues
 * each trial once; three `convlab worker` processes share a 12-trial sweep while one is killed with SIGKILL in the
 * middle of a trial, and every trial finishes exactly once with the numbers of a single-process run; the workers
 * wait out the server being stopped for 10 s. The server is started by the test from Debian's binaries (skipped,
 * visibly, where they are missing).
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { getBackend } from '../../src/engine/backends/index.js';
import { fileWriter, runConvlab } from '../helpers/cli.js';
import { noPostgres, startPostgres, type TestPostgres } from '../helpers/postgres.js';
import { noSqlite } from '../helpers/sqlite.js';
import { firstPassOnly } from '../helpers/passes.js';

const dir = mkdtempSync(join(tmpdir(), 'convlab-queue-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const file = fileWriter(dir);
const BIN = fileURLToPath(new URL('../../../bin/convlab.js', import.meta.url));

/** One thread per worker process (the TypeScript backend always has one, and takes no --threads). */
const ONE_THREAD = getBackend().name === 'native' ? ['--threads', '1'] : [];

/** 12 trials of 4 epochs each: long enough that a worker can be killed between two epochs of one. */
const SPEC = `
name: qsweep
seed: 3
data: {dataset: mnist, subset: {train: 2000}, validation: {count: 100}}
model:
  input: [28, 28, 1]
  layers:
    - Conv2D: {filters: 4, kernel_size: 3, activation: relu}
    - MaxPooling2D: {}
    - Flatten: {}
    - Dense: {units: 10, activation: softmax}
train: {epochs: 4, batch_size: 50}
sweep:
  grid:
    train.optimizer: [adam, sgd, rmsprop]
    train.batch_size: [50, 100]
  repeats: 2
`;

interface Running {
  child: ChildProcess;
  out: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function start(args: string[], env: Record<string, string>): Running {
  const child = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, ...env } });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((done) =>
    child.on('exit', (code, signal) => done({ code, signal })),
  );
  return { child, out: () => out, exited };
}

async function query<T = Record<string, unknown>>(url: string, text: string, values?: unknown[]): Promise<T[]> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return (await c.query(text, values)).rows as T[];
  } finally {
    await c.end();
  }
}

/** Each trial's status and how many distinct epochs it recorded, and how many rows. */
const trialState = (url: string) =>
  query<{ id: number; status: string; rows: number; epochs: number }>(
    url,
    `SELECT t.id, t.status, (SELECT COUNT(*)::int FROM convlab.epochs e WHERE e.trial_id = t.id) AS rows,
            (SELECT COUNT(DISTINCT epoch)::int FROM convlab.epochs e WHERE e.trial_id = t.id) AS epochs
     FROM convlab.trials t ORDER BY t.id`,
  );

/** compare --json rows as [model, test accuracy, validation loss, training loss], sorted (repeats are averaged). */
function compareRows(store: string): unknown[][] {
  const r = runConvlab(['compare', 'qsweep', '--store', store, '--json']);
  assert.equal(r.code, 0, r.err);
  return (JSON.parse(r.out).rows as Record<string, unknown>[])
    .map((row) => [row.model, row.test_accuracy, row.val_loss, row.train_loss])
    .sort();
}

describe('sweeps spread over convlab worker processes through the queue', { skip: noSqlite || noPostgres || firstPassOnly }, () => {
  let server: TestPostgres;
  before(async () => {
    server = await startPostgres();
  });
  after(async () => {
    await server?.stop();
  });

  test('two `run --enqueue` of one spec at once queue each trial once; a third finds them queued; an edited spec withdraws the earlier trials', async () => {
    const url = await server.database('enqueue');
    const spec = file('twice.yaml', SPEC);
    const env = { CONVLAB_STORE: url, CONVLAB_ARTIFACTS: join(dir, 'artifacts-twice') };
    const both = [start(['run', spec, '--enqueue', '--json'], env), start(['run', spec, '--enqueue', '--json'], env)];
    const put: number[] = [];
    for (const r of both) {
      const { code } = await r.exited;
      assert.equal(code, 0, r.out());
      const q = JSON.parse(r.out().trim().split('\n').at(-1)!);
      assert.equal(q.trials, 12);
      put.push(q.enqueued);
    }
    assert.deepEqual(
      put.sort((a, b) => a - b),
      [0, 12],
    );
    const jobs = await query<{ n: number; trials: number }>(
      url,
      `SELECT COUNT(*)::int AS n, COUNT(DISTINCT data->>'trial')::int AS trials FROM convlab_queue.job WHERE name = 'convlab-trials'`,
    );
    assert.deepEqual(jobs, [{ n: 12, trials: 12 }]);
    const third = runConvlab(['run', spec, '--enqueue'], 60_000, undefined);
    assert.equal(third.code, 2, 'without CONVLAB_STORE the default store is a folder');
    assert.match(third.err, /--enqueue: the store .* is a folder \(SQLite, one machine\)/);
    const again = start(['run', spec, '--enqueue'], env);
    assert.equal((await again.exited).code, 0, again.out());
    assert.match(again.out(), /12 trials, 0 already finished; 0 put on the queue now, 12 already queued or training/);
    // The spec edited (every trial changes) and enqueued again: the earlier version's waiting trials leave the queue.
    const edited = start(['run', file('twice.yaml', SPEC.replace('epochs: 4', 'epochs: 3')), '--enqueue', '--json'], env);
    assert.equal((await edited.exited).code, 0, edited.out());
    assert.deepEqual(
      (({ enqueued, queued, withdrawn }) => ({ enqueued, queued, withdrawn }))(JSON.parse(edited.out().trim().split('\n').at(-1)!)),
      { enqueued: 12, queued: 0, withdrawn: 12 },
    );
    const states = await query<{ state: string; n: number }>(
      url,
      `SELECT state::text, COUNT(*)::int AS n FROM convlab_queue.job WHERE name = 'convlab-trials' GROUP BY state ORDER BY state::text`,
    );
    assert.deepEqual(states, [
      { state: 'cancelled', n: 12 },
      { state: 'created', n: 12 },
    ]);
  });

  test('three workers that share only the URL take a 12-trial sweep, one killed with SIGKILL mid-trial: each trial finishes once, with the numbers of one process', async () => {
    const url = await server.database('workers');
    const spec = file('sweep.yaml', SPEC);
    const env = { CONVLAB_STORE: url, CONVLAB_ARTIFACTS: join(dir, 'artifacts-workers') };
    const enqueue = start(['run', spec, '--enqueue'], env);
    assert.equal((await enqueue.exited).code, 0, enqueue.out());
    // Each worker keeps its files in a folder of its own, as on three machines that share nothing but the URL: the
    // trial of the killed worker resumes from the checkpoint it put into the database.
    const workers = [0, 1, 2].map((i) =>
      start([...ONE_THREAD, 'worker', '--until-empty'], { ...env, CONVLAB_ARTIFACTS: join(dir, `machine${i}`) }),
    );
    const victim = workers[2];
    // Kill the third worker once it has recorded two epochs of a trial it is still training.
    let killedIn: number | null = null;
    let before: { epoch: number; logs: string }[] = [];
    for (let i = 0; i < 3000 && killedIn === null; i++) {
      const held = await query<{ id: number; n: number }>(
        url,
        `SELECT t.id, (SELECT COUNT(*)::int FROM convlab.epochs e WHERE e.trial_id = t.id) AS n
         FROM convlab.trials t WHERE t.status = 'running' AND t.worker LIKE $1`,
        [`${victim.child.pid}@%`],
      );
      const mid = held.find((h) => h.n >= 2 && h.n < 4);
      if (mid) {
        victim.child.kill('SIGKILL');
        killedIn = mid.id;
        before = await query(url, 'SELECT epoch, logs FROM convlab.epochs WHERE trial_id = $1 ORDER BY epoch', [mid.id]);
      } else await new Promise((r) => setTimeout(r, 10));
    }
    assert.notEqual(killedIn, null, 'the third worker never held a trial between two epochs');
    assert.equal((await victim.exited).signal, 'SIGKILL');
    for (const w of workers.slice(0, 2)) assert.equal((await w.exited).code, 0, w.out());
    const logs = workers.map((w) => w.out()).join('\n');
    // Another worker saw the dead one, put its trial back and resumed it from its checkpoint.
    assert.match(logs, new RegExp(`Trial #${killedIn}: its worker ${victim.child.pid}@\\S+ is gone`));
    assert.match(logs, new RegExp(`Trial \\[#${killedIn}\\] qsweep .* \\(resuming after epoch [123]\\)`));
    // It resumed from the checkpoint in the database, not from scratch: the epochs before the last one recorded
    // when the worker died were not trained again (their rows, which carry the process's memory and CPU time, are
    // as that worker wrote them; the last one may be trained again, if the kill came before its checkpoint).
    const after = await query<{ epoch: number; logs: string }>(
      url,
      'SELECT epoch, logs FROM convlab.epochs WHERE trial_id = $1 ORDER BY epoch',
      [killedIn],
    );
    assert.ok(before.length >= 2);
    assert.deepEqual(after.slice(0, before.length - 1), before.slice(0, -1));
    const state = await trialState(url);
    assert.equal(state.length, 12);
    for (const t of state)
      assert.deepEqual({ status: t.status, rows: t.rows, epochs: t.epochs }, { status: 'finished', rows: 4, epochs: 4 });
    // Each trial was trained to its end once, across the three workers.
    for (const t of state) {
      const ends = logs.match(new RegExp(`Trial \\[#${t.id}\\] [^\\n]*: test accuracy`, 'g')) ?? [];
      assert.equal(ends.length, 1, `trial #${t.id} ended ${ends.length} times`);
    }
    const jobs = await query<{ state: string; n: number }>(
      url,
      `SELECT state::text, COUNT(*)::int AS n FROM convlab_queue.job WHERE name = 'convlab-trials' GROUP BY state`,
    );
    assert.deepEqual(jobs, [{ state: 'completed', n: 12 }]);
    // Every trial's saved model is in the database, and no checkpoint is left there.
    const files = await query<{ models: number; checkpoints: number }>(
      url,
      `SELECT COUNT(DISTINCT trial_id) FILTER (WHERE path = 'model/model.json')::int AS models,
              COUNT(*) FILTER (WHERE path LIKE 'checkpoint/%')::int AS checkpoints FROM convlab.files`,
    );
    assert.deepEqual(files, [{ models: 12, checkpoints: 0 }]);
    // The same spec run by one process into a SQLite store gives the same final numbers, trial for trial.
    const single = join(dir, 'single');
    const one = runConvlab([...ONE_THREAD, 'run', spec, '--store', single, '--quiet']);
    assert.equal(one.code, 0, one.err);
    assert.deepEqual(compareRows(url), compareRows(single));
  });

  test('a worker unheard for longer than the timeout (frozen) has its trial taken over elsewhere, and stops it without writing when it wakes', async () => {
    const url = await server.database('takeover');
    const spec = file(
      'takeover.yaml',
      SPEC.replace(/sweep:[\s\S]*$/, '')
        .replace('epochs: 4', 'epochs: 6')
        .replace('train: 2000', 'train: 4000'),
    );
    // Two machines, as far as the store can tell: each worker names its host, and is judged by its heartbeat.
    const env = { CONVLAB_STORE: url, CONVLAB_PG_HEARTBEAT_TIMEOUT: '4' };
    const enqueue = start(['run', spec, '--enqueue'], env);
    assert.equal((await enqueue.exited).code, 0, enqueue.out());
    const a = start([...ONE_THREAD, 'worker', '--until-empty'], {
      ...env,
      CONVLAB_HOSTNAME: 'alpha',
      CONVLAB_ARTIFACTS: join(dir, 'alpha'),
    });
    for (let i = 0; i < 3000; i++) {
      const [{ n }] = await query<{ n: number }>(url, 'SELECT COUNT(*)::int AS n FROM convlab.epochs');
      if (n >= 1) break;
      await new Promise((r) => setTimeout(r, 10));
    }
    a.child.kill('SIGSTOP');
    const b = start([...ONE_THREAD, 'worker', '--until-empty'], { ...env, CONVLAB_HOSTNAME: 'beta', CONVLAB_ARTIFACTS: join(dir, 'beta') });
    assert.equal((await b.exited).code, 0, b.out());
    assert.match(b.out(), new RegExp(`its worker ${a.child.pid}@alpha is gone`));
    assert.match(b.out(), /\(resuming after epoch [1-5]\)/);
    const rowsByB = await query(url, 'SELECT epoch, logs FROM convlab.epochs ORDER BY epoch');
    a.child.kill('SIGCONT');
    assert.equal((await a.exited).code, 0, a.out());
    assert.deepEqual(await query(url, 'SELECT epoch, logs FROM convlab.epochs ORDER BY epoch'), rowsByB, 'the woken worker wrote nothing');
    assert.match(a.out(), /was taken over by another worker while this one \(\d+@alpha\) was unheard; leaving it to that worker/);
    const state = await trialState(url);
    assert.deepEqual(
      state.map(({ status, rows, epochs }) => ({ status, rows, epochs })),
      [{ status: 'finished', rows: 6, epochs: 6 }],
    );
    const [{ worker }] = await query<{ worker: string }>(url, 'SELECT worker FROM convlab.trials');
    assert.match(worker, /@beta$/);
    const single = join(dir, 'takeover-single');
    const one = runConvlab([...ONE_THREAD, 'run', spec, '--store', single, '--quiet']);
    assert.equal(one.code, 0, one.err);
    const finals = (store: string) => {
      const r = runConvlab(['compare', 'qsweep', '--store', store, '--json']);
      assert.equal(r.code, 0, r.err);
      return (JSON.parse(r.out).rows as Record<string, unknown>[]).map((row) => [row.test_accuracy, row.val_loss, row.train_loss]);
    };
    assert.deepEqual(finals(url), finals(single));
  });

  test('the server stopped for 10 s while two workers train: they wait, go on, and lose or repeat nothing', async () => {
    const url = await server.database('queue-outage');
    const spec = file('outage.yaml', SPEC.replace('repeats: 2', 'repeats: 1'));
    const env = { CONVLAB_STORE: url, CONVLAB_ARTIFACTS: join(dir, 'artifacts-outage'), CONVLAB_PG_RETRY_SECONDS: '120' };
    const enqueue = start(['run', spec, '--enqueue'], env);
    assert.equal((await enqueue.exited).code, 0, enqueue.out());
    const workers = [0, 1].map(() => start([...ONE_THREAD, 'worker', '--until-empty'], env));
    for (let i = 0; i < 3000; i++) {
      const [{ n }] = await query<{ n: number }>(url, 'SELECT COUNT(*)::int AS n FROM convlab.epochs');
      if (n > 0) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    await server.pause(10_000);
    for (const w of workers) assert.equal((await w.exited).code, 0, w.out());
    const logs = workers.map((w) => w.out()).join('\n');
    assert.match(logs, /is unreachable .*waiting for it/);
    const state = await trialState(url);
    assert.equal(state.length, 6);
    for (const t of state)
      assert.deepEqual({ status: t.status, rows: t.rows, epochs: t.epochs }, { status: 'finished', rows: 4, epochs: 4 });
  });

  test('a worker without a PostgreSQL store is exit 2 saying what it needs', () => {
    const r = runConvlab(['worker', '--store', join(dir, 'folder')]);
    assert.equal(r.code, 2);
    assert.match(r.err, /convlab worker takes trials from the queue of a PostgreSQL store/);
  });
});
