/**
 * image-folder: a `<class>/<image>` tree, or `{train,test}/<class>/<image>`, as a directory or a .tar.gz (one
 * top-level folder around it is allowed, as archives usually have). Classes are the folder names in sorted order
 * (Keras' image_dataset_from_directory), or a fixed list such as CIFAR-10's official order. Without train/test
 * folders, a seeded stratified share of each class becomes the test split. Images keep their size unless `size`
 * resizes them (bilinear); mixed sizes without `size` are an error.
 */
import { Random } from '../engine/random.js';
import type { Dataset, ImageSet } from './dataset.js';
import { DataError } from './errors.js';
import { readFiles, type FileEntry } from './files.js';
import { decodeImage, isImageFile, resizeBilinear, type ColorMode, type Pixels } from './image.js';
import { pickIndices } from './split.js';

export interface ImageFolderOptions {
  /** [height, width] to resize every image to. */
  size?: [number, number];
  color?: ColorMode;
  /** Class names in label order; folders must be among them (default: the folder names, sorted). */
  classNames?: string[];
  /** Share of each class held out as the test split when the tree has no train/test folders (default 0.2). */
  testFraction?: number;
  seed?: number;
  name?: string;
}

interface Item {
  file: FileEntry;
  split: 'train' | 'test' | null;
  cls: string;
}

export async function loadImageFolder(path: string, options: ImageFolderOptions = {}): Promise<Dataset> {
  const tree = await readFiles(path);
  let files = tree.files;
  let dirs = tree.dirs;
  // Strip one enclosing folder (e.g. cifar10-jpeg/) when every file sits inside it at class depth or deeper.
  const tops = new Set(files.map((f) => f.path.split('/')[0]));
  if (tops.size === 1 && files.length > 0 && files.every((f) => f.path.split('/').length >= 3)) {
    const [top] = [...tops];
    if (top !== 'train' && top !== 'test') {
      files = files.map((f) => ({ ...f, path: f.path.slice(top.length + 1) }));
      dirs = dirs.filter((d) => d.startsWith(`${top}/`)).map((d) => d.slice(top.length + 1));
    }
  }
  const images = files.filter((f) => isImageFile(f.path));
  if (images.length === 0)
    throw new DataError(`${path}: no .png or .jpg images found: expected <class>/<image> or {train,test}/<class>/<image>`);
  const split = images.some((f) => /^(train|test)\//.test(f.path));
  const items: Item[] = [];
  for (const f of images) {
    const parts = f.path.split('/');
    if (split) {
      if (parts.length !== 3 || (parts[0] !== 'train' && parts[0] !== 'test')) {
        throw new DataError(`${path}: ${f.path}: expected train/<class>/<image> or test/<class>/<image>`);
      }
      items.push({ file: f, split: parts[0] as 'train' | 'test', cls: parts[1] });
    } else {
      if (parts.length !== 2) throw new DataError(`${path}: ${f.path}: expected <class>/<image>`);
      items.push({ file: f, split: null, cls: parts[0] });
    }
  }
  // Class folders: every directory at class depth, so an empty one is reported rather than silently dropped.
  const classDirs = split ? dirs.filter((d) => /^(train|test)\/[^/]+$/.test(d)) : dirs.filter((d) => !d.includes('/'));
  const folderClasses = [...new Set(classDirs.map((d) => d.split('/').pop() as string))].sort();
  const classNames = options.classNames ?? folderClasses;
  const label = new Map(classNames.map((c, i) => [c, i]));
  for (const d of classDirs) {
    const cls = d.split('/').pop() as string;
    if (!label.has(cls)) throw new DataError(`${path}: class folder '${d}' is not one of the expected classes ${classNames.join(', ')}`);
    if (!items.some((it) => (split ? `${it.split}/${it.cls}` : it.cls) === d))
      throw new DataError(`${path}: class folder '${d}' has no .png or .jpg images`);
  }
  const color = options.color ?? 'rgb';
  let trainIdx: number[];
  let testIdx: number[];
  if (split) {
    trainIdx = items.flatMap((it, i) => (it.split === 'train' ? [i] : []));
    testIdx = items.flatMap((it, i) => (it.split === 'test' ? [i] : []));
  } else {
    const all = Int32Array.from(items.keys());
    const labels = Int32Array.from(items, (it) => label.get(it.cls) as number);
    const fraction = options.testFraction ?? 0.2;
    const { picked, rest } = pickIndices(labels, all, Math.round(fraction * all.length), new Random((options.seed ?? 0) ^ 0x7e57), true);
    testIdx = [...picked].sort((a, b) => a - b);
    trainIdx = [...rest].sort((a, b) => a - b);
  }
  const decode = (k: number): Pixels => {
    const it = items[k];
    const px = decodeImage(it.file.bytes, `${path}: ${it.file.path}`, color);
    it.file.bytes = new Uint8Array(0); // the encoded bytes are no longer needed
    return options.size ? resizeBilinear(px, options.size[0], options.size[1]) : px;
  };
  // Every image is decoded straight into its split's array, sized from the first image.
  const first = decode(trainIdx[0] ?? testIdx[0]);
  const firstPath = items[trainIdx[0] ?? testIdx[0]].file.path;
  const { height, width, channels } = first;
  const per = height * width * channels;
  const pack = (idx: number[]): ImageSet => {
    const data = new Uint8Array(idx.length * per);
    const labels = new Int32Array(idx.length);
    idx.forEach((k, j) => {
      const px = k === (trainIdx[0] ?? testIdx[0]) ? first : decode(k);
      if (px.height !== height || px.width !== width) {
        throw new DataError(
          `${path}: images of different sizes: ${firstPath} is ${height}×${width}, ${items[k].file.path} is ${px.height}×${px.width}; give a size to resize them`,
        );
      }
      data.set(px.data, j * per);
      labels[j] = label.get(items[k].cls) as number;
    });
    return { images: data, labels, count: idx.length, height, width, channels };
  };
  return { name: options.name ?? 'image-folder', classNames, train: pack(trainIdx), test: pack(testIdx), source: path };
}
