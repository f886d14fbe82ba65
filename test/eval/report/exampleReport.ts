import { barChart } from '../../../src/eval/plots/barChart.js';
import { heatmap } from '../../../src/eval/plots/heatmap.js';
import { lineChart } from '../../../src/eval/plots/lineChart.js';
import type { HtmlReportSpec } from '../../../src/eval/report/htmlReport.js';
import { exampleBar, exampleHeatmap, exampleLine } from '../plots/examplePlots.js';

/** An answer that would break the page (or run code) if it were not escaped. */
export const NASTY_ANSWER = 'hey Sam!! <script>document.title="pwned"</script> & <b>not bold</b> </details> lol';

/** A report with every kind of section, shaped like an evaluation of the stylist's formal persona. */
export const exampleReport: HtmlReportSpec = {
  title: 'formal persona on the stylist <eval>',
  subtitle: 'Held-out requests, 48 new tokens, T = 0.8, seed 1',
  summary: {
    model: 'stylist (embedded)',
    persona: 'formal',
    layer: 3,
    'alpha range': '[-8, 8]',
    questions: 64,
    'formality at alpha 4': { mean: 0.07, lo: -0.05, hi: 0.19 },
    perplexity: null,
  },
  sections: [
    {
      kind: 'figure',
      title: 'Dose–response',
      svg: lineChart(exampleLine),
      caption: 'Mean formality with its 95% t interval per alpha; end-of-turn rate on the right axis (Wilson interval).',
    },
    {
      kind: 'figure',
      title: 'Layer × alpha',
      svg: heatmap(exampleHeatmap),
      caption: 'Change in formality against the unsteered model; hatched: end-of-turn rate below 0.7.',
    },
    { kind: 'figure', title: 'Entanglement', svg: barChart(exampleBar), caption: 'How each persona vector moves each metric at alpha 4.' },
    {
      kind: 'table',
      title: 'Per alpha',
      header: ['alpha', 'formality', 'vivid', 'ended', 'n'],
      digits: 2,
      rows: [
        [-4, { mean: -0.62, lo: -0.71, hi: -0.53 }, { mean: 0.3, lo: 0.1, hi: 0.5 }, 0.89, 64],
        [0, { mean: -0.2, lo: -0.31, hi: -0.09 }, { mean: 1.4, lo: 1.1, hi: 1.7 }, 0.9, 64],
        [4, { mean: 0.07, lo: -0.05, hi: 0.19 }, { mean: null }, 0.77, 64],
      ],
    },
    {
      kind: 'examples',
      title: 'Example answers',
      groups: [
        { label: 'alpha = -4', open: true, items: [{ question: 'Invite Sam to dinner.', answer: NASTY_ANSWER, scores: { formality: -1, vivid: 0 } }] },
        {
          label: 'alpha = 4',
          items: [
            { question: 'Invite Sam to dinner.', answer: 'Dear Sam,\nPlease join us on Saturday.\nKind regards.', scores: { formality: 1, vivid: null } },
          ],
        },
      ],
    },
    { kind: 'text', title: 'Notes', paragraphs: ['Formality falls as alpha goes negative & rises as it goes positive.'] },
  ],
};
