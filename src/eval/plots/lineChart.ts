import { InvalidArgumentError } from '../../errors.js';
import {
  axisLabel,
  escapeXml,
  extent,
  formatTick,
  legend,
  linearScale,
  niceTicks,
  PALETTE,
  plotTitle,
  px,
  stableId,
  svgOpen,
  svgText,
  wrapText,
} from './svg.js';

/** One point of a series: the mean `y` at `x`, with optional confidence bounds. `y: null` breaks the line. */
export interface LinePoint {
  x: number;
  y: number | null;
  lo?: number | null;
  hi?: number | null;
}

/** A named series; `axis: 'right'` puts it on the secondary axis (e.g. end-of-turn rate in [0, 1]). */
export interface LineSeries {
  name: string;
  points: LinePoint[];
  axis?: 'left' | 'right';
  color?: string;
  /** Dashed line (default: dashed on the right axis). */
  dashed?: boolean;
  /** How the interval is drawn (default: `band` on the left axis, `bars` on the right). */
  errorStyle?: 'band' | 'bars' | 'none';
}

/** Options of {@link lineChart}. */
export interface LineChartOptions {
  title: string;
  xLabel: string;
  yLabel: string;
  /** Label of the right axis; needed when a series uses it. */
  rightLabel?: string;
  series: LineSeries[];
  width?: number;
  height?: number;
  /** Left axis domain (default: the data, padded, rounded to ticks). */
  yDomain?: [number, number];
  /** Right axis domain (default [0, 1]). */
  rightDomain?: [number, number];
  /** x tick positions (default: the distinct x values when there are at most 12). */
  xTicks?: number[];
  /** Dotted reference lines at x = 0 and y = 0 when inside the domain (default true). */
  zeroLines?: boolean;
}

const shortNumber = (v: number) => String(Number(v.toPrecision(6))).replace('-', '\u2212');

/**
 * A dose–response line chart as an SVG string: x = alpha, one line per series with its mean points
 * and confidence band or bars, an optional right axis for coherence-like series, axes with ticks and
 * labels, a legend and a title. All text is escaped.
 *
 * @example
 * const svg = lineChart({
 *   title: 'formal persona, layer 3', xLabel: 'alpha', yLabel: 'formality', rightLabel: 'end-of-turn rate',
 *   series: [
 *     { name: 'formality', points: [{ x: -4, y: -0.6, lo: -0.7, hi: -0.5 }, { x: 0, y: -0.2, lo: -0.3, hi: -0.1 }, { x: 4, y: 0.1, lo: 0, hi: 0.2 }] },
 *     { name: 'ended', axis: 'right', points: [{ x: -4, y: 0.89 }, { x: 0, y: 0.9 }, { x: 4, y: 0.77 }] },
 *   ],
 * });
 */
export function lineChart(o: LineChartOptions): string {
  if (o.series.length === 0) throw new InvalidArgumentError('lineChart needs at least one series');
  const hasRight = o.series.some((s) => s.axis === 'right');
  const W = o.width ?? 720;
  const H = o.height ?? 440;
  const title = plotTitle(W, o.title);
  const top = Math.max(52, title.bottom + 22);
  const colors = o.series.map((s, i) => s.color ?? PALETTE[i % PALETTE.length]);
  const legendEntries = o.series.map((s, i) => ({
    name: s.name + (s.axis === 'right' ? ' (right axis)' : ''),
    color: colors[i],
    dashed: s.dashed ?? s.axis === 'right',
    swatch: 'line' as const,
  }));
  const heightFor = (plotW: number) => H - top - (58 + legend(legendEntries, 0, 0, plotW).height + 8);
  // Axis labels longer than the plot is high wrap onto more lines, each widening its margin by 15 px.
  const wrapAt = Math.max(40, heightFor(W - 144) - 24);
  const yLines = wrapText(o.yLabel, 13, wrapAt);
  const rLines = hasRight ? wrapText(o.rightLabel ?? 'right axis', 13, wrapAt) : [];
  const left = 72 + 15 * (yLines.length - 1),
    right = hasRight ? 72 + 15 * (rLines.length - 1) : 28;
  const plotW = W - left - right;
  const plotH = heightFor(plotW);
  if (plotW < 80 || plotH < 80) throw new InvalidArgumentError(`lineChart ${W}×${H} is too small for its axes and legend`);

  const allX = o.series.flatMap((s) => s.points.map((p) => p.x));
  const xDomainRaw = extent(allX, [0, 1]);
  const distinctX = [...new Set(allX)].sort((a, b) => a - b);
  const xTicks = o.xTicks ?? (distinctX.length >= 2 && distinctX.length <= 12 ? distinctX : niceTicks(xDomainRaw[0], xDomainRaw[1], 6));
  const xDomain = extent([...xDomainRaw, ...xTicks]);
  const xPad = (xDomain[1] - xDomain[0] || 1) * 0.04;
  const x = linearScale([xDomain[0] - xPad, xDomain[1] + xPad], [left, left + plotW]);
  const xLabelOf = o.xTicks || (distinctX.length >= 2 && distinctX.length <= 12) ? shortNumber : (v: number) => formatTick(v, xTicks);

  const axisValues = (axis: 'left' | 'right') => o.series.filter((s) => (s.axis ?? 'left') === axis).flatMap((s) => s.points.flatMap((p) => [p.y, p.lo, p.hi]));
  const yRaw = o.yDomain ?? extent(axisValues('left'), [0, 1]);
  const yTicks = niceTicks(yRaw[0], yRaw[1], 6);
  const yDomain: [number, number] = o.yDomain ?? [yTicks[0], yTicks[yTicks.length - 1]];
  const y = linearScale(yDomain, [top + plotH, top]);
  const rDomain = o.rightDomain ?? [0, 1];
  const rTicks = niceTicks(rDomain[0], rDomain[1], 5).filter((t) => t >= rDomain[0] - 1e-9 && t <= rDomain[1] + 1e-9);
  const yr = linearScale(rDomain, [top + plotH, top]);
  const visibleY = yTicks.filter((t) => t >= yDomain[0] - 1e-9 && t <= yDomain[1] + 1e-9);

  const id = stableId('clip', JSON.stringify(o));
  const out: string[] = [svgOpen(W, H, o.title, 'line')];
  out.push(`<defs><clipPath id="${id}"><rect x="${left - 6}" y="${top - 6}" width="${px(plotW + 12)}" height="${px(plotH + 12)}"/></clipPath></defs>`);
  out.push(title.svg);
  // plot area, grid
  out.push(`<g data-role="plot-area"><rect x="${left}" y="${top}" width="${px(plotW)}" height="${px(plotH)}" fill="#fbfbfb" stroke="#bbb"/>`);
  for (const t of visibleY) out.push(`<line x1="${left}" x2="${px(left + plotW)}" y1="${px(y(t))}" y2="${px(y(t))}" stroke="#e3e3e3"/>`);
  for (const t of xTicks) out.push(`<line x1="${px(x(t))}" x2="${px(x(t))}" y1="${top}" y2="${px(top + plotH)}" stroke="#eeeeee"/>`);
  if (o.zeroLines ?? true) {
    if (yDomain[0] < 0 && yDomain[1] > 0)
      out.push(`<line x1="${left}" x2="${px(left + plotW)}" y1="${px(y(0))}" y2="${px(y(0))}" stroke="#888" stroke-dasharray="2 3"/>`);
    if (xDomain[0] < 0 && xDomain[1] > 0)
      out.push(`<line x1="${px(x(0))}" x2="${px(x(0))}" y1="${top}" y2="${px(top + plotH)}" stroke="#888" stroke-dasharray="2 3"/>`);
  }
  out.push('</g>');
  // axes
  const axisY = top + plotH;
  out.push(`<g class="axes" font-size="12" fill="#333">`);
  out.push(`<line x1="${left}" x2="${px(left + plotW)}" y1="${px(axisY)}" y2="${px(axisY)}" stroke="#333"/>`);
  out.push(`<line x1="${left}" x2="${left}" y1="${top}" y2="${px(axisY)}" stroke="#333"/>`);
  for (const t of xTicks)
    out.push(
      `<line x1="${px(x(t))}" x2="${px(x(t))}" y1="${px(axisY)}" y2="${px(axisY + 5)}" stroke="#333"/>` +
        svgText(x(t), axisY + 19, xLabelOf(t), { 'text-anchor': 'middle' }),
    );
  for (const t of visibleY)
    out.push(
      `<line x1="${left - 5}" x2="${left}" y1="${px(y(t))}" y2="${px(y(t))}" stroke="#333"/>` +
        svgText(left - 8, y(t) + 4, formatTick(t, yTicks), { 'text-anchor': 'end' }),
    );
  if (hasRight) {
    out.push(`<line x1="${px(left + plotW)}" x2="${px(left + plotW)}" y1="${top}" y2="${px(axisY)}" stroke="#333"/>`);
    for (const t of rTicks)
      out.push(
        `<line x1="${px(left + plotW)}" x2="${px(left + plotW + 5)}" y1="${px(yr(t))}" y2="${px(yr(t))}" stroke="#333"/>` +
          svgText(left + plotW + 8, yr(t) + 4, formatTick(t, rTicks), { 'text-anchor': 'start' }),
      );
    out.push(axisLabel(rLines, left + plotW + 56, top + plotH / 2, 'right'));
  }
  out.push(svgText(left + plotW / 2, axisY + 42, o.xLabel, { 'text-anchor': 'middle', 'font-size': 13 }));
  out.push(axisLabel(yLines, left - 54, top + plotH / 2, 'left'));
  out.push('</g>');
  // series
  out.push(`<g clip-path="url(#${id})" data-role="series">`);
  o.series.forEach((s, i) => {
    const c = colors[i];
    const ys = s.axis === 'right' ? yr : y;
    const style = s.errorStyle ?? (s.axis === 'right' ? 'bars' : 'band');
    const pts = [...s.points].sort((a, b) => a.x - b.x);
    const runs: LinePoint[][] = [];
    let run: LinePoint[] = [];
    for (const p of pts) {
      if (p.y === null || !Number.isFinite(p.y)) {
        if (run.length) runs.push(run);
        run = [];
      } else run.push(p);
    }
    if (run.length) runs.push(run);
    const hasCI = (p: LinePoint) => p.lo != null && p.hi != null && Number.isFinite(p.lo) && Number.isFinite(p.hi);
    out.push(`<g class="series" data-series="${escapeXml(s.name)}">`);
    if (style === 'band') {
      for (const r of runs) {
        const band = r.filter(hasCI);
        if (band.length >= 2) {
          const upper = band.map((p) => `${px(x(p.x))},${px(ys(p.hi as number))}`);
          const lower = [...band].reverse().map((p) => `${px(x(p.x))},${px(ys(p.lo as number))}`);
          out.push(`<polygon points="${[...upper, ...lower].join(' ')}" fill="${c}" fill-opacity="0.18" stroke="none"/>`);
        }
      }
    }
    if (style === 'bars' || style === 'band') {
      for (const p of pts.filter((q) => q.y !== null && hasCI(q))) {
        if (style === 'band' && runs.some((r) => r.length >= 2 && r.includes(p))) continue;
        const cx = x(p.x);
        out.push(
          `<path d="M${px(cx)} ${px(ys(p.lo as number))}V${px(ys(p.hi as number))}M${px(cx - 4)} ${px(ys(p.lo as number))}H${px(cx + 4)}M${px(cx - 4)} ${px(ys(p.hi as number))}H${px(cx + 4)}" stroke="${c}" stroke-width="1.5" fill="none"/>`,
        );
      }
    }
    for (const r of runs) {
      if (r.length >= 2)
        out.push(
          `<polyline points="${r.map((p) => `${px(x(p.x))},${px(ys(p.y as number))}`).join(' ')}" fill="none" stroke="${c}" stroke-width="2.5"${(s.dashed ?? s.axis === 'right') ? ' stroke-dasharray="6 4"' : ''}/>`,
        );
      for (const p of r) out.push(`<circle cx="${px(x(p.x))}" cy="${px(ys(p.y as number))}" r="4" fill="${c}" stroke="#fff" stroke-width="1"/>`);
    }
    out.push('</g>');
  });
  out.push('</g>');
  out.push(legend(legendEntries, left, axisY + 64, plotW).svg);
  out.push('</svg>');
  return out.join('');
}
