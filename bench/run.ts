/**
 * npm run bench [-- --quick] [-- --models A,B] [-- --engines convlab-native,pytorch] [-- --rounds 3] [-- --no-contended]
 *
 * Measures training and inference images/s of models A–E (E: resnet18 at 224×224, native and PyTorch only) and
 * sgemm GFLOPS for convlab (native and TypeScript), PyTorch CPU and TensorFlow.js, each at 1 thread and at all
 * cores, every configuration in its own process.
 * Writes a Markdown table to stdout and bench/README-style rows to bench/results/latest.json.
 * With --rounds N the fast engines (convlab native, PyTorch) are measured N times, one round after another, and
 * each figure is the median over rounds: on a shared machine whose speed drifts over minutes, engines measured in
 * the same rounds see the same drift.
 *
 * Then, unless --no-contended, models A and B (those selected) are measured again for native and PyTorch with one
 * other busy process on the machine (a spinning loop, as a laptop, a CI runner or `run --parallel` is): all-cores
 * training there should be no slower than one thread.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const USAGE =
  'usage: npm run bench [-- --quick] [-- --models A,B,C,D,E,sgemm] [-- --engines convlab-native,convlab-ts,pytorch,tfjs] [-- --rounds N] [-- --no-contended]\n';
const options = {
  quick: { type: 'boolean', default: false },
  'no-contended': { type: 'boolean', default: false },
  models: { type: 'string' },
  engines: { type: 'string' },
  rounds: { type: 'string', default: '1' },
  help: { type: 'boolean', default: false },
} as const;
let parsed: ReturnType<typeof parseArgs<{ options: typeof options }>>;
try {
  parsed = parseArgs({ options });
} catch (e) {
  process.stderr.write(`bench: ${(e as Error).message}\n${USAGE}`);
  process.exit(2);
}
const { values } = parsed;
if (values.help) {
  process.stdout.write(USAGE);
  process.exit(0);
}
const quick = values.quick ?? false;
const rounds = Number(values.rounds);
if (!Number.isInteger(rounds) || rounds < 1) {
  process.stderr.write(`bench: --rounds must be a positive integer, got '${values.rounds}'\n`);
  process.exit(2);
}
const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const worker = join(root, 'dist', 'bench', 'worker.js');
const torchScript = join(root, 'bench', 'torch_bench.py');
const PYTHON = '/usr/bin/python3';
/** One configuration's process is stopped after this long (TensorFlow.js needs more than this for one step of D). */
const TIMEOUT_S = 900;

type Engine = 'convlab-native' | 'convlab-ts' | 'pytorch' | 'tfjs';
interface Row {
  engine: Engine;
  model: string;
  threads: number;
  batch: number;
  train_ips: number;
  infer_ips: number;
  peak_rss_mb: number;
  /** Repetitions actually timed (fewer than 3 only when a slow peer ran out of its time budget). */
  reps_done?: number;
}

const allCores = cpus().length;
const threadCounts = [...new Set([1, allCores])];
const models = (values.models ?? 'A,B,C,D,E,sgemm').split(',');
const batches: Record<string, number> = { A: 128, B: 128, C: 64, D: 64, E: 32, sgemm: 0 };

function available(engine: Engine): string | null {
  if (engine === 'pytorch') {
    if (!existsSync(PYTHON)) return `${PYTHON} not found`;
    const r = spawnSync(PYTHON, ['-c', 'import torch'], { encoding: 'utf8' });
    return r.status === 0 ? null : 'PyTorch is not installed (apt-get install -y python3-torch libopenblas0-openmp)';
  }
  if (engine === 'tfjs')
    return existsSync(join(root, 'node_modules', '@tensorflow', 'tfjs')) ? null : '@tensorflow/tfjs is not installed (npm install)';
  if (engine === 'convlab-native') {
    return existsSync(join(root, 'native', 'build', 'Release', 'convlab_native.node'))
      ? null
      : 'the native addon is not built (npm run build:native)';
  }
  return null;
}

/** Steps per repetition, sized so the slow engines still finish in reasonable time. */
function plan(engine: Engine, model: string, threads: number): { steps: number; reps: number; size: number; budget: number } | null {
  const slow = engine === 'convlab-ts' || engine === 'tfjs';
  // --quick measures TensorFlow.js (single-threaded, and ~100× slower) on LeNet-5 and sgemm at one thread only.
  if (quick && engine === 'tfjs' && (threads > 1 || (model !== 'B' && model !== 'sgemm'))) return null;
  const reps = 3;
  if (model === 'sgemm') return { steps: 1, reps, size: slow ? (quick ? 512 : 1024) : quick ? 1024 : 2048, budget: 0 };
  // E (resnet18 at 224×224) is measured for the native backend and PyTorch only: a step of it takes minutes in JavaScript.
  if (slow && model === 'E') return null;
  if (slow) {
    // The single-threaded JavaScript engines get a time budget per configuration; --quick measures them on A and B.
    if (quick && (model === 'C' || model === 'D')) return null;
    return { steps: quick ? 1 : 2, reps, size: 0, budget: quick ? 12 : 150 };
  }
  const steps = quick ? { A: 4, B: 6, C: 4, D: 1, E: 1 } : { A: 10, B: 15, C: 10, D: 3, E: 2 };
  return { steps: steps[model as 'A'], reps, size: 0, budget: 0 };
}

function avx512(): boolean {
  try {
    return /\bavx512f\b/.test(readFileSync('/proc/cpuinfo', 'utf8'));
  } catch {
    return false;
  }
}

function measure(
  engine: Engine,
  model: string,
  threads: number,
  p: { steps: number; reps: number; size: number; budget: number },
): Row | string {
  const args = [
    '--model',
    model,
    '--threads',
    String(threads),
    '--steps',
    String(p.steps),
    '--reps',
    String(p.reps),
    '--size',
    String(p.size),
    '--budget',
    String(p.budget),
  ];
  const env = { ...process.env, OMP_NUM_THREADS: String(threads), OPENBLAS_NUM_THREADS: String(threads), CONVLAB_THREADS: String(threads) };
  // OpenBLAS 0.3.21 mistakes newer AVX-512 CPUs for Haswell; name the core so the peer runs at its best.
  if (engine === 'pytorch' && avx512()) Object.assign(env, { OPENBLAS_CORETYPE: 'SkylakeX' });
  const r =
    engine === 'pytorch'
      ? spawnSync(PYTHON, [torchScript, ...args], { encoding: 'utf8', env, timeout: TIMEOUT_S * 1000 })
      : spawnSync(process.execPath, [worker, '--engine', engine, ...args], { encoding: 'utf8', env, timeout: TIMEOUT_S * 1000 });
  if (r.error && (r.error as NodeJS.ErrnoException).code === 'ETIMEDOUT')
    return `timed out after ${TIMEOUT_S} s (not one training step finished)`;
  const line = r.stdout.trim().split('\n').pop() ?? '';
  if (r.status !== 0 || !line.startsWith('{')) return `failed: ${(r.stderr || r.stdout).trim().split('\n').slice(-3).join(' | ')}`;
  const m = JSON.parse(line) as { train_ips: number; infer_ips: number; peak_rss_mb: number; reps_done?: number };
  return { engine, model, threads, batch: batches[model], ...m };
}

const engines = (values.engines ?? 'convlab-native,convlab-ts,pytorch,tfjs').split(',') as Engine[];
const notes: string[] = [];
for (const engine of engines) {
  const why = available(engine);
  if (why) {
    notes.push(`${engine} skipped: ${why}`);
    process.stderr.write(`bench: ${engine} skipped: ${why}\n`);
  }
}
const active = engines.filter((e) => !available(e));
const started = performance.now();
const byConfig = new Map<string, Row[]>();
for (let round = 1; round <= rounds; round++) {
  for (const model of models) {
    for (const threads of threadCounts) {
      for (const engine of active) {
        const p = plan(engine, model, threads);
        // The slow JavaScript engines are measured in the first round only.
        if (!p || (round > 1 && (engine === 'convlab-ts' || engine === 'tfjs'))) continue;
        process.stderr.write(`bench:${rounds > 1 ? ` round ${round}` : ''} ${engine} ${model} ${threads} thread(s) ... `);
        const r = measure(engine, model, threads, p);
        if (typeof r === 'string') {
          notes.push(`${engine} ${model} ${threads}t ${r}`);
          process.stderr.write(`${r}\n`);
        } else {
          const key = `${engine} ${model} ${threads}`;
          byConfig.set(key, [...(byConfig.get(key) ?? []), r]);
          process.stderr.write(`train ${r.train_ips.toFixed(1)} infer ${r.infer_ips.toFixed(1)}\n`);
        }
      }
    }
  }
}
const mid = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const rows: Row[] = [...byConfig.values()].map((rs) => ({
  ...rs[0],
  train_ips: mid(rs.map((r) => r.train_ips)),
  infer_ips: mid(rs.map((r) => r.infer_ips)),
  peak_rss_mb: Math.max(...rs.map((r) => r.peak_rss_mb)),
}));

const fmt = (v: number | undefined) => (v === undefined ? '–' : v >= 100 ? v.toFixed(0) : v >= 1 ? v.toFixed(1) : v.toFixed(2));
/** A throughput cell: * marks fewer than 3 repetitions, † the warm-up step alone (a slow peer's time budget). */
const cell = (r: Row | undefined, key: 'train_ips' | 'infer_ips') => {
  if (!r) return '–';
  const done = r.reps_done ?? 3;
  return `${fmt(r[key])}${done === 0 ? '†' : done < 3 ? '*' : ''}`;
};
const ratio = (a: number | undefined, b: number | undefined) =>
  a === undefined || b === undefined || b === 0 ? '–' : `${(a / b).toFixed(2)}×`;
const get = (engine: Engine, model: string, threads: number) =>
  rows.find((r) => r.engine === engine && r.model === model && r.threads === threads);
const lines: string[] = [];
lines.push(
  `| model | threads | native train | ts train | pytorch train | tfjs train | native/pytorch | native/tfjs | native infer | pytorch infer | peak RSS native / pytorch (MB) |`,
);
lines.push('|---|---|---|---|---|---|---|---|---|---|---|');
for (const model of models.filter((m) => m !== 'sgemm')) {
  for (const t of threadCounts) {
    const n = get('convlab-native', model, t);
    const ts = get('convlab-ts', model, t);
    const pt = get('pytorch', model, t);
    const tf = get('tfjs', model, t);
    lines.push(
      `| ${model} | ${t} | ${cell(n, 'train_ips')} | ${cell(ts, 'train_ips')} | ${cell(pt, 'train_ips')} | ${cell(tf, 'train_ips')} | ${ratio(n?.train_ips, pt?.train_ips)} | ${ratio(n?.train_ips, tf?.train_ips)} | ${cell(n, 'infer_ips')} | ${cell(pt, 'infer_ips')} | ${fmt(n?.peak_rss_mb)} / ${fmt(pt?.peak_rss_mb)} |`,
    );
  }
}
const peakNote = models.includes('E') ? await flopsNote() : '';
if (models.includes('sgemm')) {
  for (const t of threadCounts) {
    const g = (e: Engine) => cell(get(e, 'sgemm', t), 'train_ips');
    lines.push(
      `| sgemm GFLOPS | ${t} | ${g('convlab-native')} | ${g('convlab-ts')} | ${g('pytorch')} | ${g('tfjs')} | ${ratio(get('convlab-native', 'sgemm', t)?.train_ips, get('pytorch', 'sgemm', t)?.train_ips)} | ${ratio(get('convlab-native', 'sgemm', t)?.train_ips, get('tfjs', 'sgemm', t)?.train_ips)} | | | |`,
    );
  }
}
// Under contention: one other process spins on a core while A and B train, at 1 thread and at all cores.
const contended: string[] = [];
const contendedModels = values['no-contended'] ? [] : models.filter((m) => m === 'A' || m === 'B');
const contendedEngines = active.filter((e) => e === 'convlab-native' || e === 'pytorch');
if (contendedModels.length && contendedEngines.length) {
  const busy = spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' });
  const got = new Map<string, Row>();
  try {
    for (const model of contendedModels) {
      for (const threads of threadCounts) {
        for (const engine of contendedEngines) {
          process.stderr.write(`bench: contended ${engine} ${model} ${threads} thread(s) ... `);
          const r = measure(engine, model, threads, plan(engine, model, threads)!);
          if (typeof r === 'string') {
            notes.push(`contended ${engine} ${model} ${threads}t ${r}`);
            process.stderr.write(`${r}\n`);
          } else {
            got.set(`${engine} ${model} ${threads}`, r);
            process.stderr.write(`train ${r.train_ips.toFixed(1)}\n`);
          }
        }
      }
    }
  } finally {
    busy.kill('SIGKILL');
  }
  const g = (e: Engine, m: string, t: number) => got.get(`${e} ${m} ${t}`)?.train_ips;
  contended.push(
    '| model | threads | native train | pytorch train | native/pytorch | native, all cores / 1 thread |',
    '|---|---|---|---|---|---|',
  );
  for (const model of contendedModels) {
    for (const t of threadCounts) {
      contended.push(
        `| ${model} | ${t} | ${fmt(g('convlab-native', model, t))} | ${fmt(g('pytorch', model, t))} | ${ratio(g('convlab-native', model, t), g('pytorch', model, t))} | ${t === allCores && allCores > 1 ? ratio(g('convlab-native', model, t), g('convlab-native', model, 1)) : ''} |`,
      );
    }
  }
}

/**
 * Model E's work as a share of the machine's peak: FLOPs per training image (forward, then about twice that
 * backward) times images/s, against cores × clock × FLOPs per cycle (two FMA units of 16 floats with AVX-512, of 8
 * with AVX2; the clock from /proc/cpuinfo, which a VM may report as its nominal one).
 */
async function flopsNote(): Promise<string> {
  const { buildConvlabModel, forwardFlops } = await import('./models.js');
  const perImage = 3 * forwardFlops(buildConvlabModel('E'));
  let mhz = 0;
  try {
    mhz = Number(/cpu MHz\s*:\s*([\d.]+)/.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? 0);
  } catch {
    mhz = 0;
  }
  const perCycle = avx512() ? 64 : 32;
  const parts = threadCounts.map((t) => {
    const n = get('convlab-native', 'E', t);
    const pt = get('pytorch', 'E', t);
    const peak = (t * mhz * 1e6 * perCycle) / 1e9;
    const share = (ips: number | undefined) => (ips && peak ? `${((100 * ips * perImage) / 1e9 / peak).toFixed(0)}%` : '–');
    return `${t} thread(s): native ${share(n?.train_ips)}, PyTorch ${share(pt?.train_ips)} of ${peak.toFixed(0)} GFLOP/s`;
  });
  return (
    `Model E (resnet18, 224×224, batch 32): ${(perImage / 1e9).toFixed(2)} GFLOP per training image, counted as direct ` +
    `convolutions; share of the FMA peak (${mhz.toFixed(0)} MHz as /proc/cpuinfo reports it × ${perCycle} FLOP/cycle per core) ` +
    `in training: ${parts.join('; ')}. Winograd convolutions do fewer multiplications than this count, and a turbo clock ` +
    'runs above the reported one, so a share can pass 100%.'
  );
}

const header = `Training and inference images/s (median of 3 after warm-up${rounds > 1 ? `, then the median of ${rounds} rounds for native and PyTorch` : ''}; for slow peers with a time budget, * = fewer repetitions, † = the warm-up step alone), ${new Date().toISOString().slice(0, 10)}, ${cpus()[0]?.model ?? 'CPU'} × ${allCores}${quick ? ', --quick' : ''}. sgemm rows: GFLOPS (native and PyTorch at 2048³, or 1024³ with --quick; TypeScript and TensorFlow.js at 1024³, or 512³).`;
const contendedText = contended.length
  ? `\nWith one other busy process on the machine (training images/s):\n\n${contended.join('\n')}\n`
  : '';
process.stdout.write(
  `${header}\n\n${lines.join('\n')}\n${peakNote ? `\n${peakNote}\n` : ''}${contendedText}${notes.length ? `\n${notes.map((n) => `- ${n}`).join('\n')}\n` : ''}\nTook ${((performance.now() - started) / 1000).toFixed(0)} s.\n`,
);
const out = join(root, 'bench', 'results');
mkdirSync(out, { recursive: true });
writeFileSync(join(out, 'latest.json.tmp'), `${JSON.stringify(rows, null, 1)}\n`);
renameSync(join(out, 'latest.json.tmp'), join(out, 'latest.json'));
