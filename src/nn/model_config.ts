/** Models from the Keras-style architecture config that Model.getConfig() writes (Keras' model_from_config). */
import { Input, InputLayer } from './layers/core/input_layer.js';
import { createLayer } from './layers/index.js';
import type { Layer, SymbolicTensor } from './layer.js';
import { Model, Sequential } from './model.js';
import { snakeToCamel } from './naming.js';

/** Layer arguments from a Keras config: snake_case → camelCase, batch_input_shape → inputShape. */
function layerArgs(config: Record<string, unknown>): Record<string, unknown> {
  const args: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(config)) {
    if (k === 'batch_input_shape' && Array.isArray(v)) {
      args.inputShape = v.slice(1);
      if (v[0] !== null) args.batchSize = v[0];
    } else if (v !== null) args[snakeToCamel(k)] = v;
  }
  return args;
}

/** Rebuilds a model from the config that Model.getConfig() writes. */
export function modelFromConfig(config: Record<string, unknown>): Model {
  const cls = config.class_name;
  const body = config.config as {
    name: string;
    layers: { class_name: string; name?: string; config: Record<string, unknown>; inbound_nodes?: [string, number, number][][] }[];
    input_layers?: [string, number, number][];
    output_layers?: [string, number, number][];
  };
  if (cls === 'Sequential') {
    const layers = body.layers.map((l) =>
      l.class_name === 'InputLayer' ? new InputLayer(layerArgs(l.config)) : createLayer(l.class_name, layerArgs(l.config)),
    );
    return new Sequential(layers, { name: body.name });
  }
  if (cls !== 'Functional' && cls !== 'Model') throw new Error(`unknown model class '${String(cls)}': expected Sequential or Functional`);
  const outputsOf = new Map<string, SymbolicTensor[]>();
  const byName = new Map<string, Layer>();
  const pending = [...body.layers];
  // Layers are stored in execution order, so each one's inputs exist when it is reached.
  for (const l of pending) {
    if (l.class_name === 'InputLayer') {
      const input = Input(layerArgs(l.config));
      byName.set(input.layer.name, input.layer);
      outputsOf.set(input.layer.name, [input]);
      continue;
    }
    const layer = createLayer(l.class_name, layerArgs(l.config));
    byName.set(layer.name, layer);
    const outs: SymbolicTensor[] = [];
    for (const node of l.inbound_nodes ?? []) {
      const ins = node.map(([name, idx]) => {
        const t = outputsOf.get(name)?.[idx];
        if (!t) throw new Error(`layer '${layer.name}' refers to '${name}'[${idx}], which comes later or does not exist`);
        return t;
      });
      outs.push(layer.apply(ins.length === 1 ? ins[0] : ins));
    }
    outputsOf.set(layer.name, outs);
  }
  const ref = ([name, idx]: [string, number, number]) => {
    const t = outputsOf.get(name)?.[idx];
    if (!t) throw new Error(`model refers to unknown tensor '${name}'[${idx}]`);
    return t;
  };
  return new Model({ inputs: (body.input_layers ?? []).map(ref), outputs: (body.output_layers ?? []).map(ref), name: body.name });
}
