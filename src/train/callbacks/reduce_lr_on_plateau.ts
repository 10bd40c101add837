/** ReduceLROnPlateau (Keras): multiply the learning rate by `factor` after `patience` epochs without improvement. */
import type { TrainingState } from '../state.js';
import type { Callback, Logs } from './callback.js';
import { Monitor, type Mode } from './monitor.js';

export interface ReduceLROnPlateauArgs {
  monitor?: string;
  mode?: Mode;
  factor?: number;
  patience?: number;
  minDelta?: number;
  cooldown?: number;
  minLr?: number;
}

export class ReduceLROnPlateau implements Callback {
  private readonly monitor: Monitor;
  private wait = 0;
  private cooldownLeft = 0;
  constructor(private readonly args: ReduceLROnPlateauArgs = {}) {
    const factor = args.factor ?? 0.1;
    if (!(factor > 0 && factor < 1)) throw new Error(`ReduceLROnPlateau: factor must be in (0, 1), got ${factor}`);
    this.monitor = new Monitor(args.monitor ?? 'val_loss', args.mode ?? 'auto', args.minDelta ?? 1e-4, 'ReduceLROnPlateau');
  }

  onTrainBegin(): void {
    this.wait = 0;
    this.cooldownLeft = 0;
    this.monitor.best = this.monitor.better(0, 1) ? Infinity : -Infinity;
  }

  getState(): unknown {
    return { wait: this.wait, cooldownLeft: this.cooldownLeft, best: this.monitor.best };
  }

  setState(state: unknown): void {
    const s = state as { wait: number; cooldownLeft: number; best: number | null };
    this.wait = s.wait;
    this.cooldownLeft = s.cooldownLeft;
    this.monitor.best = s.best ?? this.monitor.best;
  }

  onEpochEnd(_epoch: number, logs: Logs, training: TrainingState): void {
    const current = this.monitor.read(logs);
    const opt = training.optimizer;
    if (typeof opt.learningRate === 'function')
      throw new Error('ReduceLROnPlateau: the learning rate is a schedule (a function); give a fixed learning rate');
    if (this.cooldownLeft > 0) this.cooldownLeft--;
    if (this.monitor.better(current, this.monitor.best)) {
      this.monitor.best = current;
      this.wait = 0;
      return;
    }
    if (this.cooldownLeft > 0) return;
    if (++this.wait >= (this.args.patience ?? 10)) {
      opt.learningRate = Math.max(this.args.minLr ?? 0, opt.learningRate * (this.args.factor ?? 0.1));
      this.cooldownLeft = this.args.cooldown ?? 0;
      this.wait = 0;
    }
  }
}
