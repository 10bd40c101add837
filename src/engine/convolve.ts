/**
 * A plain 2-D convolution utility for images and teaching, separate from the conv2d layer op. mode 'convolve'
 * flips the kernel (true convolution, scipy.ndimage.convolve / scipy.signal.convolve2d); mode 'correlate' does not
 * (what CNN layers compute). The output size follows scipy.signal: 'full', 'same' (centred on the input) or
 * 'valid'. Missing pixels are zero.
 */
export type ConvolveMode = 'full' | 'same' | 'valid';

export interface ConvolveOptions {
  mode?: ConvolveMode;
  correlate?: boolean;
}

export function convolve2d(
  image: readonly (readonly number[])[],
  kernel: readonly (readonly number[])[],
  options: ConvolveOptions = {},
): number[][] {
  const mode = options.mode ?? 'same';
  const h = image.length;
  const w = h > 0 ? image[0].length : 0;
  const kh = kernel.length;
  const kw = kh > 0 ? kernel[0].length : 0;
  if (h === 0 || w === 0 || kh === 0 || kw === 0) throw new Error('convolve2d: image and kernel must be non-empty');
  if (image.some((r) => r.length !== w)) throw new Error('convolve2d: image rows have different lengths');
  if (kernel.some((r) => r.length !== kw)) throw new Error('convolve2d: kernel rows have different lengths');
  // Correlation is convolution with the kernel flipped on both axes.
  const k = options.correlate ? kernel.map((r) => [...r].reverse()).reverse() : kernel;
  const fullH = h + kh - 1;
  const fullW = w + kw - 1;
  const at = (y: number, x: number): number => {
    let s = 0;
    for (let a = 0; a < kh; a++) {
      const iy = y - a;
      if (iy < 0 || iy >= h) continue;
      for (let b = 0; b < kw; b++) {
        const ix = x - b;
        if (ix >= 0 && ix < w) s += image[iy][ix] * k[a][b];
      }
    }
    return s;
  };
  let [y0, x0, oh, ow] = [0, 0, fullH, fullW];
  if (mode === 'same') [y0, x0, oh, ow] = [Math.floor((kh - 1) / 2), Math.floor((kw - 1) / 2), h, w];
  else if (mode === 'valid') {
    if (h < kh || w < kw) throw new Error(`convolve2d: 'valid' needs the image (${h}×${w}) at least as large as the kernel (${kh}×${kw})`);
    [y0, x0, oh, ow] = [kh - 1, kw - 1, h - kh + 1, w - kw + 1];
  } else if (mode !== 'full') throw new Error(`convolve2d: unknown mode '${mode as string}': expected 'full', 'same' or 'valid'`);
  return Array.from({ length: oh }, (_, y) => Array.from({ length: ow }, (_, x) => at(y + y0, x + x0)));
}
