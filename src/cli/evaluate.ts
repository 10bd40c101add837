/**
 * `convlab evaluate TRIAL`: analysis after training, from the weights a trial keeps. Confusion matrices,
 * classification reports, baselines, feature maps, filters and sample predictions are computed on the trial's own
 * data splits (the same seed gives the same splits), recorded in the store, and `plot` and `report` draw them.
 */
import type { Command } from 'commander';
import { prepareData } from '../data/spec.js';
import { recordArtifacts } from '../lab/runner.js';
import { checkSpec, evaluateSchema, SpecFileError, type Spec } from '../lab/spec.js';
import type { AsyncRunStore, RunStore, TrialRow } from '../lab/store.js';
import { checkEvaluate } from '../lab/run_checks.js';
import { evaluateTrained, type SplitEvaluation } from '../lab/run_evaluate.js';
import { parseArgs } from '../nn/schema.js';
import { printEvaluation } from './evaluation.js';
import { defaultStore, findTrial, withReadWriteStore } from './lab.js';
import { fileInput, loadForPrediction, trialModelDir } from './predict.js';
import { featureMapsOf, type ArrayArtifact } from '../lab/inspect.js';
import type { Model } from '../nn/model.js';

interface EvaluateFlags {
  split: string;
  confusionMatrix?: boolean;
  classificationReport?: boolean;
  baselines?: boolean;
  timeDifference?: boolean;
  featureMaps?: string;
  samples?: string;
  image?: string;
  filters?: boolean;
  predictions?: string;
  errors?: boolean;
  store?: string;
}

const positive = (flag: string, v: string | undefined, fallback: number): number => {
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new SpecFileError(`${flag}: expected a positive integer, got '${v}'`);
  return n;
};

/** The evaluate block the flags ask for (a confusion matrix and a classification report when none is named). */
function evaluateBlock(o: EvaluateFlags): Record<string, unknown> {
  if (!['train', 'validation', 'test'].includes(o.split)) throw new SpecFileError(`--split ${o.split}: expected train, validation or test`);
  if (o.image !== undefined && !o.featureMaps)
    throw new SpecFileError('--image: feature maps of an image need the layers too, e.g. --feature-maps 0,1,2,3 --image horse.jpg');
  if (o.image !== undefined && o.samples !== undefined)
    throw new SpecFileError('--samples: feature maps of an --image are of that one image; leave --samples out');
  const none =
    !o.confusionMatrix &&
    !o.classificationReport &&
    !o.baselines &&
    !o.timeDifference &&
    !o.featureMaps &&
    !o.filters &&
    o.predictions === undefined;
  // With --image the feature maps come from the file, not from samples of the split.
  const layers = o.image !== undefined ? undefined : featureMapLayers(o);
  return {
    on: [o.split],
    confusion_matrix: none || o.confusionMatrix ? 'both' : false,
    classification_report: none || Boolean(o.classificationReport),
    baselines: o.baselines ? ['most_frequent', 'stratified', 'uniform'] : [],
    time_difference: Boolean(o.timeDifference),
    ...(layers ? { feature_maps: { layers, samples: positive('--samples', o.samples, 1), split: o.split } } : {}),
    ...(o.filters ? { filters: true } : {}),
    ...(o.predictions !== undefined
      ? { predictions: { count: positive('--predictions', o.predictions, 36), split: o.split, only: o.errors ? 'errors' : 'all' } }
      : {}),
  };
}

function featureMapLayers(o: EvaluateFlags): (string | number)[] | undefined {
  return o.featureMaps
    ?.split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((s) => (/^\d+$/.test(s) ? Number(s) : s));
}

/** Merges new per-split evaluations into what the trial recorded before (new fields win). */
function merge(old: Record<string, SplitEvaluation> | undefined, fresh: Record<string, SplitEvaluation>): Record<string, SplitEvaluation> {
  const out: Record<string, SplitEvaluation> = { ...(old ?? {}) };
  for (const [split, e] of Object.entries(fresh)) out[split] = { ...(out[split] ?? {}), ...e };
  return out;
}

export function registerEvaluateCommand(program: Command): void {
  program
    .command('evaluate')
    .description(
      "compute confusion matrices, reports, baselines, feature maps, filters or predictions from a trial's saved weights, and record them",
    )
    .argument('<trial>', 'trial id (as `convlab ls EXPERIMENT` lists them)')
    .option('--split <split>', 'train, validation or test', 'test')
    .option('--confusion-matrix', 'the confusion matrix (counts and normalized)')
    .option('--classification-report', 'precision, recall and F1 per class')
    .option('--baselines', 'the dummy classifiers (most frequent, stratified, uniform), for scale')
    .option('--time-difference', 'clocks: minutes between the time read and the time shown, with their distribution')
    .option('--feature-maps <layers>', 'activations of these layers (names or indices, comma-separated)')
    .option('--samples <n>', 'feature maps: how many samples (default 1)')
    .option('--image <file>', "feature maps: of this PNG or JPEG file, through the trial's input pipeline, instead of the split's samples")
    .option('--filters', 'the kernels of every Conv2D layer')
    .option('--predictions <n>', 'n images of the split with their predicted classes')
    .option('--errors', 'predictions: only misclassified images')
    .option('--store <dir>', 'the run store folder (default .convlab, or CONVLAB_STORE)')
    .action(async (ref: string, o: EvaluateFlags) => {
      const block = evaluateBlock(o);
      const imageOnly =
        o.image !== undefined &&
        !o.confusionMatrix &&
        !o.classificationReport &&
        !o.baselines &&
        !o.timeDifference &&
        !o.filters &&
        o.predictions === undefined;
      await withReadWriteStore(o.store ?? defaultStore(), async (store, writer) => {
        const t: TrialRow = findTrial(store, ref);
        await writer.getFiles?.(t.id, 'model');
        const dir = trialModelDir(store, ref);
        const base = checkSpec(t.config, t.experiment);
        const spec: Spec = { ...base, evaluate: parseArgs(evaluateSchema, block, 'evaluate') };
        const { model, pipeline } = loadForPrediction(dir, { pipeline: o.image !== undefined });
        const kinds: string[] = [];
        if (!imageOnly) kinds.push(...(await evaluateSplit(store, writer, t, model, spec, o.split)));
        if (o.image !== undefined) {
          const { x, notes } = fileInput(model, pipeline, o.image);
          let maps: ArrayArtifact[];
          try {
            maps = featureMapsOf(model, [x], featureMapLayers(o) ?? []);
          } catch (e) {
            throw new SpecFileError(`--feature-maps: ${(e as Error).message}`);
          }
          const written = await recordArtifacts(writer, t.id, maps);
          console.log(`Trial #${t.id} ${t.label} (experiment ${t.experiment}), feature maps of ${o.image}:`);
          for (const n of notes) console.log(`  ${n}`);
          for (const w of written) console.log(`  recorded ${w.kind} ${w.layer} [${w.shape.join(', ')}]`);
          kinds.push('feature-maps');
        }
        if (kinds.length)
          console.log(
            `\nDraw them with ${[...new Set(kinds)].map((k) => `\`convlab plot ${k} ${t.id}\``).join(', ')}, or \`convlab report ${t.experiment}\`.`,
          );
      });
    });
}

/** Evaluates a trial on one of its splits, records and prints what was asked; returns the kinds of figures made. */
async function evaluateSplit(
  store: RunStore,
  writer: AsyncRunStore,
  t: TrialRow,
  model: Model,
  spec: Spec,
  split: string,
): Promise<string[]> {
  const data = await prepareData(spec.data, spec.seed);
  checkEvaluate(model, data, spec);
  if (split === 'validation' && !data.validation)
    throw new SpecFileError(`--split validation: trial #${t.id}'s data block has no validation split`);
  const { final, evaluation, artifacts } = evaluateTrained(model, data, spec);
  const extra = store.extra(t.id);
  await writer.setExtra(t.id, { ...extra, evaluation: merge(extra.evaluation as Record<string, SplitEvaluation> | undefined, evaluation) });
  const written = await recordArtifacts(writer, t.id, artifacts);
  console.log(
    `Trial #${t.id} ${t.label} (experiment ${t.experiment}), ${split} split ` +
      `(${data[split === 'train' ? 'train' : split === 'validation' ? 'validation' : 'test']!.size.toLocaleString('en-US')} ` +
      `samples):`,
  );
  const logs = final[split];
  if (logs)
    console.log(
      `  ${Object.entries(logs)
        .map(([k, v]) => `${k} ${v.toFixed(4)}`)
        .join(', ')}`,
    );
  printEvaluation(evaluation, (l) => console.log(l));
  for (const w of written) console.log(`  recorded ${w.kind} ${w.layer} [${w.shape.join(', ')}]`);
  return [
    ...(evaluation[split]?.confusion_matrix ? ['confusion'] : []),
    ...written.map((w) => (w.kind === 'inputs' || w.kind === 'feature_maps' ? 'feature-maps' : w.kind)),
  ];
}
