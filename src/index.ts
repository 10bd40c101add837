/** convlab's public API: engine, nn, training, metrics, data and lab, in the order data flows through them. */
export * from './engine/index.js';
export * from './nn/index.js';
export { modelFromConfig } from './nn/model_config.js';
export * from './train/index.js';
export * from './saving/index.js';
export * from './metrics/index.js';
export * from './data/index.js';
export { loadSpec, checkSpec, applyOverride, type Spec } from './lab/spec.js';
export { buildModelFromSpec } from './lab/model_spec.js';
export { runSpec, buildSpecModel, type RunResult } from './lab/train_run.js';
