import { InvalidArgumentError } from '../../errors.js';
import { escapeXml, extent, formatTick, legend, linearScale, niceTicks, PALETTE, plotTitle, px, svgOpen, svgText } from '../plots/svg.js';

/** Options of {@link scatterPlot}: points in named groups (one colour each), and optional group means drawn large. */
export interface ScatterPlotOptions {
  title: string;
  xLabel: string;
  yLabel: string;
  groups: Array<{ name: string; points: Array<{ x: number; y: number }>; mean?: { x: number; y: number } }>;
  /** A least-squares line through every point (default true). */
  fit?: boolean;
  width?: number;
  height?: number;
}

/**
 * A scatter plot as an SVG string (the monitoring calibration: prompt-end projection vs the trait
 * score of the answer that followed), with small jittered-free points, group means as large
 * outlined dots, and the least-squares line.
 *
 * @example scatterPlot({ title: 'formal', xLabel: 'projection', yLabel: 'formality', groups: [{ name: 'casual system', points: [{ x: -1, y: -0.8 }] }] });
 */
export function scatterPlot(o: ScatterPlotOptions): string {
  const all = o.groups.flatMap((g) => g.points);
  if (all.length === 0) throw new InvalidArgumentError('scatterPlot needs at least one point');
  const W = o.width ?? 720;
  const H = o.height ?? 480;
  const title = plotTitle(W, o.title);
  const left = 72,
    right = 28,
    top = Math.max(52, title.bottom + 22);
  const plotW = W - left - right;
  const palette = [...PALETTE, '#999999', '#8C564B', '#66A61E'];
  const colors = o.groups.map((_, i) => palette[i % palette.length]);
  const leg = legend(
    o.groups.map((g, i) => ({ name: g.name, color: colors[i], swatch: 'box' as const })),
    0,
    0,
    plotW,
  );
  const plotH = H - top - (58 + leg.height + 8);
  if (plotH < 80) throw new InvalidArgumentError(`scatterPlot ${W}×${H} is too small for its axes and legend`);
  const xr = extent(all.map((p) => p.x));
  const yr = extent(all.map((p) => p.y));
  const xt = niceTicks(xr[0], xr[1], 6);
  const yt = niceTicks(yr[0], yr[1], 6);
  const x = linearScale([xt[0], xt[xt.length - 1]], [left, left + plotW]);
  const y = linearScale([yt[0], yt[yt.length - 1]], [top + plotH, top]);
  const out: string[] = [svgOpen(W, H, o.title, 'scatter'), title.svg];
  out.push(`<rect x="${left}" y="${top}" width="${px(plotW)}" height="${px(plotH)}" fill="#fbfbfb" stroke="#bbb"/>`);
  for (const t of yt)
    out.push(
      `<line x1="${left}" x2="${px(left + plotW)}" y1="${px(y(t))}" y2="${px(y(t))}" stroke="#e3e3e3"/>` +
        svgText(left - 8, y(t) + 4, formatTick(t, yt), { 'text-anchor': 'end', 'font-size': 12 }),
    );
  for (const t of xt)
    out.push(
      `<line x1="${px(x(t))}" x2="${px(x(t))}" y1="${top}" y2="${px(top + plotH)}" stroke="#eeeeee"/>` +
        svgText(x(t), top + plotH + 19, formatTick(t, xt), { 'text-anchor': 'middle', 'font-size': 12 }),
    );
  out.push(svgText(left + plotW / 2, top + plotH + 42, o.xLabel, { 'text-anchor': 'middle', 'font-size': 13 }));
  out.push(svgText(18, top + plotH / 2, o.yLabel, { 'text-anchor': 'middle', 'font-size': 13, transform: `rotate(-90 18 ${px(top + plotH / 2)})` }));
  if (o.fit ?? true) {
    const mx = all.reduce((s, p) => s + p.x, 0) / all.length;
    const my = all.reduce((s, p) => s + p.y, 0) / all.length;
    const sxx = all.reduce((s, p) => s + (p.x - mx) ** 2, 0);
    if (sxx > 0) {
      const b = all.reduce((s, p) => s + (p.x - mx) * (p.y - my), 0) / sxx;
      const x0 = xt[0],
        x1 = xt[xt.length - 1];
      const clampY = (v: number) => Math.min(yt[yt.length - 1], Math.max(yt[0], v));
      out.push(
        `<line data-role="fit" x1="${px(x(x0))}" y1="${px(y(clampY(my + b * (x0 - mx))))}" x2="${px(x(x1))}" y2="${px(y(clampY(my + b * (x1 - mx))))}" stroke="#555" stroke-dasharray="6 4"/>`,
      );
    }
  }
  o.groups.forEach((g, i) => {
    out.push(`<g class="group" data-group="${escapeXml(g.name)}">`);
    for (const p of g.points) out.push(`<circle cx="${px(x(p.x))}" cy="${px(y(p.y))}" r="3" fill="${colors[i]}" fill-opacity="0.55"/>`);
    if (g.mean)
      out.push(`<circle data-role="mean" cx="${px(x(g.mean.x))}" cy="${px(y(g.mean.y))}" r="8" fill="${colors[i]}" stroke="#111" stroke-width="1.5"/>`);
    out.push('</g>');
  });
  const lg = legend(
    o.groups.map((g, i) => ({ name: g.name, color: colors[i], swatch: 'box' as const })),
    left,
    top + plotH + 62,
    plotW,
  );
  out.push(lg.svg, '</svg>');
  return out.join('');
}
