/** The engine: tensors, autograd, the op set, and the backend registry (the TypeScript backend is always there). */
export * from './backend.js';
export * from './backends/index.js';
export * from './shape.js';
export * from './tensor.js';
export { tidy, pooledBytes, setBufferReuse } from './memory.js';
export * from './ops.js';
export * from './composed.js';
export { bernoulliMask, sgdStep, adamStep } from './updates.js';
export { convolve2d, type ConvolveMode, type ConvolveOptions } from './convolve.js';
export { Random, setSeed, globalRandom } from './random.js';
export { getThreads, setThreads, nativeIsa, setConvAlgorithm } from './backends/native/index.js';
