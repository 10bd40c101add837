/**
 * npm run bench:store [-- --rounds 500]
 *
 * What the run store costs a trial per epoch, for SQLite and PostgreSQL, against the epoch it records: LeNet-5 on
 * MNIST (60,000 images, batch 64, this machine's default backend; timed on a 6,000-image subset and scaled up).
 * A trial's store work per epoch is one epoch row and one heartbeat. PostgreSQL is a server this script starts from
 * Debian's binaries in a temporary folder with its default durability (fsync, synchronous commits), on loopback
 * (skipped where they are missing); a server across a network adds its round trips. Prints a Markdown table.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { runSpec } from '../src/lab/train_run.js';
import { checkSpec } from '../src/lab/spec.js';
import { PostgresStore } from '../src/lab/pg_store.js';
import { type AsyncRunStore, asyncStore, SqliteStore, workerId } from '../src/lab/store.js';
import { noPostgres, startPostgres } from '../test/helpers/postgres.js';

const { values } = parseArgs({ options: { rounds: { type: 'string', default: '500' } } });
const ROUNDS = Number(values.rounds);

async function lenetEpochSeconds(): Promise<number> {
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
  const r = await runSpec(spec, { verbose: 0 });
  // The second epoch, warm, scaled from 6,000 images to MNIST's 60,000.
  return r.history.epochs[1].seconds * 10;
}

async function perEpoch(store: AsyncRunStore): Promise<number[]> {
  const e = await store.upsertExperiment('bench-store', { name: 'bench-store' }, null);
  const [t] = await store.addTrials(e.id, [
    { key: 'k', label: 'k', group: 'k', variant: null, values: {}, repeat: 0, seed: 0, config: { name: 'bench-store' } },
  ]);
  await store.claimTrial([t.id], workerId());
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
    await store.heartbeat(t.id);
    times.push(performance.now() - t0);
  }
  return times.sort((a, b) => a - b);
}

const q = (xs: number[], p: number) => xs[Math.min(xs.length - 1, Math.floor(p * xs.length))];

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'convlab-bench-store-'));
  try {
    const epoch = await lenetEpochSeconds();
    const rows: string[] = [];
    const report = (name: string, times: number[]) =>
      rows.push(
        `| ${name} | ${q(times, 0.5).toFixed(2)} | ${q(times, 0.95).toFixed(2)} | ${((q(times, 0.5) / 1000 / epoch) * 100).toFixed(4)}% |`,
      );
    const sqlite = asyncStore(new SqliteStore(join(dir, 'sqlite')));
    report('SQLite (WAL, this disk)', await perEpoch(sqlite));
    await sqlite.close();
    if (noPostgres) console.error(`PostgreSQL skipped: ${noPostgres}`);
    else {
      const server = await startPostgres({ durable: true });
      try {
        const pg = await PostgresStore.open(await server.database('bench'), { artifacts: join(dir, 'art') });
        report('PostgreSQL (loopback)', await perEpoch(pg));
        await pg.close();
      } finally {
        await server.stop();
      }
    }
    console.log(
      `\nStore work per epoch (one epoch row and one heartbeat), ${ROUNDS} epochs; LeNet-5's MNIST epoch here: ${epoch.toFixed(1)} s\n`,
    );
    console.log('| store | p50 (ms) | p95 (ms) | p50 as a share of the epoch |');
    console.log('|---|---|---|---|');
    for (const r of rows) console.log(r);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
