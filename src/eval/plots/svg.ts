/**
 * Shared pieces of the SVG plots: escaping, nice ticks, scales, the palette, the font stack, wrapped
 * text, titles and legends.
 * Plots are plain strings: no DOM, no browser, the same bytes for the same input.
 */
import { textWidth, wrapText } from './textWidth.js';

export { textWidth, wrapText };

/**
 * Fonts tried in order; DejaVu/Liberation are on most Linux systems, the rest elsewhere.
 *
 * @example `<text font-family="${FONT_FAMILY}">`
 */
export const FONT_FAMILY = "'DejaVu Sans', 'Liberation Sans', Arial, Helvetica, sans-serif";

/**
 * Okabe–Ito colours: distinguishable with the common colour-vision deficiencies.
 *
 * @example const color = PALETTE[seriesIndex % PALETTE.length];
 */
export const PALETTE = ['#0072B2', '#D55E00', '#009E73', '#CC79A7', '#E69F00', '#56B4E9', '#7F6A00', '#000000'];

/**
 * Escapes text for SVG/HTML content and attribute values.
 *
 * @example escapeXml('a < b & "c"'); // 'a &lt; b &amp; &quot;c&quot;'
 */
export function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string);
}

/**
 * A coordinate rounded to 0.01 px, so SVG text stays short and stable.
 *
 * @example px(12.34567); // '12.35'
 */
export function px(v: number): string {
  return String(Math.round(v * 100) / 100);
}

/**
 * Round tick values covering [min, max] with steps of 1, 2 or 5 × 10^k, about `count` of them.
 *
 * @example niceTicks(-0.93, 0.48); // [-1, -0.5, 0, 0.5]
 */
export function niceTicks(min: number, max: number, count = 5): number[] {
  if (!Number.isFinite(min) || !Number.isFinite(max)) return [0, 1];
  if (min === max) {
    const d = min === 0 ? 1 : Math.abs(min) * 0.1;
    min -= d;
    max += d;
  }
  if (min > max) [min, max] = [max, min];
  const raw = (max - min) / Math.max(1, count);
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag;
  const start = Math.floor(min / step + 1e-9);
  const end = Math.ceil(max / step - 1e-9);
  const ticks: number[] = [];
  for (let i = start; i <= end; i++) ticks.push(Number((i * step).toPrecision(12)));
  return ticks;
}

/**
 * Formats a tick with just the decimals its step needs.
 *
 * @example formatTick(0.5, [0, 0.5, 1]); // '0.5'
 */
export function formatTick(v: number, ticks: readonly number[]): string {
  const step = ticks.length > 1 ? Number(Math.abs(ticks[1] - ticks[0]).toPrecision(12)) : 1;
  const decimals = Math.min(6, Math.max((String(step).split('.')[1] ?? '').length, step > 0 ? -Math.floor(Math.log10(step)) : 0));
  const s = Number(v.toFixed(decimals)) === 0 ? (0).toFixed(decimals) : v.toFixed(decimals);
  return s.replace('-', '\u2212');
}

/**
 * Maps a domain linearly onto a pixel range.
 *
 * @example linearScale([0, 1], [300, 50])(0.5); // 175
 */
export function linearScale(domain: readonly [number, number], range: readonly [number, number]): (v: number) => number {
  const [d0, d1] = domain;
  const [r0, r1] = range;
  const k = d1 === d0 ? 0 : (r1 - r0) / (d1 - d0);
  return (v) => r0 + (v - d0) * k;
}

/**
 * An SVG `<text>` element with escaped content.
 *
 * @example svgText(10, 20, 'a < b', { 'text-anchor': 'middle' });
 */
export function svgText(x: number, y: number, text: string, attrs: Record<string, string | number> = {}): string {
  const a = Object.entries(attrs)
    .map(([k, v]) => ` ${k}="${escapeXml(String(v))}"`)
    .join('');
  return `<text x="${px(x)}" y="${px(y)}"${a}>${escapeXml(text)}</text>`;
}

/**
 * Text wrapped to `maxWidth` as one `<text>` per line, the first baseline at `y`; returns the SVG and
 * the block's height (lines × `lineHeight`, default 1.3 × the font size).
 *
 * @example const { svg, height } = textBlock(360, 28, title, { size: 17, bold: true, maxWidth: 700, anchor: 'middle' });
 */
export function textBlock(
  x: number,
  y: number,
  text: string,
  o: { size: number; maxWidth: number; bold?: boolean; anchor?: 'start' | 'middle' | 'end'; lineHeight?: number; attrs?: Record<string, string | number> },
): { svg: string; height: number; lines: string[] } {
  const lines = wrapText(text, o.size, o.maxWidth, o.bold);
  const lh = o.lineHeight ?? Math.round(o.size * 1.3);
  const attrs = { 'text-anchor': o.anchor ?? 'start', 'font-size': o.size, ...(o.bold ? { 'font-weight': 'bold' } : {}), ...o.attrs };
  return { svg: lines.map((l, i) => svgText(x, y + i * lh, l, attrs)).join(''), height: lines.length * lh, lines };
}

/**
 * A plot's title, bold 17 px, centred and wrapped to the plot's width less 12 px margins; `bottom` is
 * where the plot below it may start.
 *
 * @example const t = plotTitle(720, 'formal: dose–response at layer 3'); out.push(t.svg); const top = t.bottom + 20;
 */
export function plotTitle(width: number, title: string): { svg: string; bottom: number } {
  const b = textBlock(width / 2, 28, title, {
    size: 17,
    bold: true,
    maxWidth: width - 24,
    anchor: 'middle',
    lineHeight: 21,
    attrs: { fill: '#111', class: 'title' },
  });
  return { svg: b.svg, bottom: 28 + b.height - 21 + 6 };
}

/**
 * FNV-1a hash in base 36: stable ids for clip paths and patterns, unique per plot content.
 *
 * @example stableId('clip', JSON.stringify(options)); // 'clip-1x9k2a'
 */
export function stableId(prefix: string, content: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < content.length; i++) {
    h ^= content.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return `${prefix}-${h.toString(36)}`;
}

/**
 * Opening `<svg>` with size, viewBox, accessible title and a white background.
 *
 * @example svgOpen(720, 440, 'dose–response', 'line') + '…</svg>';
 */
export function svgOpen(width: number, height: number, title: string, kind: string): string {
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" data-plot="${escapeXml(kind)}" font-family="${escapeXml(FONT_FAMILY)}">` +
    `<title>${escapeXml(title)}</title><rect width="${width}" height="${height}" fill="#ffffff"/>`
  );
}

/**
 * Domain [min, max] of finite values, or `fallback` when there are none.
 *
 * @example extent([3, null, -1, NaN]); // [-1, 3]
 */
export function extent(values: Iterable<number | null | undefined>, fallback: [number, number] = [0, 1]): [number, number] {
  let lo = Infinity,
    hi = -Infinity;
  for (const v of values) {
    if (v === null || v === undefined || !Number.isFinite(v)) continue;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  return lo <= hi ? [lo, hi] : fallback;
}

/**
 * A rotated axis label beside a plot, wrapped to `lines` (see {@link wrapText}): on the left it reads
 * bottom to top with its last line at `x`, on the right top to bottom with its last line at `x`;
 * earlier lines sit 15 px further out.
 *
 * @example const lines = wrapText('formality', 13, plotH); out.push(axisLabel(lines, 18 + 15 * (lines.length - 1), top + plotH / 2, 'left'));
 */
export function axisLabel(lines: string[], x: number, cy: number, side: 'left' | 'right'): string {
  const n = lines.length;
  return lines
    .map((line, i) => {
      const lx = side === 'left' ? x - 15 * (n - 1 - i) : x + 15 * (n - 1 - i);
      return svgText(lx, cy, line, { 'text-anchor': 'middle', 'font-size': 13, transform: `rotate(${side === 'left' ? -90 : 90} ${px(lx)} ${px(cy)})` });
    })
    .join('');
}

/** One legend entry: a line (series), a box (bars, colours), a box filled with a pattern, or an outline. */
export interface LegendEntry {
  name: string;
  color: string;
  dashed?: boolean;
  swatch: 'line' | 'box' | 'outline';
  /** Id of a `<pattern>` drawn over a box swatch (e.g. hatching). */
  pattern?: string;
}

/**
 * A legend laid out in rows that wrap at `maxWidth`; an entry wider than a row has its text wrapped.
 * Returns the SVG and its height.
 *
 * @example const { svg, height } = legend([{ name: 'formality', color: PALETTE[0], swatch: 'line' }], 72, 400, 600);
 */
export function legend(entries: LegendEntry[], x: number, y: number, maxWidth: number): { svg: string; height: number } {
  const size = 12,
    rowH = 18,
    lineH = 15;
  let cx = x,
    cy = y,
    rowLines = 1;
  const parts: string[] = [];
  for (const e of entries) {
    const lines = wrapText(e.name, size, Math.max(40, maxWidth - 22));
    const w = 22 + Math.max(...lines.map((l) => textWidth(l, size))) + 18;
    if (cx > x && cx + w - 18 > x + maxWidth) {
      cx = x;
      cy += rowH + (rowLines - 1) * lineH;
      rowLines = 1;
    }
    const sw =
      e.swatch === 'line'
        ? `<line x1="${px(cx)}" y1="${px(cy)}" x2="${px(cx + 16)}" y2="${px(cy)}" stroke="${e.color}" stroke-width="2.5"${e.dashed ? ' stroke-dasharray="5 3"' : ''}/><circle cx="${px(cx + 8)}" cy="${px(cy)}" r="3" fill="${e.color}"/>`
        : e.swatch === 'outline'
          ? `<rect x="${px(cx + 1.5)}" y="${px(cy - 6.5)}" width="13" height="13" fill="#ffffff" stroke="${e.color}" stroke-width="3"/>`
          : `<rect x="${px(cx + 1)}" y="${px(cy - 7)}" width="14" height="14" fill="${e.color}"${e.pattern ? '' : ' stroke="#999" stroke-width="0.5"'}/>` +
            (e.pattern ? `<rect x="${px(cx + 1)}" y="${px(cy - 7)}" width="14" height="14" fill="url(#${e.pattern})" stroke="#999" stroke-width="0.5"/>` : '');
    const text = lines.map((l, i) => svgText(cx + 22, cy + 4 + i * lineH, l, { 'font-size': size, fill: '#222' })).join('');
    parts.push(`<g class="legend-entry">${sw}${text}</g>`);
    rowLines = Math.max(rowLines, lines.length);
    cx += w;
  }
  return { svg: `<g class="legend">${parts.join('')}</g>`, height: cy - y + rowH + (rowLines - 1) * lineH };
}
