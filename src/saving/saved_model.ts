/**
 * Saving and loading models. A saved model is a folder: model.json holds the Keras-style architecture, the weight
 * manifest and the optimizer (config, step and slot manifest); weights.bin holds every float32 array back to back.
 * The folder is written beside the target and renamed into place, so a crash never leaves a half-written model.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { checkReplaceable, foreignContent, replaceFolderSync } from '../util/safe_fs.js';
import type { MetricSpec } from '../metrics/index.js';
import { lossNames, type LossSpec } from '../nn/losses/index.js';
import type { Model } from '../nn/model.js';
import { modelFromConfig } from '../nn/model_config.js';
import { getOptimizer } from '../train/optimizers/index.js';
import { compile, findTrainingState, restoreTraining, type RestoredTraining } from '../train/state.js';

function lossBuilders(): Record<string, true> {
  return Object.fromEntries(lossNames.map((n) => [n, true]));
}

const FORMAT = 'convlab-model';
const VERSION = 1;

interface ArrayEntry {
  name: string;
  shape: number[];
  offset: number;
  length: number;
}

interface SavedModel {
  format: string;
  version: number;
  model: Record<string, unknown>;
  weights: ArrayEntry[];
  compile?: { loss: unknown[]; loss_weights: number[]; metrics: unknown[][] };
  optimizer?: {
    class_name: string;
    config: Record<string, unknown>;
    iterations: number;
    extra: Record<string, number>;
    slots: ArrayEntry[];
  };
  /** The trainer's dropout and shuffle generator states (xoshiro128** words), so training resumes exactly. */
  generators?: { dropout: number[]; shuffle: number[] };
  /** How an image becomes this model's input, and its class names (set when trained from a data block). */
  input_pipeline?: unknown;
}

export function saveModel(model: Model, dir: string, info: { inputPipeline?: unknown } = {}): void {
  const target = resolve(dir);
  const arrays: Float32Array[] = [];
  let offset = 0;
  const add = (name: string, shape: number[], data: Float32Array): ArrayEntry => {
    arrays.push(data);
    const entry = { name, shape, offset, length: data.length };
    offset += data.length;
    return entry;
  };
  const saved: SavedModel = {
    format: FORMAT,
    version: VERSION,
    model: model.getConfig(),
    weights: model.weights.map((w) => add(w.name, [...w.shape], w.value.data)),
  };
  const compiled = findTrainingState(model);
  if (compiled) {
    // Losses and metrics given by name can be restored; functions cannot and are left for the user to pass again.
    const named =
      compiled.losses.every((l) => l.name in lossBuilders()) && compiled.metricSpecs.every((ms) => ms.every((m) => typeof m === 'string'));
    if (named) {
      saved.compile = {
        loss: compiled.losses.map((l) => ({ [l.name]: l.config })),
        loss_weights: compiled.lossWeights,
        metrics: compiled.metricSpecs as unknown[][],
      };
    }
    saved.generators = { dropout: [...compiled.rng.getState()], shuffle: [...compiled.shuffleRng.getState()] };
    const opt = compiled.optimizer;
    const state = opt.getState();
    saved.optimizer = {
      class_name: opt.className,
      config: opt.getConfig(),
      iterations: state.iterations,
      extra: state.extra,
      slots: Object.entries(state.slots).flatMap(([name, slots]) => slots.map((s, i) => add(`${name}#${i}`, [s.length], s))),
    };
  }
  const bin = new Float32Array(offset);
  let pos = 0;
  for (const a of arrays) {
    bin.set(a, pos);
    pos += a.length;
  }
  if (info.inputPipeline !== undefined) saved.input_pipeline = info.inputPipeline;
  replaceFolderSync(target, 'save', modelFolderProblem, (tmp) => {
    writeFileSync(join(tmp, 'model.json'), JSON.stringify(saved, null, 1));
    writeFileSync(join(tmp, 'weights.bin'), new Uint8Array(bin.buffer, bin.byteOffset, bin.byteLength));
  });
}

/**
 * Why an existing folder may not be replaced by a saved model, or null: it must be a saved model (model.json and
 * weights.bin, and a checkpoint's state.json), or empty.
 */
export function modelFolderProblem(dir: string): string | null {
  return foreignContent(dir, (rel, isDir) => !isDir && ['model.json', 'weights.bin', 'state.json'].includes(rel));
}

/** Checks before training that a model can be saved to `target` (the CLI's --save, a checkpoint's filepath). */
export function checkModelTarget(target: string, what: string): void {
  checkReplaceable(target, what, modelFolderProblem);
}

/** The input pipeline a saved model was written with, or null (saved by the API, or by an older convlab). */
export function readInputPipeline(dir: string): unknown {
  const file = join(dir, 'model.json');
  try {
    return (JSON.parse(readFileSync(file, 'utf8')) as SavedModel).input_pipeline ?? null;
  } catch {
    return null;
  }
}

export function loadModel(dir: string): Model {
  const file = join(dir, 'model.json');
  if (!existsSync(file)) throw new Error(`${file}: no saved model here (expected model.json and weights.bin)`);
  let saved: SavedModel;
  try {
    saved = JSON.parse(readFileSync(file, 'utf8')) as SavedModel;
  } catch (e) {
    throw new Error(`${file}: not valid JSON (${(e as Error).message})`);
  }
  if (saved.format !== FORMAT || saved.version !== VERSION)
    throw new Error(`${file}: expected format ${FORMAT} version ${VERSION}, got ${saved.format} ${saved.version}`);
  const raw = readFileSync(join(dir, 'weights.bin'));
  if (raw.byteLength % 4 !== 0) throw new Error(`${join(dir, 'weights.bin')}: size ${raw.byteLength} is not a multiple of 4`);
  const bin = new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength));
  const read = (e: ArrayEntry): Float32Array => {
    if (e.offset + e.length > bin.length)
      throw new Error(
        `${join(dir, 'weights.bin')}: truncated: '${e.name}' needs floats ${e.offset}..${e.offset + e.length}, file has ${bin.length}`,
      );
    return bin.slice(e.offset, e.offset + e.length);
  };
  const model = modelFromConfig(saved.model);
  const weights = new Map(model.weights.map((w) => [w.name, w]));
  for (const e of saved.weights) {
    const w = weights.get(e.name);
    if (!w) throw new Error(`${file}: weight '${e.name}' does not belong to the model`);
    if (w.value.size !== e.length) throw new Error(`${file}: weight '${e.name}' has ${e.length} values, the model expects ${w.value.size}`);
    w.assign(read(e));
  }
  const restored: RestoredTraining = {};
  if (saved.generators)
    restored.generators = { dropout: Uint32Array.from(saved.generators.dropout), shuffle: Uint32Array.from(saved.generators.shuffle) };
  if (saved.optimizer) {
    const opt = getOptimizer({
      class_name: saved.optimizer.class_name,
      config: Object.fromEntries(Object.entries(saved.optimizer.config).filter(([, v]) => v !== null && typeof v !== 'string')),
    });
    const slots: Record<string, Float32Array[]> = {};
    for (const e of saved.optimizer.slots) {
      const [name, i] = [e.name.slice(0, e.name.lastIndexOf('#')), Number(e.name.slice(e.name.lastIndexOf('#') + 1))];
      (slots[name] ??= [])[i] = read(e);
    }
    opt.setState({ iterations: saved.optimizer.iterations, slots, extra: saved.optimizer.extra });
    restored.optimizer = opt;
  }
  restoreTraining(model, restored);
  if (saved.optimizer && saved.compile) {
    compile(model, {
      loss: saved.compile.loss as LossSpec[],
      lossWeights: saved.compile.loss_weights,
      metrics: saved.compile.metrics as MetricSpec[][],
    });
  }
  return model;
}
