import { describe, expect, it } from 'vitest';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { formatCell, formatNumber, inlineSvg, renderHtmlReport, writeHtmlReport } from '../../../src/eval/report/htmlReport.js';
import { InvalidArgumentError } from '../../../src/errors.js';
import { exampleReport, NASTY_ANSWER } from './exampleReport.js';

describe('html report', () => {
  it('formats numbers, missing values and intervals for tables', () => {
    expect(formatNumber(0.53419)).toBe('0.534');
    expect(formatNumber(64)).toBe('64');
    expect(formatNumber(null)).toBe('–');
    expect(formatNumber(NaN)).toBe('–');
    expect(formatNumber(0.00001234)).toBe('0.000012');
    expect(formatCell({ mean: 0.5, lo: 0.4, hi: 0.6 }, 2)).toBe('0.50 [0.40, 0.60]');
    expect(formatCell({ mean: 0.5, lo: NaN, hi: NaN }, 2)).toBe('0.50');
    expect(formatCell('text')).toBe('text');
  });

  it('is one self-contained document: inline CSS and SVG, no script, no external URL', () => {
    const html = renderHtmlReport(exampleReport);
    expect(html.startsWith('<!DOCTYPE html>')).toBe(true);
    expect(html).toContain('<style>');
    expect(html.match(/<svg /g)?.length).toBe(3);
    expect(html).not.toMatch(/<script/i);
    expect(html).not.toMatch(/\s(src|href)\s*=/i);
    expect(html).not.toMatch(/@import|<link|<iframe|<img/i);
    expect(html.match(/url\((?!#)/g)).toBeNull();
    // The only URL is the SVG namespace, which is never fetched.
    expect([...html.matchAll(/https?:\/\/[^\s"')]+/g)].map((m) => m[0]).every((u) => u === 'http://www.w3.org/2000/svg')).toBe(true);
  });

  it('escapes titles, cells and example answers and puts examples in collapsible details', () => {
    const html = renderHtmlReport(exampleReport);
    expect(html).toContain('<title>formal persona on the stylist &lt;eval&gt;</title>');
    expect(html).not.toContain(NASTY_ANSWER);
    expect(html).toContain('&lt;script&gt;document.title=&quot;pwned&quot;&lt;/script&gt; &amp; &lt;b&gt;not bold&lt;/b&gt; &lt;/details&gt;');
    expect(html.match(/<details/g)?.length).toBe(2);
    expect(html).toContain('<details open><summary>alpha = -4');
    expect(html).toContain('<td class="num"><span class="mean">-0.62</span> <span class="ci">[-0.71, -0.53]</span></td>');
    expect(html).toContain('<td class="num">–</td>');
    expect(html).toContain('Formality falls as alpha goes negative &amp; rises');
  });

  it('refuses figures that would run code or reach outside the document', () => {
    const ok = '<svg xmlns="http://www.w3.org/2000/svg"><rect fill="url(#p)"/></svg>';
    expect(inlineSvg(`<?xml version="1.0"?>\n${ok}`)).toBe(ok);
    for (const bad of [
      '<svg><script>alert(1)</script></svg>',
      '<svg><rect onclick="x()"/></svg>',
      '<svg><image href="https://example.com/a.png"/></svg>',
      '<svg><rect fill="url(https://example.com/x)"/></svg>',
      '<svg><foreignObject/></svg>',
      '<div>not svg</div>',
    ])
      expect(() => inlineSvg(bad), bad).toThrow(InvalidArgumentError);
    expect(() => renderHtmlReport({ title: 't', sections: [{ kind: 'figure', svg: '<svg><script/></svg>' }] })).toThrow(/script/);
  });

  it('rejects a table row whose length does not match the header', () => {
    expect(() => renderHtmlReport({ title: 't', sections: [{ kind: 'table', title: 'x', header: ['a', 'b'], rows: [[1]] }] })).toThrow(
      /row 0 has 1 cells for 2 columns/,
    );
  });

  it('writes the file atomically, leaving no temp file behind', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'report-'));
    const file = path.join(dir, 'report.html');
    await writeHtmlReport(file, exampleReport);
    expect(await fs.readFile(file, 'utf8')).toBe(renderHtmlReport(exampleReport));
    expect(await fs.readdir(dir)).toEqual(['report.html']);
    await fs.rm(dir, { recursive: true });
  });
});
