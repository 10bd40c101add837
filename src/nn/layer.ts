/**
 * The Layer base class and the symbolic graph. A layer lives Keras' life: constructor (store config) →
 * build(inputShape) (create weights) → call(inputs, ctx) → computeOutputShape → getConfig. Applying a layer to
 * SymbolicTensors records a node; Model runs those nodes in order on real tensors.
 */
import { getInitializer, type InitializerSpec } from './initializers.js';
import { toSnakeCase, uniqueName } from './naming.js';
import { getRegularizer, serializeRegularizer, type Regularizer, type RegularizerSpec } from './regularizers.js';
import type { BaseArgs } from './schema.js';
import { div, tensor, type NestedArray } from '../engine/ops.js';
import { globalRandom, Random } from '../engine/random.js';
import { Tensor } from '../engine/tensor.js';

/** A shape with the batch dimension (null when unknown) first. */
export type LayerShape = readonly (number | null)[];

export interface CallContext {
  /** Dropout and BatchNormalization behave differently in training. */
  readonly training: boolean;
  /** Source of dropout masks; seeded by the model. */
  readonly rng: Random;
  /** Collects activity-regularization losses. */
  addLoss(loss: Tensor): void;
}

export function inferenceContext(): CallContext {
  return { training: false, rng: new Random(0), addLoss: () => undefined };
}

/** A weight: a tensor updated in place by optimizers (trainable) or by the layer itself (moving statistics). */
export class Weight {
  constructor(
    readonly name: string,
    readonly value: Tensor,
    readonly trainable: boolean,
    readonly regularizer?: Regularizer,
  ) {}

  get shape(): readonly number[] {
    return this.value.shape;
  }

  /** Overwrites the values in place, so every reference to this weight sees them. */
  assign(values: ArrayLike<number>): void {
    if (values.length !== this.value.size) {
      throw new Error(`weight ${this.name} has ${this.value.size} values, got ${values.length}`);
    }
    this.value.data.set(values);
  }
}

export interface LayerNode {
  readonly layer: Layer;
  readonly inputs: readonly SymbolicTensor[];
  readonly output: SymbolicTensor;
}

/** A placeholder for a tensor in a functional graph: its shape and the node that makes it. */
export class SymbolicTensor {
  node!: LayerNode;
  constructor(
    readonly shape: LayerShape,
    readonly layer: Layer,
  ) {}
}

export interface LayerClass {
  readonly className: string;
  new (args: never): Layer;
}

export abstract class Layer {
  readonly name: string;
  private isTrainable: boolean;
  built = false;
  readonly weights: Weight[] = [];
  readonly inboundNodes: LayerNode[] = [];
  /** Input shape declared on the layer (Keras' input_shape), with the batch dimension. */
  readonly batchInputShape: LayerShape | undefined;
  readonly activityRegularizer: Regularizer | undefined;

  protected constructor(args: BaseArgs) {
    this.name = args.name ?? uniqueName(toSnakeCase(this.className));
    this.isTrainable = args.trainable ?? true;
    this.batchInputShape = args.inputShape ? [args.batchSize ?? null, ...args.inputShape] : undefined;
    this.activityRegularizer = args.activityRegularizer ? getRegularizer(args.activityRegularizer as RegularizerSpec) : undefined;
  }

  get className(): string {
    return (this.constructor as LayerClass).className;
  }

  /** Creates the weights once the input shape is known. */
  build(_inputShape: LayerShape | LayerShape[]): void {
    this.built = true;
  }

  abstract call(inputs: Tensor | Tensor[], ctx: CallContext): Tensor;

  abstract computeOutputShape(inputShape: LayerShape | LayerShape[]): LayerShape;

  /** Keras-style config with snake_case keys; subclasses add their own arguments. */
  getConfig(): Record<string, unknown> {
    const config: Record<string, unknown> = { name: this.name, trainable: this.trainable };
    if (this.batchInputShape) config.batch_input_shape = [...this.batchInputShape];
    if (this.activityRegularizer) config.activity_regularizer = serializeRegularizer(this.activityRegularizer);
    return config;
  }

  protected addWeight(
    name: string,
    shape: readonly number[],
    init: InitializerSpec,
    options: { trainable?: boolean; regularizer?: Regularizer } = {},
  ): Weight {
    const trainable = options.trainable ?? true;
    const data = getInitializer(init).init(shape, globalRandom());
    const w = new Weight(`${this.name}/${name}`, new Tensor(data, shape, trainable && this.trainable), trainable, options.regularizer);
    this.weights.push(w);
    return w;
  }

  /**
   * Whether training updates the layer (Keras' layer.trainable). A frozen layer's weights get no gradient and no
   * optimizer state, count as non-trainable, and a frozen BatchNormalization normalizes with its moving statistics.
   */
  get trainable(): boolean {
    return this.isTrainable;
  }

  set trainable(value: boolean) {
    this.isTrainable = value;
    for (const w of this.weights) w.value.requiresGrad = value && w.trainable;
  }

  get trainableWeights(): Weight[] {
    return this.trainable ? this.weights.filter((w) => w.trainable) : [];
  }

  get nonTrainableWeights(): Weight[] {
    return this.trainable ? this.weights.filter((w) => !w.trainable) : [...this.weights];
  }

  countParams(): number {
    return this.weights.reduce((n, w) => n + w.value.size, 0);
  }

  /** Copies of the layer's weights, in order (Keras' get_weights). */
  getWeights(): Tensor[] {
    return this.weights.map((w) => new Tensor(w.value.data.slice(), w.value.shape));
  }

  /** Sets every weight, in getWeights' order; each value must have its weight's shape (Keras' set_weights). */
  setWeights(values: readonly (Tensor | ArrayLike<number> | readonly NestedArray[])[]): void {
    setAll(this.weights, values, `${this.className} '${this.name}'`);
  }

  /**
   * Applies the layer: to symbolic inputs, it records a node of a functional graph (building the layer on first
   * use); to real tensors, it computes, as Keras' layer(x, training=...) does (inference by default).
   */
  apply(inputs: SymbolicTensor | SymbolicTensor[]): SymbolicTensor;
  apply(inputs: Tensor | Tensor[], options?: { training?: boolean; rng?: Random }): Tensor;
  apply(
    inputs: SymbolicTensor | SymbolicTensor[] | Tensor | Tensor[],
    options: { training?: boolean; rng?: Random } = {},
  ): SymbolicTensor | Tensor {
    const first = Array.isArray(inputs) ? inputs[0] : inputs;
    if (first instanceof Tensor) {
      return this.invoke(inputs as Tensor | Tensor[], {
        training: options.training ?? false,
        rng: options.rng ?? globalRandom(),
        addLoss: () => undefined,
      });
    }
    return this.applySymbolic(inputs as SymbolicTensor | SymbolicTensor[]);
  }

  private applySymbolic(inputs: SymbolicTensor | SymbolicTensor[]): SymbolicTensor {
    const list = Array.isArray(inputs) ? inputs : [inputs];
    const shapes = list.map((s) => s.shape);
    const shapeArg = Array.isArray(inputs) ? shapes : shapes[0];
    if (!this.built) {
      this.build(shapeArg);
      this.built = true;
    }
    const output = new SymbolicTensor(this.computeOutputShape(shapeArg), this);
    const node: LayerNode = { layer: this, inputs: list, output };
    output.node = node;
    this.inboundNodes.push(node);
    return output;
  }

  /** Runs the layer on real tensors, adding any activity-regularization loss. */
  invoke(inputs: Tensor | Tensor[], ctx: CallContext): Tensor {
    if (!this.built) {
      this.build(Array.isArray(inputs) ? inputs.map((t) => [null, ...t.shape.slice(1)]) : [null, ...inputs.shape.slice(1)]);
      this.built = true;
    }
    const y = this.call(inputs, ctx);
    if (this.activityRegularizer) {
      // tf.keras divides the activity penalty by the batch size, so its strength does not depend on it.
      ctx.addLoss(div(this.activityRegularizer.penalty(y), y.shape[0]));
    }
    return y;
  }
}

/** Sets weights from values in order, checking the count and each shape before changing any. */
export function setAll(
  weights: readonly Weight[],
  values: readonly (Tensor | ArrayLike<number> | readonly NestedArray[])[],
  owner: string,
): void {
  if (weights.length === 0)
    throw new Error(`${owner} has no weights yet: build it first (apply it to an input, or call build(inputShape)), then set its weights`);
  if (values.length !== weights.length)
    throw new Error(
      `${owner}.setWeights: expected ${weights.length} arrays (${weights.map((w) => `${w.name} [${w.shape.join(', ')}]`).join(', ')}), got ${values.length}`,
    );
  const arrays = values.map((v, i) => {
    const w = weights[i];
    const t = v instanceof Tensor ? v : Array.isArray(v) && v.some((e) => Array.isArray(e)) ? tensor(v as readonly NestedArray[]) : null;
    if (t && (t.shape.length !== w.shape.length || t.shape.some((d, k) => d !== w.shape[k]))) {
      throw new Error(
        `${owner}.setWeights: array ${i} has shape [${t.shape.join(', ')}], weight ${w.name} has shape [${w.shape.join(', ')}]`,
      );
    }
    const data = t ? t.data : (v as ArrayLike<number>);
    if (data.length !== w.value.size)
      throw new Error(
        `${owner}.setWeights: array ${i} has ${data.length} values, weight ${w.name} [${w.shape.join(', ')}] has ${w.value.size}`,
      );
    return data;
  });
  arrays.forEach((a, i) => weights[i].assign(a));
}

/** Narrows layer inputs to one tensor, for single-input layers. */
export function single<T>(inputs: T | T[], layer: Layer): T {
  if (Array.isArray(inputs)) {
    if (inputs.length !== 1) throw new Error(`${layer.className} '${layer.name}' takes one input, got ${inputs.length}`);
    return inputs[0];
  }
  return inputs;
}

export function formatLayerShape(shape: LayerShape): string {
  const parts = shape.map((d) => (d === null ? 'None' : String(d)));
  return `(${parts.join(', ')}${parts.length === 1 ? ',' : ''})`;
}
