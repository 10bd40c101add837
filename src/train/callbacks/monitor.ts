/** What EarlyStopping and ReduceLROnPlateau share: a monitored log value, its direction and "did it improve". */
import type { Logs } from './callback.js';

export type Mode = 'auto' | 'min' | 'max';

export class Monitor {
  readonly better: (current: number, best: number) => boolean;
  best: number;
  constructor(
    readonly key: string,
    mode: Mode,
    minDelta: number,
    readonly owner: string,
  ) {
    // Keras: 'auto' maximizes accuracy-like quantities and minimizes the rest.
    const max = mode === 'max' || (mode === 'auto' && /acc|auc|precision|recall|f1/.test(key));
    const delta = Math.abs(minDelta);
    this.better = max ? (c, b) => c > b + delta : (c, b) => c < b - delta;
    this.best = max ? -Infinity : Infinity;
  }
  /** The monitored value; an unknown key is an error naming what the logs hold. */
  read(logs: Logs): number {
    const v = logs[this.key];
    if (v === undefined)
      throw new Error(`${this.owner}: monitor '${this.key}' is not in the epoch's logs: expected one of ${Object.keys(logs).join(', ')}`);
    return v;
  }
}
