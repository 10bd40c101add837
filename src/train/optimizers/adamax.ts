/** Adamax (Keras 3): Adam with the infinity norm, u = max(β₂u, |g|). */
import { z } from 'zod';
import { Optimizer, parseOptimizerArgs, type OptimizerArgs } from './optimizer.js';

const shape = {
  beta1: z.number().min(0).lt(1).default(0.9),
  beta2: z.number().min(0).lt(1).default(0.999),
  epsilon: z.number().positive().default(1e-7),
};
export type AdamaxArgs = OptimizerArgs & { beta1?: number; beta2?: number; epsilon?: number };

export class Adamax extends Optimizer {
  readonly className = 'Adamax';
  readonly beta1: number;
  readonly beta2: number;
  readonly epsilon: number;
  constructor(args: AdamaxArgs = {}) {
    const a = parseOptimizerArgs(shape, args, 'Adamax');
    super(a, 0.001);
    this.beta1 = a.beta1;
    this.beta2 = a.beta2;
    this.epsilon = a.epsilon;
  }
  protected slotSpec() {
    return { count: 2, init: 0 };
  }
  protected update(p: Float32Array, g: Float32Array, s: Float32Array[], lr: number, t: number): void {
    const [m, u] = s;
    const { beta1: b1, beta2: b2, epsilon } = this;
    const step = lr / (1 - b1 ** t);
    for (let i = 0; i < p.length; i++) {
      m[i] += (g[i] - m[i]) * (1 - b1);
      u[i] = Math.max(b2 * u[i], Math.abs(g[i]));
      p[i] -= (step * m[i]) / (u[i] + epsilon);
    }
  }
  protected hyperparameters() {
    return { beta_1: this.beta1, beta_2: this.beta2, epsilon: this.epsilon };
  }
}
