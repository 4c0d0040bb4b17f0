// The load probe's throughput timeline as SVG path data (pure, unit-tested): the report's
// `timeline` is [seconds since start, transactions committed so far] pairs (a running
// count); the chart plots each interval's rate (tx/s) against time.

export interface ChartGeometry {
  width: number;
  height: number;
  pad: { left: number; right: number; top: number; bottom: number };
}

export interface Chart {
  line: string;
  area: string;
  /** The highest rate on the y axis (a round number at or above the data's). */
  yMax: number;
  xMax: number;
  yTicks: number[];
  xTicks: number[];
  points: { t: number; rate: number; x: number; y: number }[];
}

/** The shortest interval drawn on its own: the probe's last point comes a fraction of a
 * second after the one before, and its rate alone would be a spike of noise. */
const SHORTEST = 0.5;

/** Each interval's rate: what was committed since the previous point over its time (a last
 * interval shorter than {@link SHORTEST} seconds joins the one before). */
export function rates(timeline: readonly (readonly [number, number])[]): { t: number; rate: number }[] {
  const out: { t: number; rate: number; from: { t: number; n: number } }[] = [];
  let before = { t: 0, n: 0 };
  for (const [t, n] of timeline) {
    const last = out[out.length - 1];
    if (t - before.t < SHORTEST && last) {
      const span = t - last.from.t;
      last.t = t;
      last.rate = span > 0 ? Math.max(0, n - last.from.n) / span : 0;
    } else {
      const span = t - before.t;
      out.push({ t, rate: span > 0 ? Math.max(0, n - before.n) / span : 0, from: before });
    }
    before = { t, n };
  }
  return out.map(({ t, rate }) => ({ t, rate }));
}

/** 1, 2 or 5 times a power of ten, at or above `value`. */
export function niceCeil(value: number): number {
  if (value <= 0) return 1;
  const power = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 5, 10]) if (step * power >= value) return step * power;
  return 10 * power;
}

export function chart(timeline: readonly (readonly [number, number])[], g: ChartGeometry): Chart {
  const series = rates(timeline);
  const xMax = Math.max(1, ...series.map((p) => p.t));
  const yMax = niceCeil(Math.max(0, ...series.map((p) => p.rate)));
  const w = g.width - g.pad.left - g.pad.right;
  const h = g.height - g.pad.top - g.pad.bottom;
  const x = (t: number): number => g.pad.left + (t / xMax) * w;
  const y = (r: number): number => g.pad.top + h - (r / yMax) * h;
  const points = series.map((p) => ({ ...p, x: x(p.t), y: y(p.rate) }));
  const line = points.map((p, i) => `${i === 0 ? 'M' : 'L'}${p.x.toFixed(1)},${p.y.toFixed(1)}`).join(' ');
  const base = (g.pad.top + h).toFixed(1);
  const area =
    points.length > 0
      ? `M${x(0).toFixed(1)},${base} ${points.map((p) => `L${p.x.toFixed(1)},${p.y.toFixed(1)}`).join(' ')} L${points[points.length - 1]!.x.toFixed(1)},${base} Z`
      : '';
  const yTicks = [0, yMax / 2, yMax];
  const xStep = niceCeil(xMax / 5);
  const xTicks: number[] = [];
  for (let t = 0; t <= xMax + 1e-9; t += xStep) xTicks.push(Math.round(t * 10) / 10);
  return { line, area, yMax, xMax, yTicks, xTicks, points };
}
