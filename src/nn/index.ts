/** The Keras-style model API. */
export * from './layers/index.js';
export { Layer, Weight, SymbolicTensor, inferenceContext, type CallContext, type LayerShape } from './layer.js';
export { Model, Sequential, type ModelArgs } from './model.js';
export { registerActivation, getActivation, activationNames, type ActivationFn } from './activations.js';
export { getInitializer, initializerNames, type Initializer } from './initializers.js';
export { getRegularizer, makeRegularizer, type Regularizer } from './regularizers.js';
export * from './losses/index.js';
export { resetNames } from './naming.js';
export { SpecError, formatPath } from './spec.js';
export { buildResNet, RESNET18, RESNET34, type ResNetArgs, type ResNetShape } from './applications/resnet.js';
