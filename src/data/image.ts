/**
 * Image files to uint8 HWC pixels: PNG (pngjs) and JPEG (jpeg-js) decoding, colour conversion and bilinear
 * resizing with TensorFlow's half-pixel convention (what Keras' image_dataset_from_directory does).
 */
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { DataError } from './errors.js';

export type ColorMode = 'rgb' | 'grayscale';

export interface Pixels {
  height: number;
  width: number;
  channels: number;
  data: Uint8Array;
}

export function isImageFile(path: string): boolean {
  return /\.(png|jpe?g)$/i.test(path);
}

/** Decodes a PNG or JPEG (by its signature, not its name) into RGB or grayscale pixels. */
export function decodeImage(bytes: Uint8Array, where: string, color: ColorMode): Pixels {
  let rgba: Uint8Array;
  let width: number;
  let height: number;
  let srcChannels: number;
  try {
    if (bytes[0] === 0x89 && bytes[1] === 0x50 && bytes[2] === 0x4e && bytes[3] === 0x47) {
      const png = PNG.sync.read(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
      ({ width, height } = png);
      rgba = png.data;
      srcChannels = 4;
    } else if (bytes[0] === 0xff && bytes[1] === 0xd8) {
      const img = jpeg.decode(bytes, { useTArray: true, formatAsRGBA: true, maxMemoryUsageInMB: 512 });
      ({ width, height } = img);
      rgba = img.data;
      srcChannels = 4;
    } else {
      throw new Error('not a PNG or JPEG file (unknown signature)');
    }
  } catch (e) {
    throw new DataError(`${where}: unreadable image: ${(e as Error).message}`);
  }
  const n = width * height;
  if (rgba.length < n * srcChannels) throw new DataError(`${where}: unreadable image: truncated pixel data`);
  if (color === 'rgb') {
    const data = new Uint8Array(n * 3);
    for (let i = 0; i < n; i++) {
      data[i * 3] = rgba[i * 4];
      data[i * 3 + 1] = rgba[i * 4 + 1];
      data[i * 3 + 2] = rgba[i * 4 + 2];
    }
    return { height, width, channels: 3, data };
  }
  // ITU-R 601 luma, as PIL's convert('L') computes it.
  const data = new Uint8Array(n);
  for (let i = 0; i < n; i++) data[i] = Math.round((rgba[i * 4] * 299 + rgba[i * 4 + 1] * 587 + rgba[i * 4 + 2] * 114) / 1000);
  return { height, width, channels: 1, data };
}

/** Bilinear resize with half-pixel centers (tf.image.resize, antialias off), rounded back to uint8. */
export function resizeBilinear(img: Pixels, height: number, width: number): Pixels {
  if (img.height === height && img.width === width) return img;
  const { channels: c, data } = img;
  const out = new Uint8Array(height * width * c);
  const sy = img.height / height;
  const sx = img.width / width;
  for (let y = 0; y < height; y++) {
    const fy = Math.max(0, (y + 0.5) * sy - 0.5);
    const y0 = Math.min(img.height - 1, Math.floor(fy));
    const y1 = Math.min(img.height - 1, y0 + 1);
    const wy = fy - y0;
    for (let x = 0; x < width; x++) {
      const fx = Math.max(0, (x + 0.5) * sx - 0.5);
      const x0 = Math.min(img.width - 1, Math.floor(fx));
      const x1 = Math.min(img.width - 1, x0 + 1);
      const wx = fx - x0;
      for (let k = 0; k < c; k++) {
        const a = data[(y0 * img.width + x0) * c + k];
        const b = data[(y0 * img.width + x1) * c + k];
        const d = data[(y1 * img.width + x0) * c + k];
        const e = data[(y1 * img.width + x1) * c + k];
        const top = a + (b - a) * wx;
        const bottom = d + (e - d) * wx;
        out[(y * width + x) * c + k] = Math.round(top + (bottom - top) * wy);
      }
    }
  }
  return { height, width, channels: c, data: out };
}
