/**
 * `convlab predict MODEL|TRIAL IMAGE...`: a saved model's top classes for image files, fed through the input
 * pipeline the model was trained with (size, colours, padding, scaling, standardization), saying what had to change.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { imageInput, type InputPipeline } from '../data/pipeline.js';
import { SpecFileError } from '../lab/spec.js';
import type { RunStore } from '../lab/store.js';
import type { Tensor } from '../engine/tensor.js';
import type { Model } from '../nn/model.js';
import { loadModel, readInputPipeline } from '../saving/saved_model.js';
import { defaultStore, findTrial, withStore } from './lab.js';

export interface Prediction {
  file: string;
  top: { class: string; index: number; probability: number }[];
  notes: string[];
}

/** A trial's saved model folder, or why there is none. */
export function trialModelDir(store: RunStore, ref: string): string {
  const t = findTrial(store, ref);
  const art = store.artifacts(t.id).find((a) => a.kind === 'model');
  const dir = art ? join(store.root, art.path) : null;
  if (!dir || !existsSync(join(dir, 'model.json'))) {
    throw new SpecFileError(
      `trial #${t.id} has no saved weights (it is ${t.status}${t.status === 'finished' ? ', recorded before models were kept' : ''}); only a finished trial keeps its model`,
    );
  }
  return dir;
}

/**
 * Loads a saved model and its input pipeline; a folder that is not a model is bad input, and so is one without a
 * pipeline when `pipeline` (the default) asks for it.
 */
export function loadForPrediction(dir: string, options: { pipeline?: boolean } = {}): { model: Model; pipeline: InputPipeline } {
  if (!existsSync(dir) || !statSync(dir).isDirectory())
    throw new SpecFileError(`${dir}: not a saved model folder (expected model.json and weights.bin), nor a trial id`);
  let model: Model;
  try {
    model = loadModel(dir);
  } catch (e) {
    throw new SpecFileError((e as Error).message);
  }
  const pipeline = readInputPipeline(dir) as InputPipeline | null;
  if (!pipeline && options.pipeline !== false)
    throw new SpecFileError(
      `${dir}: this model was saved without its input pipeline and class names ` +
        `(by model.save in code, or by an older convlab); train it with \`convlab ` +
        `train --save\` or \`convlab run\` to predict from image files`,
    );
  return { model, pipeline: pipeline as InputPipeline };
}

/** Class probabilities of one output row: softmax outputs as they are, logits through softmax, a sigmoid as two classes. */
function probabilities(row: Float32Array): number[] {
  if (row.length === 1) return [1 - row[0], row[0]];
  const sum = row.reduce((a, b) => a + b, 0);
  if (row.every((v) => v >= 0 && v <= 1) && Math.abs(sum - 1) < 1e-3) return Array.from(row);
  const max = row.reduce((a, b) => Math.max(a, b), -Infinity);
  const e = Array.from(row, (v) => Math.exp(v - max));
  const z = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / z);
}

/** An image file as the model's input, through the saved pipeline; notes say what had to change (size, colours). */
export function fileInput(model: Model, pipeline: InputPipeline, file: string): { x: Tensor; notes: string[] } {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (e) {
    throw new SpecFileError(`${file}: cannot read the image (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  const { x, notes } = imageInput(pipeline, bytes, file);
  const expected = model.inputs[0].shape.slice(1);
  if (model.inputs.length !== 1 || expected.some((d, i) => d !== null && d !== x.shape[i + 1])) {
    throw new SpecFileError(
      `the model expects inputs of shape [${expected.join(', ')}], its saved pipeline gives [${x.shape.slice(1).join(', ')}]`,
    );
  }
  return { x, notes };
}

export function predictFiles(model: Model, pipeline: InputPipeline, files: readonly string[], top: number): Prediction[] {
  return files.map((file) => {
    const { x, notes } = fileInput(model, pipeline, file);
    const out = model.predictBatch(x)[0];
    const p = probabilities(out.data.subarray(0, out.size));
    const names = pipeline.class_names.length === p.length ? pipeline.class_names : p.map((_, i) => String(i));
    const ranked = p
      .map((probability, index) => ({ class: names[index], index, probability }))
      .sort((a, b) => b.probability - a.probability);
    return { file, top: ranked.slice(0, top), notes };
  });
}

export function registerPredictCommand(program: Command): void {
  program
    .command('predict')
    .description("a saved model's top classes for PNG or JPEG files, through the input pipeline it was trained with")
    .argument('<model>', 'a saved model folder (train --save), or a trial id from the run store')
    .argument('<images...>', 'PNG or JPEG files')
    .option('--top <k>', 'how many classes to show per image', '3')
    .option('--json', 'as JSON')
    .option('--store <dir>', 'the run store folder, for a trial id (default .convlab, or CONVLAB_STORE)')
    .action(async (target: string, images: string[], opts: { top: string; json?: boolean; store?: string }) => {
      const top = Number(opts.top);
      if (!Number.isInteger(top) || top < 1) throw new SpecFileError(`--top: expected a positive integer, got '${opts.top}'`);
      const isTrial = /^#?\d+$/.test(target) && !existsSync(target);
      const dir = isTrial
        ? await withStore(opts.store ?? defaultStore(), async (store, files) => {
            await files(findTrial(store, target).id, 'model');
            return trialModelDir(store, target);
          })
        : target;
      const { model, pipeline } = loadForPrediction(dir);
      const results = predictFiles(model, pipeline, images, top);
      if (opts.json)
        return void process.stdout.write(`${JSON.stringify({ model: dir, dataset: pipeline.dataset, predictions: results })}\n`);
      for (const r of results) {
        const best = r.top.map((c) => `${c.class} ${(100 * c.probability).toFixed(1)}%`).join(', ');
        console.log(`${r.file}: ${best}${r.notes.length ? `  (${r.notes.join('; ')})` : ''}`);
      }
    });
}
