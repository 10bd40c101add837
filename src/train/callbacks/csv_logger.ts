/** CSVLogger (Keras): one row per epoch (epoch, then every log key) appended to a CSV file. */
import { appendFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Callback, Logs } from './callback.js';
import { ensureDir } from '../../util/safe_fs.js';

export class CSVLogger implements Callback {
  private keys: string[] | null = null;
  private rows = 0;
  constructor(
    private readonly filename: string,
    private readonly append = false,
  ) {}

  onTrainBegin(): void {
    this.keys = null;
    this.rows = 0;
    ensureDir(dirname(this.filename), 'csv_logger.filename');
    if (!this.append) writeFileSync(this.filename, '');
  }

  /** A resumed run appends to the rows already written, under the same header. */
  getState(): unknown {
    return { keys: this.keys, rows: this.rows };
  }

  /** Keeps the header and the rows of the epochs before the checkpoint (a row written after it is dropped). */
  setState(state: unknown): void {
    const s = state as { keys: string[] | null; rows: number };
    this.keys = s.keys;
    this.rows = s.rows;
    ensureDir(dirname(this.filename), 'csv_logger.filename');
    const lines = existsSync(this.filename)
      ? readFileSync(this.filename, 'utf8')
          .split('\n')
          .filter((l) => l !== '')
      : [];
    const keep = this.keys ? [lines[0] ?? ['epoch', ...this.keys].join(','), ...lines.slice(1, 1 + this.rows)] : [];
    writeFileSync(this.filename, keep.map((l) => `${l}\n`).join(''));
  }

  onEpochEnd(epoch: number, logs: Logs): void {
    if (!this.keys) {
      this.keys = Object.keys(logs).sort();
      appendFileSync(this.filename, `${['epoch', ...this.keys].join(',')}\n`);
    }
    appendFileSync(this.filename, `${[epoch, ...this.keys.map((k) => logs[k] ?? '')].join(',')}\n`);
    this.rows++;
  }
}
