import { describe, expect, it } from 'vitest';
import { renameDeprecatedFlags } from '../../src/cli/renameDeprecatedFlags.js';

describe('the deprecated output flag names', () => {
  it('become --out and --out-dir, with a note for each, in both spellings', () => {
    const notes: string[] = [];
    const argv = renameDeprecatedFlags(['node', 'persona', 'evaluate', '--output', 'r.json', '--output-dir=prompts', '--html', 'r.html'], (l) => notes.push(l));
    expect(argv).toEqual(['node', 'persona', 'evaluate', '--out', 'r.json', '--out-dir=prompts', '--html', 'r.html']);
    expect(notes).toEqual(['note: --output is deprecated; use --out (the same value).', 'note: --output-dir is deprecated; use --out-dir (the same value).']);
  });

  it('leave the new names, other flags and everything after -- alone', () => {
    const notes: string[] = [];
    const argv = ['node', 'persona', 'train', '-o', 'x.persona.json', '--outputs', '--out', 'y', '--', '--output'];
    expect(renameDeprecatedFlags(argv, (l) => notes.push(l))).toEqual(argv);
    expect(notes).toEqual([]);
  });
});
