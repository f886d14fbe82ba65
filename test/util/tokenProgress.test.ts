import { describe, expect, it } from 'vitest';
import { tokenProgress, type ProgressEvent } from '../../src/util/progress.js';

describe('tokenProgress', () => {
  it('reports every N tokens, and a batch whose rows ended early moves the count to its budget', () => {
    const seen: ProgressEvent[] = [];
    const p = tokenProgress((e) => seen.push(e), 'answers', 1000, 64);
    for (let i = 0; i < 130; i++) p.onToken!();
    expect(seen.map((e) => e.done)).toEqual([64, 128]);
    p.reach(500);
    for (let i = 0; i < 64; i++) p.onToken!();
    // the first token after the jump reports (the new count is past the last report by more than N)
    expect(seen.at(-1)).toEqual({ phase: 'answers', done: 501, total: 1000, unit: 'tokens' });
    p.reach(10); // never moves back
    expect(p.done).toBe(564);
  });

  it('counts nothing without a callback', () => {
    expect(tokenProgress(undefined, 'answers', 10, 1).onToken).toBeUndefined();
  });
});
