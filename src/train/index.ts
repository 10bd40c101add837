/** Training: compile/fit/evaluate/predict, callbacks, optimizers and batch sources. */
export { compile, fit, trainOnBatch, evaluateSource, predictSource, type StepResult, type CompileArgs, type FitOptions, type History, type EpochRecord, type EvaluateOptions } from './trainer.js';
export { ProgressLogger, type Callback, type Logs } from './callbacks.js';
export { tensorSource, subsetSource, takeRows, range, type Batch, type BatchSource } from './source.js';
export * from './optimizers/index.js';
