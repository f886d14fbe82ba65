import { InvalidArgumentError } from '../../errors.js';
import { extent, formatTick, linearScale, niceTicks, px, stableId, svgOpen, svgText, textWidth } from './svg.js';

/** Options of {@link heatmap}. */
export interface HeatmapOptions {
  title: string;
  /** Row labels, top to bottom (e.g. layers). */
  rows: Array<string | number>;
  /** Column labels, left to right (e.g. alphas). */
  cols: Array<string | number>;
  /** values[row][col]; `null` = not measured (drawn grey). */
  values: Array<Array<number | null>>;
  xLabel?: string;
  yLabel?: string;
  /** Label of the colour bar (the metric). */
  colorLabel?: string;
  /** Value at the neutral colour (default 0). */
  center?: number;
  /** Colour domain (default: symmetric around `center`, covering every value). */
  domain?: [number, number];
  /** The cell to outline (the recommendation), by row and column index. */
  highlight?: { row: number; col: number; label?: string };
  /** Cells to hatch (e.g. coherence below the floor), same shape as `values`. */
  dimmed?: boolean[][];
  /** Legend text for hatched cells. */
  dimmedLabel?: string;
  /** Decimals in the cell labels (default 2). */
  digits?: number;
  width?: number;
}

// ColorBrewer RdBu, 5 classes: blue below the centre, red above.
const STOPS = [
  [33, 102, 172],
  [103, 169, 207],
  [247, 247, 247],
  [239, 138, 98],
  [178, 24, 43],
];

/**
 * Diverging colour for t in [−1, 1] (−1 blue, 0 near-white, +1 red).
 *
 * @example divergingColor(0); // '#f7f7f7'
 */
export function divergingColor(t: number): string {
  const u = (Math.max(-1, Math.min(1, t)) + 1) * 2; // 0..4
  const i = Math.min(3, Math.floor(u));
  const f = u - i;
  const rgb = STOPS[i].map((a, k) => Math.round(a + (STOPS[i + 1][k] - a) * f));
  return '#' + rgb.map((v) => v.toString(16).padStart(2, '0')).join('');
}

function luminance(hex: string): number {
  const [r, g, b] = [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16) / 255);
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}

/**
 * A layer × alpha heat map as an SVG string: a diverging colour scale centred on `center`, the value
 * printed in each cell, a colour bar, hatched cells (e.g. incoherent) and an outlined cell (the
 * recommendation).
 *
 * @example
 * const svg = heatmap({
 *   title: 'formality change by layer and alpha', rows: [0, 1, 2], cols: [-4, 4],
 *   values: [[-0.1, 0.1], [-0.6, 0.5], [-0.3, 0.2]], yLabel: 'layer', xLabel: 'alpha',
 *   colorLabel: 'Δ formality', highlight: { row: 1, col: 1, label: 'recommended' },
 * });
 */
export function heatmap(o: HeatmapOptions): string {
  const nr = o.rows.length, nc = o.cols.length;
  if (nr === 0 || nc === 0) throw new InvalidArgumentError('heatmap needs at least one row and one column');
  if (o.values.length !== nr || o.values.some((r) => r.length !== nc)) throw new InvalidArgumentError(`heatmap values must be ${nr} rows × ${nc} columns`);
  if (o.highlight && !(o.highlight.row >= 0 && o.highlight.row < nr && o.highlight.col >= 0 && o.highlight.col < nc)) throw new InvalidArgumentError('heatmap highlight is outside the grid');
  const center = o.center ?? 0;
  const digits = o.digits ?? 2;
  const [vmin, vmax] = extent(o.values.flat(), [center - 1, center + 1]);
  const half = Math.max(Math.abs(vmin - center), Math.abs(vmax - center)) || 1;
  const domain = o.domain ?? [center - half, center + half];
  const toT = (v: number) => (v >= center ? (v - center) / (domain[1] - center || 1) : -(center - v) / (center - domain[0] || 1));

  const rowLabelW = Math.max(24, ...o.rows.map((r) => textWidth(String(r), 12))) + 12;
  const left = 34 + rowLabelW, top = 56;
  const W = o.width ?? Math.max(520, left + nc * 64 + 120);
  const barW = 16, barGap = 28;
  const gridW = W - left - barGap - barW - 70;
  const cell = Math.max(18, Math.min(90, gridW / nc));
  const cellH = Math.max(18, Math.min(44, cell * 0.6));
  const gridH = cellH * nr;
  const notes = [o.highlight ? 'outlined: ' + (o.highlight.label ?? 'highlighted cell') : '', o.dimmed ? 'hatched: ' + (o.dimmedLabel ?? 'dimmed') : ''].filter(Boolean);
  const H = top + Math.max(gridH, 80) + 56 + (notes.length ? 22 : 0);
  const gx = left, gy = top;
  const pattern = stableId('hatch', JSON.stringify(o));

  const out: string[] = [svgOpen(W, H, o.title, 'heatmap')];
  out.push(`<defs><pattern id="${pattern}" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><line x1="0" y1="0" x2="0" y2="6" stroke="#555" stroke-width="1.6" stroke-opacity="0.55"/></pattern></defs>`);
  out.push(svgText(W / 2, 28, o.title, { 'text-anchor': 'middle', 'font-size': 17, 'font-weight': 'bold', fill: '#111', class: 'title' }));
  out.push(`<g data-role="plot-area">`);
  const fontSize = Math.max(9, Math.min(13, cell / 5.2));
  for (let r = 0; r < nr; r++) {
    for (let c = 0; c < nc; c++) {
      const v = o.values[r][c];
      const x = gx + c * cell, y = gy + r * cellH;
      const fill = v === null || !Number.isFinite(v) ? '#d9d9d9' : divergingColor(toT(v));
      out.push(`<rect x="${px(x)}" y="${px(y)}" width="${px(cell)}" height="${px(cellH)}" fill="${fill}" stroke="#ffffff" stroke-width="1"/>`);
      if (o.dimmed?.[r]?.[c]) out.push(`<rect x="${px(x)}" y="${px(y)}" width="${px(cell)}" height="${px(cellH)}" fill="url(#${pattern})"/>`);
      const label = v === null || !Number.isFinite(v) ? '–' : v.toFixed(digits).replace('-', '\u2212');
      out.push(svgText(x + cell / 2, y + cellH / 2 + fontSize * 0.36, label, { 'text-anchor': 'middle', 'font-size': px(fontSize), fill: luminance(fill) < 0.45 ? '#ffffff' : '#111111' }));
    }
  }
  if (o.highlight) {
    const { row, col } = o.highlight;
    out.push(`<rect class="highlight" x="${px(gx + col * cell + 1.5)}" y="${px(gy + row * cellH + 1.5)}" width="${px(cell - 3)}" height="${px(cellH - 3)}" fill="none" stroke="#000000" stroke-width="3"/>`);
  }
  out.push('</g>');
  // axes labels
  out.push('<g class="axes" font-size="12" fill="#333">');
  o.rows.forEach((r, i) => out.push(svgText(gx - 8, gy + i * cellH + cellH / 2 + 4, String(r), { 'text-anchor': 'end' })));
  o.cols.forEach((c, i) => out.push(svgText(gx + i * cell + cell / 2, gy + gridH + 18, String(c).replace(/^-/, '\u2212'), { 'text-anchor': 'middle' })));
  out.push(svgText(gx + (nc * cell) / 2, gy + gridH + 40, o.xLabel ?? 'alpha', { 'text-anchor': 'middle', 'font-size': 13 }));
  out.push(svgText(16, gy + gridH / 2, o.yLabel ?? 'layer', { 'text-anchor': 'middle', 'font-size': 13, transform: `rotate(-90 16 ${px(gy + gridH / 2)})` }));
  if (notes.length) out.push(svgText(gx, gy + gridH + 62, notes.join('  ·  '), { 'font-size': 12, fill: '#444' }));
  out.push('</g>');
  // colour bar
  const bx = gx + nc * cell + barGap;
  const barH = Math.max(gridH, 80);
  const steps = 32;
  out.push('<g class="colorbar">');
  for (let i = 0; i < steps; i++) {
    const v = domain[1] - ((i + 0.5) / steps) * (domain[1] - domain[0]);
    out.push(`<rect x="${px(bx)}" y="${px(gy + (i * barH) / steps)}" width="${barW}" height="${px(barH / steps + 0.5)}" fill="${divergingColor(toT(v))}"/>`);
  }
  out.push(`<rect x="${px(bx)}" y="${px(gy)}" width="${barW}" height="${px(barH)}" fill="none" stroke="#888"/>`);
  const by = linearScale(domain, [gy + barH, gy]);
  const ticks = niceTicks(domain[0], domain[1], 5).filter((t) => t >= domain[0] - 1e-9 && t <= domain[1] + 1e-9);
  for (const t of ticks) out.push(`<line x1="${px(bx + barW)}" x2="${px(bx + barW + 4)}" y1="${px(by(t))}" y2="${px(by(t))}" stroke="#333"/>` + svgText(bx + barW + 7, by(t) + 4, formatTick(t, ticks), { 'font-size': 11, fill: '#333' }));
  if (o.colorLabel) out.push(svgText(bx + barW + 52, gy + barH / 2, o.colorLabel, { 'text-anchor': 'middle', 'font-size': 12, fill: '#333', transform: `rotate(90 ${px(bx + barW + 52)} ${px(gy + barH / 2)})` }));
  out.push('</g></svg>');
  return out.join('');
}
