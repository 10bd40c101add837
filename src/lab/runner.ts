/**
 * Running a study: expand the spec's sweep, check every trial before any starts, register the trials in the store,
 * then run them (in this process, or in N worker processes that claim trials from the store). Finished trials are
 * never re-run; an interrupted trial resumes from its last epoch checkpoint; a failing trial is recorded as failed
 * and the study goes on.
 */
import { systemMeter } from './system.js';
import { execFileSync, spawn } from 'node:child_process';
import { Worker } from 'node:worker_threads';
import { printable } from '../util/text.js';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism, cpus, hostname } from 'node:os';
import { join, relative } from 'node:path';
import { parseArgs } from '../nn/schema.js';
import { SpecError, type SpecIssue } from '../nn/spec.js';
import { dataFilesProblem, dataSchema } from '../data/spec.js';
import { DataError } from '../data/errors.js';
import { getBackend } from '../engine/backends/index.js';
import { getThreads, nativeIsa } from '../engine/backends/native/index.js';
import { writeArtifacts, type WrittenArtifact } from './artifacts.js';
import { readCheckpoint } from './run_checkpoint.js';
import type { ArrayArtifact } from './inspect.js';
import { saveModel } from '../saving/saved_model.js';
import type { Model } from '../nn/model.js';
import type { Callback } from '../train/callbacks/callback.js';
import { applyOverride, checkSpec, readSpecFile, specBaseName, type Spec } from './spec.js';
import { expandSweep, type TrialPlan } from './sweep.js';
import { aliveIn, StoreError, thisHost, workerId, type AsyncRunStore, type TrialRow } from './store.js';
import { redactUrl } from './pg_store.js';
import { checkModelEvaluate, runSpec, type RunResult } from './train_run.js';

export interface StudyOptions {
  /** Worker processes (default 1: trials run in this process, one after another). */
  parallel?: number;
  /** Forget earlier results of these trials and run them all again. */
  fresh?: boolean;
  /** No per-epoch output. */
  quiet?: boolean;
  /** Where progress goes (stderr when stdout carries JSON). */
  log?: (line: string) => void;
  /**
   * Run the trials in a child process even with one worker (the CLI does): Ctrl-C then says how to resume, and a
   * trial whose process dies (out of memory, killed) is recorded as failed instead of staying 'running'.
   */
  isolate?: boolean;
  /** How to run this study again, for the resume hint (default `convlab run <file>`). */
  command?: string;
  /** Where an isolated worker's own progress lines go (stderr when stdout carries JSON). */
  progressTo?: 'stdout' | 'stderr';
  /** The study as planStudy made it, when the caller checked it before opening the store. */
  planned?: { raw: Record<string, unknown>; plans: TrialPlan[] };
}

export interface Study {
  experiment: string;
  trials: TrialRow[];
}

/** Reads a spec file, applies --set overrides and expands its sweep into trials, each checked. */
export function planStudy(file: string, overrides: string[]): { raw: Record<string, unknown>; plans: TrialPlan[] } {
  const raw = readSpecFile(file);
  for (const o of overrides) applyOverride(raw, o);
  const plans = expandSweep(raw);
  checkTrials(plans, file);
  checkDataFiles(plans);
  return { raw, plans };
}

/** Each dataset the trials read is where it is looked for, before any trial starts (once per distinct data block). */
function checkDataFiles(plans: readonly TrialPlan[]): void {
  const problems = new Set<string>();
  const seen = new Set<string>();
  for (const p of plans) {
    const block = (p.spec as { data?: Record<string, unknown> }).data ?? {};
    const key = JSON.stringify([block.dataset, block.path]);
    if (seen.has(key)) continue;
    seen.add(key);
    const why = dataFilesProblem(block);
    if (why) problems.add(`data: ${why}`);
  }
  if (problems.size > 0) throw new DataError([...problems].join('\n'));
}

/**
 * Everything that can be checked without data: each trial's blocks, its model (built, so every layer argument is
 * checked) and the layers its evaluate block names. Problems shared by several trials are reported once.
 */
export function checkTrials(plans: readonly TrialPlan[], file: string): void {
  const found = new Map<string, { issue: SpecIssue; trials: string[] }>();
  for (const p of plans) {
    try {
      const spec = checkSpec(p.spec, file);
      try {
        parseArgs(dataSchema, spec.data, 'data');
      } catch (e) {
        throw e instanceof SpecError ? e.within(['data']) : e;
      }
      checkModelEvaluate(spec);
    } catch (e) {
      if (!(e instanceof SpecError)) throw e;
      for (const issue of e.issues) {
        const id = `${issue.path.join('.')}\u0000${issue.message}`;
        const entry = found.get(id) ?? { issue, trials: [] };
        entry.trials.push(p.label);
        found.set(id, entry);
      }
    }
  }
  if (found.size === 0) return;
  const many = plans.length > 1;
  throw new SpecError(
    [...found.values()].map(({ issue, trials }) => ({
      path: issue.path,
      message: many
        ? `${issue.message} (in ${
            trials.length === plans.length
              ? 'every trial'
              : `trial${trials.length === 1 ? '' : 's'} ${trials
                  .slice(0, 3)
                  .map((t) => `'${t}'`)
                  .join(', ')}${trials.length > 3 ? ` and ${trials.length - 3} more` : ''}`
          })`
        : issue.message,
    })),
  );
}

function version(): string {
  return (JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
}

function gitCommit(): string | null {
  try {
    return execFileSync('git', ['rev-parse', 'HEAD'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim() || null;
  } catch {
    return null;
  }
}

/** Where a trial ran, recorded with it. */
function environment(): Record<string, unknown> {
  const native = getBackend().name === 'native';
  return {
    convlab: version(),
    git_commit: gitCommit(),
    backend: getBackend().name,
    isa: native ? nativeIsa() : null,
    threads: native ? getThreads() : 1,
    machine: {
      host: hostname(),
      cpu: cpus()[0]?.model ?? 'unknown',
      cores: availableParallelism(),
      platform: `${process.platform}-${process.arch}`,
      node: process.version,
    },
  };
}

export interface TrialOptions {
  quiet?: boolean;
  /** A worker process's parent: when it is gone (killed), the worker stops too, leaving its trial to be resumed. */
  parentPid?: number;
  /** Also save the trained model here (train --save). */
  saveTo?: string;
  /** Receives the run's result (train prints it). */
  onResult?: (result: RunResult) => void;
  /** After recording a failure, throw it on (train reports it and exits with its code). */
  rethrow?: boolean;
}

/** Runs one claimed trial to the end (or to failure), recording epochs, final metrics and artifacts. */
export async function runTrial(store: AsyncRunStore, trial: TrialRow, options: TrialOptions = {}): Promise<TrialRow> {
  const dir = store.trialDir(trial.id);
  const me = trial.worker ?? workerId();
  removeStaleTemporaries(dir);
  store.keepAlive?.({ id: trial.id, worker: me });
  /** After a long silence another worker may have taken the trial over: then this one stops and leaves it alone. */
  const stillMine = async () => {
    if (store.holds && !(await store.holds(trial.id, me)))
      throw new TakenOver(
        `trial #${trial.id} was taken over by another worker while this one (${me}) was unheard; leaving it to that worker`,
      );
  };
  try {
    const spec = checkSpec(trial.config, trial.experiment);
    // Where the store keeps the trials' files, its checkpoint (if any) is the one to resume from, wherever it was made.
    await store.getFiles?.(trial.id, 'checkpoint');
    await recordCheckpointedEpochs(store, trial.id, join(dir, 'checkpoint'));
    let model: Model | null = null;
    let beat = Date.now();
    const meter = systemMeter();
    // Writes made from inside an epoch (training holds the event loop there) are collected and awaited after it.
    const pending: Promise<void>[] = [];
    const later = (p: Promise<void>) => void pending.push(p);
    const heartbeat: Callback = {
      onBatchEnd: () => {
        // Training holds the event loop, so an orphaned worker notices its parent's death here, between batches.
        if (Date.now() - beat < HEARTBEAT_EVERY_MS) return;
        beat = Date.now();
        later(store.heartbeat(trial.id));
      },
    };
    const result = await runSpec(spec, {
      verbose: options.quiet ? 0 : 1,
      saveTo: options.saveTo,
      callbacks: [heartbeat],
      checkpoint: { dir: join(dir, 'checkpoint') },
      // After each epoch's checkpoint: its row, then a heartbeat, awaited before the next epoch starts.
      afterEpoch: async ({ epoch, ...logs }) => {
        await Promise.all(pending.splice(0));
        await stillMine();
        await store.recordEpoch(trial.id, epoch, { ...(logs as Record<string, number>), ...meter() });
        await store.putFiles?.(trial.id, 'checkpoint/current');
        await store.heartbeat(trial.id);
      },
      onModel: (m) => {
        model = m;
        later(store.startTrial(trial.id, environment(), m.countParams()));
      },
    });
    await Promise.all(pending.splice(0));
    await stillMine();
    const rel = (p: string) => relative(store.root, p);
    await recordArtifacts(store, trial.id, result.artifacts);
    saveModel(model!, join(dir, 'model'), { inputPipeline: result.pipeline });
    await store.putFiles?.(trial.id, 'model');
    await store.addArtifact({
      trialId: trial.id,
      kind: 'model',
      name: 'model',
      path: rel(join(dir, 'model')),
      meta: { params: result.params },
    });
    await store.finishTrial(trial.id, result.final, result.seconds, {
      evaluation: result.evaluation,
      trainable_params: result.trainableParams,
      samples: result.samples,
    });
    rmSync(join(dir, 'checkpoint'), { recursive: true, force: true });
    await store.dropFiles?.(trial.id, 'checkpoint');
    options.onResult?.(result);
  } catch (e) {
    // A trial this worker no longer holds is another's now: its folder, files and status are left alone.
    // (When the store cannot even say, that error goes on: the process ends, and its trial is released as a dead
    // worker's.)
    const lost = e instanceof TakenOver || (store.holds !== undefined && !(await store.holds(trial.id, me)));
    if (lost) {
      process.stderr.write(
        `convlab: ${e instanceof TakenOver ? e.message : `trial #${trial.id} stopped (${(e as Error).message}) and is held by another worker now; leaving it to that worker`}\n`,
      );
      return (await store.getTrial(trial.id))!;
    }
    const err = e as NodeJS.ErrnoException;
    const full = err.code === 'ENOSPC' || err.code === 'EDQUOT';
    const message =
      e instanceof SpecError
        ? `invalid spec: ${err.message}`
        : full
          ? `no space left on the device (${err.code}) while writing under ${dir}; free some space and run the study again`
          : err.message;
    // On a store shared by many machines, say which one it failed on: missing data may be that machine's alone.
    const where = (store as { url?: string }).url ? ` (on ${me})` : '';
    // The trial's folder is convlab's own: a failed trial keeps nothing half-written, and runs again from scratch.
    rmSync(dir, { recursive: true, force: true });
    await store.dropFiles?.(trial.id);
    await store.failTrial(trial.id, `${message}${where}`);
    if (options.rethrow) throw e;
  } finally {
    store.keepAlive?.(null);
  }
  return (await store.getTrial(trial.id))!;
}

/**
 * A process killed after an epoch's checkpoint was written but before the epoch's row was: the run resumes after
 * that epoch, so its row is recorded now, from the checkpoint's history (without the system meters of the moment).
 */
async function recordCheckpointedEpochs(store: AsyncRunStore, trialId: number, checkpointDir: string): Promise<void> {
  const saved = readCheckpoint(checkpointDir);
  if (!saved) return;
  const have = new Set((await store.epochs(trialId)).map((e) => e.epoch));
  for (const { epoch, ...logs } of saved.state.history)
    if (!have.has(epoch)) await store.recordEpoch(trialId, epoch, logs as Record<string, number>);
}

/** This worker no longer holds its trial (see runTrial). */
class TakenOver extends Error {}

/** Writes arrays taken from a trial's model under its folder and records each in the store. */
export async function recordArtifacts(
  store: AsyncRunStore,
  trialId: number,
  artifacts: readonly ArrayArtifact[],
): Promise<WrittenArtifact[]> {
  const rel = (p: string) => relative(store.root, p);
  // Where the store keeps the files, the folder is first made whole here, so that putting it back loses nothing.
  await store.getFiles?.(trialId, 'artifacts');
  const written = writeArtifacts(join(store.trialDir(trialId), 'artifacts'), artifacts);
  if (written.length) await store.putFiles?.(trialId, 'artifacts');
  for (const w of written) {
    await store.addArtifact({
      trialId,
      kind: w.kind,
      name: w.layer,
      path: rel(w.files[0]),
      meta: { shape: w.shape, files: w.files.map(rel), ...(w.meta ? { predictions: w.meta } : {}) },
    });
  }
  return written;
}

/**
 * `convlab train` into the store: the spec (its sweep left out) becomes a one-trial experiment (named after the
 * spec, or '<name>.train' when the spec is a study, so the study's own record is untouched) and is trained afresh,
 * or resumed from its last epoch when an earlier `train` of it was interrupted.
 */
export async function trainIntoStore(
  store: AsyncRunStore,
  file: string,
  spec: Spec,
  options: TrialOptions = {},
): Promise<{ trial: TrialRow; result: RunResult; resumed: number }> {
  const raw = { ...spec.raw };
  delete raw.sweep;
  const name = spec.raw.sweep !== undefined ? `${spec.name}.train` : spec.name;
  const experiment = await store.upsertExperiment(name, raw, file);
  const [plan] = expandSweep(raw);
  const [added] = await store.addTrials(experiment.id, [
    {
      key: plan.key,
      label: plan.label,
      group: plan.group,
      variant: plan.variant,
      values: plan.values,
      repeat: plan.repeat,
      seed: plan.seed,
      config: plan.spec,
    },
  ]);
  await store.releaseStale(aliveIn(store));
  const now = (await store.getTrial(added.id))!;
  if (now.status === 'running')
    throw new StoreError(`trial #${now.id} of '${name}' is being trained by another process (${now.worker}); wait for it or stop it first`);
  if (now.status !== 'pending') {
    rmSync(store.trialDir(now.id), { recursive: true, force: true });
    await store.resetTrials([now.id]);
  }
  const claimed = (await store.claimTrial([now.id], workerId()))!;
  let result: RunResult | null = null;
  const trial = await runTrial(store, claimed, { ...options, rethrow: true, onResult: (r) => (result = r) });
  return { trial, result: result!, resumed: claimed.epochsDone };
}

/**
 * The hidden temporary folders a killed process left in a trial's folder (a model or checkpoint half written when
 * it died); only convlab writes there, and only these names.
 */
function removeStaleTemporaries(dir: string): void {
  for (const d of [dir, join(dir, 'checkpoint')]) {
    let names: string[];
    try {
      names = readdirSync(d);
    } catch {
      continue;
    }
    for (const n of names) if (/^\..+\.tmp-[A-Za-z0-9]{6}(\.old)?$/.test(n)) rmSync(join(d, n), { recursive: true, force: true });
  }
}

/**
 * A worker whose parent (the run command) is gone ends at once, as if killed with it: its trial stays 'running' with
 * a dead process, shows as interrupted and resumes with the next run. Training holds the main thread's event loop,
 * so a small watchdog thread looks (getppid, every 50 ms) and kills the process.
 */
export function dieWithParent(parentPid: number): void {
  const watchdog = new Worker(
    `
    const { workerData } = require('node:worker_threads');
    setInterval(() => { if (process.ppid !== workerData) process.kill(process.pid, 'SIGKILL'); }, 50);
  `,
    { eval: true, workerData: parentPid },
  );
  watchdog.unref();
}

/** How often a training trial tells the store it is alive (besides every epoch end). */
const HEARTBEAT_EVERY_MS = 10_000;

/** Claims and runs trials of `ids` until none is pending. */
export async function workOn(
  store: AsyncRunStore,
  ids: number[],
  options: TrialOptions & { log?: (s: string) => void; total?: number } = {},
): Promise<void> {
  const me = workerId();
  if (options.parentPid !== undefined) dieWithParent(options.parentPid);
  for (let trial = await store.claimTrial(ids, me); trial; trial = await store.claimTrial(ids, me)) {
    const position = ids.indexOf(trial.id) + 1;
    const resumed = trial.epochsDone > 0 ? ` (resuming after epoch ${trial.epochsDone})` : '';
    options.log?.(`Trial ${position}/${options.total ?? ids.length} [#${trial.id}] ${printable(trial.label)}${resumed}`);
    const done = await runTrial(store, trial, options);
    const summary = done.status === 'finished' ? await summarize(store, done) : `failed: ${done.error}`;
    options.log?.(`Trial ${position}/${options.total ?? ids.length} [#${trial.id}] ${printable(trial.label)}: ${summary}`);
  }
}

/** 'test accuracy 0.9821, 12.3 s' from whichever split is last evaluated. */
export async function summarize(store: AsyncRunStore, t: TrialRow): Promise<string> {
  const finals = await store.finals(t.id);
  const split = ['test', 'validation', 'train'].find((s) => finals[s]);
  const metric = split ? (Object.keys(finals[split]).find((k) => k !== 'loss') ?? 'loss') : null;
  const head = split && metric ? `${split} ${metric} ${finals[split][metric].toFixed(4)}, ` : '';
  return `${head}${(t.seconds ?? 0).toFixed(1)} s`;
}

/**
 * Registers a study's trials in the store (those already there are kept, by key), releases the trials of dead
 * workers, and makes failed trials pending again (every trial with `fresh`, refused while one is running).
 */
export async function registerStudy(
  store: AsyncRunStore,
  file: string,
  overrides: string[],
  options: { planned?: { raw: Record<string, unknown>; plans: TrialPlan[] }; fresh?: boolean } = {},
): Promise<{ name: string; experimentId: number; ids: number[]; current: TrialRow[] }> {
  const { raw, plans } = options.planned ?? planStudy(file, overrides);
  const name = (raw.name as string | undefined) ?? specBaseName(file);
  const experiment = await store.upsertExperiment(name, raw, file);
  const trials = await store.addTrials(
    experiment.id,
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
  const ids = trials.map((t) => t.id);
  await store.releaseStale(aliveIn(store));
  const current = await trialsById(store, ids);
  if (options.fresh) {
    const busy = current.filter((t) => t.status === 'running');
    if (busy.length)
      throw new StoreError(
        `--fresh: trial${busy.length === 1 ? '' : 's'} ${busy.map((t) => `#${t.id}`).join(', ')} ${busy.length === 1 ? 'is' : 'are'} running in another process (${busy[0].worker}); stop it first`,
      );
    for (const t of current) rmSync(store.trialDir(t.id), { recursive: true, force: true });
    await store.resetTrials(ids);
  } else {
    const failed = current.filter((t) => t.status === 'failed');
    if (failed.length) await store.resetTrials(failed.map((t) => t.id));
  }
  return { name, experimentId: experiment.id, ids, current: await trialsById(store, ids) };
}

/** Registers the study's trials and runs what is not finished. */
export async function runStudy(store: AsyncRunStore, file: string, overrides: string[], options: StudyOptions = {}): Promise<Study> {
  const log = options.log ?? ((s: string) => console.log(s));
  const { name, experimentId, ids, current: states } = await registerStudy(store, file, overrides, options);
  const finished = states.filter((t) => t.status === 'finished').length;
  const running = states.filter((t) => t.status === 'running').length;
  log(
    `Experiment ${name}: ${ids.length} trial${ids.length === 1 ? '' : 's'}, ${finished} already finished${running ? `, ${running} running elsewhere` : ''}; store ${storeName(store)}`,
  );
  const parallel = Math.max(1, options.parallel ?? 1);
  if (parallel === 1 && !options.isolate) await workOn(store, ids, { quiet: options.quiet, log });
  else
    await runWorkers(store, experimentId, ids, parallel, log, {
      quiet: Boolean(options.quiet),
      command: options.command ?? `convlab run ${file}`,
      progressTo: options.progressTo,
    });
  return { experiment: name, trials: await trialsById(store, ids) };
}

/** How a store is named to the user: its folder, or a PostgreSQL store's URL without the password. */
function storeName(store: AsyncRunStore): string {
  const url = (store as { url?: string }).url;
  return url ? redactUrl(url) : store.root;
}

/** The trials of these ids, in this order. */
async function trialsById(store: AsyncRunStore, ids: readonly number[]): Promise<TrialRow[]> {
  const out: TrialRow[] = [];
  for (const id of ids) out.push((await store.getTrial(id))!);
  return out;
}

/** Thrown when the user stopped a study with Ctrl-C (or SIGTERM): the CLI exits with 130 after the resume hint. */
export class StudyInterrupted extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StudyInterrupted';
  }
}

/**
 * N worker processes share the cores (native threads = cores / N each; one worker keeps this process's threads) and
 * claim trials from the store; this process reports each trial as it ends. A worker that dies has its trial
 * recorded as failed; Ctrl-C stops the workers and says how to resume.
 */
async function runWorkers(
  store: AsyncRunStore,
  experimentId: number,
  ids: number[],
  n: number,
  log: (s: string) => void,
  options: { quiet: boolean; command: string; progressTo?: 'stdout' | 'stderr' },
): Promise<void> {
  const threads = n === 1 ? getThreads() : Math.max(1, Math.floor(availableParallelism() / n));
  const script = new URL('../../../bin/convlab.js', import.meta.url).pathname;
  const backendArgs = getBackend().name === 'native' ? ['--threads', String(threads)] : ['--backend', 'ts'];
  if (n > 1)
    log(`${n} workers, ${getBackend().name === 'native' ? `${threads} thread${threads === 1 ? '' : 's'} each` : 'TypeScript backend'}`);
  // With one worker, it prints its own progress (to stderr when this process's stdout carries JSON).
  const chatty = n === 1;
  const reported = new Set<number>(
    (await trialsById(store, ids)).filter((t) => ['finished', 'failed'].includes(t.status)).map((t) => t.id),
  );
  const report = async () => {
    for (const id of ids) {
      if (reported.has(id)) continue;
      const t = (await store.getTrial(id))!;
      if (t.status !== 'finished' && t.status !== 'failed') continue;
      reported.add(id);
      if (!chatty)
        log(
          `Trial ${ids.indexOf(id) + 1}/${ids.length} [#${id}] ${printable(t.label)}: ${t.status === 'finished' ? await summarize(store, t) : `failed: ${t.error}`}`,
        );
    }
  };
  // One report at a time: a slow store never has two overlap.
  let reporting: Promise<void> = Promise.resolve();
  const timer = setInterval(() => {
    reporting = reporting.then(report, () => {});
  }, 500);
  let stopping: NodeJS.Signals | null = null;
  const children: ReturnType<typeof spawn>[] = [];
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = signal;
    // A terminal's Ctrl-C reaches the workers too; a signal sent to this process alone is passed on.
    for (const c of children) if (c.exitCode === null) c.kill(signal);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  // A PostgreSQL store reaches the workers through the environment, so its URL (and password) never shows in ps.
  const url = (store as { url?: string }).url;
  const storeArgs = url ? [] : ['--store', store.root];
  const env = url ? { ...process.env, CONVLAB_STORE: url, CONVLAB_ARTIFACTS: store.root } : process.env;
  const exits = Array.from(
    { length: n },
    () =>
      new Promise<{ code: number | null; signal: NodeJS.Signals | null; pid: number }>((resolveExit) => {
        const args = [
          script,
          ...backendArgs,
          'worker',
          ...storeArgs,
          '--experiment',
          String(experimentId),
          '--parent',
          String(process.pid),
          ...(chatty ? ['--log', ...(options.quiet ? [] : ['--progress'])] : []),
          ...ids.map(String),
        ];
        const child = spawn(process.execPath, args, {
          env,
          stdio: ['ignore', !chatty ? 'ignore' : options.progressTo === 'stderr' ? 2 : 'inherit', 'inherit'],
        });
        children.push(child);
        child.on('exit', (code, signal) => resolveExit({ code, signal, pid: child.pid ?? -1 }));
      }),
  );
  const results = await Promise.all(exits);
  process.off('SIGINT', onSignal);
  process.off('SIGTERM', onSignal);
  clearInterval(timer);
  await reporting.catch(() => {});
  await report();
  if (stopping) {
    const left = (await trialsById(store, ids)).filter((t) => t.status !== 'finished' && t.status !== 'failed');
    const where = left.filter((t) => t.epochsDone > 0).map((t) => `#${t.id} after epoch ${t.epochsDone}`);
    const rest = left.length === 1 ? 'the other trial' : `the other ${left.length} trials`;
    throw new StudyInterrupted(
      `interrupted (${stopping}): ${ids.length - left.length} of ${ids.length} ` +
        `trials are done and kept; \`${options.command}\` resumes ${rest}${where.length ? ` (${where.join(', ')}, from the last finished epoch)` : ''}`,
    );
  }
  // A worker that died took its trial with it: record that trial as failed, saying how the process ended.
  const host = thisHost();
  for (const r of results) {
    if (r.code === 0) continue;
    const how = r.signal ? `was killed by ${r.signal}${r.signal === 'SIGKILL' ? ' (out of memory?)' : ''}` : `exited with code ${r.code}`;
    for (const t of await trialsById(store, ids)) {
      if ((t.status === 'running' || t.status === 'interrupted') && t.worker === `${r.pid}@${host}`) {
        await store.failTrial(t.id, `the worker process ${how} during this trial`);
        log(`Trial ${ids.indexOf(t.id) + 1}/${ids.length} [#${t.id}] ${printable(t.label)}: failed: the worker process ${how}`);
        reported.add(t.id);
      }
    }
  }
  const bad = results.filter((r) => r.code !== 0).length;
  if (bad) log(`${bad} worker${bad === 1 ? '' : 's'} ended with an error; run the same command again to finish what is left`);
}
