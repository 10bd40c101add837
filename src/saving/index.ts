/** Saved models (architecture, weights, optimizer and generator states) and the ModelCheckpoint callback. */
export { saveModel, loadModel, readInputPipeline, checkModelTarget, modelFolderProblem } from './saved_model.js';
export { ModelCheckpoint, type ModelCheckpointArgs } from './model_checkpoint.js';
export { readSafetensors, writeSafetensors, WeightsFileError, type NamedTensor } from './safetensors.js';
export { readTorchStateDict } from './torch_file.js';
export { loadStateDict, loadWeightsFile, readWeightsFile, toStateDict, toTorchStateDict, type LoadReport } from './torch_weights.js';
export { resnet18, resnet34, imagenetCheckpoint, fetchImagenetWeights, torchCheckpointDir, type PretrainedArgs } from './applications.js';
