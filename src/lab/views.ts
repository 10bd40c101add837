/**
 * Which trials a view of an experiment shows: the one rule every command (ls, compare, report, plot) follows.
 *
 * By default a view shows the trials of the study as its spec is now: the trials its sweep expands to. Trials of
 * earlier versions of the spec (other epochs, other subsets, removed variants) stay in the store and are shown with
 * `all`. Then every trial is labelled so that two trials share a label (and are drawn as one line, or averaged as
 * repeats) only when their resolved configs differ in nothing but the seed.
 */
import { diffConfigs } from './compare.js';
import type { ExperimentRow, RunStore, TrialRow } from './store.js';
import { expandSweep, hashSpec } from './sweep.js';
import { maxOf } from '../util/numbers.js';

export interface ViewOptions {
  /** Also the trials of earlier versions of the spec, each labelled apart. */
  all?: boolean;
}

/** The trial keys of the experiment's spec as it is now, or null when the stored spec no longer expands. */
function currentKeys(experiment: ExperimentRow): Set<string> | null {
  try {
    return new Set(expandSweep(experiment.spec).map((p) => p.key));
  } catch {
    return null;
  }
}

/** A trial's configuration without its seed: repeats of one configuration share it. */
export function configKey(t: TrialRow): string {
  const { seed: _seed, ...rest } = t.config;
  void _seed;
  return hashSpec(rest);
}

/** The trials a view shows, in id order, with labels that never join two different configurations. */
export function viewTrials(store: RunStore, experiment: ExperimentRow, options: ViewOptions = {}): TrialRow[] {
  const every = store.trials(experiment.id);
  const keys = currentKeys(experiment);
  const current = keys ? every.filter((t) => keys.has(t.key)) : every;
  const shown = options.all || current.length === 0 ? every : current;
  return distinctLabels(shown, keys);
}

/**
 * Where one label (group) stands for several configurations, each configuration other than the current spec's
 * gets the fields that set it apart added to its label: 'Baseline [train.epochs=1, data.subset.train=1000]'.
 */
export function distinctLabels(trials: readonly TrialRow[], currentKeys: Set<string> | null = null): TrialRow[] {
  const byGroup = new Map<string, Map<string, TrialRow[]>>();
  for (const t of trials) {
    const configs = byGroup.get(t.group) ?? new Map<string, TrialRow[]>();
    const k = configKey(t);
    configs.set(k, [...(configs.get(k) ?? []), t]);
    byGroup.set(t.group, configs);
  }
  const suffix = new Map<number, string>();
  for (const configs of byGroup.values()) {
    if (configs.size < 2) continue;
    const groups = [...configs.values()];
    // The reference: the configuration of the spec as it is now, else the newest.
    const reference =
      groups.find((g) => currentKeys && g.some((t) => currentKeys.has(t.key))) ??
      groups.reduce((a, b) => (maxOf(b, (t) => t.id) > maxOf(a, (t) => t.id) ? b : a));
    const used = new Set<string>();
    for (const g of groups) {
      if (g === reference) continue;
      const changes = diffConfigs(reference[0].config, g[0].config).filter((c) => c.path !== 'seed');
      let tag =
        changes
          .slice(0, 3)
          .map((c) => `${c.path}=${c.b === undefined ? '(absent)' : JSON.stringify(c.b)}`)
          .join(', ') + (changes.length > 3 ? `, +${changes.length - 3} more` : '');
      if (!tag || used.has(tag)) tag = `${tag ? `${tag}, ` : ''}trials ${g.map((t) => `#${t.id}`).join(' ')}`;
      used.add(tag);
      for (const t of g) suffix.set(t.id, ` [${tag}]`);
    }
  }
  return trials.map((t) => {
    const s = suffix.get(t.id);
    if (!s) return t;
    const repeat = t.label.slice(t.group.length);
    // The variant carries the tag too, so figures that split series by variant keep the versions apart.
    return { ...t, group: `${t.group}${s}`, label: `${t.group}${s}${repeat}`, variant: `${t.variant ?? ''}${s}`.trim() };
  });
}
