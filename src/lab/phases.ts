/**
 * Training in phases (train.phases): each phase trains for its epochs with a fresh optimizer and its own set of
 * trainable layers, one after another, as fine-tuning does (first the new top on a frozen base, then part of the
 * base at a lower rate). A run resumed after an interruption picks up in the phase it was in, with that phase's
 * optimizer state; the dropout and shuffle generators run on across phases, so a resumed run matches a whole one.
 */
import type { Model } from '../nn/model.js';
import { SpecError } from '../util/spec_error.js';
import type { OptimizerSpec } from '../train/optimizers/index.js';
import type { PhaseTrainable, Spec } from './spec.js';

export interface Phase {
  index: number;
  /** The epochs [start, end) of the whole run that the phase trains. */
  start: number;
  end: number;
  optimizer: OptimizerSpec;
  trainable?: PhaseTrainable;
}

/** The run's phases: train.phases, or one phase of train.epochs with train.optimizer. */
export function phasesOf(spec: Spec): Phase[] {
  const list = spec.train.phases ?? [{ epochs: spec.train.epochs }];
  let start = 0;
  return list.map((p, index) => {
    const phase = {
      index,
      start,
      end: start + p.epochs,
      optimizer: (p.optimizer ?? spec.train.optimizer) as OptimizerSpec,
      trainable: 'trainable' in p ? p.trainable : undefined,
    };
    start = phase.end;
    return phase;
  });
}

/** Whether a layer name is `name` or lies under it (layer4 covers layer4.0.conv1). */
const covers = (name: string, layer: string) => layer === name || layer.startsWith(`${name}.`);

/** The layers' trainable flags for a phase; `initial` holds the flags the model block gave. */
export function trainableFlags(
  model: Model,
  trainable: PhaseTrainable | undefined,
  initial: readonly boolean[],
  path: (string | number)[],
): boolean[] {
  const layers = model.layers;
  if (trainable === undefined) return [...initial];
  if (trainable === 'all') return layers.map(() => true);
  const known = (name: string, p: (string | number)[]) => {
    if (!layers.some((l) => covers(name, l.name))) {
      const names = layers.map((l) => l.name);
      const shown = names.length > 12 ? `${names.slice(0, 12).join(', ')}, ...` : names.join(', ');
      throw new SpecError([{ path: p, message: `no layer '${name}' (nor layers under it): the model's layers are ${shown}` }]);
    }
  };
  if ('from' in trainable) {
    known(trainable.from, [...path, 'from']);
    const first = layers.findIndex((l) => covers(trainable.from, l.name));
    return layers.map((_, i) => i >= first);
  }
  trainable.only.forEach((n, i) => known(n, [...path, 'only', i]));
  return layers.map((l) => trainable.only.some((n) => covers(n, l.name)));
}

/** Checks every phase's layer names against the model before any data is read. */
export function checkPhases(model: Model, spec: Spec): void {
  const initial = model.layers.map((l) => l.trainable);
  (spec.train.phases ?? []).forEach((p, i) => trainableFlags(model, p.trainable, initial, ['train', 'phases', i, 'trainable']));
}

/** Sets the layers' trainable flags for a phase. */
export function enterPhase(model: Model, phase: Phase, initial: readonly boolean[]): void {
  const flags = trainableFlags(model, phase.trainable, initial, ['train', 'phases', phase.index, 'trainable']);
  model.layers.forEach((l, i) => {
    l.trainable = flags[i];
  });
}

/**
 * Where a run with these epochs behind it goes on: the phase and the epoch. A phase that had stopped early (its
 * last epoch set stopTraining) is over; the next one begins at its own start.
 */
export function resumePoint(
  phases: readonly Phase[],
  earlier: readonly { epoch: number }[],
  stopped: boolean,
): { phase: number; epoch: number } {
  if (!earlier.length) return { phase: 0, epoch: 0 };
  const last = earlier[earlier.length - 1].epoch;
  const j = phases.findIndex((p) => last < p.end);
  if (j < 0) return { phase: phases.length, epoch: last + 1 };
  if (stopped || last + 1 >= phases[j].end) return { phase: j + 1, epoch: phases[j + 1]?.start ?? last + 1 };
  return { phase: j, epoch: last + 1 };
}
