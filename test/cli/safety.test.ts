/**
 * Hostile names, bad outputs, failing runs and broken stores, as a user meets them from the command line: nothing
 * outside convlab's own folders is ever deleted or written, every string from a spec or a store is escaped, a
 * diverged or dead run is never taken for a finished one, and every mistake that depends only on the spec is found
 * before training, with its field path and exit code 2.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { fileWriter, runConvlab } from '../helpers/cli.js';
import { noSqlite } from '../helpers/sqlite.js';
import { SqliteStore } from '../../src/lab/store.js';

const dir = mkdtempSync(join(tmpdir(), 'convlab-safety-'));
/** Set when a test mounted a small tmpfs inside `dir` (unmounted before `dir` goes). */
let mounted: string | null = null;
after(() => {
  if (mounted) spawnSync('umount', [mounted]);
  rmSync(dir, { recursive: true, force: true });
});
process.env.CONVLAB_CACHE = join(dir, 'cache');
const convlab = (...args: string[]) => runConvlab(args);
const file = fileWriter(dir);

const TINY_MODEL = `model: {input: [28, 28, 1], layers: [{Flatten: {}}, {Dense: {units: 10, activation: softmax}}]}`;
const tiny = (name: string, extra = '') => `
name: ${name}
seed: 1
data: {dataset: mnist, subset: {train: 200}, validation: {count: 50}}
${TINY_MODEL}
train: {epochs: 1, batch_size: 50}
${extra}`;

/** Every file under a folder (relative paths), to show that nothing appeared or vanished. */
function listing(root: string): string[] {
  const out: string[] = [];
  const walk = (d: string, pre: string) => {
    for (const n of readdirSync(d, { withFileTypes: true })) {
      out.push(`${pre}${n.name}${n.isDirectory() ? '/' : ''}`);
      if (n.isDirectory()) walk(join(d, n.name), `${pre}${n.name}/`);
    }
  };
  walk(root, '');
  return out.sort();
}

/** A store with one experiment and one finished trial, written through the store's API as any program could. */
function hostileStore(root: string, experiment: string, label: string, classNames: string[]): void {
  const s = new SqliteStore(root);
  const e = s.upsertExperiment(experiment, { name: experiment, model: {} }, null);
  const [t] = s.addTrials(e.id, [
    { key: 'k', label, group: label, variant: null, values: { description: label }, repeat: 0, seed: 0, config: {} },
  ]);
  s.claimTrial([t.id], 'x@nowhere');
  s.finishTrial(t.id, { test: { loss: 1, accuracy: 0.5 } }, 1, {
    evaluation: {
      test: {
        classNames,
        confusion_matrix: [
          [1, 0],
          [0, 1],
        ],
        confusion_display: 'counts',
        classification_report: {
          accuracy: 1,
          classes: classNames.map((n) => ({ name: n, precision: 1, recall: 1, f1: 1, support: 1 })),
          macro: { precision: 1, recall: 1, f1: 1, support: 2 },
          weighted: { precision: 1, recall: 1, f1: 1, support: 2 },
        },
      },
    },
  });
  s.close();
}

describe('names that would become paths', () => {
  test('an experiment name with separators or .. is refused before anything is written (name: ../../escape)', () => {
    for (const name of ['../../escape', '..', 'a/b', 'a\\\\b', '.hidden', 'x..y']) {
      const work = mkdtempSync(join(dir, 'names-'));
      const spec = join(work, 'spec.yaml');
      writeFileSync(
        spec,
        tiny(JSON.stringify(name), 'evaluate: {filters: {layers: [1]}}').replace(
          'Flatten: {}',
          'Conv2D: {filters: 2, kernel_size: 3}}, {Flatten: {}',
        ),
      );
      const before = listing(dir);
      const r = runConvlab(['train', spec, '-q'], 120_000, work);
      assert.equal(r.code, 2, `${name}: ${r.err}`);
      assert.match(r.err, /name: .* is not a safe name: expected letters, digits/, name);
      assert.deepEqual(listing(dir), before, `${name}: nothing was written`);
    }
  });

  test('a variant name with a path separator or markup is refused with its field path', () => {
    const spec = file('variants.yaml', tiny('variants', 'sweep: {variants: {"../x": {}, "<script>": {}}}'));
    const r = convlab('run', spec, '--store', join(dir, 'variants-store'));
    assert.equal(r.code, 2, r.err);
    assert.match(r.err, /sweep\.variants\.\.\.\/x: variant name "\.\.\/x" is not a safe name/);
    assert.match(r.err, /sweep\.variants\.<script>: variant name "<script>" is not a safe name/);
  });

  test('a spec without a name takes its file name, and a file name that is no safe name asks for name:', () => {
    const spec = file('my study.yaml', tiny('x').replace('name: x', ''));
    const r = convlab('summary', spec);
    assert.equal(r.code, 2);
    assert.match(r.err, /name: the spec has no name, and its file name gives "my study" is not a safe name.*add name: to the spec/);
  });
});

describe('report writes only into its own folder', { skip: noSqlite }, () => {
  const store = join(dir, 'report-store');
  const spec = () =>
    file('rep.yaml', tiny('rep', 'sweep: {grid: {description: ["<script>alert(1)</script> | [x](javascript:alert(2)) ``` **b**"]}}'));

  test('an experiment named ../.. in the store cannot make report delete or write outside convlab-report', () => {
    const work = join(dir, 'proj', 'sub');
    mkdirSync(work, { recursive: true });
    writeFileSync(join(dir, 'proj', 'precious.txt'), 'keep me');
    const hostile = join(work, '.convlab');
    hostileStore(hostile, '../..', 'x', ['a', 'b']);
    hostileStore(hostile, '../../escape', 'x', ['a', 'b']);
    const before = listing(join(dir, 'proj'));
    for (const name of ['../..', '../../escape']) {
      const r = runConvlab(['report', name], 120_000, work);
      assert.equal(r.code, 2, r.err);
      assert.match(r.err, /experiment name .* would leave .*convlab-report; expected a plain name/);
    }
    assert.deepEqual(listing(join(dir, 'proj')), before);
    assert.equal(readFileSync(join(dir, 'proj', 'precious.txt'), 'utf8'), 'keep me');
  });

  test('--out naming an existing file, or a folder convlab did not write, is refused and left as it was', () => {
    assert.equal(convlab('run', spec(), '--store', store, '-q').code, 0);
    const existing = file('notes.txt', 'my notes');
    const r1 = convlab('report', 'rep', '--store', store, '--out', existing);
    assert.equal(r1.code, 2, r1.err);
    assert.match(r1.err, /report --out .*notes\.txt: it is a file; expected a folder/);
    assert.equal(readFileSync(existing, 'utf8'), 'my notes');
    const folder = join(dir, 'mine');
    mkdirSync(folder);
    writeFileSync(join(folder, 'thesis.tex'), 'chapter 1');
    const r2 = convlab('report', 'rep', '--store', store, '--out', folder);
    assert.equal(r2.code, 2, r2.err);
    assert.match(r2.err, /it exists and holds 'thesis\.tex', which convlab did not write; convlab only replaces what it wrote/);
    assert.deepEqual(readdirSync(folder), ['thesis.tex']);
    assert.deepEqual(
      readdirSync(dir).filter((n) => n.includes('.tmp-')),
      [],
      'no temporary folder is left behind',
    );
  });

  test('an earlier report is replaced whole; a report with a file added by the user is not', () => {
    const out = join(dir, 'rep-out');
    assert.equal(convlab('report', 'rep', '--store', store, '--out', out).code, 0);
    assert.ok(existsSync(join(out, '.convlab-report')));
    const again = convlab('report', 'rep', '--store', store, '--out', out);
    assert.equal(again.code, 0, again.err);
    writeFileSync(join(out, 'figures', 'mine.txt'), 'x');
    const third = convlab('report', 'rep', '--store', store, '--out', out);
    assert.equal(third.code, 2);
    assert.match(third.err, /holds 'figures\/mine\.txt', which convlab did not write/);
    assert.ok(existsSync(join(out, 'figures', 'mine.txt')));
  });

  test('labels, class names and experiment names from a store are escaped in report.html and report.md', () => {
    const hostile = join(dir, 'html-store');
    const evil = '<img src=x onerror=alert(1)>';
    hostileStore(hostile, 'html-exp', `label ${evil} | cell`, [`<b>cat</b>`, `dog${evil}`]);
    const out = join(dir, 'html-out');
    const r = convlab('report', 'html-exp', '--store', hostile, '--out', out);
    assert.equal(r.code, 0, r.err);
    const html = readFileSync(join(out, 'report.html'), 'utf8');
    const md = readFileSync(join(out, 'report.md'), 'utf8');
    assert.doesNotMatch(html, /<img src=x/);
    assert.doesNotMatch(html, /<b>cat<\/b>/);
    assert.match(html, /&lt;img src=x onerror=alert\(1\)&gt;/);
    const prose = md.replace(/^(`{3,}).*\n[\s\S]*?^\1$/gm, '').replace(/(`+)[^`]*?\1/g, '');
    assert.doesNotMatch(prose, /<img src=x|<b>cat/, 'outside code, Markdown carries no raw markup');
    assert.match(md, /```text\n[\s\S]*<b>cat<\/b>/, 'inside a code block, the class name is shown as it is');
    // The spec's own report: a swept description with markup, a link, a fence and emphasis.
    const out2 = join(dir, 'rep-html');
    assert.equal(convlab('report', 'rep', '--store', store, '--out', out2).code, 0);
    const html2 = readFileSync(join(out2, 'report.html'), 'utf8');
    assert.doesNotMatch(html2, /<script>alert/);
    assert.doesNotMatch(html2, /href="javascript:/);
    assert.doesNotMatch(html2, /<strong>b<\/strong>/);
  });

  test('an artifact path in the store that leaves the store is refused, not read', () => {
    const store = join(dir, 'art-store');
    hostileStore(store, 'art-exp', 'x', ['a', 'b']);
    const s = new SqliteStore(store);
    const t = s.trials()[0];
    s.addArtifact({
      trialId: t.id,
      kind: 'filters',
      name: 'conv',
      path: '../../../../../../etc/passwd',
      meta: { shape: [3, 3, 1, 2], files: [] },
    });
    s.close();
    const r = convlab('plot', 'filters', String(t.id), '--store', store, '--out', join(dir, 'f.png'));
    assert.equal(r.code, 2, r.err);
    assert.match(r.err, /trial #\d+'s filters artifact "\.\.\/.*etc\/passwd": the path .* would leave/);
  });

  test('control characters in a label are shown escaped in terminal tables, never sent to the terminal', () => {
    const store = join(dir, 'ctl-store');
    hostileStore(store, 'ctl-exp', 'two\nlines \u001b[31mred', ['a', 'b']);
    for (const args of [
      ['compare', 'ctl-exp'],
      ['ls', 'ctl-exp'],
    ]) {
      const r = convlab(...args, '--store', store);
      assert.equal(r.code, 0, r.err);
      // biome-ignore lint/suspicious/noControlCharactersInRegex: the test looks for a raw escape character.
      assert.doesNotMatch(r.out, /\u001b/);
      assert.match(r.out, /two\\u000alines \\u001b\[31mred/);
    }
  });

  test('report --sort with an unknown column exits 2 naming the columns there are', () => {
    const r = convlab('report', 'rep', '--store', store, '--sort', 'nosuch_metric', '--out', join(dir, 'never'));
    assert.equal(r.code, 2, r.err);
    assert.match(r.err, /--sort nosuch_metric: no such metric or swept parameter; expected one of .*test_accuracy/);
    assert.ok(!existsSync(join(dir, 'never')));
  });
});

describe('runs that fail say so', { skip: noSqlite }, () => {
  // A linear output under squared error with an absurd learning rate overflows within the first batches.
  const diverging = (name: string, train = '') =>
    tiny(name)
      .replace('validation: {count: 50}', 'validation: {count: 50}, transforms: [{one_hot: true}]')
      .replace('activation: softmax', 'activation: linear')
      .replace(
        'train: {epochs: 1, batch_size: 50}',
        `train: {epochs: 2, batch_size: 50, loss: mean_squared_error, optimizer: {sgd: {learning_rate: 1.0e+30}}${train}}`,
      );

  test('a loss that becomes NaN or infinite fails train (exit 1) naming the epoch and batch', () => {
    const r = convlab('train', file('div.yaml', diverging('diverges')), '-q');
    assert.equal(r.code, 1, r.err);
    assert.match(r.err, /the training loss became (NaN|Infinity) at epoch 1, batch \d+; training stopped/);
    assert.doesNotMatch(r.err, /at .*\.js:\d+/, 'no stack trace');
  });

  test('with terminate_on_nan: false it trains on and warns', () => {
    const r = convlab('train', file('div-off.yaml', diverging('div-off', ', terminate_on_nan: false')), '-q');
    assert.equal(r.code, 0, r.err);
    assert.match(r.err, /warning: the training loss became (NaN|Infinity) in epoch 1 and training went on/);
  });

  test('in a study the diverged trial is recorded failed and run exits 1', () => {
    const store = join(dir, 'div-store');
    const r = convlab('run', file('div-study.yaml', diverging('div-study')), '--store', store, '-q');
    assert.equal(r.code, 1, r.err);
    const trials = JSON.parse(convlab('ls', 'div-study', '--store', store, '--json').out) as { status: string; error: string }[];
    assert.equal(trials[0].status, 'failed');
    assert.match(trials[0].error, /the training loss became .* at epoch 1, batch/);
    assert.ok(!existsSync(join(store, 'trials', '1')), 'a failed trial leaves no files');
  });

  test('an empty sweep is an error, not a study of 0 trials', () => {
    for (const sweep of ['{variants: {}}', '{grid: {}}', '{random: {trials: 3, params: {}}}']) {
      const r = convlab('run', file('empty.yaml', tiny('empty', `sweep: ${sweep}`)), '--store', join(dir, 'empty-store'));
      assert.equal(r.code, 2, sweep);
      assert.match(r.err, /sweep\.(variants|grid|random\.params): an empty mapping makes no trials/, sweep);
    }
  });

  test('a trial whose process is gone shows as interrupted; one that trains records heartbeats', () => {
    const store = join(dir, 'ghost-store');
    const s = new SqliteStore(store);
    const e = s.upsertExperiment('ghost', {}, null);
    const [t] = s.addTrials(e.id, [{ key: 'g', label: 'g', group: 'g', variant: null, values: {}, repeat: 0, seed: 0, config: {} }]);
    // A process id that cannot exist on Linux (above pid_max), on this host.
    s.claimTrial([t.id], `4194305@${hostname()}`);
    assert.equal(s.getTrial(t.id)!.status, 'interrupted');
    assert.ok(s.getTrial(t.id)!.heartbeatAt);
    s.close();
    const ls = convlab('ls', 'ghost', '--store', store);
    assert.match(ls.out, /#1\s+g\s+interrupted/);
  });

  /** Starts `convlab run` on a long one-trial study and waits until its trial has finished an epoch. */
  async function startLongStudy(name: string) {
    const store = join(dir, `${name}-store`);
    const spec = file(
      `${name}.yaml`,
      tiny(name).replace('subset: {train: 200}', 'subset: {train: 6000}').replace('epochs: 1', 'epochs: 40'),
    );
    const child = spawn(
      process.execPath,
      [fileURLToPath(new URL('../../../bin/convlab.js', import.meta.url)), 'run', spec, '--store', store, '-q'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const output = { out: '', err: '' };
    child.stdout.on('data', (b) => (output.out += b));
    child.stderr.on('data', (b) => (output.err += b));
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    for (let i = 0; i < 600; i++) {
      await new Promise((r) => setTimeout(r, 50));
      try {
        const s = new SqliteStore(store);
        const t = s.trials().find((x) => x.epochsDone >= 1);
        s.close();
        if (t) return { store, spec, child, output, exited, worker: Number(t.worker!.split('@')[0]) };
      } catch {
        // not created yet
      }
    }
    throw new Error(`${name}: no epoch finished in 30 s`);
  }

  test('Ctrl-C stops a study and says how to resume it; the next run resumes', async () => {
    const { store, spec, child, output, exited } = await startLongStudy('int');
    child.kill('SIGINT');
    assert.equal(await exited, 130);
    assert.match(
      output.err,
      /interrupted \(SIGINT\): 0 of 1 trials are done and kept; `convlab run .*int\.yaml --store .*` resumes the other trial \(#1 after epoch \d+, from the last finished epoch\)/,
    );
    await new Promise((r) => setTimeout(r, 200));
    const ls = JSON.parse(convlab('ls', 'int', '--store', store, '--json').out) as { status: string }[];
    assert.equal(ls[0].status, 'interrupted');
    // What a kill in the middle of a save leaves behind is cleared when the trial resumes.
    const stale = join(store, 'trials', '1', 'checkpoint', '.next.tmp-AbC123');
    mkdirSync(stale, { recursive: true });
    writeFileSync(join(stale, 'weights.bin'), 'partial');
    const again = convlab('run', spec, '--store', store);
    assert.match(again.out, /resuming after epoch \d+/);
    assert.equal(again.code, 0, again.err);
    assert.ok(!existsSync(stale), 'the half-written temporary folder is gone');
  });

  test('a worker that is killed has its trial recorded failed, saying how it ended', async () => {
    const { output, exited, worker } = await startLongStudy('oom');
    process.kill(worker, 'SIGKILL');
    assert.equal(await exited, 1);
    assert.match(output.out, /1 trial failed: #1 oom: the worker process was killed by SIGKILL \(out of memory\?\) during this trial/);
  });
});

describe('mistakes found before training, with their field path (exit 2)', () => {
  const bad = (name: string, text: string, ...args: string[]) => {
    const r = convlab('train', file(`${name}.yaml`, text), '-q', ...args);
    assert.equal(r.code, 2, `${name}: ${r.err}`);
    assert.doesNotMatch(r.err, /Epoch|at .*\.js:\d+/, `${name}: found before training, without a stack trace`);
    return r.err;
  };

  test('losses that do not fit the outputs or the targets', () => {
    assert.match(
      bad('sparse1', tiny('s1').replace('units: 10, activation: softmax', 'units: 1, activation: sigmoid')),
      /train\.loss: sparse_categorical_crossentropy needs one unit per class, and the output has 1 unit/,
    );
    assert.match(
      bad('onehot-sparse', tiny('s2').replace('validation: {count: 50}', 'validation: {count: 50}, transforms: [{one_hot: true}]')),
      /train\.loss: sparse_categorical_crossentropy takes integer class labels, but the data gives one-hot rows/,
    );
    assert.match(
      bad('labels-cce', tiny('s3').replace('batch_size: 50', 'batch_size: 50, loss: categorical_crossentropy')),
      /train\.loss: categorical_crossentropy compares each output unit with the target, but the data gives one integer label per sample and the output has 10 units: use sparse_categorical_crossentropy, or add \{one_hot: true\} to data\.transforms/,
    );
    const functional = `
name: two
data: {dataset: mnist, subset: {train: 100}}
model:
  inputs: {image: [28, 28, 1]}
  layers:
    - {name: flat, inputs: image, Flatten: {}}
    - Dense: {name: digit, units: 10, activation: softmax}
train: {epochs: 1, loss: {digti: sparse_categorical_crossentropy}}
`;
    assert.match(bad('map', functional), /train\.loss\.digti: no output is named 'digti': the model's outputs are 'digit'/);
  });

  test('outputs under a regular file, and an existing folder that is not a saved model, before training', () => {
    const plain = file('plain.txt', 'x');
    assert.match(
      bad('save', tiny('sv'), '--save', join(plain, 'model')),
      /--save .*plain\.txt\/model: .*plain\.txt is a file, not a folder/,
    );
    assert.match(
      bad(
        'csv',
        tiny('csv', '').replace('batch_size: 50', `batch_size: 50, callbacks: [{csv_logger: {filename: "${join(plain, 'log.csv')}"}}]`),
      ),
      /train\.callbacks\[0\]\.csv_logger\.filename: .*is a file, not a folder/,
    );
    assert.match(
      bad(
        'out',
        tiny('out', 'evaluate: {filters: true}').replace('Flatten: {}', 'Conv2D: {filters: 2, kernel_size: 3}}, {Flatten: {}'),
        '--out',
        join(plain, 'o'),
      ),
      /--out .*is a file, not a folder/,
    );
    const notModel = join(dir, 'not-a-model');
    mkdirSync(notModel);
    writeFileSync(join(notModel, 'data.csv'), '1,2');
    assert.match(
      bad('save2', tiny('sv2'), '--save', notModel),
      /--save .*not-a-model: it exists and holds 'data\.csv', which convlab did not write/,
    );
    assert.deepEqual(readdirSync(notModel), ['data.csv']);
  });

  test("smaller slips: NaN values by name, huge batches, unused inputs, the run command's data. prefix", () => {
    assert.match(
      bad('nan', tiny('nan').replace('batch_size: 50', 'batch_size: 50, optimizer: {adam: {learning_rate: .nan}}')),
      /train\.optimizer.*(NaN|\.nan)/,
    );
    assert.doesNotMatch(
      bad('nan2', tiny('nan2').replace('batch_size: 50', 'batch_size: 50, optimizer: {adam: {learning_rate: .nan}}')),
      /found null/,
    );
    assert.match(
      bad('huge', tiny('huge').replace('batch_size: 50', 'batch_size: 1000000000')),
      /train\.batch_size: expected at most 1,048,576 samples a batch/,
    );
    const unused = `
name: unused
data: {dataset: mnist, subset: {train: 100}}
model:
  inputs: {image: [28, 28, 1], extra: [4]}
  layers:
    - {inputs: image, Flatten: {}}
    - Dense: {units: 10, activation: softmax}
`;
    assert.match(bad('unused', unused), /model\.inputs: input 'extra' is not used by any layer/);
    const r = convlab(
      'run',
      file('frac.yaml', tiny('frac').replace('validation: {count: 50}', 'validation: {fraction: 2}')),
      '--store',
      join(dir, 'frac-store'),
    );
    assert.equal(r.code, 2);
    assert.match(r.err, /^\s+data\.validation/m);
  });

  test('a spec path that is a folder, and an empty output path, are named', () => {
    const folder = join(dir, 'a-folder');
    mkdirSync(folder, { recursive: true });
    const r = convlab('train', folder);
    assert.equal(r.code, 2);
    assert.match(r.err, /a-folder: it is a folder; expected a YAML or JSON spec file/);
    assert.match(bad('empty-save', tiny('es'), '--save', ''), /--save: expected a path, got an empty string/);
  });

  test('functional layers written with name and inputs beside the class build the same model', () => {
    const both = (layers: string) => `
name: f
data: {dataset: mnist, subset: {train: 100}}
model:
  inputs: {image: [28, 28, 1]}
  layers:
${layers}
  outputs: [out]
`;
    const inside = convlab(
      'summary',
      file(
        'inside.yaml',
        both(
          '    - Conv2D: {name: c1, inputs: image, filters: 2, kernel_size: 3}\n    - Flatten: {name: fl, inputs: c1}\n    - Dense: {name: out, inputs: fl, units: 10}',
        ),
      ),
    );
    const beside = convlab(
      'summary',
      file(
        'beside.yaml',
        both(
          '    - {name: c1, inputs: image, Conv2D: {filters: 2, kernel_size: 3}}\n    - {name: fl, inputs: c1, Flatten: {}}\n    - {name: out, inputs: fl, Dense: {units: 10}}',
        ),
      ),
    );
    assert.equal(beside.code, 0, beside.err);
    assert.equal(beside.out, inside.out);
    const twoClasses = convlab(
      'summary',
      file('two.yaml', both('    - {name: c1, Conv2D: {filters: 2, kernel_size: 3}, Dense: {units: 3}}')),
    );
    assert.equal(twoClasses.code, 2);
    assert.match(
      twoClasses.err,
      /model\.layers\[0\]: expected one layer .* found a mapping with 2 keys that are not name or inputs \(Conv2D, Dense\): one layer class per entry/,
    );
  });
});

describe('stores that cannot be used (exit 2, no stack trace, no hang)', { skip: noSqlite }, () => {
  const bad = (store: string, pattern: RegExp) => {
    const r = runConvlab(['ls', '--store', store], 20_000);
    assert.equal(r.code, 2, `${store}: ${r.err}`);
    assert.match(r.err, pattern);
    assert.doesNotMatch(r.err, /at .*\.js:\d+/);
  };

  test("a folder named like the database, a garbage file, another program's database, a path under a file, /proc", () => {
    const asDir = join(dir, 'st1');
    mkdirSync(join(asDir, 'runs.db'), { recursive: true });
    bad(asDir, /runs\.db: it is not a file; expected the store's SQLite database/);
    const garbage = join(dir, 'st2');
    mkdirSync(garbage);
    writeFileSync(join(garbage, 'runs.db'), 'this is not a database at all, just text '.repeat(200));
    bad(garbage, /runs\.db: it is not a SQLite database \(SQLITE_NOTADB\)/);
    const other = join(dir, 'st3');
    mkdirSync(other);
    const Database = createRequire(import.meta.url)('better-sqlite3') as new (file: string) => { exec(sql: string): void; close(): void };
    const db = new Database(join(other, 'runs.db'));
    db.exec('CREATE TABLE invoices (id INTEGER, total REAL)');
    db.close();
    bad(other, /this SQLite database is not a convlab run store \(it has the tables invoices at schema version 0/);
    const plain = file('plain-store.txt', 'x');
    bad(join(plain, 'store'), /plain-store\.txt is a file, not a folder/);
    bad(plain, /it is a file; expected a folder/);
    bad('/proc/convlab-x/store', /cannot create the folder \/proc\/convlab-x/);
  });
});

/** A 1 MiB tmpfs to fill up, where this process may mount one (root); otherwise the test skips, visibly. */
const tinyDisk = join(dir, 'tiny-disk');
const noMount: string | false = (() => {
  if (noSqlite) return noSqlite;
  if (process.platform !== 'linux' || process.getuid?.() !== 0) return 'mounting a small tmpfs needs root on Linux';
  mkdirSync(tinyDisk, { recursive: true });
  const r = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', tinyDisk], { encoding: 'utf8' });
  if (r.status !== 0) return `cannot mount a tmpfs here (${(r.stderr || r.error?.message || '').trim()})`;
  mounted = tinyDisk;
  return false;
})();

describe('a full disk', { skip: noMount }, () => {
  const spec = () =>
    file(
      'full.yaml',
      tiny('full').replace('subset: {train: 200}', 'subset: {train: 500}').replace('{Flatten: {}}', '{Flatten: {}}, {Dense: {units: 64}}'),
    );
  /** A fresh store on the tiny disk, then a filler file that leaves `freeKb` free. */
  const fill = (freeKb: number) => {
    rmSync(join(tinyDisk, 'filler'), { force: true });
    rmSync(join(tinyDisk, 'st'), { recursive: true, force: true });
    new SqliteStore(join(tinyDisk, 'st')).close();
    const avail = Number(spawnSync('df', ['--output=avail', '-k', tinyDisk], { encoding: 'utf8' }).stdout.trim().split('\n').pop());
    writeFileSync(join(tinyDisk, 'filler'), Buffer.alloc(Math.max(0, avail - freeKb) * 1024));
  };

  test('while a trial writes its checkpoint: the trial fails saying so, nothing half-written stays, exit 1', () => {
    fill(150);
    const r = convlab('run', spec(), '--store', join(tinyDisk, 'st'), '-q');
    assert.equal(r.code, 1, r.err);
    assert.match(r.out, /1 trial failed: #1 full: no space left on the device \(ENOSPC\) while writing under .*trials\/1; free some space/);
    assert.doesNotMatch(r.err, /at .*\.js:\d+/);
    assert.ok(!existsSync(join(tinyDisk, 'st', 'trials', '1')), 'the failed trial left no files');
  });

  test('while the store itself grows: one line naming the store, exit 1, no stack trace', () => {
    fill(30);
    const r = convlab('run', spec(), '--store', join(tinyDisk, 'st'), '-q');
    assert.equal(r.code, 1, r.err);
    assert.match(r.err, /^convlab: the run store.*(SQLITE_FULL|SQLITE_IOERR).*(free some space|disk full)/m);
    assert.doesNotMatch(r.err, /at .*\.js:\d+/);
    rmSync(join(tinyDisk, 'filler'), { force: true });
  });
});

test('failures that are not bugs (a full disk, a store error) are one line without a stack trace', async () => {
  const { describeFailure } = await import('../../src/cli/main.js');
  assert.equal(
    describeFailure(Object.assign(new Error('database or disk is full'), { code: 'SQLITE_FULL' })),
    'the run store: database or disk is full (SQLITE_FULL); free some space on its disk and run the command again',
  );
  assert.match(
    describeFailure(
      Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC', syscall: 'write', path: '/x/weights.bin' }),
    )!,
    /cannot write \/x\/weights\.bin: no space left on the device \(ENOSPC\)/,
  );
  assert.equal(describeFailure(new TypeError('a bug')), null);
});
