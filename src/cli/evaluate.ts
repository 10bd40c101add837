/**
 * `convlab evaluate TRIAL`: analysis after training, from the weights a trial keeps. Confusion matrices,
 * classification reports, baselines, feature maps, filters and sample predictions are computed on the trial's own
 * data splits (the same seed gives the same splits), recorded in the store, and `plot` and `report` draw them.
 */
import type { Command } from 'commander';
import { prepareData } from '../data/spec.js';
import { recordArtifacts } from '../lab/runner.js';
import { checkSpec, evaluateSchema, SpecFileError, type Spec } from '../lab/spec.js';
import type { TrialRow } from '../lab/store.js';
import { checkEvaluate } from '../lab/run_checks.js';
import { evaluateTrained, type SplitEvaluation } from '../lab/run_evaluate.js';
import { parseArgs } from '../nn/schema.js';
import { printEvaluation } from './evaluation.js';
import { defaultStore, findTrial, withStore } from './lab.js';
import { loadForPrediction, trialModelDir } from './predict.js';

interface EvaluateFlags {
  split: string;
  confusionMatrix?: boolean;
  classificationReport?: boolean;
  baselines?: boolean;
  featureMaps?: string;
  samples?: string;
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
  const none = !o.confusionMatrix && !o.classificationReport && !o.baselines && !o.featureMaps && !o.filters && o.predictions === undefined;
  const layers = o.featureMaps
    ?.split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((s) => (/^\d+$/.test(s) ? Number(s) : s));
  return {
    on: [o.split],
    confusion_matrix: none || o.confusionMatrix ? 'both' : false,
    classification_report: none || Boolean(o.classificationReport),
    baselines: o.baselines ? ['most_frequent', 'stratified', 'uniform'] : [],
    ...(layers ? { feature_maps: { layers, samples: positive('--samples', o.samples, 1), split: o.split } } : {}),
    ...(o.filters ? { filters: true } : {}),
    ...(o.predictions !== undefined
      ? { predictions: { count: positive('--predictions', o.predictions, 36), split: o.split, only: o.errors ? 'errors' : 'all' } }
      : {}),
  };
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
    .option('--feature-maps <layers>', 'activations of these layers (names or indices, comma-separated)')
    .option('--samples <n>', 'feature maps: how many samples (default 1)')
    .option('--filters', 'the kernels of every Conv2D layer')
    .option('--predictions <n>', 'n images of the split with their predicted classes')
    .option('--errors', 'predictions: only misclassified images')
    .option('--store <dir>', 'the run store folder (default .convlab, or CONVLAB_STORE)')
    .action(async (ref: string, o: EvaluateFlags) => {
      const block = evaluateBlock(o);
      await withStore(o.store ?? defaultStore(), async (store) => {
        const t: TrialRow = findTrial(store, ref);
        const dir = trialModelDir(store, ref);
        const base = checkSpec(t.config, t.experiment);
        const spec: Spec = { ...base, evaluate: parseArgs(evaluateSchema, block, 'evaluate') };
        const { model } = loadForPrediction(dir, { pipeline: false });
        const data = await prepareData(spec.data, spec.seed);
        checkEvaluate(model, data, spec);
        if (o.split === 'validation' && !data.validation)
          throw new SpecFileError(`--split validation: trial #${t.id}'s data block has no validation split`);
        const { final, evaluation, artifacts } = evaluateTrained(model, data, spec);
        const extra = store.extra(t.id);
        store.setExtra(t.id, { ...extra, evaluation: merge(extra.evaluation as Record<string, SplitEvaluation> | undefined, evaluation) });
        const written = recordArtifacts(store, t.id, artifacts);
        console.log(
          `Trial #${t.id} ${t.label} (experiment ${t.experiment}), ${o.split} split ` +
            `(${data[o.split === 'train' ? 'train' : o.split === 'validation' ? 'validation' : 'test']!.size.toLocaleString('en-US')} ` +
            `samples):`,
        );
        const logs = final[o.split];
        if (logs)
          console.log(
            `  ${Object.entries(logs)
              .map(([k, v]) => `${k} ${v.toFixed(4)}`)
              .join(', ')}`,
          );
        printEvaluation(evaluation, (l) => console.log(l));
        for (const w of written) console.log(`  recorded ${w.kind} ${w.layer} [${w.shape.join(', ')}]`);
        const kinds = [
          ...(evaluation[o.split]?.confusion_matrix ? ['confusion'] : []),
          ...new Set(written.map((w) => (w.kind === 'inputs' ? 'feature-maps' : w.kind === 'feature_maps' ? 'feature-maps' : w.kind))),
        ];
        if (kinds.length)
          console.log(
            `\nDraw them with ${kinds.map((k) => `\`convlab plot ${k} ${t.id}\``).join(', ')}, or \`convlab report ${t.experiment}\`.`,
          );
      });
    });
}
