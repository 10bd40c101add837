/**
 * A trial: where and how it ran, its config, model summary, per-epoch table, final metrics, per-class report, and
 * the figures `convlab report` draws for it (the same code, rendered by the server as SVG). And the diff of two.
 */
import { useState } from 'preact/hooks';
import { type Diff, enc, type FigureInfo, fmt, getJson, type TrialDetail } from './api';
import { href, useFetch } from './route';

export function TrialView({ id, version }: { id: number; version: number }) {
  const { data, error } = useFetch(() => getJson<TrialDetail>(`/api/trials/${id}`), `trial|${id}|${version}`);
  const figures = useFetch(() => getJson<FigureInfo[]>(`/api/trials/${id}/figures`), `figures|${id}|${version}`);
  const summary = useFetch(() => getJson<{ summary: string | null; error?: string }>(`/api/trials/${id}/summary`), `summary|${id}`);
  const [other, setOther] = useState('');
  if (!data) return <p class={error ? 'error' : 'muted'}>{error ?? 'Loading…'}</p>;
  const t = data.trial;
  const keys = [...new Set(data.epochs.flatMap((e) => Object.keys(e)))].filter((k) => k !== 'epoch');
  const reports = classReports(data.extra);
  return (
    <section>
      <h1>
        <a href="#/">Experiments</a> / <a href={href(['e', t.experiment])}>{t.experiment}</a> / #{t.id} {t.label}
      </h1>
      <p>
        <span class={`status ${t.status}`}>{t.status}</span> · seed {t.seed} · {t.epochsDone} epochs ·{' '}
        {t.params !== null ? `${t.params.toLocaleString('en')} parameters` : ''} · {t.seconds !== null ? `${fmt(t.seconds, 3)} s` : ''} ·{' '}
        {Object.entries(t.env)
          .map(([k, v]) => `${k} ${typeof v === 'object' ? JSON.stringify(v) : String(v)}`)
          .join(', ')}
      </p>
      {t.error && <pre class="error">{t.error}</pre>}
      <form
        class="toolbar"
        onSubmit={(e) => {
          e.preventDefault();
          location.hash = href(['diff'], { a: t.id, b: other.replace(/^#/, '') });
        }}
      >
        <label>
          diff with trial #<input name="other" size={6} value={other} onInput={(e) => setOther((e.target as HTMLInputElement).value)} />
        </label>
        <button type="submit">Diff</button>
      </form>
      <h2>Final metrics</h2>
      <table class="grid">
        <thead>
          <tr>
            <th>split</th>
            {[...new Set(Object.values(data.finals).flatMap((m) => Object.keys(m)))].map((m) => (
              <th>{m}</th>
            ))}
          </tr>
        </thead>
        <tbody>
          {Object.entries(data.finals).map(([split, m]) => (
            <tr>
              <td>{split}</td>
              {[...new Set(Object.values(data.finals).flatMap((x) => Object.keys(x)))].map((k) => (
                <td class="num">{fmt(m[k])}</td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
      {reports.map(([split, rows]) => (
        <>
          <h2>Per-class precision, recall and F1 ({split})</h2>
          <table class="grid">
            <thead>
              <tr>
                <th>class</th>
                <th>precision</th>
                <th>recall</th>
                <th>F1</th>
                <th>support</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((r) => (
                <tr>
                  <td>{r.name}</td>
                  <td class="num">{fmt(r.precision)}</td>
                  <td class="num">{fmt(r.recall)}</td>
                  <td class="num">{fmt(r.f1)}</td>
                  <td class="num">{fmt(r.support)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      ))}
      <h2>Figures</h2>
      {figures.error && <p class="error">{figures.error}</p>}
      <div class="figures" data-testid="figures">
        {(figures.data ?? []).map((f) => (
          <figure>
            <img src={`/api/trials/${t.id}/figures/${f.index}.svg?v=${version}`} alt={f.title} loading="lazy" />
            <figcaption>
              {f.title}
              {f.caption ? `. ${f.caption}` : ''}
            </figcaption>
          </figure>
        ))}
      </div>
      <h2>Epochs</h2>
      <div class="scroller">
        <table class="grid">
          <thead>
            <tr>
              <th>epoch</th>
              {keys.map((k) => (
                <th>{k}</th>
              ))}
            </tr>
          </thead>
          <tbody>
            {data.epochs.map((e) => (
              <tr>
                <td class="num">{(e.epoch ?? 0) + 1}</td>
                {keys.map((k) => (
                  <td class="num">{fmt(e[k])}</td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <h2>Model</h2>
      <pre>{summary.data?.summary ?? summary.data?.error ?? summary.error ?? 'Loading…'}</pre>
      <h2>Config</h2>
      <pre>{JSON.stringify(t.config, null, 2)}</pre>
      {data.artifacts.length > 0 && (
        <>
          <h2>Artifacts</h2>
          <ul>
            {data.artifacts
              .filter((a) => a.kind !== 'model')
              .map((a) => (
                <li>
                  <a href={`/api/trials/${t.id}/artifacts/${enc(a.kind)}/${enc(a.name)}`}>
                    {a.kind}: {a.name}
                  </a>
                </li>
              ))}
          </ul>
        </>
      )}
    </section>
  );
}

interface ClassRow {
  name: string;
  precision: number;
  recall: number;
  f1: number;
  support: number;
}

/** The per-class reports among a trial's evaluations, by split. */
function classReports(extra: Record<string, unknown>): [string, ClassRow[]][] {
  const evaluation = (extra.evaluation ?? {}) as Record<
    string,
    { classification_report?: { classes?: ClassRow[] }; classNames?: string[] }
  >;
  const out: [string, ClassRow[]][] = [];
  for (const [split, e] of Object.entries(evaluation)) {
    const classes = e?.classification_report?.classes;
    if (Array.isArray(classes)) out.push([split, classes]);
  }
  return out;
}

export function DiffView({ a, b, version }: { a: string; b: string; version: number }) {
  const url = `/api/diff?a=${enc(a)}&b=${enc(b)}`;
  const { data, error } = useFetch(() => getJson<Diff>(url), `${url}|${version}`);
  if (!data) return <p class={error ? 'error' : 'muted'}>{error ?? 'Loading…'}</p>;
  const show = (v: unknown) => (v === null || v === undefined ? '(absent)' : typeof v === 'object' ? JSON.stringify(v) : String(v));
  return (
    <section>
      <h1>
        <a href={href(['t', data.a.id])}>
          #{data.a.id} {data.a.label}
        </a>{' '}
        against{' '}
        <a href={href(['t', data.b.id])}>
          #{data.b.id} {data.b.label}
        </a>
      </h1>
      {data.changes.length === 0 ? (
        <p>The two configs are the same.</p>
      ) : (
        <table class="grid" data-testid="diff">
          <thead>
            <tr>
              <th>field</th>
              <th>#{data.a.id}</th>
              <th>#{data.b.id}</th>
            </tr>
          </thead>
          <tbody>
            {data.changes.map((c) => (
              <tr>
                <td class="param">{c.path}</td>
                <td>{show(c.a)}</td>
                <td>{show(c.b)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
