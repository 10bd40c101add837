/**
 * The `model:` block of a spec. Sequential:
 *   model: {input: [32, 32, 3], layers: [{Conv2D: {filters: 16, kernel_size: 3}}, ...]}
 * Functional: layers take a `name` and `inputs` (default: the previous layer), the model lists `inputs` (name →
 * shape) and `outputs` (layer names). Every mistake becomes a SpecError with its path, e.g.
 * model.layers[3].Conv2D.kernel_size.
 */
import { Input } from '../nn/layers/core/input_layer.js';
import { createLayer, getLayerClass, layerClassNames } from '../nn/layers/index.js';
import type { Layer, SymbolicTensor } from '../nn/layer.js';
import { resnetOn, RESNETS } from '../nn/applications/resnet.js';
import { Model, Sequential } from '../nn/model.js';
import { imagenetCheckpoint } from '../saving/applications.js';
import { loadStateDict, readWeightsFile } from '../saving/torch_weights.js';
import { snakeToCamel } from '../nn/naming.js';
import { SpecError, type SpecIssue } from '../nn/spec.js';

type Path = (string | number)[];

function fail(path: Path, message: string): never {
  throw new SpecError([{ path, message }]);
}

function isMap(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return `a list (${JSON.stringify(v).slice(0, 60)})`;
  if (typeof v === 'object') return 'a mapping';
  return `${typeof v} ${JSON.stringify(v)}`;
}

function parseShape(v: unknown, path: Path): number[] {
  if (!Array.isArray(v) || v.length === 0 || !v.every((d) => Number.isInteger(d) && (d as number) > 0)) {
    fail(path, `expected a shape such as [28, 28, 1] (positive integers, batch left out), found ${describe(v)}`);
  }
  return v as number[];
}

/** Suggests the layer name the user probably meant. */
function closest(name: string): string {
  const lower = name.toLowerCase().replace(/_/g, '');
  const hit = layerClassNames().find((n) => n.toLowerCase() === lower);
  return hit ? ` (did you mean '${hit}'?)` : '';
}

interface LayerEntry {
  className: string;
  args: Record<string, unknown>;
  name?: string;
  inputs?: string[];
  path: Path;
}

/** Keys that may stand beside a layer's class name in a functional model. */
const OUTER_KEYS = ['name', 'inputs'];

function parseLayerEntry(entry: unknown, path: Path): LayerEntry {
  let className: string;
  let raw: unknown;
  if (typeof entry === 'string') {
    className = entry;
    raw = {};
  } else if (isMap(entry) && Object.keys(entry).length === 1) {
    className = Object.keys(entry)[0];
    raw = entry[className] ?? {};
  } else if (isMap(entry) && Object.keys(entry).length > 1 && Object.keys(entry).filter((k) => !OUTER_KEYS.includes(k)).length === 1) {
    // {name: c1, inputs: image, Conv2D: {...}}: name and inputs beside the class read as if written inside it.
    className = Object.keys(entry).find((k) => !OUTER_KEYS.includes(k))!;
    const inner = entry[className] ?? {};
    if (!isMap(inner)) fail([...path, className], `expected a mapping of arguments, found ${describe(inner)}`);
    for (const k of OUTER_KEYS)
      if (k in entry && k in inner) fail([...path, k], `given twice: beside ${className} and inside it; keep one`);
    raw = { ...inner, ...Object.fromEntries(OUTER_KEYS.filter((k) => k in entry).map((k) => [k, entry[k]])) };
  } else {
    const keys = isMap(entry) ? Object.keys(entry).filter((k) => !OUTER_KEYS.includes(k)) : [];
    const found = !isMap(entry)
      ? describe(entry)
      : keys.length
        ? `a mapping with ${keys.length} keys that are not name or inputs (${keys.join(', ')}): one layer class per entry`
        : 'a mapping with no layer class';
    fail(
      path,
      `expected one layer written as {ClassName: {arguments}} (e.g. {Dense: {units: ` +
        `10}}; name and inputs may stand inside the arguments or beside the class ` +
        `name), found ${found}`,
    );
  }
  if (!getLayerClass(className))
    fail(path, `unknown layer '${className}'${closest(className)}: expected one of ${layerClassNames().join(', ')}`);
  if (!isMap(raw)) fail([...path, className], `expected a mapping of arguments, found ${describe(raw)}`);
  const args: Record<string, unknown> = {};
  let name: string | undefined;
  let inputs: string[] | undefined;
  for (const [key, value] of Object.entries(raw)) {
    if (key === 'inputs') {
      const list = typeof value === 'string' ? [value] : value;
      if (!Array.isArray(list) || list.length === 0 || !list.every((s) => typeof s === 'string')) {
        fail([...path, className, 'inputs'], `expected a layer or input name, or a list of them, found ${describe(value)}`);
      }
      inputs = list as string[];
      continue;
    }
    if (key === 'name') {
      if (typeof value !== 'string' || value === '')
        fail([...path, className, 'name'], `expected a non-empty string, found ${describe(value)}`);
      name = value;
    }
    args[snakeToCamel(key)] = value;
  }
  return { className, args, name, inputs, path };
}

function build(entry: LayerEntry): Layer {
  try {
    return createLayer(entry.className, entry.args);
  } catch (e) {
    if (e instanceof SpecError) throw e.within([...entry.path, entry.className]);
    fail([...entry.path, entry.className], (e as Error).message);
  }
}

function applyLayer(layer: Layer, inputs: SymbolicTensor | SymbolicTensor[], entry: LayerEntry): SymbolicTensor {
  try {
    return layer.apply(inputs);
  } catch (e) {
    fail([...entry.path, entry.className], (e as Error).message);
  }
}

const MODEL_KEYS = ['name', 'input', 'inputs', 'base', 'layers', 'outputs'];
const BASE_KEYS = ['weights', 'include_top', 'trainable', 'strict'];

/**
 * A pretrained base under the spec's layers: {resnet18: {weights: imagenet | FILE | null, include_top: false,
 * trainable: false, strict: true}}. Its layers are applied to `input`; weights load by PyTorch name.
 */
function applyBase(input: SymbolicTensor, spec: unknown, path: Path): SymbolicTensor {
  const names = Object.keys(RESNETS);
  if (!isMap(spec) || Object.keys(spec).length !== 1)
    fail(path, `expected one architecture, e.g. {resnet18: {weights: imagenet}}: one of ${names.join(', ')}`);
  const arch = Object.keys(spec)[0];
  if (!(arch in RESNETS)) fail([...path, arch], `unknown architecture: expected one of ${names.join(', ')}`);
  const args = spec[arch] ?? {};
  if (!isMap(args)) fail([...path, arch], `expected a mapping of arguments, found ${describe(args)}`);
  for (const k of Object.keys(args))
    if (!BASE_KEYS.includes(k)) fail([...path, arch, k], `unknown key: expected one of ${BASE_KEYS.join(', ')}`);
  const flag = (k: string, dflt: boolean) => {
    const v = args[k] ?? dflt;
    if (typeof v !== 'boolean') fail([...path, arch, k], `expected true or false, found ${describe(v)}`);
    return v;
  };
  const weights = args.weights ?? null;
  if (weights !== null && typeof weights !== 'string')
    fail([...path, arch, 'weights'], `expected imagenet, a weights file or null, found ${describe(weights)}`);
  const includeTop = flag('include_top', false);
  const output = resnetOn(input, RESNETS[arch], { includeTop });
  const base = new Model({ inputs: input, outputs: output, name: arch });
  if (weights !== null) {
    try {
      const file = weights === 'imagenet' ? imagenetCheckpoint(arch) : weights;
      const tensors = readWeightsFile(file).filter((t) => includeTop || !t.name.startsWith('fc.'));
      loadStateDict(base, tensors, { strict: flag('strict', true), source: file });
    } catch (e) {
      fail([...path, arch, 'weights'], (e as Error).message);
    }
  }
  if (!flag('trainable', true)) for (const layer of base.layers) layer.trainable = false;
  return output;
}

export function buildModelFromSpec(spec: unknown, path: Path = ['model']): Model {
  if (!isMap(spec)) fail(path, `expected a mapping with input and layers, found ${describe(spec)}`);
  const issues: SpecIssue[] = [];
  for (const k of Object.keys(spec))
    if (!MODEL_KEYS.includes(k)) issues.push({ path: [...path, k], message: `unknown key: expected one of ${MODEL_KEYS.join(', ')}` });
  if (issues.length) throw new SpecError(issues);
  if (spec.name !== undefined && typeof spec.name !== 'string') fail([...path, 'name'], `expected a string, found ${describe(spec.name)}`);
  // Under a base, layers may be left out (a base with its own top is a whole model).
  const layerList = spec.layers === undefined && spec.base !== undefined ? [] : spec.layers;
  if (!Array.isArray(layerList) || (layerList.length === 0 && spec.base === undefined))
    fail([...path, 'layers'], `expected a non-empty list of layers, found ${describe(spec.layers)}`);
  if (spec.base !== undefined && (spec.inputs !== undefined || spec.outputs !== undefined))
    fail([...path, 'base'], 'a base takes one input (model.input) and the layers after it; it does not combine with inputs and outputs');
  // Check every layer's arguments first, so one run reports all of them.
  const entries: LayerEntry[] = [];
  const built = new Map<LayerEntry, Layer>();
  layerList.forEach((e, i) => {
    try {
      const entry = parseLayerEntry(e, [...path, 'layers', i]);
      entries.push(entry);
      built.set(entry, build(entry));
    } catch (err) {
      if (!(err instanceof SpecError)) throw err;
      issues.push(...err.issues);
    }
  });
  if (issues.length) throw new SpecError(issues);
  const build2 = (entry: LayerEntry) => built.get(entry) as Layer;
  const functional = spec.inputs !== undefined || spec.outputs !== undefined || entries.some((e) => e.inputs);
  if (!functional) {
    if (spec.input === undefined) fail([...path, 'input'], 'missing: give the shape of one sample, e.g. input: [28, 28, 1]');
    const shape = parseShape(spec.input, [...path, 'input']);
    if (spec.base !== undefined) {
      const input = Input({ shape, name: 'input' });
      let y = applyBase(input, spec.base, [...path, 'base']);
      for (const entry of entries) y = applyLayer(build2(entry), y, entry);
      return new Model({ inputs: input, outputs: y, name: spec.name as string | undefined });
    }
    let x = Input({ shape });
    const layers: Layer[] = [x.layer];
    for (const entry of entries) {
      const layer = build2(entry);
      x = applyLayer(layer, x, entry);
      layers.push(layer);
    }
    return new Sequential(layers, { name: spec.name as string | undefined });
  }
  // Functional graph.
  const named = new Map<string, SymbolicTensor>();
  const inputs: SymbolicTensor[] = [];
  const declare = (name: string, shape: unknown, p: Path) => {
    const t = Input({ shape: parseShape(shape, p), name });
    named.set(name, t);
    inputs.push(t);
  };
  if (spec.inputs !== undefined) {
    if (!isMap(spec.inputs) || Object.keys(spec.inputs).length === 0)
      fail([...path, 'inputs'], `expected a mapping of input names to shapes, e.g. {image: [150, 150, 1]}, found ${describe(spec.inputs)}`);
    for (const [name, shape] of Object.entries(spec.inputs)) declare(name, shape, [...path, 'inputs', name]);
  } else if (spec.input !== undefined) {
    declare('input', spec.input, [...path, 'input']);
  } else {
    fail([...path, 'inputs'], 'missing: a functional model needs inputs, e.g. inputs: {image: [150, 150, 1]}');
  }
  let previous: SymbolicTensor | undefined = inputs.length === 1 ? inputs[0] : undefined;
  let last: SymbolicTensor | undefined;
  const used = new Set<SymbolicTensor>();
  for (const entry of entries) {
    let args: SymbolicTensor | SymbolicTensor[];
    if (entry.inputs) {
      const resolved = entry.inputs.map((n) => {
        const t = named.get(n);
        if (!t)
          fail(
            [...entry.path, entry.className, 'inputs'],
            `unknown input '${n}': expected an input or an earlier layer's name (${[...named.keys()].join(', ')})`,
          );
        return t;
      });
      args = resolved.length === 1 ? resolved[0] : resolved;
    } else {
      if (!previous)
        fail(
          [...entry.path, entry.className, 'inputs'],
          'missing: this layer has no previous layer to take its input from; name its inputs',
        );
      args = previous;
    }
    for (const t of Array.isArray(args) ? args : [args]) used.add(t);
    const layer = build2(entry);
    if (named.has(layer.name))
      fail([...entry.path, entry.className, 'name'], `'${layer.name}' is already used by an input or an earlier layer`);
    const out = applyLayer(layer, args, entry);
    named.set(layer.name, out);
    previous = out;
    last = out;
  }
  let outputs: SymbolicTensor[];
  if (spec.outputs === undefined) outputs = [last as SymbolicTensor];
  else {
    const list = typeof spec.outputs === 'string' ? [spec.outputs] : spec.outputs;
    if (!Array.isArray(list) || list.length === 0)
      fail([...path, 'outputs'], `expected a layer name or a list of layer names, found ${describe(spec.outputs)}`);
    outputs = list.map((n, i) => {
      const t = typeof n === 'string' ? named.get(n) : undefined;
      if (!t) fail([...path, 'outputs', i], `unknown layer '${String(n)}': expected one of ${[...named.keys()].join(', ')}`);
      return t;
    });
  }
  const unused = [...named.entries()].filter(([, t]) => inputs.includes(t) && !used.has(t)).map(([n]) => n);
  if (unused.length)
    fail(
      [...path, spec.inputs !== undefined ? 'inputs' : 'input'],
      `input${unused.length === 1 ? '' : 's'} ${unused.map((n) => `'${n}'`).join(', ')} ${unused.length === 1 ? 'is' : 'are'} not used by any layer: give a layer inputs: ${unused[0]}, or remove it`,
    );
  try {
    return new Model({ inputs, outputs, name: spec.name as string | undefined });
  } catch (e) {
    fail(path, (e as Error).message);
  }
}
