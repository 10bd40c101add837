/**
 * One suite, two stores: the embedded SQLite store (behind the asynchronous interface) and the PostgreSQL store on
 * a real server that this test starts (skipped, visibly, where PostgreSQL's binaries are missing). Both must give
 * the same answers: trials added once per key, claimed by one worker at a time even when claims race, epochs,
 * finals, artifacts and extras round-tripped, resets and stale workers released; and PostgreSQL's own cases:
 * migrations under concurrent opens, a foreign schema refused, and bad URLs, passwords and databases as clear errors.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import { PG_HEARTBEAT_EVERY_MS, PG_SCHEMA_VERSION, PostgresStore, redactUrl } from '../../src/lab/pg_store.js';
import { type AsyncRunStore, asyncStore, type NewTrial, SqliteStore, StoreError } from '../../src/lab/store.js';
import { runConvlab } from '../helpers/cli.js';
import { noPostgres, PG_PASSWORD, startPostgres, type TestPostgres } from '../helpers/postgres.js';
import { noSqlite } from '../helpers/sqlite.js';
import { firstPassOnly } from '../helpers/passes.js';

const dir = mkdtempSync(join(tmpdir(), 'convlab-store-contract-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const plan = (n: number): NewTrial[] =>
  Array.from({ length: n }, (_, i) => ({
    key: `k${i}`,
    label: `trial ${i}`,
    group: `trial ${i}`,
    variant: i % 2 ? 'B' : 'A',
    values: { 'train.optimizer.adam.learning_rate': 10 ** -(i + 1) },
    repeat: 0,
    seed: i,
    config: { name: 'contract', seed: i, train: { epochs: 2 } },
  }));

let postgres: TestPostgres | null = null;
let databases = 0;

const kinds: [string, string | false, () => Promise<AsyncRunStore>][] = [
  ['SQLite', noSqlite, async () => asyncStore(new SqliteStore(mkdtempSync(join(dir, 'sqlite-'))))],
  [
    'PostgreSQL',
    noSqlite ? false : noPostgres,
    async () => {
      postgres ??= await startPostgres();
      return PostgresStore.open(await postgres.database(`contract${databases++}`), { artifacts: mkdtempSync(join(dir, 'pg-art-')) });
    },
  ],
];

after(async () => {
  await postgres?.stop();
});

for (const [kind, skip, open] of kinds) {
  describe(`the run store contract on ${kind}`, { skip: skip || firstPassOnly }, () => {
    let store: AsyncRunStore;
    before(async () => {
      store = await open();
    });
    after(async () => {
      await store?.close();
    });

    test('experiments are upserted by name and found by name or id', async () => {
      const a = await store.upsertExperiment('contract', { name: 'contract', v: 1 }, 'a.yaml');
      const b = await store.upsertExperiment('contract', { name: 'contract', v: 2 }, 'b.yaml');
      assert.equal(a.id, b.id);
      assert.deepEqual(b.spec, { name: 'contract', v: 2 });
      assert.equal((await store.getExperiment('contract'))?.specFile, 'b.yaml');
      assert.equal((await store.getExperiment(a.id))?.name, 'contract');
      assert.equal(await store.getExperiment('nope'), null);
      assert.deepEqual(
        (await store.listExperiments()).map((e) => e.name),
        ['contract'],
      );
    });

    test('trials are added once per key, in plan order, as pending', async () => {
      const e = (await store.getExperiment('contract'))!;
      const first = await store.addTrials(e.id, plan(5));
      const again = await store.addTrials(e.id, plan(5));
      assert.deepEqual(
        again.map((t) => t.id),
        first.map((t) => t.id),
      );
      assert.deepEqual(
        first.map((t) => [t.key, t.status, t.epochsDone, t.variant]),
        plan(5).map((p, i) => [p.key, 'pending', 0, i % 2 ? 'B' : 'A']),
      );
      assert.deepEqual(first[2].values, { 'train.optimizer.adam.learning_rate': 0.001 });
      assert.equal((await store.trials(e.id)).length, 5);
    });

    test('a trial is claimed by one worker at a time, even when eight claims race', async () => {
      const e = (await store.getExperiment('contract'))!;
      const ids = (await store.trials(e.id)).map((t) => t.id);
      const claims = await Promise.all(Array.from({ length: 8 }, (_, w) => store.claimTrial(ids, `${1000 + w}@elsewhere`)));
      const won = claims.filter((c) => c !== null).map((c) => c!.id);
      assert.equal(won.length, 5);
      assert.equal(new Set(won).size, 5);
      for (const c of claims.filter((x) => x !== null)) assert.equal(c!.status, 'running');
      assert.equal(await store.claimTrial(ids, 'late@elsewhere'), null);
    });

    test('epochs (NaN included), finals in order, extras and artifacts round-trip; a finished trial reads back and stays finished', async () => {
      const e = (await store.getExperiment('contract'))!;
      const [t] = await store.trials(e.id);
      await store.startTrial(t.id, { backend: 'native', threads: 2 }, 1234);
      await store.recordEpoch(t.id, 0, { loss: 1.5, accuracy: 0.5, seconds: 1 });
      await store.recordEpoch(t.id, 1, { loss: Number.NaN, accuracy: 0.6, seconds: 1 });
      await store.recordEpoch(t.id, 1, { loss: 0.9, accuracy: 0.6, seconds: 1 });
      await store.heartbeat(t.id);
      await store.finishTrial(t.id, { validation: { loss: 0.8, accuracy: 0.7 }, test: { accuracy: 0.68, loss: Number.NaN } }, 12.5, {
        evaluation: { test: { n: 1 } },
      });
      await store.addArtifact({ trialId: t.id, kind: 'filters', name: 'conv', path: 'trials/1/a.npy', meta: { shape: [3, 3] } });
      await store.addArtifact({ trialId: t.id, kind: 'filters', name: 'conv', path: 'trials/1/b.npy', meta: { shape: [5, 5] } });
      // A second finish (a worker that came back late) changes nothing.
      await store.finishTrial(t.id, { test: { accuracy: 0.1 } }, 99, { late: true });
      // Nor does a failure reported after it (a worker that lost the trial to another and then crashed).
      await store.failTrial(t.id, 'late failure');
      const back = (await store.getTrial(t.id))!;
      assert.equal(back.status, 'finished');
      assert.equal(back.error, null);
      assert.equal(back.params, 1234);
      assert.equal(back.seconds, 12.5);
      assert.equal(back.epochsDone, 2);
      assert.deepEqual(back.env, { backend: 'native', threads: 2 });
      assert.deepEqual(await store.epochs(t.id), [
        { epoch: 0, loss: 1.5, accuracy: 0.5, seconds: 1 },
        { epoch: 1, loss: 0.9, accuracy: 0.6, seconds: 1 },
      ]);
      const finals = await store.finals(t.id);
      assert.deepEqual(Object.keys(finals), ['validation', 'test']);
      assert.deepEqual(Object.keys(finals.test), ['accuracy', 'loss']);
      assert.ok(Number.isNaN(finals.test.loss));
      assert.deepEqual(await store.extra(t.id), { evaluation: { test: { n: 1 } } });
      await store.setExtra(t.id, { more: true });
      assert.deepEqual(await store.extra(t.id), { more: true });
      assert.deepEqual(await store.artifacts(t.id), [
        { trialId: t.id, kind: 'filters', name: 'conv', path: 'trials/1/b.npy', meta: { shape: [5, 5] } },
      ]);
      assert.equal(store.trialDir(t.id), join(store.root, 'trials', String(t.id)));
    });

    test('a failed trial keeps its error; a reset trial is pending again with nothing recorded', async () => {
      const e = (await store.getExperiment('contract'))!;
      const [first, second] = await store.trials(e.id);
      await store.failTrial(second.id, 'diverged at epoch 3');
      const failed = (await store.getTrial(second.id))!;
      assert.equal(failed.status, 'failed');
      assert.equal(failed.error, 'diverged at epoch 3');
      await store.resetTrials([first.id, second.id]);
      for (const id of [first.id, second.id]) {
        const t = (await store.getTrial(id))!;
        assert.equal(t.status, 'pending');
        assert.equal(t.epochsDone, 0);
        assert.deepEqual(await store.finals(id), {});
        assert.deepEqual(await store.artifacts(id), []);
      }
    });

    test('trials held by workers that are gone go back to pending; live ones stay', async () => {
      const e = (await store.getExperiment('contract'))!;
      const running = (await store.trials(e.id)).filter((t) => t.status === 'running');
      assert.ok(running.length >= 2);
      const keep = running[0].worker!;
      const released = await store.releaseStale((w) => w === keep);
      assert.equal(released, running.length - 1);
      const after = await store.trials(e.id);
      assert.equal(after.filter((t) => t.status === 'running').length, 1);
    });
  });
}

describe('the PostgreSQL store, its own cases', { skip: noSqlite || noPostgres || firstPassOnly }, () => {
  test('a fresh database gets the current schema; concurrent opens migrate once; reopening migrates nothing', async () => {
    postgres ??= await startPostgres();
    const url = await postgres.database('migrations');
    const stores = await Promise.all([1, 2, 3].map(() => PostgresStore.open(url, { artifacts: dir })));
    for (const s of stores) assert.equal(await s.schemaVersion(), PG_SCHEMA_VERSION);
    await stores[0].upsertExperiment('x', {}, null);
    await Promise.all(stores.map((s) => s.close()));
    const again = await PostgresStore.open(url, { artifacts: dir });
    assert.deepEqual(
      (await again.listExperiments()).map((e) => e.name),
      ['x'],
    );
    await again.close();
  });

  test('the heartbeat goes on from its thread while training holds the event loop; a trial taken over is no longer held', async () => {
    postgres ??= await startPostgres();
    const store = await PostgresStore.open(await postgres.database('heartbeat'), { artifacts: dir });
    try {
      const e = await store.upsertExperiment('beat', {}, null);
      const [t] = await store.addTrials(e.id, plan(1));
      const me = 'me@elsewhere';
      await store.claimTrial([t.id], me);
      store.keepAlive({ id: t.id, worker: me });
      const before = Date.now();
      // Synchronous work longer than a beat, as an epoch is: nothing on this thread's event loop runs meanwhile.
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, PG_HEARTBEAT_EVERY_MS + 1500);
      const beat = Date.parse((await store.getTrial(t.id))!.heartbeatAt!);
      assert.ok(beat > before + 1000, `the last heartbeat (${beat - before} ms after the work began) came from the thread`);
      assert.equal(await store.holds(t.id, me), true);
      store.keepAlive(null);
      // Another worker finds this one dead (the test's judge says so) and takes the trial over.
      const released = await store.releaseDead((w) => w !== me);
      assert.deepEqual(released, [{ id: t.id, worker: me }]);
      await store.claimTrial([t.id], 'other@elsewhere');
      assert.equal(await store.holds(t.id, me), false);
    } finally {
      await store.close();
    }
  });

  test('a convlab schema that some other program made is refused, not migrated', async () => {
    postgres ??= await startPostgres();
    const url = await postgres.database('foreign');
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    await c.query('CREATE SCHEMA convlab; CREATE TABLE convlab.users (id int)');
    await c.end();
    await assert.rejects(PostgresStore.open(url), (e: Error) => {
      assert.ok(e instanceof StoreError && e.badInput);
      assert.match(e.message, /its schema convlab has tables \(users\) but no convlab version; it is not a convlab run store/);
      return true;
    });
  });

  test('a wrong password, a missing database, an unreachable server and a non-URL are clear errors, password hidden', async () => {
    postgres ??= await startPostgres();
    const cases: [string, RegExp][] = [
      [`postgres://convlab:wrong@127.0.0.1:${postgres.port}/postgres`, /the server refused the login .*check the user and password/],
      [`${postgres.base}no_such_db`, /database "no_such_db" does not exist; create it/],
      ['postgres://convlab:pw@127.0.0.1:1/x', /cannot reach the server \(ECONNREFUSED\); is PostgreSQL running there\?/],
      ['postgres://', /not a URL|cannot reach|expected/],
    ];
    for (const [url, message] of cases) {
      await assert.rejects(PostgresStore.open(url), (e: Error) => {
        assert.ok(e instanceof StoreError, `${url}: ${e}`);
        assert.match(e.message, message, url);
        assert.doesNotMatch(e.message, new RegExp(PG_PASSWORD));
        assert.doesNotMatch(e.message, /:wrong@|:pw@/);
        return true;
      });
    }
    assert.equal(redactUrl('postgres://a:secret@h/db'), 'postgres://a:***@h/db');
  });

  test('the command line on a server that is not there: exit 2 naming it, password hidden, no folder made', () => {
    const r = runConvlab(['ls', '--store', 'postgres://lab:secret@127.0.0.1:1/convlab'], 60_000, dir);
    assert.equal(r.code, 2);
    assert.match(r.err, /the run store postgres:\/\/lab:\*\*\*@127\.0\.0\.1:1\/convlab: cannot reach the server \(ECONNREFUSED\)/);
    assert.doesNotMatch(r.err, /secret/);
    assert.equal(existsSync(join(dir, 'postgres:')), false);
  });
});
