import { describe, expect, it } from 'vitest';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { countOccurrences, createMarkersScorer, loadMarkersScorer, parseMarkerSpec } from '../../../src/eval/scorers/markersScorer.js';
import { InvalidArgumentError } from '../../../src/errors.js';
import { STYLIST } from '../../helpers/paths.js';

const MARKERS = path.join(STYLIST, 'style_markers.json');
const item = (answer: string) => ({ question: 'Invite Sam to dinner.', answer });

describe('markers scorer', () => {
  it('counts non-overlapping occurrences like Python str.count', () => {
    expect(countOccurrences('aaaa', 'aa')).toBe(2);
    expect(countOccurrences('aaa', 'aa')).toBe(1);
    expect(countOccurrences('!!!!!', '!!')).toBe(2);
    expect(countOccurrences('abcabc', 'abc')).toBe(2);
    expect(countOccurrences('abc', 'x')).toBe(0);
    expect(() => countOccurrences('abc', '')).toThrow(InvalidArgumentError);
  });

  it('reads the stylist marker file into formality, formal, casual and vivid', async () => {
    const s = await loadMarkersScorer(MARKERS);
    expect(s.name).toBe('markers');
    expect(s.metrics).toEqual(['formality', 'formal', 'casual', 'vivid']);
    expect(s.spec.scoring).toMatch(/str\.count/);
  });

  // Expected values cross-checked with Python: sum(answer.lower().count(m) for m in markers[list]).
  it('reproduces the counts and the formality formula on hand-written answers', async () => {
    const s = await loadMarkersScorer(MARKERS);
    const rows = await s.score([
      // formal: dear, please, kindly, regards, sincere (inside "sincerely") → 5; casual: 0.
      item('Dear Sam, please kindly join us. Sincerely, with warm Regards.'),
      // casual: "hey" ×2 (HEY, hey — lower-cased), "!!!!!" → "!!" ×2, "lol", "gonna" → 6; formal 0.
      item('HEY Sam!!!!! hey lol, gonna be fun'),
      // formal: dear, please → 2; casual: "awesome", "!!" → 2; vivid: "like a" ×2, "lantern", "river" ×2 (river, rivers) → 5.
      item('Dear Sam, please come!! It will be awesome, like a lantern like a glowing river of rivers...'),
      // Substrings with their spaces: "yo " in "yoyo " and "yo sup" (the final "yo" has no space), "ur " inside "your ", "sup " → 4.
      item('your yoyo yo sup yo'),
      // Nothing at all: formality 0 by max(1, …), not NaN.
      item('The facts are straightforward.'),
      // "moon" overlapping in "moonmoon" counts twice; "moo" alone nothing; case: "MOON" counts.
      item('MOONmoon moo'),
    ]);
    expect(rows[0]).toEqual({ formality: 1, formal: 5, casual: 0, vivid: 0 });
    expect(rows[1]).toEqual({ formality: -1, formal: 0, casual: 6, vivid: 0 });
    expect(rows[2]).toEqual({ formality: 0, formal: 2, casual: 2, vivid: 5 });
    expect(rows[3]).toEqual({ formality: -1, formal: 0, casual: 4, vivid: 0 });
    expect(rows[4]).toEqual({ formality: 0, formal: 0, casual: 0, vivid: 0 });
    expect(rows[5]).toEqual({ formality: 0, formal: 0, casual: 0, vivid: 2 });
  });

  it('gives (formal − casual) / max(1, formal + casual) for mixed answers', async () => {
    const s = await loadMarkersScorer(MARKERS);
    // formal: dear, regret, shall → 3; casual: "ugh", "tbh" → 2 → (3 − 2) / 5.
    const [row] = await s.score([item('Dear all, I regret that we shall be late, ugh, tbh.')]);
    expect(row).toEqual({ formality: 0.2, formal: 3, casual: 2, vivid: 0 });
  });

  it('generalises: every list is a count and declared axes give bipolar metrics', async () => {
    const spec = parseMarkerSpec({ warm: ['thank', 'glad'], cold: ['whatever'], emoji: [':)'], axes: { warmth: ['warm', 'cold'] }, note: 'a comment' });
    const s = createMarkersScorer(spec);
    expect(s.metrics).toEqual(['warmth', 'warm', 'cold', 'emoji']);
    const [row] = await s.score([item('Thank you, glad to help :) whatever')]);
    expect(row).toEqual({ warmth: 1 / 3, warm: 2, cold: 1, emoji: 1 });
    // Without axes and without the formal/casual pair, only counts.
    expect(createMarkersScorer(parseMarkerSpec({ vivid: ['moon'] })).metrics).toEqual(['vivid']);
  });

  it('lower-cases markers so upper-case entries still match the lower-cased answer', async () => {
    const s = createMarkersScorer(parseMarkerSpec({ formal: ['Dear'], casual: ['HEY'] }));
    expect((await s.score([item('dear hey hey')]))[0]).toEqual({ formality: -1 / 3, formal: 1, casual: 2 });
  });

  it('rejects malformed marker files with a message naming the problem', async () => {
    expect(() => parseMarkerSpec([])).toThrow(/object/);
    expect(() => parseMarkerSpec({ formal: ['ok', 3] })).toThrow(/"formal"/);
    expect(() => parseMarkerSpec({ formal: [''] })).toThrow(/non-empty/);
    expect(() => parseMarkerSpec({ a: ['x'], axes: { tone: ['a', 'missing'] } })).toThrow(/"missing"/);
    expect(() => parseMarkerSpec({ scoring: 'text only' })).toThrow(/no marker lists/);
    expect(() => parseMarkerSpec({ a: ['x'], weight: 2 })).toThrow(/"weight"/);
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'markers-'));
    await fs.writeFile(path.join(dir, 'bad.json'), '{ not json');
    await expect(loadMarkersScorer(path.join(dir, 'bad.json'))).rejects.toThrow(/not valid JSON/);
    await expect(loadMarkersScorer(path.join(dir, 'missing.json'))).rejects.toThrow(/Cannot read .*missing\.json: no such file/);
    await fs.rm(dir, { recursive: true });
  });
});
