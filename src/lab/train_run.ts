/** Runs one spec end to end: seed → data → model → compile → fit → evaluate on every split. */
import { getBackend } from '../engine/backend.js';
import { getThreads, nativeIsa } from '../engine/backends/native/index.js';
import { setSeed } from '../engine/random.js';
import { prepareData, type PreparedData } from '../data/spec.js';
import type { Model } from '../nn/model.js';
import { resetNames } from '../nn/naming.js';
import { SpecError } from '../nn/spec.js';
import type { Logs } from '../train/callbacks.js';
import type { History } from '../train/trainer.js';
import { saveModel } from '../nn/saving.js';
import { buildModelFromSpec } from './model_spec.js';
import type { Spec } from './spec.js';

export interface RunResult {
  name: string;
  history: History;
  final: Record<string, Logs>;
  params: number;
  trainableParams: number;
  seconds: number;
  backend: string;
  /** Threads of the native backend (1 for the TypeScript backend). */
  threads: number;
  /** The native GEMM's instruction set, or null on the TypeScript backend. */
  isa: string | null;
}

/** Builds the model of a spec (names restart, weights follow the seed). */
export function buildSpecModel(spec: Spec): Model {
  resetNames();
  setSeed(spec.seed);
  return buildModelFromSpec(spec.model);
}

function checkShapes(model: Model, data: PreparedData): void {
  const expected = model.inputs[0].shape.slice(1);
  const got = data.sampleShape;
  if (model.inputs.length !== 1 || expected.length !== got.length || expected.some((d, i) => d !== got[i])) {
    throw new SpecError([{ path: ['model', 'input'], message: `the data gives samples of shape [${got.join(', ')}] but the model expects [${expected.join(', ')}]` }]);
  }
  const units = model.outputs[0].shape[model.outputs[0].shape.length - 1];
  if (model.outputs.length === 1 && units !== null && units !== 1 && units !== data.classNames.length) {
    throw new SpecError([{ path: ['model', 'layers'], message: `the last layer has ${units} units but the data has ${data.classNames.length} classes` }]);
  }
}

export async function runSpec(spec: Spec, options: { verbose?: 0 | 1; saveTo?: string } = {}): Promise<RunResult> {
  const model = buildSpecModel(spec);
  const data = await prepareData(spec.data, spec.seed);
  checkShapes(model, data);
  model.compile({ optimizer: spec.train.optimizer, loss: spec.train.loss, lossWeights: spec.train.loss_weights, metrics: spec.train.metrics });
  const started = performance.now();
  const history = model.fit(data.train, {
    epochs: spec.train.epochs,
    batchSize: spec.train.batch_size,
    shuffle: spec.train.shuffle,
    validationData: data.validation,
    verbose: options.verbose ?? 1,
  });
  const seconds = (performance.now() - started) / 1000;
  const final: Record<string, Logs> = { train: model.evaluate(data.train) };
  if (data.validation) final.validation = model.evaluate(data.validation);
  final.test = model.evaluate(data.test);
  if (options.saveTo) saveModel(model, options.saveTo);
  return {
    name: spec.name,
    history,
    final,
    params: model.countParams(),
    trainableParams: model.trainableWeights.reduce((n, w) => n + w.value.size, 0),
    seconds,
    backend: getBackend().name,
    threads: getBackend().name === 'native' ? getThreads() : 1,
    isa: getBackend().name === 'native' ? nativeIsa() : null,
  };
}
