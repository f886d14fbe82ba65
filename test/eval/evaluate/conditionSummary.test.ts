import { describe, expect, it } from 'vitest';
import { pairedDelta, summarizeCondition } from '../../../src/eval/evaluate/conditionSummary.js';

describe('condition summaries', () => {
  it('report every metric with a t interval and the end-of-turn rate with a Wilson interval', () => {
    const s = summarizeCondition(
      [
        { f: 1, v: null },
        { f: 0, v: 2 },
        { f: 0.5, v: 4 },
        { f: 0.5, v: 3 },
      ],
      [true, true, false, true],
      [10, 12, 48, 20],
      ['f', 'v'],
    );
    expect(s.n).toBe(4);
    expect(s.metrics.f.mean).toBeCloseTo(0.5);
    expect(s.metrics.f.lo).toBeLessThan(0.5);
    expect(s.metrics.f.hi).toBeGreaterThan(0.5);
    expect(s.metrics.v).toMatchObject({ n: 3, missing: 1, mean: 3 });
    expect(s.ended).toMatchObject({ ended: 3, n: 4, rate: 0.75 });
    expect(s.ended.lo).toBeLessThan(0.75);
    expect(s.ended.hi).toBeLessThan(1);
    expect(s.meanTokens).toBe(22.5);
  });

  it('pair rows by position, leave out pairs with a missing score, and standardise by the baseline spread', () => {
    const d = pairedDelta([1, 2, null, 4], [0, 1, 5, 2], 0.95);
    expect(d.n).toBe(3);
    expect(d.mean).toBeCloseTo(4 / 3);
    expect(d.lo).toBeLessThan(d.mean);
    expect(d.sd).toBeCloseTo(Math.sqrt(((0 - 2) ** 2 + (1 - 2) ** 2 + (5 - 2) ** 2 + (2 - 2) ** 2) / 3));
    expect(d.standardized).toBeCloseTo(d.mean / d.sd);
    expect(pairedDelta([1, 1], [1, 1]).standardized).toBeNull();
    expect(pairedDelta([null], [1]).n).toBe(0);
    expect(() => pairedDelta([1], [1, 2])).toThrow(/pair up/);
  });
});

describe('result JSON', () => {
  it('writes non-finite numbers as null and one answer per line, whatever the answers contain', async () => {
    const { resultJson } = await import('../../../src/eval/evaluate/writeReportFiles.js');
    const data = {
      timing: { tokensPerSecond: Infinity },
      mean: NaN,
      answers: [{ text: 'costs $& and $1 "quoted"', scores: { perplexity: NaN } }, { text: 'b' }],
    };
    const text = resultJson(data);
    expect(JSON.parse(text)).toEqual({
      timing: { tokensPerSecond: null },
      mean: null,
      answers: [{ text: 'costs $& and $1 "quoted"', scores: { perplexity: null } }, { text: 'b' }],
    });
    expect(text.split('\n').filter((l) => l.trimStart().startsWith('{"text"'))).toHaveLength(2);
    expect(JSON.parse(resultJson({ answers: [] }))).toEqual({ answers: [] });
  });
});
