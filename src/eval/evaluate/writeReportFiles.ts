import { promises as fs } from 'node:fs';
import path from 'node:path';
import { writePng } from '../plots/svgToPng.js';
import { writeHtmlReport, type HtmlReportSpec } from '../report/htmlReport.js';
import { atomicWrite } from '../../util/atomicWrite.js';
import type { NamedFigure } from './evaluationReport.js';

/**
 * What {@link writeReportFiles} writes.
 *
 * @example const f: ReportFiles = { json: 'r.json', data: result, html: { file: 'r.html', spec: evaluationReport(result) }, pngFigures: evaluationFigures(result) };
 */
export interface ReportFiles {
  /** The JSON result. */
  json: string;
  /** The data written as JSON. */
  data: unknown;
  /** The HTML report's path and content, when one is wanted. */
  html?: { file: string; spec: HtmlReportSpec };
  /** Figures to write as PNG beside the JSON (`R.json` → `R.NAME.png`). */
  pngFigures?: NamedFigure[];
}

const finite = (_k: string, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? null : v);

/**
 * A result as JSON text: indented, non-finite numbers as null, and a top-level `answers` array one
 * answer per line (thousands of answers stay readable and small).
 *
 * @example await fs.writeFile('r.json', resultJson(result));
 */
export function resultJson(data: unknown): string {
  const answers = (data as { answers?: unknown } | null)?.answers;
  if (!Array.isArray(answers)) return JSON.stringify(data, finite, 1) + '\n';
  const placeholder = `@@answers-${Math.random().toString(36).slice(2)}@@`;
  const text = JSON.stringify({ ...(data as object), answers: placeholder }, finite, 1);
  const lines = answers.map((a) => '  ' + JSON.stringify(a, finite)).join(',\n');
  // a function replacement: answers may contain `$&` and the like
  return text.replace(`"${placeholder}"`, () => (answers.length ? `[\n${lines}\n ]` : '[]')) + '\n';
}

/**
 * Writes a result: JSON (atomically, see {@link resultJson}), the HTML report, and PNGs of the
 * figures. Returns the paths written.
 *
 * @example const paths = await writeReportFiles({ json: 'r.json', data: result, html: { file: 'r.html', spec } });
 */
export async function writeReportFiles(f: ReportFiles): Promise<string[]> {
  const written: string[] = [];
  await fs.mkdir(path.dirname(path.resolve(f.json)), { recursive: true });
  await atomicWrite(f.json, resultJson(f.data));
  written.push(f.json);
  if (f.html) {
    await fs.mkdir(path.dirname(path.resolve(f.html.file)), { recursive: true });
    await writeHtmlReport(f.html.file, f.html.spec);
    written.push(f.html.file);
  }
  const base = f.json.replace(/\.json$/i, '');
  for (const fig of f.pngFigures ?? []) {
    const file = `${base}.${fig.name}.png`;
    await writePng(file, fig.svg, { width: 1440 });
    written.push(file);
  }
  return written;
}
