/**
 * compile / fit / evaluate / predict. One training step: forward in training mode, per-output losses weighted and
 * summed, plus weight and activity regularization, backward, one optimizer step. Logs follow Keras' names: loss,
 * accuracy, and for several outputs hour_loss, minute_mae, ...; validation logs get a val_ prefix.
 */
import { mean } from '../engine/composed.js';
import { add, mul } from '../engine/ops.js';
import { globalRandom, type Random } from '../engine/random.js';
import { tidy } from '../engine/memory.js';
import { noGrad, Tensor } from '../engine/tensor.js';
import { argmaxRows, getMetric, type Metric, type MetricSpec } from '../metrics/index.js';
import type { CallContext, Weight } from '../nn/layer.js';
import { getLoss, type Loss, type LossSpec } from '../nn/losses/index.js';
import type { Model } from '../nn/model.js';
import { ProgressLogger, type Callback, type Logs } from './callbacks.js';
import { getOptimizer, type Optimizer, type OptimizerSpec } from './optimizers/index.js';
import { range, subsetSource, tensorSource, takeRows, type BatchSource } from '../data/source.js';

export interface CompileArgs {
  optimizer?: OptimizerSpec;
  /** One loss for every output, a list in output order, or a map by output name. */
  loss: LossSpec | LossSpec[] | Record<string, LossSpec>;
  lossWeights?: number[] | Record<string, number>;
  /** Metrics for every output, a list per output, or a map by output name. */
  metrics?: MetricSpec[] | MetricSpec[][] | Record<string, MetricSpec[]>;
}

export interface Compiled {
  optimizer: Optimizer;
  losses: Loss[];
  lossWeights: number[];
  metricSpecs: MetricSpec[][];
  /** Dropout masks during training. */
  rng: Random;
  /** Shuffling. */
  shuffleRng: Random;
}

/** Spreads a per-output setting: a list in output order, a map by output name, or one value for all outputs. */
function perOutput<T>(value: T | T[] | Record<string, T>, names: string[], what: string, isMap: boolean): T[] {
  if (Array.isArray(value)) {
    if (value.length !== names.length) throw new Error(`${what}: got ${value.length} entries for ${names.length} outputs (${names.join(', ')})`);
    return value;
  }
  if (isMap) {
    const map = value as Record<string, T>;
    return names.map((n) => {
      if (!(n in map)) throw new Error(`${what}: output '${n}' has no entry`);
      return map[n];
    });
  }
  return names.map(() => value as T);
}

/** A plain object keyed only by output names (rather than a loss or optimizer spec). */
function isOutputMap(v: unknown, names: string[]): boolean {
  if (typeof v !== 'object' || v === null || Array.isArray(v) || 'call' in v || 'class_name' in v) return false;
  const keys = Object.keys(v);
  return keys.length > 0 && keys.every((k) => names.includes(k));
}

/** Metrics for every output, a list per output, or a map by output name, as one list per output. */
function metricsPerOutput(model: Model, m: MetricSpec[] | MetricSpec[][] | Record<string, MetricSpec[]>): MetricSpec[][] {
  const names = model.outputNames;
  return Array.isArray(m)
    ? m.length > 0 && Array.isArray(m[0]) ? perOutput(m as MetricSpec[][], names, 'metrics', false) : names.map(() => m as MetricSpec[])
    : perOutput(m as Record<string, MetricSpec[]>, names, 'metrics', true);
}

export function compile(model: Model, args: CompileArgs): Compiled {
  const names = model.outputNames;
  const losses = perOutput<LossSpec>(args.loss, names, 'loss', isOutputMap(args.loss, names)).map((l) => getLoss(l));
  const lossWeights = args.lossWeights === undefined ? names.map(() => 1) : perOutput(args.lossWeights, names, 'loss_weights', !Array.isArray(args.lossWeights));
  const metricSpecs = metricsPerOutput(model, args.metrics ?? []);
  const seedSource = globalRandom();
  const rng = seedSource.fork();
  const shuffleRng = seedSource.fork();
  // A loaded checkpoint continues its generators' streams, so resumed training draws what it would have drawn.
  if (model.restoredGenerators) {
    rng.setState(model.restoredGenerators.dropout);
    shuffleRng.setState(model.restoredGenerators.shuffle);
    model.restoredGenerators = null;
  }
  return { optimizer: getOptimizer(args.optimizer ?? 'rmsprop'), losses, lossWeights, metricSpecs, rng, shuffleRng };
}

/** The optimizer a compiled model trains with (for callbacks that change its learning rate). */
export function optimizerOf(model: Model): Optimizer {
  return getCompiled(model).optimizer;
}

function getCompiled(model: Model): Compiled {
  if (!model.compiled) throw new Error(`model '${model.name}' must be compiled before training or evaluation: call model.compile({optimizer, loss, metrics})`);
  return model.compiled as Compiled;
}

interface OutputMetrics {
  prefix: string;
  metrics: Metric[];
}

function makeMetrics(model: Model, c: Compiled): OutputMetrics[] {
  const multi = model.outputs.length > 1;
  return model.outputs.map((o, i) => ({
    prefix: multi ? `${o.layer.name}_` : '',
    metrics: c.metricSpecs[i].map((s) => getMetric(s, c.losses[i].name, o.shape[o.shape.length - 1])),
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

function forwardLoss(model: Model, c: Compiled, x: Tensor[], y: Tensor[], ctx: { training: boolean; rng: Random; sampleWeights?: Tensor }): ForwardResult {
  const extra: Tensor[] = [];
  const callCtx: CallContext = { training: ctx.training, rng: ctx.rng, addLoss: (t) => extra.push(t) };
  const outputs = model.call(x, callCtx);
  const perOutput: number[] = [];
  let total: Tensor | null = null;
  outputs.forEach((out, i) => {
    const l = c.losses[i].call(y[i], out);
    // Sample weights (from class weights) scale each sample's loss; the mean stays over the batch size, as in Keras.
    const value = l.rank === 0 ? l : mean(ctx.sampleWeights && l.rank === 1 ? mul(l, ctx.sampleWeights) : l);
    perOutput.push(value.item());
    const weighted = c.lossWeights[i] === 1 ? value : mul(value, c.lossWeights[i]);
    total = total ? add(total, weighted) : weighted;
  });
  const reg = regularizationLoss(model.trainableWeights);
  if (reg) total = add(total as unknown as Tensor, reg);
  for (const e of extra) total = add(total as unknown as Tensor, e);
  return { total: total as unknown as Tensor, perOutput, outputs };
}

export interface StepResult {
  /** The batch's total loss (regularization included). */
  loss: number;
  /** The batch's loss per output. */
  perOutput: number[];
  /** The outputs, detached. */
  outputs: Tensor[];
}

/** One training step on one batch: forward in training mode, backward, one optimizer update. */
/** Per-sample weights of a batch from class weights, by the integer label (or the argmax of one-hot rows). */
function classSampleWeights(y: Tensor, classWeight: Record<number, number>): Tensor {
  const labels = y.rank === 2 && y.shape[1] > 1 ? argmaxRows(y) : y.data;
  return new Tensor(Float32Array.from(labels, (label) => classWeight[label] ?? 1), [y.shape[0]]);
}

export function trainOnBatch(model: Model, x: Tensor[], y: Tensor[], classWeight?: Record<number, number>): StepResult {
  const c = getCompiled(model);
  const weights = model.trainableWeights;
  // Every array the step allocates is reused by the next step; only copies of the (small) outputs leave it.
  return tidy(() => {
    const sampleWeights = classWeight ? classSampleWeights(y[0], classWeight) : undefined;
    const result = forwardLoss(model, c, x, y, { training: true, rng: c.rng, sampleWeights });
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

export function fit(model: Model, data: BatchSource, options: FitOptions = {}): History {
  const c = getCompiled(model);
  const epochs = options.epochs ?? 1;
  const batchSize = options.batchSize ?? 32;
  if (!Number.isInteger(epochs) || epochs < 0) throw new Error(`epochs must be a non-negative integer, got ${epochs}`);
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new Error(`batch_size must be a positive integer, got ${batchSize}`);
  let train = data;
  let validation: BatchSource | undefined;
  if (options.validationData) {
    validation = Array.isArray(options.validationData) ? tensorSource(options.validationData[0], options.validationData[1]) : options.validationData;
  } else if (options.validationSplit) {
    const f = options.validationSplit;
    if (!(f > 0 && f < 1)) throw new Error(`validation_split must be in (0, 1), got ${f}`);
    const cut = Math.floor(data.size * (1 - f));
    train = subsetSource(data, range(0, cut));
    validation = subsetSource(data, range(cut, data.size));
  }
  if (train.size === 0) throw new Error('no training samples');
  if (options.classWeight) {
    if (model.outputs.length !== 1) throw new Error('class_weight applies to models with one output; give per-sample weights in the loss for several outputs');
    for (const [k, v] of Object.entries(options.classWeight)) {
      if (!/^\d+$/.test(k) || !(Number.isFinite(v) && v >= 0)) throw new Error(`class_weight: expected class index → weight ≥ 0, got ${k}: ${v}`);
    }
  }
  const steps = Math.ceil(train.size / batchSize);
  const callbacks: Callback[] = [...(options.callbacks ?? [])];
  if ((options.verbose ?? 1) > 0) callbacks.push(new ProgressLogger(epochs, steps));
  const outputMetrics = makeMetrics(model, c);
  const history: History = { epochs: [], history: {} };
  const control = model as unknown as { stopTraining?: boolean };
  control.stopTraining = false;
  callbacks.forEach((cb, i) => {
    const state = options.callbackStates?.[i];
    if (state !== undefined && state !== null && cb.setState) cb.setState(state, model);
    else cb.onTrainBegin?.(model);
  });
  for (let epoch = options.initialEpoch ?? 0; epoch < epochs && !control.stopTraining; epoch++) {
    for (const cb of callbacks) cb.onEpochBegin?.(epoch, model);
    const lr = c.optimizer.currentLearningRate();
    const started = performance.now();
    const order = options.shuffle === false ? range(0, train.size) : c.shuffleRng.permutation(train.size);
    let lossSum = 0;
    const outLossSums = model.outputs.map(() => 0);
    let seen = 0;
    for (const om of outputMetrics) for (const m of om.metrics) m.reset();
    for (let step = 0; step < steps; step++) {
      for (const cb of callbacks) cb.onBatchBegin?.(step, model);
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
      const logs = collectLogs(model, lossSum / seen, outLossSums.map((s) => s / seen), outputMetrics);
      for (const cb of callbacks) cb.onBatchEnd?.(step, logs, model);
    }
    const seconds = (performance.now() - started) / 1000;
    const logs: Logs = collectLogs(model, lossSum / seen, outLossSums.map((s) => s / seen), outputMetrics);
    if (validation) {
      const v = evaluateSource(model, validation, { batchSize: Math.max(batchSize, 256) });
      for (const [k, val] of Object.entries(v)) logs[`val_${k}`] = val;
    }
    logs.lr = lr;
    logs.seconds = seconds;
    logs.samples_per_second = seen / seconds;
    history.epochs.push({ epoch, ...logs });
    for (const [k, val] of Object.entries(logs)) (history.history[k] ??= []).push(val);
    for (const cb of callbacks) cb.onEpochEnd?.(epoch, logs, model);
  }
  const last = history.epochs[history.epochs.length - 1] ?? {};
  for (const cb of callbacks) cb.onTrainEnd?.(last, model);
  return history;
}

function collectLogs(model: Model, loss: number, outLosses: number[], outputMetrics: OutputMetrics[]): Logs {
  const logs: Logs = { loss };
  if (model.outputs.length > 1) model.outputNames.forEach((n, i) => (logs[`${n}_loss`] = outLosses[i]));
  for (const om of outputMetrics) for (const m of om.metrics) logs[`${om.prefix}${m.name}`] = m.result();
  return logs;
}

export interface EvaluateOptions {
  batchSize?: number;
  /** Metrics measured in addition to the compiled ones: for every output, a list per output, or a map by name. */
  metrics?: MetricSpec[] | MetricSpec[][] | Record<string, MetricSpec[]>;
}

/** Loss (regularization included, as Keras reports it) and metrics over a whole source, in inference mode. */
export function evaluateSource(model: Model, source: BatchSource, options: EvaluateOptions = {}): Logs {
  const c = getCompiled(model);
  const batchSize = options.batchSize ?? 256;
  const outputMetrics = makeMetrics(model, c);
  if (options.metrics) {
    const extra = makeMetrics(model, { ...c, metricSpecs: metricsPerOutput(model, options.metrics) });
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
        const r = forwardLoss(model, c, x, y, { training: false, rng: c.rng });
        lossSum += r.total.item() * idx.length;
        r.perOutput.forEach((v, i) => (outLossSums[i] += v * idx.length));
        r.outputs.forEach((out, i) => {
          for (const m of outputMetrics[i].metrics) m.update(y[i], out);
        });
      });
    }
  });
  const n = Math.max(1, source.size);
  return collectLogs(model, lossSum / n, outLossSums.map((s) => s / n), outputMetrics);
}

/** Model outputs for every sample, in order, computed in batches in inference mode. */
export function predictSource(model: Model, x: Tensor | Tensor[], batchSize = 256): Tensor[] {
  const xs = Array.isArray(x) ? x : [x];
  const n = xs[0].shape[0];
  const parts: Tensor[][] = model.outputs.map(() => []);
  for (let start = 0; start < n; start += batchSize) {
    const idx = range(start, Math.min(n, start + batchSize));
    model.predictBatch(xs.map((t) => takeRows(t, idx))).forEach((o, i) => parts[i].push(o));
  }
  return parts.map((ps) => {
    const row = ps[0].size / ps[0].shape[0];
    const data = new Float32Array(n * row);
    let off = 0;
    for (const p of ps) {
      data.set(p.data, off);
      off += p.size;
    }
    return new Tensor(data, [n, ...ps[0].shape.slice(1)]);
  });
}
