import { InvalidArgumentError } from '../../errors.js';
import { axisLabel, escapeXml, extent, formatTick, legend, linearScale, niceTicks, PALETTE, plotTitle, px, svgOpen, svgText, wrapText } from './svg.js';

/** A bar's value with optional confidence bounds; `y: null` leaves a gap marked "n/a". */
export interface BarValue {
  y: number | null;
  lo?: number | null;
  hi?: number | null;
}

/** Options of {@link barChart}. */
export interface BarChartOptions {
  title: string;
  /** Group labels along x (e.g. personas). */
  groups: string[];
  /** One series per bar within a group (e.g. metrics); `values[g]` belongs to `groups[g]`. */
  series: Array<{ name: string; values: BarValue[]; color?: string }>;
  yLabel: string;
  xLabel?: string;
  yDomain?: [number, number];
  width?: number;
  height?: number;
}

/**
 * Grouped bars with error bars as an SVG string (e.g. entanglement: how each persona moves each
 * metric). Bars grow from zero, so negative values hang below the axis line.
 *
 * @example
 * const svg = barChart({
 *   title: 'entanglement at alpha 4', yLabel: 'change vs. unsteered', groups: ['formal', 'vivid'],
 *   series: [
 *     { name: 'formality', values: [{ y: 0.5, lo: 0.4, hi: 0.6 }, { y: -0.1, lo: -0.2, hi: 0 }] },
 *     { name: 'vivid', values: [{ y: -0.3, lo: -0.5, hi: -0.1 }, { y: 2.1, lo: 1.7, hi: 2.5 }] },
 *   ],
 * });
 */
export function barChart(o: BarChartOptions): string {
  const ng = o.groups.length,
    ns = o.series.length;
  if (ng === 0 || ns === 0) throw new InvalidArgumentError('barChart needs at least one group and one series');
  for (const s of o.series)
    if (s.values.length !== ng) throw new InvalidArgumentError(`barChart series "${s.name}" has ${s.values.length} values for ${ng} groups`);
  // Wide enough for its bars, at most 1000 px (a report's card), so no figure is scaled down to unreadable.
  const W = o.width ?? Math.max(560, Math.min(1000, 90 + ng * (ns * 26 + 40)));
  const title = plotTitle(W, o.title);
  const right = 24,
    top = Math.max(52, title.bottom + 22);
  const H = o.height ?? 420;
  const colors = o.series.map((s, i) => s.color ?? PALETTE[i % PALETTE.length]);
  const entries = o.series.map((s, i) => ({ name: s.name, color: colors[i], swatch: 'box' as const }));
  const layout = (left: number) => {
    const plotW = W - left - right;
    const groupW = plotW / ng;
    // Group names wrap under their group (long words broken) rather than run into their neighbours.
    const groupLines = o.groups.map((g) => wrapText(g, 12, Math.max(24, groupW - 6)));
    const labelH = 22 + 15 * (Math.max(...groupLines.map((l) => l.length)) - 1);
    const leg = legend(entries, 0, 0, plotW);
    return { plotW, groupW, groupLines, labelH, leg, plotH: H - top - (labelH + (o.xLabel ? 26 : 6) + leg.height + 18) };
  };
  // A y label longer than the plot is high wraps onto more lines, each widening the margin by 15 px.
  const yLines = wrapText(o.yLabel, 13, Math.max(40, layout(72).plotH - 24));
  const left = 72 + 15 * (yLines.length - 1);
  const { plotW, groupW, groupLines, labelH, leg, plotH } = layout(left);
  if (plotH < 80) throw new InvalidArgumentError(`barChart height ${H} is too small for its labels and legend`);

  const values = o.series.flatMap((s) => s.values.flatMap((v) => [v.y, v.lo, v.hi]));
  const raw = o.yDomain ?? extent([...values, 0], [0, 1]);
  const pad = (raw[1] - raw[0]) * 0.04; // headroom so bars and error bars do not touch the frame
  const ticks = niceTicks(raw[0] < 0 ? raw[0] - pad : raw[0], raw[1] > 0 ? raw[1] + pad : raw[1], 6);
  const domain: [number, number] = o.yDomain ?? [ticks[0], ticks[ticks.length - 1]];
  const y = linearScale(domain, [top + plotH, top]);
  const visible = ticks.filter((t) => t >= domain[0] - 1e-9 && t <= domain[1] + 1e-9);
  const clampY = (v: number) => Math.max(top, Math.min(top + plotH, y(v)));
  const y0 = clampY(0);

  const out: string[] = [svgOpen(W, H, o.title, 'bar')];
  out.push(title.svg);
  out.push(`<g data-role="plot-area"><rect x="${left}" y="${top}" width="${px(plotW)}" height="${px(plotH)}" fill="#fbfbfb" stroke="#bbb"/>`);
  for (const t of visible) out.push(`<line x1="${left}" x2="${px(left + plotW)}" y1="${px(y(t))}" y2="${px(y(t))}" stroke="#e3e3e3"/>`);
  const barW = Math.min(48, (groupW * 0.8) / ns);
  for (let g = 0; g < ng; g++) {
    const gx = left + g * groupW + (groupW - barW * ns) / 2;
    o.series.forEach((s, i) => {
      const v = s.values[g];
      const bx = gx + i * barW;
      if (v.y === null || !Number.isFinite(v.y)) {
        out.push(svgText(bx + barW / 2, y0 - 4, 'n/a', { 'text-anchor': 'middle', 'font-size': 10, fill: '#777' }));
        return;
      }
      const yv = clampY(v.y);
      out.push(
        `<rect class="bar" data-series="${escapeXml(s.name)}" x="${px(bx + 1)}" y="${px(Math.min(yv, y0))}" width="${px(barW - 2)}" height="${px(Math.max(0.5, Math.abs(yv - y0)))}" fill="${colors[i]}"/>`,
      );
      if (v.lo != null && v.hi != null && Number.isFinite(v.lo) && Number.isFinite(v.hi)) {
        const cx = bx + barW / 2,
          a = clampY(v.lo),
          b = clampY(v.hi),
          cap = Math.min(5, barW / 3);
        out.push(
          `<path d="M${px(cx)} ${px(a)}V${px(b)}M${px(cx - cap)} ${px(a)}H${px(cx + cap)}M${px(cx - cap)} ${px(b)}H${px(cx + cap)}" stroke="#222" stroke-width="1.4" fill="none"/>`,
        );
      }
    });
  }
  out.push(`<line x1="${left}" x2="${px(left + plotW)}" y1="${px(y0)}" y2="${px(y0)}" stroke="#555"/>`);
  out.push('</g>');
  out.push('<g class="axes" font-size="12" fill="#333">');
  out.push(`<line x1="${left}" x2="${left}" y1="${top}" y2="${px(top + plotH)}" stroke="#333"/>`);
  for (const t of visible)
    out.push(
      `<line x1="${left - 5}" x2="${left}" y1="${px(y(t))}" y2="${px(y(t))}" stroke="#333"/>` +
        svgText(left - 8, y(t) + 4, formatTick(t, ticks), { 'text-anchor': 'end' }),
    );
  const ly = top + plotH + 18;
  groupLines.forEach((_, i) => {
    const cx = left + (i + 0.5) * groupW;
    groupLines[i].forEach((line, k) => out.push(svgText(cx, ly + 15 * k, line, { 'text-anchor': 'middle' })));
  });
  if (o.xLabel) out.push(svgText(left + plotW / 2, top + plotH + labelH + 20, o.xLabel, { 'text-anchor': 'middle', 'font-size': 13 }));
  out.push(axisLabel(yLines, left - 54, top + plotH / 2, 'left'));
  out.push('</g>');
  out.push(legend(entries, left, H - leg.height - 4 + 9, plotW).svg);
  out.push('</svg>');
  return out.join('');
}
