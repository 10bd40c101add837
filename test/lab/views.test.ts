/**
 * What a view of a study shows and how its table is built: the trials of the spec as it is now (earlier versions
 * with --all, labelled apart), sorting by any metric or parameter whether shown or not, and swept parameters as
 * typed columns that can be sorted and grouped by.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { compareTrials, formatCsv, formatTable, toJson } from '../../src/lab/compare.js';
import { SqliteStore, type RunStore } from '../../src/lab/store.js';
import { expandSweep } from '../../src/lab/sweep.js';
import { configKey, viewTrials } from '../../src/lab/views.js';
import { noSqlite } from '../helpers/sqlite.js';

const dir = mkdtempSync(join(tmpdir(), 'convlab-views-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const spec = (epochs: number, subset: number) => ({
  name: 'variants',
  seed: 1,
  data: { dataset: 'mnist', subset: { train: subset } },
  model: { input: [28, 28, 1], layers: [{ Flatten: {} }, { Dense: { units: 10, activation: 'softmax' } }] },
  train: { epochs, batch_size: 32, optimizer: { adam: { learning_rate: 0.001 } } },
  sweep: {
    variants: { Baseline: {}, Filter: { 'model.layers[1].Dense.units': 12 } },
    grid: { 'train.optimizer.adam.learning_rate': [0.01, 0.001], 'train.batch_size': [32, 64] },
    repeats: 2,
  },
});

/** Runs (as far as the store knows) one version of the spec: every trial finished with made-up metrics. */
function record(store: RunStore, raw: Record<string, unknown>, base: number): void {
  const e = store.upsertExperiment('variants', raw, null);
  const plans = expandSweep(raw);
  const trials = store.addTrials(
    e.id,
    plans.map((p) => ({
      key: p.key,
      label: p.label,
      group: p.group,
      variant: p.variant,
      values: p.values,
      repeat: p.repeat,
      seed: p.seed,
      config: p.spec,
    })),
  );
  trials.forEach((t, i) => {
    store.claimTrial([t.id], '1@x');
    const lr = t.values['train.optimizer.adam.learning_rate'] as number;
    const batch = t.values['train.batch_size'] as number;
    store.finishTrial(t.id, { validation: { loss: 1 - base - lr, accuracy: base + lr * 10 + batch / 1000 + t.repeat / 100 } }, 100 - i, {});
  });
}

describe('which trials a view shows, and the comparison table', { skip: noSqlite }, () => {
  const store = new SqliteStore(join(dir, 'store'));
  after(() => store.close());
  record(store, spec(2, 2000), 0.5);
  record(store, spec(1, 1000), 0.3);
  const experiment = store.getExperiment('variants')!;

  test('by default the trials of the spec as it is now; --all adds the earlier version, labelled apart', () => {
    const now = viewTrials(store, experiment);
    assert.equal(now.length, 16);
    assert.ok(now.every((t) => t.config.train && (t.config.train as { epochs: number }).epochs === 1));
    assert.ok(
      now.every((t) => !t.label.includes('[')),
      'the current trials keep their labels',
    );
    const all = viewTrials(store, experiment, { all: true });
    assert.equal(all.length, 32);
    // Two trials share a group (one line, one averaged row) only when their configs differ in the seed alone.
    const byGroup = new Map<string, Set<string>>();
    for (const t of all) byGroup.set(t.group, (byGroup.get(t.group) ?? new Set()).add(configKey(t)));
    assert.ok(
      [...byGroup.values()].every((keys) => keys.size === 1),
      'no label joins two configurations',
    );
    const old = all.find((t) => t.id === 1)!;
    assert.match(old.label, /^Baseline learning_rate=0\.01 batch_size=32 \[data\.subset\.train=2000, train\.epochs=2\] #1$/);
  });

  test('--sort by a metric that is not among the columns sorts by it, and JSON says so', () => {
    const t = compareTrials(store, 'variants', viewTrials(store, experiment), { sort: 'seconds', columns: ['val_accuracy'], group: false });
    const seconds = t.rows.map((r) => r.trials[0]).map((id) => store.getTrial(id)!.seconds!);
    assert.deepEqual(
      seconds,
      [...seconds].sort((a, b) => a - b),
      'ascending by seconds',
    );
    assert.deepEqual(
      t.columns.map((c) => c.name),
      ['val_accuracy'],
    );
    const json = toJson(t) as { sorted_by: string; ascending: boolean };
    assert.equal(json.sorted_by, 'seconds');
    assert.equal(json.ascending, true);
  });

  test('swept parameters are columns (by short name or path), typed in JSON and CSV, and sort the rows', () => {
    const t = compareTrials(store, 'variants', viewTrials(store, experiment), {
      columns: ['variant', 'learning_rate', 'train.batch_size', 'val_accuracy'],
      sort: 'learning_rate',
    });
    assert.match(formatTable(t), /variant +learning_rate +train\.batch_size +val_accuracy/);
    const lrs = t.rows.map((r) => r.params['train.optimizer.adam.learning_rate']);
    assert.deepEqual(
      lrs,
      [...lrs].sort((a, b) => (a as number) - (b as number)),
    );
    const json = toJson(t) as { rows: { params: Record<string, unknown> }[] };
    assert.equal(typeof json.rows[0].params['train.optimizer.adam.learning_rate'], 'number');
    assert.equal(typeof json.rows[0].params['train.batch_size'], 'number');
    const csv = formatCsv(t).split('\n');
    assert.deepEqual(csv[0].split(',').slice(0, 8), ['rank', 'trials', 'model', 'n', 'status', 'variant', 'learning_rate', 'batch_size']);
    assert.match(csv[1], /^1,\d+ \d+,[^,]+,2,finished,(Baseline|Filter),0\.001,(32|64),/);
  });

  test('--group-by a parameter aggregates every other one as mean ± std with n', () => {
    const t = compareTrials(store, 'variants', viewTrials(store, experiment), { groupBy: 'batch_size', columns: ['val_accuracy'] });
    assert.deepEqual(
      t.rows.map((r) => [r.label, r.trials.length]),
      [
        ['batch_size=32', 8],
        ['batch_size=64', 8],
      ],
    );
    const v = t.rows[0].values.val_accuracy as { mean: number; std: number; n: number };
    assert.equal(v.n, 8);
    assert.ok(v.std > 0);
    assert.throws(
      () => compareTrials(store, 'variants', viewTrials(store, experiment), { groupBy: 'momentum' }),
      /--group-by momentum: not a swept parameter of these trials; expected one of variant, learning_rate, batch_size/,
    );
  });
});
