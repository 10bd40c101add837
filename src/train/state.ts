/**
 * What training needs of a model, and the state training keeps for it. The trainer knows a model only through
 * TrainableModel (any convlab Model is one); everything compile() sets up lives in a TrainingState that train/
 * owns, looked up by model, so nn knows nothing of optimizers, losses or callbacks.
 */
import { globalRandom, type Random } from '../engine/random.js';
import type { Tensor } from '../engine/tensor.js';
import { getLoss, type Loss, type LossSpec } from '../nn/losses/index.js';
import type { CallContext, Weight } from '../nn/layer.js';
import type { MetricSpec } from '../metrics/index.js';
import { getOptimizer, type Optimizer, type OptimizerSpec } from './optimizers/index.js';

/** The narrow view of a model that training uses. */
export interface TrainableModel {
  readonly name: string;
  readonly outputNames: string[];
  /** Each output's symbolic shape; the last dimension sizes metrics such as top-k accuracy. */
  readonly outputs: readonly { readonly shape: readonly (number | null)[] }[];
  readonly weights: Weight[];
  readonly trainableWeights: Weight[];
  /** Runs the model, recording the graph when ctx.training asks for it. */
  call(inputs: Tensor | Tensor[], ctx: CallContext): Tensor[];
  /** Inference on one batch, no graph recorded. */
  predictBatch(inputs: Tensor | Tensor[]): Tensor[];
}

export interface CompileArgs {
  optimizer?: OptimizerSpec;
  /** One loss for every output, a list in output order, or a map by output name. */
  loss: LossSpec | LossSpec[] | Record<string, LossSpec>;
  lossWeights?: number[] | Record<string, number>;
  /** Metrics for every output, a list per output, or a map by output name. */
  metrics?: MetricSpec[] | MetricSpec[][] | Record<string, MetricSpec[]>;
}

/** Everything compile() sets up and fit() changes, for one model. Callbacks receive it. */
export interface TrainingState {
  readonly model: TrainableModel;
  optimizer: Optimizer;
  losses: Loss[];
  lossWeights: number[];
  metricSpecs: MetricSpec[][];
  /** Dropout masks during training. */
  rng: Random;
  /** Shuffling. */
  shuffleRng: Random;
  /** Set by a callback (EarlyStopping, TerminateOnNaN, ...) to end fit() after the current batch or epoch. */
  stopTraining: boolean;
}

/** What a saved checkpoint hands to the next compile(): its optimizer (with slots) and its generator states. */
export interface RestoredTraining {
  optimizer?: Optimizer;
  generators?: { dropout: Uint32Array; shuffle: Uint32Array };
}

const states = new WeakMap<TrainableModel, TrainingState>();
const restored = new WeakMap<TrainableModel, RestoredTraining>();

/** Spreads a per-output setting: a list in output order, a map by output name, or one value for all outputs. */
function perOutput<T>(value: T | T[] | Record<string, T>, names: string[], what: string, isMap: boolean): T[] {
  if (Array.isArray(value)) {
    if (value.length !== names.length)
      throw new Error(`${what}: got ${value.length} entries for ${names.length} outputs (${names.join(', ')})`);
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
export function metricsPerOutput(names: string[], m: MetricSpec[] | MetricSpec[][] | Record<string, MetricSpec[]>): MetricSpec[][] {
  if (!Array.isArray(m)) return perOutput(m, names, 'metrics', true);
  if (m.length > 0 && Array.isArray(m[0])) return perOutput(m as MetricSpec[][], names, 'metrics', false);
  return names.map(() => m as MetricSpec[]);
}

/**
 * Sets up training for a model (Keras' compile): losses per output, loss weights, metrics, the optimizer and the
 * generators. A model loaded from a checkpoint continues with its saved optimizer when none is given, and its
 * generators continue their streams, so resumed training draws what it would have drawn.
 */
export function compile(model: TrainableModel, args: CompileArgs): TrainingState {
  const names = model.outputNames;
  const losses = perOutput<LossSpec>(args.loss, names, 'loss', isOutputMap(args.loss, names)).map((l) => getLoss(l));
  const lossWeights =
    args.lossWeights === undefined
      ? names.map(() => 1)
      : perOutput(args.lossWeights, names, 'loss_weights', !Array.isArray(args.lossWeights));
  const metricSpecs = metricsPerOutput(names, args.metrics ?? []);
  const seedSource = globalRandom();
  const rng = seedSource.fork();
  const shuffleRng = seedSource.fork();
  const saved = restored.get(model);
  if (saved?.generators) {
    rng.setState(saved.generators.dropout);
    shuffleRng.setState(saved.generators.shuffle);
  }
  // The saved optimizer stays for later compiles without one; the generators continue only once.
  if (saved?.optimizer) restored.set(model, { optimizer: saved.optimizer });
  else restored.delete(model);
  const optimizer = args.optimizer !== undefined ? getOptimizer(args.optimizer) : (saved?.optimizer ?? getOptimizer('rmsprop'));
  const state: TrainingState = { model, optimizer, losses, lossWeights, metricSpecs, rng, shuffleRng, stopTraining: false };
  states.set(model, state);
  return state;
}

/** The training state of a compiled model; an error that says what to do for one that is not compiled. */
export function trainingState(model: TrainableModel): TrainingState {
  const state = states.get(model);
  if (!state)
    throw new Error(`model '${model.name}' must be compiled before training or evaluation: call model.compile({optimizer, loss, metrics})`);
  return state;
}

/** The training state of a model, or null if it was never compiled. */
export function findTrainingState(model: TrainableModel): TrainingState | null {
  return states.get(model) ?? null;
}

/** Leaves a checkpoint's optimizer and generator states for the model's next compile(). */
export function restoreTraining(model: TrainableModel, saved: RestoredTraining): void {
  restored.set(model, saved);
}

/** The optimizer a compiled model trains with (for callbacks and code that change its learning rate). */
export function optimizerOf(model: TrainableModel): Optimizer {
  return trainingState(model).optimizer;
}
