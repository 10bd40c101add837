/**
 * Keras' training methods on Model: compile, fit, evaluate, trainOnBatch, plus the optimizer and stopTraining
 * properties. They are thin delegates to the trainer. nn sits below train and cannot import it, so train adds them
 * to Model's prototype and declares them on Model's type; importing convlab (or convlab's train module) installs them.
 */
import { Tensor } from '../engine/tensor.js';
import { tensorSource, type BatchSource } from '../data/source.js';
import { Model } from '../nn/model.js';
import type { Logs } from './callbacks/callback.js';
import type { Optimizer } from './optimizers/index.js';
import { compile, optimizerOf, trainingState, type CompileArgs } from './state.js';
import {
  type AsyncFitOptions,
  evaluateSource,
  fit,
  fitAsync,
  trainOnBatch,
  type EvaluateOptions,
  type FitOptions,
  type History,
} from './trainer.js';

declare module '../nn/model.js' {
  interface Model {
    /** Sets the optimizer, per-output losses, loss weights and metrics. */
    compile(args: CompileArgs): this;
    /** Trains on tensors (x, y) or on a BatchSource; returns the History. */
    fit(x: Tensor | Tensor[] | BatchSource, y?: Tensor | Tensor[] | FitOptions, options?: FitOptions): History;
    /** fit(), awaiting `afterEpoch` after each epoch before the next (the event loop runs between epochs). */
    fitAsync(x: Tensor | Tensor[] | BatchSource, y?: Tensor | Tensor[] | AsyncFitOptions, options?: AsyncFitOptions): Promise<History>;
    /** One training step on one batch (Keras' train_on_batch); returns the batch loss. */
    trainOnBatch(x: Tensor | Tensor[], y: Tensor | Tensor[]): number;
    /** Loss and metrics in inference mode, on tensors (x, y) or on a BatchSource. */
    evaluate(x: Tensor | Tensor[] | BatchSource, y?: Tensor | Tensor[], options?: EvaluateOptions): Logs;
    /** The optimizer of a compiled model. */
    readonly optimizer: Optimizer;
    /** Set to true (by a callback, say) to end fit() after the current batch. */
    stopTraining: boolean;
  }
}

function isSource(x: unknown): x is BatchSource {
  return (
    typeof x === 'object' && x !== null && !(x instanceof Tensor) && !Array.isArray(x) && typeof (x as BatchSource).batch === 'function'
  );
}

const list = (t: Tensor | Tensor[]): Tensor[] => (Array.isArray(t) ? t : [t]);

Object.defineProperties(Model.prototype, {
  compile: {
    value(this: Model, args: CompileArgs): Model {
      compile(this, args);
      return this;
    },
  },
  fit: {
    value(this: Model, x: Tensor | Tensor[] | BatchSource, y?: Tensor | Tensor[] | FitOptions, options?: FitOptions): History {
      if (isSource(x)) return fit(this, x, (y as FitOptions | undefined) ?? {});
      if (!(y instanceof Tensor || Array.isArray(y))) throw new Error('fit(x, y, options) needs targets y');
      return fit(this, tensorSource(x, y), options ?? {});
    },
  },
  fitAsync: {
    value(
      this: Model,
      x: Tensor | Tensor[] | BatchSource,
      y?: Tensor | Tensor[] | AsyncFitOptions,
      options?: AsyncFitOptions,
    ): Promise<History> {
      if (isSource(x)) return fitAsync(this, x, (y as AsyncFitOptions | undefined) ?? {});
      if (!(y instanceof Tensor || Array.isArray(y))) return Promise.reject(new Error('fitAsync(x, y, options) needs targets y'));
      return fitAsync(this, tensorSource(x, y), options ?? {});
    },
  },
  trainOnBatch: {
    value(this: Model, x: Tensor | Tensor[], y: Tensor | Tensor[]): number {
      return trainOnBatch(this, list(x), list(y)).loss;
    },
  },
  evaluate: {
    value(this: Model, x: Tensor | Tensor[] | BatchSource, y?: Tensor | Tensor[], options: EvaluateOptions = {}): Logs {
      if (isSource(x)) return evaluateSource(this, x, options);
      if (!y) throw new Error('evaluate(x, y) needs targets y');
      return evaluateSource(this, tensorSource(x, y), options);
    },
  },
  optimizer: {
    get(this: Model): Optimizer {
      return optimizerOf(this);
    },
  },
  stopTraining: {
    get(this: Model): boolean {
      return trainingState(this).stopTraining;
    },
    set(this: Model, stop: boolean) {
      trainingState(this).stopTraining = stop;
    },
  },
});
