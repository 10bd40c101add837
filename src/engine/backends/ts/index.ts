/** The TypeScript reference backend: simple, complete and correct; every other backend is checked against it. */
import type { Backend } from '../../backend.js';
import { conv2d, conv2dBackpropFilter, conv2dBackpropInput } from './conv.js';
import { batchNorm, batchNormGrad, biasActivation, biasActivationGrad, binary, unary } from './elementwise.js';
import { adamUpdate, sgdUpdate, softmaxCrossEntropy, softmaxCrossEntropyGrad } from './losses.js';
import { matmul } from './matmul.js';
import { broadcastTo, pad, permute, slice } from './movement.js';
import { avgPool2d, avgPool2dBackprop, maxPool2d, maxPool2dBackprop } from './pool.js';
import { reduce } from './reduce.js';

export function createTsBackend(): Backend {
  return {
    name: 'ts',
    unary, binary, biasActivation, biasActivationGrad, batchNorm, batchNormGrad,
    softmaxCrossEntropy, softmaxCrossEntropyGrad, sgdUpdate, adamUpdate, reduce, permute, broadcastTo, slice, pad, matmul,
    conv2d, conv2dBackpropInput, conv2dBackpropFilter,
    maxPool2d, maxPool2dBackprop, avgPool2d, avgPool2dBackprop,
  };
}
