/** Adam (Keras 3): bias correction folded into the step size; optional AMSGrad. */
import { z } from 'zod';
import { adamStep } from '../../engine/updates.js';
import { Optimizer, parseOptimizerArgs, type OptimizerArgs } from './optimizer.js';

export const adamShape = {
  beta1: z.number().min(0).lt(1).default(0.9),
  beta2: z.number().min(0).lt(1).default(0.999),
  epsilon: z.number().positive().default(1e-7),
  amsgrad: z.boolean().default(false),
};
export type AdamArgs = OptimizerArgs & { beta1?: number; beta2?: number; epsilon?: number; amsgrad?: boolean };

export class Adam extends Optimizer {
  readonly className: string = 'Adam';
  readonly beta1: number;
  readonly beta2: number;
  readonly epsilon: number;
  readonly amsgrad: boolean;
  constructor(args: AdamArgs = {}, owner = 'Adam', extraShape: Record<string, z.ZodType> = {}) {
    const a = parseOptimizerArgs({ ...adamShape, ...extraShape }, args, owner) as ReturnType<typeof parseOptimizerArgs<typeof adamShape>>;
    super(a, 0.001);
    this.beta1 = a.beta1;
    this.beta2 = a.beta2;
    this.epsilon = a.epsilon;
    this.amsgrad = a.amsgrad;
  }
  protected slotSpec() {
    return { count: this.amsgrad ? 3 : 2, init: 0 };
  }
  protected update(p: Float32Array, g: Float32Array, s: Float32Array[], lr: number, t: number): void {
    const { beta1: b1, beta2: b2, epsilon: eps } = this;
    const alpha = (lr * Math.sqrt(1 - b2 ** t)) / (1 - b1 ** t);
    adamStep(p, g, s[0], s[1], this.amsgrad ? s[2] : null, alpha, b1, b2, eps);
  }
  protected hyperparameters(): Record<string, unknown> {
    return { beta_1: this.beta1, beta_2: this.beta2, epsilon: this.epsilon, amsgrad: this.amsgrad };
  }
}
