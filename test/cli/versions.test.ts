/**
 * The Fashion-MNIST LeNet-5 variants run twice with different settings, as a user changes a study: every view shows
 * the study as its spec is now, `--all` shows both versions labelled apart, and nothing draws or averages trials of
 * two versions as one. Needs Fashion-MNIST (../shared/data or $CONVLAB_DATA); skipped, visibly, without it.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, describe, test } from 'node:test';
import { findFashionMnist } from '../../src/data/fashion_mnist.js';
import { runConvlab } from '../helpers/cli.js';
import { noSqlite } from '../helpers/sqlite.js';
import { firstPassOnly } from '../helpers/passes.js';

const shared = resolve('..', 'shared', 'data');
if (!process.env.CONVLAB_DATA && existsSync(join(shared, 'fashion-mnist'))) process.env.CONVLAB_DATA = shared;
const skip = noSqlite || (findFashionMnist() ? false : 'Fashion-MNIST files not found (set CONVLAB_DATA to ../shared/data)');
const dir = mkdtempSync(join(tmpdir(), 'convlab-versions-'));
after(() => rmSync(dir, { recursive: true, force: true }));
process.env.CONVLAB_CACHE = join(dir, 'cache');
const store = join(dir, 'store');
const convlab = (...args: string[]) => runConvlab([...args, '--store', store]);

describe('a study run again with other settings', { skip: skip || firstPassOnly }, () => {
  // Small subsets, evaluated on the training split only, so both backends run it in seconds.
  const version = (train: number, epochs: number) =>
    convlab(
      'run',
      'examples/reproductions/fashion-mnist-variants.yaml',
      '-q',
      '--set',
      `data.subset.train=${train}`,
      '--set',
      `train.epochs=${epochs}`,
      '--set',
      'evaluate={on: [train]}',
    );

  test('views show the spec as it is now; --all labels the earlier version apart; sorting follows --sort', () => {
    assert.equal(version(300, 2).code, 0);
    assert.equal(version(200, 1).code, 0);
    const ls = convlab('ls', 'fashion-mnist-variants');
    assert.match(ls.out, /\(7 trials, spec .*; 7 more from earlier versions of the spec: --all\)/);
    const now = JSON.parse(convlab('compare', 'fashion-mnist-variants', '--json').out) as { rows: { model: string; trials: number[] }[] };
    assert.equal(now.rows.length, 7);
    assert.equal(new Set(now.rows.map((r) => r.model)).size, 7, 'no label twice');
    const all = JSON.parse(convlab('compare', 'fashion-mnist-variants', '--all', '--json').out) as {
      rows: { model: string; trials: number[] }[];
    };
    assert.equal(all.rows.length, 14);
    assert.equal(new Set(all.rows.map((r) => r.model)).size, 14);
    assert.ok(
      all.rows.some((r) => r.model === 'Baseline [data.subset.train=300, train.epochs=2]'),
      all.rows.map((r) => r.model).join(' | '),
    );
    const bySeconds = JSON.parse(
      convlab('compare', 'fashion-mnist-variants', '--sort', 'seconds', '--columns', 'train_accuracy', '--json').out,
    ) as { sorted_by: string; rows: { trials: number[] }[] };
    assert.equal(bySeconds.sorted_by, 'seconds');
    const seconds = bySeconds.rows.map((r) => JSON.parse(convlab('show', String(r.trials[0]), '--json').out).seconds as number);
    assert.deepEqual(
      seconds,
      [...seconds].sort((a, b) => a - b),
    );
    // Bars and the report: 7 configurations, one bar group each, never two versions averaged as repeats.
    const bars = convlab('plot', 'bars', 'fashion-mnist-variants', '--out', join(dir, 'bars.svg'));
    assert.equal(bars.code, 0, bars.err);
    assert.doesNotMatch(readFileSync(join(dir, 'bars.svg'), 'utf8'), /standard deviation/);
    const report = convlab('report', 'fashion-mnist-variants', '--out', join(dir, 'report'), '--no-trials');
    assert.equal(report.code, 0, report.err);
    assert.match(
      readFileSync(join(dir, 'report', 'report.md'), 'utf8'),
      /7 trials \(7 finished\)\. .* 7 trials of earlier versions of the spec are left out/,
    );
  });
});
