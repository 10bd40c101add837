/**
 * The IDX format of MNIST and Fashion-MNIST: magic 0x0000 | type | rank, big-endian uint32 dimensions, then the
 * data. Only unsigned bytes (type 0x08) are used by these datasets. Gzipped files are recognised by their magic.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { DataError } from './errors.js';

export interface IdxArray {
  dims: number[];
  data: Uint8Array;
}

/** Reads a file, gunzipping it when it starts with the gzip magic. */
export function readMaybeGzip(file: string): Buffer {
  if (!existsSync(file)) throw new DataError(`${file}: file not found`);
  const raw = readFileSync(file);
  if (raw.length >= 2 && raw[0] === 0x1f && raw[1] === 0x8b) {
    try {
      return gunzipSync(raw);
    } catch (e) {
      throw new DataError(`${file}: corrupted gzip data (${(e as Error).message})`);
    }
  }
  return raw;
}

export function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

export function parseIdx(bytes: Uint8Array, file: string, expectedRank?: number): IdxArray {
  if (bytes.length < 4) throw new DataError(`${file}: truncated: ${bytes.length} bytes, an IDX header needs at least 4`);
  const magic = ((bytes[0] << 24) | (bytes[1] << 16) | (bytes[2] << 8) | bytes[3]) >>> 0;
  const type = bytes[2];
  const rank = bytes[3];
  if (bytes[0] !== 0 || bytes[1] !== 0 || type !== 0x08 || (expectedRank !== undefined && rank !== expectedRank)) {
    const want = expectedRank === undefined ? '0x000008NN' : `0x0000080${expectedRank}`;
    throw new DataError(
      `${file}: wrong IDX magic number 0x${magic.toString(16).padStart(8, '0')} at offset 0: expected ${want} (unsigned bytes, rank ${expectedRank ?? 'N'})`,
    );
  }
  const headerSize = 4 + 4 * rank;
  if (bytes.length < headerSize)
    throw new DataError(`${file}: truncated header: ${bytes.length} bytes, the ${rank} dimensions need ${headerSize}`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const dims = Array.from({ length: rank }, (_, i) => view.getUint32(4 + 4 * i, false));
  const size = dims.reduce((a, b) => a * b, 1);
  if (bytes.length !== headerSize + size) {
    const what = bytes.length < headerSize + size ? 'truncated' : 'too long';
    throw new DataError(
      `${file}: ${what}: the header promises ${dims.join('×')} = ${size} bytes of data after offset ${headerSize}, the file has ${bytes.length - headerSize}`,
    );
  }
  return { dims, data: bytes.subarray(headerSize) };
}

/** Reads an image file (rank 3) and a label file (rank 1) and checks that their counts agree. */
export function readIdxPair(
  imagesFile: string,
  labelsFile: string,
  checksums?: { images?: string; labels?: string },
): { images: IdxArray; labels: IdxArray } {
  const imageBytes = readMaybeGzip(imagesFile);
  const labelBytes = readMaybeGzip(labelsFile);
  // Structure first: a truncated or wrong file says what is wrong with it, not only that its hash differs.
  const images = parseIdx(imageBytes, imagesFile, 3);
  const labels = parseIdx(labelBytes, labelsFile, 1);
  if (images.dims[0] !== labels.dims[0]) {
    throw new DataError(`${imagesFile} has ${images.dims[0]} images but ${labelsFile} has ${labels.dims[0]} labels: the counts must match`);
  }
  if (checksums?.images && sha256(imageBytes) !== checksums.images) {
    throw new DataError(
      `${imagesFile}: checksum mismatch: sha256 ${sha256(imageBytes)}, expected ` +
        `${checksums.images} (the file is well-formed but its contents differ from ` +
        `the official one: damaged, or another dataset)`,
    );
  }
  if (checksums?.labels && sha256(labelBytes) !== checksums.labels) {
    throw new DataError(
      `${labelsFile}: checksum mismatch: sha256 ${sha256(labelBytes)}, expected ` +
        `${checksums.labels} (the file is well-formed but its contents differ from ` +
        `the official one: damaged, or another dataset)`,
    );
  }
  return { images, labels };
}
