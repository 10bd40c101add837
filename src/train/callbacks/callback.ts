/**
 * The callback hooks of fit(), as in Keras. Each hook gets the model's TrainingState: its model, optimizer and
 * generators, and the stopTraining flag a callback sets to end training.
 */
import type { TrainingState } from '../state.js';

export type Logs = Record<string, number>;

export interface Callback {
  onTrainBegin?(training: TrainingState): void;
  onEpochBegin?(epoch: number, training: TrainingState): void;
  onBatchBegin?(batch: number, training: TrainingState): void;
  onBatchEnd?(batch: number, logs: Logs, training: TrainingState): void;
  onEpochEnd?(epoch: number, logs: Logs, training: TrainingState): void;
  onTrainEnd?(logs: Logs, training: TrainingState): void;
  /**
   * What a callback has learned so far (best value, epochs waited, ...), as JSON-able data, so a run resumed from a
   * checkpoint continues as if never interrupted. fit() hands it back through setState after onTrainBegin.
   */
  getState?(): unknown;
  setState?(saved: unknown, training: TrainingState): void;
}

/** Float32 arrays as base64 text for callback states (JSON). */
export function packArrays(arrays: readonly Float32Array[]): string[] {
  return arrays.map((a) => Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('base64'));
}

export function unpackArrays(packed: readonly string[]): Float32Array[] {
  return packed.map((s) => {
    const b = Buffer.from(s, 'base64');
    const out = new Float32Array(b.byteLength / 4);
    new Uint8Array(out.buffer).set(b);
    return out;
  });
}
