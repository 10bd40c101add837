/** SGD with optional momentum and Nesterov momentum (Keras 3: v = μv − lr·g; p += v, or p += μv − lr·g). */
import { z } from 'zod';
import { sgdStep } from '../../engine/updates.js';
import { Optimizer, parseOptimizerArgs, type OptimizerArgs } from './optimizer.js';

const shape = { momentum: z.number().min(0).max(1).default(0), nesterov: z.boolean().default(false) };
export type SGDArgs = OptimizerArgs & { momentum?: number; nesterov?: boolean };

export class SGD extends Optimizer {
  readonly className = 'SGD';
  readonly momentum: number;
  readonly nesterov: boolean;
  constructor(args: SGDArgs = {}) {
    const a = parseOptimizerArgs(shape, args, 'SGD');
    super(a, 0.01);
    this.momentum = a.momentum;
    this.nesterov = a.nesterov;
  }
  protected slotSpec() {
    return { count: this.momentum > 0 ? 1 : 0, init: 0 };
  }
  protected update(p: Float32Array, g: Float32Array, s: Float32Array[], lr: number): void {
    sgdStep(p, g, this.momentum > 0 ? s[0] : null, lr, this.momentum, this.nesterov);
  }
  protected hyperparameters() {
    return { momentum: this.momentum, nesterov: this.nesterov };
  }
}
