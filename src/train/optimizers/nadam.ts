/** Nadam (Keras 3): Adam with Nesterov momentum and the 0.96-decay momentum schedule. */
import { z } from 'zod';
import { Optimizer, parseOptimizerArgs, type OptimizerArgs } from './optimizer.js';

const shape = {
  beta1: z.number().min(0).lt(1).default(0.9),
  beta2: z.number().min(0).lt(1).default(0.999),
  epsilon: z.number().positive().default(1e-7),
};
export type NadamArgs = OptimizerArgs & { beta1?: number; beta2?: number; epsilon?: number };

export class Nadam extends Optimizer {
  readonly className = 'Nadam';
  readonly beta1: number;
  readonly beta2: number;
  readonly epsilon: number;
  private uT = 0;
  private uT1 = 0;
  private uProductT = 1;
  constructor(args: NadamArgs = {}) {
    const a = parseOptimizerArgs(shape, args, 'Nadam');
    super(a, 0.001);
    this.beta1 = a.beta1;
    this.beta2 = a.beta2;
    this.epsilon = a.epsilon;
    this.extra.uProduct = 1;
  }
  protected slotSpec() {
    return { count: 2, init: 0 };
  }
  protected override beginStep(t: number): void {
    this.uT = this.beta1 * (1 - 0.5 * 0.96 ** t);
    this.uT1 = this.beta1 * (1 - 0.5 * 0.96 ** (t + 1));
    this.uProductT = (this.extra.uProduct ?? 1) * this.uT;
    this.extra.uProduct = this.uProductT;
  }
  protected update(p: Float32Array, g: Float32Array, s: Float32Array[], lr: number, t: number): void {
    const [m, v] = s;
    const { beta1: b1, beta2: b2, epsilon: eps, uT, uT1, uProductT } = this;
    const uProductT1 = uProductT * uT1;
    const b2Power = b2 ** t;
    for (let i = 0; i < p.length; i++) {
      m[i] += (g[i] - m[i]) * (1 - b1);
      v[i] += (g[i] * g[i] - v[i]) * (1 - b2);
      const mHat = (uT1 * m[i]) / (1 - uProductT1) + ((1 - uT) * g[i]) / (1 - uProductT);
      const vHat = v[i] / (1 - b2Power);
      p[i] -= (mHat * lr) / (Math.sqrt(vHat) + eps);
    }
  }
  protected hyperparameters() {
    return { beta_1: this.beta1, beta_2: this.beta2, epsilon: this.epsilon };
  }
}
