/** Saved models (architecture, weights, optimizer and generator states) and the ModelCheckpoint callback. */
export { saveModel, loadModel, readInputPipeline, checkModelTarget, modelFolderProblem } from './saved_model.js';
export { ModelCheckpoint, type ModelCheckpointArgs } from './model_checkpoint.js';
