/** The clocks generator: deterministic, labels consistent with the drawn time, no global-statistics shortcut, label schemes. */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { clockTargets, generateClocks } from '../../src/data/clocks.js';
import { prepareData } from '../../src/data/spec.js';

const root = mkdtempSync(join(tmpdir(), 'convlab-clocks-'));
after(() => rmSync(root, { recursive: true, force: true }));
process.env.CONVLAB_CACHE = join(root, 'cache');

describe('clocks', () => {
  const d = generateClocks({ count: 600, size: 40, seed: 3 });

  test('the same seed draws the same images and times; another seed others', () => {
    const again = generateClocks({ count: 600, size: 40, seed: 3 });
    assert.deepEqual(again.train.images, d.train.images);
    assert.deepEqual(again.test.targets?.minute, d.test.targets?.minute);
    assert.notDeepEqual(generateClocks({ count: 600, size: 40, seed: 4 }).train.images, d.train.images);
  });

  test('an 80:20 split of 40×40 grayscale images; hours 0–11 and minutes in [0, 60), roughly uniform', () => {
    assert.equal(d.train.count, 480);
    assert.equal(d.test.count, 120);
    assert.deepEqual([d.train.height, d.train.width, d.train.channels], [40, 40, 1]);
    const minutes = d.train.targets?.minute as Float32Array;
    assert.ok(d.train.labels.every((h) => h >= 0 && h < 12));
    assert.ok(minutes.every((m) => m >= 0 && m < 60));
    const perHour = new Array(12).fill(0);
    for (const h of d.train.labels) perHour[h]++;
    assert.ok(Math.min(...perHour) >= 20 && Math.max(...perHour) <= 65, `hours ${perHour}`);
  });

  test('no shortcut: image brightness and contrast do not predict the hour or the minute', () => {
    const n = d.train.count;
    const px = 40 * 40;
    const stats = Array.from({ length: n }, (_, i) => {
      const img = d.train.images.subarray(i * px, (i + 1) * px);
      const mean = img.reduce((s, v) => s + v, 0) / px;
      const std = Math.sqrt(img.reduce((s, v) => s + (v - mean) ** 2, 0) / px);
      return [mean, std];
    });
    const corr = (a: number[], b: number[]) => {
      const ma = a.reduce((s, v) => s + v, 0) / a.length;
      const mb = b.reduce((s, v) => s + v, 0) / b.length;
      let sab = 0,
        saa = 0,
        sbb = 0;
      a.forEach((v, i) => {
        sab += (v - ma) * (b[i] - mb);
        saa += (v - ma) ** 2;
        sbb += (b[i] - mb) ** 2;
      });
      return sab / Math.sqrt(saa * sbb);
    };
    const hours = Array.from(d.train.labels);
    const minutes = Array.from(d.train.targets?.minute as Float32Array);
    for (const k of [0, 1]) {
      const s = stats.map((v) => v[k]);
      assert.ok(Math.abs(corr(s, hours)) < 0.15, `statistic ${k} against the hour`);
      assert.ok(Math.abs(corr(s, minutes)) < 0.15, `statistic ${k} against the minute`);
    }
  });

  test('label schemes at 3:30: 24 and 720 classes, normalized regression, cos/sin periodic, hour + minute', () => {
    const out = (widths: number[]) => widths.map((w) => new Float32Array(Math.max(1, w)));
    const run = (scheme: Parameters<typeof clockTargets>[0]) => {
      const layout = clockTargets(scheme);
      const o = out(layout.widths);
      layout.fill(3, [30], o, 0);
      return o.map((a) => [...a]);
    };
    assert.deepEqual(run('hour'), [[3]]);
    assert.deepEqual(run('classes24'), [[7]]);
    assert.deepEqual(run('classes720'), [[210]]);
    assert.ok(Math.abs(run('regression')[0][0] - 210 / 720) < 1e-6);
    const [p] = run('periodic');
    const a = (210 / 720) * 2 * Math.PI;
    [Math.cos(a), Math.sin(a), -1, 0].forEach((v, i) => assert.ok(Math.abs(p[i] - v) < 1e-6, `periodic[${i}]`));
    assert.deepEqual(run('hour_minute'), [[3], [0.5]]);
    assert.equal(clockTargets('classes24').classNames?.[7], '3:30');
  });

  test('from a spec: two targets for hour_minute, [batch, 4] for periodic; bad settings name the field', async () => {
    const p = await prepareData({ dataset: 'clocks', count: 40, size: [24, 24], target: 'hour_minute' }, 1);
    assert.deepEqual(p.sampleShape, [24, 24, 1]);
    const { y } = p.train.batch([0, 1, 2]);
    assert.deepEqual(
      y.map((t) => t.shape),
      [[3], [3]],
    );
    const q = await prepareData({ dataset: 'clocks', count: 40, size: [24, 24], target: 'periodic' }, 1);
    assert.deepEqual(q.train.batch([0]).y[0].shape, [1, 4]);
    await assert.rejects(() => prepareData({ dataset: 'clocks', count: 40, size: [24, 32] }, 1), /data\.size: clocks are square/);
    await assert.rejects(
      () => prepareData({ dataset: 'mnist', target: 'hour' }, 1),
      /data\.target: label schemes apply to the clocks dataset/,
    );
  });
});
