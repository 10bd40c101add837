/** InputLayer and Input(): the entry points of a functional graph. */
import { z } from 'zod';
import { Layer, SymbolicTensor, type LayerShape } from '../../layer.js';
import { parseArgs } from '../../schema.js';
import type { Tensor } from '../../../engine/tensor.js';

const schema = z.strictObject({
  shape: z.array(z.number().int().positive().nullable()).min(1).optional(),
  batchShape: z.array(z.number().int().positive().nullable()).min(2).optional(),
  batchInputShape: z.array(z.number().int().positive().nullable()).min(2).optional(),
  batchSize: z.number().int().positive().optional(),
  name: z.string().min(1).optional(),
  dtype: z.literal('float32').optional(),
});
export type InputArgs = z.input<typeof schema>;

export class InputLayer extends Layer {
  static readonly className = 'InputLayer';
  readonly batchShape: LayerShape;
  readonly output: SymbolicTensor;

  constructor(args: InputArgs) {
    const a = parseArgs(schema, args, 'InputLayer');
    super({ name: a.name });
    const batchShape = a.batchShape ?? a.batchInputShape ?? (a.shape ? [a.batchSize ?? null, ...a.shape] : undefined);
    if (!batchShape) throw new Error('InputLayer needs a shape, e.g. Input({shape: [28, 28, 1]})');
    this.batchShape = batchShape;
    this.built = true;
    this.output = new SymbolicTensor(this.batchShape, this);
    const node = { layer: this as Layer, inputs: [], output: this.output };
    this.output.node = node;
    this.inboundNodes.push(node);
  }

  call(inputs: Tensor | Tensor[]): Tensor {
    return inputs as Tensor;
  }

  computeOutputShape(): LayerShape {
    return this.batchShape;
  }

  override getConfig(): Record<string, unknown> {
    return { name: this.name, batch_shape: [...this.batchShape] };
  }
}

/** A symbolic input of the given per-sample shape (batch dimension left out). */
export function Input(args: InputArgs): SymbolicTensor {
  return new InputLayer(args).output;
}
