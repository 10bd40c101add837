/** Runs one spec end to end: seed → data → model → compile → fit → evaluate on every split. */
import { getBackend } from '../engine/backend.js';
import { getThreads, nativeIsa } from '../engine/backends/native/index.js';
import { Random, setSeed } from '../engine/random.js';
import { argmaxRows, classificationReport, confusionMatrix, dummyPredictions, normalizeConfusion, type ClassificationReport } from '../metrics/index.js';
import type { BatchSource } from '../data/source.js';
import { prepareData, targetWidths, type PreparedData } from '../data/spec.js';
import type { InputPipeline } from '../data/pipeline.js';
import type { Model } from '../nn/model.js';
import { resetNames } from '../nn/naming.js';
import { SpecError } from '../nn/spec.js';
import type { Callback, Logs } from '../train/callbacks.js';
import { CSVLogger } from '../train/callbacks/csv_logger.js';
import { EarlyStopping } from '../train/callbacks/early_stopping.js';
import { LearningRateScheduler } from '../train/callbacks/learning_rate_scheduler.js';
import { ModelCheckpoint } from '../train/callbacks/model_checkpoint.js';
import { ReduceLROnPlateau } from '../train/callbacks/reduce_lr_on_plateau.js';
import { TerminateOnNaN } from '../train/callbacks/terminate_on_nan.js';
import { cosineDecay, exponentialDecay, stepDecay, withWarmup, type Schedule } from '../train/schedules.js';
import { optimizerOf } from '../train/trainer.js';
import type { EpochRecord, History } from '../train/trainer.js';
import { checkModelTarget, loadModel, saveModel } from '../nn/saving.js';
import { getLoss, lossNames } from '../nn/losses/index.js';
import { checkWritable } from '../util/safe_fs.js';
import { existsSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { TimeDifferenceSummary } from '../metrics/regression.js';
import { featureMapArtifacts, filterArtifacts, predictionArtifact, timeDifferenceEvaluation, type ArrayArtifact } from './inspect.js';
import { buildModelFromSpec } from './model_spec.js';
import type { Spec } from './spec.js';

/** Per split: the first output's confusion matrix, classification report and dummy baselines, as asked. */
export interface SplitEvaluation {
  classNames: string[];
  confusion_matrix?: number[][];
  /** Each row (true class) divided by its count: the share of that class predicted as each class. */
  confusion_matrix_normalized?: number[][];
  /** Which of the two to print: counts, normalized or both. */
  confusion_display?: 'counts' | 'normalized' | 'both';
  classification_report?: ClassificationReport;
  baselines?: Record<string, { accuracy: number; macro_f1: number; weighted_f1: number }>;
  /** Clocks: minutes between predicted and true time on the dial. */
  time_difference?: TimeDifferenceSummary;
}

export interface RunResult {
  name: string;
  history: History;
  final: Record<string, Logs>;
  evaluation: Record<string, SplitEvaluation>;
  /** Feature maps (with their input samples) and filters, as the evaluate block asks. */
  artifacts: ArrayArtifact[];
  params: number;
  trainableParams: number;
  seconds: number;
  /** Samples per split (the training split after subset and validation hold-out). */
  samples: Record<string, number>;
  backend: string;
  /** Threads of the native backend (1 for the TypeScript backend). */
  threads: number;
  /** The native GEMM's instruction set, or null on the TypeScript backend. */
  isa: string | null;
  /** How an image becomes the model's input (saved with the model). */
  pipeline: InputPipeline;
  /** The trained model. */
  model: Model;
}

/** Builds the model of a spec (names restart, weights follow the seed). */
export function buildSpecModel(spec: Spec): Model {
  resetNames();
  setSeed(spec.seed);
  return buildModelFromSpec(spec.model);
}

function checkShapes(model: Model, data: PreparedData): void {
  const got = data.sampleShape;
  if (model.inputs.length !== 1) {
    throw new SpecError([{ path: ['model', 'inputs'], message: `the model has ${model.inputs.length} inputs (${model.inputs.map((i) => i.layer.name).join(', ')}), but the data gives one image per sample, of shape [${got.join(', ')}]` }]);
  }
  const expected = model.inputs[0].shape.slice(1);
  if (expected.length !== got.length || expected.some((d, i) => d !== got[i])) {
    throw new SpecError([{ path: ['model', 'input'], message: `the data gives samples of shape [${got.join(', ')}] but the model expects [${expected.join(', ')}]` }]);
  }
  const layout = data.targetLayout;
  if (layout) {
    const got = model.outputs.map((o) => o.shape[o.shape.length - 1]);
    if (got.length !== layout.units.length || got.some((u, i) => u !== layout.units[i])) {
      throw new SpecError([{ path: ['model', 'outputs'], message: `the data's target scheme needs ${layout.units.length} output${layout.units.length === 1 ? '' : 's'} of [${layout.units.join(', ')}] units, the model has [${got.join(', ')}]` }]);
    }
    return;
  }
  const units = model.outputs[0].shape[model.outputs[0].shape.length - 1];
  if (model.outputs.length === 1 && units !== null && units !== 1 && units !== data.classNames.length) {
    throw new SpecError([{ path: ['model', 'layers'], message: `the last layer has ${units} units but the data has ${data.classNames.length} classes` }]);
  }
}

/** 'Data: mnist, 54,000 train · 6,000 validation · 10,000 test samples of [32, 32, 1], 10 classes'. */
export function describeSplits(data: PreparedData): string {
  const n = (x: number) => x.toLocaleString('en-US');
  const parts = [`${n(data.train.size)} train`, ...(data.validation ? [`${n(data.validation.size)} validation`] : []), `${n(data.test.size)} test`];
  return `Data: ${data.dataset.name}, ${parts.join(' · ')} samples of [${data.sampleShape.join(', ')}]${data.classNames.length ? `, ${data.classNames.length} classes` : ''}`;
}

/**
 * Builds a spec's model (checking every layer), then checks its losses against its outputs and the data block's
 * targets, the layers its evaluate block names and the files its callbacks write, all without any data.
 */
export function checkModelEvaluate(spec: Spec): void {
  const model = buildSpecModel(spec);
  checkCompile(model, spec);
  checkEvaluate(model, null, spec);
  checkOutputs(spec);
}

type Issue = { path: (string | number)[]; message: string };

/**
 * A per-output setting (loss, loss_weights, metrics) as one entry per output: a list in output order, a map by
 * output name, or one value for all. Keys that name no output and outputs without an entry are issues.
 */
function perOutputSetting<T>(value: T | T[] | Record<string, T>, names: string[], path: (string | number)[], single: (v: Record<string, T>) => boolean, issues: Issue[]): (T | undefined)[] {
  if (Array.isArray(value)) {
    if (value.length !== names.length) issues.push({ path, message: `a list gives one entry per output: found ${value.length} for the model's ${names.length} output${names.length === 1 ? '' : 's'} (${names.join(', ')})` });
    return names.map((_, i) => value[i]);
  }
  if (typeof value !== 'object' || value === null || single(value as Record<string, T>)) return names.map(() => value as T);
  const map = value as Record<string, T>;
  for (const key of Object.keys(map)) {
    if (!names.includes(key)) issues.push({ path: [...path, key], message: `no output is named '${key}': the model's outputs are ${names.map((n) => `'${n}'`).join(', ')}` });
  }
  const known = Object.keys(map).filter((k) => names.includes(k));
  if (known.length) for (const n of names) if (!(n in map)) issues.push({ path, message: `output '${n}' has no entry (a map by output name needs one for each of ${names.join(', ')})` });
  return names.map((n) => map[n]);
}

/**
 * Losses, loss weights and metrics against the model's outputs and the targets the data block gives: a loss map
 * must name outputs, a sparse loss needs one unit per class and integer labels, other losses one unit per target
 * value. Found before any data is read.
 */
export function checkCompile(model: Model, spec: Spec): void {
  const issues: Issue[] = [];
  const names = model.outputNames;
  const isLossSpec = (v: Record<string, unknown>) => 'class_name' in v || (Object.keys(v).length === 1 && lossNames.includes(Object.keys(v)[0]));
  const losses = perOutputSetting(spec.train.loss as unknown, names, ['train', 'loss'], isLossSpec as (v: Record<string, unknown>) => boolean, issues);
  if (spec.train.loss_weights !== undefined) perOutputSetting(spec.train.loss_weights as unknown, names, ['train', 'loss_weights'], () => false, issues);
  if (spec.train.metrics && !Array.isArray(spec.train.metrics)) perOutputSetting(spec.train.metrics as unknown, names, ['train', 'metrics'], () => false, issues);
  const widths = targetWidths(spec.data);
  if (widths && widths.length !== names.length) {
    issues.push({ path: ['model', 'outputs'], message: `the data gives ${widths.length} target${widths.length === 1 ? '' : 's'} per sample, the model has ${names.length} output${names.length === 1 ? '' : 's'} (${names.join(', ')})` });
  } else if (widths) {
    losses.forEach((l, i) => {
      if (l === undefined) return;
      let name: string;
      try {
        name = getLoss(l as never).name;
      } catch {
        return;
      }
      const units = model.outputs[i].shape[model.outputs[i].shape.length - 1];
      const w = widths[i];
      const where = names.length > 1 ? `output '${names[i]}'` : 'the output';
      const path = Array.isArray(spec.train.loss) ? ['train', 'loss', i] : typeof spec.train.loss === 'object' && !isLossSpec(spec.train.loss as Record<string, unknown>) ? ['train', 'loss', names[i]] : ['train', 'loss'];
      const oneHot = w === 'classes' || (typeof w === 'number' && w > 1);
      if (name === 'sparse_categorical_crossentropy') {
        if (oneHot) issues.push({ path, message: `sparse_categorical_crossentropy takes integer class labels, but the data gives one-hot rows (data.transforms has one_hot): use categorical_crossentropy, or remove one_hot` });
        else if (units === 1) issues.push({ path, message: `sparse_categorical_crossentropy needs one unit per class, and ${where} has 1 unit: give the last layer one unit per class (with softmax), or use binary_crossentropy with a sigmoid for two classes` });
      } else if (units !== null) {
        if (w === 0 && units !== 1) {
          issues.push({ path, message: `${name} compares each output unit with the target, but the data gives one integer label per sample and ${where} has ${units} units: use sparse_categorical_crossentropy, or add {one_hot: true} to data.transforms` });
        } else if (w === 'classes' && units === 1) {
          issues.push({ path, message: `${name} compares each output unit with the target, but the data gives a one-hot row per sample and ${where} has 1 unit: give the last layer one unit per class` });
        } else if (typeof w === 'number' && w > 0 && units !== w) {
          issues.push({ path, message: `${name} compares each output unit with the target, but the data gives ${w} values per sample and ${where} has ${units} units` });
        }
      }
    });
  }
  if (issues.length) throw new SpecError(issues);
}

/**
 * Every file and folder the run will write, checked before it trains: csv_logger files, model_checkpoint folders
 * and the --save folder must be writable, and an existing folder may only be replaced when it is a saved model.
 */
export function checkOutputs(spec: Spec, saveTo?: string): void {
  spec.train.callbacks.forEach((c, i) => {
    if ('csv_logger' in c) checkWritable(c.csv_logger.filename, 'file', `train.callbacks[${i}].csv_logger.filename:`);
    if ('model_checkpoint' in c && !c.model_checkpoint.filepath.includes('{epoch')) checkModelTarget(c.model_checkpoint.filepath, `train.callbacks[${i}].model_checkpoint.filepath:`);
    else if ('model_checkpoint' in c) checkWritable(dirname(c.model_checkpoint.filepath), 'dir', `train.callbacks[${i}].model_checkpoint.filepath:`);
  });
  if (saveTo !== undefined) checkModelTarget(saveTo, '--save');
}

/** Everything the evaluate block names must exist before training starts, not fail after it. */
export function checkEvaluate(model: Model, data: PreparedData | null, spec: Spec): void {
  const e = spec.evaluate;
  const issues: { path: (string | number)[]; message: string }[] = [];
  const layerNames = model.layers.map((l) => l.name);
  const checkLayers = (refs: readonly (string | number)[], field: string, convOnly: boolean) =>
    refs.forEach((ref, i) => {
      const layer = typeof ref === 'number' ? model.layers[ref] : model.layers.find((l) => l.name === ref);
      if (!layer) issues.push({ path: ['evaluate', field, 'layers', i], message: `no layer ${JSON.stringify(ref)}: expected an index 0..${layerNames.length - 1} or one of ${layerNames.join(', ')}` });
      else if (convOnly && layer.className !== 'Conv2D') issues.push({ path: ['evaluate', field, 'layers', i], message: `layer '${layer.name}' is a ${layer.className}; filters are drawn from Conv2D layers` });
    });
  if (e.feature_maps) {
    checkLayers(e.feature_maps.layers, 'feature_maps', false);
    if (data && e.feature_maps.split === 'validation' && !data.validation) issues.push({ path: ['evaluate', 'feature_maps', 'split'], message: 'the data block has no validation split (add data.validation)' });
  }
  if (e.filters) {
    if (e.filters === true) {
      if (!model.layers.some((l) => l.className === 'Conv2D')) issues.push({ path: ['evaluate', 'filters'], message: 'the model has no Conv2D layer' });
    } else checkLayers(e.filters.layers, 'filters', true);
  }
  if (e.predictions && data) {
    const split = e.predictions === true ? 'test' : e.predictions.split;
    const units = model.outputs[0].shape[model.outputs[0].shape.length - 1];
    if (data.classNames.length < 2 || units !== data.classNames.length) issues.push({ path: ['evaluate', 'predictions'], message: `sample grids need a classifier: the first output has ${units} units and the data ${data.classNames.length} classes` });
    if (split === 'validation' && !data.validation) issues.push({ path: ['evaluate', 'predictions', 'split'], message: 'the data block has no validation split (add data.validation)' });
  }
  if (data && e.time_difference && !data.targetLayout?.minutes) {
    issues.push({ path: ['evaluate', 'time_difference'], message: 'needs the clocks dataset with a target that gives the whole time: classes24, classes720, regression, periodic or hour_minute' });
  }
  if (issues.length) throw new SpecError(issues);
}

export interface RunOptions {
  verbose?: 0 | 1;
  saveTo?: string;
  /**
   * Checkpoint after every epoch into this folder, and resume from it when it holds one: the run then ends with
   * the same numbers as an uninterrupted one.
   */
  checkpoint?: { dir: string; onEpoch?: (epoch: number, logs: Logs) => void };
  /** Called once the model is built (or restored), before training. */
  onModel?: (model: Model) => void;
  /** More callbacks for fit (a heartbeat, say); they keep no state across a resume. */
  callbacks?: Callback[];
}

export async function runSpec(spec: Spec, options: RunOptions = {}): Promise<RunResult> {
  const saved = options.checkpoint ? readCheckpoint(options.checkpoint.dir) : null;
  const built = buildSpecModel(spec);
  // What the spec alone decides is checked before any data is read; where files go, before any training.
  checkCompile(built, spec);
  checkOutputs(spec, options.saveTo);
  const data = await prepareData(spec.data, spec.seed);
  checkShapes(built, data);
  if ((options.verbose ?? 1) > 0) console.log(describeSplits(data));
  if (spec.train.batch_size > data.train.size) process.stderr.write(`convlab: note: train.batch_size ${spec.train.batch_size} is more than the ${data.train.size} training samples, so each epoch is one batch of ${data.train.size}\n`);
  checkEvaluate(built, data, spec);
  let model = built;
  if (saved) {
    model = loadModel(saved.modelDir);
    data.train.setState?.(saved.state.source);
  } else {
    model.compile({ optimizer: spec.train.optimizer, loss: spec.train.loss, lossWeights: spec.train.loss_weights, metrics: spec.train.metrics });
  }
  options.onModel?.(model);
  const callbacks = makeCallbacks(spec, model);
  callbacks.push(...(options.callbacks ?? []));
  const earlier = saved?.state.history ?? [];
  if (options.checkpoint) callbacks.push(new RunCheckpoint(options.checkpoint.dir, callbacks, data.train, earlier, options.checkpoint.onEpoch));
  const started = performance.now();
  const fitted = model.fit(data.train, {
    callbacks,
    classWeight: spec.train.class_weight,
    // A run that had stopped early (and was interrupted before it finished) trains no further.
    epochs: saved?.state.stopped ? earlier.length : spec.train.epochs,
    initialEpoch: earlier.length,
    callbackStates: saved?.state.callbacks,
    batchSize: spec.train.batch_size,
    shuffle: spec.train.shuffle,
    validationData: data.validation,
    verbose: options.verbose ?? 1,
  });
  const history: History = { epochs: [...earlier, ...fitted.epochs], history: {} };
  const diverged = history.epochs.find((e) => !Number.isFinite(e.loss));
  if (diverged) process.stderr.write(`convlab: warning: the training loss became ${diverged.loss} in epoch ${diverged.epoch + 1} and training went on (train.terminate_on_nan is false): the results are not meaningful\n`);
  for (const e of history.epochs) for (const [k, v] of Object.entries(e)) if (k !== 'epoch') (history.history[k] ??= []).push(v);
  // Training time: the epochs' own times, so a resumed run counts the time spent before the interruption too.
  const seconds = saved ? history.epochs.reduce((s, e) => s + (e.seconds ?? 0), 0) : (performance.now() - started) / 1000;
  const { final, evaluation, artifacts } = evaluateTrained(model, data, spec);
  if (options.saveTo) saveModel(model, options.saveTo, { inputPipeline: data.pipeline });
  return {
    name: spec.name,
    history,
    final,
    evaluation,
    artifacts,
    params: model.countParams(),
    trainableParams: model.trainableWeights.reduce((n, w) => n + w.value.size, 0),
    seconds,
    samples: Object.fromEntries(Object.entries({ train: data.train, validation: data.validation, test: data.test }).filter(([, v]) => v).map(([k, v]) => [k, v!.size])),
    backend: getBackend().name,
    threads: getBackend().name === 'native' ? getThreads() : 1,
    isa: getBackend().name === 'native' ? nativeIsa() : null,
    pipeline: data.pipeline,
    model,
  };
}

/**
 * What the evaluate block asks of a trained model: final metrics per split, confusion matrices, classification
 * reports and baselines, clock errors, feature maps, filters and sample predictions. Used after training, and by
 * `convlab evaluate` on a stored trial's weights.
 */
export function evaluateTrained(model: Model, data: PreparedData, spec: Spec): { final: Record<string, Logs>; evaluation: Record<string, SplitEvaluation>; artifacts: ArrayArtifact[] } {
  // Final metrics, reports and feature maps see the training images as they are, not augmented.
  const splits: Record<string, BatchSource | undefined> = { train: data.trainEvaluation ?? data.train, validation: data.validation, test: data.test };
  const final: Record<string, Logs> = {};
  for (const split of spec.evaluate.on) {
    const source = splits[split];
    if (source) final[split] = model.evaluate(source, undefined, { metrics: spec.evaluate.metrics ?? undefined });
  }
  const evaluation = evaluateClasses(model, data, splits, spec);
  const e = spec.evaluate;
  if (e.time_difference && data.targetLayout) {
    for (const split of e.on) {
      const source = splits[split];
      if (source) (evaluation[split] ??= { classNames: data.classNames }).time_difference = timeDifferenceEvaluation(model, source, data.targetLayout);
    }
  }
  const artifacts: ArrayArtifact[] = [];
  if (e.feature_maps) artifacts.push(...featureMapArtifacts(model, splits[e.feature_maps.split]!, e.feature_maps.layers, e.feature_maps.samples));
  if (e.filters) artifacts.push(...filterArtifacts(model, e.filters === true ? 'all' : e.filters.layers));
  if (e.predictions) {
    const p = e.predictions === true ? { count: 36, split: 'test' as const, only: 'all' as const } : e.predictions;
    artifacts.push(predictionArtifact(model, splits[p.split]!, p.split, data.classNames, p.count, p.only));
  }
  return { final, evaluation, artifacts };
}

interface CheckpointState {
  history: EpochRecord[];
  callbacks: unknown[];
  source: unknown;
  stopped: boolean;
}

/** The newest complete checkpoint in a folder (a crash between the two renames leaves it under `previous`). */
function readCheckpoint(dir: string): { modelDir: string; state: CheckpointState } | null {
  for (const name of ['current', 'previous']) {
    const d = join(dir, name);
    if (existsSync(join(d, 'state.json')) && existsSync(join(d, 'model.json'))) return { modelDir: d, state: JSON.parse(readFileSync(join(d, 'state.json'), 'utf8'), (_k, v) => (v === 'NaN' || v === 'Infinity' || v === '-Infinity' ? Number(v) : v)) as CheckpointState };
  }
  return null;
}

/**
 * After every epoch: the model (weights, optimizer, generators), every callback's state, the augmentation
 * generator and the history so far, written to a fresh folder that then replaces the last checkpoint.
 */
class RunCheckpoint implements Callback {
  private readonly history: EpochRecord[];
  constructor(
    private readonly dir: string,
    private readonly callbacks: readonly Callback[],
    private readonly source: BatchSource,
    earlier: readonly EpochRecord[],
    private readonly onEpoch?: (epoch: number, logs: Logs) => void,
  ) {
    this.history = [...earlier];
  }

  onEpochEnd(epoch: number, logs: Logs, model: Model): void {
    this.history.push({ epoch, ...logs });
    const state: CheckpointState = {
      history: this.history,
      callbacks: this.callbacks.map((c) => (c === this ? null : c.getState?.() ?? null)),
      source: this.source.getState?.() ?? null,
      stopped: Boolean((model as unknown as { stopTraining?: boolean }).stopTraining),
    };
    const next = join(this.dir, 'next');
    rmSync(next, { recursive: true, force: true });
    saveModel(model, next);
    writeFileSync(join(next, 'state.json'), JSON.stringify(state, (_k, v) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : v)));
    const current = join(this.dir, 'current');
    const previous = join(this.dir, 'previous');
    rmSync(previous, { recursive: true, force: true });
    if (existsSync(current)) renameSync(current, previous);
    renameSync(next, current);
    rmSync(previous, { recursive: true, force: true });
    this.onEpoch?.(epoch, logs);
  }
}

/** Labels (argmax of one-hot rows) and the model's predicted classes for the first output over a whole source. */
function labelsAndPredictions(model: Model, source: BatchSource): { labels: Int32Array; preds: Int32Array } {
  const labels = new Int32Array(source.size);
  const preds = new Int32Array(source.size);
  const step = 256;
  for (let start = 0; start < source.size; start += step) {
    const idx = Array.from({ length: Math.min(step, source.size - start) }, (_, i) => start + i);
    const { x, y } = source.batch(idx);
    const out = model.predictBatch(x)[0];
    const p = argmaxRows(out);
    const t = y[0].rank === 2 ? argmaxRows(y[0]) : Int32Array.from(y[0].data);
    labels.set(t, start);
    preds.set(p, start);
  }
  return { labels, preds };
}

function evaluateClasses(model: Model, data: PreparedData, splits: Record<string, BatchSource | undefined>, spec: Spec): Record<string, SplitEvaluation> {
  const e = spec.evaluate;
  if (!e.confusion_matrix && !e.classification_report && e.baselines.length === 0) return {};
  const k = data.classNames.length;
  const units = model.outputs[0].shape[model.outputs[0].shape.length - 1];
  if (k < 2 || units !== k) {
    throw new SpecError([{ path: ['evaluate'], message: `confusion matrices, reports and baselines need a classifier: the first output has ${units} units and the data ${k} classes` }]);
  }
  const trainLabels = labelsAndPredictions(model, splits.train!).labels;
  const out: Record<string, SplitEvaluation> = {};
  for (const split of e.on) {
    const source = splits[split];
    if (!source) continue;
    const { labels, preds } = labelsAndPredictions(model, source);
    const m = confusionMatrix(labels, preds, k);
    const r: SplitEvaluation = { classNames: data.classNames };
    if (e.confusion_matrix) {
      r.confusion_matrix = m;
      r.confusion_matrix_normalized = normalizeConfusion(m, 'true');
      r.confusion_display = e.confusion_matrix === true ? 'counts' : e.confusion_matrix;
    }
    if (e.classification_report) r.classification_report = classificationReport(m, data.classNames);
    if (e.baselines.length) {
      r.baselines = {};
      for (const strategy of e.baselines) {
        const dummy = dummyPredictions(strategy, trainLabels, labels.length, k, new Random(spec.seed ^ 0xd00d));
        const rep = classificationReport(confusionMatrix(labels, dummy, k));
        r.baselines[strategy] = { accuracy: rep.accuracy, macro_f1: rep.macro.f1, weighted_f1: rep.weighted.f1 };
      }
    }
    out[split] = r;
  }
  return out;
}

/** The train block's callbacks and schedule as callback objects (Keras names in snake_case). */
function makeCallbacks(spec: Spec, model: Model): Callback[] {
  const out: Callback[] = [];
  // A diverged run fails, naming the epoch and batch, unless the spec turns that off (the callback asks for it too).
  if (spec.train.terminate_on_nan || spec.train.callbacks.some((c) => 'terminate_on_nan' in c)) out.push(new TerminateOnNaN({ fail: true }));
  for (const c of spec.train.callbacks) {
    if ('early_stopping' in c) {
      const a = c.early_stopping;
      out.push(new EarlyStopping({ monitor: a.monitor, mode: a.mode, minDelta: a.min_delta, patience: a.patience, restoreBestWeights: a.restore_best_weights, startFromEpoch: a.start_from_epoch }));
    } else if ('reduce_lr_on_plateau' in c) {
      const a = c.reduce_lr_on_plateau;
      out.push(new ReduceLROnPlateau({ monitor: a.monitor, mode: a.mode, minDelta: a.min_delta, factor: a.factor, patience: a.patience, cooldown: a.cooldown, minLr: a.min_lr }));
    } else if ('terminate_on_nan' in c) {
      continue;
    } else if ('model_checkpoint' in c) {
      const a = c.model_checkpoint;
      out.push(new ModelCheckpoint(a.filepath, { monitor: a.monitor, mode: a.mode, saveBestOnly: a.save_best_only }));
    } else {
      out.push(new CSVLogger(c.csv_logger.filename, c.csv_logger.append ?? false));
    }
  }
  const s = spec.train.schedule;
  if (s) {
    const base = optimizerOf(model).currentLearningRate();
    let f: Schedule;
    let warm = 0;
    if ('step_decay' in s) {
      f = stepDecay(base, s.step_decay.factor, s.step_decay.every);
      warm = s.step_decay.warmup_epochs ?? 0;
    } else if ('exponential' in s) {
      f = exponentialDecay(base, s.exponential.rate);
      warm = s.exponential.warmup_epochs ?? 0;
    } else {
      f = cosineDecay(base, s.cosine.epochs ?? spec.train.epochs, s.cosine.min ?? 0);
      warm = s.cosine.warmup_epochs ?? 0;
    }
    const sched = withWarmup(f, warm);
    out.push(new LearningRateScheduler((epoch) => sched(epoch)));
  }
  return out;
}
