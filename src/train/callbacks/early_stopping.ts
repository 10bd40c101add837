/** EarlyStopping (Keras): stop when the monitored value has not improved for `patience` epochs. */
import type { TrainingState } from '../state.js';
import { packArrays, unpackArrays, type Callback, type Logs } from './callback.js';
import { Monitor, type Mode } from './monitor.js';

export interface EarlyStoppingArgs {
  monitor?: string;
  mode?: Mode;
  minDelta?: number;
  patience?: number;
  /** Put back the weights of the best epoch when training stops (or ends). */
  restoreBestWeights?: boolean;
  /** Epochs to wait before counting (warm-up). */
  startFromEpoch?: number;
}

export class EarlyStopping implements Callback {
  private readonly monitor: Monitor;
  private wait = 0;
  private bestWeights: Float32Array[] | null = null;
  /** The epoch training stopped at (0-based), or null. */
  stoppedEpoch: number | null = null;
  bestEpoch = -1;
  constructor(private readonly args: EarlyStoppingArgs = {}) {
    this.monitor = new Monitor(args.monitor ?? 'val_loss', args.mode ?? 'auto', args.minDelta ?? 0, 'EarlyStopping');
  }

  onTrainBegin(): void {
    this.wait = 0;
    this.stoppedEpoch = null;
    this.bestWeights = null;
    this.bestEpoch = -1;
    this.monitor.best = this.monitor.better(0, 1) ? Infinity : -Infinity;
  }

  onEpochEnd(epoch: number, logs: Logs, training: TrainingState): void {
    const current = this.monitor.read(logs);
    if (epoch < (this.args.startFromEpoch ?? 0)) return;
    if (this.bestEpoch < 0 || this.monitor.better(current, this.monitor.best)) {
      this.monitor.best = current;
      this.bestEpoch = epoch;
      this.wait = 0;
      if (this.args.restoreBestWeights) this.bestWeights = training.model.weights.map((w) => w.value.data.slice());
      return;
    }
    this.wait++;
    if (this.wait >= (this.args.patience ?? 0)) {
      this.stoppedEpoch = epoch;
      training.stopTraining = true;
    }
  }

  getState(): unknown {
    return {
      wait: this.wait,
      best: this.monitor.best,
      bestEpoch: this.bestEpoch,
      bestWeights: this.bestWeights ? packArrays(this.bestWeights) : null,
    };
  }

  setState(state: unknown): void {
    const s = state as { wait: number; best: number | null; bestEpoch: number; bestWeights: string[] | null };
    this.wait = s.wait;
    this.monitor.best = s.best ?? this.monitor.best;
    this.bestEpoch = s.bestEpoch;
    this.bestWeights = s.bestWeights ? unpackArrays(s.bestWeights) : null;
  }

  onTrainEnd(_logs: Logs, training: TrainingState): void {
    if (this.args.restoreBestWeights && this.bestWeights) training.model.weights.forEach((w, i) => w.assign(this.bestWeights![i]));
  }
}
