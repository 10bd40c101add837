/**
 * Measures one (engine, model, threads) configuration in its own process, so peak RSS belongs to it alone.
 * Prints one JSON line: {train_ips, infer_ips, peak_rss_mb}. Every figure is the median of the repetitions after
 * a warm-up; each engine trains with SGD on the same random data shape and a softmax cross-entropy loss.
 */
import { parseArgs } from 'node:util';
// Model's compile/fit/trainOnBatch come with the train module.
import '../src/train/index.js';

const { values } = parseArgs({
  options: {
    engine: { type: 'string' },
    model: { type: 'string' },
    threads: { type: 'string' },
    steps: { type: 'string', default: '5' },
    reps: { type: 'string', default: '3' },
    size: { type: 'string', default: '2048' },
    budget: { type: 'string', default: '0' },
  },
});
const engine = values.engine as string;
const threads = Number(values.threads);
let steps = Number(values.steps);
let reps = Number(values.reps);
const budget = Number(values.budget);
let repsDone = reps;

/**
 * With a time budget (slow peers), the warm-up step sets how much fits: one step per repetition, as many
 * repetitions as fit (at least one). Fewer than three are reported in reps_done and marked in the table.
 */
function fitBudget(stepSeconds: number): void {
  if (budget <= 0) return;
  const perRep = stepSeconds * steps;
  if (perRep * reps * 2 <= budget) return;
  steps = 1;
  // A step longer than half the budget: the (already timed) warm-up step is the only measurement.
  reps = stepSeconds * 2 > budget ? 0 : Math.max(1, Math.min(reps, Math.floor(budget / 2 / stepSeconds)));
  repsDone = reps;
}

/** Median of the timed repetitions, or the warm-up time when the budget allowed none. */
function seconds(times: number[], warmup: number): number {
  return times.length ? median(times) : warmup;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

function time(fn: () => void): number {
  const t0 = performance.now();
  fn();
  return (performance.now() - t0) / 1000;
}

function peakRssMb(): number {
  return process.resourceUsage().maxRSS / 1024;
}

async function convlab(): Promise<Record<string, number>> {
  process.env.CONVLAB_BACKEND = engine === 'convlab-native' ? 'native' : 'ts';
  const E = await import('../src/engine/index.js');
  const { MODELS, buildConvlabModel } = await import('./models.js');
  if (engine === 'convlab-native') E.setThreads(threads);
  const rng = new E.Random(1);
  const rand = (shape: number[]) =>
    new E.Tensor(
      Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rng.normal()),
      shape,
    );
  if (values.model === 'sgemm') {
    const n = Number(values.size);
    const a = rand([n, n]);
    const b = rand([n, n]);
    E.matmul(a, b);
    const t = median(Array.from({ length: reps }, () => time(() => E.matmul(a, b))));
    return { train_ips: (2 * n ** 3) / t / 1e9, infer_ips: 0, peak_rss_mb: peakRssMb() };
  }
  const spec = MODELS.find((m) => m.name === values.model)!;
  E.setSeed(1);
  const model = buildConvlabModel(spec.name);
  model.compile({ optimizer: { sgd: { learning_rate: 0.01 } }, loss: 'sparse_categorical_crossentropy' });
  const x = rand([spec.batch, ...spec.input]);
  const y = new E.Tensor(
    Float32Array.from({ length: spec.batch }, (_, i) => i % 10),
    [spec.batch],
  );
  model.trainOnBatch(x, y);
  const warm = time(() => model.trainOnBatch(x, y));
  fitBudget(warm);
  const train = Array.from({ length: reps }, () =>
    time(() => {
      for (let s = 0; s < steps; s++) model.trainOnBatch(x, y);
    }),
  );
  const warmInfer = time(() => model.predictBatch(x));
  const infer = Array.from({ length: reps }, () =>
    time(() => {
      for (let s = 0; s < steps; s++) model.predictBatch(x);
    }),
  );
  return {
    train_ips: (spec.batch * steps) / seconds(train, warm),
    infer_ips: (spec.batch * steps) / seconds(infer, warmInfer),
    peak_rss_mb: peakRssMb(),
    reps_done: repsDone,
  };
}

async function tfjs(): Promise<Record<string, number>> {
  const tf = await import('@tensorflow/tfjs');
  await tf.setBackend('cpu');
  const { MODELS } = await import('./models.js');
  if (values.model === 'sgemm') {
    const n = Number(values.size);
    const a = tf.randomNormal([n, n]);
    const b = tf.randomNormal([n, n]);
    tf.matMul(a, b).dataSync();
    const t = median(Array.from({ length: reps }, () => time(() => tf.tidy(() => tf.matMul(a, b).dataSync()))));
    return { train_ips: (2 * n ** 3) / t / 1e9, infer_ips: 0, peak_rss_mb: peakRssMb() };
  }
  const spec = MODELS.find((m) => m.name === values.model)!;
  const L = tf.layers;
  const conv = (filters: number, strides = 1, padding: 'same' | 'valid' = 'same', extra: Record<string, unknown> = {}) =>
    L.conv2d({ filters, kernelSize: 3, strides, padding, activation: 'relu', ...extra });
  const m = tf.sequential();
  const first = { inputShape: spec.input };
  switch (spec.name) {
    case 'A':
      [
        conv(16, 1, 'same', first),
        conv(16, 2),
        conv(32),
        conv(32, 2),
        L.dropout({ rate: 0.5 }),
        L.flatten(),
        L.dense({ units: 10, activation: 'softmax' }),
      ].forEach((l) => m.add(l));
      break;
    case 'B':
      [
        L.conv2d({ filters: 6, kernelSize: 5, activation: 'relu', ...first }),
        L.averagePooling2d({ poolSize: 2 }),
        L.conv2d({ filters: 16, kernelSize: 5, activation: 'relu' }),
        L.averagePooling2d({ poolSize: 2 }),
        L.conv2d({ filters: 120, kernelSize: 5, activation: 'relu' }),
        L.flatten(),
        L.dense({ units: 84, activation: 'relu' }),
        L.dense({ units: 10, activation: 'softmax' }),
      ].forEach((l) => m.add(l));
      break;
    case 'C':
      [
        conv(64, 1, 'valid', first),
        L.maxPooling2d({ poolSize: 2 }),
        L.flatten(),
        L.dense({ units: 100, activation: 'relu' }),
        L.dense({ units: 10, activation: 'softmax' }),
      ].forEach((l) => m.add(l));
      break;
    case 'D':
      [128, 256, 512].forEach((f, i) => {
        m.add(L.conv2d({ filters: f, kernelSize: 3, padding: 'same', ...(i === 0 ? first : {}) }));
        m.add(L.batchNormalization());
        m.add(L.leakyReLU({ alpha: 0.01 }));
        m.add(L.maxPooling2d({ poolSize: 2 }));
      });
      [
        L.flatten(),
        L.dense({ units: 512 }),
        L.batchNormalization(),
        L.leakyReLU({ alpha: 0.01 }),
        L.dense({ units: 10, activation: 'softmax' }),
      ].forEach((l) => m.add(l));
      break;
  }
  m.compile({ optimizer: tf.train.sgd(0.01), loss: 'sparseCategoricalCrossentropy' });
  const x = tf.randomNormal([spec.batch, ...spec.input]);
  const y = tf.tensor1d(
    Array.from({ length: spec.batch }, (_, i) => i % 10),
    'float32',
  );
  const step = async () => {
    await m.trainOnBatch(x, y);
  };
  const t0 = performance.now();
  await step();
  const warm = (performance.now() - t0) / 1000;
  fitBudget(warm);
  const train: number[] = [];
  for (let r = 0; r < reps; r++) {
    const t0 = performance.now();
    for (let s = 0; s < steps; s++) await step();
    train.push((performance.now() - t0) / 1000);
  }
  const predict = () => tf.tidy(() => (m.predict(x) as import('@tensorflow/tfjs').Tensor).dataSync());
  const warmInfer = time(predict);
  const infer = Array.from({ length: reps }, () =>
    time(() => {
      for (let s = 0; s < steps; s++) predict();
    }),
  );
  return {
    train_ips: (spec.batch * steps) / seconds(train, warm),
    infer_ips: (spec.batch * steps) / seconds(infer, warmInfer),
    peak_rss_mb: peakRssMb(),
    reps_done: repsDone,
  };
}

const result = engine === 'tfjs' ? await tfjs() : await convlab();
process.stdout.write(`${JSON.stringify(result)}\n`);
