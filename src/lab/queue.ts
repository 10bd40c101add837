/**
 * Sweeps spread over many machines: `run --enqueue` puts one job per unfinished trial on a pg-boss queue in the
 * PostgreSQL store's database, and `convlab worker` processes, anywhere that reaches the database, take one job at
 * a time and train its trial into the store (checkpoints included, so another worker can resume it).
 *
 * Who does what: pg-boss hands out jobs (one worker per job, retries, expiry); the store decides whether a trial
 * still needs training (its claim is the only way to train a trial, so a trial never trains twice at once, and its
 * finish is idempotent); the store's heartbeat, beaten from a thread, says whether the worker holding a trial is
 * alive. A worker that finds a dead holder's trial releases it and fails that worker's job, which pg-boss then hands
 * to another worker; that worker resumes the trial from its last epoch checkpoint.
 */
import { randomUUID } from 'node:crypto';
import PgBoss from 'pg-boss';
import { printable } from '../util/text.js';
import { type PostgresStore, redactUrl, type SqlRunner } from './pg_store.js';
import { registerStudy, runTrial, summarize, type TrialOptions } from './runner.js';
import { aliveIn, StoreError, type TrialRow, workerId } from './store.js';
import type { TrialPlan } from './sweep.js';

/** The one queue convlab's trials travel on, in the pg-boss schema `convlab_queue` of the store's database. */
export const QUEUE = 'convlab-trials';
const SCHEMA = 'convlab_queue';
/** How many times a trial's worker may die (kill -9, a lost machine) before the trial is recorded as failed. */
export const DEATHS_ALLOWED = 5;
/**
 * How long pg-boss lets a job stay active. A live worker keeps its trial however long it trains: when the job
 * expires and comes back, the worker that takes it sees the live holder and lets the job go. The expiry only bounds
 * how long a job whose worker died before it claimed the trial waits to come back.
 */
const JOB_EXPIRY_SECONDS = 30 * 60;

type JobData = { trial: number };

/** Starts pg-boss on the store's database (installing its schema the first time) and makes sure the queue exists. */
export async function openQueue(store: PostgresStore, options: { supervise: boolean }): Promise<PgBoss> {
  const boss = new PgBoss({
    connectionString: store.url,
    schema: SCHEMA,
    max: 2,
    application_name: 'convlab',
    supervise: options.supervise,
    schedule: false,
  });
  let said = 0;
  // pg-boss's own timers (maintenance) report problems as events; an outage is reported by the store already.
  boss.on('error', (e: Error) => {
    if (Date.now() - said < 60_000) return;
    said = Date.now();
    process.stderr.write(`convlab: the job queue on ${redactUrl(store.url)}: ${e.message}\n`);
  });
  await store.retrying(() => boss.start());
  // pg-boss makes a table per queue; two processes making it at once deadlock, so one at a time, under a lock.
  const create = () =>
    boss.createQueue(QUEUE, {
      name: QUEUE,
      policy: 'standard',
      retryLimit: DEATHS_ALLOWED,
      retryDelay: 0,
      expireInSeconds: JOB_EXPIRY_SECONDS,
      // A queued job waits as long as a study does: a year, not pg-boss's default of two weeks.
      retentionMinutes: 365 * 24 * 60,
    });
  if (!(await store.retrying(() => boss.getQueue(QUEUE))))
    await store.exclusive('convlab-queue-create', async () => {
      if (!(await boss.getQueue(QUEUE))) await create();
    });
  return boss;
}

export async function closeQueue(boss: PgBoss): Promise<void> {
  await boss.stop({ graceful: false, wait: true, timeout: 1000 }).catch(() => {});
}

export interface Enqueued {
  experiment: string;
  trials: number;
  finished: number;
  /** Newly queued by this call. */
  enqueued: number;
  /** Already waiting on the queue, or held by a live worker. */
  queued: number;
  /** Trials of earlier versions of the spec that were waiting on the queue and are taken off it. */
  withdrawn: number;
}

/**
 * The trials of the experiment that the spec, as it is now, no longer has (it was edited) are taken off the queue
 * where they wait; one a worker is training goes on to its end.
 */
async function withdrawEarlier(store: PostgresStore, boss: PgBoss, experimentId: number, ids: readonly number[]): Promise<number> {
  return store.exclusive('convlab-queue', async (sql) => {
    const rows = (
      await sql.executeSql(
        `SELECT j.trial_id, j.job_id FROM convlab.jobs j JOIN convlab.trials t ON t.id = j.trial_id
         WHERE t.experiment_id = $1 AND t.status = 'pending' AND NOT (t.id = ANY($2::int[]))`,
        [experimentId, ids],
      )
    ).rows;
    let withdrawn = 0;
    for (const r of rows) {
      const job = await boss.getJobById<JobData>(QUEUE, String(r.job_id), { db: sql, includeArchive: false });
      if (job?.state !== 'created' && job?.state !== 'retry') continue;
      await boss.cancel(QUEUE, job.id, { db: sql });
      withdrawn++;
    }
    return withdrawn;
  });
}

/**
 * `run --enqueue`: registers the study's trials (as `run` does), makes failed ones pending again (all of them with
 * `fresh`), and queues a job for every unfinished trial that has none waiting. Done under one lock in one
 * transaction with pg-boss's own inserts, so two enqueues of one study at once queue each trial once.
 */
export async function enqueueStudy(
  store: PostgresStore,
  file: string,
  overrides: string[],
  options: { planned?: { raw: Record<string, unknown>; plans: TrialPlan[] }; fresh?: boolean } = {},
): Promise<Enqueued> {
  const boss = await openQueue(store, { supervise: false });
  try {
    await reclaim(store, boss);
    const { name, experimentId, ids, current } = await registerStudy(store, file, overrides, {
      planned: options.planned,
      fresh: options.fresh,
    });
    const { enqueued, queued } = await ensureJobs(store, boss, current, new Set());
    const withdrawn = await withdrawEarlier(store, boss, experimentId, ids);
    return {
      experiment: name,
      trials: ids.length,
      finished: current.filter((t) => t.status === 'finished').length,
      enqueued,
      queued,
      withdrawn,
    };
  } finally {
    await closeQueue(boss);
  }
}

/**
 * Under the queue lock, gives each unfinished, unheld trial a job waiting on the queue: it keeps one that is waiting
 * or active, fails the active job of a worker found dead (`released`; pg-boss then hands it out again, or, past
 * DEATHS_ALLOWED, the trial is recorded as failed), and sends a new one where there is none (never queued, done,
 * or archived).
 */
async function ensureJobs(
  store: PostgresStore,
  boss: PgBoss,
  trials: readonly TrialRow[],
  released: ReadonlyMap<number, string> | ReadonlySet<number>,
): Promise<{ enqueued: number; queued: number }> {
  return store.exclusive('convlab-queue', async (sql) => {
    let enqueued = 0;
    let queued = 0;
    const jobs = await jobsOf(
      sql,
      trials.map((t) => t.id),
    );
    for (const t of trials) {
      const now = (await sql.executeSql('SELECT status FROM convlab.trials WHERE id = $1', [t.id])).rows[0]?.status;
      if (now === 'finished' || now === undefined) continue;
      if (now === 'running') {
        queued++;
        continue;
      }
      const job = jobs.get(t.id);
      const found = job ? await boss.getJobById<JobData>(QUEUE, job, { db: sql, includeArchive: false }) : null;
      if (found && (found.state === 'created' || found.state === 'retry')) {
        queued++;
        continue;
      }
      if (found?.state === 'active') {
        if (released.has(t.id)) {
          await boss.fail(QUEUE, found.id, { message: 'its worker died' }, { db: sql });
          const after = await boss.getJobById<JobData>(QUEUE, found.id, { db: sql, includeArchive: false });
          if (after?.state === 'failed') {
            const holder = released instanceof Map ? released.get(t.id) : undefined;
            await sql.executeSql(
              `UPDATE convlab.trials SET status = 'failed', error = $1, finished_at = $2 WHERE id = $3 AND status = 'pending'`,
              [
                `the workers training it died ${after.retryCount + 1} times${holder ? ` (the last: ${holder})` : ''}; \`convlab run --enqueue\` queues it again`,
                new Date().toISOString(),
                t.id,
              ],
            );
            continue;
          }
        }
        queued++;
        continue;
      }
      // Workers take trials in the study's order (pg-boss hands out the highest priority first), a trial whose
      // worker died before the rest.
      const priority = released.has(t.id) ? 1 : -t.id;
      const id = await boss.send(QUEUE, { trial: t.id } satisfies JobData, { id: randomUUID(), priority, db: sql } as PgBoss.SendOptions);
      if (!id) throw new StoreError(`the job queue refused a job for trial #${t.id}`);
      await sql.executeSql(
        `INSERT INTO convlab.jobs (trial_id, job_id, queued_at) VALUES ($1, $2, $3)
         ON CONFLICT (trial_id) DO UPDATE SET job_id = excluded.job_id, queued_at = excluded.queued_at`,
        [t.id, id, new Date().toISOString()],
      );
      enqueued++;
    }
    return { enqueued, queued };
  });
}

async function jobsOf(sql: SqlRunner, ids: number[]): Promise<Map<number, string>> {
  const r = await sql.executeSql('SELECT trial_id, job_id FROM convlab.jobs WHERE trial_id = ANY($1::int[])', [ids]);
  return new Map(r.rows.map((row) => [Number(row.trial_id), String(row.job_id)]));
}

/** Releases the trials of dead workers and puts their jobs back on the queue. */
async function reclaim(store: PostgresStore, boss: PgBoss, log?: (s: string) => void): Promise<void> {
  const released = await store.releaseDead(aliveIn(store));
  if (released.length === 0) return;
  for (const r of released) log?.(`Trial #${r.id}: its worker ${r.worker || '(unknown)'} is gone; the trial goes back on the queue`);
  const trials: TrialRow[] = [];
  for (const r of released) {
    const t = await store.getTrial(r.id);
    if (t) trials.push(t);
  }
  await ensureJobs(store, boss, trials, new Map(released.map((r) => [r.id, r.worker])));
}

export interface WorkerOptions extends TrialOptions {
  log: (s: string) => void;
  /** Stop once the queue has no job waiting or active (for scripts and tests); otherwise wait for more. */
  untilEmpty?: boolean;
  /** How often an idle worker looks for a job (ms). */
  pollMs?: number;
}

/**
 * `convlab worker`: takes one job at a time from the queue and trains its trial into the store, until stopped
 * (or, with untilEmpty, until the queue is empty). Returns the number of trials this worker trained.
 */
export async function workQueue(store: PostgresStore, options: WorkerOptions): Promise<number> {
  const me = workerId();
  const poll = options.pollMs ?? 1000;
  const boss = await openQueue(store, { supervise: true });
  let trained = 0;
  options.log(`Worker ${me}: taking trials from ${redactUrl(store.url)}${options.untilEmpty ? ' until the queue is empty' : ''}`);
  try {
    let lastReclaim = 0;
    for (;;) {
      const [job] = await boss.fetch<JobData>(QUEUE, { batchSize: 1 });
      if (job) {
        if (await work(store, boss, job, me, options)) trained++;
        continue;
      }
      if (Date.now() - lastReclaim >= 2 * poll) {
        lastReclaim = Date.now();
        await reclaim(store, boss, options.log);
      }
      if (options.untilEmpty && (await store.retrying(() => boss.getQueueSize(QUEUE, { before: 'completed' }))) === 0) break;
      await new Promise((r) => setTimeout(r, poll));
    }
  } finally {
    await closeQueue(boss);
  }
  options.log(`Worker ${me}: the queue is empty; ${trained} trial${trained === 1 ? '' : 's'} trained here`);
  return trained;
}

/** Does one job: trains its trial if it still needs it, then lets the job go. Returns whether it trained. */
async function work(store: PostgresStore, boss: PgBoss, job: PgBoss.Job<JobData>, me: string, options: WorkerOptions): Promise<boolean> {
  const done = () => store.retrying(() => boss.complete(QUEUE, job.id));
  let t = await store.getTrial(job.data.trial);
  // Its worker died and the job came back by expiry before any worker noticed: release this trial alone (the job in
  // hand is its job; others are for reclaim, which puts their jobs back too).
  if (t?.status === 'interrupted') {
    for (const r of await store.releaseDead(aliveIn(store), [t.id]))
      options.log(`Trial #${r.id}: its worker ${r.worker || '(unknown)'} is gone; taking it over`);
    t = await store.getTrial(t.id);
  }
  // Finished, failed (the study's owner queues it again), or held by a live worker (a second job for it).
  if (t?.status !== 'pending') {
    if (t?.status === 'running') options.log(`Trial #${t.id}: held by ${t.worker}, which is alive; leaving it there`);
    await done();
    return false;
  }
  const claimed = await store.claimTrial([t.id], me);
  if (!claimed) {
    await done();
    return false;
  }
  const what = `[#${claimed.id}] ${printable(claimed.experiment)} ${printable(claimed.label)}`;
  options.log(`Trial ${what}${claimed.epochsDone > 0 ? ` (resuming after epoch ${claimed.epochsDone})` : ''}`);
  const after = await runTrial(store, claimed, options);
  options.log(
    `Trial ${what}: ${after.status === 'finished' ? await summarize(store, after) : after.status === 'failed' ? `failed: ${after.error}` : after.status}`,
  );
  await done();
  return true;
}
