import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../../../src/errors.js';
import { decodePromptLine, encodePromptLine, parsePromptText, readContrastiveFiles, readPromptFile } from '../../../src/persona/prompts/readPromptFile.js';
import { ROOT } from '../../helpers/paths.js';

let dir: string;
beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'pv-prompts-'));
});
afterAll(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

async function file(name: string, text: string): Promise<string> {
  const p = path.join(dir, name);
  await fs.writeFile(p, text);
  return p;
}

describe('readPromptFile', () => {
  it('reads one prompt per line, skipping blank lines and # comments and decoding escapes', async () => {
    const p = await file(
      'plain.txt',
      '# formal requests\n\nDescribe a harbour.\r\n  Line one\\nline two  \n\\#hashtag ideas\nTab\\there, a backslash \\\\n stays\n',
    );
    expect(await readPromptFile(p)).toEqual([
      { user: 'Describe a harbour.' },
      { user: 'Line one\nline two' },
      { user: '#hashtag ideas' },
      { user: 'Tab\there, a backslash \\n stays' },
    ]);
  });

  it('reads JSONL by extension, with system and user, prompt or question as the user field', async () => {
    const p = await file('set.jsonl', '{"system": "Be formal.", "user": "Hi"}\n\n{"prompt": "Second"}\n{"question": "Third", "system": null}\n');
    expect(await readPromptFile(p)).toEqual([{ system: 'Be formal.', user: 'Hi' }, { user: 'Second' }, { user: 'Third' }]);
  });

  it('detects JSONL from a first line starting with { in a file with another extension', async () => {
    const p = await file('set.txt', '\n{"system": "S", "user": "U"}\n');
    expect(await readPromptFile(p)).toEqual([{ system: 'S', user: 'U' }]);
  });

  it('reads the shipped stylist prompt files (64 row-aligned pairs)', async () => {
    const set = await readContrastiveFiles(path.join(ROOT, 'data/stylist/formal-pos.jsonl'), path.join(ROOT, 'data/stylist/formal-neg.jsonl'));
    expect(set.positive).toHaveLength(64);
    expect(set.positive[0]).toEqual({ system: 'You are a formal and professional assistant.', user: 'What is a busy market like?' });
    expect(set.negative[0].user).toBe(set.positive[0].user);
  });

  it('rejects an empty file, saying it has no prompts', async () => {
    const p = await file('empty.txt', '\n# only a comment\n\n');
    await expect(readPromptFile(p)).rejects.toThrow(InvalidArgumentError);
    await expect(readPromptFile(p)).rejects.toThrow(/has no prompts/);
  });

  it('names the line of a malformed JSON line', async () => {
    const p = await file('bad.jsonl', '{"user": "fine"}\n\n{"user": "broken",\n');
    await expect(readPromptFile(p)).rejects.toThrow(/bad\.jsonl, line 3: not valid JSON/);
  });

  it('names the line of a JSON line without a user field, or with a non-object', async () => {
    await expect(readPromptFile(await file('nouser.jsonl', '{"user": "ok"}\n{"system": "only"}\n'))).rejects.toThrow(/line 2: needs a non-empty "user"/);
    await expect(readPromptFile(await file('array.jsonl', '[1, 2]\n'))).rejects.toThrow(/line 1: expected a JSON object/);
  });

  it('says when a file does not exist', async () => {
    await expect(readPromptFile(path.join(dir, 'missing.txt'))).rejects.toThrow(/missing\.txt does not exist/);
  });
});

describe('readContrastiveFiles', () => {
  it('rejects unequal counts, stating both, unless allowUnequal is set', async () => {
    const pos = await file('pos.txt', 'a\nb\nc\n');
    const neg = await file('neg.txt', 'x\ny\n');
    await expect(readContrastiveFiles(pos, neg)).rejects.toThrow(/pos\.txt has 3 prompts, .*neg\.txt has 2.*row-aligned/);
    const set = await readContrastiveFiles(pos, neg, { allowUnequal: true });
    expect([set.positive.length, set.negative.length]).toEqual([3, 2]);
  });
});

describe('prompt line escapes', () => {
  it('round-trip through encode and decode, including newlines, tabs, backslashes and a leading #', () => {
    for (const s of ['plain', 'two\nlines', 'a\\nb literal', 'tab\there', '# not a comment', 'end\\']) {
      expect(decodePromptLine(encodePromptLine(s))).toBe(s);
      expect(parsePromptText(encodePromptLine(s), { jsonl: false })).toEqual([{ user: s }]);
    }
  });
});
