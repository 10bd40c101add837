/** Training: compile/fit/evaluate/predict, callbacks, optimizers and batch sources. */
export { compile, fit, trainOnBatch, evaluateSource, predictSource, type StepResult, type CompileArgs, type FitOptions, type History, type EpochRecord, type EvaluateOptions } from './trainer.js';
export { ProgressLogger, type Callback, type Logs } from './callbacks.js';
export { EarlyStopping, type EarlyStoppingArgs } from './callbacks/early_stopping.js';
export { ReduceLROnPlateau, type ReduceLROnPlateauArgs } from './callbacks/reduce_lr_on_plateau.js';
export { LearningRateScheduler } from './callbacks/learning_rate_scheduler.js';
export { TerminateOnNaN } from './callbacks/terminate_on_nan.js';
export { CSVLogger } from './callbacks/csv_logger.js';
export { ModelCheckpoint, type ModelCheckpointArgs } from './callbacks/model_checkpoint.js';
export { cosineDecay, exponentialDecay, stepDecay, withWarmup, type Schedule } from './schedules.js';
export { optimizerOf } from './trainer.js';
export { tensorSource, subsetSource, takeRows, range, type Batch, type BatchSource } from '../data/source.js';
export * from './optimizers/index.js';
