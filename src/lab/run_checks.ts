/**
 * Before a run: the spec's model is built and checked against its losses, metrics, data and evaluate block, and
 * the files it will write are checked, so a mistake is reported before any data is read or any epoch is trained.
 */
import { setSeed } from '../engine/random.js';
import type { PreparedData } from '../data/spec.js';
import { targetWidths } from '../data/spec.js';
import type { Model } from '../nn/model.js';
import { resetNames } from '../nn/naming.js';
import { getLoss, lossNames } from '../nn/losses/index.js';
import { checkModelTarget } from '../saving/saved_model.js';
import { SpecError } from '../util/spec_error.js';
import { dirname } from 'node:path';
import { checkWritable } from '../util/safe_fs.js';
import { buildModelFromSpec } from './model_spec.js';
import { checkPhases } from './phases.js';
import type { Spec } from './spec.js';

/** Builds the model of a spec (names restart, weights follow the seed). */
export function buildSpecModel(spec: Spec): Model {
  resetNames();
  setSeed(spec.seed);
  return buildModelFromSpec(spec.model);
}

/**
 * A batch larger than the training split: with drop_remainder no batch is left, an error; otherwise a note, since
 * each epoch is then one batch of every sample.
 */
export function checkBatchSize(spec: Spec, data: PreparedData): void {
  const { batch_size, drop_remainder } = spec.train;
  if (batch_size <= data.train.size) return;
  if (drop_remainder)
    throw new SpecError([
      {
        path: ['train', 'drop_remainder'],
        message: `leaves no batch to train on: train.batch_size ${batch_size} is more than the ${data.train.size} training samples; lower the batch size or set drop_remainder: false`,
      },
    ]);
  process.stderr.write(
    `convlab: note: train.batch_size ${batch_size} is more than the ${data.train.size} training samples, so each epoch is one batch of ${data.train.size}\n`,
  );
}

export function checkShapes(model: Model, data: PreparedData): void {
  const got = data.sampleShape;
  if (model.inputs.length !== 1) {
    throw new SpecError([
      {
        path: ['model', 'inputs'],
        message: `the model has ${model.inputs.length} inputs (${model.inputs.map((i) => i.layer.name).join(', ')}), but the data gives one image per sample, of shape [${got.join(', ')}]`,
      },
    ]);
  }
  const expected = model.inputs[0].shape.slice(1);
  if (expected.length !== got.length || expected.some((d, i) => d !== got[i])) {
    throw new SpecError([
      {
        path: ['model', 'input'],
        message: `the data gives samples of shape [${got.join(', ')}] but the model expects [${expected.join(', ')}]`,
      },
    ]);
  }
  const layout = data.targetLayout;
  if (layout) {
    const got = model.outputs.map((o) => o.shape[o.shape.length - 1]);
    if (got.length !== layout.units.length || got.some((u, i) => u !== layout.units[i])) {
      throw new SpecError([
        {
          path: ['model', 'outputs'],
          message: `the data's target scheme needs ${layout.units.length} output${layout.units.length === 1 ? '' : 's'} of [${layout.units.join(', ')}] units, the model has [${got.join(', ')}]`,
        },
      ]);
    }
    return;
  }
  const units = model.outputs[0].shape[model.outputs[0].shape.length - 1];
  if (model.outputs.length === 1 && units !== null && units !== 1 && units !== data.classNames.length) {
    throw new SpecError([
      { path: ['model', 'layers'], message: `the last layer has ${units} units but the data has ${data.classNames.length} classes` },
    ]);
  }
}

/** 'Data: mnist, 54,000 train · 6,000 validation · 10,000 test samples of [32, 32, 1], 10 classes'. */
export function describeSplits(data: PreparedData): string {
  const n = (x: number) => x.toLocaleString('en-US');
  const parts = [
    `${n(data.train.size)} train`,
    ...(data.validation ? [`${n(data.validation.size)} validation`] : []),
    `${n(data.test.size)} test`,
  ];
  return `Data: ${data.dataset.name}, ${parts.join(' · ')} samples of [${data.sampleShape.join(', ')}]${data.classNames.length ? `, ${data.classNames.length} classes` : ''}`;
}

/**
 * Builds a spec's model (checking every layer), then checks its losses against its outputs and the data block's
 * targets, the layers its evaluate block names and the files its callbacks write, all without any data.
 */
export function checkModelEvaluate(spec: Spec): void {
  const model = buildSpecModel(spec);
  checkCompile(model, spec);
  checkPhases(model, spec);
  checkEvaluate(model, null, spec);
  checkOutputs(spec);
}

type Issue = { path: (string | number)[]; message: string };

/**
 * A per-output setting (loss, loss_weights, metrics) as one entry per output: a list in output order, a map by
 * output name, or one value for all. Keys that name no output and outputs without an entry are issues.
 */
function perOutputSetting<T>(
  value: T | T[] | Record<string, T>,
  names: string[],
  path: (string | number)[],
  single: (v: Record<string, T>) => boolean,
  issues: Issue[],
): (T | undefined)[] {
  if (Array.isArray(value)) {
    if (value.length !== names.length)
      issues.push({
        path,
        message: `a list gives one entry per output: found ${value.length} for the model's ${names.length} output${names.length === 1 ? '' : 's'} (${names.join(', ')})`,
      });
    return names.map((_, i) => value[i]);
  }
  if (typeof value !== 'object' || value === null || single(value as Record<string, T>)) return names.map(() => value as T);
  const map = value as Record<string, T>;
  for (const key of Object.keys(map)) {
    if (!names.includes(key))
      issues.push({
        path: [...path, key],
        message: `no output is named '${key}': the model's outputs are ${names.map((n) => `'${n}'`).join(', ')}`,
      });
  }
  const known = Object.keys(map).filter((k) => names.includes(k));
  if (known.length)
    for (const n of names)
      if (!(n in map))
        issues.push({ path, message: `output '${n}' has no entry (a map by output name needs one for each of ${names.join(', ')})` });
  return names.map((n) => map[n]);
}

/**
 * Losses, loss weights and metrics against the model's outputs and the targets the data block gives: a loss map
 * must name outputs, a sparse loss needs one unit per class and integer labels, other losses one unit per target
 * value. Found before any data is read.
 */
export function checkCompile(model: Model, spec: Spec): void {
  const issues: Issue[] = [];
  const names = model.outputNames;
  const isLossSpec = (v: Record<string, unknown>) =>
    'class_name' in v || (Object.keys(v).length === 1 && lossNames.includes(Object.keys(v)[0]));
  const losses = perOutputSetting(
    spec.train.loss as unknown,
    names,
    ['train', 'loss'],
    isLossSpec as (v: Record<string, unknown>) => boolean,
    issues,
  );
  if (spec.train.loss_weights !== undefined)
    perOutputSetting(spec.train.loss_weights as unknown, names, ['train', 'loss_weights'], () => false, issues);
  if (spec.train.metrics && !Array.isArray(spec.train.metrics))
    perOutputSetting(spec.train.metrics as unknown, names, ['train', 'metrics'], () => false, issues);
  const widths = targetWidths(spec.data);
  if (widths && widths.length !== names.length) {
    issues.push({
      path: ['model', 'outputs'],
      message: `the data gives ${widths.length} target${widths.length === 1 ? '' : 's'} per sample, the model has ${names.length} output${names.length === 1 ? '' : 's'} (${names.join(', ')})`,
    });
  } else if (widths) {
    losses.forEach((l, i) => {
      if (l === undefined) return;
      let name: string;
      try {
        name = getLoss(l as never).name;
      } catch {
        return;
      }
      const units = model.outputs[i].shape[model.outputs[i].shape.length - 1];
      const w = widths[i];
      const where = names.length > 1 ? `output '${names[i]}'` : 'the output';
      const path = Array.isArray(spec.train.loss)
        ? ['train', 'loss', i]
        : typeof spec.train.loss === 'object' && !isLossSpec(spec.train.loss as Record<string, unknown>)
          ? ['train', 'loss', names[i]]
          : ['train', 'loss'];
      const oneHot = w === 'classes' || (typeof w === 'number' && w > 1);
      if (name === 'sparse_categorical_crossentropy') {
        if (oneHot)
          issues.push({
            path,
            message: `sparse_categorical_crossentropy takes integer class labels, but the data gives one-hot rows (data.transforms has one_hot): use categorical_crossentropy, or remove one_hot`,
          });
        else if (units === 1)
          issues.push({
            path,
            message:
              `sparse_categorical_crossentropy needs one unit per class, and ${where} has ` +
              `1 unit: give the last layer one unit per class (with softmax), or use binary_crossentropy ` +
              `with a sigmoid for two classes`,
          });
      } else if (units !== null) {
        if (w === 0 && units !== 1) {
          issues.push({
            path,
            message:
              `${name} compares each output unit with the target, but the data gives one ` +
              `integer label per sample and ${where} has ${units} units: use sparse_categorical_crossentropy, ` +
              `or add {one_hot: true} to data.transforms`,
          });
        } else if (w === 'classes' && units === 1) {
          issues.push({
            path,
            message: `${name} compares each output unit with the target, but the data gives a one-hot row per sample and ${where} has 1 unit: give the last layer one unit per class`,
          });
        } else if (typeof w === 'number' && w > 0 && units !== w) {
          issues.push({
            path,
            message: `${name} compares each output unit with the target, but the data gives ${w} values per sample and ${where} has ${units} units`,
          });
        }
      }
    });
  }
  if (issues.length) throw new SpecError(issues);
}

/**
 * Every file and folder the run will write, checked before it trains: csv_logger files, model_checkpoint folders
 * and the --save folder must be writable, and an existing folder may only be replaced when it is a saved model.
 */
export function checkOutputs(spec: Spec, saveTo?: string): void {
  spec.train.callbacks.forEach((c, i) => {
    if ('csv_logger' in c) checkWritable(c.csv_logger.filename, 'file', `train.callbacks[${i}].csv_logger.filename:`);
    if ('model_checkpoint' in c && !c.model_checkpoint.filepath.includes('{epoch'))
      checkModelTarget(c.model_checkpoint.filepath, `train.callbacks[${i}].model_checkpoint.filepath:`);
    else if ('model_checkpoint' in c)
      checkWritable(dirname(c.model_checkpoint.filepath), 'dir', `train.callbacks[${i}].model_checkpoint.filepath:`);
  });
  if (saveTo !== undefined) checkModelTarget(saveTo, '--save');
}

/** Everything the evaluate block names must exist before training starts, not fail after it. */
export function checkEvaluate(model: Model, data: PreparedData | null, spec: Spec): void {
  const e = spec.evaluate;
  const issues: { path: (string | number)[]; message: string }[] = [];
  const layerNames = model.layers.map((l) => l.name);
  const checkLayers = (refs: readonly (string | number)[], field: string, convOnly: boolean) =>
    refs.forEach((ref, i) => {
      const layer = typeof ref === 'number' ? model.layers[ref] : model.layers.find((l) => l.name === ref);
      if (!layer)
        issues.push({
          path: ['evaluate', field, 'layers', i],
          message: `no layer ${JSON.stringify(ref)}: expected an index 0..${layerNames.length - 1} or one of ${layerNames.join(', ')}`,
        });
      else if (convOnly && layer.className !== 'Conv2D')
        issues.push({
          path: ['evaluate', field, 'layers', i],
          message: `layer '${layer.name}' is a ${layer.className}; filters are drawn from Conv2D layers`,
        });
    });
  if (e.feature_maps) {
    checkLayers(e.feature_maps.layers, 'feature_maps', false);
    if (data && e.feature_maps.split === 'validation' && !data.validation)
      issues.push({ path: ['evaluate', 'feature_maps', 'split'], message: 'the data block has no validation split (add data.validation)' });
  }
  if (e.filters) {
    if (e.filters === true) {
      if (!model.layers.some((l) => l.className === 'Conv2D'))
        issues.push({ path: ['evaluate', 'filters'], message: 'the model has no Conv2D layer' });
    } else checkLayers(e.filters.layers, 'filters', true);
  }
  if (e.predictions && data) {
    const split = e.predictions === true ? 'test' : e.predictions.split;
    const units = model.outputs[0].shape[model.outputs[0].shape.length - 1];
    if (data.classNames.length < 2 || units !== data.classNames.length)
      issues.push({
        path: ['evaluate', 'predictions'],
        message: `sample grids need a classifier: the first output has ${units} units and the data ${data.classNames.length} classes`,
      });
    if (split === 'validation' && !data.validation)
      issues.push({ path: ['evaluate', 'predictions', 'split'], message: 'the data block has no validation split (add data.validation)' });
  }
  if (data && e.time_difference && !data.targetLayout?.minutes) {
    issues.push({
      path: ['evaluate', 'time_difference'],
      message:
        'needs the clocks dataset with a target that gives the whole time: classes24, classes720, regression, periodic or hour_minute',
    });
  }
  if (issues.length) throw new SpecError(issues);
}
