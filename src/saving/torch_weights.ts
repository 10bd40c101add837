/**
 * PyTorch-style state dicts (from a torch.save file or a safetensors file) onto convlab models whose layers carry
 * the PyTorch module names (src/nn/applications builds such models), and convlab models out as state dicts.
 * Layouts are converted on the way: convolution kernels OIHW ↔ HWIO, dense kernels (out, in) ↔ (in, out); a
 * BatchNormalization's weight, bias, running_mean and running_var are its gamma, beta and moving statistics
 * (num_batches_tracked has no counterpart and is passed over).
 */
import { readFileSync } from 'node:fs';
import type { Weight } from '../nn/layer.js';
import type { Model } from '../nn/model.js';
import { convKernel, denseKernel } from './layouts.js';
import { type NamedTensor, readSafetensors, WeightsFileError } from './safetensors.js';
import { readTorchStateDict } from './torch_file.js';

/** Reads a weights file, a torch.save zip or safetensors, told apart by its first bytes. */
export function readWeightsFile(file: string): NamedTensor[] {
  let head: Buffer;
  try {
    head = readFileSync(file).subarray(0, 4);
  } catch (e) {
    throw new WeightsFileError(`${file}: cannot read: ${(e as Error).message}`);
  }
  if (head[0] === 0x50 && head[1] === 0x4b) return readTorchStateDict(file);
  if (head.length >= 2 && head[0] === 0x80 && head[1] <= 5) return readTorchStateDict(file);
  return readSafetensors(file);
}

/** One weight of a state dict: its key, the convlab weight it fills, and the layout change between them. */
interface Slot {
  key: string;
  weight: Weight;
  layout: 'same' | 'conv' | 'dense';
}

const PARAMS: Record<string, Record<string, [string, Slot['layout']]>> = {
  Conv2D: { kernel: ['weight', 'conv'], bias: ['bias', 'same'] },
  Dense: { kernel: ['weight', 'dense'], bias: ['bias', 'same'] },
  BatchNormalization: {
    gamma: ['weight', 'same'],
    beta: ['bias', 'same'],
    moving_mean: ['running_mean', 'same'],
    moving_variance: ['running_var', 'same'],
  },
};

/** The state-dict keys a model's weights go by, with their layouts. */
export function stateDictSlots(model: Model): Slot[] {
  const slots: Slot[] = [];
  for (const layer of model.layers) {
    for (const weight of layer.weights) {
      const param = weight.name.slice(weight.name.lastIndexOf('/') + 1);
      const map = PARAMS[layer.className]?.[param];
      if (!map)
        throw new WeightsFileError(`layer '${layer.name}' (${layer.className}) has a weight '${param}' with no PyTorch counterpart`);
      slots.push({ key: `${layer.name}.${map[0]}`, weight, layout: map[1] });
    }
  }
  return slots;
}

/** The shape a convlab weight has in PyTorch. */
function torchShape(slot: Slot): number[] {
  const s = slot.weight.shape;
  if (slot.layout === 'conv') return [s[3], s[2], s[0], s[1]];
  if (slot.layout === 'dense') return [s[1], s[0]];
  return [...s];
}

/** Values from PyTorch's layout to convlab's. */
function fromTorch(data: Float32Array, slot: Slot): Float32Array {
  if (slot.layout === 'dense') return denseKernel(data, slot.weight.shape, 'from (out, in)');
  if (slot.layout === 'conv') return convKernel(data, slot.weight.shape, 'from OIHW');
  return data;
}

/** Values from convlab's layout to PyTorch's. */
function toTorch(data: Float32Array, slot: Slot): Float32Array {
  if (slot.layout === 'dense') return denseKernel(data, slot.weight.shape, 'to (out, in)');
  if (slot.layout === 'conv') return convKernel(data, slot.weight.shape, 'to OIHW');
  return data.slice();
}

export interface LoadReport {
  /** Keys loaded into the model. */
  loaded: string[];
  /** Keys the model has and the file does not. */
  missing: string[];
  /** Keys the file has and the model does not (num_batches_tracked aside). */
  unexpected: string[];
  /** Keys both have, with shapes that differ: 'key: file [..], model [..]'. */
  mismatched: string[];
}

const shapeText = (s: readonly number[]) => `[${s.join(', ')}]`;

/**
 * Loads a state dict into a model. Strict (the default): every weight of the model must be in the file with its
 * shape, and the file must hold nothing else; otherwise nothing is loaded and one error lists every problem by name.
 * strict: false loads what matches (a new classifier, say) and reports the rest.
 */
export function loadStateDict(
  model: Model,
  tensors: readonly NamedTensor[],
  options: { strict?: boolean; source?: string } = {},
): LoadReport {
  const strict = options.strict ?? true;
  const source = options.source ?? 'the state dict';
  const byKey = new Map(tensors.map((t) => [t.name, t]));
  const slots = stateDictSlots(model);
  const wanted = new Set(slots.map((s) => s.key));
  const report: LoadReport = { loaded: [], missing: [], unexpected: [], mismatched: [] };
  const ready: [Slot, Float32Array][] = [];
  for (const slot of slots) {
    const t = byKey.get(slot.key);
    if (!t) {
      report.missing.push(slot.key);
      continue;
    }
    const want = torchShape(slot);
    const same = t.shape.length === want.length && t.shape.every((d, i) => d === want[i]);
    if (!same || !t.data) {
      report.mismatched.push(
        `${slot.key}: ${source} has ${t.data ? shapeText(t.shape) : `an integer tensor (${t.dtype})`}, the model ${shapeText(want)}`,
      );
      continue;
    }
    ready.push([slot, t.data]);
  }
  for (const t of tensors) if (!wanted.has(t.name) && !t.name.endsWith('.num_batches_tracked')) report.unexpected.push(t.name);
  const problems = [
    ...(report.missing.length ? [`missing from ${source}: ${report.missing.join(', ')}`] : []),
    ...(report.unexpected.length ? [`not in the model: ${report.unexpected.join(', ')}`] : []),
    ...(report.mismatched.length ? [`shapes differ: ${report.mismatched.join('; ')}`] : []),
  ];
  if (strict && problems.length) {
    throw new WeightsFileError(
      `cannot load ${source} into model '${model.name}' (nothing was loaded; strict: false loads what matches):\n  ${problems.join('\n  ')}`,
    );
  }
  for (const [slot, data] of ready) {
    slot.weight.assign(fromTorch(data, slot));
    report.loaded.push(slot.key);
  }
  return report;
}

/** Loads a weights file (torch.save or safetensors) into a model; see loadStateDict. */
export function loadWeightsFile(model: Model, file: string, options: { strict?: boolean } = {}): LoadReport {
  return loadStateDict(model, readWeightsFile(file), { ...options, source: file });
}

/** The model's weights as a PyTorch-style state dict (names and layouts), for safetensors export. */
export function toStateDict(model: Model): { name: string; shape: number[]; data: Float32Array }[] {
  return stateDictSlots(model).map((slot) => ({ name: slot.key, shape: torchShape(slot), data: toTorch(slot.weight.value.data, slot) }));
}

/**
 * The state dict as PyTorch's load_state_dict expects it: toStateDict plus each BatchNorm's num_batches_tracked (an
 * int64 scalar PyTorch keeps and convlab has no use for; 0 here).
 */
export function toTorchStateDict(model: Model): { name: string; shape: number[]; data: Float32Array | BigInt64Array }[] {
  const out: { name: string; shape: number[]; data: Float32Array | BigInt64Array }[] = [];
  for (const t of toStateDict(model)) {
    out.push(t);
    if (t.name.endsWith('.running_var'))
      out.push({ name: `${t.name.slice(0, -'running_var'.length)}num_batches_tracked`, shape: [], data: new BigInt64Array(1) });
  }
  return out;
}
