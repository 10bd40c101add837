/** Writes small IDX files (plain or gzipped) for loader tests. */
import { writeFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';

export function idxBytes(dims: number[], data: Uint8Array, magicType = 0x08): Buffer {
  const header = Buffer.alloc(4 + 4 * dims.length);
  header[2] = magicType;
  header[3] = dims.length;
  dims.forEach((d, i) => header.writeUInt32BE(d, 4 + 4 * i));
  return Buffer.concat([header, Buffer.from(data)]);
}

export function writeIdx(file: string, dims: number[], data: Uint8Array, gzip = false): void {
  const bytes = idxBytes(dims, data);
  writeFileSync(file, gzip ? gzipSync(bytes) : bytes);
}
