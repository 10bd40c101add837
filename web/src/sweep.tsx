/**
 * A sweep at a glance: parallel coordinates from each swept parameter to the metric (log axes where values span two
 * decades or more), each parameter against the metric, and each parameter's correlation with it.
 */
import { enc, fmt, getJson, type Sweep } from './api';
import { href, setParams, useFetch } from './route';
import { extent } from '../../src/util/numbers';

const W = 900;
const H = 320;
const PAD = { left: 40, right: 60, top: 30, bottom: 30 };

interface Axis {
  name: string;
  position: (v: number | string | null) => number | null;
  ticks: { at: number; text: string }[];
}

/**
 * An axis for one parameter or the metric, from PAD.top (high) to H - PAD.bottom (low): categories evenly spaced;
 * numbers linear, or logarithmic where they span two decades; numbers spanning decades with a 0 among them (an L1
 * factor of 0, 1e-5, ..., 1) evenly spaced in order, since neither scale can show them.
 */
function axisFor(name: string, values: (number | string | null)[], numeric: boolean, log: boolean): Axis {
  const top = PAD.top;
  const bottom = H - PAD.bottom;
  const nums = values.filter((v): v is number => typeof v === 'number' && Number.isFinite(v));
  const distinct = [...new Set(nums)].sort((a, b) => a - b);
  const positive = distinct.filter((v) => v > 0);
  const ordinal =
    numeric && !log && distinct.length > 2 && positive.length > 1 && positive.at(-1)! / positive[0] >= 100 && distinct.length <= 24;
  if (!numeric || ordinal) {
    const cats = numeric ? distinct.map(String) : [...new Set(values.filter((v) => v !== null).map(String))];
    const at = (i: number) => (cats.length === 1 ? (top + bottom) / 2 : bottom - (i / (cats.length - 1)) * (bottom - top));
    const every = Math.ceil(cats.length / 12);
    return {
      name: ordinal ? `${name} (in order)` : name,
      position: (v) => (v === null ? null : at(cats.indexOf(String(v)))),
      ticks: cats.map((c, i) => ({ at: at(i), text: numeric ? fmt(Number(c), 3) : c })).filter((_, i) => i % every === 0),
    };
  }
  const f = (v: number) => (log ? Math.log10(v) : v);
  const [lo, hi] = extent(nums.map(f));
  const scale = (v: number) => (hi === lo ? (top + bottom) / 2 : bottom - ((f(v) - lo) / (hi - lo)) * (bottom - top));
  const steps = hi === lo ? [lo] : [0, 0.25, 0.5, 0.75, 1].map((u) => lo + u * (hi - lo));
  const ticks = steps.map((t) => {
    const v = log ? 10 ** t : t;
    return { at: scale(v), text: fmt(v, 3) };
  });
  return { name: log ? `${name} (log)` : name, position: (v) => (typeof v === 'number' && Number.isFinite(v) ? scale(v) : null), ticks };
}

/** Viridis-like ramp from low (purple) to high (yellow) metric values. */
function colour(t: number): string {
  const stops = [
    [68, 1, 84],
    [59, 82, 139],
    [33, 145, 140],
    [94, 201, 98],
    [253, 231, 37],
  ];
  const x = Math.min(0.9999, Math.max(0, t)) * (stops.length - 1);
  const i = Math.floor(x);
  const u = x - i;
  const c = stops[i].map((a, k) => Math.round(a + (stops[i + 1][k] - a) * u));
  return `rgb(${c.join(',')})`;
}

export function SweepView({ name, params, version }: { name: string; params: URLSearchParams; version: number }) {
  const metric = params.get('metric');
  const url = `/api/experiments/${enc(name)}/sweep${metric ? `?metric=${enc(metric)}` : ''}`;
  const { data, error } = useFetch(() => getJson<Sweep>(url), `${url}|${version}`);
  if (!data) return <p class={error ? 'error' : 'muted'}>{error ?? 'Loading…'}</p>;
  if (data.params.length === 0) return <p class="muted">This experiment sweeps nothing: there is no parameter to set against a metric.</p>;
  const m = data.metric;
  const values = data.points.map((p) => p.metric);
  const axes = [...data.params.map((p) => axisFor(p.name, p.values, p.numeric, p.log)), axisFor(m ?? 'metric', values, true, false)];
  const xs = axes.map((_, i) => PAD.left + (i / Math.max(1, axes.length - 1)) * (W - PAD.left - PAD.right));
  const finite = values.filter((v): v is number => v !== null && Number.isFinite(v));
  const [lo, hi] = extent(finite);
  return (
    <div>
      <div class="toolbar">
        <label>
          metric{' '}
          <select name="metric" value={m ?? ''} onChange={(e) => setParams({ metric: (e.target as HTMLSelectElement).value })}>
            {data.metrics.map((x) => (
              <option value={x}>{x}</option>
            ))}
          </select>
        </label>
        <span class="muted">{data.points.length} finished trials; colour: the metric, low (purple) to high (yellow)</span>
        {error && <span class="error">{error}</span>}
      </div>
      <svg viewBox={`0 0 ${W} ${H}`} class="parallel" data-testid="parallel" role="img" aria-label={`parallel coordinates of ${name}`}>
        {data.points.map((p) => {
          const pts = axes.map((a, i) => {
            const y = a.position(i < data.params.length ? p.values[i] : p.metric);
            return y === null ? null : `${xs[i]},${y}`;
          });
          if (pts.some((q) => q === null)) return null;
          const t = p.metric === null || hi === lo ? 0.5 : (p.metric - lo) / (hi - lo);
          return (
            <a href={href(['t', p.id])}>
              <polyline points={pts.join(' ')} fill="none" stroke={colour(t)} stroke-width="1.5" opacity="0.7">
                <title>{`#${p.id} ${p.label}: ${fmt(p.metric)}`}</title>
              </polyline>
            </a>
          );
        })}
        {axes.map((a, i) => (
          <g>
            <line x1={xs[i]} x2={xs[i]} y1={PAD.top} y2={H - PAD.bottom} stroke="#444" />
            <text x={xs[i]} y={PAD.top - 12} text-anchor="middle" class="axis-title">
              {a.name}
            </text>
            {a.ticks.map((t) => (
              <text x={xs[i] + 4} y={t.at + 4} class="tick">
                {t.text}
              </text>
            ))}
          </g>
        ))}
      </svg>
      <h2>Each parameter against {m}</h2>
      <div class="panels">
        {data.params.map((p, i) => {
          const ax = axisFor(p.name, p.values, p.numeric, p.log);
          const my = axisFor(m ?? '', values, true, false);
          return (
            <svg viewBox={`0 0 ${H} ${H}`} class="scatter" role="img" aria-label={`${p.name} against ${m}`}>
              <text x={H / 2} y={14} text-anchor="middle" class="axis-title">
                {ax.name}
              </text>
              {ax.ticks.map((t) => (
                <text x={H - t.at} y={H - 8} text-anchor="middle" class="tick">
                  {t.text}
                </text>
              ))}
              {my.ticks.map((t) => (
                <text x={4} y={t.at + 4} class="tick">
                  {t.text}
                </text>
              ))}
              {data.points.map((pt) => {
                const x = ax.position(pt.values[i]);
                const y = my.position(pt.metric);
                if (x === null || y === null) return null;
                // The parameter's axis runs bottom-to-top in axisFor; here it runs left to right.
                return (
                  <circle cx={H - x} cy={y} r="4" fill="#0072B2" opacity="0.6">
                    <title>{`#${pt.id} ${pt.label}: ${p.name}=${fmt(pt.values[i])}, ${m}=${fmt(pt.metric)}`}</title>
                  </circle>
                );
              })}
            </svg>
          );
        })}
      </div>
      <h2>Correlation with {m}</h2>
      <table class="grid" data-testid="correlations">
        <thead>
          <tr>
            <th>parameter</th>
            <th>Pearson r</th>
            <th>Spearman ρ</th>
          </tr>
        </thead>
        <tbody>
          {data.correlations.map((c) => (
            <tr>
              <td>{c.name}</td>
              <td class="num">{c.pearson === null ? '– (not numeric, or too few trials)' : c.pearson.toFixed(3)}</td>
              <td class="num">{c.spearman === null ? '–' : c.spearman.toFixed(3)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <p class="muted">Correlations use the parameter's logarithm where its axis is logarithmic.</p>
    </div>
  );
}
