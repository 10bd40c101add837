/**
 * `convlab weights inspect FILE`: the tensors of a weights file (torch.save checkpoint or safetensors), and
 * `convlab export MODEL|TRIAL --format safetensors|onnx --out FILE`: a saved model's weights with PyTorch's names and
 * layouts (torchvision's, for the architectures of src/nn/applications), which load_state_dict takes, or the whole
 * inference graph as ONNX.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Command } from 'commander';
import { SpecFileError } from '../lab/spec.js';
import { fetchImagenetWeights, readSafetensors, readWeightsFile, toTorchStateDict, writeSafetensors } from '../saving/index.js';
import { isConvlabOnnx, toOnnx } from '../saving/onnx.js';
import { checkWritable, ensureDir, OutputError, writeFileAtomic } from '../util/safe_fs.js';
import { defaultStore, findTrial, withStore } from './lab.js';
import { loadForPrediction, trialModelDir } from './predict.js';

function registerWeightsCommand(program: Command): void {
  const weights = program.command('weights').description('weights files from elsewhere (PyTorch, safetensors)');
  weights
    .command('inspect')
    .description("a weights file's tensors: name, dtype, shape (torch.save checkpoints and safetensors files)")
    .argument('<file>', 'a .pth/.pt file written by torch.save, or a .safetensors file')
    .option('--json', 'as JSON')
    .action((file: string, opts: { json?: boolean }) => {
      if (!existsSync(file)) throw new SpecFileError(`${file}: not found`);
      const tensors = readWeightsFile(file);
      if (opts.json) {
        const rows = tensors.map((t) => ({ name: t.name, dtype: t.dtype, shape: t.shape }));
        return void process.stdout.write(`${JSON.stringify(rows)}\n`);
      }
      const width = Math.max(4, ...tensors.map((t) => t.name.length));
      console.log(`${'name'.padEnd(width)}  dtype  shape`);
      for (const t of tensors) console.log(`${t.name.padEnd(width)}  ${t.dtype.padEnd(5)}  [${t.shape.join(', ')}]`);
      const values = tensors.reduce((n, t) => n + (t.data ? t.data.length : 0), 0);
      console.log(`${tensors.length} tensors, ${values.toLocaleString('en-US')} floating-point values`);
    });
  weights
    .command('fetch')
    .description("downloads torchvision's ImageNet checkpoint of an architecture into torchvision's cache, checksum-checked")
    .argument('<arch>', 'resnet18 or resnet34')
    .action(async (arch: string) => {
      const file = await fetchImagenetWeights(arch, (line) => console.log(line));
      console.log(`${file}: ready for weights: imagenet`);
    });
}

function registerExportCommand(program: Command): void {
  program
    .command('export')
    .description("a saved model for use elsewhere: its weights as safetensors (PyTorch's names and layouts) or the whole model as ONNX")
    .argument('<model>', 'a saved model folder (train --save), or a trial id from the run store')
    .requiredOption('--out <file>', 'the file to write (.safetensors or .onnx)')
    .option('--format <format>', 'safetensors (the weights) or onnx (the inference graph with its weights, opset 13)', 'safetensors')
    .option('--store <dir>', 'the run store folder, for a trial id (default .convlab, or CONVLAB_STORE)')
    .action(async (target: string, opts: { out: string; format: string; store?: string }) => {
      if (opts.format !== 'safetensors' && opts.format !== 'onnx') {
        throw new SpecFileError(`--format: expected safetensors or onnx, got '${opts.format}'`);
      }
      checkWritable(opts.out, 'file', '--out');
      // An existing file is replaced only if it is an earlier export of the same format, never anything else.
      if (existsSync(opts.out) && !replaceable(opts.out, opts.format)) {
        const what = opts.format === 'onnx' ? 'an ONNX model written by convlab' : 'a safetensors file';
        throw new OutputError(`--out ${opts.out}: the file exists and is not ${what}; convlab replaces only its own exports`);
      }
      const isTrial = /^#?\d+$/.test(target) && !existsSync(target);
      const dir = isTrial
        ? await withStore(opts.store ?? defaultStore(), async (store, files) => {
            await files(findTrial(store, target).id, 'model');
            return trialModelDir(store, target);
          })
        : target;
      const { model } = loadForPrediction(dir, { pipeline: false });
      ensureDir(dirname(opts.out), '--out');
      if (opts.format === 'onnx') {
        const bytes = toOnnx(model, packageVersion());
        writeFileAtomic(opts.out, [bytes]);
        const size = bytes.length.toLocaleString('en-US');
        return void console.log(
          `${opts.out}: ONNX opset 13, ${model.layers.length} layers, ${size} bytes; NHWC input '${model.inputNames.join("', '")}'`,
        );
      }
      const tensors = toTorchStateDict(model);
      writeSafetensors(opts.out, tensors, { format: 'pt', source: 'convlab', model: model.name });
      const values = tensors.reduce((n, t) => n + t.data.length, 0);
      console.log(`${opts.out}: ${tensors.length} tensors, ${values.toLocaleString('en-US')} values (PyTorch names and layouts)`);
    });
}

/** Whether an existing file is an earlier export of this format (and so may be replaced). */
function replaceable(file: string, format: string): boolean {
  if (format === 'onnx') return isConvlabOnnx(readFileSync(file));
  try {
    readSafetensors(file);
    return true;
  } catch {
    return false;
  }
}

function packageVersion(): string {
  return (JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
}

export function registerWeightsCommands(program: Command): void {
  registerWeightsCommand(program);
  registerExportCommand(program);
}
