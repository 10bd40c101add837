/**
 * npm run bench:store [-- --rounds 500]
 *
 * What the run store costs a trial per epoch, for SQLite and PostgreSQL, against the epoch it records: LeNet-5 on
 * MNIST (60,000 images, batch 64, this machine's default backend; timed on a 6,000-image subset and scaled up).
 * A trial's store work per epoch is one epoch row and one heartbeat. PostgreSQL is a server this script starts from
 * Debian's binaries in a temporary folder with its default durability (fsync, synchronous commits), on loopback
 * (skipped where they are missing); a server across a network adds its round trips.
 *
 * Then a study spread over the queue: its trials enqueued (`run --enqueue`) and trained by 1, 2 and 4 local
 * `convlab worker` processes sharing this machine's cores (threads = cores / workers, at least 1), timed from the
 * workers' start to the last one's exit, against one `convlab run` of the same study into SQLite in the same run.
 * Prints Markdown tables.
 */
import { spawn } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { runSpec } from '../src/lab/train_run.js';
import { checkSpec } from '../src/lab/spec.js';
import { PostgresStore } from '../src/lab/pg_store.js';
import { type AsyncRunStore, asyncStore, SqliteStore, workerId } from '../src/lab/store.js';
import { noPostgres, startPostgres } from '../test/helpers/postgres.js';

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '500' },
    trials: { type: 'string', default: '8' },
    workers: { type: 'string', default: '1,2,4' },
  },
});
const ROUNDS = Number(values.rounds);
const TRIALS = Number(values.trials);
const WORKERS = values.workers.split(',').map(Number);
const BIN = fileURLToPath(new URL('../../bin/convlab.js', import.meta.url));

/** A study of TRIALS small CNNs on 15,000 MNIST images, 2 epochs each (differing by their seed). */
const STUDY = () => `
name: bench-queue
seed: 0
data: {dataset: mnist, subset: {train: 15000}, validation: {count: 1000}}
model:
  input: [28, 28, 1]
  layers:
    - Conv2D: {filters: 8, kernel_size: 3, activation: relu}
    - MaxPooling2D: {}
    - Conv2D: {filters: 16, kernel_size: 3, activation: relu}
    - MaxPooling2D: {}
    - Flatten: {}
    - Dense: {units: 10, activation: softmax}
train: {epochs: 2, batch_size: 64}
sweep: {repeats: ${TRIALS}}
`;

/** Runs convlab to its end; rejects on a non-zero exit. */
function convlab(args: string[], env: Record<string, string>): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d) => (err += d));
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`convlab ${args.join(' ')}: exit ${code}: ${err}`))));
  });
}

async function studyWallTimes(dir: string, server: Awaited<ReturnType<typeof startPostgres>>): Promise<string[]> {
  const spec = join(dir, 'study.yaml');
  writeFileSync(spec, STUDY());
  const cores = availableParallelism();
  const rows: string[] = [];
  let t0 = performance.now();
  await convlab(['run', spec, '--store', join(dir, 'single'), '--quiet'], {});
  const single = (performance.now() - t0) / 1000;
  rows.push(`| one \`convlab run\` (SQLite, ${cores} threads) | ${single.toFixed(1)} | 1.00× |`);
  for (const n of WORKERS) {
    const url = await server.database(`study${n}`);
    const env = { CONVLAB_STORE: url, CONVLAB_ARTIFACTS: join(dir, `artifacts${n}`) };
    await convlab(['run', spec, '--enqueue'], env);
    const threads = String(Math.max(1, Math.floor(cores / n)));
    t0 = performance.now();
    await Promise.all(Array.from({ length: n }, () => convlab(['--threads', threads, 'worker', '--until-empty'], env)));
    const wall = (performance.now() - t0) / 1000;
    rows.push(
      `| ${n} queue worker${n === 1 ? '' : 's'} (${threads} thread${threads === '1' ? '' : 's'} each) | ${wall.toFixed(1)} | ${(single / wall).toFixed(2)}× |`,
    );
  }
  return rows;
}

async function lenetEpochSeconds(checkpoint: string): Promise<number> {
  const spec = checkSpec({
    name: 'bench-lenet',
    seed: 0,
    data: { dataset: 'mnist', transforms: [{ pad: 2 }, { scale: [0, 1] }], subset: { train: 6000 } },
    model: {
      input: [32, 32, 1],
      layers: [
        { Conv2D: { filters: 6, kernel_size: 5, activation: 'relu' } },
        { AveragePooling2D: { pool_size: 2 } },
        { Conv2D: { filters: 16, kernel_size: 5, activation: 'relu' } },
        { AveragePooling2D: { pool_size: 2 } },
        { Flatten: {} },
        { Dense: { units: 120, activation: 'relu' } },
        { Dense: { units: 84, activation: 'relu' } },
        { Dense: { units: 10, activation: 'softmax' } },
      ],
    },
    train: { optimizer: 'adam', epochs: 2, batch_size: 64 },
  });
  const r = await runSpec(spec, { verbose: 0, checkpoint: { dir: checkpoint } });
  // The second epoch, warm, scaled from 6,000 images to MNIST's 60,000.
  return r.history.epochs[1].seconds * 10;
}

/** One epoch's store work: its row, a heartbeat, and (where the store keeps files) the epoch's checkpoint. */
async function perEpoch(store: AsyncRunStore, checkpoint?: string): Promise<number[]> {
  const e = await store.upsertExperiment('bench-store', { name: 'bench-store' }, null);
  const [t] = await store.addTrials(e.id, [
    { key: 'k', label: 'k', group: 'k', variant: null, values: {}, repeat: 0, seed: 0, config: { name: 'bench-store' } },
  ]);
  await store.claimTrial([t.id], workerId());
  if (checkpoint) cpSync(checkpoint, join(store.trialDir(t.id), 'checkpoint', 'current'), { recursive: true });
  const logs = {
    loss: 0.1,
    accuracy: 0.97,
    val_loss: 0.12,
    val_accuracy: 0.965,
    lr: 0.001,
    seconds: 9.5,
    samples_per_second: 6300,
    rss_mb: 310,
    cpu_seconds: 19,
  };
  const times: number[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    const t0 = performance.now();
    await store.recordEpoch(t.id, i, logs);
    if (checkpoint) await store.putFiles?.(t.id, 'checkpoint/current');
    await store.heartbeat(t.id);
    times.push(performance.now() - t0);
  }
  return times.sort((a, b) => a - b);
}

const q = (xs: number[], p: number) => xs[Math.min(xs.length - 1, Math.floor(p * xs.length))];

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'convlab-bench-store-'));
  try {
    const checkpoint = join(dir, 'lenet-checkpoint');
    const epoch = await lenetEpochSeconds(checkpoint);
    const size = (statSync(join(checkpoint, 'current', 'weights.bin')).size / 2 ** 20).toFixed(2);
    const rows: string[] = [];
    const report = (name: string, times: number[]) =>
      rows.push(
        `| ${name} | ${q(times, 0.5).toFixed(2)} | ${q(times, 0.95).toFixed(2)} | ${((q(times, 0.5) / 1000 / epoch) * 100).toFixed(4)}% |`,
      );
    const sqlite = asyncStore(new SqliteStore(join(dir, 'sqlite')));
    report('SQLite (WAL, this disk)', await perEpoch(sqlite));
    await sqlite.close();
    let study: string[] = [];
    if (noPostgres) console.error(`PostgreSQL skipped: ${noPostgres}`);
    else {
      const server = await startPostgres({ durable: true });
      try {
        const pg = await PostgresStore.open(await server.database('bench'), { artifacts: join(dir, 'art') });
        report('PostgreSQL (loopback)', await perEpoch(pg));
        report(`PostgreSQL, with LeNet-5's checkpoint (${size} MiB) put into it`, await perEpoch(pg, join(checkpoint, 'current')));
        await pg.close();
        if (TRIALS > 0) study = await studyWallTimes(dir, server);
      } finally {
        await server.stop();
      }
    }
    console.log(
      `\nStore work per epoch (one epoch row and one heartbeat; where the store keeps the files, the epoch's checkpoint too), ${ROUNDS} epochs; LeNet-5's MNIST epoch here: ${epoch.toFixed(1)} s\n`,
    );
    console.log('| store | p50 (ms) | p95 (ms) | p50 as a share of the epoch |');
    console.log('|---|---|---|---|');
    for (const r of rows) console.log(r);
    if (study.length) {
      console.log(
        `\nA study of ${TRIALS} trials (small CNN, 15,000 MNIST images, 2 epochs each), wall time on ${availableParallelism()} cores\n`,
      );
      console.log('| how | seconds | speed against one run |');
      console.log('|---|---|---|');
      for (const r of study) console.log(r);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
