// Screenshots of the dashboard for the README: the runs table, the curves and the sweep view of the reproduction
// studies. Needs a store where examples/reproductions/ were run, Chromium, and a built dist/ (npm run build).
//   node web/screenshots.mjs STORE [OUT_DIR=docs/dashboard]
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { startDashboard } from '../dist/src/dashboard/server.js';

const [store, out = 'docs/dashboard'] = process.argv.slice(2);
if (!store) {
  console.error('usage: node web/screenshots.mjs STORE [OUT_DIR]');
  process.exit(2);
}
mkdirSync(out, { recursive: true });
const dash = await startDashboard({ store, port: 0 });
const browser = await chromium.launch({ executablePath: process.env.CONVLAB_CHROMIUM ?? '/usr/bin/chromium', args: ['--no-sandbox'] });
const page = await browser.newPage({ viewport: { width: 1280, height: 720 } });
const shots = [
  [
    'runs',
    `#/e/mlp-sweeps?filter=${encodeURIComponent('dataset == "fashion-mnist"')}&sort=test_accuracy`,
    '[data-testid=runs] tbody tr[data-trials]',
  ],
  ['curves', '#/e/fashion-mnist-variants?tab=curves&metric=accuracy&sel=146,149,151,152', '[data-testid=curves] canvas'],
  ['sweep', '#/e/cifar10-training-size?tab=sweep&metric=test_accuracy', '[data-testid=parallel]'],
];
for (const [name, hash, selector] of shots) {
  await page.goto(dash.url + hash);
  await page.waitForSelector(selector, { state: 'attached' });
  await page.waitForTimeout(500);
  await page.screenshot({ path: join(out, `${name}.png`) });
  console.log(`wrote ${join(out, `${name}.png`)}`);
}
await browser.close();
await dash.close();
