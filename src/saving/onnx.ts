/**
 * ONNX export (opset 13): a model's inference graph with its weights, for ONNX runtimes and viewers such as Netron.
 * The graph keeps convlab's interface, NHWC inputs and outputs, and works in NCHW inside (ONNX's convolution and
 * pooling layout): one transpose after each 4-D input, one before each 4-D output and before Flatten and Reshape,
 * which read the NHWC order as Keras does. Inference semantics: dropout is the identity and batch normalization uses
 * its moving statistics. The protobuf encoding is protobufjs's, over the ONNX messages declared below (field numbers
 * from onnx.proto).
 */
import protobuf from 'protobufjs';
import type { Layer, LayerNode, SymbolicTensor } from '../nn/layer.js';
import type { Model } from '../nn/model.js';
import { pads2d } from '../nn/layers/convolutional/conv_utils.js';
import { convKernel } from './layouts.js';
import { WeightsFileError } from './safetensors.js';

const OPSET = 13;
const FLOAT = 1;
const INT64 = 7;
const ATTR = { FLOAT: 1, INT: 2, STRING: 3, INTS: 7 } as const;

const schema = protobuf.Root.fromJSON({
  nested: {
    onnx: {
      nested: {
        ModelProto: {
          fields: {
            ir_version: { type: 'int64', id: 1 },
            producer_name: { type: 'string', id: 2 },
            producer_version: { type: 'string', id: 3 },
            graph: { type: 'GraphProto', id: 7 },
            opset_import: { rule: 'repeated', type: 'OperatorSetIdProto', id: 8 },
          },
        },
        OperatorSetIdProto: { fields: { domain: { type: 'string', id: 1 }, version: { type: 'int64', id: 2 } } },
        GraphProto: {
          fields: {
            node: { rule: 'repeated', type: 'NodeProto', id: 1 },
            name: { type: 'string', id: 2 },
            initializer: { rule: 'repeated', type: 'TensorProto', id: 5 },
            input: { rule: 'repeated', type: 'ValueInfoProto', id: 11 },
            output: { rule: 'repeated', type: 'ValueInfoProto', id: 12 },
          },
        },
        NodeProto: {
          fields: {
            input: { rule: 'repeated', type: 'string', id: 1 },
            output: { rule: 'repeated', type: 'string', id: 2 },
            name: { type: 'string', id: 3 },
            op_type: { type: 'string', id: 4 },
            attribute: { rule: 'repeated', type: 'AttributeProto', id: 5 },
          },
        },
        AttributeProto: {
          fields: {
            name: { type: 'string', id: 1 },
            f: { type: 'float', id: 2 },
            i: { type: 'int64', id: 3 },
            s: { type: 'bytes', id: 4 },
            ints: { rule: 'repeated', type: 'int64', id: 8 },
            type: { type: 'int32', id: 20 },
          },
        },
        TensorProto: {
          fields: {
            dims: { rule: 'repeated', type: 'int64', id: 1 },
            data_type: { type: 'int32', id: 2 },
            name: { type: 'string', id: 8 },
            raw_data: { type: 'bytes', id: 9 },
          },
        },
        ValueInfoProto: { fields: { name: { type: 'string', id: 1 }, type: { type: 'TypeProto', id: 2 } } },
        TypeProto: {
          fields: { tensor_type: { type: 'Tensor', id: 1 } },
          nested: { Tensor: { fields: { elem_type: { type: 'int32', id: 1 }, shape: { type: 'TensorShapeProto', id: 2 } } } },
        },
        TensorShapeProto: {
          fields: { dim: { rule: 'repeated', type: 'Dimension', id: 1 } },
          nested: { Dimension: { fields: { dim_value: { type: 'int64', id: 1 }, dim_param: { type: 'string', id: 2 } } } },
        },
      },
    },
  },
});

type Attr = number | number[] | string | { float: number };
interface Node {
  op_type: string;
  input: string[];
  output: string[];
  name: string;
  attribute: Record<string, unknown>[];
}

/** What a value of the graph is: its ONNX name and whether it is a 4-D tensor held in NCHW. */
interface Value {
  name: string;
  nchw: boolean;
  rank: number;
}

const NHWC_TO_NCHW = [0, 3, 1, 2];
const NCHW_TO_NHWC = [0, 2, 3, 1];

class GraphBuilder {
  readonly nodes: Node[] = [];
  readonly initializers: Record<string, unknown>[] = [];
  private count = 0;

  fresh(base: string): string {
    return `${base}:${this.count++}`;
  }

  node(op: string, inputs: string[], attrs: Record<string, Attr> = {}, base = op): string {
    const output = this.fresh(base);
    const attribute = Object.entries(attrs).map(([name, v]) => {
      if (typeof v === 'string') return { name, type: ATTR.STRING, s: Buffer.from(v) };
      if (Array.isArray(v)) return { name, type: ATTR.INTS, ints: v };
      if (typeof v === 'object') return { name, type: ATTR.FLOAT, f: v.float };
      return { name, type: ATTR.INT, i: v };
    });
    this.nodes.push({ op_type: op, input: inputs, output: [output], name: output, attribute });
    return output;
  }

  constant(name: string, dims: readonly number[], data: Float32Array | BigInt64Array): string {
    const type = data instanceof BigInt64Array ? INT64 : FLOAT;
    const raw = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    this.initializers.push({ name, dims: [...dims], data_type: type, raw_data: raw });
    return name;
  }

  ints(name: string, values: readonly number[]): string {
    return this.constant(this.fresh(name), [values.length], BigInt64Array.from(values.map(BigInt)));
  }

  /** The value in NHWC (transposing it if it is held in NCHW). */
  nhwc(v: Value): string {
    return v.nchw ? this.node('Transpose', [v.name], { perm: NCHW_TO_NHWC }) : v.name;
  }
}

function unsupported(layer: Layer, what: string): never {
  throw new WeightsFileError(`ONNX export: layer '${layer.name}' (${layer.className}): ${what}`);
}

/** An activation by its Keras name, applied to a value (NCHW where 4-D: softmax takes the channel axis). */
function activation(g: GraphBuilder, name: string, x: Value, layer: Layer, alpha?: number): string {
  const channelAxis = x.nchw ? 1 : -1;
  switch (name) {
    case 'linear':
      return x.name;
    case 'relu':
      return g.node('Relu', [x.name]);
    case 'sigmoid':
      return g.node('Sigmoid', [x.name]);
    case 'tanh':
      return g.node('Tanh', [x.name]);
    case 'softmax':
      return g.node('Softmax', [x.name], { axis: channelAxis });
    case 'elu':
      return g.node('Elu', [x.name], { alpha: { float: 1 } });
    case 'selu':
      return g.node('Selu', [x.name]);
    case 'softplus':
      return g.node('Softplus', [x.name]);
    case 'softsign':
      return g.node('Softsign', [x.name]);
    case 'exponential':
      return g.node('Exp', [x.name]);
    case 'hard_sigmoid':
      return g.node('HardSigmoid', [x.name], { alpha: { float: 1 / 6 }, beta: { float: 0.5 } });
    case 'leaky_relu':
      return g.node('LeakyRelu', [x.name], { alpha: { float: alpha ?? 0.2 } });
    case 'swish':
    case 'silu':
      return g.node('Mul', [x.name, g.node('Sigmoid', [x.name])]);
    case 'gelu': {
      const half = g.constant(g.fresh('half'), [], Float32Array.of(0.5));
      const one = g.constant(g.fresh('one'), [], Float32Array.of(1));
      const root = g.constant(g.fresh('sqrt2'), [], Float32Array.of(Math.SQRT2));
      const erf = g.node('Erf', [g.node('Div', [x.name, root])]);
      return g.node('Mul', [g.node('Mul', [x.name, half]), g.node('Add', [erf, one])]);
    }
    default:
      return unsupported(layer, `the activation '${name}' has no ONNX form here`);
  }
}

function weight(layer: Layer, param: string): { name: string; data: Float32Array; shape: readonly number[] } | null {
  const w = layer.weights.find((v) => v.name.endsWith(`/${param}`));
  return w ? { name: w.name, data: w.value.data, shape: w.value.shape } : null;
}

/** Symmetric-or-not pads [top, bottom, left, right] as ONNX's [top, left, bottom, right]. */
const onnxPads = ([t, b, l, r]: readonly number[]) => [t, l, b, r];

function convertLayer(g: GraphBuilder, layer: Layer, inputs: Value[], node: LayerNode): Value {
  const cfg = layer.getConfig() as Record<string, unknown>;
  const x = inputs[0];
  const need4d = () => {
    if (!x.nchw) unsupported(layer, 'expects a 4-D (batch, height, width, channels) input');
  };
  const spatial = () => node.inputs[0].shape.slice(1, 3) as number[];
  switch (layer.className) {
    case 'Conv2D': {
      need4d();
      const kernel = weight(layer, 'kernel')!;
      const k = cfg.kernel_size as [number, number];
      const s = cfg.strides as [number, number];
      const d = cfg.dilation_rate as [number, number];
      const [h, w] = spatial();
      const pads = pads2d(h, w, k, s, cfg.padding as 'valid' | 'same', d);
      const ins = [
        x.name,
        g.constant(kernel.name, [kernel.shape[3], kernel.shape[2], k[0], k[1]], convKernel(kernel.data, kernel.shape, 'to OIHW')),
      ];
      const bias = weight(layer, 'bias');
      if (bias) ins.push(g.constant(bias.name, bias.shape, bias.data));
      const y = g.node('Conv', ins, { kernel_shape: k, strides: s, dilations: d, pads: onnxPads(pads) }, layer.name);
      return { name: activation(g, cfg.activation as string, { name: y, nchw: true, rank: 4 }, layer), nchw: true, rank: 4 };
    }
    case 'Dense': {
      if (x.rank !== 2) unsupported(layer, 'is applied to a tensor of rank other than 2; flatten it first');
      const kernel = weight(layer, 'kernel')!;
      const bias = weight(layer, 'bias');
      const ins = [x.name, g.constant(kernel.name, kernel.shape, kernel.data)];
      if (bias) ins.push(g.constant(bias.name, bias.shape, bias.data));
      const y = g.node('Gemm', ins, {}, layer.name);
      return { name: activation(g, cfg.activation as string, { name: y, nchw: false, rank: 2 }, layer), nchw: false, rank: 2 };
    }
    case 'MaxPooling2D':
    case 'AveragePooling2D': {
      need4d();
      const p = cfg.pool_size as [number, number];
      const s = cfg.strides as [number, number];
      const [h, w] = spatial();
      const pads = onnxPads(pads2d(h, w, p, s, cfg.padding as 'valid' | 'same'));
      const op = layer.className === 'MaxPooling2D' ? 'MaxPool' : 'AveragePool';
      const attrs: Record<string, Attr> = { kernel_shape: p, strides: s, pads };
      if (op === 'AveragePool') attrs.count_include_pad = 0;
      return { name: g.node(op, [x.name], attrs, layer.name), nchw: true, rank: 4 };
    }
    case 'GlobalAveragePooling2D':
    case 'GlobalMaxPooling2D': {
      need4d();
      const pooled = g.node(layer.className === 'GlobalAveragePooling2D' ? 'GlobalAveragePool' : 'GlobalMaxPool', [x.name], {}, layer.name);
      if (cfg.keepdims) return { name: pooled, nchw: true, rank: 4 };
      return { name: g.node('Flatten', [pooled], { axis: 1 }), nchw: false, rank: 2 };
    }
    case 'BatchNormalization': {
      const c = node.inputs[0].shape[node.inputs[0].shape.length - 1] as number;
      const gamma = weight(layer, 'gamma');
      const beta = weight(layer, 'beta');
      const mean = weight(layer, 'moving_mean')!;
      const variance = weight(layer, 'moving_variance')!;
      const scale = gamma
        ? g.constant(gamma.name, [c], gamma.data)
        : g.constant(g.fresh(`${layer.name}/ones`), [c], new Float32Array(c).fill(1));
      const shift = beta ? g.constant(beta.name, [c], beta.data) : g.constant(g.fresh(`${layer.name}/zeros`), [c], new Float32Array(c));
      // ONNX normalizes axis 1: a 2-D [batch, features] tensor has its features there too.
      if (!x.nchw && x.rank !== 2) unsupported(layer, 'normalizes a tensor of rank other than 2 or 4');
      const y = g.node(
        'BatchNormalization',
        [x.name, scale, shift, g.constant(mean.name, [c], mean.data), g.constant(variance.name, [c], variance.data)],
        { epsilon: { float: cfg.epsilon as number } },
        layer.name,
      );
      return { name: y, nchw: x.nchw, rank: x.rank };
    }
    case 'Activation':
      return { name: activation(g, cfg.activation as string, x, layer), nchw: x.nchw, rank: x.rank };
    case 'ReLU': {
      if (cfg.max_value !== null || cfg.threshold !== 0) unsupported(layer, 'max_value and threshold have no ONNX form here');
      const slope = cfg.negative_slope as number;
      return { name: slope ? activation(g, 'leaky_relu', x, layer, slope) : g.node('Relu', [x.name]), nchw: x.nchw, rank: x.rank };
    }
    case 'LeakyReLU':
      return { name: activation(g, 'leaky_relu', x, layer, cfg.negative_slope as number), nchw: x.nchw, rank: x.rank };
    case 'Dropout':
    case 'SpatialDropout2D':
      return x;
    case 'ZeroPadding2D': {
      need4d();
      const [[t, b], [l, r]] = cfg.padding as [[number, number], [number, number]];
      return { name: g.node('Pad', [x.name, g.ints('pads', [0, 0, t, l, 0, 0, b, r])], {}, layer.name), nchw: true, rank: 4 };
    }
    case 'Flatten':
      return { name: g.node('Flatten', [g.nhwc(x)], { axis: 1 }, layer.name), nchw: false, rank: 2 };
    case 'Reshape': {
      const target = cfg.target_shape as number[];
      const y = g.node('Reshape', [g.nhwc(x), g.ints('shape', [-1, ...target])], {}, layer.name);
      if (target.length !== 3) return { name: y, nchw: false, rank: target.length + 1 };
      return { name: g.node('Transpose', [y], { perm: NHWC_TO_NCHW }), nchw: true, rank: 4 };
    }
    case 'Add':
      return { name: inputs.slice(1).reduce((acc, v) => g.node('Add', [acc, v.name], {}, layer.name), x.name), nchw: x.nchw, rank: x.rank };
    case 'Concatenate': {
      const rank = x.rank;
      let axis = cfg.axis as number;
      if (axis < 0) axis += rank;
      // In NCHW the channel axis (3) is 1, height 2, width 3.
      const onnxAxis = x.nchw ? [0, 2, 3, 1][axis] : axis;
      return {
        name: g.node(
          'Concat',
          inputs.map((v) => v.name),
          { axis: onnxAxis },
          layer.name,
        ),
        nchw: x.nchw,
        rank,
      };
    }
    default:
      return unsupported(layer, 'this layer has no ONNX form here');
  }
}

function valueInfo(name: string, shape: readonly (number | null)[]): Record<string, unknown> {
  return {
    name,
    type: { tensor_type: { elem_type: FLOAT, shape: { dim: shape.map((d) => (d === null ? { dim_param: 'batch' } : { dim_value: d })) } } },
  };
}

/** The model as an ONNX ModelProto, encoded. */
export function toOnnx(model: Model, producerVersion = '0.1.0'): Uint8Array {
  const g = new GraphBuilder();
  const values = new Map<SymbolicTensor, Value>();
  for (const input of model.inputs) {
    const name = input.layer.name;
    const rank = input.shape.length;
    values.set(
      input,
      rank === 4 ? { name: g.node('Transpose', [name], { perm: NHWC_TO_NCHW }), nchw: true, rank } : { name, nchw: false, rank },
    );
  }
  for (const node of model.nodes) {
    const ins = node.inputs.map((s) => values.get(s)!);
    values.set(node.output, convertLayer(g, node.layer, ins, node));
  }
  const outputs = model.outputs.map((o) => {
    const v = values.get(o)!;
    // Each output under its layer's name, in NHWC.
    g.nodes.push({ op_type: 'Identity', input: [g.nhwc(v)], output: [o.layer.name], name: `${o.layer.name}:output`, attribute: [] });
    return valueInfo(o.layer.name, o.shape);
  });
  const ModelProto = schema.lookupType('onnx.ModelProto');
  const message = ModelProto.fromObject({
    ir_version: 7,
    producer_name: 'convlab',
    producer_version: producerVersion,
    opset_import: [{ domain: '', version: OPSET }],
    graph: {
      name: model.name,
      node: g.nodes,
      initializer: g.initializers,
      input: model.inputs.map((i) => valueInfo(i.layer.name, i.shape)),
      output: outputs,
    },
  });
  return ModelProto.encode(message).finish();
}

/** Whether a file is an ONNX model that convlab wrote (so an export may replace it). */
export function isConvlabOnnx(bytes: Uint8Array): boolean {
  try {
    const ModelProto = schema.lookupType('onnx.ModelProto');
    return ModelProto.toObject(ModelProto.decode(bytes)).producer_name === 'convlab';
  } catch {
    return false;
  }
}
