/**
 * The run store: experiments, their trials (resolved config, seed, status, where and with what they ran), per-epoch
 * logs, final metrics per split and artifacts. `RunStore` is the interface the runner and the CLI use; SqliteStore
 * implements it on one SQLite database per project folder (`.convlab/runs.db`, WAL mode, versioned migrations).
 * Large artifacts are files under `.convlab/trials/<id>/`, referenced from the database by relative path.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { hostname } from 'node:os';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import type Database from 'better-sqlite3';
import { ensureDir } from '../util/safe_fs.js';

/** A store that cannot be opened or used as asked: reported as a message, without a stack trace. */
export class StoreError extends Error {
  /** badInput: the --store path itself is wrong (not a folder, not a run store): the CLI exits with 2, else 1. */
  constructor(
    message: string,
    readonly badInput = false,
  ) {
    super(message);
    this.name = 'StoreError';
  }
}

/**
 * better-sqlite3 is an optional dependency built from source at install; without a C++ compiler it is missing and
 * only the store is unavailable (training, data and everything else work).
 */
function openDatabase(file: string, readonly = false): Database.Database {
  let Driver: typeof Database;
  try {
    Driver = createRequire(import.meta.url)('better-sqlite3') as typeof Database;
  } catch (e) {
    throw new StoreError(
      `the run store needs the SQLite driver better-sqlite3, which is not installed ` +
        `or could not be built (${(e as Error).message.split('\n')[0]}); install ` +
        `a C++ compiler (g++, make, python3) and run npm install again`,
    );
  }
  return new Driver(file, { timeout: 30_000, readonly, fileMustExist: readonly });
}

/** 'interrupted' is never stored: it is a 'running' trial whose process is gone (see workerAlive). */
export type TrialStatus = 'pending' | 'running' | 'interrupted' | 'finished' | 'failed';

export interface ExperimentRow {
  id: number;
  name: string;
  spec: Record<string, unknown>;
  specFile: string | null;
  createdAt: string;
  updatedAt: string;
}

/** What a sweep plans for a trial. */
export interface NewTrial {
  key: string;
  label: string;
  group: string;
  variant: string | null;
  values: Record<string, unknown>;
  repeat: number;
  seed: number;
  config: Record<string, unknown>;
}

/** A trial as stored: its plan, and what became of it. */
export interface TrialRow extends NewTrial {
  id: number;
  experimentId: number;
  experiment: string;
  status: TrialStatus;
  error: string | null;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  worker: string | null;
  /** When the process running it last said it was alive (every few seconds while it trains). */
  heartbeatAt: string | null;
  /** Where it ran: convlab version, git commit, backend, threads, machine. */
  env: Record<string, unknown>;
  params: number | null;
  seconds: number | null;
  epochsDone: number;
}

export interface ArtifactRow {
  trialId: number;
  kind: string;
  name: string;
  /** Relative to the store's folder. */
  path: string;
  meta: Record<string, unknown>;
}

/** What the runner and the CLI need from a store; a team server (PostgreSQL) would implement the same. */
export interface RunStore {
  readonly root: string;
  upsertExperiment(name: string, spec: Record<string, unknown>, specFile: string | null): ExperimentRow;
  getExperiment(nameOrId: string | number): ExperimentRow | null;
  listExperiments(): ExperimentRow[];
  /** Adds the trials that are new (by key); returns every trial of the plan, old and new, in plan order. */
  addTrials(experimentId: number, trials: NewTrial[]): TrialRow[];
  /** Sets trials back to pending (run --fresh). */
  resetTrials(ids: number[]): void;
  /** Atomically takes the first pending trial among `ids` for this worker; null when none is left. */
  claimTrial(ids: number[], worker: string): TrialRow | null;
  /** Trials marked running by a worker that no longer exists go back to pending. */
  releaseStale(isAlive: (worker: string, heartbeatAt: string | null) => boolean): number;
  startTrial(id: number, env: Record<string, unknown>, params: number): void;
  recordEpoch(id: number, epoch: number, logs: Record<string, number>): void;
  finishTrial(id: number, final: Record<string, Record<string, number>>, seconds: number, extra: Record<string, unknown>): void;
  failTrial(id: number, error: string): void;
  /** The running trial's process is alive and working on it. */
  heartbeat(id: number): void;
  /** Replaces a trial's extra record (evaluations added after training). */
  setExtra(id: number, extra: Record<string, unknown>): void;
  addArtifact(a: ArtifactRow): void;
  getTrial(id: number): TrialRow | null;
  trials(experimentId?: number): TrialRow[];
  epochs(trialId: number): Record<string, number>[];
  finals(trialId: number): Record<string, Record<string, number>>;
  extra(trialId: number): Record<string, unknown>;
  artifacts(trialId: number): ArtifactRow[];
  /** A trial's own folder for checkpoints and artifacts. */
  trialDir(id: number): string;
  close(): void;
}

type StoreMethods = Omit<RunStore, 'root' | 'trialDir' | 'close'>;

/**
 * The run store as a store on another machine must offer it: every call answers with a promise. PostgresStore
 * implements it; `asyncStore` wraps the embedded SQLite store in it, so one suite of tests checks both.
 */
export type AsyncRunStore = {
  readonly root: string;
  /** A trial's own folder for checkpoints and artifacts (reachable by every worker). */
  trialDir(id: number): string;
  close(): Promise<void>;
  /** How long a worker on another machine may go unheard before its trial counts as interrupted (default 15 min). */
  readonly heartbeatTimeoutMs?: number;
  /**
   * Keeps the heartbeat of the trial this process trains going from a thread of its own, so that a long epoch,
   * which holds the event loop, never makes a live worker look dead (PostgreSQL); null stops it.
   */
  keepAlive?(trial: { id: number; worker: string } | null): void;
  /** Whether the worker holding a trial is alive, when the store judges it otherwise than by the timeout alone. */
  isAlive?(worker: string, heartbeatAt: string | null): boolean;
  /**
   * A store whose trials' files live in it too (PostgreSQL), the artifacts folder being this machine's copy: puts
   * the trial's folder `sub` ('checkpoint', 'model', 'artifacts') into the store, gets it back here, or drops it.
   */
  putFiles?(trialId: number, sub: string): Promise<void>;
  getFiles?(trialId: number, sub: string): Promise<void>;
  dropFiles?(trialId: number, sub?: string): Promise<void>;
  /** Whether `worker` still holds the trial: a worker unheard for too long may have had it taken over. */
  holds?(trialId: number, worker: string): Promise<boolean>;
} & {
  [K in keyof StoreMethods]: (...args: Parameters<StoreMethods[K]>) => Promise<ReturnType<StoreMethods[K]>>;
};

/** The embedded store behind the asynchronous interface. */
export function asyncStore(store: RunStore): AsyncRunStore {
  const wrap =
    <K extends keyof StoreMethods>(k: K) =>
    async (...args: Parameters<StoreMethods[K]>) =>
      (store[k] as (...a: Parameters<StoreMethods[K]>) => ReturnType<StoreMethods[K]>)(...args);
  const methods = [
    'upsertExperiment',
    'getExperiment',
    'listExperiments',
    'addTrials',
    'resetTrials',
    'claimTrial',
    'releaseStale',
    'startTrial',
    'recordEpoch',
    'finishTrial',
    'failTrial',
    'heartbeat',
    'setExtra',
    'addArtifact',
    'getTrial',
    'trials',
    'epochs',
    'finals',
    'extra',
    'artifacts',
  ] as const satisfies readonly (keyof StoreMethods)[];
  // Every method of the interface is wrapped: a method added to RunStore and not listed here fails to compile.
  const complete: Exclude<keyof StoreMethods, (typeof methods)[number]> extends never ? true : never = true;
  void complete;
  return {
    root: store.root,
    trialDir: (id) => store.trialDir(id),
    close: async () => store.close(),
    ...(Object.fromEntries(methods.map((m) => [m, wrap(m)])) as unknown as Omit<AsyncRunStore, 'root' | 'trialDir' | 'close'>),
  };
}

/** Each migration moves the schema one version up; PRAGMA user_version records where a database stands. */
const MIGRATIONS: string[] = [
  `CREATE TABLE experiments (
     id INTEGER PRIMARY KEY,
     name TEXT NOT NULL UNIQUE,
     spec TEXT NOT NULL,
     spec_file TEXT,
     created_at TEXT NOT NULL,
     updated_at TEXT NOT NULL
   );
   CREATE TABLE trials (
     id INTEGER PRIMARY KEY,
     experiment_id INTEGER NOT NULL REFERENCES experiments(id) ON DELETE CASCADE,
     key TEXT NOT NULL,
     label TEXT NOT NULL,
     grp TEXT NOT NULL,
     variant TEXT,
     sweep_values TEXT NOT NULL,
     repeat INTEGER NOT NULL,
     seed INTEGER NOT NULL,
     config TEXT NOT NULL,
     status TEXT NOT NULL CHECK (status IN ('pending', 'running', 'finished', 'failed')),
     error TEXT,
     created_at TEXT NOT NULL,
     started_at TEXT,
     finished_at TEXT,
     worker TEXT,
     env TEXT NOT NULL DEFAULT '{}',
     params INTEGER,
     seconds REAL,
     extra TEXT NOT NULL DEFAULT '{}',
     UNIQUE (experiment_id, key)
   );
   CREATE TABLE epochs (
     trial_id INTEGER NOT NULL REFERENCES trials(id) ON DELETE CASCADE,
     epoch INTEGER NOT NULL,
     logs TEXT NOT NULL,
     PRIMARY KEY (trial_id, epoch)
   );
   CREATE TABLE finals (
     trial_id INTEGER NOT NULL REFERENCES trials(id) ON DELETE CASCADE,
     split TEXT NOT NULL,
     metric TEXT NOT NULL,
     value REAL,
     PRIMARY KEY (trial_id, split, metric)
   );
   CREATE TABLE artifacts (
     id INTEGER PRIMARY KEY,
     trial_id INTEGER NOT NULL REFERENCES trials(id) ON DELETE CASCADE,
     kind TEXT NOT NULL,
     name TEXT NOT NULL,
     path TEXT NOT NULL,
     meta TEXT NOT NULL DEFAULT '{}',
     UNIQUE (trial_id, kind, name)
   );
   CREATE INDEX trials_by_status ON trials (experiment_id, status);`,
  `ALTER TABLE trials ADD COLUMN heartbeat_at TEXT;`,
];

export const SCHEMA_VERSION = MIGRATIONS.length;

export const now = () => new Date().toISOString();

/** A trials row as the database gives it (shared by the SQLite and PostgreSQL stores). */
export interface TrialRecord {
  id: number;
  experiment_id: number;
  experiment: string;
  key: string;
  label: string;
  grp: string;
  variant: string | null;
  sweep_values: string;
  repeat: number;
  seed: number;
  config: string;
  status: TrialStatus;
  error: string | null;
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
  worker: string | null;
  heartbeat_at: string | null;
  env: string;
  params: number | null;
  seconds: number | null;
  epochs_done: number;
}

export function toTrial(r: TrialRecord, heartbeatTimeoutMs = HEARTBEAT_TIMEOUT_MS): TrialRow {
  return {
    id: r.id,
    experimentId: r.experiment_id,
    experiment: r.experiment,
    key: r.key,
    label: r.label,
    group: r.grp,
    variant: r.variant,
    values: JSON.parse(r.sweep_values),
    repeat: r.repeat,
    seed: r.seed,
    config: JSON.parse(r.config),
    status:
      r.status === 'running' && r.worker !== null && !workerAlive(r.worker, r.heartbeat_at, heartbeatTimeoutMs) ? 'interrupted' : r.status,
    error: r.error,
    createdAt: r.created_at,
    startedAt: r.started_at,
    finishedAt: r.finished_at,
    worker: r.worker,
    heartbeatAt: r.heartbeat_at ?? null,
    env: JSON.parse(r.env),
    params: r.params,
    seconds: r.seconds,
    epochsDone: r.epochs_done,
  };
}

export function toExperiment(r: {
  id: number;
  name: string;
  spec: string;
  spec_file: string | null;
  created_at: string;
  updated_at: string;
}): ExperimentRow {
  return { id: r.id, name: r.name, spec: JSON.parse(r.spec), specFile: r.spec_file, createdAt: r.created_at, updatedAt: r.updated_at };
}

const TRIAL_SELECT = `SELECT t.*, e.name AS experiment, (SELECT COUNT(*) FROM epochs WHERE trial_id = t.id) AS epochs_done
  FROM trials t JOIN experiments e ON e.id = t.experiment_id`;

/** Non-finite numbers (NaN losses) are stored as null in JSON and read back as NaN. */
export const encodeLogs = (logs: Record<string, number>) =>
  JSON.stringify(logs, (_k, v) => (typeof v === 'number' && !Number.isFinite(v) ? null : v));
export const decodeLogs = (text: string): Record<string, number> => {
  const o = JSON.parse(text) as Record<string, number | null>;
  return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, v === null ? NaN : v]));
};

export class SqliteStore implements RunStore {
  readonly root: string;
  private db!: Database.Database;

  /**
   * Opens (creating if needed) the store in `root` (default: ./.convlab) and brings its schema up to date. With
   * `readonly` (the dashboard), an existing store is opened on a read-only connection: nothing is created, migrated
   * or written, and every write fails.
   */
  constructor(root = '.convlab', options: { readonly?: boolean } = {}) {
    if (/^postgres(ql)?:\/\//i.test(root))
      throw new StoreError(
        `the run store ${root.replace(/:[^:@/]*@/, ':***@')}: a PostgreSQL URL, which this command does not take yet ` +
          '(run, worker, train, evaluate, ls, show, compare, diff, report, plot and predict do); give a folder with --store or CONVLAB_STORE',
        true,
      );
    this.root = resolve(root);
    if (options.readonly) {
      this.openReadonly();
      return;
    }
    if (existsSync(this.root) && !statSync(this.root).isDirectory())
      throw new StoreError(
        `the run store ${this.root}: it is a file; expected a folder (--store names the folder that holds runs.db)`,
        true,
      );
    try {
      ensureDir(this.root, 'the run store');
    } catch (e) {
      throw new StoreError((e as Error).message, true);
    }
    const file = join(this.root, 'runs.db');
    if (existsSync(file) && !statSync(file).isFile())
      throw new StoreError(
        `the run store ${file}: it is not a file; expected the store's SQLite database (or nothing, for a new store)`,
        true,
      );
    const db = openDatabase(file);
    try {
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = NORMAL');
      db.pragma('foreign_keys = ON');
      this.db = db;
      this.checkSchema(file);
      this.migrate();
    } catch (e) {
      db.close();
      const code = (e as { code?: string }).code;
      if (code === 'SQLITE_NOTADB' || code === 'SQLITE_CORRUPT')
        throw new StoreError(
          `the run store ${file}: it is not a SQLite database (${code}); expected a convlab run store, or no file for a new one`,
          true,
        );
      if (typeof code === 'string' && code.startsWith('SQLITE_'))
        throw new StoreError(
          `the run store ${file}: ${(e as Error).message} (${code})${code === 'SQLITE_FULL' || code.startsWith('SQLITE_IOERR') ? '; is its disk full?' : ''}`,
        );
      throw e;
    }
  }

  private openReadonly(): void {
    const file = join(this.root, 'runs.db');
    if (existsSync(this.root) && !statSync(this.root).isDirectory())
      throw new StoreError(`the run store ${this.root}: it is a file; expected the folder that holds runs.db (--store DIR)`, true);
    if (!existsSync(file) || !statSync(file).isFile())
      throw new StoreError(
        `no run store at ${this.root} (no runs.db there); expected the folder that \`convlab run\` wrote (--store DIR, default .convlab)`,
        true,
      );
    let db: Database.Database;
    try {
      db = openDatabase(file, true);
    } catch (e) {
      if (e instanceof StoreError) throw e;
      throw new StoreError(`the run store ${file}: ${(e as Error).message}`, true);
    }
    this.db = db;
    try {
      this.checkSchema(file);
      const at = this.schemaVersion;
      if (at !== SCHEMA_VERSION)
        throw new StoreError(
          at < SCHEMA_VERSION
            ? `the run store ${file} is at schema version ${at}, older than this convlab's ${SCHEMA_VERSION}; any other convlab command on it (convlab ls --store ${this.root}) brings it up to date`
            : `${file}: schema version ${at} is newer than this convlab knows (${SCHEMA_VERSION}); upgrade convlab`,
          true,
        );
    } catch (e) {
      db.close();
      const code = (e as { code?: string }).code;
      if (code === 'SQLITE_NOTADB' || code === 'SQLITE_CORRUPT')
        throw new StoreError(`the run store ${file}: it is not a SQLite database (${code}); expected a convlab run store`, true);
      throw e;
    }
  }

  /** Changes whenever another connection commits: a reader's cue to look again. */
  get dataVersion(): number {
    return this.db.pragma('data_version', { simple: true }) as number;
  }

  /** A database that some other program made (tables, but not ours) is refused, never migrated. */
  private checkSchema(file: string): void {
    const at = this.db.pragma('user_version', { simple: true }) as number;
    const tables = (
      this.db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name`).all() as {
        name: string;
      }[]
    ).map((r) => r.name);
    const ours = ['artifacts', 'epochs', 'experiments', 'finals', 'trials'];
    if ((at === 0 && tables.length > 0) || (at > 0 && at <= SCHEMA_VERSION && !ours.every((t) => tables.includes(t)))) {
      throw new StoreError(
        `the run store ${file}: this SQLite database is not a convlab run store (it ` +
          `has the tables ${tables.join(', ') || 'none'} at schema version ${at}; a ` +
          `run store has ${ours.join(', ')}); choose another --store`,
        true,
      );
    }
  }

  /** Applies the migrations the database has not seen, each in one transaction. */
  private migrate(): void {
    const at = this.db.pragma('user_version', { simple: true }) as number;
    if (at > SCHEMA_VERSION)
      throw new StoreError(
        `${join(this.root, 'runs.db')}: schema version ${at} is newer than this convlab knows (${SCHEMA_VERSION}); upgrade convlab`,
      );
    for (let v = at; v < SCHEMA_VERSION; v++) {
      this.db
        .transaction(() => {
          // Another process may have migrated meanwhile; the write lock taken here makes the check reliable.
          const current = this.db.pragma('user_version', { simple: true }) as number;
          if (current > v) return;
          this.db.exec(MIGRATIONS[v]);
          this.db.pragma(`user_version = ${v + 1}`);
        })
        .immediate();
    }
  }

  get schemaVersion(): number {
    return this.db.pragma('user_version', { simple: true }) as number;
  }

  upsertExperiment(name: string, spec: Record<string, unknown>, specFile: string | null): ExperimentRow {
    const t = now();
    this.db
      .prepare(`INSERT INTO experiments (name, spec, spec_file, created_at, updated_at) VALUES (?, ?, ?, ?, ?)
      ON CONFLICT (name) DO UPDATE SET spec = excluded.spec, spec_file = excluded.spec_file, updated_at = excluded.updated_at`)
      .run(name, JSON.stringify(spec), specFile, t, t);
    return this.getExperiment(name)!;
  }

  getExperiment(nameOrId: string | number): ExperimentRow | null {
    const r =
      typeof nameOrId === 'number' || /^\d+$/.test(nameOrId)
        ? this.db.prepare('SELECT * FROM experiments WHERE id = ? OR name = ?').get(Number(nameOrId), String(nameOrId))
        : this.db.prepare('SELECT * FROM experiments WHERE name = ?').get(nameOrId);
    return r ? toExperiment(r as Parameters<typeof toExperiment>[0]) : null;
  }

  listExperiments(): ExperimentRow[] {
    return (this.db.prepare('SELECT * FROM experiments ORDER BY id').all() as Parameters<typeof toExperiment>[0][]).map(toExperiment);
  }

  addTrials(experimentId: number, trials: NewTrial[]): TrialRow[] {
    const insert =
      this.db.prepare(`INSERT INTO trials (experiment_id, key, label, grp, variant, sweep_values, repeat, seed, config, status, created_at)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending', ?) ON CONFLICT (experiment_id, key) DO UPDATE SET label = excluded.label, grp = excluded.grp`);
    const find = this.db.prepare(`${TRIAL_SELECT} WHERE t.experiment_id = ? AND t.key = ?`);
    return this.db
      .transaction(() =>
        trials.map((p) => {
          insert.run(
            experimentId,
            p.key,
            p.label,
            p.group,
            p.variant,
            JSON.stringify(p.values),
            p.repeat,
            p.seed,
            JSON.stringify(p.config),
            now(),
          );
          return toTrial(find.get(experimentId, p.key) as TrialRecord);
        }),
      )
      .immediate();
  }

  resetTrials(ids: number[]): void {
    const reset = this.db.prepare(
      `UPDATE trials SET status = 'pending', error = NULL, started_at = NULL, finished_at = NULL, worker = NULL, seconds = NULL, extra = '{}' WHERE id = ?`,
    );
    const clear = ['epochs', 'finals', 'artifacts'].map((t) => this.db.prepare(`DELETE FROM ${t} WHERE trial_id = ?`));
    this.db
      .transaction(() => {
        for (const id of ids) {
          reset.run(id);
          for (const c of clear) c.run(id);
        }
      })
      .immediate();
  }

  claimTrial(ids: number[], worker: string): TrialRow | null {
    if (ids.length === 0) return null;
    return this.db
      .transaction(() => {
        const placeholders = ids.map(() => '?').join(',');
        const row = this.db
          .prepare(`SELECT id FROM trials WHERE status = 'pending' AND id IN (${placeholders}) ORDER BY id LIMIT 1`)
          .get(...ids) as { id: number } | undefined;
        if (!row) return null;
        const t = now();
        this.db
          .prepare(`UPDATE trials SET status = 'running', worker = ?, started_at = COALESCE(started_at, ?), heartbeat_at = ? WHERE id = ?`)
          .run(worker, t, t, row.id);
        return this.getTrial(row.id);
      })
      .immediate();
  }

  releaseStale(isAlive: (worker: string, heartbeatAt: string | null) => boolean): number {
    const running = this.db.prepare(`SELECT id, worker, heartbeat_at FROM trials WHERE status = 'running'`).all() as {
      id: number;
      worker: string | null;
      heartbeat_at: string | null;
    }[];
    const stale = running.filter((r) => !r.worker || !isAlive(r.worker, r.heartbeat_at));
    const release = this.db.prepare(`UPDATE trials SET status = 'pending', worker = NULL WHERE id = ? AND status = 'running'`);
    this.db.transaction(() => stale.forEach((r) => release.run(r.id))).immediate();
    return stale.length;
  }

  startTrial(id: number, env: Record<string, unknown>, params: number): void {
    this.db.prepare('UPDATE trials SET env = ?, params = ? WHERE id = ?').run(JSON.stringify(env), params, id);
  }

  recordEpoch(id: number, epoch: number, logs: Record<string, number>): void {
    this.db
      .prepare(
        'INSERT INTO epochs (trial_id, epoch, logs) VALUES (?, ?, ?) ON CONFLICT (trial_id, epoch) DO UPDATE SET logs = excluded.logs',
      )
      .run(id, epoch, encodeLogs(logs));
  }

  finishTrial(id: number, final: Record<string, Record<string, number>>, seconds: number, extra: Record<string, unknown>): void {
    const put = this.db.prepare(
      'INSERT INTO finals (trial_id, split, metric, value) VALUES (?, ?, ?, ?) ON CONFLICT DO UPDATE SET value = excluded.value',
    );
    this.db
      .transaction(() => {
        // A trial is finished once: a second finish (a worker that came back late) changes nothing.
        const row = this.db.prepare('SELECT status FROM trials WHERE id = ?').get(id) as { status: string } | undefined;
        if (row?.status === 'finished') return;
        for (const [split, logs] of Object.entries(final))
          for (const [m, v] of Object.entries(logs)) put.run(id, split, m, Number.isFinite(v) ? v : null);
        this.db
          .prepare(`UPDATE trials SET status = 'finished', error = NULL, finished_at = ?, seconds = ?, extra = ? WHERE id = ?`)
          .run(now(), seconds, JSON.stringify(extra), id);
      })
      .immediate();
  }

  failTrial(id: number, error: string): void {
    this.db
      .prepare(`UPDATE trials SET status = 'failed', error = ?, finished_at = ? WHERE id = ? AND status <> 'finished'`)
      .run(error, now(), id);
  }

  setExtra(id: number, extra: Record<string, unknown>): void {
    this.db.prepare('UPDATE trials SET extra = ? WHERE id = ?').run(JSON.stringify(extra), id);
  }

  heartbeat(id: number): void {
    this.db.prepare(`UPDATE trials SET heartbeat_at = ? WHERE id = ? AND status = 'running'`).run(now(), id);
  }

  addArtifact(a: ArtifactRow): void {
    this.db
      .prepare(
        'INSERT INTO artifacts (trial_id, kind, name, path, meta) VALUES (?, ?, ?, ?, ?) ON CONFLICT (trial_id, kind, name) DO UPDATE SET path = excluded.path, meta = excluded.meta',
      )
      .run(a.trialId, a.kind, a.name, a.path, JSON.stringify(a.meta));
  }

  getTrial(id: number): TrialRow | null {
    const r = this.db.prepare(`${TRIAL_SELECT} WHERE t.id = ?`).get(id) as TrialRecord | undefined;
    return r ? toTrial(r) : null;
  }

  trials(experimentId?: number): TrialRow[] {
    const rows =
      experimentId === undefined
        ? this.db.prepare(`${TRIAL_SELECT} ORDER BY t.id`).all()
        : this.db.prepare(`${TRIAL_SELECT} WHERE t.experiment_id = ? ORDER BY t.id`).all(experimentId);
    return (rows as TrialRecord[]).map((r) => toTrial(r));
  }

  epochs(trialId: number): Record<string, number>[] {
    return (
      this.db.prepare('SELECT epoch, logs FROM epochs WHERE trial_id = ? ORDER BY epoch').all(trialId) as { epoch: number; logs: string }[]
    ).map((r) => ({ epoch: r.epoch, ...decodeLogs(r.logs) }));
  }

  finals(trialId: number): Record<string, Record<string, number>> {
    const out: Record<string, Record<string, number>> = {};
    for (const r of this.db.prepare('SELECT split, metric, value FROM finals WHERE trial_id = ? ORDER BY rowid').all(trialId) as {
      split: string;
      metric: string;
      value: number | null;
    }[]) {
      (out[r.split] ??= {})[r.metric] = r.value ?? NaN;
    }
    return out;
  }

  extra(trialId: number): Record<string, unknown> {
    const r = this.db.prepare('SELECT extra FROM trials WHERE id = ?').get(trialId) as { extra: string } | undefined;
    return r ? JSON.parse(r.extra) : {};
  }

  artifacts(trialId: number): ArtifactRow[] {
    return (
      this.db.prepare('SELECT * FROM artifacts WHERE trial_id = ? ORDER BY id').all(trialId) as {
        trial_id: number;
        kind: string;
        name: string;
        path: string;
        meta: string;
      }[]
    ).map((r) => ({ trialId: r.trial_id, kind: r.kind, name: r.name, path: r.path, meta: JSON.parse(r.meta) }));
  }

  trialDir(id: number): string {
    return join(this.root, 'trials', String(id));
  }

  close(): void {
    this.db.close();
  }
}

/**
 * The name this machine goes by in the store: CONVLAB_HOSTNAME, else its host name. Machines that share a host name
 * (containers started alike) must be given names of their own, since a worker on the same host is judged alive by
 * its process id.
 */
export function thisHost(): string {
  return process.env.CONVLAB_HOSTNAME || hostname();
}

/** 'pid@host' for the current process: how trials name the worker that holds them. */
export function workerId(): string {
  return `${process.pid}@${thisHost()}`;
}

/** How long a worker on another machine may go without a heartbeat before its trial counts as interrupted. */
export const HEARTBEAT_TIMEOUT_MS = 15 * 60_000;

/** The liveness test for a store's trials, with the store's heartbeat timeout. */
export function aliveIn(
  store: Pick<AsyncRunStore, 'heartbeatTimeoutMs' | 'isAlive'>,
): (worker: string, heartbeatAt: string | null) => boolean {
  return store.isAlive ? (w, h) => store.isAlive!(w, h) : (w, h) => workerAlive(w, h, store.heartbeatTimeoutMs);
}

/**
 * A worker on this machine is alive when its process exists; a worker elsewhere when its last heartbeat is recent
 * (a trial recorded before heartbeats existed counts as alive).
 */
export function workerAlive(worker: string, heartbeatAt: string | null = null, timeoutMs = HEARTBEAT_TIMEOUT_MS): boolean {
  const at = worker.indexOf('@');
  const pid = worker.slice(0, at);
  const host = worker.slice(at + 1);
  if (host !== thisHost()) return heartbeatAt === null || Date.now() - Date.parse(heartbeatAt) < timeoutMs;
  try {
    process.kill(Number(pid), 0);
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
  // A killed process whose parent died too can linger as a zombie until init reaps it: it exists, but is dead.
  try {
    const stat = readFileSync(`/proc/${Number(pid)}/stat`, 'utf8');
    return !/^[ZX]/.test(stat.slice(stat.lastIndexOf(')') + 2));
  } catch {
    return true;
  }
}
