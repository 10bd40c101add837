/** A uPlot chart in a Preact component: made once per set of series, fed new data in place as epochs land. */
import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';

export const PALETTE = ['#0072B2', '#D55E00', '#009E73', '#CC79A7', '#E69F00', '#56B4E9', '#000000', '#F0E442'];

export interface ChartSeries {
  label: string;
  color: string;
  dash?: boolean;
}

export function Chart({
  title,
  xLabel,
  series,
  data,
  logY = false,
  height = 320,
  testId,
}: {
  title: string;
  xLabel: string;
  series: ChartSeries[];
  data: uPlot.AlignedData;
  logY?: boolean;
  height?: number;
  testId?: string;
}) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const shape = JSON.stringify([title, xLabel, series, logY, height]);
  useEffect(() => {
    if (!box.current) return;
    const width = Math.max(360, box.current.clientWidth || 800);
    plot.current = new uPlot(
      {
        title,
        width,
        height,
        scales: { x: { time: false }, y: logY ? { distr: 3 } : {} },
        axes: [{ label: xLabel }, {}],
        series: [
          { label: xLabel },
          ...series.map((s) => ({
            label: s.label,
            stroke: s.color,
            width: 1.5,
            dash: s.dash ? [6, 4] : undefined,
            spanGaps: true,
            points: { show: false },
          })),
        ],
      },
      data,
      box.current,
    );
    return () => {
      plot.current?.destroy();
      plot.current = null;
    };
  }, [shape]);
  useEffect(() => {
    plot.current?.setData(data);
  }, [data]);
  return <div ref={box} class="chart" data-testid={testId} data-series={series.length} />;
}

/** Several series with their own x values, on one shared x axis (missing points as gaps). */
export function joinSeries(tables: { x: number[]; y: (number | null)[] }[]): uPlot.AlignedData {
  if (tables.length === 0) return [[]];
  return uPlot.join(tables.map((t) => [t.x, t.y] as uPlot.AlignedData));
}

/** Exponential moving average (TensorBoard's smoothing, debiased), for factor in [0, 1). */
export function smooth(ys: (number | null)[], factor: number): (number | null)[] {
  if (factor <= 0) return ys;
  let avg = 0;
  let weight = 0;
  return ys.map((y) => {
    if (y === null || !Number.isFinite(y)) return null;
    avg = factor * avg + (1 - factor) * y;
    weight = factor * weight + (1 - factor);
    return avg / weight;
  });
}
