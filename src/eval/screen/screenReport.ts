import { barChart } from '../plots/barChart.js';
import { readChatJsonl } from '../monitor/readChatJsonl.js';
import { renderHtmlReport, type ReportSection } from '../report/htmlReport.js';
import { ScreenCheckpoint, type ScreenHeader } from './ScreenCheckpoint.js';
import { InvalidArgumentError } from '../../errors.js';

/** One sample's screening result: per persona (in header order) the projections, their difference, its rank (1 = largest) and whether it is flagged. */
export interface ScreenedSample {
  line: number;
  id?: string;
  dataset: number[];
  generated: number[];
  difference: number[];
  rank: number[];
  flagged: boolean[];
}

/** Every sample ranked, with the flagging threshold per persona. */
export interface ScreenSummary {
  header: ScreenHeader;
  top: number;
  n: number;
  personas: { name: string; layer: number; flagged: number; threshold: number | null; median: number | null }[];
  samples: ScreenedSample[];
}

/**
 * Ranks the samples of a checkpoint by projection difference (dataset response − the model's own),
 * per persona, and flags the top share `top` (e.g. 0.1: the 10% that push hardest towards the persona).
 *
 * @example const s = await summarizeScreen('out/screen.checkpoint.jsonl', 0.1); s.personas[0].flagged;
 */
export async function summarizeScreen(checkpoint: string, top: number): Promise<ScreenSummary> {
  if (!(top > 0 && top <= 1)) throw new InvalidArgumentError(`--top must be a share in (0, 1]; got ${top}.`);
  const ckpt = new ScreenCheckpoint(checkpoint);
  const header = await ckpt.header();
  const samples: ScreenedSample[] = [];
  for await (const r of ckpt.records()) {
    samples.push({
      line: r.line,
      ...(r.id !== undefined ? { id: r.id } : {}),
      dataset: r.dataset,
      generated: r.generated,
      difference: r.dataset.map((x, k) => x - r.generated[k]),
      rank: [],
      flagged: [],
    });
  }
  samples.sort((a, b) => a.line - b.line);
  const n = samples.length;
  const k = Math.ceil(top * n);
  const personas = header.personas.map((p, j) => {
    const order = samples.map((_, i) => i).sort((a, b) => samples[b].difference[j] - samples[a].difference[j] || samples[a].line - samples[b].line);
    order.forEach((i, r) => {
      samples[i].rank[j] = r + 1;
      samples[i].flagged[j] = r < k;
    });
    const sorted = order.map((i) => samples[i].difference[j]);
    return {
      name: p.name,
      layer: p.layer,
      flagged: Math.min(k, n),
      threshold: n ? sorted[Math.min(k, n) - 1] : null,
      median: n ? sorted[Math.floor((n - 1) / 2)] : null,
    };
  });
  return { header, top, n, personas, samples };
}

const csvCell = (v: string | number | boolean | undefined): string => {
  if (v === undefined) return '';
  const s = String(v);
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
};

/**
 * The summary as CSV, one line per (sample, persona).
 *
 * @example await fs.writeFile('screen.csv', screenCsv(summary));
 */
export function screenCsv(s: ScreenSummary): string {
  const rows = s.samples.flatMap((x) =>
    s.personas.map((p, j) => [x.line, x.id, p.name, p.layer, x.dataset[j], x.generated[j], x.difference[j], x.rank[j], x.flagged[j]].map(csvCell).join(',')),
  );
  return ['line,id,persona,layer,dataset_projection,generated_projection,difference,rank,flagged', ...rows].join('\n') + '\n';
}

/**
 * The summary as JSON (unit, settings, per-persona thresholds, every sample).
 *
 * @example JSON.parse(screenJson(summary)).personas[0].threshold;
 */
export function screenJson(s: ScreenSummary): string {
  return (
    JSON.stringify({ object: 'persona.screen', unit: s.header.unit, dataset: s.header.dataset, n: s.n, top: s.top, personas: s.personas, samples: s.samples }) +
    '\n'
  );
}

/**
 * The HTML report: per persona the distribution of differences (histogram, flagged bins marked) and
 * the `show` top samples with their prompt, the dataset's response and the model's own answer. Texts
 * are read back by streaming the dataset and the checkpoint, keeping only the samples shown.
 *
 * @example await atomicWrite('screen.html', await screenReportHtml(summary, 'train.jsonl', 'screen.checkpoint.jsonl'));
 */
export async function screenReportHtml(s: ScreenSummary, dataset: string, checkpoint: string, show = 15): Promise<string> {
  const wanted = new Set(s.samples.filter((x) => x.rank.some((r) => r <= show)).map((x) => x.line));
  const texts = new Map<number, { prompt: string; response: string }>();
  for await (const d of readChatJsonl(dataset)) {
    if (wanted.has(d.line)) texts.set(d.line, { prompt: d.messages.map((m) => `${m.role}: ${m.content}`).join('\n'), response: d.response ?? '' });
  }
  const answers = new Map<number, string>();
  for await (const r of new ScreenCheckpoint(checkpoint).records()) if (wanted.has(r.line)) answers.set(r.line, r.answer);
  const sections: ReportSection[] = [];
  s.personas.forEach((p, j) => {
    const values = s.samples.map((x) => x.difference[j]);
    const lo = Math.min(...values),
      hi = Math.max(...values);
    const bins = 24;
    const w = (hi - lo) / bins || 1;
    const counts = new Array<number>(bins).fill(0);
    const flaggedCounts = new Array<number>(bins).fill(0);
    s.samples.forEach((x) => {
      const b = Math.min(bins - 1, Math.floor((x.difference[j] - lo) / w));
      (x.flagged[j] ? flaggedCounts : counts)[b]++;
    });
    const labels = counts.map((_, b) => (lo + (b + 0.5) * w).toFixed(2));
    sections.push({
      kind: 'figure',
      title: `${p.name} (layer ${p.layer}): projection difference`,
      svg: barChart({
        title: `${p.name}: dataset response − model's own answer (${s.n} samples)`,
        groups: labels,
        series: [
          { name: 'samples', values: counts.map((y) => ({ y })) },
          { name: `flagged (top ${(s.top * 100).toFixed(0)}%)`, values: flaggedCounts.map((y) => ({ y })) },
        ],
        yLabel: 'samples',
        xLabel: `difference (${s.header.unit}), bin centre`,
      }),
      caption: `threshold ${p.threshold?.toFixed(3) ?? '–'}, median ${p.median?.toFixed(3) ?? '–'}; ${p.flagged} flagged`,
    });
    const topSamples = [...s.samples].filter((x) => x.rank[j] <= show).sort((a, b) => a.rank[j] - b.rank[j]);
    sections.push({
      kind: 'examples',
      title: `${p.name}: the ${topSamples.length} samples that push hardest towards it`,
      groups: topSamples.map((x, i) => ({
        label: `#${x.rank[j]} · line ${x.line}${x.id ? ` (${x.id})` : ''} · difference ${x.difference[j].toFixed(3)}`,
        open: i < 3,
        items: [
          {
            question: texts.get(x.line)?.prompt ?? '',
            answer: texts.get(x.line)?.response ?? '',
            note: 'dataset response',
            scores: { projection: x.dataset[j] },
          },
          { question: '(same prompt)', answer: answers.get(x.line) ?? '', note: "model's own answer", scores: { projection: x.generated[j] } },
        ],
      })),
    });
  });
  return renderHtmlReport({
    title: 'Dataset screening',
    subtitle: `${s.header.dataset}: which samples would shift the persona if the model were trained on them (Chen et al. 2025, projection difference)`,
    summary: [
      ['samples', s.n],
      ['flagged share', s.top],
      ['unit', s.header.unit],
      ...s.personas.map((p) => [`${p.name} (layer ${p.layer}) threshold`, p.threshold] as [string, number | null]),
    ],
    sections,
  });
}
