/**
 * TerminateOnNaN (Keras): stop as soon as a batch's loss is NaN or infinite, saying where. With `fail`, the run
 * fails instead (a TrainingDivergedError), so a diverged run is never taken for a finished one: the lab trains
 * this way unless a spec says `train.terminate_on_nan: false`.
 */
import type { TrainingState } from '../state.js';
import type { Callback, Logs } from './callback.js';

/** Training stopped because the loss stopped being a finite number. */
export class TrainingDivergedError extends Error {
  constructor(
    readonly epoch: number,
    readonly batch: number,
    readonly loss: number,
  ) {
    super(
      `the training loss became ${loss} at epoch ${epoch + 1}, batch ${batch + 1}; ` +
        `training stopped. Lower the learning rate, check the data's scale, or set ` +
        `train.terminate_on_nan: false to train on regardless`,
    );
    this.name = 'TrainingDivergedError';
  }
}

export class TerminateOnNaN implements Callback {
  private epoch = 0;
  /** Where training stopped, or null. */
  stoppedAt: { epoch: number; batch: number } | null = null;
  private readonly fail: boolean;
  private readonly warn: (message: string) => void;
  constructor(options: { fail?: boolean; warn?: (message: string) => void } | ((message: string) => void) = {}) {
    const o = typeof options === 'function' ? { warn: options } : options;
    this.fail = o.fail ?? false;
    this.warn = o.warn ?? ((m) => process.stderr.write(`${m}\n`));
  }

  onEpochBegin(epoch: number): void {
    this.epoch = epoch;
  }

  onBatchEnd(batch: number, logs: Logs, training: TrainingState): void {
    if (Number.isFinite(logs.loss) || this.stoppedAt) return;
    this.stoppedAt = { epoch: this.epoch, batch };
    if (this.fail) throw new TrainingDivergedError(this.epoch, batch, logs.loss);
    training.stopTraining = true;
    this.warn(`TerminateOnNaN: the loss became ${logs.loss} at epoch ${this.epoch + 1}, batch ${batch + 1}; training stopped`);
  }
}
