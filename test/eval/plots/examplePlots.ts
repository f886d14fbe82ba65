import type { BarChartOptions } from '../../../src/eval/plots/barChart.js';
import type { HeatmapOptions } from '../../../src/eval/plots/heatmap.js';
import type { LineChartOptions } from '../../../src/eval/plots/lineChart.js';

/** Plot inputs shaped like the stylist's reference sweep, with text that needs escaping. */
const alphas = [-8, -4, -2, 0, 2, 4, 8];
const formality = [-0.9, -0.62, -0.33, -0.2, -0.16, 0.07, 0.47];
const ended = [0.75, 0.89, 0.86, 0.9, 0.88, 0.77, 0.64];

export const exampleLine: LineChartOptions = {
  title: 'formal persona <L3> & "sampled"',
  xLabel: 'alpha (gap units)',
  yLabel: 'formality',
  rightLabel: 'end-of-turn rate',
  series: [
    { name: 'formality', points: alphas.map((x, i) => ({ x, y: formality[i], lo: formality[i] - 0.12, hi: formality[i] + 0.12 })) },
    {
      name: 'vivid <scaled>',
      points: alphas.map((x, i) => ({ x, y: i === 3 ? null : formality[i] * 0.3 + 0.1, lo: formality[i] * 0.3, hi: formality[i] * 0.3 + 0.2 })),
    },
    { name: 'ended', axis: 'right', points: alphas.map((x, i) => ({ x, y: ended[i], lo: ended[i] - 0.08, hi: Math.min(1, ended[i] + 0.06) })) },
  ],
};

const layers = [0, 1, 2, 3, 4, 5];
export const exampleHeatmap: HeatmapOptions = {
  title: 'Δ formality by layer × alpha',
  rows: layers,
  cols: alphas,
  values: layers.map((r) => alphas.map((a) => (r === 5 && a === 0 ? null : Math.tanh(a * (0.05 + 0.04 * (3 - Math.abs(r - 2))))))),
  xLabel: 'alpha',
  yLabel: 'layer',
  colorLabel: 'Δ formality',
  highlight: { row: 2, col: 5, label: 'recommended: layer 2 & alpha 4' },
  dimmed: layers.map((r) => alphas.map((a) => Math.abs(a) === 8 && r > 3)),
  dimmedLabel: 'end-of-turn rate < 0.7',
};

export const exampleBar: BarChartOptions = {
  title: 'entanglement at alpha = 4',
  yLabel: 'change vs. unsteered',
  groups: ['formal', 'vivid', 'casual <x>'],
  series: [
    {
      name: 'formality',
      values: [
        { y: 0.5, lo: 0.4, hi: 0.6 },
        { y: -0.1, lo: -0.2, hi: 0 },
        { y: -0.7, lo: -0.8, hi: -0.6 },
      ],
    },
    { name: 'vivid', values: [{ y: -0.3, lo: -0.5, hi: -0.1 }, { y: 1.1, lo: 0.8, hi: 1.4 }, { y: null }] },
  ],
};
