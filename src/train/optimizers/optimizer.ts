/**
 * The optimizer base: learning rate (a number or a function of the step), gradient clipping, decoupled weight
 * decay, per-weight slots and the step counter. Subclasses write one update rule over flat Float32Arrays, with
 * Keras 3's formulas and defaults. State (iterations and slots) can be saved and restored to resume training.
 */
import { z } from 'zod';
import type { Weight } from '../../nn/layer.js';
import { parseArgs } from '../../nn/schema.js';

export type LearningRate = number | ((step: number) => number);

export const optimizerArgs = {
  learningRate: z
    .union([z.number().positive(), z.custom<(step: number) => number>((v) => typeof v === 'function', 'a function of the step')])
    .optional(),
  clipnorm: z.number().positive().nullable().optional(),
  clipvalue: z.number().positive().nullable().optional(),
  globalClipnorm: z.number().positive().nullable().optional(),
  weightDecay: z.number().nonnegative().nullable().optional(),
  name: z.string().optional(),
};

export type OptimizerArgs = {
  learningRate?: LearningRate;
  clipnorm?: number | null;
  clipvalue?: number | null;
  globalClipnorm?: number | null;
  weightDecay?: number | null;
  name?: string;
};

export interface OptimizerState {
  iterations: number;
  /** Per weight name, its slot arrays. */
  slots: Record<string, Float32Array[]>;
  extra: Record<string, number>;
}

export abstract class Optimizer {
  abstract readonly className: string;
  learningRate: LearningRate;
  readonly clipnorm: number | null;
  readonly clipvalue: number | null;
  readonly globalClipnorm: number | null;
  readonly weightDecay: number | null;
  iterations = 0;
  /** Each weight's slot arrays, keyed by the weight itself: two weights that share a name never share state. */
  protected slots = new Map<Weight, Float32Array[]>();
  /** Slots loaded by setState, by weight name, taken by the first weight of that name and size to be updated. */
  private restored = new Map<string, Float32Array[]>();
  /** Scalars some optimizers keep across steps (Nadam's momentum product). */
  protected extra: Record<string, number> = {};

  protected constructor(args: OptimizerArgs, defaultLearningRate: number) {
    this.learningRate = args.learningRate ?? defaultLearningRate;
    this.clipnorm = args.clipnorm ?? null;
    this.clipvalue = args.clipvalue ?? null;
    this.globalClipnorm = args.globalClipnorm ?? null;
    this.weightDecay = args.weightDecay ?? null;
  }

  /** How many slot arrays each weight needs, and their initial value. */
  protected abstract slotSpec(): { count: number; init: number };

  /** Updates p in place from its gradient g. t is the 1-based step. */
  protected abstract update(p: Float32Array, g: Float32Array, slots: Float32Array[], lr: number, t: number): void;

  /** Called once per step before the per-weight updates. */
  protected beginStep(_t: number): void {}

  /** The learning rate the next step will use. */
  currentLearningRate(): number {
    return typeof this.learningRate === 'function' ? this.learningRate(this.iterations) : this.learningRate;
  }

  /** One step from (gradient, weight) pairs, as Keras' apply_gradients takes them; gradients as arrays or tensors. */
  applyGradients(pairs: readonly (readonly [Float32Array | { data: Float32Array }, Weight])[]): void {
    this.apply(
      pairs.map(([, w]) => w),
      pairs.map(([g]) => (g instanceof Float32Array ? g : g.data)),
    );
  }

  /** Applies one step to the weights given their gradients (same order). */
  apply(weights: readonly Weight[], grads: readonly Float32Array[]): void {
    if (grads.length !== weights.length)
      throw new TypeError(
        `${this.className}.apply: ${weights.length} weights but ${grads.length} gradients; expected one gradient per weight, in the same order`,
      );
    weights.forEach((w, i) => {
      const g = grads[i];
      if (!(g instanceof Float32Array) || g.length !== w.value.size) {
        throw new TypeError(
          `${this.className}.apply: the gradient of weight '${w.name}' (shape [${w.value.shape.join(', ')}], ` +
            `${w.value.size} values) has ${g instanceof Float32Array ? `${g.length} values` : 'no Float32Array'}`,
        );
      }
    });
    const lr = this.currentLearningRate();
    const gs = this.clip(grads);
    const t = this.iterations + 1;
    this.beginStep(t);
    const { count, init } = this.slotSpec();
    weights.forEach((w, i) => {
      let s = this.slots.get(w);
      if (!s) {
        const r = this.restored.get(w.name);
        if (r && r.length === count && r.every((a) => a.length === w.value.size)) {
          s = r;
          this.restored.delete(w.name);
        } else {
          s = Array.from({ length: count }, () => new Float32Array(w.value.size).fill(init));
        }
        this.slots.set(w, s);
      }
      const p = w.value.data;
      if (this.weightDecay) {
        const decay = 1 - this.weightDecay * lr;
        for (let j = 0; j < p.length; j++) p[j] *= decay;
      }
      this.update(p, gs[i], s, lr, t);
    });
    this.iterations = t;
  }

  private clip(grads: readonly Float32Array[]): Float32Array[] {
    let out = grads as Float32Array[];
    if (this.clipvalue !== null) {
      const c = this.clipvalue;
      out = out.map((g) => g.map((v) => Math.min(c, Math.max(-c, v))));
    }
    if (this.clipnorm !== null) {
      // Each gradient is clipped to its own norm.
      const c = this.clipnorm;
      out = out.map((g) => {
        const norm = Math.sqrt(g.reduce((s, v) => s + v * v, 0));
        return norm > c ? g.map((v) => (v * c) / norm) : g;
      });
    }
    if (this.globalClipnorm !== null) {
      const norm = Math.sqrt(out.reduce((s, g) => s + g.reduce((a, v) => a + v * v, 0), 0));
      const c = this.globalClipnorm;
      if (norm > c) out = out.map((g) => g.map((v) => (v * c) / norm));
    }
    return out;
  }

  /** Keras-style config (a function learning rate is recorded by name only). */
  getConfig(): Record<string, unknown> {
    return {
      name: this.className.toLowerCase(),
      learning_rate: typeof this.learningRate === 'function' ? `<function ${this.learningRate.name || 'schedule'}>` : this.learningRate,
      clipnorm: this.clipnorm,
      clipvalue: this.clipvalue,
      global_clipnorm: this.globalClipnorm,
      weight_decay: this.weightDecay,
      ...this.hyperparameters(),
    };
  }

  protected abstract hyperparameters(): Record<string, unknown>;

  /** Slots by weight name (a name held by several weights gets '#2', '#3', ... after the first). */
  getState(): OptimizerState {
    const slots: Record<string, Float32Array[]> = Object.fromEntries(this.restored);
    for (const [w, s] of this.slots) {
      let key = w.name;
      for (let k = 2; key in slots; k++) key = `${w.name}#${k}`;
      slots[key] = s;
    }
    return { iterations: this.iterations, slots, extra: { ...this.extra } };
  }

  setState(state: OptimizerState): void {
    this.iterations = state.iterations;
    this.slots = new Map();
    this.restored = new Map(Object.entries(state.slots).map(([k, v]) => [k, v.map((a) => Float32Array.from(a))]));
    this.extra = { ...state.extra };
  }
}

export function parseOptimizerArgs<S extends z.ZodRawShape>(shape: S, args: unknown, owner: string) {
  return parseArgs(z.strictObject({ ...optimizerArgs, ...shape }), args, owner);
}
