/** fit()'s callbacks, as in Keras. ModelCheckpoint, which saves models, is in src/saving. */
export { packArrays, unpackArrays, type Callback, type Logs } from './callback.js';
export { ProgressLogger } from './progress_logger.js';
export { EarlyStopping, type EarlyStoppingArgs } from './early_stopping.js';
export { ReduceLROnPlateau, type ReduceLROnPlateauArgs } from './reduce_lr_on_plateau.js';
export { LearningRateScheduler } from './learning_rate_scheduler.js';
export { TerminateOnNaN } from './terminate_on_nan.js';
export { CSVLogger } from './csv_logger.js';
