/**
 * Float32 tensors with reverse-mode autograd. A tensor made by an op while gradients are enabled keeps a GradNode:
 * its inputs and one closure mapping the output gradient to the input gradients. backward() walks the graph in
 * reverse topological order (an explicit stack, so deep graphs cannot overflow the JS stack) and then releases it,
 * so nothing from one training step is kept alive into the next. Buffers are ordinary typed arrays; inside tidy()
 * (memory.ts) the arrays a step allocated are reused by the next one, and a tensor left pointing at a reused array
 * is marked released.
 */
import { getBackend } from './backends/index.js';
import { trackTensor } from './memory.js';
import { formatShape, sizeOf, type Shape } from './shape.js';

export interface GradNode {
  readonly op: string;
  readonly inputs: readonly Tensor[];
  /** Maps the output gradient to one gradient (or null) per input, each of that input's shape. */
  readonly backward: (dy: Tensor) => readonly (Tensor | null)[];
}

let gradEnabled = true;

export function isGradEnabled(): boolean {
  return gradEnabled;
}

/** Runs fn without recording a graph: for evaluation, optimizer updates and the backward pass itself. */
export function noGrad<T>(fn: () => T): T {
  const prev = gradEnabled;
  gradEnabled = false;
  try {
    return fn();
  } finally {
    gradEnabled = prev;
  }
}

export class Tensor {
  readonly shape: readonly number[];
  readonly size: number;
  #data: Float32Array | null;
  requiresGrad: boolean;
  grad: Tensor | null = null;
  node: GradNode | null = null;
  name: string | undefined;
  /** Set by softmax and sigmoid: the logits they were computed from, so cross-entropy can take the stable form. */
  source: { kind: 'softmax' | 'sigmoid'; logits: Tensor } | undefined;

  constructor(data: Float32Array, shape: Shape, requiresGrad = false) {
    if (data.length !== sizeOf(shape)) {
      throw new Error(`tensor data has ${data.length} elements but shape ${formatShape(shape)} needs ${sizeOf(shape)}`);
    }
    this.#data = data;
    this.size = data.length;
    this.shape = Object.freeze([...shape]);
    this.requiresGrad = requiresGrad;
    trackTensor(this);
  }

  /** The values, row-major. Throws once the tidy() scope that made this tensor has handed its array to another. */
  get data(): Float32Array {
    const d = this.#data;
    if (d === null) {
      throw new Error(
        `tensor of shape ${formatShape(this.shape)} was released at the end of the tidy() scope (training step) that made it; copy what you need inside the scope, or return the tensor from it`,
      );
    }
    return d;
  }

  /** Whether tidy() has reused this tensor's array. */
  get released(): boolean {
    return this.#data === null;
  }

  /** Called by tidy() when this tensor's array goes back to the free list. */
  release(): void {
    this.#data = null;
    this.grad = null;
    this.node = null;
    this.source = undefined;
  }

  get rank(): number {
    return this.shape.length;
  }

  /** The value of a one-element tensor. */
  item(): number {
    if (this.data.length !== 1) throw new Error(`item() needs a tensor with one element, got shape ${formatShape(this.shape)}`);
    return this.data[0];
  }

  /** Nested arrays, for printing and tests. */
  toArray(): unknown {
    const build = (dim: number, offset: number): unknown => {
      if (dim === this.shape.length) return this.data[offset];
      const stride = sizeOf(this.shape.slice(dim + 1));
      return Array.from({ length: this.shape[dim] }, (_, i) => build(dim + 1, offset + i * stride));
    };
    return build(0, 0);
  }

  /** A tensor sharing this one's data with no history. */
  detach(): Tensor {
    return new Tensor(this.data, this.shape, false);
  }

  toString(): string {
    return `Tensor(shape=${formatShape(this.shape)})`;
  }

  /**
   * Accumulates d(this)/d(leaf) into every leaf with requiresGrad. The seed gradient defaults to ones, so a scalar
   * loss needs none. The graph is released afterwards.
   */
  backward(seed?: Tensor): void {
    if (!this.requiresGrad) throw new Error('backward() called on a tensor that does not require gradients');
    const order = topologicalOrder(this);
    const grads = new Map<Tensor, Tensor>();
    grads.set(this, seed ?? new Tensor(new Float32Array(this.size).fill(1), this.shape));
    noGrad(() => {
      for (let i = order.length - 1; i >= 0; i--) {
        const t = order[i];
        const g = grads.get(t);
        if (!g) continue;
        grads.delete(t);
        if (!t.node) {
          t.grad = t.grad ? accumulate(t.grad, g) : g;
          continue;
        }
        const inputGrads = t.node.backward(g);
        t.node.inputs.forEach((input, k) => {
          const gi = inputGrads[k];
          if (!gi || !input.requiresGrad) return;
          const prev = grads.get(input);
          grads.set(input, prev ? accumulate(prev, gi) : gi);
        });
      }
    });
    for (const t of order) {
      if (t.node) {
        t.node = null;
        t.requiresGrad = false;
      }
    }
  }
}

/** Sums two gradients of one tensor (it fed several ops), on the active backend's add kernel. */
function accumulate(a: Tensor, b: Tensor): Tensor {
  return new Tensor(getBackend().binary('add', a.data, a.shape, b.data, b.shape, a.shape), a.shape);
}

/** Post-order of the tensors reachable from root that need gradients; inputs before the tensors made from them. */
function topologicalOrder(root: Tensor): Tensor[] {
  const order: Tensor[] = [];
  const visited = new Set<Tensor>();
  const stack: [Tensor, number][] = [[root, 0]];
  visited.add(root);
  while (stack.length > 0) {
    const top = stack[stack.length - 1];
    const [t, next] = top;
    const inputs = t.node ? t.node.inputs : [];
    if (next < inputs.length) {
      top[1]++;
      const child = inputs[next];
      if (child.requiresGrad && !visited.has(child)) {
        visited.add(child);
        stack.push([child, 0]);
      }
    } else {
      stack.pop();
      order.push(t);
    }
  }
  return order;
}

/** Attaches a GradNode to `out` when gradients are on and some input needs them. */
export function record(out: Tensor, op: string, inputs: readonly Tensor[], backward: GradNode['backward']): Tensor {
  if (gradEnabled && inputs.some((t) => t.requiresGrad)) {
    out.requiresGrad = true;
    out.node = { op, inputs, backward };
  }
  return out;
}

/**
 * The value of a scalar function of some tensors and its gradient with respect to each, from fresh gradients:
 * whatever those tensors had accumulated before is cleared, and they are left cleared (no accumulation across
 * calls, as with tf.GradientTape). `const { value, grads } = valueAndGrad(() => loss(w, x), [w])`.
 */
export function valueAndGrad(fn: () => Tensor, wrt: readonly Tensor[]): { value: number; grads: Tensor[] } {
  for (const t of wrt) {
    if (!t.requiresGrad)
      throw new Error(
        `valueAndGrad: a tensor of shape [${t.shape.join(', ')}] does not require gradients (make it with requiresGrad true)`,
      );
    t.grad = null;
  }
  const y = fn();
  if (y.size !== 1) throw new Error(`valueAndGrad: the function returned a tensor of shape [${y.shape.join(', ')}]; expected a scalar`);
  y.backward();
  const grads = wrt.map((t) => t.grad ?? new Tensor(new Float32Array(t.size), t.shape));
  for (const t of wrt) t.grad = null;
  return { value: y.data[0], grads };
}
