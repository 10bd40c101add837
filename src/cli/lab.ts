/** `convlab run | ls | show | compare | diff`: studies in the run store. */
import { availableParallelism } from 'node:os';
import type { Command } from 'commander';
import { stringify } from 'yaml';
import { checkSpec } from '../lab/spec.js';
import { compareTrials, diffConfigs, formatCsv, formatMarkdown, formatTable, toJson } from '../lab/compare.js';
import { planStudy, runStudy, workOn } from '../lab/runner.js';
import { type AsyncRunStore, asyncStore, SqliteStore, type RunStore, type TrialRow } from '../lab/store.js';
import { isPostgresUrl, openAsyncStore, SnapshotStore } from '../lab/open_store.js';
import { type PostgresStore, redactUrl } from '../lab/pg_store.js';
import { enqueueStudy, workQueue } from '../lab/queue.js';
import { buildSpecModel, type SplitEvaluation } from '../lab/train_run.js';
import { printEvaluation } from './evaluation.js';
import { printable } from '../util/text.js';
import { SpecFileError } from '../lab/spec.js';
import { viewTrials } from '../lab/views.js';
import { maxOf } from '../util/numbers.js';

/** A word as the shell reads it back: quoted only when it needs to be. */
function shellQuote(word: string): string {
  return /^[\w./=:@%+,-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

export const defaultStore = () => process.env.CONVLAB_STORE ?? '.convlab';

/**
 * Runs fn with the store for reading and closes it, even when fn throws. A PostgreSQL store is read as a snapshot
 * taken now, so every view works on it as on SQLite.
 */
export async function withStore<T>(ref: string, fn: (store: RunStore, files: TrialFiles) => T | Promise<T>): Promise<T> {
  if (isPostgresUrl(ref)) {
    const live = await openAsyncStore(ref);
    try {
      return await fn(await SnapshotStore.of(live, redactUrl(ref)), async (id, sub) => live.getFiles?.(id, sub));
    } finally {
      await live.close();
    }
  }
  const store = new SqliteStore(ref);
  try {
    return await fn(store, async () => {});
  } finally {
    store.close();
  }
}

/**
 * Brings a trial's folder ('model', 'artifacts') to this machine where the store keeps the trials' files
 * (PostgreSQL); nothing to do for a folder store.
 */
export type TrialFiles = (trialId: number, sub: 'model' | 'artifacts') => Promise<void>;

/** The artifacts of a trial (an id) or of an experiment's trials (a name), brought here before figures read them. */
export async function fetchArtifacts(store: RunStore, files: TrialFiles, target: string): Promise<void> {
  const id = Number(target.replace(/^#/, ''));
  const trial = Number.isInteger(id) ? store.getTrial(id) : null;
  const experiment = trial ? null : store.getExperiment(target);
  const trials = trial ? [trial] : experiment ? store.trials(experiment.id) : [];
  for (const t of trials) if (store.artifacts(t.id).some((a) => a.kind !== 'model')) await files(t.id, 'artifacts');
}

/**
 * Runs fn with the store to read (as withStore gives it) and to write to (as withAsyncStore does), for commands that
 * add to a trial (evaluate): on SQLite both are the one store; on PostgreSQL, a snapshot and the live store.
 */
export async function withReadWriteStore<T>(ref: string, fn: (read: RunStore, write: AsyncRunStore) => T | Promise<T>): Promise<T> {
  if (isPostgresUrl(ref)) {
    const live = await openAsyncStore(ref);
    try {
      return await fn(await SnapshotStore.of(live, redactUrl(ref)), live);
    } finally {
      await live.close();
    }
  }
  const store = new SqliteStore(ref);
  try {
    return await fn(store, asyncStore(store));
  } finally {
    store.close();
  }
}

/** Runs fn with the store for writing (run, worker, train): SQLite or PostgreSQL behind the asynchronous interface. */
export async function withAsyncStore<T>(ref: string, fn: (store: AsyncRunStore) => T | Promise<T>): Promise<T> {
  const store = await openAsyncStore(ref);
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}

export function findTrial(store: RunStore, ref: string): TrialRow {
  const id = Number(ref.replace(/^#/, ''));
  const t = Number.isInteger(id) ? store.getTrial(id) : null;
  if (!t) throw new SpecFileError(`no trial ${ref} in ${store.root}: \`convlab ls EXPERIMENT\` lists trial ids`);
  return t;
}

export function findExperiment(store: RunStore, ref: string) {
  const e = store.getExperiment(ref);
  if (!e) {
    const names = store.listExperiments().map((x) => x.name);
    throw new SpecFileError(
      `no experiment '${ref}' in ${store.root}${names.length ? `: expected one of ${names.join(', ')}` : ' (it is empty: `convlab run SPEC` fills it)'}`,
    );
  }
  return e;
}

const fmtSeconds = (s: number | null) =>
  s === null ? '–' : s < 60 ? `${s.toFixed(1)} s` : `${Math.floor(s / 60)}m${String(Math.round(s % 60)).padStart(2, '0')}s`;

export function table(header: string[], raw: string[][], rightFrom = 99): string {
  const rows = raw.map((r) => r.map(printable));
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i >= rightFrom ? c.padStart(widths[i]) : c.padEnd(widths[i])))
      .join('  ')
      .trimEnd();
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

/** The key metric of a trial: test accuracy, else validation accuracy, else the last split's loss. */
function keyMetric(store: RunStore, t: TrialRow): string {
  const f = store.finals(t.id);
  for (const [split, m] of [
    ['test', 'accuracy'],
    ['validation', 'accuracy'],
    ['test', 'loss'],
    ['validation', 'loss'],
    ['train', 'loss'],
  ]) {
    const v = f[split]?.[m];
    if (v !== undefined) return `${split === 'validation' ? 'val' : split}_${m} ${v.toFixed(4)}`;
  }
  return '–';
}

export function registerLabCommands(program: Command): void {
  registerRunCommand(program);
  registerWorkerCommand(program);
  registerLsCommand(program);
  registerShowCommand(program);
  registerCompareCommand(program);
  registerDiffCommand(program);
}

function registerRunCommand(program: Command): void {
  program
    .command('run')
    .description("run every trial of a spec's sweep into the run store; finished trials are kept, interrupted ones resume")
    .argument('<spec>', 'experiment file (YAML or JSON) with an optional sweep block')
    .option('--set <path=value>', 'override a field of the spec before the sweep expands (repeatable)', collect, [])
    .option('--parallel <n>', 'worker processes, sharing the cores (default 1)', '1')
    .option('--fresh', 'forget earlier results of these trials and run them all again')
    .option('-q, --quiet', 'no per-epoch output')
    .option('--json', 'print the trials and their final metrics as JSON on stdout (progress goes to stderr)')
    .option('--store <dir>', 'the run store: a folder (default .convlab), a postgres:// URL, or CONVLAB_STORE')
    .option('--enqueue', 'put the trials on the queue of a PostgreSQL store, for `convlab worker` processes to train, and return')
    .action(
      async (
        file: string,
        opts: { set: string[]; parallel: string; fresh?: boolean; quiet?: boolean; json?: boolean; store?: string; enqueue?: boolean },
      ) => {
        if (opts.enqueue) return enqueueCommand(file, opts);
        const parallel = Number(opts.parallel);
        if (!Number.isInteger(parallel) || parallel < 1)
          throw new SpecFileError(`--parallel: expected a positive integer, got '${opts.parallel}'`);
        if (parallel > availableParallelism() * 2)
          throw new SpecFileError(
            `--parallel ${parallel}: this machine has ${availableParallelism()} cores; more than ${availableParallelism() * 2} workers only compete for them`,
          );
        const log = opts.json ? (s: string) => process.stderr.write(`${s}\n`) : (s: string) => console.log(s);
        // A spec that does not check, or data that is not there, stops the run before a store is made.
        const planned = planStudy(file, opts.set);
        await withAsyncStore(opts.store ?? defaultStore(), async (store) => {
          const command = ['convlab', 'run', file, ...opts.set.flatMap((o) => ['--set', o]), ...(opts.store ? ['--store', opts.store] : [])]
            .map(shellQuote)
            .join(' ');
          const study = await runStudy(store, file, opts.set, {
            planned,
            parallel,
            fresh: opts.fresh,
            quiet: opts.quiet || opts.json || parallel > 1,
            log,
            isolate: true,
            command,
            progressTo: opts.json ? 'stderr' : 'stdout',
          });
          const failed = study.trials.filter((t) => t.status === 'failed');
          if (opts.json) {
            const trials = [];
            for (const t of study.trials)
              trials.push({
                id: t.id,
                label: t.label,
                status: t.status,
                error: t.error,
                seed: t.seed,
                params: t.params,
                seconds: t.seconds,
                final: await store.finals(t.id),
              });
            process.stdout.write(`${JSON.stringify({ experiment: study.experiment, trials })}\n`);
          } else {
            console.log('');
            const snapshot = await SnapshotStore.of(store, redactUrl(opts.store ?? defaultStore()), {
              experimentId: study.trials[0]?.experimentId,
            });
            const c = compareTrials(snapshot, study.experiment, study.trials);
            console.log(formatTable(c));
            if (failed.length)
              console.log(
                `\n${failed.length} trial${failed.length === 1 ? '' : 's'} failed: ${failed.map((t) => `#${t.id} ${t.label}: ${t.error}`).join('; ')}`,
              );
          }
          // The study went on past failed trials, but the exit status tells scripts that something failed.
          if (failed.length) process.exitCode = 1;
        });
      },
    );
}

/** `run --enqueue`: the study's trials onto the queue of a PostgreSQL store. */
async function enqueueCommand(file: string, opts: { set: string[]; parallel: string; fresh?: boolean; json?: boolean; store?: string }) {
  const ref = opts.store ?? defaultStore();
  if (!isPostgresUrl(ref))
    throw new SpecFileError(
      `--enqueue: the store ${ref} is a folder (SQLite, one machine); the queue lives in a PostgreSQL store: --store postgres://user:password@host/db or CONVLAB_STORE. On one machine, --parallel N runs trials side by side`,
    );
  if (opts.parallel !== '1')
    throw new SpecFileError(
      '--enqueue and --parallel: an enqueued study is trained by `convlab worker` processes; start as many as wanted',
    );
  const planned = planStudy(file, opts.set);
  await withAsyncStore(ref, async (store) => {
    const q = await enqueueStudy(store as PostgresStore, file, opts.set, { planned, fresh: opts.fresh });
    if (opts.json) {
      process.stdout.write(`${JSON.stringify(q)}\n`);
      return;
    }
    console.log(
      `Experiment ${q.experiment}: ${q.trials} trial${q.trials === 1 ? '' : 's'}, ${q.finished} already finished; ${q.enqueued} put on the queue now, ${q.queued} already queued or training; store ${redactUrl(ref)}`,
    );
    if (q.withdrawn)
      console.log(
        `${q.withdrawn} waiting trial${q.withdrawn === 1 ? '' : 's'} of an earlier version of the spec taken off the queue (\`convlab ls ${q.experiment} --all\` lists them)`,
      );
    if (q.enqueued + q.queued > 0)
      console.log(
        'Train them with `convlab worker` on any machine that reaches this database (give it the URL in CONVLAB_STORE); `convlab ls` shows progress',
      );
  });
}

function registerWorkerCommand(program: Command): void {
  program
    .command('worker')
    .description(
      'train trials from the queue of a PostgreSQL store (filled by `run --enqueue`), one at a time, until stopped; start one on each machine',
    )
    .option('--store <url>', 'the PostgreSQL store (default CONVLAB_STORE, which keeps the password out of ps)')
    .option('--until-empty', 'stop once no trial is waiting on the queue or training')
    .option('--progress', 'print per-epoch progress')
    .option('--experiment <id>', '(for run --parallel) the experiment whose trials to claim')
    .option('--log', '(for run --parallel) print a line as each trial starts and ends')
    .option('--parent <pid>', '(for run --parallel) stop when this process (the run command) is gone')
    .argument('[ids...]', '(for run --parallel) the trials to claim')
    .action(
      async (
        ids: string[],
        opts: { store?: string; experiment?: string; log?: boolean; progress?: boolean; parent?: string; untilEmpty?: boolean },
      ) => {
        const ref = opts.store ?? defaultStore();
        if (ids.length > 0) {
          await withAsyncStore(ref, (store) =>
            workOn(store, ids.map(Number), {
              quiet: !opts.progress,
              log: opts.log ? (s) => console.log(s) : undefined,
              parentPid: opts.parent === undefined ? undefined : Number(opts.parent),
            }),
          );
          return;
        }
        if (!isPostgresUrl(ref))
          throw new SpecFileError(
            `convlab worker takes trials from the queue of a PostgreSQL store: --store postgres://user:password@host/db or CONVLAB_STORE (got ${ref}); on one machine, \`convlab run SPEC --parallel N\` does it with a folder store`,
          );
        await withAsyncStore(ref, (store) =>
          workQueue(store as PostgresStore, { quiet: !opts.progress, untilEmpty: opts.untilEmpty, log: (s) => console.log(s) }),
        );
      },
    );
}

function registerLsCommand(program: Command): void {
  program
    .command('ls')
    .description('list experiments, or the trials of one, with status, key metric and duration')
    .argument('[experiment]', 'an experiment name or id')
    .option('--all', "also the trials of earlier versions of the experiment's spec, labelled apart")
    .option('--store <dir>', 'the run store folder (default .convlab, or CONVLAB_STORE)')
    .option('--json', 'as JSON')
    .action(async (ref: string | undefined, opts: { store?: string; json?: boolean; all?: boolean }) => {
      await withStore(opts.store ?? defaultStore(), (store) => {
        if (ref === undefined) {
          const rows = store.listExperiments().map((e) => {
            const trials = store.trials(e.id);
            const count = (s: string) => trials.filter((t) => t.status === s).length;
            return {
              id: e.id,
              name: e.name,
              trials: trials.length,
              finished: count('finished'),
              failed: count('failed'),
              running: count('running'),
              interrupted: count('interrupted'),
              pending: count('pending'),
              seconds: trials.reduce((a, t) => a + (t.seconds ?? 0), 0),
              updated: e.updatedAt,
            };
          });
          if (opts.json) return void process.stdout.write(`${JSON.stringify(rows)}\n`);
          if (rows.length === 0) return void console.log(`No experiments in ${store.root} yet: \`convlab run SPEC\` records one.`);
          console.log(
            table(
              ['id', 'experiment', 'trials', 'finished', 'failed', 'running', 'interrupted', 'pending', 'time', 'updated'],
              rows.map((r) => [
                String(r.id),
                r.name,
                String(r.trials),
                String(r.finished),
                String(r.failed),
                String(r.running),
                String(r.interrupted),
                String(r.pending),
                fmtSeconds(r.seconds),
                r.updated.replace('T', ' ').slice(0, 19),
              ]),
              2,
            ),
          );
          return;
        }
        const e = findExperiment(store, ref);
        const trials = viewTrials(store, e, { all: opts.all });
        const hidden = store.trials(e.id).length - trials.length;
        if (opts.json) {
          const rows = trials.map((t) => ({
            id: t.id,
            label: t.label,
            status: t.status,
            seed: t.seed,
            epochs: t.epochsDone,
            params: t.params,
            seconds: t.seconds,
            final: store.finals(t.id),
            error: t.error,
            worker: t.worker,
            heartbeat_at: t.heartbeatAt,
          }));
          return void process.stdout.write(`${JSON.stringify(rows)}\n`);
        }
        console.log(
          `Experiment ${e.name} (${trials.length} trials, spec ${e.specFile ?? '–'}${hidden ? `; ${hidden} more from earlier versions of the spec: --all` : ''})`,
        );
        // Which process (pid@host) holds each running trial, and when it was last heard from.
        const held = trials.some((t) => t.status === 'running' || t.status === 'interrupted');
        console.log(
          table(
            ['trial', 'model', 'status', 'seed', 'epochs', 'params', 'key metric', 'time', ...(held ? ['worker'] : [])],
            trials.map((t) => [
              `#${t.id}`,
              t.label,
              t.status === 'failed' ? `failed: ${(t.error ?? '').split('\n')[0].slice(0, 60)}` : t.status,
              String(t.seed),
              String(t.epochsDone),
              t.params === null ? '–' : t.params.toLocaleString('en-US'),
              keyMetric(store, t),
              fmtSeconds(t.seconds),
              ...(held ? [workerOf(t)] : []),
            ]),
          ),
        );
      });
    });
}

/** 'pid@host, heard 12 s ago' for a running or interrupted trial; '–' otherwise. */
export function workerOf(t: TrialRow, now = Date.now()): string {
  if ((t.status !== 'running' && t.status !== 'interrupted') || !t.worker) return '–';
  if (!t.heartbeatAt) return t.worker;
  const ago = Math.max(0, (now - Date.parse(t.heartbeatAt)) / 1000);
  return `${t.worker}, heard ${ago < 90 ? `${ago.toFixed(0)} s` : ago < 5400 ? `${(ago / 60).toFixed(0)} min` : `${(ago / 3600).toFixed(1)} h`} ago`;
}

function registerShowCommand(program: Command): void {
  program
    .command('show')
    .description("a trial's config, model summary, history and final metrics")
    .argument('<trial>', 'trial id (as `convlab ls EXPERIMENT` lists them)')
    .option('--store <dir>', 'the run store folder (default .convlab, or CONVLAB_STORE)')
    .option('--json', 'as JSON')
    .action(async (ref: string, opts: { store?: string; json?: boolean }) => {
      await withStore(opts.store ?? defaultStore(), (store) => {
        const t = findTrial(store, ref);
        const history = store.epochs(t.id);
        const finals = store.finals(t.id);
        const extra = store.extra(t.id);
        const artifacts = store.artifacts(t.id);
        if (opts.json) {
          return void process.stdout.write(
            `${JSON.stringify({ ...t, history, final: finals, evaluation: extra.evaluation ?? {}, artifacts })}\n`,
          );
        }
        console.log(`Trial #${t.id}: ${t.label} (experiment ${t.experiment}, ${t.status}${t.error ? `: ${t.error}` : ''})`);
        const env = t.env as {
          backend?: string;
          threads?: number;
          convlab?: string;
          git_commit?: string | null;
          machine?: { host: string; cpu: string };
        };
        console.log(`seed ${t.seed}; started ${t.startedAt ?? '–'}, finished ${t.finishedAt ?? '–'}, training ${fmtSeconds(t.seconds)}`);
        if ((t.status === 'running' || t.status === 'interrupted') && t.worker) {
          const [pid, host] = [t.worker.slice(0, t.worker.indexOf('@')), t.worker.slice(t.worker.indexOf('@') + 1)];
          console.log(
            `${t.status === 'running' ? 'running in' : 'was running in'} process ${pid} ` +
              `on ${host}; last heartbeat ${t.heartbeatAt ?? '–'}${t.status === 'interrupted' ? '; that process is gone: `convlab run` on its spec resumes it from its last finished epoch' : ''}`,
          );
        }
        if (env.backend)
          console.log(
            `convlab ${env.convlab}${env.git_commit ? ` (${env.git_commit.slice(0, 10)})` : ''}, backend ${env.backend}, ${env.threads} thread(s), ${env.machine?.cpu} on ${env.machine?.host}`,
          );
        console.log('\nConfig:');
        console.log(
          stringify(t.config)
            .trimEnd()
            .split('\n')
            .map((l) => `  ${l}`)
            .join('\n'),
        );
        console.log('');
        try {
          buildSpecModel(checkSpec(t.config)).summary();
        } catch (e) {
          console.log(`(the model cannot be built: ${(e as Error).message})`);
        }
        if (history.length) {
          const keys = Object.keys(history[0]).filter((k) => k !== 'epoch' && k !== 'samples_per_second');
          console.log('\nHistory:');
          console.log(
            table(
              ['epoch', ...keys],
              history.map((h) => [
                String(h.epoch + 1),
                ...keys.map((k) =>
                  k === 'seconds' || k === 'cpu_seconds'
                    ? h[k].toFixed(1)
                    : k === 'rss_mb'
                      ? h[k].toFixed(0)
                      : k === 'lr'
                        ? String(+h[k].toPrecision(4))
                        : (h[k]?.toFixed(4) ?? '–'),
                ),
              ]),
              0,
            ),
          );
        }
        if (Object.keys(finals).length) {
          const metrics = [...new Set(Object.values(finals).flatMap((l) => Object.keys(l)))];
          console.log('\nFinal metrics:');
          console.log(
            table(
              ['split', ...metrics],
              Object.entries(finals).map(([split, l]) => [split, ...metrics.map((m) => l[m]?.toFixed(4) ?? '–')]),
              1,
            ),
          );
        }
        if (extra.evaluation) printEvaluation(extra.evaluation as Record<string, SplitEvaluation>, (l) => console.log(l));
        if (artifacts.length) {
          console.log(`\nArtifacts (under ${store.root}):`);
          for (const a of artifacts) console.log(`  ${a.kind.padEnd(12)} ${a.name.padEnd(24)} ${a.path}`);
        }
      });
    });
}

function registerCompareCommand(program: Command): void {
  program
    .command('compare')
    .description('one row per trial (or per configuration, repeats as mean ± std), sorted by a metric')
    .argument('<experiment>', 'an experiment name or id')
    .option('--sort <column>', 'sort by this metric or swept parameter, shown or not (default val_accuracy or test_accuracy; best first)')
    .option('--asc', 'sort ascending')
    .option('--desc', 'sort descending')
    .option('--columns <list>', 'comma-separated metrics and swept parameters, e.g. learning_rate,train_loss,val_accuracy,params,seconds')
    .option('--group-by <param>', 'one row per value of a swept parameter (or variant), its trials as mean ± std')
    .option('--trials', 'one row per trial even when there are repeats')
    .option('--all', "also the trials of earlier versions of the experiment's spec, labelled apart")
    .option('--json', 'as JSON')
    .option('--csv', 'as CSV')
    .option('--md', 'as a Markdown table')
    .option('--store <dir>', 'the run store folder (default .convlab, or CONVLAB_STORE)')
    .action(
      async (
        ref: string,
        opts: {
          sort?: string;
          asc?: boolean;
          desc?: boolean;
          columns?: string;
          groupBy?: string;
          trials?: boolean;
          json?: boolean;
          csv?: boolean;
          md?: boolean;
          store?: string;
          all?: boolean;
        },
      ) => {
        if ([opts.json, opts.csv, opts.md].filter(Boolean).length > 1)
          throw new SpecFileError('compare: choose one of --json, --csv and --md');
        if (opts.asc && opts.desc) throw new SpecFileError('compare: choose --asc or --desc, not both');
        await withStore(opts.store ?? defaultStore(), (store) => {
          const e = findExperiment(store, ref);
          const trials = viewTrials(store, e, { all: opts.all });
          let c: ReturnType<typeof compareTrials>;
          try {
            c = compareTrials(store, e.name, trials, {
              sort: opts.sort,
              ascending: opts.asc ? true : opts.desc ? false : undefined,
              columns: opts.columns
                ?.split(',')
                .map((s) => s.trim())
                .filter(Boolean),
              group: opts.trials ? false : undefined,
              groupBy: opts.groupBy,
            });
          } catch (err) {
            throw new SpecFileError(`compare: ${(err as Error).message}`);
          }
          const out = opts.json ? JSON.stringify(toJson(c)) : opts.csv ? formatCsv(c) : opts.md ? formatMarkdown(c) : formatTable(c);
          process.stdout.write(`${out}\n`);
          // Which training figures these are: reports quote Keras' (running averages) as often as the final model's.
          if (!opts.json && !opts.csv && c.columns.some((col) => /^(train|epoch)_/.test(col.name))) {
            process.stdout.write(
              `${opts.md ? '\n' : ''}train_*: the final model on the training split, in inference mode. ` +
                "epoch_* (e.g. --columns epoch_loss,epoch_accuracy): Keras' figures, running averages over the last epoch.\n",
            );
          }
        });
      },
    );
}

function registerDiffCommand(program: Command): void {
  program
    .command('diff')
    .description('the config fields that differ between two trials')
    .argument('<a>', 'trial id')
    .argument('<b>', 'trial id')
    .option('--json', 'as JSON')
    .option('--store <dir>', 'the run store folder (default .convlab, or CONVLAB_STORE)')
    .action(async (a: string, b: string, opts: { json?: boolean; store?: string }) => {
      await withStore(opts.store ?? defaultStore(), (store) => {
        const ta = findTrial(store, a);
        const tb = findTrial(store, b);
        const changes = diffConfigs(ta.config, tb.config);
        if (opts.json)
          return void process.stdout.write(`${JSON.stringify(changes.map((c) => ({ path: c.path, a: c.a ?? null, b: c.b ?? null })))}\n`);
        console.log(`#${ta.id} ${ta.label}  →  #${tb.id} ${tb.label}`);
        if (changes.length === 0) return void console.log('  (same config)');
        const show = (v: unknown) => (v === undefined ? '(absent)' : JSON.stringify(v));
        const w = maxOf(changes, (c) => c.path.length, 0);
        for (const c of changes) console.log(`  ${c.path.padEnd(w)}  ${show(c.a)}  →  ${show(c.b)}`);
      });
    });
}
