/** The TypeScript reference backend: simple, complete and correct; every other backend is checked against it. */
import type { Backend } from '../../backend.js';
import { conv2d, conv2dBackpropFilter, conv2dBackpropInput } from './conv.js';
import { batchNorm, batchNormGrad, biasActivation, biasActivationGrad, binary, unary } from './elementwise.js';
import { adamUpdate, bernoulliMask, sgdUpdate, softmaxCrossEntropy, softmaxCrossEntropyGrad } from './losses.js';
import { matmul } from './matmul.js';
import { broadcastTo, pad, permute, slice } from './movement.js';
import { avgPool2d, avgPool2dBackprop, maxPool2d, maxPool2dBackprop } from './pool.js';
import { reduce } from './reduce.js';

export function createTsBackend(): Backend {
  return {
    name: 'ts',
    conv2d(x, xShape, w, wShape, attrs, epilogue) {
      const y = conv2d(x, xShape, w, wShape, attrs);
      if (!epilogue) return y;
      const outShape = [xShape[0], y.length / xShape[0] / wShape[3], wShape[3]];
      return biasActivation(y, outShape, epilogue.bias, epilogue.act, epilogue.alpha);
    },
    unary,
    binary,
    biasActivation,
    biasActivationGrad,
    batchNorm,
    batchNormGrad,
    softmaxCrossEntropy,
    softmaxCrossEntropyGrad,
    sgdUpdate,
    adamUpdate,
    bernoulliMask,
    reduce,
    permute,
    broadcastTo,
    slice,
    pad,
    matmul,
    conv2dBackpropInput,
    conv2dBackpropFilter,
    conv2dBackprop(x, xShape, w, wShape, dy, dyShape, attrs, wantInput, wantFilter) {
      return [
        wantInput ? conv2dBackpropInput(dy, dyShape, w, wShape, xShape, attrs) : null,
        wantFilter ? conv2dBackpropFilter(x, xShape, dy, dyShape, wShape, attrs) : null,
      ];
    },
    maxPool2d,
    maxPool2dBackprop,
    avgPool2d,
    avgPool2dBackprop,
  };
}
