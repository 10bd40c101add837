/** Shape helpers shared by the engine and its backends. Shapes are plain number arrays, row-major. */

export type Shape = readonly number[];

export function sizeOf(shape: Shape): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

export function stridesOf(shape: Shape): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= shape[i];
  }
  return s;
}

export function shapesEqual(a: Shape, b: Shape): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

export function formatShape(shape: readonly (number | null)[]): string {
  return `[${shape.map((d) => (d === null ? 'None' : String(d))).join(', ')}]`;
}

/** NumPy broadcasting: align right, each pair of dims must be equal or one of them 1. */
export function broadcastShapes(a: Shape, b: Shape): number[] {
  const rank = Math.max(a.length, b.length);
  const out = new Array<number>(rank);
  for (let i = 0; i < rank; i++) {
    const da = a[a.length - rank + i] ?? 1;
    const db = b[b.length - rank + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) {
      throw new Error(`shapes ${formatShape(a)} and ${formatShape(b)} cannot be broadcast together (dimension ${i}: ${da} vs ${db})`);
    }
    out[i] = da === 1 ? db : da;
  }
  return out;
}

/** Strides of `shape` seen as broadcast into `outShape`: broadcast dimensions get stride 0. */
export function broadcastStrides(shape: Shape, outShape: Shape): number[] {
  const strides = stridesOf(shape);
  const off = outShape.length - shape.length;
  const out = new Array<number>(outShape.length).fill(0);
  for (let i = 0; i < shape.length; i++) out[off + i] = shape[i] === 1 && outShape[off + i] !== 1 ? 0 : strides[i];
  return out;
}

export function normalizeAxis(axis: number, rank: number): number {
  const a = axis < 0 ? axis + rank : axis;
  if (a < 0 || a >= rank) throw new Error(`axis ${axis} is out of range for a tensor of rank ${rank}`);
  return a;
}

export function normalizeAxes(axes: number | readonly number[] | undefined, rank: number): number[] {
  if (axes === undefined) return Array.from({ length: rank }, (_, i) => i);
  const list = typeof axes === 'number' ? [axes] : axes;
  return [...new Set(list.map((a) => normalizeAxis(a, rank)))].sort((x, y) => x - y);
}

/**
 * The output length of a sliding window (convolution or pooling) along one axis with explicit padding: the one
 * formula every convolution and pooling shape comes from (the engine's ops, both backends, the layers).
 */
export function windowOutput(length: number, before: number, after: number, window: number, stride: number, dilation = 1): number {
  return Math.floor((length + before + after - ((window - 1) * dilation + 1)) / stride) + 1;
}

/** [n, oh, ow, cout] of a convolution of x [n, h, w, cin] with w [kh, kw, cin, cout]. */
export function conv2dOutputShape(
  xShape: Shape,
  wShape: Shape,
  attrs: { strides: readonly [number, number]; dilations: readonly [number, number]; pads: readonly [number, number, number, number] },
): [number, number, number, number] {
  const [pt, pb, pl, pr] = attrs.pads;
  return [
    xShape[0],
    windowOutput(xShape[1], pt, pb, wShape[0], attrs.strides[0], attrs.dilations[0]),
    windowOutput(xShape[2], pl, pr, wShape[1], attrs.strides[1], attrs.dilations[1]),
    wShape[3],
  ];
}

/** [n, oh, ow, c] of a pooling of x [n, h, w, c]. */
export function pool2dOutputShape(
  xShape: Shape,
  attrs: { pool: readonly [number, number]; strides: readonly [number, number]; pads: readonly [number, number, number, number] },
): [number, number, number, number] {
  const [pt, pb, pl, pr] = attrs.pads;
  return [
    xShape[0],
    windowOutput(xShape[1], pt, pb, attrs.pool[0], attrs.strides[0]),
    windowOutput(xShape[2], pl, pr, attrs.pool[1], attrs.strides[1]),
    xShape[3],
  ];
}
