/** model.summary() counts equal Keras' for the networks of the seed reports, and output shapes match theirs. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import * as L from '../../src/nn/index.js';
import { resetNames } from '../../src/nn/index.js';

const { Sequential, Conv2D, MaxPooling2D, AveragePooling2D, BatchNormalization, Dropout, Flatten, Dense, Input } = L;

function counts(m: L.Model): [number, number, number] {
  const total = m.countParams();
  const trainable = m.trainableWeights.reduce((n, w) => n + w.value.size, 0);
  return [total, trainable, total - trainable];
}

function shapes(m: L.Model): string[] {
  return m.layers.map((l) => `(${l.inboundNodes[l.inboundNodes.length - 1].output.shape.map((d) => d ?? 'None').join(', ')})`);
}

/** The regularization lab's three models; bn adds BatchNormalization where that report's BN variants have it. */
function regularizationLab(model: 1 | 2 | 3, bn: boolean): L.Model {
  const layers: L.Layer[] = [Input({ shape: [32, 32, 3] }).layer];
  if (model === 1) {
    layers.push(new Conv2D({ filters: 64, kernelSize: 3, padding: 'same', activation: 'relu' }), new MaxPooling2D());
    layers.push(new Conv2D({ filters: 64, kernelSize: 3, strides: 2, padding: 'same', activation: 'relu' }), new MaxPooling2D());
    if (bn) layers.push(new BatchNormalization());
    layers.push(new Flatten());
    if (bn) layers.push(new BatchNormalization());
    layers.push(new Dense({ units: 10, activation: 'softmax' }));
  } else {
    layers.push(new Conv2D({ filters: 64, kernelSize: 3, activation: 'relu' }), new MaxPooling2D());
    if (model === 3) layers.push(new Conv2D({ filters: 64, kernelSize: 3, activation: 'relu' }));
    if (bn) layers.push(new BatchNormalization());
    layers.push(new Flatten(), new Dense({ units: 100, activation: 'relu' }));
    if (bn) layers.push(new BatchNormalization());
    layers.push(new Dense({ units: 10, activation: 'softmax' }));
  }
  return new Sequential(layers);
}

describe('parameter counts equal Keras', () => {
  test("the CIFAR-10 training-size study's net: 37,146", () => {
    resetNames();
    const m = new Sequential([
      new Conv2D({ filters: 16, kernelSize: 3, padding: 'same', activation: 'relu', inputShape: [32, 32, 3] }),
      new Conv2D({ filters: 16, kernelSize: 3, strides: 2, padding: 'same', activation: 'relu' }),
      new Conv2D({ filters: 32, kernelSize: 3, padding: 'same', activation: 'relu' }),
      new Conv2D({ filters: 32, kernelSize: 3, strides: 2, padding: 'same', activation: 'relu' }),
      new Dropout({ rate: 0.5 }),
      new Flatten(),
      new Dense({ units: 10, activation: 'softmax', kernelRegularizer: { l1: 1e-4 } }),
    ]);
    assert.deepEqual(counts(m), [37146, 37146, 0]);
    assert.deepEqual(shapes(m), [
      '(None, 32, 32, 16)',
      '(None, 16, 16, 16)',
      '(None, 16, 16, 32)',
      '(None, 8, 8, 32)',
      '(None, 8, 8, 32)',
      '(None, 2048)',
      '(None, 10)',
    ]);
    const text = m.summary({ print: () => undefined });
    assert.match(text, /Total params: 37,146\nTrainable params: 37,146\nNon-trainable params: 0/);
    assert.match(text, /conv2d_1 \(Conv2D\) +\(None, 16, 16, 16\) +2,320/);
  });

  const cases: [1 | 2 | 3, boolean, [number, number, number], string[]][] = [
    [
      1,
      false,
      [48970, 48970, 0],
      ['(None, 32, 32, 64)', '(None, 16, 16, 64)', '(None, 8, 8, 64)', '(None, 4, 4, 64)', '(None, 1024)', '(None, 10)'],
    ],
    [2, false, [1442902, 1442902, 0], ['(None, 30, 30, 64)', '(None, 15, 15, 64)', '(None, 14400)', '(None, 100)', '(None, 10)']],
    [
      3,
      false,
      [1121430, 1121430, 0],
      ['(None, 30, 30, 64)', '(None, 15, 15, 64)', '(None, 13, 13, 64)', '(None, 10816)', '(None, 100)', '(None, 10)'],
    ],
    [
      1,
      true,
      [53322, 51146, 2176],
      [
        '(None, 32, 32, 64)',
        '(None, 16, 16, 64)',
        '(None, 8, 8, 64)',
        '(None, 4, 4, 64)',
        '(None, 4, 4, 64)',
        '(None, 1024)',
        '(None, 1024)',
        '(None, 10)',
      ],
    ],
    [
      2,
      true,
      [1443558, 1443230, 328],
      ['(None, 30, 30, 64)', '(None, 15, 15, 64)', '(None, 15, 15, 64)', '(None, 14400)', '(None, 100)', '(None, 100)', '(None, 10)'],
    ],
    [
      3,
      true,
      [1122086, 1121758, 328],
      [
        '(None, 30, 30, 64)',
        '(None, 15, 15, 64)',
        '(None, 13, 13, 64)',
        '(None, 13, 13, 64)',
        '(None, 10816)',
        '(None, 100)',
        '(None, 100)',
        '(None, 10)',
      ],
    ],
  ];
  for (const [model, bn, expected, outShapes] of cases) {
    test(`the regularization lab's model ${model}${bn ? ' with BatchNormalization' : ''}: ${expected[0].toLocaleString('en-US')} (${expected[2]} non-trainable)`, () => {
      const m = regularizationLab(model, bn);
      assert.deepEqual(counts(m), expected);
      assert.deepEqual(shapes(m), outShapes);
    });
  }

  test("the week-8 assignment's net: 390,410", () => {
    const m = new Sequential([
      Input({ shape: [32, 32, 3] }).layer,
      new Conv2D({ filters: 32, kernelSize: 5, padding: 'same', activation: 'relu' }),
      new MaxPooling2D(),
      new Conv2D({ filters: 64, kernelSize: 5, padding: 'same', activation: 'relu' }),
      new MaxPooling2D(),
      new Conv2D({ filters: 128, kernelSize: 5, padding: 'same', activation: 'relu' }),
      new MaxPooling2D(),
      new Flatten(),
      new Dense({ units: 64, activation: 'relu' }),
      new Dense({ units: 10 }),
    ]);
    assert.deepEqual(counts(m), [390410, 390410, 0]);
  });

  test('LeNet-5: 61,706', () => {
    const m = new Sequential([
      Input({ shape: [32, 32, 1] }).layer,
      new Conv2D({ filters: 6, kernelSize: 5, activation: 'relu' }),
      new AveragePooling2D(),
      new Conv2D({ filters: 16, kernelSize: 5, activation: 'relu' }),
      new AveragePooling2D(),
      new Conv2D({ filters: 120, kernelSize: 5, activation: 'relu' }),
      new Flatten(),
      new Dense({ units: 84, activation: 'relu' }),
      new Dense({ units: 10 }),
    ]);
    assert.equal(m.countParams(), 61706);
  });

  test('the tell-the-time clock model: a shared trunk with hour and minute heads, summarized with its connections', () => {
    resetNames();
    const inp = Input({ shape: [150, 150, 1] });
    let x = new Conv2D({ filters: 32, kernelSize: 3, activation: 'relu' }).apply(inp);
    x = new MaxPooling2D({ poolSize: 2 }).apply(x);
    x = new Conv2D({ filters: 32, kernelSize: 3, activation: 'relu' }).apply(x);
    x = new Conv2D({ filters: 32, kernelSize: 3, activation: 'relu' }).apply(x);
    x = new MaxPooling2D({ poolSize: 2 }).apply(x);
    x = new Conv2D({ filters: 64, kernelSize: 3, activation: 'relu' }).apply(x);
    x = new Conv2D({ filters: 64, kernelSize: 1, activation: 'relu' }).apply(x);
    const trunk = new Flatten().apply(x);
    let h = new Dense({ units: 200, activation: 'relu' }).apply(trunk);
    h = new Dropout({ rate: 0.1 }).apply(h);
    h = new Dense({ units: 200, activation: 'relu' }).apply(h);
    const hour = new Dense({ units: 12, activation: 'softmax', name: 'hour' }).apply(h);
    let mi = new Dense({ units: 200, activation: 'relu' }).apply(trunk);
    for (let i = 0; i < 3; i++) mi = new Dense({ units: 200, activation: 'relu' }).apply(mi);
    const minute = new Dense({ units: 1, activation: 'softplus', name: 'minute' }).apply(mi);
    const m = new L.Model({ inputs: inp, outputs: [hour, minute] });
    // Trunk output 33×33×64 = 69,696 features; every count below is Keras' formula.
    const trunkParams = 320 + 9248 + 9248 + 18496 + 4160;
    const hourParams = 69696 * 200 + 200 + 200 * 200 + 200 + 200 * 12 + 12;
    const minuteParams = 69696 * 200 + 200 + 3 * (200 * 200 + 200) + 201;
    assert.equal(m.countParams(), trunkParams + hourParams + minuteParams);
    assert.deepEqual(m.outputNames, ['hour', 'minute']);
    const text = m.summary({ print: () => undefined });
    assert.match(text, /Connected to/);
    assert.match(text, /minute \(Dense\) +\(None, 1\) +201 +dense_\d+\[0\]\[0\]/);
  });
});
