/** Datasets and input pipelines. */
export { DataError } from './errors.js';
export { parseIdx, readIdxPair, readMaybeGzip, sha256 } from './idx.js';
export { imageSource, makeImageSet, outputShape, type Dataset, type ImageSet, type ImageTransform } from './dataset.js';
export { loadMnist, loadIdxDataset, mnistDirectory, MNIST_SHA256, DIGIT_CLASSES } from './mnist.js';
export { loadFashionMnist, findFashionMnist, FASHION_MNIST_SHA256, FASHION_CLASSES } from './fashion_mnist.js';
export { pickIndices } from './split.js';
export { prepareData, loadDataset, toTensors, dataSchema, type DataSpec, type PreparedData } from './spec.js';
export { imageInput, type InputPipeline } from './pipeline.js';
