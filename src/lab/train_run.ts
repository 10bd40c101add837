/**
 * Runs one spec end to end: seed → data → model → compile → fit → evaluate on every split. The checks before a run
 * are in run_checks.ts, the checkpoint in run_checkpoint.ts, what the evaluate block asks in run_evaluate.ts.
 */
import { getBackend } from '../engine/backends/index.js';
import { getThreads, nativeIsa } from '../engine/backends/native/index.js';
import { prepareData } from '../data/spec.js';
import type { InputPipeline } from '../data/pipeline.js';
import type { Model } from '../nn/model.js';
import { loadModel, saveModel } from '../saving/saved_model.js';
import { ModelCheckpoint } from '../saving/model_checkpoint.js';
import {
  cosineDecay,
  CSVLogger,
  EarlyStopping,
  exponentialDecay,
  LearningRateScheduler,
  ReduceLROnPlateau,
  stepDecay,
  TerminateOnNaN,
  withWarmup,
  type Callback,
  type History,
  type Logs,
  type Schedule,
  getOptimizer,
  trainingState,
  fitAsync,
  type EpochRecord,
} from '../train/index.js';
import type { ArrayArtifact } from './inspect.js';
import { buildSpecModel, checkBatchSize, checkCompile, checkEvaluate, checkOutputs, checkShapes, describeSplits } from './run_checks.js';
import { checkPhases, enterPhase, phasesOf, resumePoint } from './phases.js';
import { readCheckpoint, RunCheckpoint } from './run_checkpoint.js';
import { evaluateTrained, type SplitEvaluation } from './run_evaluate.js';
import type { Spec } from './spec.js';

export { buildSpecModel, checkModelEvaluate, describeSplits } from './run_checks.js';
export { evaluateTrained, type SplitEvaluation } from './run_evaluate.js';

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
  /**
   * Awaited after each epoch (its checkpoint written) before the next starts: where a store across the network
   * records the epoch. A rejection ends the run with that error.
   */
  afterEpoch?: (record: EpochRecord) => Promise<void>;
}

export async function runSpec(spec: Spec, options: RunOptions = {}): Promise<RunResult> {
  const saved = options.checkpoint ? readCheckpoint(options.checkpoint.dir) : null;
  const built = buildSpecModel(spec);
  // What the spec alone decides is checked before any data is read; where files go, before any training.
  checkCompile(built, spec);
  checkPhases(built, spec);
  checkOutputs(spec, options.saveTo);
  const data = await prepareData(spec.data, spec.seed);
  checkShapes(built, data);
  if ((options.verbose ?? 1) > 0) console.log(describeSplits(data));
  checkBatchSize(spec, data);
  checkEvaluate(built, data, spec);
  const phases = phasesOf(spec);
  // The trainable flags the model block gives, for phases that name none (a loaded model has a phase's flags).
  const initialFlags = built.layers.map((l) => l.trainable);
  let model = built;
  if (saved) {
    model = loadModel(saved.modelDir);
    data.train.setState?.(saved.state.source);
  } else {
    model.compile({
      optimizer: phases[0].optimizer,
      loss: spec.train.loss,
      lossWeights: spec.train.loss_weights,
      metrics: spec.train.metrics,
    });
  }
  options.onModel?.(model);
  const callbacks = makeCallbacks(spec, model);
  callbacks.push(...(options.callbacks ?? []));
  const earlier = saved?.state.history ?? [];
  if (options.checkpoint)
    callbacks.push(new RunCheckpoint(options.checkpoint.dir, callbacks, data.train, earlier, options.checkpoint.onEpoch));
  const started = performance.now();
  const resume = resumePoint(phases, earlier, Boolean(saved?.state.stopped));
  const fitted: EpochRecord[] = [];
  for (let k = resume.phase; k < phases.length; k++) {
    const phase = phases[k];
    const from = k === resume.phase ? resume.epoch : phase.start;
    const midPhase = Boolean(saved) && k === resume.phase && from > phase.start;
    enterPhase(model, phase, initialFlags);
    // Each phase starts a fresh optimizer (the first one compile's); a run resumed inside a phase keeps the saved one.
    if (k > 0 && !midPhase) trainingState(model).optimizer = getOptimizer(phase.optimizer);
    const h = await fitAsync(model, data.train, {
      afterEpoch: options.afterEpoch,
      callbacks,
      classWeight: spec.train.class_weight,
      epochs: phase.end,
      initialEpoch: from,
      // Callbacks take up their saved state only inside the phase they were in; a new phase begins them afresh.
      callbackStates: midPhase ? saved?.state.callbacks : undefined,
      batchSize: spec.train.batch_size,
      shuffle: spec.train.shuffle,
      dropRemainder: spec.train.drop_remainder,
      validationData: data.validation,
      verbose: options.verbose ?? 1,
    });
    fitted.push(...h.epochs);
  }
  const history: History = { epochs: [...earlier, ...fitted], history: {} };
  const diverged = history.epochs.find((e) => !Number.isFinite(e.loss));
  if (diverged)
    process.stderr.write(
      `convlab: warning: the training loss became ${diverged.loss} in epoch ${diverged.epoch + 1} and training went on (train.terminate_on_nan is false): the results are not meaningful\n`,
    );
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
    samples: Object.fromEntries(
      Object.entries({ train: data.train, validation: data.validation, test: data.test })
        .filter(([, v]) => v)
        .map(([k, v]) => [k, v!.size]),
    ),
    backend: getBackend().name,
    threads: getBackend().name === 'native' ? getThreads() : 1,
    isa: getBackend().name === 'native' ? nativeIsa() : null,
    pipeline: data.pipeline,
    model,
  };
}

/** The train block's callbacks and schedule as callback objects (Keras names in snake_case). */
function makeCallbacks(spec: Spec, model: Model): Callback[] {
  const out: Callback[] = [];
  // A diverged run fails, naming the epoch and batch, unless the spec turns that off (the callback asks for it too).
  if (spec.train.terminate_on_nan || spec.train.callbacks.some((c) => 'terminate_on_nan' in c))
    out.push(new TerminateOnNaN({ fail: true }));
  for (const c of spec.train.callbacks) {
    if ('early_stopping' in c) {
      const a = c.early_stopping;
      out.push(
        new EarlyStopping({
          monitor: a.monitor,
          mode: a.mode,
          minDelta: a.min_delta,
          patience: a.patience,
          restoreBestWeights: a.restore_best_weights,
          startFromEpoch: a.start_from_epoch,
        }),
      );
    } else if ('reduce_lr_on_plateau' in c) {
      const a = c.reduce_lr_on_plateau;
      out.push(
        new ReduceLROnPlateau({
          monitor: a.monitor,
          mode: a.mode,
          minDelta: a.min_delta,
          factor: a.factor,
          patience: a.patience,
          cooldown: a.cooldown,
          minLr: a.min_lr,
        }),
      );
    } else if ('terminate_on_nan' in c) {
    } else if ('model_checkpoint' in c) {
      const a = c.model_checkpoint;
      out.push(new ModelCheckpoint(a.filepath, { monitor: a.monitor, mode: a.mode, saveBestOnly: a.save_best_only }));
    } else {
      out.push(new CSVLogger(c.csv_logger.filename, c.csv_logger.append ?? false));
    }
  }
  const s = spec.train.schedule;
  if (s) {
    const base = model.optimizer.currentLearningRate();
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
