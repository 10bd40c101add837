/**
 * The dashboard in real Chromium (Debian's, driven by playwright-core; skipped, visibly, where it is missing): the
 * runs table's rows, sorting and filtering by a swept parameter, two selected runs drawn as two curves, an epoch
 * written by another connection appearing on the curve without a reload, a hostile name shown as text, and no
 * console error anywhere.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { type RunningDashboard, startDashboard } from '../../src/dashboard/server.js';
import type { SqliteStore } from '../../src/lab/store.js';
import { addRunningTrial, fixtureStore } from '../helpers/report_store.js';
import { noSqlite } from '../helpers/sqlite.js';
import { firstPassOnly } from '../helpers/passes.js';

const CHROMIUM = process.env.CONVLAB_CHROMIUM ?? '/usr/bin/chromium';
const noBrowser =
  noSqlite || (existsSync(CHROMIUM) ? false : `no Chromium at ${CHROMIUM} (apt-get install chromium, or set CONVLAB_CHROMIUM)`);

const dir = mkdtempSync(join(tmpdir(), 'convlab-dashboard-browser-'));
after(() => rmSync(dir, { recursive: true, force: true }));

describe('the dashboard in Chromium', { skip: noBrowser || firstPassOnly }, () => {
  let writer: SqliteStore;
  let dash: RunningDashboard;
  let browser: Browser;
  let page: Page;
  const problems: string[] = [];
  before(async () => {
    writer = fixtureStore(dir) as SqliteStore;
    writer.upsertExperiment('<script>alert(1)</script>', { name: 'x' }, null);
    dash = await startDashboard({ store: writer.root, port: 0 });
    const { chromium } = await import('playwright-core');
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu', '--no-first-run'] });
    page = await browser.newPage({ viewport: { width: 1300, height: 900 } });
    page.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warning') problems.push(`console ${m.type()}: ${m.text()}`);
    });
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    page.on('dialog', (d) => {
      problems.push(`a dialog opened: ${d.message()}`);
      void d.dismiss();
    });
  });
  after(async () => {
    await browser?.close();
    await dash?.close();
    writer?.close();
  });

  const rowCount = () => page.locator('[data-testid=runs] tbody tr[data-trials]').count();
  const column = (name: string) =>
    page.$$eval(
      '[data-testid=runs]',
      (tables, n) => {
        const t = tables[0] as HTMLTableElement;
        const i = [...t.tHead!.rows[0].cells].findIndex((c) => c.dataset.column === n);
        return [...t.tBodies[0].rows].filter((r) => r.dataset.trials).map((r) => r.cells[i].textContent);
      },
      name,
    );

  test('the experiments page lists every experiment, a hostile name as plain text', async () => {
    await page.goto(dash.url);
    await page.waitForSelector('[data-testid=experiments]');
    const text = await page.textContent('[data-testid=experiments]');
    assert.match(text ?? '', /fixture/);
    assert.match(text ?? '', /<script>alert\(1\)<\/script>/);
    assert.equal(await page.locator('main script').count(), 0);
  });

  test('the runs table has a row per trial; a header click sorts by a swept parameter, a second click reverses', async () => {
    await page.goto(`${dash.url}#/e/fixture`);
    await page.waitForSelector('[data-testid=runs] tbody tr[data-trials]');
    assert.equal(await rowCount(), 8);
    await page.click('th[data-column=learning_rate]');
    await page.waitForFunction(() => location.hash.includes('sort=learning_rate'));
    await page.waitForFunction(() => document.querySelector('th[data-column=learning_rate]')?.textContent?.includes('▲'));
    assert.deepEqual(await column('learning_rate'), ['0.001', '0.001', '0.001', '0.001', '0.01', '0.01', '0.01', '0.01']);
    await page.click('th[data-column=learning_rate]');
    await page.waitForFunction(() => document.querySelector('th[data-column=learning_rate]')?.textContent?.includes('▼'));
    assert.deepEqual(await column('learning_rate'), ['0.01', '0.01', '0.01', '0.01', '0.001', '0.001', '0.001', '0.001']);
  });

  test('a filter on a swept parameter keeps the matching rows, and the URL keeps it', async () => {
    await page.fill('input[name=filter]', 'learning_rate < 0.005 and variant == "MaxPool"');
    await page.press('input[name=filter]', 'Enter');
    await page.waitForFunction(() => document.querySelector('[data-testid=row-count]')?.textContent?.startsWith('2 rows'));
    assert.equal(await rowCount(), 2);
    assert.deepEqual(await column('variant'), ['MaxPool', 'MaxPool']);
    const url = page.url();
    assert.equal(new URLSearchParams(url.slice(url.indexOf('?') + 1)).get('filter'), 'learning_rate < 0.005 and variant == "MaxPool"');
    await page.goto('about:blank');
    await page.goto(url);
    await page.waitForFunction(() => document.querySelector('[data-testid=row-count]')?.textContent?.startsWith('2 rows'));
    const seen = problems.length;
    await page.fill('input[name=filter]', 'nonsense <');
    await page.press('input[name=filter]', 'Enter');
    await page.waitForSelector('[data-testid=error]');
    assert.match((await page.textContent('[data-testid=error]')) ?? '', /the filter does not parse/);
    // The browser logs the API's 400 answer to this deliberate mistake; nothing else may appear.
    const logged = problems.splice(seen);
    assert.ok(
      logged.every((p) => /status of 400/.test(p)),
      logged.join('\n'),
    );
  });

  test('selecting two runs draws two curves (training and validation each)', async () => {
    await page.goto(`${dash.url}#/e/fixture`);
    await page.waitForSelector('[data-testid=runs] tbody tr[data-trials]');
    const boxes = page.locator('[data-testid=runs] tbody tr[data-trials] input[type=checkbox]');
    await boxes.nth(0).check();
    await boxes.nth(1).check();
    await page.waitForFunction(() => /sel=\d+(%2C|,)\d+/.test(location.hash));
    await page.click('button[data-tab=curves]');
    await page.waitForSelector('[data-testid=curves] canvas');
    assert.equal(await page.getAttribute('[data-testid=curves]', 'data-series'), '4');
    const legend = (await page.textContent('[data-testid=curves] .u-legend')) ?? '';
    assert.equal((legend.match(/\(validation\)/g) ?? []).length, 2, legend);
  });

  test('an epoch written by another process appears on the curve without a reload', async () => {
    const t = addRunningTrial(writer, { loss: 1, accuracy: 0.5, val_loss: 1.1, val_accuracy: 0.45, seconds: 1, samples_per_second: 100 });
    await page.goto(`${dash.url}#/e/fixture?tab=curves&sel=${t.id}`);
    await page.waitForFunction((id) => document.body.textContent?.includes(`#${id} running, 1 epochs`), t.id);
    await page.evaluate(() => {
      (window as unknown as { marker: number }).marker = 42;
    });
    // The next epoch comes from another process, as from `convlab run` beside the dashboard.
    const store = new URL('../../src/lab/store.js', import.meta.url).href;
    const logs = JSON.stringify({ loss: 0.7, accuracy: 0.6, val_loss: 0.9, val_accuracy: 0.55, seconds: 1, samples_per_second: 100 });
    const child = spawnSync(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `import { SqliteStore } from ${JSON.stringify(store)}; const s = new SqliteStore(${JSON.stringify(writer.root)}); s.recordEpoch(${t.id}, 1, ${logs}); s.close();`,
      ],
      { encoding: 'utf8' },
    );
    assert.equal(child.status, 0, child.stderr);
    await page.waitForFunction((id) => document.body.textContent?.includes(`#${id} running, 2 epochs`), t.id, { timeout: 8000 });
    assert.equal(await page.evaluate(() => (window as unknown as { marker?: number }).marker), 42, 'the page was not reloaded');
  });

  test('the sweep, system, trial and diff views open without an error', async () => {
    for (const [hash, selector] of [
      ['#/e/fixture?tab=sweep', '[data-testid=parallel] polyline'],
      ['#/e/fixture?tab=system&sel=1,2', '.chart canvas'],
      ['#/t/1', '[data-testid=figures] img'],
      ['#/diff?a=1&b=3', '[data-testid=diff]'],
    ]) {
      await page.goto(`${dash.url}${hash}`);
      await page.waitForSelector(selector, { timeout: 10_000, state: 'attached' }).catch(async (e: Error) => {
        throw new Error(
          `${hash}: ${selector} never appeared (${e.message.split('\n')[0]}); the page said: ${await page.textContent('main')}`,
        );
      });
    }
    await page.goto(`${dash.url}#/t/1`);
    const img = page.locator('[data-testid=figures] img').first();
    await img.waitFor({ state: 'attached' });
    await img.evaluate((el: HTMLImageElement) => el.decode());
    assert.ok(await img.evaluate((el: HTMLImageElement) => el.naturalWidth > 100), 'a figure drawn by the report code loads as an image');
  });

  test('no console error, failed request or dialog on any page', () => {
    assert.deepEqual(problems, [], problems.join('\n'));
  });
});
