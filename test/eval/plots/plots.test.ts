import { describe, expect, it } from 'vitest';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { barChart } from '../../../src/eval/plots/barChart.js';
import { BAD_COLOR, brightness, divergingColor, GOOD_COLOR, heatmap } from '../../../src/eval/plots/heatmap.js';
import { lineChart } from '../../../src/eval/plots/lineChart.js';
import { escapeXml, formatTick, legend, niceTicks, textWidth, wrapText } from '../../../src/eval/plots/svg.js';
import { svgToPng, writePng } from '../../../src/eval/plots/svgToPng.js';
import { decodePng, pixelStats, PNG_SIGNATURE } from '../helpers/decodePng.js';
import { xmlProblems } from '../helpers/xmlCheck.js';
import { ROOT } from '../../helpers/paths.js';
import { exampleBar, exampleHeatmap, exampleLine } from './examplePlots.js';

const OUT = path.join(ROOT, 'test-output', 'eval');

describe('svg helpers', () => {
  it('picks round ticks that cover the data', () => {
    expect(niceTicks(-0.93, 0.48)).toEqual([-1, -0.5, 0, 0.5]);
    expect(niceTicks(0, 1)).toEqual([0, 0.2, 0.4, 0.6, 0.8, 1]);
    expect(niceTicks(3, 3).length).toBeGreaterThanOrEqual(2);
    expect(formatTick(0.25, [0, 0.25, 0.5])).toBe('0.25');
    expect(formatTick(-1, [-1, -0.5])).toBe('\u22121.0');
    expect(formatTick(-0.0000001, [-1, 0, 1])).toBe('0');
  });

  it('has a well-formedness check that catches what it should', () => {
    expect(xmlProblems('<svg><g></g></svg>')).toEqual([]);
    expect(xmlProblems('<svg><g></svg>')).not.toEqual([]);
    expect(xmlProblems('<svg><text>a < b</text></svg>')).not.toEqual([]);
    expect(xmlProblems('<svg><text>a & b</text></svg>')).not.toEqual([]);
    expect(xmlProblems('<svg><rect width=3/></svg>')).not.toEqual([]);
    expect(xmlProblems('<svg/><svg/>')).not.toEqual([]);
  });

  it('escapes markup characters', () => {
    expect(escapeXml(`<a & "b" 'c'>`)).toBe('&lt;a &amp; &quot;b&quot; &#39;c&#39;&gt;');
  });

  it('maps the diverging scale from blue through near-white to red', () => {
    expect(divergingColor(-1)).toBe('#2166ac');
    expect(divergingColor(0)).toBe('#f7f7f7');
    expect(divergingColor(1)).toBe('#b2182b');
    expect(divergingColor(5)).toBe('#b2182b');
  });
});

describe('text measuring', () => {
  it('measures text with DejaVu Sans widths, wider in bold and for unknown characters', () => {
    expect(textWidth('formality', 12)).toBeCloseTo(54.02, 2);
    expect(textWidth('formality', 12, true)).toBeGreaterThan(textWidth('formality', 12));
    expect(textWidth('iii', 10)).toBeLessThan(textWidth('MMM', 10));
    expect(textWidth('\u4e2d', 10)).toBe(10);
  });

  it('wraps at spaces, breaks a word only when it is wider than a line, and never returns a line wider than asked', () => {
    expect(wrapText('end-of-turn rate under the floor 0.7', 12, 120)).toEqual(['end-of-turn rate', 'under the floor 0.7']);
    expect(wrapText('short', 12, 500)).toEqual(['short']);
    expect(wrapText('', 12, 100)).toEqual(['']);
    const long = wrapText('x'.repeat(100) + ' tail', 12, 80);
    expect(long.length).toBeGreaterThan(5);
    expect(long.join('')).toBe('x'.repeat(100) + ' tail'); // the last piece of the word shares its line with "tail"
    for (const l of long) expect(textWidth(l, 12)).toBeLessThanOrEqual(80);
  });

  it('wraps a legend entry wider than its row onto more lines', () => {
    const one = legend([{ name: 'short', color: '#000', swatch: 'box' }], 0, 0, 200);
    const wrapped = legend([{ name: 'a legend entry that is much wider than the two hundred pixels it may use', color: '#000', swatch: 'box' }], 0, 0, 200);
    expect(wrapped.height).toBeGreaterThan(one.height);
    expect(wrapped.svg.match(/<text /g)!.length).toBeGreaterThan(1);
  });
});

describe('plots', () => {
  it('draws a dose–response chart as well-formed SVG with axes, labels, legend and escaped text', () => {
    const svg = lineChart(exampleLine);
    expect(xmlProblems(svg)).toEqual([]);
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg).toContain('formal persona &lt;L3&gt; &amp; &quot;sampled&quot;');
    expect(svg).not.toContain('<L3>');
    for (const label of ['alpha (gap units)', 'formality', 'end-of-turn rate', 'ended (right axis)', 'vivid &lt;scaled&gt;']) expect(svg).toContain(label);
    // x ticks at the alphas, y ticks on both axes, one band per left series, error bars on the right one.
    for (const t of ['\u22128', '\u22124', '>0<', '>4<', '>8<', '>0.5<', '>1.0<', '>0.8<']) expect(svg).toContain(t);
    expect(svg.match(/<polygon /g)?.length).toBe(3); // formality: 1 band; vivid: 2 runs around its gap
    expect(svg.match(/class="series"/g)?.length).toBe(3);
    expect(svg).toContain('stroke-dasharray="6 4"');
  });

  it('draws a layer × alpha heat map with values, colour bar and the highlighted cell', () => {
    const svg = heatmap(exampleHeatmap);
    expect(xmlProblems(svg)).toEqual([]);
    expect(svg).toContain('class="highlight"');
    expect(svg).toContain('class="colorbar"');
    expect(svg).toContain('>0.59<'); // the value printed in the highlighted cell
    expect(svg).toContain('>–<'); // the missing cell
    expect(svg).toContain('recommended: layer 2 &amp; alpha 4');
    expect(svg).toContain('Δ formality');
    expect(svg.match(/class="hatched"/g)?.length).toBe(4);
    expect(svg).toContain('hatched: end-of-turn rate &lt; 0.7'); // the legend says what hatching marks
    expect(() => heatmap({ ...exampleHeatmap, values: [[1]] })).toThrow(/rows × /);
    expect(() => heatmap({ ...exampleHeatmap, highlight: { row: 9, col: 0 } })).toThrow(/outside/);
  });

  it('draws the good end of a heat map blue and the other red, names both in the legend, and flips with good: low', () => {
    const o = { title: 't', rows: [0], cols: [0, 1], values: [[-1, 1]], meaning: { high: 'coherent', low: 'under the floor' } };
    const fills = (svg: string) =>
      [...svg.matchAll(/<rect x="[^"]+" y="[^"]+" width="[^"]+" height="[^"]+" fill="(#[0-9a-f]{6})" stroke="#ffffff"/g)].map((m) => m[1]);
    expect(fills(heatmap(o))).toEqual([BAD_COLOR, GOOD_COLOR]);
    expect(fills(heatmap({ ...o, meaning: { ...o.meaning, good: 'low' } }))).toEqual([GOOD_COLOR, BAD_COLOR]);
    expect(GOOD_COLOR).toBe('#2166ac');
    const svg = heatmap(o);
    expect(svg).toContain('>coherent<');
    expect(svg).toContain('>under the floor<');
    const legendSvg = svg.slice(svg.indexOf('class="legend"'));
    expect(legendSvg).toContain(`fill="${GOOD_COLOR}"`);
    expect(legendSvg).toContain(`fill="${BAD_COLOR}"`);
  });

  it('hatches dark cells with light lines and light cells with dark lines', () => {
    const svg = heatmap({ title: 't', rows: [0], cols: [0, 1, 2], values: [[-1, 0, 1]], dimmed: [[true, true, true]] });
    const patterns = [...svg.matchAll(/class="hatched"[^>]*fill="url\(#([^)]+)\)"/g)].map((m) => m[1]);
    expect(patterns).toHaveLength(3);
    expect(patterns[0]).toMatch(/-light$/);
    expect(patterns[1]).not.toMatch(/-light$/);
    expect(patterns[2]).toMatch(/-light$/);
    expect(svg).toMatch(/-light" [^>]*><line [^>]*stroke="#ffffff"/);
    expect(brightness(GOOD_COLOR)).toBeLessThan(0.45);
    expect(brightness('#f7f7f7')).toBeGreaterThan(0.9);
  });

  it('refuses a heat map too narrow for its values, and hatching of another shape than the values', () => {
    expect(() => heatmap({ ...exampleHeatmap, width: 200 })).toThrow(/heatmap width 200 leaves \d+ px per column.*give a width of at least \d+/);
    expect(() => heatmap({ ...exampleHeatmap, dimmed: [[true]] })).toThrow(/dimmed must be 6 rows × 7 columns/);
  });

  it('draws grouped bars with error bars, negative bars and a missing value', () => {
    const svg = barChart(exampleBar);
    expect(xmlProblems(svg)).toEqual([]);
    expect(svg.match(/class="bar"/g)?.length).toBe(5);
    expect(svg).toContain('n/a');
    expect(svg).toContain('casual &lt;x&gt;');
    expect(svg).toContain('change vs. unsteered');
    expect(() => barChart({ ...exampleBar, groups: ['one'] })).toThrow(/values for 1 groups/);
  });

  it('gives the same SVG for the same input', () => {
    expect(lineChart(exampleLine)).toBe(lineChart(exampleLine));
    expect(heatmap(exampleHeatmap)).toBe(heatmap(exampleHeatmap));
  });

  it('renders each plot to a non-trivial PNG with resvg', async () => {
    await fs.mkdir(OUT, { recursive: true });
    for (const [name, svg] of [
      ['line', lineChart(exampleLine)],
      ['heatmap', heatmap(exampleHeatmap)],
      ['bar', barChart(exampleBar)],
    ] as const) {
      const png = svgToPng(svg, { scale: 1 });
      expect([...png.subarray(0, 8)]).toEqual(PNG_SIGNATURE);
      expect(png.length).toBeGreaterThan(10_000);
      const img = decodePng(png);
      const w = Number(/width="(\d+)"/.exec(svg)?.[1]);
      expect(img.width).toBe(w);
      const st = pixelStats(img);
      expect(st.coloured / st.total, `${name}: coloured share`).toBeGreaterThan(0.01);
      expect(st.distinct, `${name}: distinct colours`).toBeGreaterThan(50);
      await writePng(path.join(OUT, `${name}.resvg.png`), svg, { width: 2 * w });
      expect(decodePng(await fs.readFile(path.join(OUT, `${name}.resvg.png`))).width).toBe(2 * w);
    }
  });

  it('renders text in PNGs, so fonts are found', () => {
    const svg = lineChart(exampleLine);
    const withText = pixelStats(decodePng(svgToPng(svg, { scale: 1 })));
    const noText = pixelStats(decodePng(svgToPng(svg.replace(/<text[^>]*>[^<]*<\/text>/g, ''), { scale: 1 })));
    // Glyphs add hundreds of dark pixels (labels, ticks, title).
    expect(withText.dark - noText.dark).toBeGreaterThan(1000);
  });
});
