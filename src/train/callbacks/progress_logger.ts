/** The progress display of fit(): a live bar on a terminal, a line per epoch elsewhere. */
import type { Callback, Logs } from './callback.js';

function fmtLogs(logs: Logs, keys?: string[]): string {
  return (keys ?? Object.keys(logs))
    .filter((k) => k in logs)
    .map((k) => `${k}: ${Math.abs(logs[k]) >= 1e-3 || logs[k] === 0 ? logs[k].toFixed(4) : logs[k].toExponential(3)}`)
    .join(' - ');
}

function fmtSeconds(s: number): string {
  if (s < 60) return `${s.toFixed(0)}s`;
  return `${Math.floor(s / 60)}m${String(Math.round(s % 60)).padStart(2, '0')}s`;
}

/**
 * A live bar with ETA and running loss/accuracy on a terminal; one line per epoch otherwise (logs, CI, pipes).
 */
export class ProgressLogger implements Callback {
  private start = 0;
  private lastDraw = 0;
  constructor(
    private readonly epochs: number,
    private readonly stepsPerEpoch: number,
    private readonly out: NodeJS.WriteStream = process.stdout,
    private readonly interactive = Boolean(process.stdout.isTTY),
  ) {}

  onEpochBegin(epoch: number): void {
    this.start = performance.now();
    this.lastDraw = 0;
    if (this.interactive) this.out.write(`Epoch ${epoch + 1}/${this.epochs}\n`);
  }

  onBatchEnd(batch: number, logs: Logs): void {
    if (!this.interactive) return;
    const now = performance.now();
    if (now - this.lastDraw < 100 && batch + 1 < this.stepsPerEpoch) return;
    this.lastDraw = now;
    const done = batch + 1;
    const width = 24;
    const filled = Math.round((done / this.stepsPerEpoch) * width);
    const elapsed = (now - this.start) / 1000;
    const eta = (elapsed / done) * (this.stepsPerEpoch - done);
    const bar = '='.repeat(Math.max(0, filled - 1)) + (filled > 0 ? '>' : '') + '.'.repeat(width - filled);
    this.out.write(
      `\r\x1b[K${String(done).padStart(String(this.stepsPerEpoch).length)}/${this.stepsPerEpoch} [${bar}] ETA ${fmtSeconds(eta)} - ${fmtLogs(logs)}`,
    );
  }

  onEpochEnd(epoch: number, logs: Logs): void {
    const elapsed = (performance.now() - this.start) / 1000;
    const keys = Object.keys(logs).filter((k) => k !== 'lr' && k !== 'seconds' && k !== 'samples_per_second');
    const line = `${fmtSeconds(elapsed)} - ${fmtLogs(logs, keys)}`;
    if (this.interactive) this.out.write(`\r\x1b[K${this.stepsPerEpoch}/${this.stepsPerEpoch} ${line}\n`);
    else this.out.write(`Epoch ${epoch + 1}/${this.epochs} - ${line}\n`);
  }
}
