/**
 * The runs table: a row per trial (or per configuration or parameter value, as mean ± std and n), swept parameters,
 * final and best metrics, status, epochs, time and images/s. Sorted, filtered and grouped by the server; rows are
 * drawn only where they are visible, so thousands scroll smoothly.
 */
import { useState } from 'preact/hooks';
import { type Row, type RunsTable, enc, fmt, getJson } from './api';
import { href, setParams, useFetch } from './route';

const ROW_HEIGHT = 28;
const OVERSCAN = 10;

export function runsQuery(name: string, params: URLSearchParams): string {
  const q = new URLSearchParams();
  for (const k of ['filter', 'sort', 'desc', 'group', 'all']) {
    const v = params.get(k);
    if (v) q.set(k, v);
  }
  return `/api/experiments/${enc(name)}/runs?${q}`;
}

export function Runs({ name, params, selected, version }: { name: string; params: URLSearchParams; selected: number[]; version: number }) {
  const url = runsQuery(name, params);
  const { data, error } = useFetch(() => getJson<RunsTable>(url), `${url}|${version}`);
  const [draft, setDraft] = useState<string | null>(null);
  const [scroll, setScroll] = useState(0);
  const [height, setHeight] = useState(600);
  const filter = params.get('filter') ?? '';
  const chosen = new Set(selected);
  const toggle = (r: Row) => {
    const on = r.trials.every((t) => chosen.has(t));
    for (const t of r.trials) on ? chosen.delete(t) : chosen.add(t);
    setParams({ sel: [...chosen].join(',') });
  };
  const sortBy = (c: string) => {
    const same = data?.sort === c;
    setParams({ sort: c, desc: same ? (data?.desc ? '0' : '1') : undefined });
  };
  const columns = data?.columns ?? [];
  const rows = data?.rows ?? [];
  const first = Math.max(0, Math.floor(scroll / ROW_HEIGHT) - OVERSCAN);
  const last = Math.min(rows.length, Math.ceil((scroll + height) / ROW_HEIGHT) + OVERSCAN);
  const csv = url.replace('/runs?', '/runs.csv?');
  return (
    <div>
      <form
        class="toolbar"
        onSubmit={(e) => {
          e.preventDefault();
          setParams({ filter: draft ?? filter });
          setDraft(null);
        }}
      >
        <input
          name="filter"
          class="filter"
          placeholder="filter: learning_rate < 0.01 and status == finished"
          value={draft ?? filter}
          onInput={(e) => setDraft((e.target as HTMLInputElement).value)}
        />
        <button type="submit">Filter</button>
        <label>
          group by{' '}
          <select
            name="group"
            value={params.get('group') ?? ''}
            onChange={(e) => setParams({ group: (e.target as HTMLSelectElement).value })}
          >
            <option value="">nothing (a row per trial)</option>
            <option value="config">configuration (repeats as mean ± std)</option>
            {columns
              .filter((c) => c.kind === 'param')
              .map((c) => (
                <option value={c.name}>{c.name}</option>
              ))}
          </select>
        </label>
        <label>
          <input
            type="checkbox"
            checked={params.get('all') === '1'}
            onChange={(e) => setParams({ all: (e.target as HTMLInputElement).checked ? '1' : undefined })}
          />{' '}
          earlier versions too
        </label>
        <a href={csv} download>
          CSV
        </a>
        <button type="button" onClick={() => setParams({ sel: rows.flatMap((r) => r.trials).join(',') })}>
          select all shown
        </button>
        <button type="button" onClick={() => setParams({ sel: undefined })}>
          clear selection
        </button>
        <span class="muted" data-testid="row-count">
          {data ? `${rows.length} row${rows.length === 1 ? '' : 's'} of ${data.total} trial${data.total === 1 ? '' : 's'}` : ''}
        </span>
      </form>
      {error && (
        <p class="error" data-testid="error">
          {error}
        </p>
      )}
      <div
        class="scroller"
        style={{ height: `${Math.min(640, (rows.length + 1) * ROW_HEIGHT + 4)}px` }}
        onScroll={(e) => setScroll((e.target as HTMLElement).scrollTop)}
        ref={(el) => {
          if (el && el.clientHeight !== height && el.clientHeight > 0) setHeight(el.clientHeight);
        }}
      >
        <table class="grid runs" data-testid="runs">
          <thead>
            <tr>
              <th />
              <th onClick={() => sortBy('label')} class={data?.sort === 'label' ? 'sorted' : ''}>
                trial{arrow(data, 'label')}
              </th>
              {columns.map((c) => (
                <th onClick={() => sortBy(c.name)} class={`${c.kind} ${data?.sort === c.name ? 'sorted' : ''}`} data-column={c.name}>
                  {c.name}
                  {arrow(data, c.name)}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {first > 0 && (
              <tr class="spacer" style={{ height: `${first * ROW_HEIGHT}px` }}>
                <td colSpan={columns.length + 2} />
              </tr>
            )}
            {rows.slice(first, last).map((r) => (
              <tr key={r.trials.join(',')} class={r.trials.every((t) => chosen.has(t)) ? 'selected' : ''} data-trials={r.trials.join(',')}>
                <td>
                  <input
                    type="checkbox"
                    checked={r.trials.every((t) => chosen.has(t))}
                    onChange={() => toggle(r)}
                    aria-label={`select ${r.label}`}
                  />
                </td>
                <td class="label">
                  {r.trials.length === 1 ? <a href={href(['t', r.trials[0]])}>{r.label}</a> : r.label}
                  {r.n > 1 && <span class="muted"> (n={r.n})</span>}
                </td>
                {columns.map((c) => (
                  <td class={c.kind === 'param' ? 'param' : c.name === 'status' ? `status ${r.status}` : 'num'}>
                    {fmt(r.values[c.name])}
                    {r.std[c.name] !== undefined && <span class="muted"> ± {fmt(r.std[c.name], 2)}</span>}
                  </td>
                ))}
              </tr>
            ))}
            {last < rows.length && (
              <tr class="spacer" style={{ height: `${(rows.length - last) * ROW_HEIGHT}px` }}>
                <td colSpan={columns.length + 2} />
              </tr>
            )}
          </tbody>
        </table>
      </div>
    </div>
  );
}

function arrow(t: RunsTable | null, c: string): string {
  return t?.sort === c ? (t.desc ? ' ▼' : ' ▲') : '';
}
