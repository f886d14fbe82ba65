import { describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/paths.js';
// @ts-expect-error plain ESM shared with scripts/fuzz.mjs (no type declarations)
import { fuzzTarget } from './fuzzRunner.mjs';

interface Failure {
  i: number;
  kind: string;
  message: string;
}

/** Cases per parser in CI: a few seconds each on two cores; `node scripts/fuzz.mjs --cases N` runs more. */
const CASES: Record<string, number> = { safetensors: 300, gguf: 400, config: 400, tokenizer: 60, chatTemplate: 200, persona: 200, prompts: 400 };

describe('the fuzz harness', () => {
  it('reports a case that hangs, one that aborts the process and errors that are not clean, and carries on after each', async () => {
    const s = await fuzzTarget({ root: ROOT, target: '_selftest', cases: 7, seed: 1, timeoutMs: 3000 });
    expect((s.failures as Failure[]).map((f) => [f.i, f.kind])).toEqual([
      [1, 'hang'],
      [3, 'crash'],
      [4, 'unclean'],
      [5, 'unclean'],
    ]);
    expect((s.failures as Failure[])[2].message).toMatch(/^TypeError: /);
    expect((s.failures as Failure[])[3].message).toMatch(/the message names no file: something is wrong/);
    expect([s.ok, s.refused, s.restarts]).toEqual([2, 1, 2]);
  });
});

describe('seeded fuzzing of every file parser', () => {
  for (const [target, cases] of Object.entries(CASES)) {
    it(`${target}: ${cases} mutated files each load or end in a project error naming the file, with no crash and no hang`, async () => {
      const s = await fuzzTarget({ root: ROOT, target, cases, seed: 20261204, timeoutMs: 15_000 });
      const shown = (s.failures as Failure[]).slice(0, 5).map((f) => `#${f.i} ${f.kind}: ${f.message}`);
      expect(shown).toEqual([]);
      expect(s.ok + s.refused).toBe(cases);
      // Mutations must reach the checks: most cases are refused, some still load.
      expect(s.refused).toBeGreaterThan(cases / 10);
    });
  }
});
