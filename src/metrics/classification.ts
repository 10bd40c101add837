/**
 * Classification measurements over a whole split: the confusion matrix (counts, or normalized), per-class
 * precision, recall, F1 and support with macro, weighted and micro averages (sklearn's classification_report,
 * with 0 where a ratio has no denominator), and the dummy baselines a study compares against.
 */
import type { Random } from '../engine/random.js';
import { maxOf } from '../util/numbers.js';

/** counts[t][p]: samples of true class t predicted as p. */
export function confusionMatrix(yTrue: ArrayLike<number>, yPred: ArrayLike<number>, classes: number): number[][] {
  if (yTrue.length !== yPred.length) throw new Error(`confusionMatrix: ${yTrue.length} true labels but ${yPred.length} predictions`);
  const m = Array.from({ length: classes }, () => new Array<number>(classes).fill(0));
  for (let i = 0; i < yTrue.length; i++) {
    const t = yTrue[i];
    const p = yPred[i];
    if (!(Number.isInteger(t) && t >= 0 && t < classes))
      throw new Error(`confusionMatrix: true label ${t} at ${i} is not in 0..${classes - 1}`);
    if (!(Number.isInteger(p) && p >= 0 && p < classes))
      throw new Error(`confusionMatrix: predicted label ${p} at ${i} is not in 0..${classes - 1}`);
    m[t][p]++;
  }
  return m;
}

/** Rows summing to 1 ('true': recall per class), columns summing to 1 ('pred': precision), or the whole ('all'). */
export function normalizeConfusion(m: number[][], over: 'true' | 'pred' | 'all' = 'true'): number[][] {
  const rows = m.map((r) => r.reduce((a, b) => a + b, 0));
  const cols = m[0]?.map((_, j) => m.reduce((a, r) => a + r[j], 0)) ?? [];
  const all = rows.reduce((a, b) => a + b, 0);
  return m.map((r, i) =>
    r.map((v, j) => {
      const d = over === 'true' ? rows[i] : over === 'pred' ? cols[j] : all;
      return d === 0 ? 0 : v / d;
    }),
  );
}

export interface ClassScores {
  precision: number;
  recall: number;
  f1: number;
  support: number;
}

export interface ClassificationReport {
  classes: (ClassScores & { name: string })[];
  accuracy: number;
  macro: ClassScores;
  weighted: ClassScores;
  micro: ClassScores;
}

const ratio = (a: number, b: number) => (b === 0 ? 0 : a / b);
const f1 = (p: number, r: number) => ratio(2 * p * r, p + r);

export function classificationReport(m: number[][], classNames?: string[]): ClassificationReport {
  const k = m.length;
  const total = m.reduce((a, r) => a + r.reduce((x, y) => x + y, 0), 0);
  const classes = m.map((row, c) => {
    const tp = row[c];
    const support = row.reduce((a, b) => a + b, 0);
    const predicted = m.reduce((a, r) => a + r[c], 0);
    const precision = ratio(tp, predicted);
    const recall = ratio(tp, support);
    return { name: classNames?.[c] ?? String(c), precision, recall, f1: f1(precision, recall), support };
  });
  const mean = (key: 'precision' | 'recall' | 'f1', weighted: boolean) =>
    classes.reduce((a, c) => a + c[key] * (weighted ? c.support : 1), 0) / (weighted ? total || 1 : k || 1);
  const correct = m.reduce((a, r, i) => a + r[i], 0);
  const accuracy = ratio(correct, total);
  return {
    classes,
    accuracy,
    macro: { precision: mean('precision', false), recall: mean('recall', false), f1: mean('f1', false), support: total },
    weighted: { precision: mean('precision', true), recall: mean('recall', true), f1: mean('f1', true), support: total },
    // For single-label classification micro precision = recall = F1 = accuracy.
    micro: { precision: accuracy, recall: accuracy, f1: accuracy, support: total },
  };
}

/** The report as sklearn-style text. */
export function formatReport(r: ClassificationReport, digits = 4): string {
  const width = maxOf(r.classes, (c) => c.name.length, 12) + 2;
  const num = (v: number) => v.toFixed(digits).padStart(digits + 6);
  const row = (name: string, s: ClassScores) =>
    `${name.padStart(width)}${num(s.precision)}${num(s.recall)}${num(s.f1)}${String(s.support).padStart(digits + 6)}`;
  const lines = [
    `${''.padStart(width)}${'precision'.padStart(digits + 6)}${'recall'.padStart(digits + 6)}${'f1-score'.padStart(digits + 6)}${'support'.padStart(digits + 6)}`,
    '',
  ];
  for (const c of r.classes) lines.push(row(c.name, c));
  lines.push('');
  lines.push(
    `${'accuracy'.padStart(width)}${''.padStart(2 * (digits + 6))}${num(r.accuracy)}${String(r.macro.support).padStart(digits + 6)}`,
  );
  lines.push(row('macro avg', r.macro));
  lines.push(row('weighted avg', r.weighted));
  return lines.join('\n');
}

export type BaselineStrategy = 'most_frequent' | 'stratified' | 'uniform';

/**
 * Predictions of a dummy classifier fitted on the training labels (sklearn's DummyClassifier): the most frequent
 * class (the lowest label on ties), draws in the training class proportions, or uniform draws.
 */
export function dummyPredictions(
  strategy: BaselineStrategy,
  trainLabels: ArrayLike<number>,
  n: number,
  classes: number,
  rng: Random,
): Int32Array {
  const counts = new Array<number>(classes).fill(0);
  for (let i = 0; i < trainLabels.length; i++) counts[trainLabels[i]]++;
  const out = new Int32Array(n);
  if (strategy === 'most_frequent') {
    out.fill(counts.indexOf(maxOf(counts, (c) => c)));
    return out;
  }
  if (strategy === 'uniform') {
    for (let i = 0; i < n; i++) out[i] = rng.int(classes);
    return out;
  }
  const total = counts.reduce((a, b) => a + b, 0);
  for (let i = 0; i < n; i++) {
    let u = rng.next() * total;
    let c = 0;
    while (c < classes - 1 && u >= counts[c]) u -= counts[c++];
    out[i] = c;
  }
  return out;
}
