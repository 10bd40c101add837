/** Regression metrics averaged over all values: mean squared and mean absolute error. */
import type { Tensor } from '../engine/tensor.js';
import { meanMetric, type Metric } from './metric.js';

function check(name: string, yTrue: Tensor, yPred: Tensor): void {
  if (yTrue.size !== yPred.size) throw new Error(`${name}: targets have ${yTrue.size} values, predictions ${yPred.size}`);
}

export function meanSquaredErrorMetric(name = 'mse'): Metric {
  return meanMetric(name, (yTrue, yPred) => {
    check(name, yTrue, yPred);
    return Array.from(yPred.data, (p, i) => (p - yTrue.data[i]) ** 2);
  });
}

export function meanAbsoluteErrorMetric(name = 'mae'): Metric {
  return meanMetric(name, (yTrue, yPred) => {
    check(name, yTrue, yPred);
    return Array.from(yPred.data, (p, i) => Math.abs(p - yTrue.data[i]));
  });
}

/** R² = 1 − SS_res / SS_tot over everything seen (not a mean of per-batch values). */
export function rSquaredMetric(name = 'r2'): Metric {
  let n = 0,
    sum = 0,
    sumSq = 0,
    ssRes = 0;
  return {
    name,
    update(yTrue, yPred) {
      check(name, yTrue, yPred);
      for (let i = 0; i < yTrue.size; i++) {
        const t = yTrue.data[i];
        n++;
        sum += t;
        sumSq += t * t;
        ssRes += (t - yPred.data[i]) ** 2;
      }
    },
    result: () => {
      const ssTot = sumSq - (sum * sum) / Math.max(1, n);
      return ssTot === 0 ? 0 : 1 - ssRes / ssTot;
    },
    reset() {
      n = sum = sumSq = ssRes = 0;
    },
  };
}

/**
 * The tell-the-time study's common-sense time difference for clocks: minutes between predicted and true time on a 12-hour dial
 * (at most 360). `toMinutes` maps a target or prediction row to minutes after 12:00; the default reads the
 * normalized time of day (the clocks' `regression` scheme): value · 720.
 */
export function timeDifferences(yTrue: Tensor, yPred: Tensor, toMinutes: (row: Float32Array) => number = (r) => r[0] * 720): Float64Array {
  const width = yPred.size / yPred.shape[0];
  const tWidth = yTrue.size / yTrue.shape[0];
  const out = new Float64Array(yPred.shape[0]);
  for (let i = 0; i < out.length; i++) {
    const p = toMinutes(yPred.data.subarray(i * width, (i + 1) * width));
    const t = toMinutes(yTrue.data.subarray(i * tWidth, (i + 1) * tWidth));
    const d = Math.abs((((p - t) % 720) + 720) % 720);
    out[i] = Math.min(d, 720 - d);
  }
  return out;
}

/** The mean common-sense time difference in minutes, as a metric (for the clocks' `regression` scheme). */
export function timeDifferenceMetric(name = 'time_difference_minutes'): Metric {
  return meanMetric(name, (yTrue, yPred) => timeDifferences(yTrue, yPred));
}

/** The distribution of time differences: what the tell-the-time study plots as a histogram, plus the figures it quotes. */
export interface TimeDifferenceSummary {
  count: number;
  mean: number;
  median: number;
  p90: number;
  max: number;
  /** Share of samples within 5, 15, 30 and 60 minutes. */
  within: { '5': number; '15': number; '30': number; '60': number };
  /** Counts per bin of `binMinutes` minutes, from 0 to 360. */
  binMinutes: number;
  histogram: number[];
}

export function timeDifferenceSummary(diffs: ArrayLike<number>, binMinutes = 5): TimeDifferenceSummary {
  const sorted = Float64Array.from(diffs).sort();
  const n = sorted.length;
  // Percentiles interpolate linearly between neighbours, as numpy.percentile does by default.
  const q = (p: number) => {
    if (n === 0) return NaN;
    const pos = p * (n - 1);
    const lo = Math.floor(pos);
    return lo + 1 < n ? sorted[lo] + (pos - lo) * (sorted[lo + 1] - sorted[lo]) : sorted[lo];
  };
  const share = (m: number) => (n === 0 ? NaN : sorted.filter((d) => d <= m).length / n);
  const histogram = new Array<number>(Math.ceil(360 / binMinutes)).fill(0);
  for (const d of sorted) histogram[Math.min(histogram.length - 1, Math.floor(d / binMinutes))]++;
  return {
    count: n,
    mean: n === 0 ? NaN : sorted.reduce((a, b) => a + b, 0) / n,
    median: q(0.5),
    p90: q(0.9),
    max: n === 0 ? NaN : sorted[n - 1],
    within: { '5': share(5), '15': share(15), '30': share(30), '60': share(60) },
    binMinutes,
    histogram,
  };
}
