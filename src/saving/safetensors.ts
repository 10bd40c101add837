/**
 * safetensors files: an 8-byte little-endian header length, a JSON header naming each tensor's dtype, shape and
 * byte range, then the raw little-endian data. F32, F16 and BF16 (and F64) are read as float32; integer tensors
 * (a BatchNorm's step counter, say) are listed but carry no values. Writing produces F32 tensors, with the header
 * padded to 8 bytes as the reference implementation does, into a temporary file renamed into place.
 */
import { readFileSync } from 'node:fs';
import { writeFileAtomic } from '../util/safe_fs.js';

/** One tensor of a weights file, its values as float32 (null for integer tensors, which weights never are). */
export interface NamedTensor {
  name: string;
  dtype: string;
  shape: number[];
  data: Float32Array | null;
}

export class WeightsFileError extends Error {}

const BYTES: Record<string, number> = { F64: 8, F32: 4, F16: 2, BF16: 2, I64: 8, I32: 4, I16: 2, I8: 1, U8: 1, BOOL: 1 };

/** IEEE half precision to float. */
export function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 31) return frac ? Number.NaN : sign * Number.POSITIVE_INFINITY;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

/** Little-endian bytes of one dtype as float32; integer dtypes give null. */
export function decodeFloats(bytes: Uint8Array, dtype: string, count: number): Float32Array | null {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = new Float32Array(count);
  switch (dtype) {
    case 'F32':
      for (let i = 0; i < count; i++) out[i] = view.getFloat32(4 * i, true);
      return out;
    case 'F64':
      for (let i = 0; i < count; i++) out[i] = view.getFloat64(8 * i, true);
      return out;
    case 'F16':
      for (let i = 0; i < count; i++) out[i] = halfToFloat(view.getUint16(2 * i, true));
      return out;
    case 'BF16': {
      const u = new Uint32Array(out.buffer);
      for (let i = 0; i < count; i++) u[i] = view.getUint16(2 * i, true) << 16;
      return out;
    }
    default:
      return null;
  }
}

export function readSafetensors(file: string): NamedTensor[] {
  let buf: Buffer;
  try {
    buf = readFileSync(file);
  } catch (e) {
    throw new WeightsFileError(`${file}: cannot read: ${(e as Error).message}`);
  }
  if (buf.length < 8)
    throw new WeightsFileError(`${file}: not a safetensors file: ${buf.length} bytes, less than the 8-byte header length`);
  const headerLength = buf.readBigUInt64LE(0);
  if (headerLength > BigInt(buf.length - 8)) {
    throw new WeightsFileError(
      `${file}: not a safetensors file: the header length ${headerLength} runs past the end of the file (${buf.length} bytes)`,
    );
  }
  const dataStart = 8 + Number(headerLength);
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(buf.subarray(8, dataStart).toString('utf8')) as Record<string, unknown>;
  } catch (e) {
    throw new WeightsFileError(`${file}: the safetensors header is not JSON (${(e as Error).message})`);
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header))
    throw new WeightsFileError(`${file}: the safetensors header is not a JSON object`);
  const out: NamedTensor[] = [];
  for (const [name, entry] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    const e = entry as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    const where = `${file}: tensor '${name}'`;
    if (typeof e.dtype !== 'string' || !(e.dtype in BYTES)) {
      throw new WeightsFileError(
        `${where}: dtype ${JSON.stringify(e.dtype)} is not supported: expected one of ${Object.keys(BYTES).join(', ')}`,
      );
    }
    if (!Array.isArray(e.shape) || !e.shape.every((d) => Number.isInteger(d) && d >= 0))
      throw new WeightsFileError(`${where}: shape must be a list of sizes ≥ 0`);
    const offsets = e.data_offsets;
    if (
      !Array.isArray(offsets) ||
      offsets.length !== 2 ||
      !offsets.every((o) => Number.isInteger(o) && o >= 0) ||
      offsets[0] > offsets[1]
    ) {
      throw new WeightsFileError(`${where}: data_offsets must be [begin, end]`);
    }
    const count = (e.shape as number[]).reduce((a, b) => a * b, 1);
    const [begin, end] = offsets as [number, number];
    if (end - begin !== count * BYTES[e.dtype]) {
      throw new WeightsFileError(`${where}: ${end - begin} bytes for ${count} values of ${e.dtype}, expected ${count * BYTES[e.dtype]}`);
    }
    if (dataStart + end > buf.length)
      throw new WeightsFileError(`${where}: its data (bytes ${begin}..${end} after the header) runs past the end of the file: truncated`);
    out.push({
      name,
      dtype: e.dtype,
      shape: e.shape as number[],
      data: decodeFloats(buf.subarray(dataStart + begin, dataStart + end), e.dtype, count),
    });
  }
  return out;
}

/** Writes float32 (and int64) tensors in the order given, with optional string metadata; the file appears whole or not at all. */
export function writeSafetensors(
  file: string,
  tensors: readonly { name: string; shape: readonly number[]; data: Float32Array | BigInt64Array }[],
  metadata?: Record<string, string>,
): void {
  const header: Record<string, unknown> = {};
  if (metadata) header.__metadata__ = metadata;
  let offset = 0;
  for (const t of tensors) {
    if (t.name in header) throw new WeightsFileError(`${file}: two tensors are named '${t.name}'`);
    const dtype = t.data instanceof BigInt64Array ? 'I64' : 'F32';
    header[t.name] = { dtype, shape: [...t.shape], data_offsets: [offset, offset + t.data.byteLength] };
    offset += t.data.byteLength;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - (Buffer.byteLength(json) % 8)) % 8);
  const head = Buffer.alloc(8);
  head.writeBigUInt64LE(BigInt(Buffer.byteLength(json)));
  writeFileAtomic(file, [
    head,
    Buffer.from(json, 'utf8'),
    ...tensors.map((t) => new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength)),
  ]);
}
