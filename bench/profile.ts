/**
 * Where a training step's time goes: `npm run profile -- --model A --threads 2 [--steps 20] [--backend native]`.
 * Every kernel of the active backend is wrapped with a timer, keyed by kernel and operand shapes; whatever a
 * step spends outside the kernels is counted as JavaScript (autograd, layers, glue). Prints a Markdown table.
 */
import { parseArgs } from 'node:util';
// Model's compile/fit/trainOnBatch come with the train module.
import '../src/train/index.js';

const USAGE = 'usage: npm run profile -- [--model A|B|C|D|E] [--threads N] [--steps N] [--backend native|ts]\n';
function fail(message: string): never {
  process.stderr.write(`profile: ${message}\n${USAGE}`);
  process.exit(2);
}

const options = {
  model: { type: 'string', default: 'A' },
  threads: { type: 'string', default: '0' },
  steps: { type: 'string', default: '20' },
  backend: { type: 'string', default: 'native' },
  help: { type: 'boolean', default: false },
} as const;
function parse() {
  try {
    return parseArgs({ options });
  } catch (e) {
    return fail((e as Error).message);
  }
}
const { values } = parse();
if (values.help) {
  process.stdout.write(USAGE);
  process.exit(0);
}
if (!['A', 'B', 'C', 'D', 'E'].includes(values.model)) fail(`--model ${values.model}: expected A, B, C, D or E`);
if (!['native', 'ts'].includes(values.backend)) fail(`--backend ${values.backend}: expected native or ts`);
for (const flag of ['threads', 'steps'] as const) {
  if (!/^\d+$/.test(values[flag])) fail(`--${flag} ${values[flag]}: expected a whole number`);
}
process.env.CONVLAB_BACKEND = values.backend;
const E = await import('../src/engine/index.js');
const { MODELS, buildConvlabModel } = await import('./models.js');
const threads = Number(values.threads);
if (threads > 0) E.setThreads(threads);
const steps = Math.max(1, Number(values.steps));

const backend = E.getBackend() as unknown as Record<string, unknown>;
const totals = new Map<string, { ms: number; calls: number }>();
let timing = false;
const shapeOf = (a: unknown): string => (Array.isArray(a) && a.every((v) => typeof v === 'number') ? `[${a.join(',')}]` : '');
for (const name of Object.keys(backend)) {
  const fn = backend[name];
  if (typeof fn !== 'function') continue;
  backend[name] = (...args: unknown[]) => {
    if (!timing) return (fn as (...a: unknown[]) => unknown).apply(backend, args);
    const t0 = performance.now();
    const out = (fn as (...a: unknown[]) => unknown).apply(backend, args);
    const key = `${name}${typeof args[0] === 'string' ? `(${args[0]})` : ''} ${args.map(shapeOf).filter(Boolean).join(' ')}`.trim();
    const entry = totals.get(key) ?? { ms: 0, calls: 0 };
    entry.ms += performance.now() - t0;
    entry.calls++;
    totals.set(key, entry);
    return out;
  };
}

const spec = MODELS.find((m) => m.name === values.model)!;
E.setSeed(1);
const model = buildConvlabModel(spec.name);
model.compile({ optimizer: { sgd: { learning_rate: 0.01 } }, loss: 'sparse_categorical_crossentropy' });
const rng = new E.Random(1);
const x = new E.Tensor(
  Float32Array.from({ length: spec.batch * spec.input.reduce((a, b) => a * b, 1) }, () => rng.normal()),
  [spec.batch, ...spec.input],
);
const y = new E.Tensor(
  Float32Array.from({ length: spec.batch }, (_, i) => i % 10),
  [spec.batch],
);
for (let i = 0; i < 3; i++) model.trainOnBatch(x, y);
// The same steps without the timers first: what the timers themselves cost shows as the difference.
let t0 = performance.now();
for (let i = 0; i < steps; i++) model.trainOnBatch(x, y);
const plainMs = (performance.now() - t0) / steps;
timing = true;
t0 = performance.now();
for (let i = 0; i < steps; i++) model.trainOnBatch(x, y);
const stepMs = (performance.now() - t0) / steps;
timing = false;

const rows = [...totals.entries()].map(([key, v]) => ({ key, ms: v.ms / steps, calls: v.calls / steps })).sort((a, b) => b.ms - a.ms);
const kernelMs = rows.reduce((s, r) => s + r.ms, 0);
const pct = (ms: number) => `${((100 * ms) / stepMs).toFixed(1)}%`;
const lines = [
  `Model ${spec.name}, batch ${spec.batch}, ${E.getBackend().name} backend, ${E.getThreads()} thread(s): ${stepMs.toFixed(2)} ms a step with timers, ${plainMs.toFixed(2)} ms without (${Math.round((spec.batch * 1000) / plainMs)} images/s), mean of ${steps} steps.`,
  '',
  '| ms a step | share | calls | kernel and operand shapes |',
  '|---|---|---|---|',
  ...rows.map((r) => `| ${r.ms.toFixed(3)} | ${pct(r.ms)} | ${r.calls} | ${r.key} |`),
  `| ${(stepMs - kernelMs).toFixed(3)} | ${pct(stepMs - kernelMs)} | | JavaScript (autograd, layers, glue) |`,
];
process.stdout.write(`${lines.join('\n')}\n`);
