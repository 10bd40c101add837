/**
 * Cross-entropies. From probabilities they follow Keras: normalize, clip to [ε, 1 − ε], then −Σ y·log p. When the
 * probabilities come straight from a softmax (or sigmoid) the loss uses its logits instead, which is exact and
 * cannot overflow, as Keras does for the same case.
 */
import { z } from 'zod';
import { clip, softplus } from '../../engine/composed.js';
import { abs, add, div, log, mul, neg, relu, softmaxCrossEntropy, sub, sum } from '../../engine/ops.js';
import { Tensor } from '../../engine/tensor.js';
import { parseArgs } from '../schema.js';
import { EPSILON, type Loss, makeLoss, reductionSchema } from './loss.js';

const categoricalSchema = z.strictObject({
  fromLogits: z.boolean().default(false),
  labelSmoothing: z.number().min(0).max(1).default(0),
  axis: z.literal(-1).optional(),
  reduction: reductionSchema,
});

/** The logits behind the predictions, when there are any: given as logits, or probabilities straight from a softmax. */
function logitsOf(yPred: Tensor, fromLogits: boolean): Tensor | null {
  if (fromLogits) return yPred;
  if (yPred.source?.kind === 'softmax') return yPred.source.logits;
  return null;
}

/** −Σ t·log p per row: the fused softmax cross-entropy on logits, or Keras' normalize-and-clip on probabilities. */
function crossentropy(targets: Tensor, yPred: Tensor, fromLogits: boolean): Tensor {
  const logits = logitsOf(yPred, fromLogits);
  if (logits) return softmaxCrossEntropy(logits, targets);
  const p = div(yPred, sum(yPred, -1, true));
  return neg(sum(mul(targets, log(clip(p, EPSILON, 1 - EPSILON))), -1));
}

function smooth(yTrue: Tensor, amount: number): Tensor {
  if (amount === 0) return yTrue;
  const classes = yTrue.shape[yTrue.rank - 1];
  return add(mul(yTrue, 1 - amount), amount / classes);
}

export function categoricalCrossentropy(args: z.input<typeof categoricalSchema> = {}): Loss {
  const a = parseArgs(categoricalSchema, args, 'categorical_crossentropy');
  return makeLoss(
    'categorical_crossentropy',
    { from_logits: a.fromLogits, label_smoothing: a.labelSmoothing },
    (yTrue, yPred) => {
      if (yTrue.rank !== yPred.rank || yTrue.shape[yTrue.rank - 1] !== yPred.shape[yPred.rank - 1]) {
        throw new Error(
          `categorical_crossentropy needs one-hot targets shaped like the predictions ` +
            `[${yPred.shape.join(', ')}], got [${yTrue.shape.join(', ')}]; for integer ` +
            `labels use sparse_categorical_crossentropy`,
        );
      }
      return crossentropy(smooth(yTrue, a.labelSmoothing), yPred, a.fromLogits);
    },
    a.reduction,
  );
}

/** Integer class labels [batch] or [batch, 1] as one-hot rows; rejects labels outside [0, classes). */
export function oneHot(labels: Tensor, classes: number): Tensor {
  const n = labels.shape[0];
  if (labels.size !== n) throw new Error(`sparse labels must have shape [batch] or [batch, 1], got [${labels.shape.join(', ')}]`);
  const data = new Float32Array(n * classes);
  for (let i = 0; i < n; i++) {
    const c = labels.data[i];
    if (!Number.isInteger(c) || c < 0 || c >= classes) {
      throw new Error(`label ${c} at batch position ${i} is out of range: expected an integer in [0, ${classes - 1}]`);
    }
    data[i * classes + c] = 1;
  }
  return new Tensor(data, [n, classes]);
}

const sparseSchema = z.strictObject({
  fromLogits: z.boolean().default(false),
  ignoreClass: z.number().int().nullable().optional(),
  axis: z.literal(-1).optional(),
  reduction: reductionSchema,
});

export function sparseCategoricalCrossentropy(args: z.input<typeof sparseSchema> = {}): Loss {
  const a = parseArgs(sparseSchema, args, 'sparse_categorical_crossentropy');
  return makeLoss(
    'sparse_categorical_crossentropy',
    { from_logits: a.fromLogits },
    (yTrue, yPred) => {
      const classes = yPred.shape[yPred.rank - 1];
      return crossentropy(oneHot(yTrue, classes), yPred, a.fromLogits);
    },
    a.reduction,
  );
}

const binarySchema = z.strictObject({
  fromLogits: z.boolean().default(false),
  labelSmoothing: z.number().min(0).max(1).default(0),
  axis: z.literal(-1).optional(),
  reduction: reductionSchema,
});

export function binaryCrossentropy(args: z.input<typeof binarySchema> = {}): Loss {
  const a = parseArgs(binarySchema, args, 'binary_crossentropy');
  return makeLoss(
    'binary_crossentropy',
    { from_logits: a.fromLogits, label_smoothing: a.labelSmoothing },
    (yTrue, yPred) => {
      const y = a.labelSmoothing ? add(mul(yTrue, 1 - a.labelSmoothing), 0.5 * a.labelSmoothing) : yTrue;
      const logits = a.fromLogits ? yPred : yPred.source?.kind === 'sigmoid' ? yPred.source.logits : null;
      let perElement: Tensor;
      if (logits) {
        // max(x, 0) − x·y + log(1 + exp(−|x|)): the stable form of sigmoid cross-entropy.
        perElement = add(sub(relu(logits), mul(logits, y)), softplus(neg(abs(logits))));
      } else {
        const p = clip(yPred, EPSILON, 1 - EPSILON);
        perElement = neg(add(mul(y, log(add(p, EPSILON))), mul(sub(1, y), log(add(sub(1, p), EPSILON)))));
      }
      const last = perElement.shape[perElement.rank - 1];
      return div(sum(perElement, -1), last);
    },
    a.reduction,
  );
}
