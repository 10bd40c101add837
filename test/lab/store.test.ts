/** The run store: migrations, trials and their records, concurrent writers, and compare/diff output. */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { createRequire } from 'node:module';
import type DatabaseType from 'better-sqlite3';
import { compareTrials, diffConfigs, formatCsv, formatMarkdown, formatTable, toJson } from '../../src/lab/compare.js';
import { SCHEMA_VERSION, SqliteStore, type NewTrial } from '../../src/lab/store.js';

const dir = mkdtempSync(join(tmpdir(), 'convlab-store-'));
// The SQLite driver is an optional dependency (built from source); without it these tests skip, visibly.
const Database = (() => {
  try {
    return createRequire(import.meta.url)('better-sqlite3') as typeof DatabaseType;
  } catch {
    return null;
  }
})();
const skip = Database ? false : 'better-sqlite3 is not installed (it needs a C++ compiler at npm install)';
after(() => rmSync(dir, { recursive: true, force: true }));

const trial = (key: string, label: string, group = label, repeat = 0, seed = 1): NewTrial => ({
  key,
  label,
  group,
  variant: null,
  values: {},
  repeat,
  seed,
  config: { name: 'x', seed, model: { layers: [] } },
});

describe('run store', { skip }, () => {
  test('an empty folder gets the current schema, in WAL mode; reopening migrates nothing; a newer schema is refused', () => {
    const root = join(dir, 'fresh');
    const s = new SqliteStore(root);
    assert.equal(s.schemaVersion, SCHEMA_VERSION);
    s.close();
    const db = new Database!(join(root, 'runs.db'));
    assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
    const tables = (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all() as { name: string }[]).map(
      (r) => r.name,
    );
    assert.deepEqual(tables, ['artifacts', 'epochs', 'experiments', 'finals', 'trials']);
    db.close();
    new SqliteStore(root).close();
    const db2 = new Database!(join(root, 'runs.db'));
    db2.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
    db2.close();
    assert.throws(
      () => new SqliteStore(root),
      new RegExp(`schema version ${SCHEMA_VERSION + 1} is newer than this convlab knows \\(${SCHEMA_VERSION}\\); upgrade convlab`),
    );
  });

  test('trials are added once per key, claimed by one worker at a time, and recorded with epochs, finals and artifacts', () => {
    const s = new SqliteStore(join(dir, 'records'));
    const e = s.upsertExperiment('exp', { name: 'exp' }, 'exp.yaml');
    const first = s.addTrials(e.id, [trial('a', 'A'), trial('b', 'B')]);
    const again = s.addTrials(e.id, [trial('b', 'B'), trial('c', 'C')]);
    assert.equal(again[0].id, first[1].id, 'the same key is the same trial');
    assert.equal(s.trials(e.id).length, 3);
    const ids = first.map((t) => t.id);
    const claimed = s.claimTrial(ids, '1@elsewhere')!;
    assert.equal(claimed.status, 'running');
    assert.equal(s.claimTrial(ids, '2@elsewhere')!.id, ids[1], 'a claimed trial is not handed out twice');
    assert.equal(s.claimTrial(ids, '3@elsewhere'), null);
    s.recordEpoch(claimed.id, 0, { loss: 1, accuracy: 0.5 });
    s.recordEpoch(claimed.id, 1, { loss: NaN, accuracy: 0.6 });
    s.recordEpoch(claimed.id, 1, { loss: 0.5, accuracy: 0.7 });
    assert.deepEqual(s.epochs(claimed.id), [
      { epoch: 0, loss: 1, accuracy: 0.5 },
      { epoch: 1, loss: 0.5, accuracy: 0.7 },
    ]);
    s.finishTrial(claimed.id, { test: { loss: 0.4, accuracy: 0.8 } }, 12.5, { note: 1 });
    s.addArtifact({ trialId: claimed.id, kind: 'model', name: 'model', path: 'trials/1/model', meta: {} });
    const done = s.getTrial(claimed.id)!;
    assert.equal(done.status, 'finished');
    assert.equal(done.epochsDone, 2);
    assert.deepEqual(s.finals(claimed.id), { test: { loss: 0.4, accuracy: 0.8 } });
    assert.equal(s.artifacts(claimed.id)[0].path, 'trials/1/model');
    s.failTrial(ids[1], 'NaN loss at epoch 3, batch 7');
    assert.equal(s.getTrial(ids[1])!.error, 'NaN loss at epoch 3, batch 7');
    // A worker that died leaves its trial running; releasing stale workers puts it back.
    const c = s.claimTrial([again[1].id], '999999@' + 'gone')!;
    assert.equal(
      s.releaseStale((w) => w !== c.worker),
      1,
    );
    assert.equal(s.getTrial(c.id)!.status, 'pending');
    s.resetTrials([claimed.id]);
    assert.equal(s.getTrial(claimed.id)!.status, 'pending');
    assert.deepEqual(s.epochs(claimed.id), []);
    s.close();
  });

  test('4 processes writing 200 epochs each at once lose no row', async () => {
    const root = join(dir, 'concurrent');
    const s = new SqliteStore(root);
    const e = s.upsertExperiment('busy', {}, null);
    const ids = s
      .addTrials(
        e.id,
        [0, 1, 2, 3].map((i) => trial(`k${i}`, `T${i}`)),
      )
      .map((t) => t.id);
    s.close();
    const storeModule = new URL('../../src/lab/store.js', import.meta.url).href;
    const script = `
      const { SqliteStore } = await import(${JSON.stringify(storeModule)});
      const s = new SqliteStore(process.argv[1]);
      const id = Number(process.argv[2]);
      for (let epoch = 0; epoch < 200; epoch++) s.recordEpoch(id, epoch, { loss: 1 / (epoch + 1), accuracy: epoch / 200 });
      s.finishTrial(id, { test: { accuracy: id } }, 1, {});
      s.close();`;
    const codes = await Promise.all(
      ids.map(
        (id) =>
          new Promise<number | null>((resolve) => {
            const child = spawn(process.execPath, ['--input-type=module', '-e', script, root, String(id)], {
              stdio: ['ignore', 'ignore', 'inherit'],
            });
            child.on('exit', resolve);
          }),
      ),
    );
    assert.deepEqual(codes, [0, 0, 0, 0]);
    const check = new SqliteStore(root);
    for (const id of ids) {
      assert.equal(check.epochs(id).length, 200, `trial ${id}`);
      assert.equal(check.getTrial(id)!.status, 'finished');
    }
    check.close();
  });
});

describe('compare and diff', { skip }, () => {
  /** The Fashion-MNIST variants table's shape: named variants, and one configuration with 3 repeats. */
  function fixtureStore(): { s: SqliteStore; experiment: string } {
    const s = new SqliteStore(join(dir, 'compare'));
    const e = s.upsertExperiment('fashion', {}, null);
    const rows: [string, number, number, number, number, number][] = [
      ['Baseline', 0.3039, 0.3212, 0.8974, 0.8936, 61706],
      ['MaxPooling', 0.2787, 0.3103, 0.9108, 0.8987, 61706],
      ['LR 0.01', 0.5781, 0.5837, 0.8165, 0.8153, 61706],
    ];
    const added = s.addTrials(
      e.id,
      rows.map(([label], i) => trial(`v${i}`, label)),
    );
    added.forEach((t, i) => {
      const [, tl, vl, ta, va, params] = rows[i];
      s.claimTrial([t.id], '1@x');
      s.startTrial(t.id, {}, params);
      s.recordEpoch(t.id, 0, { loss: tl });
      s.finishTrial(t.id, { train: { loss: tl, accuracy: ta }, validation: { loss: vl, accuracy: va } }, 10 * (i + 1), {});
    });
    return { s, experiment: e.name };
  }

  test('one row per trial, sorted best-first by validation accuracy, as a table, Markdown, CSV and JSON', () => {
    const { s, experiment } = fixtureStore();
    const t = compareTrials(s, experiment, s.trials(), { columns: ['train_loss', 'val_loss', 'train_accuracy', 'val_accuracy', 'params'] });
    const expected = (name: string) => readFileSync(join('test', 'fixtures', 'compare', name), 'utf8').trimEnd();
    assert.equal(formatTable(t), expected('table.txt'));
    assert.equal(formatMarkdown(t), expected('table.md'));
    assert.equal(formatCsv(t), expected('table.csv'));
    assert.deepEqual(
      (toJson(t) as { rows: { model: string }[] }).rows.map((r) => r.model),
      ['MaxPooling', 'Baseline', 'LR 0.01'],
    );
    const byLoss = compareTrials(s, experiment, s.trials(), { sort: 'val_loss' });
    assert.deepEqual(
      byLoss.rows.map((r) => r.label),
      ['MaxPooling', 'Baseline', 'LR 0.01'],
      'losses sort lowest first',
    );
    assert.deepEqual(
      compareTrials(s, experiment, s.trials(), { sort: 'val_loss', ascending: false }).rows.map((r) => r.label),
      ['LR 0.01', 'Baseline', 'MaxPooling'],
    );
    assert.throws(
      () => compareTrials(s, experiment, s.trials(), { sort: 'val_f1' }),
      /--sort val_f1: no such metric or swept parameter; expected one of/,
    );
    assert.throws(() => compareTrials(s, experiment, s.trials(), { columns: ['val_acc'] }), /unknown column val_acc/);
    s.close();
  });

  test('repeats of one configuration become one row with mean ± sample std', () => {
    const s = new SqliteStore(join(dir, 'repeats'));
    const e = s.upsertExperiment('rep', {}, null);
    const added = s.addTrials(
      e.id,
      [0, 1, 2].map((r) => trial(`r${r}`, `Base #${r + 1}`, 'Base', r, r)),
    );
    [0.9, 0.92, 0.94].forEach((acc, i) => {
      s.claimTrial([added[i].id], '1@x');
      s.finishTrial(added[i].id, { test: { accuracy: acc } }, 1, {});
    });
    const t = compareTrials(s, 'rep', s.trials(), { columns: ['test_accuracy'] });
    assert.equal(t.rows.length, 1);
    const v = t.rows[0].values.test_accuracy as { mean: number; std: number; n: number };
    assert.ok(Math.abs(v.mean - 0.92) < 1e-12 && Math.abs(v.std - 0.02) < 1e-12 && v.n === 3);
    assert.match(formatTable(t), /Base +3 +finished +0\.9200 ± 0\.0200/);
    s.close();
  });

  test('diff shows changed fields, and an inserted layer as one insertion', () => {
    const a = {
      train: { epochs: 15, optimizer: { adam: {} } },
      model: { layers: [{ Conv2D: { filters: 6 } }, { Flatten: {} }, { Dense: { units: 10 } }] },
    };
    const b = {
      train: { epochs: 15, optimizer: { sgd: { learning_rate: 0.1 } } },
      model: { layers: [{ Conv2D: { filters: 32 } }, { Flatten: {} }, { Dropout: { rate: 0.5 } }, { Dense: { units: 10 } }] },
    };
    assert.deepEqual(diffConfigs(a, b), [
      { path: 'train.optimizer.adam', a: {}, b: undefined },
      { path: 'train.optimizer.sgd', a: undefined, b: { learning_rate: 0.1 } },
      { path: 'model.layers[0].Conv2D.filters', a: 6, b: 32 },
      { path: 'model.layers[2]', a: undefined, b: { Dropout: { rate: 0.5 } } },
    ]);
    assert.deepEqual(diffConfigs(a, a), []);
  });

  test('diff shows two inserted layers and one edited layer as two insertions and one field change', () => {
    const layers = [
      { Conv2D: { filters: 16, kernel_size: 5 } },
      { AveragePooling2D: {} },
      { Conv2D: { filters: 120, kernel_size: 5 } },
      { Flatten: {} },
    ];
    const edited = [
      layers[0],
      layers[1],
      { Conv2D: { filters: 16, kernel_size: 3 } },
      { AveragePooling2D: { strides: 1 } },
      { Conv2D: { filters: 120, kernel_size: 2 } },
      layers[3],
    ];
    assert.deepEqual(diffConfigs({ layers }, { layers: edited }), [
      { path: 'layers[2]', a: undefined, b: { Conv2D: { filters: 16, kernel_size: 3 } } },
      { path: 'layers[3]', a: undefined, b: { AveragePooling2D: { strides: 1 } } },
      { path: 'layers[4].Conv2D.kernel_size', a: 5, b: 2 },
    ]);
  });
});
