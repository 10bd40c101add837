/**
 * The package entry 'convlab/nn': the Keras-style model API. Model's training methods (compile, fit, evaluate,
 * trainOnBatch) belong to src/train, which sits above nn; this entry installs them, so a model built from
 * 'convlab/nn' alone trains as a Keras model does.
 */
import '../train/model_api.js';

export * from '../nn/index.js';
