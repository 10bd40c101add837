/** Printing what the evaluate block measured: confusion matrices, reports, baselines, time differences. */
import { formatReport } from '../metrics/index.js';
import type { SplitEvaluation } from '../lab/train_run.js';

export function printEvaluation(evaluation: Record<string, SplitEvaluation>, out: (s: string) => void): void {
  for (const [split, e] of Object.entries(evaluation)) {
    const show = e.confusion_display ?? 'counts';
    if (e.confusion_matrix && show !== 'normalized')
      printMatrix(
        `Confusion matrix (${split}; rows: true class, columns: predicted)`,
        e.classNames,
        e.confusion_matrix.map((r) => r.map(String)),
        out,
      );
    if (e.confusion_matrix_normalized && show !== 'counts') {
      printMatrix(
        `Normalized confusion matrix (${split}; each true class's row sums to 1)`,
        e.classNames,
        e.confusion_matrix_normalized.map((r) => r.map((v) => v.toFixed(3))),
        out,
      );
    }
    if (e.classification_report) {
      out('');
      out(`Classification report (${split}):`);
      out(formatReport(e.classification_report));
    }
    if (e.baselines) {
      out('');
      out(`Dummy baselines (${split}):`);
      for (const [name, b] of Object.entries(e.baselines))
        out(
          `  ${name.padEnd(14)} accuracy ${b.accuracy.toFixed(4)}  macro F1 ${b.macro_f1.toFixed(4)}  weighted F1 ${b.weighted_f1.toFixed(4)}`,
        );
    }
    if (e.time_difference) {
      const t = e.time_difference;
      const pct = (v: number) => `${(100 * v).toFixed(1)}%`;
      out('');
      out(
        `Time difference (${split}, minutes on the 12-hour dial): mean ${t.mean.toFixed(1)}, median ${t.median.toFixed(1)}, 90th percentile ${t.p90.toFixed(1)}, max ${t.max.toFixed(1)}`,
      );
      out(
        `  within 5 min ${pct(t.within['5'])}, 15 min ${pct(t.within['15'])}, 30 min ${pct(t.within['30'])}, 60 min ${pct(t.within['60'])}`,
      );
      out(
        histogram(t.histogram, t.binMinutes)
          .map((l) => `  ${l}`)
          .join('\n'),
      );
    }
  }
}

/** A text histogram: bins merged to at most 12 rows, bars scaled to the largest. */
function histogram(counts: number[], binMinutes: number): string[] {
  const merge = Math.ceil(counts.length / 12);
  const rows: { from: number; to: number; n: number }[] = [];
  for (let i = 0; i < counts.length; i += merge)
    rows.push({
      from: i * binMinutes,
      to: Math.min(360, (i + merge) * binMinutes),
      n: counts.slice(i, i + merge).reduce((a, b) => a + b, 0),
    });
  while (rows.length > 1 && rows[rows.length - 1].n === 0) rows.pop();
  const top = Math.max(1, ...rows.map((r) => r.n));
  return rows.map((r) => `${`${r.from}–${r.to}`.padStart(8)} min ${'█'.repeat(Math.round((30 * r.n) / top)).padEnd(30)} ${r.n}`);
}

/** A class × class matrix with class names down the side and class indices across. */
function printMatrix(title: string, classNames: string[], cells: string[][], out: (s: string) => void): void {
  out('');
  out(`${title}:`);
  const w = Math.max(6, ...classNames.map((c) => c.length), ...cells.flat().map((v) => v.length)) + 1;
  out(`${''.padStart(w)}${classNames.map((_, j) => String(j).padStart(w)).join('')}`);
  cells.forEach((row, i) => out(`${classNames[i].padStart(w)}${row.map((v) => v.padStart(w)).join('')}`));
}
