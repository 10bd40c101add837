/**
 * npm run bench:dashboard [-- --trials 1000] [-- --epochs 100] [-- --rounds 20]
 *
 * The dashboard at scale: a generator fills a fresh run store with one study of 1,000 trials × 100 epochs (a
 * grid over learning rate, width, dropout and batch size, with final metrics), then the dashboard serves it and
 * this measures, over HTTP on loopback, each API route's latency (the first, cold call apart; then p50 and p95 over
 * the rounds), and in headless Chromium (where /usr/bin/chromium exists) the runs table's first render and the
 * curves of 50 selected trials. Prints a Markdown table.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { startDashboard } from '../src/dashboard/server.js';
import { Random } from '../src/engine/random.js';
import { SqliteStore } from '../src/lab/store.js';

const { values } = parseArgs({
  options: {
    trials: { type: 'string', default: '1000' },
    epochs: { type: 'string', default: '100' },
    rounds: { type: 'string', default: '20' },
  },
});
const TRIALS = Number(values.trials);
const EPOCHS = Number(values.epochs);
const ROUNDS = Number(values.rounds);
const CHROMIUM = process.env.CONVLAB_CHROMIUM ?? '/usr/bin/chromium';

function generate(root: string): void {
  const store = new SqliteStore(root);
  const rng = new Random(1);
  const grid = {
    'train.optimizer.adam.learning_rate': [1e-4, 3e-4, 1e-3, 3e-3, 1e-2],
    'model.layers[2].Dense.units': [16, 32, 64, 128, 256],
    'model.layers[3].Dropout.rate': [0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7],
    'train.batch_size': [16, 32, 64, 128, 256],
  };
  const exp = store.upsertExperiment('bench-sweep', { name: 'bench-sweep', sweep: { grid } }, null);
  const plans = [];
  for (let i = 0; i < TRIALS; i++) {
    const v: Record<string, number> = {};
    let k = i;
    for (const [path, xs] of Object.entries(grid)) {
      v[path] = xs[k % xs.length];
      k = Math.floor(k / xs.length);
    }
    const label = Object.entries(v)
      .map(([p, x]) => `${p.split('.').at(-1)}=${x}`)
      .join(' ');
    plans.push({
      key: `t${i}`,
      label,
      group: label,
      variant: null,
      values: v,
      repeat: 0,
      seed: 0,
      config: { name: 'bench-sweep', seed: 0 },
    });
  }
  const trials = store.addTrials(exp.id, plans);
  const t0 = performance.now();
  for (const t of trials) {
    const lr = t.values['train.optimizer.adam.learning_rate'] as number;
    const ceiling = 0.8 + 0.15 * Math.min(1, Math.log10(lr * 1e4) / 2) - 0.1 * (t.values['model.layers[3].Dropout.rate'] as number);
    store.startTrial(t.id, { backend: 'native' }, 100_000);
    let acc = 0.1;
    for (let e = 0; e < EPOCHS; e++) {
      acc += (ceiling - acc) * 0.08;
      const noise = () => rng.normal() * 0.01;
      store.recordEpoch(t.id, e, {
        loss: 2.3 * (1 - acc) + noise(),
        accuracy: acc + noise(),
        val_loss: 2.3 * (1 - acc) + 0.05 + noise(),
        val_accuracy: acc - 0.02 + noise(),
        lr,
        seconds: 2 + rng.next(),
        samples_per_second: 20_000 + 1000 * rng.normal(),
        rss_mb: 300 + e * 0.1,
        cpu_seconds: 3.9,
      });
    }
    store.finishTrial(
      t.id,
      { validation: { loss: 2.3 * (1 - acc), accuracy: acc - 0.02 }, test: { loss: 2.3 * (1 - acc), accuracy: acc - 0.025 } },
      EPOCHS * 2.5,
      {},
    );
  }
  store.close();
  console.error(`generated ${TRIALS} trials × ${EPOCHS} epochs in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
}

const quantile = (xs: number[], q: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))];
};

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'convlab-bench-dashboard-'));
  try {
    generate(join(dir, 'store'));
    const dash = await startDashboard({ store: join(dir, 'store'), port: 0 });
    const base = dash.url.slice(0, -1);
    const fifty = Array.from({ length: 50 }, (_, i) => 1 + i * Math.floor(TRIALS / 50)).join(',');
    const routes: [string, string][] = [
      ['experiments', '/api/experiments'],
      ['runs table (sorted by the key metric)', '/api/experiments/bench-sweep/runs'],
      ['runs, sorted by a parameter', '/api/experiments/bench-sweep/runs?sort=learning_rate&desc=0'],
      ['runs, filtered', `/api/experiments/bench-sweep/runs?filter=${encodeURIComponent('learning_rate < 0.002 and rate > 0.3')}`],
      ['runs, grouped by a parameter', '/api/experiments/bench-sweep/runs?group=units'],
      ['curves of 50 trials', `/api/experiments/bench-sweep/curves?trials=${fifty}`],
      ['sweep (parallel coordinates)', '/api/experiments/bench-sweep/sweep'],
      ['one trial', '/api/trials/500'],
      ['store version (the 1.5 s poll)', '/api/version'],
    ];
    const rows: string[] = [];
    for (const [name, url] of routes) {
      const times: number[] = [];
      let bytes = 0;
      for (let i = 0; i <= ROUNDS; i++) {
        const t = performance.now();
        const r = await fetch(base + url);
        const body = await r.arrayBuffer();
        if (!r.ok) throw new Error(`${url}: ${r.status} ${Buffer.from(body).toString()}`);
        bytes = body.byteLength;
        times.push(performance.now() - t);
      }
      const [cold, ...warm] = times;
      rows.push(
        `| ${name} | ${cold.toFixed(0)} | ${quantile(warm, 0.5).toFixed(1)} | ${quantile(warm, 0.95).toFixed(1)} | ${(bytes / 1024).toFixed(0)} KiB |`,
      );
    }
    console.log(`\nDashboard API over loopback, ${TRIALS} trials × ${EPOCHS} epochs, ${ROUNDS} rounds (ms):\n`);
    console.log('| route | first call | p50 | p95 | answer |');
    console.log('|---|---|---|---|---|');
    for (const r of rows) console.log(r);
    if (existsSync(CHROMIUM)) {
      const { chromium } = await import('playwright-core');
      const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu', '--no-first-run'] });
      const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
      const render: number[] = [];
      const curves: number[] = [];
      for (let i = 0; i < 5; i++) {
        await page.goto('about:blank');
        await page.goto(`${dash.url}#/e/bench-sweep`);
        await page.waitForSelector('[data-testid=runs] tbody tr[data-trials]');
        render.push(await page.evaluate(() => performance.now()));
        await page.goto('about:blank');
        await page.goto(`${dash.url}#/e/bench-sweep?tab=curves&sel=${fifty}`);
        await page.waitForSelector('[data-testid=curves][data-series="100"] canvas');
        curves.push(await page.evaluate(() => performance.now()));
      }
      await browser.close();
      const median = (xs: number[]) => quantile(xs, 0.5).toFixed(0);
      console.log('\nHeadless Chromium, from navigation to drawn (median of 5, ms):\n');
      console.log('| view | ms |');
      console.log('|---|---|');
      console.log(`| runs table, first render (${TRIALS} rows, virtualized) | ${median(render)} |`);
      console.log(`| curves of 50 selected trials (100 series × ${EPOCHS} epochs) | ${median(curves)} |`);
    } else console.log(`\n(no Chromium at ${CHROMIUM}: the browser timings are skipped)`);
    await dash.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
