/**
 * Opening the store a `--store` (or CONVLAB_STORE) names: a folder holds the embedded SQLite store, a postgres://
 * URL names a PostgreSQL store shared by a team. Commands that train write through the asynchronous interface;
 * commands that read (ls, show, compare, diff, report, plot, predict) read a snapshot of the PostgreSQL store taken
 * when they start, through the same synchronous interface as SQLite's, so every view works on both alike.
 */
import { join } from 'node:path';
import { PostgresStore, isPostgresUrl } from './pg_store.js';
import {
  type ArtifactRow,
  type AsyncRunStore,
  asyncStore,
  type ExperimentRow,
  type RunStore,
  SqliteStore,
  StoreError,
  type TrialRow,
} from './store.js';

export { isPostgresUrl };

/** Where a PostgreSQL store's trials keep their files: --artifacts, else CONVLAB_ARTIFACTS, else ./.convlab. */
export function artifactsFolder(given?: string): string {
  return given ?? process.env.CONVLAB_ARTIFACTS ?? '.convlab';
}

/** The store to write to: SQLite behind the asynchronous interface, or PostgreSQL. */
export async function openAsyncStore(ref: string, options: { artifacts?: string } = {}): Promise<AsyncRunStore> {
  if (isPostgresUrl(ref)) return PostgresStore.open(ref, { artifacts: artifactsFolder(options.artifacts) });
  return asyncStore(new SqliteStore(ref));
}

/** A store's contents at one moment, read-only, behind the synchronous interface. */
export class SnapshotStore implements RunStore {
  private constructor(
    readonly root: string,
    private readonly where: string,
    private readonly experimentRows: ExperimentRow[],
    private readonly trialRows: TrialRow[],
    private readonly epochRows: Map<number, Record<string, number>[]>,
    private readonly finalRows: Map<number, Record<string, Record<string, number>>>,
    private readonly extraRows: Map<number, Record<string, unknown>>,
    private readonly artifactRows: Map<number, ArtifactRow[]>,
  ) {}

  /** Everything in the store, or one experiment's trials (`experimentId`). */
  static async of(store: AsyncRunStore, where: string, options: { experimentId?: number } = {}): Promise<SnapshotStore> {
    const experiments = await store.listExperiments();
    const trials = await store.trials(options.experimentId);
    const epochs = new Map<number, Record<string, number>[]>();
    const finals = new Map<number, Record<string, Record<string, number>>>();
    const extra = new Map<number, Record<string, unknown>>();
    const artifacts = new Map<number, ArtifactRow[]>();
    for (const t of trials) {
      epochs.set(t.id, await store.epochs(t.id));
      finals.set(t.id, await store.finals(t.id));
      extra.set(t.id, await store.extra(t.id));
      artifacts.set(t.id, await store.artifacts(t.id));
    }
    return new SnapshotStore(store.root, where, experiments, trials, epochs, finals, extra, artifacts);
  }

  private readOnly(): never {
    throw new StoreError(`${this.where}: this command reads a snapshot of the store and cannot change it`);
  }

  upsertExperiment(): ExperimentRow {
    return this.readOnly();
  }
  getExperiment(nameOrId: string | number): ExperimentRow | null {
    const byId = typeof nameOrId === 'number' || /^\d+$/.test(nameOrId);
    return (
      (byId ? this.experimentRows.find((e) => e.id === Number(nameOrId)) : undefined) ??
      this.experimentRows.find((e) => e.name === String(nameOrId)) ??
      null
    );
  }
  listExperiments(): ExperimentRow[] {
    return [...this.experimentRows];
  }
  addTrials(): TrialRow[] {
    return this.readOnly();
  }
  resetTrials(): void {
    this.readOnly();
  }
  claimTrial(): TrialRow | null {
    return this.readOnly();
  }
  releaseStale(): number {
    return this.readOnly();
  }
  startTrial(): void {
    this.readOnly();
  }
  recordEpoch(): void {
    this.readOnly();
  }
  finishTrial(): void {
    this.readOnly();
  }
  failTrial(): void {
    this.readOnly();
  }
  heartbeat(): void {
    this.readOnly();
  }
  setExtra(): void {
    this.readOnly();
  }
  addArtifact(): void {
    this.readOnly();
  }
  getTrial(id: number): TrialRow | null {
    return this.trialRows.find((t) => t.id === id) ?? null;
  }
  trials(experimentId?: number): TrialRow[] {
    return this.trialRows.filter((t) => experimentId === undefined || t.experimentId === experimentId);
  }
  epochs(trialId: number): Record<string, number>[] {
    return this.epochRows.get(trialId) ?? [];
  }
  finals(trialId: number): Record<string, Record<string, number>> {
    return this.finalRows.get(trialId) ?? {};
  }
  extra(trialId: number): Record<string, unknown> {
    return this.extraRows.get(trialId) ?? {};
  }
  artifacts(trialId: number): ArtifactRow[] {
    return this.artifactRows.get(trialId) ?? [];
  }
  trialDir(id: number): string {
    return join(this.root, 'trials', String(id));
  }
  close(): void {}
}
