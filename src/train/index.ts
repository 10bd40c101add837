/** Training: compile/fit/evaluate (also as Model methods), the training state, callbacks, optimizers and schedules. */
import './model_api.js';
export {
  fit,
  fitAsync,
  trainOnBatch,
  evaluateSource,
  type StepResult,
  type FitOptions,
  type AsyncFitOptions,
  type History,
  type EpochRecord,
  type EvaluateOptions,
} from './trainer.js';
export {
  compile,
  trainingState,
  findTrainingState,
  restoreTraining,
  optimizerOf,
  type CompileArgs,
  type TrainingState,
  type TrainableModel,
} from './state.js';
export * from './callbacks/index.js';
export { cosineDecay, exponentialDecay, stepDecay, withWarmup, type Schedule } from './schedules.js';
export { tensorSource, subsetSource, takeRows, range, type Batch, type BatchSource } from '../data/source.js';
export * from './optimizers/index.js';
