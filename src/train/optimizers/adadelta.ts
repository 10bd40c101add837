/** Adadelta (Keras 3): step = −sqrt(E[Δ²] + ε) / sqrt(E[g²] + ε) · g, scaled by the learning rate. */
import { z } from 'zod';
import { Optimizer, parseOptimizerArgs, type OptimizerArgs } from './optimizer.js';

const shape = { rho: z.number().min(0).lt(1).default(0.95), epsilon: z.number().positive().default(1e-7) };
export type AdadeltaArgs = OptimizerArgs & { rho?: number; epsilon?: number };

export class Adadelta extends Optimizer {
  readonly className = 'Adadelta';
  readonly rho: number;
  readonly epsilon: number;
  constructor(args: AdadeltaArgs = {}) {
    const a = parseOptimizerArgs(shape, args, 'Adadelta');
    super(a, 0.001);
    this.rho = a.rho;
    this.epsilon = a.epsilon;
  }
  protected slotSpec() {
    return { count: 2, init: 0 };
  }
  protected update(p: Float32Array, g: Float32Array, s: Float32Array[], lr: number): void {
    const [accGrad, accDelta] = s;
    const { rho, epsilon } = this;
    for (let i = 0; i < p.length; i++) {
      accGrad[i] = rho * accGrad[i] + (1 - rho) * g[i] * g[i];
      const delta = (-Math.sqrt(accDelta[i] + epsilon) * g[i]) / Math.sqrt(accGrad[i] + epsilon);
      accDelta[i] = rho * accDelta[i] + (1 - rho) * delta * delta;
      p[i] += lr * delta;
    }
  }
  protected hyperparameters() {
    return { rho: this.rho, epsilon: this.epsilon };
  }
}
