/** The convlab command line. Bad input exits with 2 and a message saying where and what; other failures exit 1. */
import { resolve } from 'node:path';
import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { getBackend, getThreads, nativeIsa, setBackend, setThreads } from '../engine/index.js';
import { DataError } from '../data/errors.js';
import { SpecError } from '../nn/spec.js';
import { applyOverride, checkSpec, loadSpec, readSpecFile, SpecFileError, type Spec } from '../lab/spec.js';
import { buildSpecModel, runSpec, type RunResult } from '../lab/train_run.js';
import { expandSweep } from '../lab/sweep.js';
import { registerDataCommands } from './data.js';
import { defaultStore, registerLabCommands, table } from './lab.js';
import { registerReportCommands } from './report.js';
import { registerPredictCommand } from './predict.js';
import { registerEvaluateCommand } from './evaluate.js';
import { registerWeightsCommands } from './weights.js';
import { registerDashboardCommand } from './dashboard.js';
import { WeightsFileError } from '../saving/safetensors.js';
import { type AsyncRunStore, StoreError } from '../lab/store.js';
import { isPostgresUrl, openAsyncStore } from '../lab/open_store.js';
import { redactUrl } from '../lab/pg_store.js';
import { StudyInterrupted, trainIntoStore } from '../lab/runner.js';
import { printEvaluation } from './evaluation.js';
import { writeArtifacts } from '../lab/artifacts.js';
import { TrainingDivergedError } from '../train/callbacks/terminate_on_nan.js';
import { checkWritable, fsProblem, inside, OutputError } from '../util/safe_fs.js';

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

/** 'backend: native, avx512, 2 threads' or 'backend: ts'. */
function describeBackend(): string {
  const b = getBackend().name;
  return b === 'native' ? `backend: native, ${nativeIsa()}, ${getThreads()} thread${getThreads() === 1 ? '' : 's'}` : `backend: ${b}`;
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

function printResults(r: RunResult, out: (s: string) => void): void {
  const metrics = [...new Set(Object.values(r.final).flatMap((l) => Object.keys(l)))];
  const rows = Object.entries(r.final).map(([split, logs]) => [split, ...metrics.map((m) => (logs[m] ?? NaN).toFixed(4))]);
  const header = ['split', ...metrics];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)) + 2);
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('');
  out('');
  const where = r.backend === 'native' ? `backend native (${r.isa}, ${r.threads} threads)` : `backend ${r.backend}`;
  out(`Results: ${r.name} (${r.params.toLocaleString('en-US')} params, ${where}, trained in ${r.seconds.toFixed(1)} s)`);
  out(line(header));
  for (const row of rows) out(line(row));
  printEvaluation(r.evaluation, out);
}

/** The value after `flag` (as --flag v or --flag=v), if given. */
function flagValue(argv: string[], flag: string): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === flag) return argv[i + 1] ?? '';
    if (argv[i].startsWith(`${flag}=`)) return argv[i].slice(flag.length + 1);
  }
  return undefined;
}

/** --backend and --threads take effect before anything else, --version included. */
function applyEngineFlags(argv: string[]): void {
  for (const flag of ['--out', '--save', '--store', '--artifacts']) {
    if (flagValue(argv, flag) === '') throw new SpecFileError(`${flag}: expected a path, got an empty string`);
  }
  // The folder a PostgreSQL store's trials keep their files in reaches every command, and the workers it starts.
  const artifacts = flagValue(argv, '--artifacts');
  if (artifacts !== undefined) process.env.CONVLAB_ARTIFACTS = resolve(artifacts);
  const backend = flagValue(argv, '--backend');
  if (backend !== undefined) {
    try {
      setBackend(backend);
    } catch (e) {
      throw new SpecFileError(`--backend: ${(e as Error).message}`);
    }
  }
  const threads = flagValue(argv, '--threads');
  if (threads !== undefined) {
    const n = Number(threads);
    if (!Number.isInteger(n) || n < 1) throw new SpecFileError(`--threads: expected a positive integer, got '${threads}'`);
    if (getBackend().name !== 'native')
      throw new SpecFileError('--threads applies to the native backend only; the TypeScript backend runs on one thread');
    setThreads(n);
  }
}

/**
 * Failures that are not bugs, as one line without a stack trace: a store that cannot be used, a run whose loss
 * diverged, a full disk or a file the system refuses. Null for anything else (a bug: the stack is printed).
 */
export function describeFailure(e: unknown): string | null {
  if (e instanceof StoreError || e instanceof TrainingDivergedError) return e.message;
  const err = e as { code?: unknown; message?: string; path?: string; syscall?: string };
  if (typeof err?.code === 'string' && err.code.startsWith('SQLITE_')) {
    const hint =
      err.code === 'SQLITE_FULL' || err.code.startsWith('SQLITE_IOERR') ? '; free some space on its disk and run the command again' : '';
    return `the run store: ${err.message} (${err.code})${hint}`;
  }
  if (
    typeof err?.code === 'string' &&
    ['ENOSPC', 'EDQUOT', 'EACCES', 'EPERM', 'EROFS', 'EIO', 'ENOTDIR', 'EISDIR', 'EMFILE'].includes(err.code)
  ) {
    return fsProblem(`cannot ${err.syscall ?? 'write'}`, err.path ?? '', e).message;
  }
  return null;
}

/**
 * Trains a spec for `convlab train`: recorded in the run store as a one-trial experiment unless --no-store (or
 * when the store's SQLite driver is not installed, with a note), else in this process alone.
 */
async function trainRecorded(
  file: string,
  spec: Spec,
  o: { verbose: 0 | 1; saveTo?: string; store?: string | false },
): Promise<{ result: RunResult; recorded?: { root: string; experiment: string; trial: number } }> {
  const alone = async () => ({ result: await runSpec(spec, { verbose: o.verbose, saveTo: o.saveTo }) });
  if (o.store === false) return alone();
  let store: AsyncRunStore;
  const ref = o.store ?? defaultStore();
  try {
    store = await openAsyncStore(ref);
  } catch (e) {
    if (e instanceof StoreError && !e.badInput) {
      process.stderr.write(`convlab: note: the run is not recorded: ${e.message}\n`);
      return alone();
    }
    throw e;
  }
  try {
    const { trial, result, resumed } = await trainIntoStore(store, file, spec, { quiet: o.verbose === 0, saveTo: o.saveTo });
    if (resumed && o.verbose) console.log(`(resumed after epoch ${resumed}: an earlier train of this spec was interrupted)`);
    return { result, recorded: { root: isPostgresUrl(ref) ? redactUrl(ref) : store.root, experiment: trial.experiment, trial: trial.id } };
  } finally {
    await store.close();
  }
}

/**
 * `convlab summary`: the base model's summary; for a spec with a sweep, also a table of every configuration's
 * parameter counts (repeats once), or with --trial one configuration's summary.
 */
function printSummaries(file: string, overrides: string[], trial?: string): void {
  // Only the models are built: a model file need not have data or losses that fit it.
  const raw = readSpecFile(file);
  for (const o of overrides) applyOverride(raw, o);
  const plans = expandSweep(raw);
  const configs = plans.filter((p, i) => plans.findIndex((q) => q.group === p.group) === i);
  if (trial !== undefined) {
    const plan = configs.find((p) => p.label === trial || p.group === trial || p.variant === trial);
    if (!plan) {
      throw new SpecFileError(`--trial ${trial}: no such trial in ${file}: expected one of ${configs.map((p) => p.group).join(', ')}`);
    }
    buildSpecModel(checkSpec(plan.spec, file)).summary();
    return;
  }
  buildSpecModel(checkSpec(raw.sweep === undefined ? raw : plans[0].spec, file)).summary();
  if (raw.sweep === undefined || configs.length < 2) return;
  const rows = configs.map((p) => {
    const model = buildSpecModel(checkSpec(p.spec, file));
    const trainable = model.trainableWeights.reduce((n, w) => n + w.value.size, 0);
    const total = model.countParams();
    return [p.group, total.toLocaleString('en-US'), trainable.toLocaleString('en-US'), (total - trainable).toLocaleString('en-US')];
  });
  console.log(`\n${configs.length} configurations (the first is shown above; --trial NAME shows another):`);
  console.log(table(['trial', 'params', 'trainable', 'non-trainable'], rows, 1));
}

export async function main(argv: string[]): Promise<number> {
  try {
    applyEngineFlags(argv);
  } catch (e) {
    process.stderr.write(`convlab: ${(e as Error).message}\n`);
    return 2;
  }
  const program = new Command();
  program
    .name('convlab')
    .description('A TypeScript laboratory for convolutional neural networks')
    .version(`convlab ${version()} (${describeBackend()})`, '-V, --version')
    .option('--threads <n>', 'threads for the native backend (default: all cores, or CONVLAB_THREADS)')
    .option('--backend <name>', "'native' or 'ts' (default: native when its addon is built, or CONVLAB_BACKEND)")
    .option(
      '--artifacts <dir>',
      "where this machine keeps its copy of a PostgreSQL store's trial files (default ./.convlab, or CONVLAB_ARTIFACTS)",
    )
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });

  registerDataCommands(program);
  registerLabCommands(program);
  registerReportCommands(program);
  registerPredictCommand(program);
  registerEvaluateCommand(program);
  registerWeightsCommands(program);
  registerDashboardCommand(program);

  program
    .command('summary')
    .description("print the model's Keras-style summary; for a sweep, every trial's parameter counts, or one trial's summary")
    .argument('<spec>', 'experiment or model file (YAML or JSON)')
    .option('--set <path=value>', 'override a field of the spec (repeatable)', collect, [])
    .option('--trial <name>', "one trial's summary: a variant name or a trial label, as compare shows them")
    .action((file: string, opts: { set: string[]; trial?: string }) => printSummaries(file, opts.set, opts.trial));

  program
    .command('train')
    .description("train the spec's model, report loss and metrics on train, validation and test, and record the run in the store")
    .argument('<spec>', 'experiment file (YAML or JSON)')
    .option('--set <path=value>', 'override a field of the spec, e.g. train.epochs=1 (repeatable)', collect, [])
    .option('--json', 'print the history and final metrics as JSON on stdout')
    .option('-q, --quiet', 'no progress output')
    .option('--save <dir>', 'save the trained model (architecture, weights, optimizer state) to this folder')
    .option('--out <dir>', "where the evaluate block's feature maps and filters go (.npy arrays and PNG grids)", undefined)
    .option('--store <dir>', 'the run store the run is recorded in (default .convlab, or CONVLAB_STORE)')
    .option('--no-store', 'do not record the run in the store')
    .action(
      async (
        file: string,
        opts: { set: string[]; json?: boolean; quiet?: boolean; save?: string; out?: string; store?: string | false },
      ) => {
        const spec = loadSpec(file, opts.set);
        if (spec.raw.sweep !== undefined)
          process.stderr.write(
            `convlab: note: train runs the spec without its sweep block; \`convlab run ${file}\` runs every trial into the store\n`,
          );
        const outDir = opts.out ?? inside('convlab-out', spec.name, 'name');
        const e = spec.evaluate;
        if (e.feature_maps || e.filters || e.predictions) checkWritable(outDir, 'dir', '--out');
        if (!opts.json && !opts.quiet) buildSpecModel(spec).summary();
        const verbose = opts.json || opts.quiet ? 0 : 1;
        const { result, recorded } = await trainRecorded(file, spec, { verbose, saveTo: opts.save, store: opts.store });
        const written = result.artifacts.length ? writeArtifacts(outDir, result.artifacts) : [];
        if (opts.json) {
          const summary = {
            history: result.history.epochs,
            final: result.final,
            evaluation: result.evaluation,
            artifacts: written,
            params: result.params,
            seconds: result.seconds,
            backend: result.backend,
            threads: result.threads,
            isa: result.isa,
            ...(recorded ? { store: recorded.root, experiment: recorded.experiment, trial: recorded.trial } : {}),
          };
          process.stdout.write(`${JSON.stringify(summary)}\n`);
        } else {
          printResults(result, (s) => console.log(s));
          if (written.length) {
            console.log('');
            console.log(`Feature maps and filters (in ${outDir}):`);
            for (const w of written)
              console.log(
                `  ${w.kind.padEnd(12)} ${w.layer.padEnd(24)} [${w.shape.join(', ')}]  ${w.files.length} file${w.files.length === 1 ? '' : 's'}`,
              );
          }
          if (opts.save) console.log(`Saved the model to ${opts.save}`);
          if (recorded)
            console.log(
              `Recorded as trial #${recorded.trial} of experiment ${recorded.experiment} ` +
                `in ${recorded.root} (\`convlab show ${recorded.trial}\`, \`convlab evaluate ` +
                `${recorded.trial}\`, \`convlab predict ${recorded.trial} IMAGE\`)`,
            );
        }
      },
    );

  try {
    await program.parseAsync(argv, { from: 'user' });
    // A command that finished but had something fail (a trial of a study) sets process.exitCode.
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help') return 0;
      return 2;
    }
    if (
      e instanceof SpecError ||
      e instanceof SpecFileError ||
      e instanceof DataError ||
      e instanceof OutputError ||
      e instanceof WeightsFileError ||
      (e instanceof StoreError && e.badInput)
    ) {
      process.stderr.write(`convlab: ${e instanceof SpecError ? `invalid spec:\n  ${e.message.split('\n').join('\n  ')}` : e.message}\n`);
      return 2;
    }
    if (e instanceof StudyInterrupted) {
      process.stderr.write(`\nconvlab: ${e.message}\n`);
      return 130;
    }
    const failure = describeFailure(e);
    if (failure) {
      process.stderr.write(`convlab: ${failure}\n`);
      return 1;
    }
    process.stderr.write(`convlab: error: ${(e as Error).stack ?? String(e)}\n`);
    return 1;
  }
}
