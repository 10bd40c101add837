/** Weight and activity penalties, added to the training loss as Keras adds them: l1·Σ|x| + l2·Σx². */
import { abs, add, mul, sum } from '../engine/ops.js';
import type { Tensor } from '../engine/tensor.js';
import { numericArgs, parseNamed } from './spec.js';

export interface Regularizer {
  readonly l1: number;
  readonly l2: number;
  penalty(x: Tensor): Tensor;
}

export function makeRegularizer(l1: number, l2: number): Regularizer {
  return {
    l1,
    l2,
    penalty(x) {
      const terms: Tensor[] = [];
      if (l1 !== 0) terms.push(mul(sum(abs(x)), l1));
      if (l2 !== 0) terms.push(mul(sum(mul(x, x)), l2));
      if (terms.length === 0) return mul(sum(x), 0);
      return terms.length === 1 ? terms[0] : add(terms[0], terms[1]);
    },
  };
}

export type RegularizerSpec = string | Regularizer | Record<string, unknown>;

export function getRegularizer(spec: RegularizerSpec): Regularizer {
  if (typeof spec === 'object' && spec !== null && typeof (spec as Regularizer).penalty === 'function') return spec as Regularizer;
  // {l1: 1e-4}, {l2: 1e-3} and {l1: .., l2: ..} read as the penalties themselves.
  if (typeof spec === 'object' && spec !== null && !('class_name' in spec) && Object.keys(spec).every((k) => k === 'l1' || k === 'l2')) {
    const { l1, l2 } = numericArgs(spec as Record<string, unknown>, { l1: 0, l2: 0 }, 'regularizer');
    return makeRegularizer(l1 ?? 0, l2 ?? 0);
  }
  const known = ['l1', 'l2', 'l1_l2', 'l1l2'];
  if (
    typeof spec === 'object' &&
    spec !== null &&
    !('class_name' in spec) &&
    Object.keys(spec).length === 1 &&
    !known.includes(Object.keys(spec)[0])
  ) {
    throw new Error(`unknown regularizer '${Object.keys(spec)[0]}': expected l1, l2, l1_l2 or a mapping {l1: ..., l2: ...}`);
  }
  const { name, config } = parseNamed(spec, 'regularizer');
  switch (name) {
    case 'l1':
      return makeRegularizer(numericArgs(config, { l1: 0.01 }, 'l1').l1 ?? 0.01, 0);
    case 'l2':
      return makeRegularizer(0, numericArgs(config, { l2: 0.01 }, 'l2').l2 ?? 0.01);
    case 'l1_l2':
    case 'l1l2': {
      const { l1, l2 } = numericArgs(config, { l1: 0, l2: 0 }, 'l1_l2');
      return makeRegularizer(l1 ?? 0, l2 ?? 0);
    }
    default:
      throw new Error(`unknown regularizer '${name}': expected l1, l2, l1_l2 or a mapping {l1: ..., l2: ...}`);
  }
}

export function serializeRegularizer(r: Regularizer): Record<string, unknown> {
  if (r.l1 !== 0 && r.l2 !== 0) return { class_name: 'L1L2', config: { l1: r.l1, l2: r.l2 } };
  if (r.l2 !== 0) return { class_name: 'L2', config: { l2: r.l2 } };
  return { class_name: 'L1', config: { l1: r.l1 } };
}

/** A regularizer from an optional spec. */
export function optionalRegularizer(spec: unknown): Regularizer | undefined {
  return spec ? getRegularizer(spec as RegularizerSpec) : undefined;
}

/** The Keras JSON form of an optional regularizer spec (null when absent). */
export function regularizerConfig(spec: unknown): Record<string, unknown> | null {
  return spec ? serializeRegularizer(getRegularizer(spec as RegularizerSpec)) : null;
}
