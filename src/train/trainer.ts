/**
 * compile / fit / evaluate / predict. One training step: forward in training mode, per-output losses weighted and
 * summed, plus weight and activity regularization, backward, one optimizer step. Logs follow Keras' names: loss,
 * accuracy, and for several outputs hour_loss, minute_mae, ...; validation logs get a val_ prefix.
 */
import { mean } from '../engine/composed.js';
import { add, mul } from '../engine/ops.js';
import type { Random } from '../engine/random.js';
import { tidy } from '../engine/memory.js';
import { noGrad, Tensor } from '../engine/tensor.js';
import { argmaxRows, getMetric, type Metric, type MetricSpec } from '../metrics/index.js';
import type { CallContext, Weight } from '../nn/layer.js';
import { range, subsetSource, tensorSource, type BatchSource } from '../data/source.js';
import type { Callback, Logs } from './callbacks/callback.js';
import { ProgressLogger } from './callbacks/progress_logger.js';
import { metricsPerOutput, trainingState, type TrainableModel, type TrainingState } from './state.js';

interface OutputMetrics {
  prefix: string;
  metrics: Metric[];
}

function makeMetrics(c: TrainingState, metricSpecs: MetricSpec[][] = c.metricSpecs): OutputMetrics[] {
  const { outputs, outputNames } = c.model;
  return outputs.map((o, i) => ({
    prefix: outputs.length > 1 ? `${outputNames[i]}_` : '',
    metrics: metricSpecs[i].map((s) => getMetric(s, c.losses[i].name, o.shape[o.shape.length - 1])),
  }));
}

/** Weight penalties of every trainable weight with a regularizer. */
function regularizationLoss(weights: readonly Weight[]): Tensor | null {
  let total: Tensor | null = null;
  for (const w of weights) {
    if (!w.regularizer) continue;
    const p = w.regularizer.penalty(w.value);
    total = total ? add(total, p) : p;
  }
  return total;
}

interface ForwardResult {
  total: Tensor;
  perOutput: number[];
  outputs: Tensor[];
}

function forwardLoss(
  c: TrainingState,
  x: Tensor[],
  y: Tensor[],
  ctx: { training: boolean; rng: Random; sampleWeights?: Tensor },
): ForwardResult {
  const extra: Tensor[] = [];
  const callCtx: CallContext = { training: ctx.training, rng: ctx.rng, addLoss: (t) => extra.push(t) };
  const outputs = c.model.call(x, callCtx);
  const perOutput: number[] = [];
  const terms = outputs.map((out, i) => {
    // Sample weights (from class weights) scale each sample's loss; the mean stays over the batch size, as in Keras.
    const l = c.losses[i](y[i], out, ctx.sampleWeights);
    // A loss with reduction 'none' gives per-sample values; training needs one number.
    const value = l.rank === 0 ? l : mean(l);
    perOutput.push(value.item());
    return c.lossWeights[i] === 1 ? value : mul(value, c.lossWeights[i]);
  });
  const reg = regularizationLoss(c.model.trainableWeights);
  if (reg) terms.push(reg);
  terms.push(...extra);
  return { total: terms.reduce((sum, t) => add(sum, t)), perOutput, outputs };
}

export interface StepResult {
  /** The batch's total loss (regularization included). */
  loss: number;
  /** The batch's loss per output. */
  perOutput: number[];
  /** The outputs, detached. */
  outputs: Tensor[];
}

/** Per-sample weights of a batch from class weights, by the integer label (or the argmax of one-hot rows). */
function classSampleWeights(y: Tensor, classWeight: Record<number, number>): Tensor {
  const labels = y.rank === 2 && y.shape[1] > 1 ? argmaxRows(y) : y.data;
  return new Tensor(
    Float32Array.from(labels, (label) => classWeight[label] ?? 1),
    [y.shape[0]],
  );
}

/** One training step on one batch: forward in training mode, backward, one optimizer update. */
export function trainOnBatch(model: TrainableModel, x: Tensor[], y: Tensor[], classWeight?: Record<number, number>): StepResult {
  const c = trainingState(model);
  const weights = model.trainableWeights;
  // Every array the step allocates is reused by the next step; only copies of the (small) outputs leave it.
  return tidy(() => {
    const sampleWeights = classWeight ? classSampleWeights(y[0], classWeight) : undefined;
    const result = forwardLoss(c, x, y, { training: true, rng: c.rng, sampleWeights });
    // A model with nothing to train (pooling, reshaping only) still reports its loss, as Keras does.
    if (result.total.requiresGrad) result.total.backward();
    const grads = weights.map((w) => w.value.grad?.data ?? new Float32Array(w.value.size));
    for (const w of weights) w.value.grad = null;
    noGrad(() => c.optimizer.apply(weights, grads));
    const loss = result.total.item();
    return { loss, perOutput: result.perOutput, outputs: result.outputs.map(copyOf) };
  });
}

/** A detached tensor with its own copy of t's values. */
function copyOf(t: Tensor): Tensor {
  return new Tensor(t.data.slice(), t.shape);
}

export interface FitOptions {
  epochs?: number;
  batchSize?: number;
  shuffle?: boolean;
  /**
   * Skip each epoch's last batch when it is smaller than batchSize (PyTorch's drop_last, tf.data's drop_remainder).
   * With shuffling, the samples left out change from epoch to epoch.
   */
  dropRemainder?: boolean;
  /** [x, y] tensors or a BatchSource. */
  validationData?: [Tensor | Tensor[], Tensor | Tensor[]] | BatchSource;
  /** Takes this fraction from the end of the training data, before shuffling (as Keras does). */
  validationSplit?: number;
  /** 0 silent, 1 progress bar on a terminal / a line per epoch otherwise. */
  verbose?: 0 | 1;
  callbacks?: Callback[];
  initialEpoch?: number;
  /**
   * Resuming: each callback's saved state (by position in `callbacks`, from getState). A callback with a state is
   * given it instead of onTrainBegin.
   */
  callbackStates?: unknown[];
  /** Weights of each class's samples in the training loss (single-output models), e.g. {0: 1, 1: 5}. */
  classWeight?: Record<number, number>;
}

export interface EpochRecord extends Logs {
  epoch: number;
}

export interface History {
  /** One record per epoch: loss and metrics (val_ too), lr, seconds and samples_per_second. */
  epochs: EpochRecord[];
  /** Keras' history.history: each key's values by epoch. */
  history: Record<string, number[]>;
}

export function fit(model: TrainableModel, data: BatchSource, options: FitOptions = {}): History {
  const run = fitEpochs(model, data, options);
  for (let step = run.next(); ; step = run.next()) if (step.done) return step.value;
}

/**
 * fit(), handing control back after each epoch (its callbacks, checkpoint included, done) to `afterEpoch`, whose
 * promise is awaited before the next epoch starts: a store across the network records each epoch while training
 * waits, and the event loop runs between epochs. The same numbers as fit() for the same seed.
 */
export interface AsyncFitOptions extends FitOptions {
  /** Called after each epoch (callbacks done); training waits for its promise. */
  afterEpoch?: (record: EpochRecord) => Promise<void> | void;
}

export async function fitAsync(model: TrainableModel, data: BatchSource, options: AsyncFitOptions = {}): Promise<History> {
  const run = fitEpochs(model, data, options);
  for (let step = run.next(); ; step = run.next()) {
    if (step.done) return step.value;
    await options.afterEpoch?.(step.value);
  }
}

/** The training loop; it yields each epoch's record once the epoch, its validation and its callbacks are done. */
function* fitEpochs(model: TrainableModel, data: BatchSource, options: FitOptions): Generator<EpochRecord, History, void> {
  const c = trainingState(model);
  const epochs = options.epochs ?? 1;
  const batchSize = options.batchSize ?? 32;
  if (!Number.isInteger(epochs) || epochs < 0) throw new Error(`epochs must be a non-negative integer, got ${epochs}`);
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new Error(`batch_size must be a positive integer, got ${batchSize}`);
  let train = data;
  let validation: BatchSource | undefined;
  if (options.validationData) {
    validation = Array.isArray(options.validationData)
      ? tensorSource(options.validationData[0], options.validationData[1])
      : options.validationData;
  } else if (options.validationSplit) {
    const f = options.validationSplit;
    if (!(f > 0 && f < 1)) throw new Error(`validation_split must be in (0, 1), got ${f}`);
    const cut = Math.floor(data.size * (1 - f));
    train = subsetSource(data, range(0, cut));
    validation = subsetSource(data, range(cut, data.size));
  }
  if (train.size === 0) throw new Error('no training samples');
  if (options.classWeight) {
    if (model.outputs.length !== 1)
      throw new Error('class_weight applies to models with one output; give per-sample weights in the loss for several outputs');
    for (const [k, v] of Object.entries(options.classWeight)) {
      if (!/^\d+$/.test(k) || !(Number.isFinite(v) && v >= 0))
        throw new Error(`class_weight: expected class index → weight ≥ 0, got ${k}: ${v}`);
    }
  }
  const steps = options.dropRemainder ? Math.floor(train.size / batchSize) : Math.ceil(train.size / batchSize);
  if (steps === 0)
    throw new Error(`drop_remainder leaves no batch: batch_size ${batchSize} is more than the ${train.size} training samples`);
  const callbacks: Callback[] = [...(options.callbacks ?? [])];
  if ((options.verbose ?? 1) > 0) callbacks.push(new ProgressLogger(epochs, steps));
  const outputMetrics = makeMetrics(c);
  const history: History = { epochs: [], history: {} };
  c.stopTraining = false;
  callbacks.forEach((cb, i) => {
    const saved = options.callbackStates?.[i];
    if (saved !== undefined && saved !== null && cb.setState) cb.setState(saved, c);
    else cb.onTrainBegin?.(c);
  });
  for (let epoch = options.initialEpoch ?? 0; epoch < epochs && !c.stopTraining; epoch++) {
    for (const cb of callbacks) cb.onEpochBegin?.(epoch, c);
    const lr = c.optimizer.currentLearningRate();
    const started = performance.now();
    const order = options.shuffle === false ? range(0, train.size) : c.shuffleRng.permutation(train.size);
    let lossSum = 0;
    const outLossSums = model.outputs.map(() => 0);
    let seen = 0;
    for (const om of outputMetrics) for (const m of om.metrics) m.reset();
    for (let step = 0; step < steps; step++) {
      for (const cb of callbacks) cb.onBatchBegin?.(step, c);
      const idx = order.subarray(step * batchSize, Math.min(train.size, (step + 1) * batchSize));
      const { x, y } = train.batch(idx);
      const result = trainOnBatch(model, x, y, options.classWeight);
      const n = idx.length;
      lossSum += result.loss * n;
      result.perOutput.forEach((v, i) => (outLossSums[i] += v * n));
      seen += n;
      result.outputs.forEach((out, i) => {
        for (const m of outputMetrics[i].metrics) m.update(y[i], out);
      });
      const logs = collectLogs(
        c,
        lossSum / seen,
        outLossSums.map((s) => s / seen),
        outputMetrics,
      );
      for (const cb of callbacks) cb.onBatchEnd?.(step, logs, c);
    }
    const seconds = (performance.now() - started) / 1000;
    const logs: Logs = collectLogs(
      c,
      lossSum / seen,
      outLossSums.map((s) => s / seen),
      outputMetrics,
    );
    if (validation) {
      const v = evaluateSource(model, validation, { batchSize: Math.max(batchSize, 256) });
      for (const [k, val] of Object.entries(v)) logs[`val_${k}`] = val;
    }
    logs.lr = lr;
    logs.seconds = seconds;
    logs.samples_per_second = seen / seconds;
    history.epochs.push({ epoch, ...logs });
    for (const [k, val] of Object.entries(logs)) (history.history[k] ??= []).push(val);
    for (const cb of callbacks) cb.onEpochEnd?.(epoch, logs, c);
    yield { epoch, ...logs };
  }
  const last = history.epochs[history.epochs.length - 1] ?? {};
  for (const cb of callbacks) cb.onTrainEnd?.(last, c);
  return history;
}

function collectLogs(c: TrainingState, loss: number, outLosses: number[], outputMetrics: OutputMetrics[]): Logs {
  const logs: Logs = { loss };
  if (c.model.outputs.length > 1) c.model.outputNames.forEach((n, i) => (logs[`${n}_loss`] = outLosses[i]));
  for (const om of outputMetrics) for (const m of om.metrics) logs[`${om.prefix}${m.name}`] = m.result();
  return logs;
}

export interface EvaluateOptions {
  batchSize?: number;
  /** Metrics measured in addition to the compiled ones: for every output, a list per output, or a map by name. */
  metrics?: MetricSpec[] | MetricSpec[][] | Record<string, MetricSpec[]>;
}

/** Loss (regularization included, as Keras reports it) and metrics over a whole source, in inference mode. */
export function evaluateSource(model: TrainableModel, source: BatchSource, options: EvaluateOptions = {}): Logs {
  const c = trainingState(model);
  const batchSize = options.batchSize ?? 256;
  const outputMetrics = makeMetrics(c);
  if (options.metrics) {
    const extra = makeMetrics(c, metricsPerOutput(model.outputNames, options.metrics));
    extra.forEach((om, i) => {
      const have = new Set(outputMetrics[i].metrics.map((m) => m.name));
      outputMetrics[i].metrics.push(...om.metrics.filter((m) => !have.has(m.name)));
    });
  }
  let lossSum = 0;
  const outLossSums = model.outputs.map(() => 0);
  noGrad(() => {
    for (let start = 0; start < source.size; start += batchSize) {
      const idx = range(start, Math.min(source.size, start + batchSize));
      const { x, y } = source.batch(idx);
      tidy(() => {
        const r = forwardLoss(c, x, y, { training: false, rng: c.rng });
        lossSum += r.total.item() * idx.length;
        r.perOutput.forEach((v, i) => (outLossSums[i] += v * idx.length));
        r.outputs.forEach((out, i) => {
          for (const m of outputMetrics[i].metrics) m.update(y[i], out);
        });
      });
    }
  });
  const n = Math.max(1, source.size);
  return collectLogs(
    c,
    lossSum / n,
    outLossSums.map((s) => s / n),
    outputMetrics,
  );
}
