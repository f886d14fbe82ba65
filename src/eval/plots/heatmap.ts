import { InvalidArgumentError } from '../../errors.js';
import {
  extent,
  formatTick,
  legend,
  type LegendEntry,
  linearScale,
  niceTicks,
  plotTitle,
  px,
  stableId,
  svgOpen,
  svgText,
  textBlock,
  textWidth,
} from './svg.js';

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
  /**
   * What high and low values mean, each stated in the legend beside its colour. The `good` end
   * (default: high) is drawn blue and the other red, so blue reads "good" on every map.
   */
  meaning?: { high: string; low: string; good?: 'high' | 'low' };
  /** Decimals in the cell labels (default 2). */
  digits?: number;
  /** Width in px (default: what the grid needs); too narrow for the cell values is an error. */
  width?: number;
}

// ColorBrewer RdBu, 5 classes: from blue (t = −1) through near-white to red (t = +1).
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

/** The two colours the legend names: the ends of the scale. */
export const GOOD_COLOR = divergingColor(-1);
export const BAD_COLOR = divergingColor(1);
const MISSING_COLOR = '#d9d9d9';

/**
 * Relative luminance-like brightness of a `#rrggbb` colour in [0, 1] (0 black, 1 white): cells darker
 * than 0.45 get white labels and white hatching.
 *
 * @example brightness('#b2182b') < 0.45; // true: a dark cell
 */
export function brightness(hex: string): number {
  const [r, g, b] = [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16) / 255);
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}

const M = 12; // outer margin
const clamp = (v: number, lo: number, hi: number) => Math.max(lo, Math.min(hi, v));

/**
 * A layer × alpha heat map as an SVG string: a diverging colour scale centred on `center` (the good end
 * blue, the other red, see `meaning`), the value printed in each cell, a horizontal colour bar with its
 * label, hatched cells (e.g. incoherent; dark or light lines by the cell's brightness, so hatching
 * shows on every colour), an outlined cell (the recommendation) and a legend. Every text is measured
 * and wrapped so it stays inside the SVG at any grid size.
 *
 * @example
 * const svg = heatmap({
 *   title: 'formality change by layer and alpha', rows: [0, 1, 2], cols: [-4, 4],
 *   values: [[-0.1, 0.1], [-0.6, 0.5], [-0.3, 0.2]], yLabel: 'layer', xLabel: 'alpha',
 *   colorLabel: 'Δ formality', meaning: { high: 'more formal', low: 'less formal' },
 *   highlight: { row: 1, col: 1, label: 'recommended' },
 * });
 */
export function heatmap(o: HeatmapOptions): string {
  const nr = o.rows.length,
    nc = o.cols.length;
  if (nr === 0 || nc === 0) throw new InvalidArgumentError('heatmap needs at least one row and one column');
  if (o.values.length !== nr || o.values.some((r) => r.length !== nc)) throw new InvalidArgumentError(`heatmap values must be ${nr} rows × ${nc} columns`);
  if (o.dimmed && (o.dimmed.length !== nr || o.dimmed.some((r) => r.length !== nc)))
    throw new InvalidArgumentError(`heatmap dimmed must be ${nr} rows × ${nc} columns, like values`);
  if (o.highlight && !(o.highlight.row >= 0 && o.highlight.row < nr && o.highlight.col >= 0 && o.highlight.col < nc))
    throw new InvalidArgumentError('heatmap highlight is outside the grid');
  const center = o.center ?? 0;
  const digits = o.digits ?? 2;
  const [vmin, vmax] = extent(o.values.flat(), [center - 1, center + 1]);
  const half = Math.max(Math.abs(vmin - center), Math.abs(vmax - center)) || 1;
  const domain = o.domain ?? [center - half, center + half];
  const toT = (v: number) => (v >= center ? (v - center) / (domain[1] - center || 1) : -(center - v) / (center - domain[0] || 1));
  const highIsGood = (o.meaning?.good ?? 'high') === 'high';
  const colorOf = (v: number) => divergingColor(highIsGood ? -toT(v) : toT(v));
  const isMissing = (v: number | null): v is null => v === null || !Number.isFinite(v);

  // Sizes from the text they must hold.
  const labels = o.values.map((row) => row.map((v) => (isMissing(v) ? '–' : v.toFixed(digits).replace('-', '\u2212'))));
  const label13 = Math.max(...labels.flat().map((l) => textWidth(l, 13)));
  const minCell = Math.max(20, (label13 * 9) / 13 + 6);
  const prefCell = clamp(label13 + 16, 56, 90);
  const rowLabels = o.rows.map(String);
  const colLabels = o.cols.map((c) => String(c).replace(/^-/, '\u2212'));
  const rowLabelW = Math.max(...rowLabels.map((r) => textWidth(r, 12)));
  const yLabel = o.yLabel ?? 'layer';
  const yLabelW = textWidth(yLabel, 13);
  const yRotated = nr * 44 >= yLabelW + 8; // rotated beside the rows when the grid is tall enough, else above them
  const leftNeed = yRotated ? 24 + rowLabelW + 8 : Math.max(rowLabelW, yLabelW) + 8;
  const W = o.width ?? Math.max(460, Math.ceil(2 * M + leftNeed + nc * prefCell));
  const avail = W - 2 * M - leftNeed;
  const cell = Math.min(90, avail / nc);
  if (cell < minCell)
    throw new InvalidArgumentError(
      `heatmap width ${W} leaves ${Math.floor(cell)} px per column, and ${nc} columns of values like "${labels.flat().reduce((a, b) => (b.length > a.length ? b : a))}" need ${Math.ceil(minCell)} px each: give a width of at least ${Math.ceil(2 * M + leftNeed + nc * minCell)} or fewer digits`,
    );
  const fontSize = clamp(((cell - 6) * 13) / label13, 9, 13);
  const cellH = clamp(cell * 0.6, Math.max(24, fontSize + 10, yRotated ? (yLabelW + 8) / nr : 0), 44);
  const gridW = nc * cell,
    gridH = nr * cellH;
  const gx = M + leftNeed + (avail - gridW) / 2;

  const title = plotTitle(W, o.title);
  const gy = title.bottom + (yRotated ? 16 : 34);
  const colW = Math.max(...colLabels.map((c) => textWidth(c, 12)));
  const rotateCols = colW > cell - 4;
  const colLabelH = rotateCols ? colW + 12 : 20; // too wide for their column: vertical, hanging from the grid

  const dark = stableId('hatch', JSON.stringify(o));
  const light = `${dark}-light`;
  const hatch = (id: string, stroke: string, opacity: number) =>
    `<pattern id="${id}" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><line x1="0" y1="0" x2="0" y2="6" stroke="${stroke}" stroke-width="1.8" stroke-opacity="${opacity}"/></pattern>`;
  const out: string[] = [svgOpen(W, 0, o.title, 'heatmap')];
  const key = `key-${dark}`; // the legend's swatch: the dark hatching, under its own id
  out.push(`<defs>${hatch(dark, '#222222', 0.6)}${hatch(light, '#ffffff', 0.8)}${hatch(key, '#222222', 0.6)}</defs>`);
  out.push(title.svg);

  out.push('<g data-role="plot-area">');
  for (let r = 0; r < nr; r++) {
    for (let c = 0; c < nc; c++) {
      const v = o.values[r][c];
      const x = gx + c * cell,
        y = gy + r * cellH;
      const fill = isMissing(v) ? MISSING_COLOR : colorOf(v);
      const isDark = brightness(fill) < 0.45;
      out.push(`<rect x="${px(x)}" y="${px(y)}" width="${px(cell)}" height="${px(cellH)}" fill="${fill}" stroke="#ffffff" stroke-width="1"/>`);
      const hatched = o.dimmed?.[r]?.[c] ?? false;
      if (hatched)
        out.push(`<rect class="hatched" x="${px(x)}" y="${px(y)}" width="${px(cell)}" height="${px(cellH)}" fill="url(#${isDark ? light : dark})"/>`);
      // On hatched cells a halo of the cell's own colour (stroke painted under the glyphs) keeps the value readable.
      const halo: Record<string, string | number> = hatched ? { stroke: fill, 'stroke-width': 4, 'stroke-linejoin': 'round', 'paint-order': 'stroke' } : {};
      out.push(
        svgText(x + cell / 2, y + cellH / 2 + fontSize * 0.36, labels[r][c], {
          'text-anchor': 'middle',
          'font-size': px(fontSize),
          fill: isDark ? '#ffffff' : '#111111',
          ...halo,
          class: 'cell',
        }),
      );
    }
  }
  if (o.highlight) {
    const { row, col } = o.highlight;
    out.push(
      `<rect class="highlight" x="${px(gx + col * cell + 1.5)}" y="${px(gy + row * cellH + 1.5)}" width="${px(cell - 3)}" height="${px(cellH - 3)}" fill="none" stroke="#000000" stroke-width="3"/>`,
    );
  }
  out.push('</g>');

  // Axes: row labels, column labels, axis labels.
  out.push('<g class="axes" font-size="12" fill="#333">');
  rowLabels.forEach((r, i) => out.push(svgText(gx - 8, gy + i * cellH + cellH / 2 + 4, r, { 'text-anchor': 'end' })));
  const colY = gy + gridH + 16;
  colLabels.forEach((c, i) => {
    const cx = gx + i * cell + cell / 2;
    const top = gy + gridH + 6;
    out.push(
      rotateCols
        ? svgText(cx + 4, top, c, { 'text-anchor': 'end', transform: `rotate(-90 ${px(cx + 4)} ${px(top)})` })
        : svgText(cx, colY, c, { 'text-anchor': 'middle' }),
    );
  });
  let y = gy + gridH + colLabelH + 14;
  const xl = centredBlock(o.xLabel ?? 'alpha', gx + gridW / 2, y, 13, W);
  out.push(xl.svg);
  y += xl.height;
  if (yRotated)
    out.push(
      svgText(M + 8, gy + gridH / 2, yLabel, {
        'text-anchor': 'middle',
        'font-size': 13,
        transform: `rotate(-90 ${px(M + 8)} ${px(gy + gridH / 2)})`,
        dy: '0.35em',
      }),
    );
  else out.push(svgText(gx - 8, gy - 10, yLabel, { 'text-anchor': 'end', 'font-size': 13 }));
  out.push('</g>');

  // Colour bar: horizontal, under the grid, ticks below it and its label under them.
  const barLen = clamp(gridW, 200, Math.min(360, W - 2 * M - 40));
  const bx = clamp(gx + gridW / 2 - barLen / 2, M + 20, W - M - 20 - barLen);
  const barY = y + 4,
    barH = 12,
    steps = 48;
  out.push('<g class="colorbar">');
  for (let i = 0; i < steps; i++) {
    const v = domain[0] + ((i + 0.5) / steps) * (domain[1] - domain[0]);
    out.push(`<rect x="${px(bx + (i * barLen) / steps)}" y="${px(barY)}" width="${px(barLen / steps + 0.5)}" height="${barH}" fill="${colorOf(v)}"/>`);
  }
  out.push(`<rect x="${px(bx)}" y="${px(barY)}" width="${px(barLen)}" height="${barH}" fill="none" stroke="#888"/>`);
  const bxs = linearScale(domain, [bx, bx + barLen]);
  let ticks = niceTicks(domain[0], domain[1], Math.max(4, Math.floor(barLen / 50))).filter((t) => t >= domain[0] - 1e-9 && t <= domain[1] + 1e-9);
  const tickW = Math.max(...ticks.map((t) => textWidth(formatTick(t, ticks), 11)));
  const all = ticks;
  if (ticks.length > 1 && bxs(ticks[1]) - bxs(ticks[0]) < tickW + 8) ticks = ticks.filter((_, i) => i % 2 === 0);
  const tickY = barY + barH;
  for (const t of ticks)
    out.push(
      `<line x1="${px(bxs(t))}" x2="${px(bxs(t))}" y1="${px(tickY)}" y2="${px(tickY + 4)}" stroke="#333"/>` +
        svgText(bxs(t), tickY + 16, formatTick(t, all), { 'text-anchor': 'middle', 'font-size': 11, fill: '#333' }),
    );
  y = tickY + 20;
  if (o.colorLabel) {
    const cl = centredBlock(o.colorLabel, bx + barLen / 2, y + 14, 12, W);
    out.push(cl.svg);
    y += 14 + cl.height - 12;
  }
  out.push('</g>');

  // Legend: what the colours, the hatching and the outline mean.
  const entries: LegendEntry[] = [];
  if (o.meaning) {
    const hi: LegendEntry = { name: o.meaning.high, color: highIsGood ? GOOD_COLOR : BAD_COLOR, swatch: 'box' };
    const lo: LegendEntry = { name: o.meaning.low, color: highIsGood ? BAD_COLOR : GOOD_COLOR, swatch: 'box' };
    entries.push(...(highIsGood ? [hi, lo] : [lo, hi]));
  }
  if (o.values.some((row) => row.some(isMissing))) entries.push({ name: 'not measured', color: MISSING_COLOR, swatch: 'box' });
  if (o.dimmed) entries.push({ name: 'hatched: ' + (o.dimmedLabel ?? 'dimmed'), color: '#f7f7f7', swatch: 'box', pattern: key });
  if (o.highlight) entries.push({ name: 'outlined: ' + (o.highlight.label ?? 'highlighted cell'), color: '#000000', swatch: 'outline' });
  if (entries.length) {
    // Under the grid, or from the left margin when an entry would not fit on one line there.
    const lx0 = Math.max(M, Math.min(bx, gx - 8));
    const widest = Math.max(...entries.map((e) => 22 + textWidth(e.name, 12)));
    const lx = widest > W - M - lx0 ? M : lx0;
    const lg = legend(entries, lx, y + 22, W - M - lx);
    out.push(lg.svg);
    y += 22 + lg.height - 8;
  }
  const H = Math.ceil(y + 14);
  out[0] = svgOpen(W, H, o.title, 'heatmap');
  out.push('</svg>');
  return out.join('');
}

/** A text block centred on `cx`, moved (and wrapped) so it stays inside the plot's margins. */
function centredBlock(text: string, cx: number, y: number, size: number, W: number): { svg: string; height: number } {
  const maxWidth = W - 2 * M;
  const w = Math.min(maxWidth, textWidth(text, size));
  const x = clamp(cx, M + w / 2, W - M - w / 2);
  return textBlock(x, y, text, { size, maxWidth, anchor: 'middle' });
}
