/**
 * Opening the store a `--store` (or CONVLAB_STORE) names: a folder holds the embedded SQLite store, a postgres://
 * URL names a PostgreSQL store shared by a team. Commands that train write through the asynchronous interface;
 * commands that read (ls, show, compare, diff, report, plot, predict) read a snapshot of the PostgreSQL store taken
 * when they start, through the same synchronous interface as SQLite's, so every view works on both alike.
 */
import { join } from 'node:path';
import { PostgresStore, isPostgresUrl, redactUrl, type StoreDump } from './pg_store.js';
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

/** Where this machine keeps its copy of a PostgreSQL store's trial files: --artifacts, else CONVLAB_ARTIFACTS, else ./.convlab. */
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
  protected constructor(
    readonly root: string,
    protected readonly where: string,
    private experimentRows: ExperimentRow[],
    private trialRows: TrialRow[],
    private epochRows: Map<number, Record<string, number>[]>,
    private finalRows: Map<number, Record<string, Record<string, number>>>,
    private extraRows: Map<number, Record<string, unknown>>,
    private artifactRows: Map<number, ArtifactRow[]>,
  ) {}

  /** Takes another snapshot's contents (a newer one of the same store). */
  protected take(other: SnapshotStore): void {
    this.experimentRows = other.experimentRows;
    this.trialRows = other.trialRows;
    this.epochRows = other.epochRows;
    this.finalRows = other.finalRows;
    this.extraRows = other.extraRows;
    this.artifactRows = other.artifactRows;
  }

  /** Takes newer rows of some trials (`ids`; those missing from `d` are gone) and the experiments. */
  protected merge(d: StoreDump, ids: readonly number[]): void {
    const fresh = new Map(d.trials.map((t) => [t.id, t]));
    const trials = this.trialRows.filter((t) => !ids.includes(t.id) || fresh.has(t.id)).map((t) => fresh.get(t.id) ?? t);
    for (const t of d.trials) if (!this.trialRows.some((x) => x.id === t.id)) trials.push(t);
    this.trialRows = trials.sort((a, b) => a.id - b.id);
    for (const id of ids) {
      for (const m of [this.epochRows, this.finalRows, this.extraRows, this.artifactRows] as Map<number, unknown>[]) m.delete(id);
    }
    for (const t of d.trials) {
      this.epochRows.set(t.id, d.epochs.get(t.id) ?? []);
      this.finalRows.set(t.id, d.finals.get(t.id) ?? {});
      this.extraRows.set(t.id, d.extra.get(t.id) ?? {});
      this.artifactRows.set(t.id, d.artifacts.get(t.id) ?? []);
    }
    this.experimentRows = d.experiments;
  }

  /** Everything in the store, or one experiment's trials (`experimentId`). */
  static async of(store: AsyncRunStore, where: string, options: { experimentId?: number } = {}): Promise<SnapshotStore> {
    if (store instanceof PostgresStore) {
      const d = await store.dump({ experimentId: options.experimentId });
      return new SnapshotStore(store.root, where, d.experiments, d.trials, d.epochs, d.finals, d.extra, d.artifacts);
    }
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

/**
 * A PostgreSQL store as the dashboard reads it: a snapshot kept up to date with what other processes commit. The
 * store announces each change with the trial it touched, so a refresh reads those trials alone (bursts gathered into
 * one refresh, never two at once); a full read only at the start and after the connection was lost. Running
 * trials are read again every 15 s as well, so a worker that died shows as interrupted. `dataVersion` counts the
 * refreshes, as SQLite's data_version counts other connections' writes, so the dashboard's caches and its page's
 * polling work alike on both.
 */
export class LiveSnapshot extends SnapshotStore {
  private version = 1;
  private refreshing = false;
  private changed = new Set<number>();
  private everything = false;
  private experiments = false;
  private unwatch: () => Promise<void> = async () => {};
  private timer: NodeJS.Timeout | null = null;
  private complained = 0;

  private constructor(
    private readonly live: PostgresStore,
    first: SnapshotStore,
    where: string,
  ) {
    super(live.root, where, [], [], new Map(), new Map(), new Map(), new Map());
    this.take(first);
  }

  static async open(url: string, options: { artifacts?: string } = {}): Promise<LiveSnapshot> {
    const live = await PostgresStore.open(url, { artifacts: artifactsFolder(options.artifacts) });
    const where = redactUrl(url);
    try {
      const view = new LiveSnapshot(live, await SnapshotStore.of(live, where), where);
      await view.fetchArtifacts(view.trials().map((t) => t.id));
      view.unwatch = live.watch((what) => view.noteChange(what));
      view.timer = setInterval(() => {
        const running = view.trials().filter((t) => t.status === 'running');
        for (const t of running) view.changed.add(t.id);
        if (running.length) view.refresh();
      }, 15_000);
      view.timer.unref();
      return view;
    } catch (e) {
      await live.close();
      throw e;
    }
  }

  get dataVersion(): number {
    return this.version;
  }

  /** The arrays the trials' figures are drawn from, brought to this machine's artifacts folder. */
  private async fetchArtifacts(ids: readonly number[]): Promise<void> {
    for (const id of ids) if (this.artifacts(id).some((a) => a.kind !== 'model')) await this.live.getFiles(id, 'artifacts');
  }

  private noteChange(what: string | null): void {
    if (what === null) this.everything = true;
    else if (what === 'e') this.experiments = true;
    else this.changed.add(Number(what));
    this.refresh();
  }

  private refresh(): void {
    if (this.refreshing) return;
    this.refreshing = true;
    void (async () => {
      // Writes come in bursts (an epoch's row, then a heartbeat): one refresh after them.
      await new Promise((r) => setTimeout(r, 150));
      while (this.everything || this.experiments || this.changed.size > 0) {
        const everything = this.everything;
        const ids = [...this.changed];
        this.everything = false;
        this.experiments = false;
        this.changed.clear();
        try {
          if (everything) this.take(await SnapshotStore.of(this.live, this.where));
          else this.merge(await this.live.dump({ trialIds: ids }), ids);
          await this.fetchArtifacts(everything ? this.trials().map((t) => t.id) : ids);
          this.version++;
        } catch (e) {
          if (Date.now() - this.complained > 60_000)
            process.stderr.write(`convlab: could not read ${this.where} to refresh the dashboard: ${(e as Error).message}\n`);
          this.complained = Date.now();
          this.everything = true;
          await new Promise((r) => setTimeout(r, 1000));
        }
      }
      this.refreshing = false;
    })();
  }

  /** Stops watching and closes the connection (close() starts this; await it to know it is done). */
  async shutdown(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.unwatch();
    await this.live.close();
  }

  override close(): void {
    void this.shutdown();
  }
}
