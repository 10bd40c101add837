/** LearningRateScheduler (Keras): the learning rate of each epoch from a function of (epoch, current rate). */
import type { TrainingState } from '../state.js';
import type { Callback } from './callback.js';

export class LearningRateScheduler implements Callback {
  constructor(private readonly schedule: (epoch: number, lr: number) => number) {}

  onEpochBegin(epoch: number, training: TrainingState): void {
    const opt = training.optimizer;
    const lr = this.schedule(epoch, opt.currentLearningRate());
    if (!(Number.isFinite(lr) && lr >= 0))
      throw new Error(`LearningRateScheduler: the schedule gave ${lr} for epoch ${epoch}: expected a finite rate ≥ 0`);
    opt.learningRate = lr;
  }
}
