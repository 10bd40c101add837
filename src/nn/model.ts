/**
 * Functional models and Sequential. A Model is a graph of layer nodes between symbolic inputs and outputs, run in
 * topological order. Sequential builds such a graph from its layer list once the input shape is known, so both kinds
 * share one execution path. Training (compile, fit, evaluate, trainOnBatch) lives in src/train, which adds those
 * methods to Model: nn knows nothing of optimizers, losses or callbacks.
 */
import { tidy } from '../engine/memory.js';
import { noGrad, Tensor } from '../engine/tensor.js';
import { range, takeRows } from '../data/source.js';
import {
  inferenceContext,
  type Layer,
  setAll,
  type SymbolicTensor,
  type CallContext,
  type LayerNode,
  type LayerShape,
  type Weight,
} from './layer.js';
import type { NestedArray } from '../engine/ops.js';
import { Input, InputLayer } from './layers/core/input_layer.js';
import { uniqueName } from './naming.js';
import { formatSummary } from './summary.js';

export interface ModelArgs {
  inputs: SymbolicTensor | SymbolicTensor[];
  outputs: SymbolicTensor | SymbolicTensor[];
  name?: string;
}

interface Graph {
  inputs: SymbolicTensor[];
  outputs: SymbolicTensor[];
  /** Nodes in execution order, inputs excluded. */
  nodes: LayerNode[];
  /** Every layer once, in execution order, InputLayers first. */
  layers: Layer[];
}

export class Model {
  name: string;
  private graph: Graph | null = null;

  constructor(args?: ModelArgs, defaultName = 'functional') {
    this.name = args?.name ?? uniqueName(defaultName);
    if (args) this.graph = buildGraph(toList(args.inputs), toList(args.outputs));
  }

  protected setGraph(inputs: SymbolicTensor[], outputs: SymbolicTensor[]): void {
    this.graph = buildGraph(inputs, outputs);
  }

  protected getGraph(): Graph {
    if (!this.graph) throw new Error(`model '${this.name}' has no graph yet`);
    return this.graph;
  }

  get isSequential(): boolean {
    return false;
  }

  get inputs(): SymbolicTensor[] {
    return this.getGraph().inputs;
  }

  get outputs(): SymbolicTensor[] {
    return this.getGraph().outputs;
  }

  get nodes(): LayerNode[] {
    return this.getGraph().nodes;
  }

  /** All layers including InputLayers. */
  get allLayers(): Layer[] {
    return this.getGraph().layers;
  }

  /** Layers without the InputLayers, as Keras' model.layers lists them for Sequential. */
  get layers(): Layer[] {
    return this.allLayers.filter((l) => !(l instanceof InputLayer));
  }

  getLayer(nameOrIndex: string | number): Layer {
    const layers = this.layers;
    const layer = typeof nameOrIndex === 'number' ? layers[nameOrIndex] : layers.find((l) => l.name === nameOrIndex);
    if (!layer)
      throw new Error(
        `model '${this.name}' has no layer ${JSON.stringify(nameOrIndex)}: its layers are ${layers.map((l) => l.name).join(', ')}`,
      );
    return layer;
  }

  /**
   * Feature maps: the activations of the chosen layers (by index in `layers` or by name) for a batch, in inference
   * mode. It runs a model over the same graph and layers, so the weights are shared, not copied.
   */
  featureMaps(layers: readonly (string | number)[], x: Tensor | Tensor[]): Tensor[] {
    const wanted = layers.map((l) => this.getLayer(l));
    const outputs = wanted.map((layer) => {
      const node = this.nodes.find((n) => n.layer === layer);
      if (!node) throw new Error(`layer '${layer.name}' is not part of model '${this.name}'`);
      return node.output;
    });
    return new Model({ inputs: this.inputs, outputs, name: `${this.name}_features` }).predictBatch(x);
  }

  /** Output names: the names of the layers producing each output. */
  get outputNames(): string[] {
    return this.outputs.map((o) => o.layer.name);
  }

  get inputNames(): string[] {
    return this.inputs.map((i) => i.layer.name);
  }

  get weights(): Weight[] {
    const seen = new Set<Weight>();
    for (const l of this.allLayers) for (const w of l.weights) seen.add(w);
    return [...seen];
  }

  get trainableWeights(): Weight[] {
    return this.allLayers.flatMap((l) => l.trainableWeights).filter((w, i, all) => all.indexOf(w) === i);
  }

  get nonTrainableWeights(): Weight[] {
    return this.allLayers.flatMap((l) => l.nonTrainableWeights).filter((w, i, all) => all.indexOf(w) === i);
  }

  countParams(): number {
    return this.weights.reduce((n, w) => n + w.value.size, 0);
  }

  /** Runs the graph. Returns one tensor per output. */
  call(inputs: Tensor | Tensor[], ctx: CallContext = inferenceContext()): Tensor[] {
    const graph = this.getGraph();
    const xs = Array.isArray(inputs) ? inputs : [inputs];
    if (xs.length !== graph.inputs.length) {
      throw new Error(`model '${this.name}' takes ${graph.inputs.length} input(s) (${this.inputNames.join(', ')}), got ${xs.length}`);
    }
    const values = new Map<SymbolicTensor, Tensor>();
    graph.inputs.forEach((s, i) => {
      checkInputShape(xs[i], s.shape, `input '${s.layer.name}' of model '${this.name}'`);
      values.set(s, xs[i]);
    });
    for (const node of graph.nodes) {
      const args = node.inputs.map((s) => values.get(s) as Tensor);
      values.set(node.output, node.layer.invoke(args.length === 1 && !isMultiInput(node) ? args[0] : args, ctx));
    }
    return graph.outputs.map((o) => values.get(o) as Tensor);
  }

  /** Inference on a batch: dropout off, moving statistics used, no graph recorded. */
  predictBatch(inputs: Tensor | Tensor[]): Tensor[] {
    // Intermediate activations go back to the buffer pool; the outputs are kept.
    return tidy(() => noGrad(() => this.call(inputs, inferenceContext())));
  }

  /**
   * Outputs for every sample, computed in batches: a tensor for a model with one output, as Keras returns one
   * array, and a list of tensors (one per output) for a model with several.
   */
  predict(x: Tensor | Tensor[], options: { batchSize?: number } = {}): Tensor | Tensor[] {
    const xs = Array.isArray(x) ? x : [x];
    const n = xs[0].shape[0];
    const batchSize = options.batchSize ?? 256;
    const parts: Tensor[][] = this.outputs.map(() => []);
    for (let start = 0; start < n; start += batchSize) {
      const idx = range(start, Math.min(n, start + batchSize));
      this.predictBatch(xs.map((t) => takeRows(t, idx))).forEach((o, i) => parts[i].push(o));
    }
    const outputs = parts.map((ps) => concatRows(ps, n));
    return outputs.length === 1 ? outputs[0] : outputs;
  }

  /** Copies of every weight of the model, layer by layer (Keras' get_weights). */
  getWeights(): Tensor[] {
    return this.weights.map((w) => new Tensor(w.value.data.slice(), w.value.shape));
  }

  /** Sets every weight of the model in getWeights' order, each checked against its weight's shape. */
  setWeights(values: readonly (Tensor | ArrayLike<number> | readonly NestedArray[])[]): void {
    setAll(this.weights, values, `model '${this.name}'`);
  }

  summary(options: { print?: (line: string) => void } = {}): string {
    const text = formatSummary(this);
    (options.print ?? console.log)(text);
    return text;
  }

  /** Keras-style architecture config. */
  getConfig(): Record<string, unknown> {
    const graph = this.getGraph();
    const ref = (s: SymbolicTensor) => [s.layer.name, s.layer.inboundNodes.indexOf(s.node), 0];
    return {
      class_name: 'Functional',
      config: {
        name: this.name,
        layers: graph.layers.map((l) => ({
          class_name: l.className,
          name: l.name,
          config: l.getConfig(),
          inbound_nodes: l.inboundNodes.filter((n) => graph.nodes.includes(n)).map((n) => n.inputs.map(ref)),
        })),
        input_layers: graph.inputs.map(ref),
        output_layers: graph.outputs.map(ref),
      },
    };
  }
}

/** Batches of rows, in order, as one tensor of n rows. */
function concatRows(parts: Tensor[], n: number): Tensor {
  const row = parts[0].size / parts[0].shape[0];
  const data = new Float32Array(n * row);
  let off = 0;
  for (const p of parts) {
    data.set(p.data, off);
    off += p.size;
  }
  return new Tensor(data, [n, ...parts[0].shape.slice(1)]);
}

function isMultiInput(node: LayerNode): boolean {
  return node.inputs.length > 1 || node.layer.className === 'Add' || node.layer.className === 'Concatenate';
}

function toList<T>(x: T | T[]): T[] {
  return Array.isArray(x) ? x : [x];
}

function checkInputShape(x: Tensor, expected: LayerShape, what: string): void {
  const ok = x.rank === expected.length && expected.every((d, i) => d === null || d === x.shape[i]);
  if (!ok) {
    const fmt = (s: readonly (number | null)[]) => `(${s.map((d) => d ?? 'None').join(', ')})`;
    throw new Error(`${what} expects shape ${fmt(expected)}, got ${fmt(x.shape)}`);
  }
}

function buildGraph(inputs: SymbolicTensor[], outputs: SymbolicTensor[]): Graph {
  if (inputs.length === 0 || outputs.length === 0) throw new Error('a model needs at least one input and one output');
  for (const i of inputs) {
    if (!(i.layer instanceof InputLayer)) throw new Error(`model inputs must come from Input(), got the output of layer '${i.layer.name}'`);
  }
  // Iterative post-order DFS from the outputs: every node after the nodes that feed it.
  const order: LayerNode[] = [];
  const visited = new Set<LayerNode>();
  const stack: [LayerNode, number][] = outputs.map((o) => [o.node, 0] as [LayerNode, number]).reverse();
  while (stack.length > 0) {
    const top = stack[stack.length - 1];
    const [node, next] = top;
    if (next === 0 && visited.has(node)) {
      stack.pop();
      continue;
    }
    if (next < node.inputs.length) {
      top[1]++;
      const child = node.inputs[next].node;
      if (!visited.has(child)) stack.push([child, 0]);
    } else {
      stack.pop();
      if (!visited.has(node)) {
        visited.add(node);
        order.push(node);
      }
    }
  }
  const nodes = order.filter((n) => !(n.layer instanceof InputLayer));
  for (const n of order) {
    if (n.layer instanceof InputLayer && !inputs.includes(n.output)) {
      throw new Error(`the graph is disconnected: it needs input '${n.layer.name}', which is not among the model's inputs`);
    }
  }
  const layers: Layer[] = [];
  for (const i of inputs) if (!layers.includes(i.layer)) layers.push(i.layer);
  for (const n of nodes) if (!layers.includes(n.layer)) layers.push(n.layer);
  const names = new Set<string>();
  for (const l of layers) {
    if (names.has(l.name)) throw new Error(`two layers are named '${l.name}': layer names must be unique in a model`);
    names.add(l.name);
  }
  return { inputs, outputs, nodes, layers };
}

/**
 * A linear stack of layers; the first is an InputLayer or has an input shape. Layers are built as they are added
 * (as in Keras), so their weights are drawn in order from the seed at construction time.
 */
export class Sequential extends Model {
  private readonly stack: Layer[] = [];
  private input: SymbolicTensor | null = null;
  private output: SymbolicTensor | null = null;

  constructor(layers: Layer[] = [], options: { name?: string } = {}) {
    super(undefined, 'sequential');
    if (options.name) this.name = options.name;
    for (const l of layers) this.add(l);
  }

  override get isSequential(): boolean {
    return true;
  }

  add(layer: Layer): this {
    if (layer instanceof InputLayer) {
      if (this.stack.length > 0) throw new Error('an InputLayer can only be the first layer of a Sequential model');
      this.stack.push(layer);
      this.input = this.output = layer.output;
      return this;
    }
    const index = this.stack.length;
    this.stack.push(layer);
    if (index === 0 && layer.batchInputShape) this.input = this.output = Input({ batchShape: [...layer.batchInputShape] });
    if (this.output) {
      try {
        this.output = layer.apply(this.output);
      } catch (e) {
        this.stack.pop();
        throw new Error(`layer ${index} (${layer.className} '${layer.name}'): ${(e as Error).message}`);
      }
      this.setGraph([this.input as SymbolicTensor], [this.output]);
    }
    return this;
  }

  protected override getGraph() {
    if (this.stack.length === 0) throw new Error(`Sequential model '${this.name}' has no layers`);
    if (!this.output) {
      throw new Error(
        `Sequential model '${this.name}' does not know its input shape: start it with Input({shape}) or give the first layer inputShape`,
      );
    }
    return super.getGraph();
  }

  override getConfig(): Record<string, unknown> {
    const graph = this.getGraph();
    return {
      class_name: 'Sequential',
      config: {
        name: this.name,
        layers: graph.layers.map((l) => ({ class_name: l.className, config: l.getConfig() })),
      },
    };
  }
}
