/** The lab commands as a user runs them: run, ls, show, compare, diff, spawned as processes with exit codes checked. */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { fileWriter, runConvlab } from '../helpers/cli.js';
import { Random } from '../../src/engine/random.js';
import { SqliteStore } from '../../src/lab/store.js';
import { noSqlite } from '../helpers/sqlite.js';

const dir = mkdtempSync(join(tmpdir(), 'convlab-lab-'));
const skip = noSqlite;
after(() => rmSync(dir, { recursive: true, force: true }));
process.env.CONVLAB_CACHE = join(dir, 'cache');

const convlab = (...args: string[]) => runConvlab(args);
const file = fileWriter(dir);

const study = () =>
  file(
    'study.yaml',
    `
name: tiny-study
seed: 7
data: {dataset: mnist, subset: {train: 300}, validation: {count: 100}}
model:
  input: [28, 28, 1]
  layers:
    - Conv2D: {filters: 4, kernel_size: 3, activation: relu}
    - AveragePooling2D: {}
    - Flatten: {}
    - Dense: {units: 10, activation: softmax}
train: {epochs: 2, optimizer: {adam: {learning_rate: 0.001}}}
sweep:
  variants:
    Baseline: {}
    MaxPooling:
      model.layers[1]: {MaxPooling2D: {}}
  grid:
    train.optimizer.adam.learning_rate: [0.01, 0.001]
`,
  );

describe('convlab run and the commands that read the store', { skip }, () => {
  const store = join(dir, 'store');
  test('run trains every trial of the sweep, prints the comparison, and a second run re-runs nothing', () => {
    const r = convlab('run', study(), '--store', store, '-q');
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /Experiment tiny-study: 4 trials, 0 already finished/);
    assert.match(r.out, /rank +trial +model +status +train_loss/);
    for (const label of ['Baseline learning_rate=0.01', 'MaxPooling learning_rate=0.001']) assert.match(r.out, new RegExp(label));
    const again = convlab('run', study(), '--store', store, '-q');
    assert.equal(again.code, 0, again.err);
    assert.match(again.out, /4 trials, 4 already finished/);
    assert.doesNotMatch(again.out, /Trial 1\/4/, 'no trial ran again');
  });

  test('ls, show, compare (table, JSON, CSV, Markdown) and diff read what run recorded', () => {
    const ls = convlab('ls', '--store', store);
    assert.equal(ls.code, 0, ls.err);
    assert.match(ls.out, /tiny-study +4 +4 +0 +0 +0/);
    const trials = JSON.parse(convlab('ls', 'tiny-study', '--store', store, '--json').out) as {
      id: number;
      label: string;
      status: string;
      epochs: number;
    }[];
    assert.deepEqual(
      trials.map((t) => [t.label, t.status, t.epochs]),
      [
        ['Baseline learning_rate=0.01', 'finished', 2],
        ['Baseline learning_rate=0.001', 'finished', 2],
        ['MaxPooling learning_rate=0.01', 'finished', 2],
        ['MaxPooling learning_rate=0.001', 'finished', 2],
      ],
    );
    const show = convlab('show', String(trials[2].id), '--store', store);
    assert.equal(show.code, 0, show.err);
    assert.match(show.out, /Trial #3: MaxPooling learning_rate=0\.01 \(experiment tiny-study, finished\)/);
    assert.match(show.out, /max_pooling2d \(MaxPooling2D\)/);
    assert.match(show.out, /History:\n.*epoch +loss +accuracy +val_loss/);
    assert.match(show.out, /Final metrics:/);
    const json = JSON.parse(convlab('compare', 'tiny-study', '--store', store, '--json', '--sort', 'val_loss').out) as {
      sorted_by: string;
      rows: { val_loss: number }[];
    };
    assert.equal(json.sorted_by, 'val_loss');
    assert.ok(
      json.rows.every((r, i) => i === 0 || json.rows[i - 1].val_loss <= r.val_loss),
      'sorted lowest loss first',
    );
    const csv = convlab('compare', 'tiny-study', '--store', store, '--csv', '--columns', 'val_accuracy,params');
    assert.equal(
      csv.out.trim().split('\n')[0],
      'rank,trials,model,n,status,variant,learning_rate,val_accuracy,params',
      'the swept parameters have their own columns',
    );
    const byParam = JSON.parse(
      convlab('compare', 'tiny-study', '--store', store, '--json', '--columns', 'learning_rate,val_accuracy', '--sort', 'learning_rate')
        .out,
    ) as { sorted_by: string; rows: { params: Record<string, unknown> }[] };
    assert.equal(byParam.sorted_by, 'learning_rate');
    assert.deepEqual(
      byParam.rows.map((r) => r.params['train.optimizer.adam.learning_rate']),
      [0.001, 0.001, 0.01, 0.01],
      'a swept parameter is a typed column and sorts',
    );
    assert.match(convlab('compare', 'tiny-study', '--store', store, '--md').out, /^\| rank \| trial \| model \|/);
    // Keras' running averages of the last epoch beside the final model's figures, each named for what it is.
    const both = convlab('compare', 'tiny-study', '--store', store, '--columns', 'epoch_loss,train_loss,epoch_accuracy');
    assert.equal(both.code, 0, both.err);
    assert.match(both.out, /epoch_loss +train_loss +epoch_accuracy/);
    assert.match(
      both.out,
      /train_\*: the final model on the training split, in inference mode\. epoch_\* .*running averages over the last epoch/,
    );
    const diff = convlab('diff', String(trials[0].id), String(trials[3].id), '--store', store);
    assert.equal(diff.code, 0, diff.err);
    assert.match(diff.out, /model\.layers\[1\]\.MaxPooling2D +\(absent\) +→ +\{\}/);
    assert.match(diff.out, /train\.optimizer\.adam\.learning_rate +0\.01 +→ +0\.001/);
  });

  test('unknown experiments, trials, columns and flags exit 2 with the problem named', () => {
    const cases: [string[], RegExp][] = [
      [['ls', 'nope', '--store', store], /no experiment 'nope' in .*: expected one of tiny-study/],
      [['show', '99', '--store', store], /no trial 99/],
      [['compare', 'tiny-study', '--store', store, '--columns', 'val_acc'], /unknown column val_acc: expected some of/],
      [['compare', 'tiny-study', '--store', store, '--json', '--csv'], /choose one of --json, --csv and --md/],
      [['run', study(), '--store', store, '--parallel', '0'], /--parallel: expected a positive integer/],
    ];
    for (const [args, message] of cases) {
      const r = convlab(...args);
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.err}`);
      assert.match(r.err, message);
    }
  });

  test('--fresh runs finished trials again, here in two worker processes (--parallel 2) that share the cores', () => {
    const r = convlab('run', study(), '--store', store, '--parallel', '2', '--fresh');
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /4 trials, 0 already finished/);
    assert.match(r.out, /2 workers, /);
    assert.equal(r.out.match(/^Trial \d\/4 \[#\d+\] .*: test accuracy/gm)?.length, 4, 'each trial is reported once as it ends');
    const trials = JSON.parse(convlab('ls', 'tiny-study', '--store', store, '--json').out) as { status: string; epochs: number }[];
    assert.deepEqual(
      trials.map((t) => [t.status, t.epochs]),
      [
        ['finished', 2],
        ['finished', 2],
        ['finished', 2],
        ['finished', 2],
      ],
    );
  });

  test('a bad value in any trial is reported before a single trial starts, and nothing is recorded', () => {
    const fresh = join(dir, 'bad-store');
    const r = convlab('run', study(), '--store', fresh, '--set', 'sweep.grid["model.layers[0].Conv2D.filters"]=[4, 0]');
    assert.equal(r.code, 2);
    assert.match(
      r.err,
      /model\.layers\[0\]\.Conv2D\.filters: .*\(in trials 'Baseline learning_rate=0\.01 filters=0', 'Baseline learning_rate=0\.001 filters=0', 'MaxPooling learning_rate=0\.01 filters=0' and 1 more\)/,
    );
    assert.doesNotMatch(r.out, /Trial 1/);
    assert.deepEqual(JSON.parse(convlab('ls', '--store', fresh, '--json').out), []);
    const path = convlab('run', study(), '--store', fresh, '--set', 'sweep.grid={"model.layers[8].Dense.units": [1]}');
    assert.equal(path.code, 2);
    assert.match(path.err, /sweep\.grid\.model\.layers\[8\]\.Dense\.units: model\.layers has 4 elements, so there is no \[8\]/);
  });

  test('a dataset that is not there is one error before any trial, and no store is made', () => {
    const spec = file(
      'nodata.yaml',
      `
name: nodata
data: {dataset: cifar10, path: ${JSON.stringify(join(dir, 'no-cifar'))}}
model: {input: [32, 32, 3], layers: [{Flatten: {}}, {Dense: {units: 10, activation: softmax}}]}
sweep: {grid: {train.batch_size: [16, 32]}}
`,
    );
    const fresh = join(dir, 'nodata-store');
    const r = convlab('run', spec, '--store', fresh);
    assert.equal(r.code, 2, r.err);
    assert.match(r.err, /^convlab: data: .*no-cifar: not found \(given as the CIFAR-10 path\)$/m);
    assert.equal(r.err.match(/not found/g)?.length, 1, 'said once, not once per trial');
    assert.doesNotMatch(r.out, /Trial 1/);
    assert.ok(!existsSync(fresh), 'no store folder');
  });

  test('a trial that fails is recorded with its error, the study goes on, and the exit status is 1', () => {
    const failing = file(
      'failing.yaml',
      `
name: with-failure
data: {dataset: mnist, subset: {train: 200}}
model: {input: [28, 28, 1], layers: [{Flatten: {}}, {Dense: {units: 10, activation: softmax}}]}
train: {epochs: 1}
sweep:
  variants:
    Good: {}
    WrongInput: {model.input: [32, 32, 1]}
`,
    );
    const r = convlab('run', failing, '--store', join(dir, 'fail-store'), '-q');
    assert.equal(r.code, 1, r.err);
    assert.match(
      r.out,
      /1 trial failed: #2 WrongInput: invalid spec: model\.input: the data gives samples of shape \[28, 28, 1\] but the model expects \[32, 32, 1\]/,
    );
    const trials = JSON.parse(convlab('ls', 'with-failure', '--store', join(dir, 'fail-store'), '--json').out) as { status: string }[];
    assert.deepEqual(
      trials.map((t) => t.status),
      ['finished', 'failed'],
    );
  });
});

describe('resuming', { skip }, () => {
  const spec = () =>
    file(
      'resume.yaml',
      `
name: resume
seed: 5
data: {dataset: mnist, subset: {train: 1200}, validation: {count: 200}, augment: [{translate: 0.1}]}
model:
  input: [28, 28, 1]
  layers:
    - Conv2D: {filters: 4, kernel_size: 3, activation: relu}
    - MaxPooling2D: {}
    - Flatten: {}
    - Dropout: {rate: 0.3}
    - Dense: {units: 10, activation: softmax}
train:
  epochs: 6
  batch_size: 64
  callbacks: [{early_stopping: {monitor: val_loss, patience: 2, restore_best_weights: true}}, {reduce_lr_on_plateau: {patience: 1, factor: 0.5}}]
sweep: {grid: {train.batch_size: [64, 100]}}
`,
    );
  const finals = (store: string) =>
    (
      JSON.parse(convlab('run', spec(), '--store', store, '-q', '--json').out) as { trials: { status: string; final: unknown }[] }
    ).trials.map((t) => ({ status: t.status, final: t.final }));

  test('killed with SIGKILL at random points and run again, a study ends with the uninterrupted numbers and every epoch recorded', async () => {
    const whole = finals(join(dir, 'whole'));
    assert.ok(whole.every((t) => t.status === 'finished'));
    const store = join(dir, 'killed');
    let kills = 0;
    // Kill points come from a seeded generator: a failure names its seed, and CONVLAB_KILL_SEED replays it.
    const seed = Number(process.env.CONVLAB_KILL_SEED ?? Date.now() % 1_000_000);
    const draws = new Random(seed);
    // Kill after a random number of recorded epochs, plus a random delay, so kills land mid-epoch and mid-checkpoint.
    for (let round = 0; round < 4; round++) {
      const child = spawn(process.execPath, ['bin/convlab.js', 'run', spec(), '--store', store, '-q'], { stdio: 'ignore' });
      const target = 1 + Math.floor(draws.next() * 4);
      const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
      let finished = false;
      void exited.then(() => (finished = true));
      for (;;) {
        await new Promise((r) => setTimeout(r, 50));
        if (finished) break;
        let done = 0;
        try {
          const s = new SqliteStore(store);
          done = s.trials().reduce((n, t) => n + t.epochsDone, 0);
          s.close();
        } catch {
          continue;
        }
        if (done >= (target * (round + 1)) / 2) {
          await new Promise((r) => setTimeout(r, draws.next() * 200));
          child.kill('SIGKILL');
          kills++;
          break;
        }
      }
      await exited;
    }
    assert.ok(kills > 0, `at least one run was killed (CONVLAB_KILL_SEED=${seed})`);
    assert.deepEqual(finals(store), whole, `the resumed study ends as the uninterrupted one (replay with CONVLAB_KILL_SEED=${seed})`);
    // Every epoch has its row, even one whose checkpoint was written just before a kill and its row not yet.
    const rows = (where: string) => {
      const s = new SqliteStore(where);
      const out = s.trials().map((t) => s.epochs(t.id).map((e) => [e.epoch, e.loss, e.val_loss]));
      s.close();
      return out;
    };
    assert.deepEqual(rows(store), rows(join(dir, 'whole')), `every epoch is recorded once (CONVLAB_KILL_SEED=${seed})`);
  });
});
