/**
 * clocks: analog-clock images for the tell-the-time task, generated deterministically from a seed.
 * Each image shows a clock face at a uniformly random time of a 12-hour day, with variation a CNN has to see
 * through: the whole clock rotated a little, its size and position, face and ink brightness, hand lengths and
 * widths, one of three tick styles, Gaussian-like noise and sometimes a blur. Only the hands carry the time.
 *
 * Targets: hour (0–11, the class label) and minute (0–59.x, continuous); `clockTargets` derives the other label
 * schemes (24 or 720 classes, normalized regression, cos/sin periodic, hour + minute).
 */
import { Random } from '../engine/random.js';
import type { Dataset, ImageSet } from './dataset.js';
import type { TargetLayout } from './targets.js';
import { DataError } from './errors.js';

export interface ClockOptions {
  count?: number;
  size?: number;
  seed?: number;
  /** Share held out as the test split (the tell-the-time study used 80:20). */
  testFraction?: number;
}

/** Paints coverage·value over the image (max-compositing dark ink on a light face, or the reverse). */
class Canvas {
  readonly px: Float32Array;
  constructor(
    readonly size: number,
    background: number,
  ) {
    this.px = new Float32Array(size * size).fill(background);
  }
  /** A thick segment from (x0, y0) to (x1, y1) with antialiased edges. */
  segment(x0: number, y0: number, x1: number, y1: number, halfWidth: number, ink: number): void {
    const pad = halfWidth + 1;
    const xa = Math.max(0, Math.floor(Math.min(x0, x1) - pad));
    const xb = Math.min(this.size - 1, Math.ceil(Math.max(x0, x1) + pad));
    const ya = Math.max(0, Math.floor(Math.min(y0, y1) - pad));
    const yb = Math.min(this.size - 1, Math.ceil(Math.max(y0, y1) + pad));
    const dx = x1 - x0;
    const dy = y1 - y0;
    const len2 = dx * dx + dy * dy || 1e-9;
    for (let y = ya; y <= yb; y++)
      for (let x = xa; x <= xb; x++) {
        const t = Math.max(0, Math.min(1, ((x - x0) * dx + (y - y0) * dy) / len2));
        const ex = x - (x0 + t * dx);
        const ey = y - (y0 + t * dy);
        const cover = Math.max(0, Math.min(1, halfWidth + 0.5 - Math.sqrt(ex * ex + ey * ey)));
        if (cover > 0) this.blend(y * this.size + x, cover, ink);
      }
  }
  /** A ring of radius r and half-width w around (cx, cy). */
  ring(cx: number, cy: number, r: number, w: number, ink: number): void {
    const ya = Math.max(0, Math.floor(cy - r - w - 1));
    const yb = Math.min(this.size - 1, Math.ceil(cy + r + w + 1));
    for (let y = ya; y <= yb; y++)
      for (let x = 0; x < this.size; x++) {
        const d = Math.abs(Math.hypot(x - cx, y - cy) - r);
        const cover = Math.max(0, Math.min(1, w + 0.5 - d));
        if (cover > 0) this.blend(y * this.size + x, cover, ink);
      }
  }
  /** A filled disc. */
  disc(cx: number, cy: number, r: number, ink: number): void {
    for (let y = Math.max(0, Math.floor(cy - r - 1)); y <= Math.min(this.size - 1, Math.ceil(cy + r + 1)); y++)
      for (let x = Math.max(0, Math.floor(cx - r - 1)); x <= Math.min(this.size - 1, Math.ceil(cx + r + 1)); x++) {
        const cover = Math.max(0, Math.min(1, r + 0.5 - Math.hypot(x - cx, y - cy)));
        if (cover > 0) this.blend(y * this.size + x, cover, ink);
      }
  }
  private blend(i: number, cover: number, ink: number): void {
    this.px[i] = this.px[i] * (1 - cover) + ink * cover;
  }
}

/** One clock at `minutes` (0 ≤ minutes < 720) with its look drawn from rng; returns size² uint8 pixels. */
export function drawClock(minutes: number, size: number, rng: Random): Uint8Array {
  const u = (lo: number, hi: number) => lo + (hi - lo) * rng.next();
  const dark = rng.next() < 0.8; // dark ink on a light face, or the reverse
  const face = dark ? u(170, 255) : u(0, 80);
  const ink = dark ? u(0, 70) : u(180, 255);
  const c = new Canvas(size, dark ? u(120, 255) : u(0, 120));
  const radius = size * u(0.36, 0.48);
  const cx = size / 2 + u(-1, 1) * (size / 2 - radius - 1);
  const cy = size / 2 + u(-1, 1) * (size / 2 - radius - 1);
  const tilt = (u(-25, 25) * Math.PI) / 180; // the whole clock rotated
  c.disc(cx, cy, radius, face);
  c.ring(cx, cy, radius, u(0.6, 2.5), ink);
  // Ticks: 12 strokes, 12 strokes + 48 short ones, or 12 dots.
  const style = rng.int(3);
  for (let k = 0; k < (style === 1 ? 60 : 12); k++) {
    const major = style !== 1 || k % 5 === 0;
    const a = tilt + (k / (style === 1 ? 60 : 12)) * 2 * Math.PI;
    const sx = Math.sin(a);
    const sy = -Math.cos(a);
    if (style === 2) {
      c.disc(cx + sx * radius * 0.86, cy + sy * radius * 0.86, radius * (k % 3 === 0 ? 0.05 : 0.03), ink);
    } else {
      const r0 = radius * (major ? 0.8 : 0.88);
      c.segment(cx + sx * r0, cy + sy * r0, cx + sx * radius * 0.94, cy + sy * radius * 0.94, major ? radius * 0.022 : radius * 0.01, ink);
    }
  }
  // Hands: the hour hand short and wide, the minute hand long and thin; both start slightly behind the centre.
  const minuteAngle = tilt + ((minutes % 60) / 60) * 2 * Math.PI;
  const hourAngle = tilt + (minutes / 720) * 2 * Math.PI;
  const hand = (angle: number, length: number, halfWidth: number) => {
    const sx = Math.sin(angle);
    const sy = -Math.cos(angle);
    const back = radius * u(0.0, 0.15);
    c.segment(cx - sx * back, cy - sy * back, cx + sx * length, cy + sy * length, halfWidth, ink);
  };
  hand(hourAngle, radius * u(0.4, 0.55), radius * u(0.035, 0.06));
  hand(minuteAngle, radius * u(0.7, 0.88), radius * u(0.015, 0.03));
  c.disc(cx, cy, radius * u(0.03, 0.06), ink);
  // Noise (sum of two uniforms: a cheap bell shape) and, for a third of the clocks, a 3×3 box blur.
  const noise = u(0, 18);
  const px = c.px;
  if (rng.next() < 1 / 3) {
    const tmp = new Float32Array(px.length);
    for (let y = 0; y < size; y++)
      for (let x = 0; x < size; x++) {
        let s = 0;
        let n = 0;
        for (let dy = -1; dy <= 1; dy++)
          for (let dx = -1; dx <= 1; dx++) {
            const yy = y + dy;
            const xx = x + dx;
            if (yy >= 0 && yy < size && xx >= 0 && xx < size) {
              s += px[yy * size + xx];
              n++;
            }
          }
        tmp[y * size + x] = s / n;
      }
    px.set(tmp);
  }
  const out = new Uint8Array(size * size);
  for (let i = 0; i < out.length; i++) out[i] = Math.max(0, Math.min(255, Math.round(px[i] + noise * (rng.next() + rng.next() - 1))));
  return out;
}

/** The clocks dataset: images 1 channel, labels = hour (0–11), targets.minute = minute (0–59.x). */
export function generateClocks(options: ClockOptions = {}): Dataset {
  const count = options.count ?? 18000;
  const size = options.size ?? 150;
  const seed = options.seed ?? 0;
  if (!Number.isInteger(count) || count < 2) throw new DataError(`clocks: count must be an integer ≥ 2, got ${count}`);
  if (!Number.isInteger(size) || size < 16) throw new DataError(`clocks: size must be an integer ≥ 16, got ${size}`);
  const rng = new Random(seed ^ 0xc10c);
  const minutes = Float64Array.from({ length: count }, () => rng.next() * 720);
  const images = new Uint8Array(count * size * size);
  for (let i = 0; i < count; i++) images.set(drawClock(minutes[i], size, rng), i * size * size);
  const testCount = Math.round((options.testFraction ?? 0.2) * count);
  const split = (from: number, to: number): ImageSet => ({
    images: images.subarray(from * size * size, to * size * size),
    labels: Int32Array.from(minutes.subarray(from, to), (m) => Math.floor(m / 60)),
    targets: { minute: Float32Array.from(minutes.subarray(from, to), (m) => m % 60) },
    count: to - from,
    height: size,
    width: size,
    channels: 1,
  });
  const hours = Array.from({ length: 12 }, (_, h) => `${h === 0 ? 12 : h} o'clock`);
  return {
    name: 'clocks',
    classNames: hours,
    train: split(0, count - testCount),
    test: split(count - testCount, count),
    source: `generated (seed ${seed}, ${count} images of ${size}×${size})`,
  };
}

export type ClockTarget = 'hour' | 'minute' | 'classes24' | 'classes720' | 'regression' | 'periodic' | 'hour_minute';

/** A class from a target row (the index itself) or a prediction row (the highest score). */
function classOf(row: Float32Array): number {
  if (row.length === 1) return Math.round(row[0]);
  let best = 0;
  for (let i = 1; i < row.length; i++) if (row[i] > row[best]) best = i;
  return best;
}

const wrap = (m: number, period: number) => ((m % period) + period) % period;
const angle = (c: number, s: number) => wrap(Math.atan2(s, c) / (2 * Math.PI), 1);

export function clockTargets(scheme: ClockTarget): TargetLayout {
  const layout = clockLayout(scheme);
  // Every scheme's samples show an exact time, which the time difference measures against (not the class middle).
  return layout.minutes ? { ...layout, truth: (h, [m]) => h * 60 + m } : layout;
}

function clockLayout(scheme: ClockTarget): TargetLayout {
  const t = (h: number, m: number) => h * 60 + m; // minutes after 12:00
  switch (scheme) {
    case 'hour':
      return {
        extras: ['minute'],
        widths: [0],
        units: [12],
        classNames: Array.from({ length: 12 }, (_, h) => `${h === 0 ? 12 : h} o'clock`),
        fill: (h, _extra, o, r) => void (o[0][r] = h),
        minutes: null,
      };
    case 'minute':
      return { extras: ['minute'], widths: [0], units: [1], classNames: null, fill: (_h, [m], o, r) => void (o[0][r] = m), minutes: null };
    case 'classes24':
      // A class stands for its half hour; its middle is the time it says.
      return {
        extras: ['minute'],
        widths: [0],
        units: [24],
        classNames: Array.from({ length: 24 }, (_, k) => `${Math.floor(k / 2) || 12}:${k % 2 ? '30' : '00'}`),
        fill: (h, [m], o, r) => void (o[0][r] = Math.floor(t(h, m) / 30)),
        minutes: (rows) => classOf(rows[0]) * 30 + 15,
      };
    case 'classes720':
      return {
        extras: ['minute'],
        widths: [0],
        units: [720],
        classNames: Array.from({ length: 720 }, (_, k) => `${Math.floor(k / 60) || 12}:${String(k % 60).padStart(2, '0')}`),
        fill: (h, [m], o, r) => void (o[0][r] = Math.floor(t(h, m))),
        minutes: (rows) => classOf(rows[0]) + 0.5,
      };
    case 'regression':
      // The time of day normalized to [0, 1): 3:30 → 0.2917.
      return {
        extras: ['minute'],
        widths: [0],
        units: [1],
        classNames: null,
        fill: (h, [m], o, r) => void (o[0][r] = t(h, m) / 720),
        minutes: (rows) => wrap(rows[0][0] * 720, 720),
      };
    case 'periodic':
      // cos and sin of the hour hand's and the minute hand's angles.
      return {
        extras: ['minute'],
        widths: [4],
        units: [4],
        classNames: null,
        fill: (h, [m], o, r) => {
          const a = (t(h, m) / 720) * 2 * Math.PI;
          const b = (m / 60) * 2 * Math.PI;
          o[0].set([Math.cos(a), Math.sin(a), Math.cos(b), Math.sin(b)], r * 4);
        },
        // The minute hand gives the minute; the hour hand picks the hour whose time lies nearest to it.
        minutes: ([row]) => {
          const fromHourHand = angle(row[0], row[1]) * 720;
          const minute = angle(row[2], row[3]) * 60;
          const hour = wrap(Math.round((fromHourHand - minute) / 60), 12);
          return hour * 60 + minute;
        },
      };
    case 'hour_minute':
      // Two outputs: the hour as a class, the minute normalized to [0, 1).
      return {
        extras: ['minute'],
        widths: [0, 0],
        units: [12, 1],
        classNames: null,
        fill: (h, [m], o, r) => {
          o[0][r] = h;
          o[1][r] = m / 60;
        },
        minutes: (rows) => classOf(rows[0]) * 60 + Math.min(59.999, Math.max(0, rows[1][0] * 60)),
      };
  }
}
