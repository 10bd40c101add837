/** Adagrad (Keras 3): accumulates g² from 0.1; p −= lr·g / sqrt(acc + ε). */
import { z } from 'zod';
import { Optimizer, parseOptimizerArgs, type OptimizerArgs } from './optimizer.js';

const shape = { initialAccumulatorValue: z.number().nonnegative().default(0.1), epsilon: z.number().positive().default(1e-7) };
export type AdagradArgs = OptimizerArgs & { initialAccumulatorValue?: number; epsilon?: number };

export class Adagrad extends Optimizer {
  readonly className = 'Adagrad';
  readonly initialAccumulatorValue: number;
  readonly epsilon: number;
  constructor(args: AdagradArgs = {}) {
    const a = parseOptimizerArgs(shape, args, 'Adagrad');
    super(a, 0.001);
    this.initialAccumulatorValue = a.initialAccumulatorValue;
    this.epsilon = a.epsilon;
  }
  protected slotSpec() {
    return { count: 1, init: this.initialAccumulatorValue };
  }
  protected update(p: Float32Array, g: Float32Array, s: Float32Array[], lr: number): void {
    const acc = s[0];
    for (let i = 0; i < p.length; i++) {
      acc[i] += g[i] * g[i];
      p[i] -= (lr * g[i]) / Math.sqrt(acc[i] + this.epsilon);
    }
  }
  protected hyperparameters() {
    return { initial_accumulator_value: this.initialAccumulatorValue, epsilon: this.epsilon };
  }
}
