/**
 * A self-contained HTML report: inline CSS and inline SVG figures, no script, no external URL, so it
 * opens offline from a file and can be mailed as one attachment.
 */
import { InvalidArgumentError } from '../../errors.js';
import { atomicWrite } from '../../util/atomicWrite.js';
import { TOOL_VERSION } from '../../version.js';
import { escapeXml } from '../plots/svg.js';

/** A table or summary cell: text, a number, missing (`null`), or a mean with its interval. */
export type ReportCell = string | number | null | { mean: number | null; lo?: number | null; hi?: number | null };

/** An inline SVG figure with an optional caption. */
export interface ReportFigure {
  kind: 'figure';
  title?: string;
  svg: string;
  caption?: string;
}

/** A table: header and rows; numbers are formatted with `digits` decimals (default 3). */
export interface ReportTable {
  kind: 'table';
  title?: string;
  caption?: string;
  header: string[];
  rows: ReportCell[][];
  digits?: number;
}

/** One example answer, with its scores. */
export interface ReportExample {
  question: string;
  answer: string;
  scores?: Record<string, number | null>;
  note?: string;
}

/** Example answers grouped (e.g. per alpha), each group a collapsible `<details>`. */
export interface ReportExamples {
  kind: 'examples';
  title?: string;
  groups: Array<{ label: string; items: ReportExample[]; open?: boolean }>;
}

/** Free text, one paragraph per string. */
export interface ReportText {
  kind: 'text';
  title?: string;
  paragraphs: string[];
}

/**
 * One block of a report, rendered in order.
 *
 * @example const s: ReportSection = { kind: 'text', title: 'Notes', paragraphs: ['Seeded; rerun to reproduce.'] };
 */
export type ReportSection = ReportFigure | ReportTable | ReportExamples | ReportText;

/** Everything a report holds. */
export interface HtmlReportSpec {
  title: string;
  subtitle?: string;
  /** Key/value pairs shown first (model, persona, layer, seed, …). */
  summary?: Array<[string, ReportCell]> | Record<string, ReportCell>;
  sections: ReportSection[];
  /** Shown in the footer, e.g. an ISO timestamp (kept out by default so reports are reproducible). */
  generatedAt?: string;
}

/**
 * Formats a number for a table: integers as they are, others with `digits` decimals (tiny values in
 * two significant digits), `null`/NaN as "–".
 *
 * @example formatNumber(0.53419); // '0.534'
 * @example formatNumber(null); // '–'
 */
export function formatNumber(x: number | null | undefined, digits = 3): string {
  if (x === null || x === undefined || Number.isNaN(x)) return '–';
  if (!Number.isFinite(x)) return x > 0 ? '∞' : '-∞';
  if (Number.isInteger(x)) return String(x);
  if (x !== 0 && Math.abs(x) < 10 ** -digits) return x.toPrecision(2);
  return x.toFixed(digits);
}

/**
 * Formats a cell as plain text: a mean with its interval reads `0.534 [0.412, 0.655]`.
 *
 * @example formatCell({ mean: 0.5, lo: 0.4, hi: 0.6 }, 2); // '0.50 [0.40, 0.60]'
 */
export function formatCell(cell: ReportCell, digits = 3): string {
  if (cell === null || typeof cell === 'number') return formatNumber(cell, digits);
  if (typeof cell === 'string') return cell;
  const m = cell.mean === null || !Number.isFinite(cell.mean) ? formatNumber(cell.mean, digits) : cell.mean.toFixed(digits);
  const ci = cell.lo != null && cell.hi != null && Number.isFinite(cell.lo) && Number.isFinite(cell.hi);
  return ci ? `${m} [${(cell.lo as number).toFixed(digits)}, ${(cell.hi as number).toFixed(digits)}]` : m;
}

/**
 * Checks that an SVG is safe and self-contained to inline: one `<svg>` element, no script, no event
 * handlers, no foreign content, no reference outside the document. Returns it without an XML
 * declaration.
 *
 * @example inlineSvg(lineChart(spec));
 */
export function inlineSvg(svg: string): string {
  const s = svg.replace(/^\s*<\?xml[^>]*\?>\s*/, '').trim();
  const problems: string[] = [];
  if (!/^<svg[\s>]/.test(s) || !s.endsWith('</svg>')) problems.push('it is not a single <svg> element');
  if (/<script/i.test(s)) problems.push('it contains a script');
  if (/<foreignObject/i.test(s)) problems.push('it contains foreignObject');
  if (/<!DOCTYPE|<!ENTITY/i.test(s)) problems.push('it declares a DOCTYPE or entities');
  if (/\son[a-z]+\s*=/i.test(s)) problems.push('it has an event handler attribute');
  if (/\shref\s*=\s*["'](?!#)/i.test(s)) problems.push('it links outside the document');
  if (/url\(\s*["']?(?!#)/i.test(s)) problems.push('it references an external url()');
  if (/@import/i.test(s)) problems.push('it imports a stylesheet');
  if (problems.length) throw new InvalidArgumentError(`report figure rejected: ${problems.join('; ')}`);
  return s;
}

// Everything wraps inside its card at any window width: long words break, interval cells put the
// interval on a line under the mean, and a table too wide all the same scrolls inside its card
// (.table-scroll) instead of widening the page.
const CSS = `
:root { color-scheme: light; }
* { box-sizing: border-box; }
body { margin: 0; background: #f4f5f7; color: #1d1f23; font: 15px/1.5 system-ui, -apple-system, 'Segoe UI', 'DejaVu Sans', 'Liberation Sans', Arial, sans-serif; }
main { max-width: 1080px; margin: 0 auto; padding: 28px 24px 48px; }
h1, h2, p, summary, caption, figcaption, td, th { overflow-wrap: anywhere; }
header h1 { margin: 0 0 4px; font-size: 26px; }
header p.subtitle { margin: 0 0 18px; color: #555; }
section { background: #fff; border: 1px solid #dde0e5; border-radius: 8px; padding: 18px 22px; margin: 18px 0; min-width: 0; }
section h2 { margin: 0 0 12px; font-size: 19px; }
.table-scroll { max-width: 100%; overflow-x: auto; }
table { border-collapse: collapse; font-variant-numeric: tabular-nums; margin: 4px 0; }
th, td { padding: 5px 12px; border-bottom: 1px solid #e6e8eb; text-align: left; vertical-align: top; }
th { background: #f0f2f5; font-weight: 600; }
td.num, th.num { text-align: right; }
td.num { overflow-wrap: normal; }
td.num span { white-space: nowrap; }
td.num .ci { display: block; color: #555; font-size: 12.5px; }
tbody tr:nth-child(even) td { background: #fafbfc; }
table.summary th { background: none; width: 14em; color: #444; }
caption, figcaption { caption-side: bottom; color: #555; font-size: 13.5px; padding-top: 6px; text-align: left; }
figure.plot { margin: 0; }
figure.plot svg { display: block; max-width: 100%; height: auto; border: 1px solid #eceef1; background: #fff; }
details { border: 1px solid #e1e4e8; border-radius: 6px; margin: 8px 0; background: #fcfcfd; }
details > summary { cursor: pointer; padding: 8px 12px; font-weight: 600; }
details[open] > summary { border-bottom: 1px solid #e1e4e8; }
.example { padding: 10px 14px; border-bottom: 1px dashed #e1e4e8; }
.example:last-child { border-bottom: none; }
.example .q { color: #555; font-size: 13.5px; overflow-wrap: anywhere; }
.example .a { white-space: pre-wrap; overflow-wrap: anywhere; margin: 4px 0; font-family: ui-monospace, 'DejaVu Sans Mono', Menlo, Consolas, monospace; font-size: 13.5px; background: #f6f8fa; padding: 8px 10px; border-radius: 4px; }
.example .scores { font-size: 12.5px; color: #333; }
.example .scores span { margin-right: 14px; }
footer { color: #777; font-size: 12.5px; text-align: center; margin-top: 24px; }
@media print { body { background: #fff; } section { break-inside: avoid; border: none; } .table-scroll { overflow: visible; } }
`;

const isNumeric = (c: ReportCell) => c === null || typeof c === 'number' || (typeof c === 'object' && c !== null);

/** A cell's HTML: a mean with an interval as two spans, the interval shown under the mean. */
function cellHtml(c: ReportCell, digits: number): string {
  const text = formatCell(c, digits);
  const i = c !== null && typeof c === 'object' ? text.indexOf(' [') : -1;
  return i < 0 ? escapeXml(text) : `<span class="mean">${escapeXml(text.slice(0, i))}</span> <span class="ci">${escapeXml(text.slice(i + 1))}</span>`;
}

/** A header's HTML, with break opportunities after ':' '/' '_' so names like projection:formal can wrap. */
const headerHtml = (h: string) => escapeXml(h).replace(/([:/_])/g, '$1<wbr>');

function renderTable(t: ReportTable): string {
  const digits = t.digits ?? 3;
  for (const [i, r] of t.rows.entries())
    if (r.length !== t.header.length)
      throw new InvalidArgumentError(`report table "${t.title ?? ''}": row ${i} has ${r.length} cells for ${t.header.length} columns`);
  const numericCol = t.header.map((_, j) => t.rows.length > 0 && t.rows.every((r) => isNumeric(r[j])));
  const head = `<thead><tr>${t.header.map((h, j) => `<th scope="col"${numericCol[j] ? ' class="num"' : ''}>${headerHtml(h)}</th>`).join('')}</tr></thead>`;
  const body = t.rows.map((r) => `<tr>${r.map((c) => `<td${isNumeric(c) ? ' class="num"' : ''}>${cellHtml(c, digits)}</td>`).join('')}</tr>`).join('\n');
  const caption = t.caption ? `<caption>${escapeXml(t.caption)}</caption>` : '';
  return `<div class="table-scroll"><table>${caption}${head}<tbody>\n${body}\n</tbody></table></div>`;
}

function renderExamples(e: ReportExamples): string {
  return e.groups
    .map((g) => {
      const items = g.items
        .map((it) => {
          const scores = it.scores
            ? `<div class="scores">${Object.entries(it.scores)
                .map(([k, v]) => `<span>${escapeXml(k)}: <b>${escapeXml(formatNumber(v, 2))}</b></span>`)
                .join('')}</div>`
            : '';
          const note = it.note ? `<div class="q">${escapeXml(it.note)}</div>` : '';
          return `<div class="example"><div class="q">Q: ${escapeXml(it.question)}</div><div class="a">${escapeXml(it.answer)}</div>${scores}${note}</div>`;
        })
        .join('\n');
      const count = `${g.items.length} answer${g.items.length === 1 ? '' : 's'}`;
      return `<details${g.open ? ' open' : ''}><summary>${escapeXml(g.label)} <span style="font-weight:normal;color:#666">(${count})</span></summary>\n${items}\n</details>`;
    })
    .join('\n');
}

function renderSection(s: ReportSection, index: number): string {
  const h = s.title ? `<h2>${escapeXml(s.title)}</h2>\n` : '';
  switch (s.kind) {
    case 'figure':
      return `<section class="figure">${h}<figure class="plot" id="figure-${index}">\n${inlineSvg(s.svg)}\n${s.caption ? `<figcaption>${escapeXml(s.caption)}</figcaption>` : ''}</figure></section>`;
    case 'table':
      return `<section class="table">${h}${renderTable(s)}</section>`;
    case 'examples':
      return `<section class="examples">${h}${renderExamples(s)}</section>`;
    case 'text':
      return `<section class="text">${h}${s.paragraphs.map((p) => `<p>${escapeXml(p)}</p>`).join('\n')}</section>`;
    default:
      throw new InvalidArgumentError(`unknown report section kind ${JSON.stringify((s as { kind?: unknown }).kind)}`);
  }
}

/**
 * Builds the report as one HTML string: title, summary table, then the sections in order.
 *
 * @example
 * const html = renderHtmlReport({
 *   title: 'formal persona on the stylist',
 *   summary: { model: 'stylist', layer: 3, questions: 32 },
 *   sections: [
 *     { kind: 'figure', title: 'Dose–response', svg: lineChart(spec), caption: 'Mean ± 95% CI per alpha.' },
 *     { kind: 'table', header: ['alpha', 'formality'], rows: [[-4, { mean: -0.6, lo: -0.7, hi: -0.5 }]] },
 *     { kind: 'examples', title: 'Answers', groups: [{ label: 'alpha = -4', items: [{ question: 'Invite Sam.', answer: 'hey sam!!' }] }] },
 *   ],
 * });
 */
export function renderHtmlReport(spec: HtmlReportSpec): string {
  const summaryRows = spec.summary ? (Array.isArray(spec.summary) ? spec.summary : Object.entries(spec.summary)) : [];
  const summary = summaryRows.length
    ? `<section class="summary"><h2>Summary</h2><table class="summary"><tbody>\n${summaryRows.map(([k, v]) => `<tr><th scope="row">${escapeXml(k)}</th><td>${escapeXml(formatCell(v))}</td></tr>`).join('\n')}\n</tbody></table></section>`
    : '';
  const footer = `persona-vectors ${TOOL_VERSION}${spec.generatedAt ? ` · ${escapeXml(spec.generatedAt)}` : ''}`;
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeXml(spec.title)}</title>
<style>${CSS}</style>
</head>
<body>
<main>
<header><h1>${escapeXml(spec.title)}</h1>${spec.subtitle ? `<p class="subtitle">${escapeXml(spec.subtitle)}</p>` : ''}</header>
${summary}
${spec.sections.map(renderSection).join('\n')}
<footer>${footer}</footer>
</main>
</body>
</html>
`;
}

/**
 * Writes the report to `file` atomically.
 *
 * @example await writeHtmlReport('results/formal.html', { title: 'formal persona', sections: [] });
 */
export async function writeHtmlReport(file: string, spec: HtmlReportSpec): Promise<void> {
  await atomicWrite(file, renderHtmlReport(spec));
}
