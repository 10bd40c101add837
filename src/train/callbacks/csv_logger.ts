/** CSVLogger (Keras): one row per epoch (epoch, then every log key) appended to a CSV file. */
import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Callback, Logs } from '../callbacks.js';

export class CSVLogger implements Callback {
  private keys: string[] | null = null;
  constructor(private readonly filename: string, private readonly append = false) {}

  onTrainBegin(): void {
    this.keys = null;
    mkdirSync(dirname(this.filename), { recursive: true });
    if (!this.append) writeFileSync(this.filename, '');
  }

  onEpochEnd(epoch: number, logs: Logs): void {
    if (!this.keys) {
      this.keys = Object.keys(logs).sort();
      appendFileSync(this.filename, `${['epoch', ...this.keys].join(',')}\n`);
    }
    appendFileSync(this.filename, `${[epoch, ...this.keys.map((k) => logs[k] ?? '')].join(',')}\n`);
  }
}
