/**
 * Curves of the selected trials, overlaid: one metric, training solid and validation dashed, against the epoch or
 * the wall time; log y and smoothing. Refetched whenever the store changes, so a running trial's curve grows.
 */
import { type Curve, enc, getJson } from './api';
import { Chart, joinSeries, PALETTE, smooth } from './chart';
import { setParams, useFetch } from './route';

const NOT_METRICS = new Set(['epoch', 'seconds', 'samples_per_second', 'rss_mb', 'cpu_seconds']);

export function Curves({
  name,
  params,
  selected,
  version,
}: {
  name: string;
  params: URLSearchParams;
  selected: number[];
  version: number;
}) {
  const url = `/api/experiments/${enc(name)}/curves?trials=${selected.join(',')}`;
  const { data, error } = useFetch(() => (selected.length ? getJson<Curve[]>(url) : Promise.resolve([])), `${url}|${version}`);
  if (selected.length === 0) return <p class="muted">Select runs in the runs table to draw their curves.</p>;
  if (!data) return <p class={error ? 'error' : 'muted'}>{error ?? 'Loading…'}</p>;
  const keys = [...new Set(data.flatMap((c) => c.epochs.flatMap((e) => Object.keys(e))))];
  const metrics = keys.filter((k) => !k.startsWith('val_') && !NOT_METRICS.has(k));
  const metric =
    params.get('metric') && metrics.includes(params.get('metric')!)
      ? params.get('metric')!
      : metrics.includes('loss')
        ? 'loss'
        : metrics[0];
  const x = params.get('x') === 'time' ? 'time' : 'epoch';
  const logY = params.get('logy') === '1';
  const factor = Number(params.get('smooth') ?? 0) || 0;
  const series = [];
  const tables = [];
  for (const [i, c] of data.entries()) {
    let t = 0;
    const xs = c.epochs.map((e) => (x === 'epoch' ? (e.epoch ?? 0) + 1 : (t += e.seconds ?? 0)));
    const color = PALETTE[i % PALETTE.length];
    for (const [key, dash] of [
      [metric, false],
      [`val_${metric}`, true],
    ] as const) {
      if (!c.epochs.some((e) => e[key] !== undefined && e[key] !== null)) continue;
      series.push({ label: `#${c.id} ${c.label}${dash ? ' (validation)' : ''}`, color, dash });
      tables.push({
        x: xs,
        y: smooth(
          c.epochs.map((e) => e[key] ?? null),
          factor,
        ),
      });
    }
  }
  return (
    <div>
      <div class="toolbar">
        <label>
          metric{' '}
          <select name="metric" value={metric} onChange={(e) => setParams({ metric: (e.target as HTMLSelectElement).value })}>
            {metrics.map((m) => (
              <option value={m}>{m}</option>
            ))}
          </select>
        </label>
        <label>
          x{' '}
          <select
            name="x"
            value={x}
            onChange={(e) => setParams({ x: (e.target as HTMLSelectElement).value === 'time' ? 'time' : undefined })}
          >
            <option value="epoch">epoch</option>
            <option value="time">wall time (s)</option>
          </select>
        </label>
        <label>
          <input
            type="checkbox"
            checked={logY}
            onChange={(e) => setParams({ logy: (e.target as HTMLInputElement).checked ? '1' : undefined })}
          />{' '}
          log y
        </label>
        <label>
          smoothing{' '}
          <input
            type="range"
            min="0"
            max="0.95"
            step="0.05"
            value={factor}
            onChange={(e) => setParams({ smooth: Number((e.target as HTMLInputElement).value) || undefined })}
          />{' '}
          {factor.toFixed(2)}
        </label>
        {error && <span class="error">{error}</span>}
      </div>
      <p class="muted">
        Solid: training (running average over each epoch); dashed: validation.{' '}
        {data.map((c) => `#${c.id} ${c.status}, ${c.epochs.length} epochs`).join(' · ')}
      </p>
      <Chart
        title={metric ?? ''}
        xLabel={x === 'epoch' ? 'epoch' : 'seconds'}
        series={series}
        data={joinSeries(tables)}
        logY={logY}
        testId="curves"
      />
    </div>
  );
}
