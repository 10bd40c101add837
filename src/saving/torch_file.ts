/**
 * PyTorch checkpoints as torch.save writes them (a zip holding `<name>/data.pkl` and one raw file per storage under
 * `<name>/data/`), read without running anything in them. The pickle is read by a small machine that knows only
 * what a state dict needs: dicts (collections.OrderedDict), tuples, lists, numbers, strings, the storage types and
 * torch._utils._rebuild_tensor_v2 / _rebuild_parameter. Any other global is refused, by name, before anything is
 * built from it; nothing is imported or called. Legacy (pre-1.6, non-zip) files are refused with a way out.
 */
import { readFileSync } from 'node:fs';
import { unzipSync } from 'fflate';
import { decodeFloats, type NamedTensor, WeightsFileError } from './safetensors.js';

/** Storage types a state dict may hold, and their safetensors-style dtype. */
const STORAGES: Record<string, { dtype: string; bytes: number }> = {
  FloatStorage: { dtype: 'F32', bytes: 4 },
  DoubleStorage: { dtype: 'F64', bytes: 8 },
  HalfStorage: { dtype: 'F16', bytes: 2 },
  BFloat16Storage: { dtype: 'BF16', bytes: 2 },
  LongStorage: { dtype: 'I64', bytes: 8 },
  IntStorage: { dtype: 'I32', bytes: 4 },
  ShortStorage: { dtype: 'I16', bytes: 2 },
  CharStorage: { dtype: 'I8', bytes: 1 },
  ByteStorage: { dtype: 'U8', bytes: 1 },
  BoolStorage: { dtype: 'BOOL', bytes: 1 },
};

const ALLOWED = new Set([
  'collections.OrderedDict',
  'torch._utils._rebuild_tensor_v2',
  'torch._utils._rebuild_parameter',
  ...Object.keys(STORAGES).map((s) => `torch.${s}`),
]);

class Global {
  constructor(readonly name: string) {}
}
class Storage {
  constructor(
    readonly type: string,
    readonly key: string,
    readonly numel: number,
  ) {}
}
class TensorRef {
  constructor(
    readonly storage: Storage,
    readonly offset: number,
    readonly shape: number[],
    readonly stride: number[],
  ) {}
}
class OrderedMap {
  readonly entries: [unknown, unknown][] = [];
}
const MARK = Symbol('mark');

/** Reads a state dict: each tensor by its key, in the file's order. */
export function readTorchStateDict(file: string): NamedTensor[] {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(file);
  } catch (e) {
    throw new WeightsFileError(`${file}: cannot read: ${(e as Error).message}`);
  }
  if (bytes.length >= 2 && bytes[0] === 0x80 && bytes[1] <= 5) {
    throw new WeightsFileError(
      `${file}: a legacy (pre-1.6) PyTorch file, which convlab does not read: load it in PyTorch and save it again with torch.save(model.state_dict(), path)`,
    );
  }
  if (bytes.length < 4 || bytes[0] !== 0x50 || bytes[1] !== 0x4b) {
    throw new WeightsFileError(
      `${file}: not a PyTorch checkpoint: a torch.save file is a zip archive (it starts with PK), this one does not`,
    );
  }
  let entries: Record<string, Uint8Array>;
  try {
    entries = unzipSync(bytes);
  } catch (e) {
    throw new WeightsFileError(`${file}: the zip archive is damaged or truncated (${(e as Error).message})`);
  }
  const pkl = Object.keys(entries).find((k) => k.endsWith('/data.pkl') || k === 'data.pkl');
  if (!pkl) throw new WeightsFileError(`${file}: no data.pkl in the archive: not a torch.save file`);
  const prefix = pkl.slice(0, pkl.length - 'data.pkl'.length);
  const order = entries[`${prefix}byteorder`];
  if (order && new TextDecoder().decode(order).trim() !== 'little')
    throw new WeightsFileError(`${file}: big-endian storages are not supported`);
  const root = unpickle(entries[pkl], `${file}: ${pkl}`);
  const items = root instanceof OrderedMap ? root.entries : root instanceof Map ? [...root.entries()] : null;
  if (!items) throw new WeightsFileError(`${file}: the pickle holds a ${describe(root)}, not a state dict (a mapping of names to tensors)`);
  const out: NamedTensor[] = [];
  for (const [key, value] of items) {
    if (typeof key !== 'string') throw new WeightsFileError(`${file}: a state dict key is a ${describe(key)}, not a string`);
    if (!(value instanceof TensorRef)) throw new WeightsFileError(`${file}: '${key}' is a ${describe(value)}, not a tensor`);
    out.push(materialize(value, key, entries, prefix, file));
  }
  return out;
}

function describe(v: unknown): string {
  if (v instanceof OrderedMap || v instanceof Map) return 'mapping';
  if (v instanceof TensorRef) return 'tensor';
  if (Array.isArray(v)) return 'list';
  return v === null ? 'None' : typeof v;
}

/** The tensor's values, contiguous, from its storage file. */
function materialize(t: TensorRef, key: string, entries: Record<string, Uint8Array>, prefix: string, file: string): NamedTensor {
  const spec = STORAGES[t.storage.type];
  const raw = entries[`${prefix}data/${t.storage.key}`];
  if (!raw) throw new WeightsFileError(`${file}: '${key}': its storage data/${t.storage.key} is missing from the archive`);
  if (raw.length < t.storage.numel * spec.bytes) {
    throw new WeightsFileError(
      `${file}: '${key}': storage data/${t.storage.key} has ${raw.length} bytes, expected ${t.storage.numel * spec.bytes}: truncated`,
    );
  }
  const count = t.shape.reduce((a, b) => a * b, 1);
  // The elements the tensor reads, by its strides, must lie inside the storage.
  const last = t.offset + t.shape.reduce((s, d, i) => s + (d > 0 ? (d - 1) * t.stride[i] : 0), 0);
  if (count > 0 && (t.offset < 0 || last >= t.storage.numel)) {
    throw new WeightsFileError(
      `${file}: '${key}': shape [${t.shape.join(', ')}] with strides [${t.stride.join(', ')}] reads past its storage of ${t.storage.numel} values`,
    );
  }
  const all = decodeFloats(raw.subarray(0, t.storage.numel * spec.bytes), spec.dtype, t.storage.numel);
  if (!all) return { name: key, dtype: spec.dtype, shape: t.shape, data: null };
  const data = new Float32Array(count);
  const index = new Array<number>(t.shape.length).fill(0);
  for (let i = 0; i < count; i++) {
    let at = t.offset;
    for (let d = 0; d < index.length; d++) at += index[d] * t.stride[d];
    data[i] = all[at];
    for (let d = index.length - 1; d >= 0; d--) {
      if (++index[d] < t.shape[d]) break;
      index[d] = 0;
    }
  }
  return { name: key, dtype: spec.dtype, shape: t.shape, data };
}

/** The restricted unpickler: pickle protocols 2-5, the opcodes a state dict uses, dispatched from a table. */
class Unpickler {
  private readonly view: DataView;
  private readonly text = new TextDecoder('utf-8', { fatal: true });
  private readonly stack: unknown[] = [];
  private readonly memo = new Map<number, unknown>();
  private pos = 0;
  private result: { value: unknown } | null = null;
  private readonly ops: Record<number, () => void>;

  constructor(
    private readonly data: Uint8Array,
    private readonly where: string,
  ) {
    this.view = new DataView(data.buffer, data.byteOffset, data.byteLength);
    const push = (v: unknown) => this.stack.push(v);
    this.ops = {
      128: () => this.u8(), // PROTO
      149: () => this.skip(8), // FRAME
      46: () => (this.result = { value: this.pop() }), // STOP
      40: () => push(MARK),
      125: () => push(new Map()), // EMPTY_DICT
      93: () => push([]), // EMPTY_LIST
      41: () => push([]), // EMPTY_TUPLE
      78: () => push(null), // NONE
      136: () => push(true), // NEWTRUE
      137: () => push(false), // NEWFALSE
      75: () => push(this.u8()), // BININT1
      77: () => push(this.u16()), // BININT2
      74: () => push(this.i32()), // BININT
      138: () => push(this.long1()), // LONG1
      71: () => push(this.float64()), // BINFLOAT
      88: () => push(this.str(this.u32())), // BINUNICODE
      140: () => push(this.str(this.u8())), // SHORT_BINUNICODE
      99: () => push(this.global(this.line(), this.line())), // GLOBAL
      147: () => this.stackGlobal(), // STACK_GLOBAL
      113: () => this.memo.set(this.u8(), this.top()), // BINPUT
      114: () => this.memo.set(this.u32(), this.top()), // LONG_BINPUT
      148: () => this.memo.set(this.memo.size, this.top()), // MEMOIZE
      104: () => push(this.recall(this.u8())), // BINGET
      106: () => push(this.recall(this.u32())), // LONG_BINGET
      116: () => push(this.popMark()), // TUPLE
      133: () => push(this.popN(1)), // TUPLE1
      134: () => push(this.popN(2)), // TUPLE2
      135: () => push(this.popN(3)), // TUPLE3
      97: () => this.append(this.popN(1)), // APPEND
      101: () => this.append(this.popMark()), // APPENDS
      115: () => this.setItems(this.popN(2)), // SETITEM
      117: () => this.setItems(this.popMark()), // SETITEMS
      81: () => push(this.storage(this.pop())), // BINPERSID
      82: () => this.reduce(), // REDUCE
      98: () => this.pop(), // BUILD: an OrderedDict's state (its _metadata) is not needed
    };
  }

  run(): unknown {
    while (!this.result) {
      const op = this.u8();
      const handler = this.ops[op];
      if (!handler) this.fail(`opcode 0x${op.toString(16)} is not one a state dict uses`);
      handler();
    }
    return this.result.value;
  }

  private fail(why: string): never {
    throw new WeightsFileError(`${this.where}: ${why} (at byte ${this.pos})`);
  }
  private need(n: number): void {
    if (this.pos + n > this.data.length) this.fail('the pickle ends early: truncated');
  }
  private skip(n: number): void {
    this.need(n);
    this.pos += n;
  }
  private u8(): number {
    this.need(1);
    return this.data[this.pos++];
  }
  private u16(): number {
    this.skip(2);
    return this.view.getUint16(this.pos - 2, true);
  }
  private u32(): number {
    this.skip(4);
    return this.view.getUint32(this.pos - 4, true);
  }
  private i32(): number {
    this.skip(4);
    return this.view.getInt32(this.pos - 4, true);
  }
  private float64(): number {
    this.skip(8);
    return this.view.getFloat64(this.pos - 8, false);
  }
  /** A little-endian two's complement integer of n bytes. */
  private long1(): number {
    const n = this.u8();
    this.skip(n);
    let v = 0n;
    for (let i = n - 1; i >= 0; i--) v = (v << 8n) | BigInt(this.data[this.pos - n + i]);
    if (n > 0 && this.data[this.pos - 1] & 0x80) v -= 1n << BigInt(8 * n);
    return Number(v);
  }
  private str(n: number): string {
    this.skip(n);
    return this.text.decode(this.data.subarray(this.pos - n, this.pos));
  }
  private line(): string {
    const end = this.data.indexOf(0x0a, this.pos);
    if (end < 0) this.fail('a text argument has no end of line');
    const s = this.text.decode(this.data.subarray(this.pos, end));
    this.pos = end + 1;
    return s;
  }
  private top(): unknown {
    return this.stack[this.stack.length - 1];
  }
  private pop(): unknown {
    if (!this.stack.length) this.fail('the pickle pops an empty stack');
    return this.stack.pop();
  }
  private popN(n: number): unknown[] {
    if (this.stack.length < n) this.fail('the pickle pops an empty stack');
    return this.stack.splice(this.stack.length - n);
  }
  private popMark(): unknown[] {
    const at = this.stack.lastIndexOf(MARK);
    if (at < 0) this.fail('no mark on the stack');
    return this.stack.splice(at).slice(1);
  }
  private recall(k: number): unknown {
    if (!this.memo.has(k)) this.fail(`refers to memo entry ${k}, which was never stored`);
    return this.memo.get(k);
  }
  private global(module: string, name: string): Global {
    const full = `${module}.${name}`;
    if (!ALLOWED.has(full)) {
      this.fail(
        `refuses the global ${full}: only a state dict's tensors are read (nothing in the file is run), ` +
          'so this is not a plain torch.save(model.state_dict()) file',
      );
    }
    return new Global(full);
  }
  private stackGlobal(): void {
    const [module, name] = this.popN(2);
    if (typeof module !== 'string' || typeof name !== 'string') this.fail('STACK_GLOBAL of something that is not two strings');
    this.stack.push(this.global(module, name));
  }
  private append(items: unknown[]): void {
    const list = this.top();
    if (!Array.isArray(list)) this.fail('APPEND to something that is not a list');
    list.push(...items);
  }
  private setItems(kv: unknown[]): void {
    const target = this.top();
    if (kv.length % 2) this.fail('SETITEMS with an odd number of items');
    for (let i = 0; i < kv.length; i += 2) {
      if (target instanceof OrderedMap) target.entries.push([kv[i], kv[i + 1]]);
      else if (target instanceof Map) target.set(kv[i], kv[i + 1]);
      else this.fail('SETITEMS on something that is not a mapping');
    }
  }
  /** A persistent id ('storage', storage type, key, location, size): a reference to a storage file. */
  private storage(pid: unknown): Storage {
    if (!Array.isArray(pid) || pid[0] !== 'storage' || !(pid[1] instanceof Global)) this.fail('a persistent id that is not a storage');
    const [, type, key, , numel] = pid as [string, Global, unknown, unknown, unknown];
    const name = type.name.slice('torch.'.length);
    if (!(name in STORAGES) || typeof key !== 'string' || !Number.isInteger(numel))
      this.fail('a storage reference that is not (type, key, location, size)');
    return new Storage(name, key as string, numel as number);
  }
  /** REDUCE: calls of the allowed globals only, each building a plain value. */
  private reduce(): void {
    const args = this.pop();
    const fn = this.pop();
    if (!(fn instanceof Global) || !Array.isArray(args)) this.fail('calls something that is not an allowed global');
    this.stack.push(this.build(fn as Global, args as unknown[]));
  }
  private build(g: Global, a: unknown[]): unknown {
    if (g.name === 'collections.OrderedDict') return new OrderedMap();
    if (g.name === 'torch._utils._rebuild_parameter') {
      if (!(a[0] instanceof TensorRef)) this.fail('_rebuild_parameter of something that is not a tensor');
      return a[0];
    }
    if (g.name !== 'torch._utils._rebuild_tensor_v2') this.fail(`calls ${g.name}, which builds nothing here`);
    const [storage, offset, shape, stride] = a;
    const ints = (v: unknown): v is number[] => Array.isArray(v) && v.every((d) => Number.isInteger(d) && d >= 0);
    if (!(storage instanceof Storage) || !Number.isInteger(offset) || !ints(shape) || !ints(stride) || shape.length !== stride.length) {
      this.fail('_rebuild_tensor_v2 with arguments that are not (storage, offset, shape, stride)');
    }
    return new TensorRef(storage, offset as number, shape, stride);
  }
}

function unpickle(data: Uint8Array, where: string): unknown {
  return new Unpickler(data, where).run();
}
