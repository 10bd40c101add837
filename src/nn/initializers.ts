/** Weight initializers with Keras' names, defaults and formulas. All draw from a seeded Random. */
import type { Random } from '../engine/random.js';
import { sizeOf, type Shape } from '../engine/shape.js';
import { numericArgs, parseNamed } from './spec.js';

export interface Initializer {
  readonly className: string;
  readonly config: Record<string, unknown>;
  init(shape: Shape, rng: Random): Float32Array;
}

/** Keras' compute_fans: conv kernels [kh, kw, in, out] count the receptive field. */
export function computeFans(shape: Shape): [number, number] {
  if (shape.length === 0) return [1, 1];
  if (shape.length === 1) return [shape[0], shape[0]];
  if (shape.length === 2) return [shape[0], shape[1]];
  const receptive = sizeOf(shape.slice(0, -2));
  return [shape[shape.length - 2] * receptive, shape[shape.length - 1] * receptive];
}

function fill(shape: Shape, f: () => number): Float32Array {
  const out = new Float32Array(sizeOf(shape));
  for (let i = 0; i < out.length; i++) out[i] = f();
  return out;
}

type Mode = 'fan_in' | 'fan_out' | 'fan_avg';
type Distribution = 'truncated_normal' | 'untruncated_normal' | 'uniform';

function varianceScaling(className: string, scale: number, mode: Mode, distribution: Distribution): Initializer {
  return {
    className,
    config: className === 'VarianceScaling' ? { scale, mode, distribution } : {},
    init(shape, rng) {
      const [fanIn, fanOut] = computeFans(shape);
      const n = mode === 'fan_in' ? fanIn : mode === 'fan_out' ? fanOut : (fanIn + fanOut) / 2;
      const s = scale / Math.max(1, n);
      if (distribution === 'uniform') {
        const limit = Math.sqrt(3 * s);
        return fill(shape, () => rng.uniform(-limit, limit));
      }
      if (distribution === 'untruncated_normal') return fill(shape, () => rng.normal(0, Math.sqrt(s)));
      // Keras corrects the stddev for truncation at two standard deviations.
      const std = Math.sqrt(s) / 0.87962566103423978;
      return fill(shape, () => rng.truncatedNormal(0, std));
    },
  };
}

const builders: Record<string, (c: Record<string, unknown>) => Initializer> = {
  zeros: (c) => {
    numericArgs(c, {}, 'zeros');
    return { className: 'Zeros', config: {}, init: (s) => new Float32Array(sizeOf(s)) };
  },
  ones: (c) => {
    numericArgs(c, {}, 'ones');
    return { className: 'Ones', config: {}, init: (s) => new Float32Array(sizeOf(s)).fill(1) };
  },
  constant: (c) => {
    const { value } = numericArgs(c, { value: 0 }, 'constant');
    return { className: 'Constant', config: { value }, init: (s) => new Float32Array(sizeOf(s)).fill(value ?? 0) };
  },
  random_normal: (c) => {
    const { mean, stddev } = numericArgs(c, { mean: 0, stddev: 0.05 }, 'random_normal');
    return { className: 'RandomNormal', config: { mean, stddev }, init: (s, r) => fill(s, () => r.normal(mean ?? 0, stddev ?? 0.05)) };
  },
  random_uniform: (c) => {
    const { minval, maxval } = numericArgs(c, { minval: -0.05, maxval: 0.05 }, 'random_uniform');
    return {
      className: 'RandomUniform',
      config: { minval, maxval },
      init: (s, r) => fill(s, () => r.uniform(minval ?? -0.05, maxval ?? 0.05)),
    };
  },
  truncated_normal: (c) => {
    const { mean, stddev } = numericArgs(c, { mean: 0, stddev: 0.05 }, 'truncated_normal');
    return {
      className: 'TruncatedNormal',
      config: { mean, stddev },
      init: (s, r) => fill(s, () => r.truncatedNormal(mean ?? 0, stddev ?? 0.05)),
    };
  },
  glorot_uniform: (c) => {
    numericArgs(c, {}, 'glorot_uniform');
    return varianceScaling('GlorotUniform', 1, 'fan_avg', 'uniform');
  },
  glorot_normal: (c) => {
    numericArgs(c, {}, 'glorot_normal');
    return varianceScaling('GlorotNormal', 1, 'fan_avg', 'truncated_normal');
  },
  he_uniform: (c) => {
    numericArgs(c, {}, 'he_uniform');
    return varianceScaling('HeUniform', 2, 'fan_in', 'uniform');
  },
  he_normal: (c) => {
    numericArgs(c, {}, 'he_normal');
    return varianceScaling('HeNormal', 2, 'fan_in', 'truncated_normal');
  },
  lecun_uniform: (c) => {
    numericArgs(c, {}, 'lecun_uniform');
    return varianceScaling('LecunUniform', 1, 'fan_in', 'uniform');
  },
  lecun_normal: (c) => {
    numericArgs(c, {}, 'lecun_normal');
    return varianceScaling('LecunNormal', 1, 'fan_in', 'truncated_normal');
  },
  variance_scaling: (c) => {
    const { scale, mode, distribution, ...rest } = c as { scale?: unknown; mode?: unknown; distribution?: unknown };
    numericArgs(rest, {}, 'variance_scaling');
    const m = (mode ?? 'fan_in') as Mode;
    const d = (distribution ?? 'truncated_normal') as Distribution;
    if (!['fan_in', 'fan_out', 'fan_avg'].includes(m))
      throw new Error(`variance_scaling mode must be fan_in, fan_out or fan_avg, got ${JSON.stringify(mode)}`);
    if (!['truncated_normal', 'untruncated_normal', 'uniform'].includes(d))
      throw new Error(
        `variance_scaling distribution must be truncated_normal, untruncated_normal or uniform, got ${JSON.stringify(distribution)}`,
      );
    if (scale !== undefined && (typeof scale !== 'number' || scale <= 0))
      throw new Error(`variance_scaling scale must be a positive number, got ${JSON.stringify(scale)}`);
    return varianceScaling('VarianceScaling', (scale as number | undefined) ?? 1, m, d);
  },
};

export const initializerNames = Object.keys(builders);

export type InitializerSpec = string | Initializer | Record<string, unknown>;

export function getInitializer(spec: InitializerSpec): Initializer {
  if (typeof spec === 'object' && spec !== null && typeof (spec as Initializer).init === 'function') return spec as Initializer;
  const { name, config } = parseNamed(spec, 'initializer');
  const build = builders[name];
  if (!build) throw new Error(`unknown initializer '${name}': expected one of ${initializerNames.join(', ')}`);
  return build(config);
}

/** The Keras JSON form of an initializer. */
export function serializeInitializer(init: Initializer): Record<string, unknown> {
  return { class_name: init.className, config: init.config };
}

/** The Keras JSON form of an initializer spec. */
export function initializerConfig(spec: unknown): Record<string, unknown> {
  return serializeInitializer(getInitializer(spec as InitializerSpec));
}
