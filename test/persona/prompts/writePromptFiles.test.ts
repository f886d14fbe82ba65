import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildContrastiveSet } from '../../../src/persona/prompts/buildContrastiveSet.js';
import type { ContrastiveSet } from '../../../src/persona/prompts/PromptSet.js';
import { readContrastiveFiles, readPromptDir, readPromptFile } from '../../../src/persona/prompts/readPromptFile.js';
import { writePromptFiles } from '../../../src/persona/prompts/writePromptFiles.js';

let dir: string;
beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'pv-write-'));
});
afterAll(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

describe('writePromptFiles', () => {
  it('writes the four files, which read back to the same set', async () => {
    const set = buildContrastiveSet({ description: 'formal and professional', numPrompts: 12, seed: 5, heldOut: 6 });
    set.evalPrompt = 'Rate formality of {answer} to {question}.';
    const out = path.join(dir, 'formal', 'nested');
    const files = await writePromptFiles(set, out);
    expect(
      Object.values(files)
        .map((f) => path.basename(f))
        .sort(),
    ).toEqual(['negative.jsonl', 'persona.json', 'positive.jsonl', 'questions-heldout.txt']);
    expect((await fs.readdir(out)).sort()).toEqual(['negative.jsonl', 'persona.json', 'positive.jsonl', 'questions-heldout.txt']);

    expect(await readContrastiveFiles(files.positive, files.negative)).toEqual({ positive: set.positive, negative: set.negative });
    expect(await readPromptDir(out)).toEqual(set);
    const meta = JSON.parse(await fs.readFile(files.meta, 'utf8'));
    expect(meta).toMatchObject({ description: 'formal and professional', opposite: 'casual and laid-back', evalPrompt: set.evalPrompt, pairs: 12, heldOut: 6 });
  });

  it('round-trips prompts with newlines, quotes, a leading # and no system prompt', async () => {
    const set: ContrastiveSet = {
      positive: [{ system: 'Say "hi".\nThen stop.', user: '# Heading?' }, { user: 'no system' }],
      negative: [{ system: 'Tab\tand \\ backslash', user: '# Heading?' }, { user: 'no system' }],
      questionsHeldOut: ['# starts with a hash', 'two\nlines', 'back\\slash'],
    };
    const out = path.join(dir, 'odd');
    const files = await writePromptFiles(set, out);
    expect(await readPromptFile(files.positive)).toEqual(set.positive);
    const back = await readPromptDir(out);
    expect(back.negative).toEqual(set.negative);
    expect(back.questionsHeldOut).toEqual(set.questionsHeldOut);
  });

  it('writes an empty held-out list as a comment-only file that reads back as none', async () => {
    const out = path.join(dir, 'noheld');
    await writePromptFiles({ positive: [{ user: 'a' }], negative: [{ user: 'b' }] }, out);
    expect((await readPromptDir(out)).questionsHeldOut).toEqual([]);
  });

  it('leaves no temporary files behind and overwrites earlier files', async () => {
    const out = path.join(dir, 'again');
    await writePromptFiles({ positive: [{ user: 'first' }], negative: [{ user: 'x' }] }, out);
    await writePromptFiles({ positive: [{ user: 'second' }], negative: [{ user: 'y' }] }, out);
    expect((await fs.readdir(out)).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    expect(await readPromptFile(path.join(out, 'positive.jsonl'))).toEqual([{ user: 'second' }]);
  });

  it('refuses an empty set and reports an unwritable folder', async () => {
    await expect(writePromptFiles({ positive: [], negative: [] }, path.join(dir, 'empty'))).rejects.toThrow(/empty/);
    const blocker = path.join(dir, 'a-file');
    await fs.writeFile(blocker, 'x');
    await expect(writePromptFiles({ positive: [{ user: 'a' }], negative: [{ user: 'b' }] }, path.join(blocker, 'sub'))).rejects.toThrow(
      /Cannot create the output folder/,
    );
  });
});
