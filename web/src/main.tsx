/** The dashboard's page: experiments, an experiment's runs, curves, sweep and system views, a trial, a diff. */
import { render } from 'preact';
import { type Experiment, fmt, getJson } from './api';
import { Curves } from './curves';
import { Runs } from './runs';
import { href, setParams, useFetch, useRoute, useStoreVersion } from './route';
import { SweepView } from './sweep';
import { SystemView } from './system';
import { DiffView, TrialView } from './trial';
import 'uplot/dist/uPlot.min.css';
import './style.css';

function App() {
  const route = useRoute();
  const version = useStoreVersion();
  const [head, ...rest] = route.path;
  let body = <Experiments version={version} />;
  if (head === 'e' && rest[0]) body = <ExperimentView name={rest[0]} params={route.params} version={version} />;
  else if (head === 't' && rest[0]) body = <TrialView id={Number(rest[0])} version={version} />;
  else if (head === 'diff') body = <DiffView a={route.params.get('a') ?? ''} b={route.params.get('b') ?? ''} version={version} />;
  return (
    <>
      <header>
        <a href="#/" class="brand">
          convlab
        </a>
        <span class="muted">dashboard · read-only · store version {version}</span>
      </header>
      <main>{body}</main>
    </>
  );
}

function Experiments({ version }: { version: number }) {
  const { data, error } = useFetch(() => getJson<Experiment[]>('/api/experiments'), `experiments|${version}`);
  if (!data) return <p class={error ? 'error' : 'muted'}>{error ?? 'Loading…'}</p>;
  if (data.length === 0) return <p class="muted">This store has no experiments yet: `convlab run SPEC` adds them.</p>;
  return (
    <section>
      <h1>Experiments</h1>
      {error && <p class="error">{error}</p>}
      <table class="grid" data-testid="experiments">
        <thead>
          <tr>
            <th>experiment</th>
            <th>trials</th>
            <th>finished</th>
            <th>running</th>
            <th>pending</th>
            <th>interrupted</th>
            <th>failed</th>
            <th>last activity</th>
            <th>key metric</th>
            <th>best</th>
          </tr>
        </thead>
        <tbody>
          {data.map((e) => (
            <tr key={e.id}>
              <td>
                <a href={href(['e', e.name])}>{e.name}</a>
              </td>
              <td class="num">{e.trials}</td>
              {['finished', 'running', 'pending', 'interrupted', 'failed'].map((s) => (
                <td class={`num ${e.counts[s] ? s : 'muted'}`}>{e.counts[s] ?? 0}</td>
              ))}
              <td>{e.lastActivity ? new Date(e.lastActivity).toLocaleString() : '–'}</td>
              <td>{e.metric ?? '–'}</td>
              <td class="num">{e.bestTrial !== null ? <a href={href(['t', e.bestTrial])}>{fmt(e.best)}</a> : '–'}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

const TABS = ['runs', 'curves', 'sweep', 'system'] as const;

function ExperimentView({ name, params, version }: { name: string; params: URLSearchParams; version: number }) {
  const tab = (params.get('tab') ?? 'runs') as (typeof TABS)[number];
  const selected = (params.get('sel') ?? '')
    .split(',')
    .filter((s) => /^\d+$/.test(s))
    .map(Number);
  return (
    <section>
      <h1>
        <a href="#/">Experiments</a> / {name}
      </h1>
      <nav class="tabs">
        {TABS.map((t) => (
          <button type="button" class={t === tab ? 'active' : ''} onClick={() => setParams({ tab: t })} data-tab={t}>
            {t}
            {t === 'curves' || t === 'system' ? ` (${selected.length})` : ''}
          </button>
        ))}
        {selected.length === 2 && <a href={href(['diff'], { a: selected[0], b: selected[1] })}>diff the two selected</a>}
      </nav>
      {tab === 'runs' && <Runs name={name} params={params} selected={selected} version={version} />}
      {tab === 'curves' && <Curves name={name} params={params} selected={selected} version={version} />}
      {tab === 'sweep' && <SweepView name={name} params={params} version={version} />}
      {tab === 'system' && <SystemView name={name} selected={selected} version={version} />}
    </section>
  );
}

render(<App />, document.getElementById('app')!);
