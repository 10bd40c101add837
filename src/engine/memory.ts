/**
 * Buffer reuse between training steps. Kernels take their output arrays from alloc(); inside tidy(), each array
 * handed out is recorded, and when the scope ends every recorded array that no returned tensor refers to goes back
 * to a free list, to be handed out again by the next step. Tensors made in the scope that still point at a
 * released array are marked released: reading them afterwards throws instead of showing another step's numbers.
 *
 * Without a scope nothing is recorded and arrays are plain garbage-collected typed arrays. Fresh large arrays cost
 * a page fault per 4 KiB and garbage-collector work, which on the native backend was a sizeable share of a step.
 */
/** What a scope needs of a tensor (Tensor has it): its array, and a way to mark it unreadable. */
interface Tracked {
  readonly data: Float32Array;
  release(): void;
}

interface Scope {
  /** Arrays handed out while this scope was innermost. */
  readonly buffers: Float32Array[];
  /** Tensors constructed while this scope was innermost. */
  readonly tensors: Tracked[];
}

const scopes: Scope[] = [];
/** Released arrays by length. Whatever the next outermost scope leaves unused is dropped when it ends. */
let free = new Map<number, Float32Array[]>();
let freeBytes = 0;
/** When set, raw arrays (fresh or reused) are filled with NaN, so a kernel that leaves an element unwritten shows in tests. */
let poison = false;
let reuse = true;

/** Test hooks: turn reuse off (scopes still release tensors) or fill raw arrays (fresh or reused) with NaN. */
export function setBufferReuse(options: { enabled?: boolean; poison?: boolean }): void {
  if (options.enabled !== undefined) reuse = options.enabled;
  if (options.poison !== undefined) poison = options.poison;
  free = new Map();
  freeBytes = 0;
}

function take(n: number): Float32Array | undefined {
  const list = free.get(n);
  const buf = list?.pop();
  if (buf) freeBytes -= buf.byteLength;
  return buf;
}

/** A zero-filled array of n floats. */
export function alloc(n: number): Float32Array {
  const scope = scopes[scopes.length - 1];
  if (!scope) return new Float32Array(n);
  let buf = take(n);
  if (buf) buf.fill(0);
  else buf = new Float32Array(n);
  scope.buffers.push(buf);
  return buf;
}

/**
 * A fresh array whose contents are left as they were: new Float32Array() zero-fills, which for a 2048² product's
 * 16 MB output is a single-threaded memset of a few percent of the product itself. Node's Buffer.allocUnsafe skips
 * it; sizes from 4 KiB up get an ArrayBuffer of their own (offset 0, so aligned). Elsewhere, or for small arrays,
 * a plain zero-filled array.
 */
function freshRaw(n: number): Float32Array {
  let buf: Float32Array;
  if (n < 1024 || typeof Buffer === 'undefined') buf = new Float32Array(n);
  else {
    const bytes = Buffer.allocUnsafe(n * 4);
    buf = new Float32Array(bytes.buffer, bytes.byteOffset, n);
  }
  return poison ? buf.fill(NaN) : buf;
}

/** An array of n floats with unspecified contents, for kernels that write every element. */
export function allocRaw(n: number): Float32Array {
  const scope = scopes[scopes.length - 1];
  if (!scope) return freshRaw(n);
  let buf = take(n);
  if (!buf) buf = freshRaw(n);
  else if (poison) buf.fill(NaN);
  scope.buffers.push(buf);
  return buf;
}

/** Called by the Tensor constructor. */
export function trackTensor(t: Tracked): void {
  scopes[scopes.length - 1]?.tensors.push(t);
}

/** Bytes currently held in the free lists. */
export function pooledBytes(): number {
  return freeBytes;
}

/** A tensor: an object with a Float32Array `data`, a `shape` and a release(). */
function isTracked(value: object): value is Tracked {
  return (
    'data' in value && value.data instanceof Float32Array && 'shape' in value && 'release' in value && typeof value.release === 'function'
  );
}

function collectTensors(value: unknown, out: Tracked[], depth = 0): void {
  if (value === null || typeof value !== 'object' || depth > 3) return;
  if (isTracked(value)) {
    out.push(value);
    return;
  }
  const items = Array.isArray(value) ? value : Object.values(value);
  for (const v of items) collectTensors(v, out, depth + 1);
}

/**
 * Runs fn in a scope. Tensors in its result (a tensor, or arrays and plain objects holding tensors, up to three
 * levels deep) and the arrays they use are kept and handed to the enclosing scope; every other array allocated in
 * the scope is released for reuse, and tensors made in the scope that use one become unreadable.
 */
export function tidy<T>(fn: () => T): T {
  const scope: Scope = { buffers: [], tensors: [] };
  scopes.push(scope);
  let result: T;
  try {
    result = fn();
  } catch (e) {
    scopes.pop();
    // On an error nothing is reused: arrays may still be referenced from wherever the exception left them.
    throw e;
  }
  scopes.pop();
  const kept: Tracked[] = [];
  collectTensors(result, kept);
  const keptBuffers = new Set<Float32Array>();
  for (const t of kept) keptBuffers.add(t.data);
  const parent = scopes[scopes.length - 1];
  const released = new Set<Float32Array>();
  for (const buf of scope.buffers) {
    if (keptBuffers.has(buf)) parent?.buffers.push(buf);
    else released.add(buf);
  }
  for (const t of scope.tensors) {
    if (released.has(t.data)) t.release();
    else parent?.tensors.push(t);
  }
  if (!parent) {
    // Arrays nobody asked for during a whole outermost scope are dropped, so the lists hold at most one step's worth.
    free = new Map();
    freeBytes = 0;
  }
  if (!reuse) return result;
  for (const buf of released) {
    let list = free.get(buf.length);
    if (!list) free.set(buf.length, (list = []));
    list.push(buf);
    freeBytes += buf.byteLength;
  }
  return result;
}
