/** TerminateOnNaN (Keras): stop as soon as a batch's loss is NaN or infinite, saying where. */
import type { Model } from '../../nn/model.js';
import type { Callback, Logs } from '../callbacks.js';

export class TerminateOnNaN implements Callback {
  private epoch = 0;
  /** Where training stopped, or null. */
  stoppedAt: { epoch: number; batch: number } | null = null;
  constructor(private readonly warn: (message: string) => void = (m) => process.stderr.write(`${m}\n`)) {}

  onEpochBegin(epoch: number): void {
    this.epoch = epoch;
  }

  onBatchEnd(batch: number, logs: Logs, model: Model): void {
    if (Number.isFinite(logs.loss) || this.stoppedAt) return;
    this.stoppedAt = { epoch: this.epoch, batch };
    (model as unknown as { stopTraining: boolean }).stopTraining = true;
    this.warn(`TerminateOnNaN: the loss became ${logs.loss} at epoch ${this.epoch + 1}, batch ${batch + 1}; training stopped`);
  }
}
