/**
 * Experiment specs: one YAML (or JSON) file with name, seed, data, model and train. Loading checks every block
 * and reports each problem with its path; `--set path=value` overrides any field before the checks.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { parseDocument, parse as parseYamlValue } from 'yaml';
import { z } from 'zod';
import { parseArgs } from '../nn/schema.js';
import { SpecError } from '../nn/spec.js';
import { getLoss } from '../nn/losses/index.js';
import { getOptimizer } from '../train/optimizers/index.js';
import { getMetric } from '../metrics/index.js';
import { nameProblem } from '../util/safe_fs.js';

export class SpecFileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SpecFileError';
  }
}

const resolvableWith = (resolve: (v: never) => unknown) =>
  z.any().superRefine((v, ctx) => {
    try {
      resolve(v as never);
    } catch (e) {
      ctx.addIssue({ code: 'custom', message: (e as Error).message });
    }
  });

const lossSpec = resolvableWith(getLoss);
/** A metric by name (the loss and the output width only choose between accuracy variants). */
const metricName = z.string().superRefine((v, ctx) => {
  try {
    getMetric(v, 'sparse_categorical_crossentropy', 10);
  } catch (e) {
    ctx.addIssue({ code: 'custom', message: (e as Error).message });
  }
});
const metricList = z.union([z.array(metricName), z.record(z.string(), z.array(metricName))]);

const monitorArgs = {
  monitor: z.string().optional(),
  mode: z.enum(['auto', 'min', 'max']).optional(),
  min_delta: z.number().nonnegative().optional(),
};
const callbackSchema = z.union(
  [
    z.strictObject({
      early_stopping: z.strictObject({
        ...monitorArgs,
        patience: z.number().int().nonnegative().optional(),
        restore_best_weights: z.boolean().optional(),
        start_from_epoch: z.number().int().nonnegative().optional(),
      }),
    }),
    z.strictObject({
      reduce_lr_on_plateau: z.strictObject({
        ...monitorArgs,
        factor: z.number().gt(0).lt(1).optional(),
        patience: z.number().int().nonnegative().optional(),
        cooldown: z.number().int().nonnegative().optional(),
        min_lr: z.number().nonnegative().optional(),
      }),
    }),
    z.strictObject({ terminate_on_nan: z.strictObject({}).nullable() }),
    z.strictObject({ csv_logger: z.strictObject({ filename: z.string().min(1), append: z.boolean().optional() }) }),
    z.strictObject({
      model_checkpoint: z.strictObject({ filepath: z.string().min(1), ...monitorArgs, save_best_only: z.boolean().optional() }),
    }),
  ],
  {
    error:
      'expected one of {early_stopping: {...}}, {reduce_lr_on_plateau: {...}}, {terminate_on_nan: {}}, {csv_logger: {filename}}, {model_checkpoint: {filepath}}',
  },
);
export type CallbackSpec = z.output<typeof callbackSchema>;

const warmup = { warmup_epochs: z.number().int().nonnegative().optional() };
const scheduleSchema = z.union(
  [
    z.strictObject({ step_decay: z.strictObject({ factor: z.number().positive(), every: z.number().int().positive(), ...warmup }) }),
    z.strictObject({ exponential: z.strictObject({ rate: z.number().positive(), ...warmup }) }),
    z.strictObject({
      cosine: z.strictObject({ epochs: z.number().int().positive().optional(), min: z.number().nonnegative().optional(), ...warmup }),
    }),
  ],
  {
    error:
      'expected one of {step_decay: {factor, every}}, {exponential: {rate}}, {cosine: {epochs, min}} (each with optional warmup_epochs)',
  },
);
export type ScheduleSpec = z.output<typeof scheduleSchema>;

/**
 * Which layers a phase trains: all of them, those from one layer on (model order), or only the named ones. A name
 * also stands for the layers under it: layer4 is layer4.0.conv1, layer4.1.bn2, ...
 */
const phaseTrainable = z.union(
  [z.literal('all'), z.strictObject({ from: z.string().min(1) }), z.strictObject({ only: z.array(z.string().min(1)).min(1) })],
  { error: 'expected all, {from: LAYER} or {only: [LAYER, ...]}' },
);

/** One phase of training: its epochs, its optimizer (a fresh one) and the layers it trains. */
const phaseSchema = z.strictObject({
  epochs: z.number().int().positive(),
  optimizer: resolvableWith(getOptimizer).optional(),
  trainable: phaseTrainable.optional(),
});
export type PhaseSpec = z.output<typeof phaseSchema>;
export type PhaseTrainable = z.output<typeof phaseTrainable>;

export const trainSchema = z.strictObject({
  optimizer: resolvableWith(getOptimizer).default('adam'),
  loss: z.union([lossSpec, z.array(lossSpec), z.record(z.string(), lossSpec)]).default('sparse_categorical_crossentropy'),
  loss_weights: z.union([z.array(z.number()), z.record(z.string(), z.number())]).optional(),
  metrics: metricList.default(['accuracy']),
  epochs: z.number().int().nonnegative().default(10),
  batch_size: z
    .number()
    .int()
    .positive()
    .max(1 << 20, 'expected at most 1,048,576 samples a batch')
    .default(32),
  /** A NaN or infinite training loss fails the run, naming the epoch and batch (false: train on regardless). */
  terminate_on_nan: z.boolean().default(true),
  shuffle: z.boolean().default(true),
  /** Skip each epoch's last batch when it is short (PyTorch's drop_last): no step on a handful of samples. */
  drop_remainder: z.boolean().default(false),
  callbacks: z.array(callbackSchema).default([]),
  /** Weight of each class's samples in the training loss, by class index. */
  class_weight: z.record(z.string().regex(/^\d+$/, 'expected a class index'), z.number().nonnegative()).optional(),
  /** A learning-rate schedule by epoch, starting from the optimizer's learning rate. */
  schedule: scheduleSchema.optional(),
  /**
   * Training in phases, one after another (fine-tuning: first the new top, then part of the base at a lower rate).
   * The run's epochs are the phases' sum; each phase starts a fresh optimizer (train.optimizer where it names none).
   */
  phases: z.array(phaseSchema).min(1).optional(),
});
export type TrainSpec = z.output<typeof trainSchema>;

const layerRef = z.union([z.string().min(1), z.number().int().nonnegative()], {
  error: 'expected a layer name or an index into model.layers',
});

/** What is measured after training, on which splits (the first output's classes, for classifiers). */
export const evaluateSchema = z.strictObject({
  on: z
    .array(z.enum(['train', 'validation', 'test']))
    .min(1)
    .default(['train', 'validation', 'test']),
  /** Metrics measured after training in addition to train.metrics (e.g. top_5_accuracy, r2). */
  metrics: metricList.nullish(),
  /** true or counts, normalized (each true class's row sums to 1), or both; JSON always has both. */
  confusion_matrix: z.union([z.boolean(), z.enum(['counts', 'normalized', 'both'])]).default(false),
  classification_report: z.boolean().default(false),
  baselines: z.array(z.enum(['most_frequent', 'stratified', 'uniform'])).default([]),
  /** Clocks: minutes between predicted and true time on the dial, with their distribution. */
  time_difference: z.boolean().default(false),
  /** Activations of chosen layers (by index in model.layers or by name) for the first samples of a split. */
  feature_maps: z
    .strictObject({
      layers: z.array(layerRef).min(1),
      samples: z.number().int().positive().max(256).default(1),
      split: z.enum(['train', 'validation', 'test']).default('test'),
    })
    .nullish(),
  /** Conv2D kernels: true for every Conv2D layer, or chosen layers. */
  filters: z.union([z.literal(true), z.strictObject({ layers: z.array(layerRef).min(1) })]).nullish(),
  /** Images of a split with their labels and the model's predictions (true: 36 test images), for sample grids. */
  predictions: z
    .union([
      z.literal(true),
      z.strictObject({
        count: z.number().int().positive().max(400).default(36),
        split: z.enum(['train', 'validation', 'test']).default('test'),
        /** all: the first images of the split; errors: the first misclassified ones. */
        only: z.enum(['all', 'errors']).default('all'),
      }),
    ])
    .nullish(),
});
export type EvaluateSpec = z.output<typeof evaluateSchema>;

const TOP_KEYS = ['name', 'seed', 'description', 'data', 'model', 'train', 'evaluate', 'sweep'];

export interface Spec {
  name: string;
  seed: number;
  description?: string;
  data: unknown;
  model: unknown;
  train: TrainSpec;
  evaluate: EvaluateSpec;
  /** The spec as given (after overrides), for records. */
  raw: Record<string, unknown>;
}

/** Reads a YAML or JSON file; syntax errors name the file, line and column. */
export function readSpecFile(file: string): Record<string, unknown> {
  if (!existsSync(file)) throw new SpecFileError(`${file}: file not found`);
  if (statSync(file).isDirectory()) throw new SpecFileError(`${file}: it is a folder; expected a YAML or JSON spec file`);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new SpecFileError(`${file}: cannot read it (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  // merge: YAML's `<<: *anchor`, so variants can share a block and change a field of it.
  const doc = parseDocument(text, { prettyErrors: true, merge: true });
  if (doc.errors.length > 0) {
    const e = doc.errors[0];
    const pos = e.linePos?.[0];
    const line = pos ? (text.split('\n')[pos.line - 1] ?? '') : '';
    // `{model.layers[4]: ...}`: inside braces a bracket starts a list, so such a key must be quoted or in block style.
    const hint =
      /flow (map|sequence)/.test(e.message) && /\{[^}]*\w\[\d+\]/.test(line)
        ? ` (a key with [ ] inside { } must be quoted, '{"model.layers[4]": ...}', or written on its own line)`
        : '';
    throw new SpecFileError(
      `${file}${pos ? `:${pos.line}:${pos.col}` : ''}: invalid YAML: ${e.message.split('\n')[0].replace(/ at line \d+, column \d+:?$/, '')}${hint}`,
    );
  }
  const value: unknown = doc.toJS();
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new SpecFileError(
      `${file}: expected a mapping with model (and data, train, ...) at the top, found ${value === null ? 'an empty document' : Array.isArray(value) ? 'a list' : typeof value}`,
    );
  }
  return value as Record<string, unknown>;
}

/**
 * Splits 'model.layers[3].Dense.units' into ['model', 'layers', 3, 'Dense', 'units']. A key with dots or brackets
 * in it is quoted: 'sweep.grid["train.batch_size"]'.
 */
export function parsePath(path: string): (string | number)[] {
  const out: (string | number)[] = [];
  const bad = () =>
    new SpecFileError(
      `--set: cannot read the path '${path}': expected e.g. train.epochs, model.layers[2].Dense.units or sweep.grid["train.batch_size"]`,
    );
  let i = 0;
  while (i < path.length) {
    if (path[i] === '[') {
      const quoted = path.slice(i).match(/^\["((?:[^"\\]|\\.)*)"\]/);
      const index = path.slice(i).match(/^\[(\d+)\]/);
      if (quoted) {
        out.push(quoted[1].replace(/\\(.)/g, '$1'));
        i += quoted[0].length;
      } else if (index) {
        out.push(Number(index[1]));
        i += index[0].length;
      } else throw bad();
    } else {
      if (path[i] === '.') {
        if (out.length === 0) throw bad();
        i++;
      }
      const key = path.slice(i).match(/^[^.[\]]+/);
      if (!key) throw bad();
      out.push(key[0]);
      i += key[0].length;
    }
  }
  if (out.length === 0) throw bad();
  return out;
}

/** Applies one 'path=value' override; the value is read as YAML (numbers, lists, maps, strings). */
export function applyOverride(spec: Record<string, unknown>, assignment: string): void {
  const eq = assignment.indexOf('=');
  if (eq <= 0) throw new SpecFileError(`--set '${assignment}': expected path=value, e.g. train.epochs=5`);
  const path = parsePath(assignment.slice(0, eq));
  let value: unknown;
  try {
    value = parseYamlValue(assignment.slice(eq + 1));
  } catch (e) {
    throw new SpecFileError(`--set '${assignment}': cannot read the value: ${(e as Error).message.split('\n')[0]}`);
  }
  let node: unknown = spec;
  for (let i = 0; i < path.length - 1; i++) {
    const key = path[i];
    const container = node as Record<string | number, unknown>;
    if (typeof key === 'number') {
      if (!Array.isArray(container) || key >= container.length)
        throw new SpecFileError(`--set '${assignment}': ${path.slice(0, i).join('.')} has no element [${key}]`);
    } else if (container[key] === undefined || container[key] === null) {
      container[key] = typeof path[i + 1] === 'number' ? [] : {};
    }
    node = container[key];
    if (typeof node !== 'object' || node === null)
      throw new SpecFileError(`--set '${assignment}': ${path.slice(0, i + 1).join('.')} is not a mapping or list`);
  }
  (node as Record<string | number, unknown>)[path[path.length - 1]] = value;
}

export function loadSpec(file: string, overrides: string[] = []): Spec {
  const raw = readSpecFile(file);
  for (const o of overrides) applyOverride(raw, o);
  return checkSpec(raw, file);
}

/** The experiment name a spec file gives when the spec has none: its file name without folder and extension. */
export function specBaseName(file: string): string {
  return file.replace(/^.*[\\/]/, '').replace(/\.(ya?ml|json)$/, '');
}

export function checkSpec(raw: Record<string, unknown>, file = 'spec'): Spec {
  const issues = Object.keys(raw)
    .filter((k) => !TOP_KEYS.includes(k))
    .map((k) => ({ path: [k], message: `unknown key: expected one of ${TOP_KEYS.join(', ')}` }));
  if (raw.model === undefined) issues.push({ path: ['model'], message: 'missing: every spec needs a model block' });
  if (raw.seed !== undefined && !Number.isInteger(raw.seed))
    issues.push({ path: ['seed'], message: `expected an integer, found ${JSON.stringify(raw.seed)}` });
  if (raw.name !== undefined && typeof raw.name !== 'string')
    issues.push({ path: ['name'], message: `expected a string, found ${JSON.stringify(raw.name)}` });
  const base = specBaseName(file);
  const nameIssue =
    typeof raw.name === 'string'
      ? nameProblem(raw.name, 'experiment')
      : raw.name === undefined && nameProblem(base, 'experiment')
        ? `the spec has no name, and its file name gives ${nameProblem(base, 'experiment')}; add name: to the spec`
        : null;
  if (nameIssue) issues.push({ path: ['name'], message: nameIssue });
  if (issues.length) throw new SpecError(issues);
  // Both blocks are checked, so one run reports the mistakes of each.
  const found: SpecError[] = [];
  const block = <T>(schema: z.ZodType<T>, key: 'train' | 'evaluate'): T | undefined => {
    try {
      return parseArgs(schema, raw[key] ?? {}, key);
    } catch (e) {
      if (!(e instanceof SpecError)) throw e;
      found.push(e.within([key]));
      return undefined;
    }
  };
  const train = block(trainSchema, 'train');
  const evaluate = block(evaluateSchema, 'evaluate');
  if (found.length || !train || !evaluate) throw new SpecError(found.flatMap((e) => e.issues));
  if (train.phases) {
    // With phases, the epochs are theirs: train.epochs, when given, must agree, and a schedule would span them.
    const total = train.phases.reduce((n, p) => n + p.epochs, 0);
    const given = (raw.train as Record<string, unknown> | undefined)?.epochs;
    if (given !== undefined && given !== total) {
      throw new SpecError([
        { path: ['train', 'epochs'], message: `is ${given}, but the phases add up to ${total} epochs: leave it out, or make them agree` },
      ]);
    }
    if (train.schedule)
      throw new SpecError([
        { path: ['train', 'schedule'], message: 'does not combine with phases: give each phase its own optimizer and learning rate' },
      ]);
    train.epochs = total;
  }
  return {
    name: (raw.name as string | undefined) ?? base,
    seed: (raw.seed as number | undefined) ?? 0,
    description: raw.description as string | undefined,
    data: raw.data ?? { dataset: 'mnist' },
    model: raw.model,
    train,
    evaluate,
    raw,
  };
}
