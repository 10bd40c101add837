/** What the selected trials cost, per epoch: seconds, images a second, resident memory and CPU time. */
import { type Curve, enc, getJson } from './api';
import { Chart, joinSeries, PALETTE } from './chart';
import { useFetch } from './route';

const PANELS: [string, string][] = [
  ['seconds', 'seconds per epoch'],
  ['samples_per_second', 'images per second'],
  ['rss_mb', 'resident memory (MB)'],
  ['cpu_seconds', 'CPU time per epoch (s, all threads)'],
];

export function SystemView({ name, selected, version }: { name: string; selected: number[]; version: number }) {
  const url = `/api/experiments/${enc(name)}/curves?trials=${selected.join(',')}`;
  const { data, error } = useFetch(() => (selected.length ? getJson<Curve[]>(url) : Promise.resolve([])), `${url}|${version}`);
  if (selected.length === 0) return <p class="muted">Select runs in the runs table to see what they cost.</p>;
  if (!data) return <p class={error ? 'error' : 'muted'}>{error ?? 'Loading…'}</p>;
  return (
    <div class="panels">
      {PANELS.map(([key, title]) => {
        const with_ = data.filter((c) => c.epochs.some((e) => typeof e[key] === 'number'));
        if (with_.length === 0)
          return (
            <p class="muted">
              {title}: not recorded for these trials (memory and CPU time are recorded by trials run with this version of convlab).
            </p>
          );
        return (
          <Chart
            title={title}
            xLabel="epoch"
            series={with_.map((c) => ({ label: `#${c.id} ${c.label}`, color: PALETTE[data.indexOf(c) % PALETTE.length] }))}
            data={joinSeries(with_.map((c) => ({ x: c.epochs.map((e) => (e.epoch ?? 0) + 1), y: c.epochs.map((e) => e[key] ?? null) })))}
            height={220}
          />
        );
      })}
    </div>
  );
}
