/**
 * How a dataset's per-sample values become a model's targets, for datasets whose targets are more than one class
 * label (the clocks: hour and minute as classes, values or angles). Without a layout the label is the target.
 */
export interface TargetLayout {
  /** Per output: 0 for one value per sample, else the row width. */
  widths: number[];
  /** Units each model output needs: the class count for a class output, else the values per sample. */
  units: number[];
  /** Classes of a classification scheme (for reports), or null for regression. */
  classNames: string[] | null;
  /** The per-sample values (ImageSet.targets, by name) that fill() reads besides the label, in this order. */
  extras: readonly string[];
  /** Writes one sample's targets, row `row` of every output, from its label and its extra values. */
  fill(label: number, extra: readonly number[], out: Float32Array[], row: number): void;
  /**
   * The time (minutes after 12:00, in [0, 720)) that one sample's rows say, one row per output: a target row (a
   * class index or values) or a prediction row (class scores or values), for the time-difference evaluation.
   * Null where the rows give only part of it.
   */
  minutes: ((rows: Float32Array[]) => number) | null;
  /** The exact time one sample shows (minutes after 12:00), from its label and extra values, for the same evaluation. */
  truth?: (label: number, extra: readonly number[]) => number;
}
