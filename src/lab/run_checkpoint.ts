/**
 * A run's checkpoint: after every epoch the model (weights, optimizer, generators), every callback's state, the
 * augmentation generator and the history so far, so an interrupted run resumes and ends with the same numbers.
 */
import { existsSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BatchSource } from '../data/source.js';
import { Model } from '../nn/model.js';
import { saveModel } from '../saving/saved_model.js';
import type { Callback, EpochRecord, Logs, TrainingState } from '../train/index.js';

export interface CheckpointState {
  history: EpochRecord[];
  callbacks: unknown[];
  source: unknown;
  stopped: boolean;
}

/** The newest complete checkpoint in a folder (a crash between the two renames leaves it under `previous`). */
export function readCheckpoint(dir: string): { modelDir: string; state: CheckpointState } | null {
  for (const name of ['current', 'previous']) {
    const d = join(dir, name);
    if (existsSync(join(d, 'state.json')) && existsSync(join(d, 'model.json')))
      return {
        modelDir: d,
        state: JSON.parse(readFileSync(join(d, 'state.json'), 'utf8'), (_k, v) =>
          v === 'NaN' || v === 'Infinity' || v === '-Infinity' ? Number(v) : v,
        ) as CheckpointState,
      };
  }
  return null;
}

/**
 * After every epoch: the model (weights, optimizer, generators), every callback's state, the augmentation
 * generator and the history so far, written to a fresh folder that then replaces the last checkpoint.
 */
export class RunCheckpoint implements Callback {
  private readonly history: EpochRecord[];
  constructor(
    private readonly dir: string,
    private readonly callbacks: readonly Callback[],
    private readonly source: BatchSource,
    earlier: readonly EpochRecord[],
    private readonly onEpoch?: (epoch: number, logs: Logs) => void,
  ) {
    this.history = [...earlier];
  }

  onEpochEnd(epoch: number, logs: Logs, training: TrainingState): void {
    const model = training.model;
    if (!(model instanceof Model)) throw new Error('a run checkpoints convlab Models');
    this.history.push({ epoch, ...logs });
    const state: CheckpointState = {
      history: this.history,
      callbacks: this.callbacks.map((c) => (c === this ? null : (c.getState?.() ?? null))),
      source: this.source.getState?.() ?? null,
      stopped: training.stopTraining,
    };
    const next = join(this.dir, 'next');
    rmSync(next, { recursive: true, force: true });
    saveModel(model, next);
    writeFileSync(
      join(next, 'state.json'),
      JSON.stringify(state, (_k, v) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : v)),
    );
    const current = join(this.dir, 'current');
    const previous = join(this.dir, 'previous');
    rmSync(previous, { recursive: true, force: true });
    if (existsSync(current)) renameSync(current, previous);
    renameSync(next, current);
    rmSync(previous, { recursive: true, force: true });
    this.onEpoch?.(epoch, logs);
  }
}
