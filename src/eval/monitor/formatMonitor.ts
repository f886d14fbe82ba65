import { barChart, type BarChartOptions } from '../plots/barChart.js';
import { MONITOR_UNIT, type MonitorRow } from './monitorProjections.js';

/** A monitored input with its label (e.g. `line 3` or its id) and readings. */
export interface LabelledMonitorRow extends MonitorRow {
  label: string;
  line?: number;
  id?: string;
  prompt: string;
}

const csvCell = (v: string | number | undefined): string => {
  if (v === undefined) return '';
  const s = String(v);
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
};

/**
 * Monitor rows as CSV, one line per (input, persona): `label,line,id,persona,layer,prompt_last,response_mean,prompt_tokens,response_tokens,prompt`.
 *
 * @example await fs.writeFile('monitor.csv', monitorCsv(rows));
 */
export function monitorCsv(rows: LabelledMonitorRow[]): string {
  const head = 'label,line,id,persona,layer,prompt_last,response_mean,prompt_tokens,response_tokens,prompt';
  const lines = rows.flatMap((r) =>
    r.projections.map((p) =>
      [r.label, r.line, r.id, p.persona, p.layer, p.promptLast, p.responseMean, r.promptTokens, r.responseTokens, r.prompt].map(csvCell).join(','),
    ),
  );
  return [head, ...lines].join('\n') + '\n';
}

/**
 * Monitor rows as a JSON document naming the unit.
 *
 * @example JSON.parse(monitorJson(rows)).unit; // MONITOR_UNIT
 */
export function monitorJson(rows: LabelledMonitorRow[]): string {
  return JSON.stringify({ object: 'persona.monitor', unit: MONITOR_UNIT, rows }, null, 1) + '\n';
}

/**
 * Monitor rows as an aligned text table: one line per input, one column per persona (prompt end,
 * and `→ response mean` when a response was read).
 *
 * @example process.stdout.write(monitorTable(rows));
 */
export function monitorTable(rows: LabelledMonitorRow[]): string {
  if (rows.length === 0) return '(no inputs)\n';
  const personas = rows[0].projections.map((p) => `${p.persona} @${p.layer}`);
  const cells = rows.map((r) => [
    r.label,
    ...r.projections.map((p) => p.promptLast.toFixed(3) + (p.responseMean !== undefined ? ` → ${p.responseMean.toFixed(3)}` : '')),
  ]);
  const header = ['input', ...personas];
  const widths = header.map((h, c) => Math.max(h.length, ...cells.map((row) => row[c].length)));
  const fmt = (row: string[]) => row.map((x, c) => (c === 0 ? x.padEnd(widths[c]) : x.padStart(widths[c]))).join('  ');
  return (
    [
      fmt(header),
      ...cells.map(fmt),
      `(projection at the last prompt token${rows.some((r) => r.responseTokens !== undefined) ? ' → mean over the response' : ''}; ${MONITOR_UNIT})`,
    ].join('\n') + '\n'
  );
}

/**
 * A grouped bar chart of the prompt-end projections (one group per input, one bar per persona; the
 * response means as extra bars when read).
 *
 * @example await fs.writeFile('monitor.svg', monitorPlot(rows));
 */
export function monitorPlot(rows: LabelledMonitorRow[], title = 'persona monitor'): string {
  const personas = rows[0]?.projections.map((p) => p.persona) ?? [];
  const series: BarChartOptions['series'] = personas.map((name, k) => ({
    name: `${name} (prompt end)`,
    values: rows.map((r) => ({ y: r.projections[k].promptLast })),
  }));
  if (rows.some((r) => r.projections.some((p) => p.responseMean !== undefined))) {
    personas.forEach((name, k) => series.push({ name: `${name} (response mean)`, values: rows.map((r) => ({ y: r.projections[k].responseMean ?? null })) }));
  }
  return barChart({
    title,
    groups: rows.map((r) => (r.label.length > 28 ? r.label.slice(0, 27) + '…' : r.label)),
    series,
    yLabel: `projection (${MONITOR_UNIT})`,
  });
}
