/**
 * The benchmark models A–E, built with convlab's API. PyTorch and TensorFlow.js mirror A–D; E is resnet18 at
 * 224×224 (torchvision's structure), against torchvision's own resnet18.
 */
import {
  BatchNormalization,
  Conv2D,
  Dense,
  Dropout,
  Flatten,
  Input,
  LeakyReLU,
  MaxPooling2D,
  AveragePooling2D,
  Sequential,
  type Layer,
  type Model,
} from '../src/nn/index.js';
import { buildResNet, RESNET18 } from '../src/nn/applications/resnet.js';

export interface BenchModel {
  name: 'A' | 'B' | 'C' | 'D' | 'E';
  input: [number, number, number];
  batch: number;
  /** Rough training cost per image in MFLOP, used to size the timed runs. */
  trainMflop: number;
}

export const MODELS: BenchModel[] = [
  { name: 'A', input: [32, 32, 3], batch: 128, trainMflop: 14 },
  { name: 'B', input: [32, 32, 1], batch: 128, trainMflop: 2.6 },
  { name: 'C', input: [32, 32, 3], batch: 64, trainMflop: 20 },
  { name: 'D', input: [32, 32, 3], batch: 64, trainMflop: 950 },
  { name: 'E', input: [224, 224, 3], batch: 32, trainMflop: 10_900 },
];

/** Forward FLOPs of one image (2 per multiply-add) of the convolutions and dense layers: the work a step does. */
export function forwardFlops(model: Model): number {
  let flops = 0;
  for (const node of model.nodes) {
    const cfg = node.layer.getConfig() as { kernel_size?: [number, number]; units?: number };
    const out = node.output.shape;
    const cin = node.inputs[0]?.shape[node.inputs[0].shape.length - 1] ?? 0;
    if (node.layer.className === 'Conv2D' && cfg.kernel_size) {
      flops += 2 * (out[1] ?? 0) * (out[2] ?? 0) * (out[3] ?? 0) * cfg.kernel_size[0] * cfg.kernel_size[1] * (cin as number);
    } else if (node.layer.className === 'Dense' && cfg.units) flops += 2 * (cin as number) * cfg.units;
  }
  return flops;
}

export function buildConvlabModel(name: BenchModel['name']): Sequential | Model {
  if (name === 'E') return buildResNet(RESNET18, {});
  const conv = (filters: number, strides = 1, padding: 'same' | 'valid' = 'same') =>
    new Conv2D({ filters, kernelSize: 3, strides, padding, activation: 'relu' });
  let layers: Layer[];
  switch (name) {
    case 'A':
      layers = [
        Input({ shape: [32, 32, 3] }).layer,
        conv(16),
        conv(16, 2),
        conv(32),
        conv(32, 2),
        new Dropout({ rate: 0.5 }),
        new Flatten(),
        new Dense({ units: 10, activation: 'softmax' }),
      ];
      break;
    case 'B':
      layers = [
        Input({ shape: [32, 32, 1] }).layer,
        new Conv2D({ filters: 6, kernelSize: 5, activation: 'relu' }),
        new AveragePooling2D(),
        new Conv2D({ filters: 16, kernelSize: 5, activation: 'relu' }),
        new AveragePooling2D(),
        new Conv2D({ filters: 120, kernelSize: 5, activation: 'relu' }),
        new Flatten(),
        new Dense({ units: 84, activation: 'relu' }),
        new Dense({ units: 10, activation: 'softmax' }),
      ];
      break;
    case 'C':
      layers = [
        Input({ shape: [32, 32, 3] }).layer,
        conv(64, 1, 'valid'),
        new MaxPooling2D(),
        new Flatten(),
        new Dense({ units: 100, activation: 'relu' }),
        new Dense({ units: 10, activation: 'softmax' }),
      ];
      break;
    case 'D': {
      layers = [Input({ shape: [32, 32, 3] }).layer];
      for (const f of [128, 256, 512]) {
        layers.push(
          new Conv2D({ filters: f, kernelSize: 3, padding: 'same' }),
          new BatchNormalization(),
          new LeakyReLU({ negativeSlope: 0.01 }),
          new MaxPooling2D(),
        );
      }
      layers.push(
        new Flatten(),
        new Dense({ units: 512 }),
        new BatchNormalization(),
        new LeakyReLU({ negativeSlope: 0.01 }),
        new Dense({ units: 10, activation: 'softmax' }),
      );
      break;
    }
  }
  return new Sequential(layers);
}
