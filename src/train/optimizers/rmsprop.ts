/** RMSprop (Keras 3): running mean of g², optional momentum and centering. */
import { z } from 'zod';
import { Optimizer, parseOptimizerArgs, type OptimizerArgs } from './optimizer.js';

const shape = {
  rho: z.number().min(0).lt(1).default(0.9),
  momentum: z.number().min(0).lt(1).default(0),
  epsilon: z.number().positive().default(1e-7),
  centered: z.boolean().default(false),
};
export type RMSpropArgs = OptimizerArgs & { rho?: number; momentum?: number; epsilon?: number; centered?: boolean };

export class RMSprop extends Optimizer {
  readonly className = 'RMSprop';
  readonly rho: number;
  readonly momentum: number;
  readonly epsilon: number;
  readonly centered: boolean;
  constructor(args: RMSpropArgs = {}) {
    const a = parseOptimizerArgs(shape, args, 'RMSprop');
    super(a, 0.001);
    this.rho = a.rho;
    this.momentum = a.momentum;
    this.epsilon = a.epsilon;
    this.centered = a.centered;
  }
  protected slotSpec() {
    return { count: 3, init: 0 };
  }
  protected update(p: Float32Array, g: Float32Array, s: Float32Array[], lr: number): void {
    const [v, mom, mg] = s;
    const { rho, momentum, epsilon } = this;
    for (let i = 0; i < p.length; i++) {
      v[i] = rho * v[i] + (1 - rho) * g[i] * g[i];
      let denom = v[i];
      if (this.centered) {
        mg[i] = rho * mg[i] + (1 - rho) * g[i];
        denom -= mg[i] * mg[i];
      }
      const increment = (lr * g[i]) / Math.sqrt(denom + epsilon);
      if (momentum > 0) {
        mom[i] = momentum * mom[i] + increment;
        p[i] -= mom[i];
      } else {
        p[i] -= increment;
      }
    }
  }
  protected hyperparameters() {
    return { rho: this.rho, momentum: this.momentum, epsilon: this.epsilon, centered: this.centered };
  }
}
