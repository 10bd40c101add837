/**
 * ModelCheckpoint (Keras): saves the model after every epoch, or only when the monitored value improves. A saved
 * checkpoint holds weights, optimizer state and the trainer's generator states, so loading it and calling fit with
 * initialEpoch continues exactly as the uninterrupted run would have. `{epoch}` in the path becomes the epoch
 * number (from 1).
 */
import { Model } from '../nn/model.js';
import type { Callback, Logs } from '../train/callbacks/callback.js';
import { Monitor, type Mode } from '../train/callbacks/monitor.js';
import type { TrainingState } from '../train/state.js';
import { saveModel } from './saved_model.js';

export interface ModelCheckpointArgs {
  monitor?: string;
  mode?: Mode;
  saveBestOnly?: boolean;
}

export class ModelCheckpoint implements Callback {
  private readonly monitor: Monitor;
  /** Paths written, in order. */
  readonly saved: string[] = [];
  constructor(
    private readonly filepath: string,
    private readonly args: ModelCheckpointArgs = {},
  ) {
    this.monitor = new Monitor(args.monitor ?? 'val_loss', args.mode ?? 'auto', 0, 'ModelCheckpoint');
  }

  onTrainBegin(): void {
    this.monitor.best = this.monitor.better(0, 1) ? Infinity : -Infinity;
  }

  getState(): unknown {
    return { best: this.monitor.best };
  }

  setState(state: unknown): void {
    this.monitor.best = (state as { best: number | null }).best ?? this.monitor.best;
  }

  onEpochEnd(epoch: number, logs: Logs, training: TrainingState): void {
    const model = training.model;
    if (!(model instanceof Model)) throw new Error('ModelCheckpoint saves convlab Models (from Sequential or Model)');
    if (this.args.saveBestOnly) {
      const current = this.monitor.read(logs);
      if (!this.monitor.better(current, this.monitor.best)) return;
      this.monitor.best = current;
    }
    const path = this.filepath.replace(/\{epoch\}/g, String(epoch + 1));
    saveModel(model, path);
    this.saved.push(path);
  }
}
