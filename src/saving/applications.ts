/**
 * Pretrained architectures (Keras' keras.applications): resnet18 and resnet34, built by src/nn/applications and
 * given weights from a file or from torchvision's ImageNet checkpoints, found in torchvision's own cache. Nothing is
 * downloaded here: a missing checkpoint is an error that says where to put it.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { buildResNet, RESNET18, RESNET34, type ResNetArgs, type ResNetShape } from '../nn/applications/resnet.js';
import type { Model } from '../nn/model.js';
import { ensureDir } from '../util/safe_fs.js';
import { WeightsFileError } from './safetensors.js';
import { loadStateDict, readWeightsFile } from './torch_weights.js';

export interface PretrainedArgs extends ResNetArgs {
  /** null (random initial weights), 'imagenet' (torchvision's checkpoint) or the path of a weights file. */
  weights?: string | null;
  /** For a weights file: false loads what matches and leaves the rest as initialized. */
  strict?: boolean;
}

/** torchvision's ImageNet checkpoints: file names carry the first 8 hex digits of their sha256. */
export const IMAGENET_CHECKPOINTS: Record<string, string> = {
  resnet18: 'resnet18-f37072fd.pth',
  resnet34: 'resnet34-b627a593.pth',
};

/** Where torchvision keeps downloaded checkpoints: $TORCH_HOME/hub/checkpoints, by default ~/.cache/torch/hub/checkpoints. */
export function torchCheckpointDir(): string {
  const home = process.env.TORCH_HOME ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'torch');
  return join(home, 'hub', 'checkpoints');
}

/** The cached ImageNet checkpoint of an architecture, its sha256 checked against its name. */
export function imagenetCheckpoint(arch: string): string {
  const name = IMAGENET_CHECKPOINTS[arch];
  if (!name)
    throw new WeightsFileError(`no ImageNet weights for '${arch}': expected one of ${Object.keys(IMAGENET_CHECKPOINTS).join(', ')}`);
  const file = join(torchCheckpointDir(), name);
  if (!existsSync(file)) {
    throw new WeightsFileError(
      `${arch}: torchvision's ImageNet checkpoint is not at ${file}. Put ${name} there (from https://download.pytorch.org/models/${name}, ` +
        `or let torchvision fetch it: python3 -c "import torchvision; torchvision.models.${arch}(weights='IMAGENET1K_V1')"), ` +
        'or set TORCH_HOME to the folder above hub/checkpoints that holds it',
    );
  }
  const digest = createHash('sha256').update(readFileSync(file)).digest('hex');
  const expected = name.slice(name.lastIndexOf('-') + 1, name.lastIndexOf('.'));
  if (!digest.startsWith(expected)) {
    throw new WeightsFileError(
      `${file}: sha256 ${digest} does not start with ${expected}, as its name says: the file is damaged or another one`,
    );
  }
  return file;
}

/**
 * Downloads torchvision's ImageNet checkpoint of an architecture into torchvision's cache (where a network exists),
 * checks its sha256 against its name before writing, and writes through a temporary file and a rename. Returns the
 * path. CONVLAB_WEIGHTS_MIRROR replaces https://download.pytorch.org/models/ (a local mirror, or tests).
 */
export async function fetchImagenetWeights(arch: string, log: (line: string) => void = () => {}): Promise<string> {
  const name = IMAGENET_CHECKPOINTS[arch];
  if (!name)
    throw new WeightsFileError(`no ImageNet weights for '${arch}': expected one of ${Object.keys(IMAGENET_CHECKPOINTS).join(', ')}`);
  const dir = torchCheckpointDir();
  const target = join(dir, name);
  const expected = name.slice(name.lastIndexOf('-') + 1, name.lastIndexOf('.'));
  if (existsSync(target)) {
    const digest = createHash('sha256').update(readFileSync(target)).digest('hex');
    if (digest.startsWith(expected)) {
      log(`${target} is already there, checksum-checked`);
      return target;
    }
    // Not convlab's file to replace: torchvision or the user put it there.
    throw new WeightsFileError(
      `${target} exists, but its sha256 ${digest} does not start with ${expected}; move it aside, then fetch again`,
    );
  }
  const mirror = process.env.CONVLAB_WEIGHTS_MIRROR;
  const url = `${mirror ? mirror.replace(/\/?$/, '/') : 'https://download.pytorch.org/models/'}${name}`;
  log(`downloading ${url}`);
  let bytes: Buffer;
  try {
    const res = await fetch(url);
    if (!res.ok) throw new Error(`HTTP ${res.status} ${res.statusText}`);
    bytes = Buffer.from(await res.arrayBuffer());
  } catch (e) {
    const cause = (e as { cause?: { message?: string } }).cause?.message;
    throw new WeightsFileError(
      `${url}: download failed (${(e as Error).message}${cause ? `: ${cause}` : ''}); no network here? Put ${name} in ${dir} by hand`,
    );
  }
  const digest = createHash('sha256').update(bytes).digest('hex');
  if (!digest.startsWith(expected)) {
    throw new WeightsFileError(`${url}: checksum mismatch: sha256 ${digest} does not start with ${expected}; nothing was written`);
  }
  ensureDir(dir, 'the torch checkpoint folder');
  const tmp = `${target}.${process.pid}.tmp`;
  try {
    writeFileSync(tmp, bytes);
    renameSync(tmp, target);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw new WeightsFileError(`${target}: could not write (${(e as Error).message})`);
  }
  return target;
}

function pretrained(arch: string, shape: ResNetShape, args: PretrainedArgs): Model {
  const includeTop = args.includeTop ?? true;
  if (args.weights === 'imagenet' && includeTop && (args.classes ?? 1000) !== 1000) {
    throw new WeightsFileError(
      `${arch}: the ImageNet weights classify 1000 classes, not ${args.classes}: use include_top: false and a top of your own`,
    );
  }
  const model = buildResNet(shape, args, arch);
  if (!args.weights) return model;
  const file = args.weights === 'imagenet' ? imagenetCheckpoint(arch) : args.weights;
  // Without its top, the model has no fc: the file's fc is left out rather than reported.
  const tensors = readWeightsFile(file).filter((t) => includeTop || !t.name.startsWith('fc.'));
  loadStateDict(model, tensors, { strict: args.strict ?? true, source: file });
  return model;
}

/** ResNet-18 with torchvision's structure; weights: 'imagenet' loads torchvision's checkpoint from its cache. */
export function resnet18(args: PretrainedArgs = {}): Model {
  return pretrained('resnet18', RESNET18, args);
}

/** ResNet-34 with torchvision's structure; weights: 'imagenet' loads torchvision's checkpoint from its cache. */
export function resnet34(args: PretrainedArgs = {}): Model {
  return pretrained('resnet34', RESNET34, args);
}
