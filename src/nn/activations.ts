/** Activation functions by Keras name; any function of a Tensor built from engine ops works as well. */
import { clip, softmax as softmaxOp, softplus as softplusOp } from '../engine/composed.js';
import {
  abs,
  add,
  biasActivation,
  cos,
  div,
  erf,
  exp,
  minimum,
  mul,
  relu as reluOp,
  sigmoid as sigmoidOp,
  sin,
  sub,
  tanh as tanhOp,
} from '../engine/ops.js';
import type { Tensor } from '../engine/tensor.js';

export type ActivationFn = (x: Tensor) => Tensor;

export function elu(x: Tensor, alpha = 1): Tensor {
  // exp only sees min(x, 0), so it never overflows for large positive x.
  return add(reluOp(x), mul(sub(exp(minimum(x, 0)), 1), alpha));
}

/** x for x > 0, negativeSlope·x below, in one fused pass. */
export function leakyRelu(x: Tensor, negativeSlope = 0.2): Tensor {
  return biasActivation(x, null, 'leaky_relu', negativeSlope);
}

function sigmoid(x: Tensor): Tensor {
  const y = sigmoidOp(x);
  y.source = { kind: 'sigmoid', logits: x };
  return y;
}

const SELU_ALPHA = 1.6732632423543772;
const SELU_SCALE = 1.0507009873554805;

const builtins: Record<string, ActivationFn> = {
  linear: (x) => x,
  relu: reluOp,
  leaky_relu: (x) => leakyRelu(x),
  elu: (x) => elu(x),
  selu: (x) => mul(elu(x, SELU_ALPHA), SELU_SCALE),
  // Keras' default gelu is the exact one: x · Φ(x).
  gelu: (x) => mul(mul(x, 0.5), add(1, erf(mul(x, Math.SQRT1_2)))),
  sigmoid,
  hard_sigmoid: (x) => clip(add(mul(x, 1 / 6), 0.5), 0, 1),
  tanh: tanhOp,
  softmax: (x) => softmaxOp(x),
  softplus: softplusOp,
  softsign: (x) => div(x, add(abs(x), 1)),
  exponential: exp,
  swish: (x) => mul(x, sigmoidOp(x)),
  silu: (x) => mul(x, sigmoidOp(x)),
  // Periodic activations (the tell-the-time study reads clock hands through cos).
  cos,
  sin,
};

const custom = new Map<string, ActivationFn>();

/** Makes a user function available by name, in TypeScript and in YAML model files. */
export function registerActivation(name: string, fn: ActivationFn): void {
  if (name in builtins) throw new Error(`activation '${name}' is built in and cannot be replaced`);
  custom.set(name, fn);
}

export function activationNames(): string[] {
  return [...Object.keys(builtins), ...custom.keys()];
}

export type ActivationSpec = string | ActivationFn | null | undefined;

export interface Activation {
  name: string;
  fn: ActivationFn;
}

export function getActivation(spec: ActivationSpec): Activation {
  if (spec === null || spec === undefined) return { name: 'linear', fn: builtins.linear };
  if (typeof spec === 'function') return { name: spec.name || 'custom', fn: spec };
  const fn = builtins[spec] ?? custom.get(spec);
  if (!fn)
    throw new Error(
      `unknown activation '${spec}': expected one of ${activationNames().join(', ')}, or register your own with registerActivation`,
    );
  return { name: spec, fn };
}

/** The fused kernel an activation maps to, or null when it must run as its own ops. */
export function fusedActivation(a: Activation): { act: 'relu' | 'linear' | 'leaky_relu'; alpha: number } | null {
  if (a.fn === builtins.relu) return { act: 'relu', alpha: 0 };
  if (a.fn === builtins.linear) return { act: 'linear', alpha: 0 };
  if (a.fn === builtins.leaky_relu) return { act: 'leaky_relu', alpha: 0.2 };
  return null;
}
