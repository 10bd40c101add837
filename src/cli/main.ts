/** The convlab command line. Bad input exits with 2 and a message saying where and what; other failures exit 1. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command, CommanderError } from 'commander';
import { getBackend, getThreads, nativeIsa, setBackend, setThreads } from '../engine/index.js';
import { DataError } from '../data/errors.js';
import { SpecError } from '../nn/spec.js';
import { loadSpec, SpecFileError } from '../lab/spec.js';
import { buildSpecModel, runSpec, type RunResult } from '../lab/train_run.js';
import { registerDataCommands } from './data.js';
import { registerLabCommands } from './lab.js';
import { StoreError } from '../lab/store.js';
import { formatReport } from '../metrics/index.js';
import { writeArtifacts } from '../report/artifacts.js';

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
  for (const [split, e] of Object.entries(r.evaluation)) {
    if (e.confusion_matrix) {
      out('');
      out(`Confusion matrix (${split}; rows: true class, columns: predicted):`);
      const w = Math.max(6, ...e.classNames.map((c) => c.length), ...e.confusion_matrix.flat().map((v) => String(v).length)) + 1;
      out(`${''.padStart(w)}${e.classNames.map((_, j) => String(j).padStart(w)).join('')}`);
      e.confusion_matrix.forEach((row, i) => out(`${e.classNames[i].padStart(w)}${row.map((v) => String(v).padStart(w)).join('')}`));
    }
    if (e.classification_report) {
      out('');
      out(`Classification report (${split}):`);
      out(formatReport(e.classification_report));
    }
    if (e.baselines) {
      out('');
      out(`Dummy baselines (${split}):`);
      for (const [name, b] of Object.entries(e.baselines)) out(`  ${name.padEnd(14)} accuracy ${b.accuracy.toFixed(4)}  macro F1 ${b.macro_f1.toFixed(4)}  weighted F1 ${b.weighted_f1.toFixed(4)}`);
    }
    if (e.time_difference) {
      const t = e.time_difference;
      const pct = (v: number) => `${(100 * v).toFixed(1)}%`;
      out('');
      out(`Time difference (${split}, minutes on the 12-hour dial): mean ${t.mean.toFixed(1)}, median ${t.median.toFixed(1)}, 90th percentile ${t.p90.toFixed(1)}, max ${t.max.toFixed(1)}`);
      out(`  within 5 min ${pct(t.within['5'])}, 15 min ${pct(t.within['15'])}, 30 min ${pct(t.within['30'])}, 60 min ${pct(t.within['60'])}`);
      out(histogram(t.histogram, t.binMinutes).map((l) => `  ${l}`).join('\n'));
    }
  }
}

/** A text histogram: bins merged to at most 12 rows, bars scaled to the largest. */
function histogram(counts: number[], binMinutes: number): string[] {
  const merge = Math.ceil(counts.length / 12);
  const rows: { from: number; to: number; n: number }[] = [];
  for (let i = 0; i < counts.length; i += merge) rows.push({ from: i * binMinutes, to: Math.min(360, (i + merge) * binMinutes), n: counts.slice(i, i + merge).reduce((a, b) => a + b, 0) });
  while (rows.length > 1 && rows[rows.length - 1].n === 0) rows.pop();
  const top = Math.max(1, ...rows.map((r) => r.n));
  return rows.map((r) => `${`${r.from}–${r.to}`.padStart(8)} min ${'█'.repeat(Math.round((30 * r.n) / top)).padEnd(30)} ${r.n}`);
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
    if (getBackend().name !== 'native') throw new SpecFileError('--threads applies to the native backend only; the TypeScript backend runs on one thread');
    setThreads(n);
  }
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
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });

  registerDataCommands(program);
  registerLabCommands(program);

  program
    .command('summary')
    .description("print the model's Keras-style summary")
    .argument('<spec>', 'experiment or model file (YAML or JSON)')
    .option('--set <path=value>', 'override a field of the spec (repeatable)', collect, [])
    .action((file: string, opts: { set: string[] }) => {
      const spec = loadSpec(file, opts.set);
      buildSpecModel(spec).summary();
    });

  program
    .command('train')
    .description('train the spec\'s model and report loss and metrics on train, validation and test')
    .argument('<spec>', 'experiment file (YAML or JSON)')
    .option('--set <path=value>', 'override a field of the spec, e.g. train.epochs=1 (repeatable)', collect, [])
    .option('--json', 'print the history and final metrics as JSON on stdout')
    .option('-q, --quiet', 'no progress output')
    .option('--save <dir>', 'save the trained model (architecture, weights, optimizer state) to this folder')
    .option('--out <dir>', "where the evaluate block's feature maps and filters go (.npy arrays and PNG grids)", undefined)
    .action(async (file: string, opts: { set: string[]; json?: boolean; quiet?: boolean; save?: string; out?: string }) => {
      const spec = loadSpec(file, opts.set);
      if (!opts.json && !opts.quiet) buildSpecModel(spec).summary();
      const result = await runSpec(spec, { verbose: opts.json || opts.quiet ? 0 : 1, saveTo: opts.save });
      const outDir = opts.out ?? join('convlab-out', spec.name);
      const written = result.artifacts.length ? writeArtifacts(outDir, result.artifacts) : [];
      if (opts.json) {
        process.stdout.write(`${JSON.stringify({ history: result.history.epochs, final: result.final, evaluation: result.evaluation, artifacts: written, params: result.params, seconds: result.seconds, backend: result.backend, threads: result.threads, isa: result.isa })}\n`);
      } else {
        printResults(result, (s) => console.log(s));
        if (written.length) {
          console.log('');
          console.log(`Feature maps and filters (in ${outDir}):`);
          for (const w of written) console.log(`  ${w.kind.padEnd(12)} ${w.layer.padEnd(24)} [${w.shape.join(', ')}]  ${w.files.length} file${w.files.length === 1 ? '' : 's'}`);
        }
        if (opts.save) console.log(`Saved the model to ${opts.save}`);
      }
    });

  try {
    await program.parseAsync(argv, { from: 'user' });
    // A command that finished but had something fail (a trial of a study) sets process.exitCode.
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help') return 0;
      return 2;
    }
    if (e instanceof SpecError || e instanceof SpecFileError || e instanceof DataError) {
      process.stderr.write(`convlab: ${e instanceof SpecError ? 'invalid spec:\n  ' + e.message.split('\n').join('\n  ') : e.message}\n`);
      return 2;
    }
    if (e instanceof StoreError) {
      process.stderr.write(`convlab: ${e.message}\n`);
      return 1;
    }
    process.stderr.write(`convlab: error: ${(e as Error).stack ?? String(e)}\n`);
    return 1;
  }
}
