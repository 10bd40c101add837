/**
 * `convlab weights inspect FILE`: the tensors of a weights file (torch.save checkpoint or safetensors), and
 * `convlab export MODEL|TRIAL --format safetensors --out FILE`: a saved model's weights with PyTorch's names and
 * layouts (torchvision's, for the architectures of src/nn/applications), which load_state_dict takes.
 */
import { existsSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Command } from 'commander';
import { SpecFileError } from '../lab/spec.js';
import { fetchImagenetWeights, readSafetensors, readWeightsFile, toStateDict, writeSafetensors } from '../saving/index.js';
import { checkWritable, ensureDir, OutputError } from '../util/safe_fs.js';
import { defaultStore, withStore } from './lab.js';
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
    .description("a saved model's weights for use elsewhere: safetensors with PyTorch's names and layouts")
    .argument('<model>', 'a saved model folder (train --save), or a trial id from the run store')
    .requiredOption('--out <file>', 'the file to write (.safetensors)')
    .option('--format <format>', 'safetensors', 'safetensors')
    .option('--store <dir>', 'the run store folder, for a trial id (default .convlab, or CONVLAB_STORE)')
    .action(async (target: string, opts: { out: string; format: string; store?: string }) => {
      if (opts.format === 'onnx') {
        throw new SpecFileError(
          '--format onnx: ONNX export is not available yet; --format safetensors writes the weights with PyTorch names',
        );
      }
      if (opts.format !== 'safetensors') throw new SpecFileError(`--format: expected safetensors, got '${opts.format}'`);
      checkWritable(opts.out, 'file', '--out');
      // An existing file is replaced only if it is a safetensors file (an earlier export), never anything else.
      if (existsSync(opts.out)) {
        try {
          readSafetensors(opts.out);
        } catch {
          throw new OutputError(`--out ${opts.out}: the file exists and is not a safetensors file; convlab replaces only its own exports`);
        }
      }
      const isTrial = /^#?\d+$/.test(target) && !existsSync(target);
      const dir = isTrial ? await withStore(opts.store ?? defaultStore(), (store) => trialModelDir(store, target)) : target;
      const { model } = loadForPrediction(dir, { pipeline: false });
      const tensors = toStateDict(model);
      ensureDir(dirname(opts.out), '--out');
      writeSafetensors(opts.out, tensors, { format: 'pt', source: 'convlab', model: model.name });
      const values = tensors.reduce((n, t) => n + t.data.length, 0);
      console.log(`${opts.out}: ${tensors.length} tensors, ${values.toLocaleString('en-US')} values (PyTorch names and layouts)`);
    });
}

export function registerWeightsCommands(program: Command): void {
  registerWeightsCommand(program);
  registerExportCommand(program);
}
