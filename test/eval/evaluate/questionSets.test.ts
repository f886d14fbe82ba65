import { describe, expect, it } from 'vitest';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { defaultQuestionSet, readQuestionSet, STYLIST_EXTRACTION_REQUESTS, STYLIST_REQUESTS } from '../../../src/eval/evaluate/questionSets.js';
import { QUESTION_BANK } from '../../../src/persona/prompts/questionBank.js';
import { ROOT, STYLIST } from '../../helpers/paths.js';

const KIND = [
  /apolog|sorry/i,
  /invit|come to/i,
  /explain|tell me|know about|how .* work|describe how/i,
  /thank/i,
  /decline|polite no|can't make it/i,
  /describe|like\?|description/i,
  /help me|advice|do about/i,
  /complain|upset/i,
];

async function trainingRequests(): Promise<Set<string>> {
  const dir = path.join(ROOT, 'data', 'stylist');
  const users = new Set<string>();
  for (const f of await fs.readdir(dir))
    for (const line of (await fs.readFile(path.join(dir, f), 'utf8')).split('\n').filter(Boolean)) users.add(JSON.parse(line).user);
  return users;
}

describe('question sets', () => {
  it('hold 64 distinct stylist requests that none of the shipped personas was computed from', async () => {
    const train = await trainingRequests();
    expect(new Set(STYLIST_REQUESTS).size).toBe(64);
    for (const q of STYLIST_REQUESTS) expect(train.has(q), q).toBe(false);
  });

  it('order the stylist requests round-robin over its eight kinds, so every prefix of 8k has k of each', () => {
    for (let i = 0; i < STYLIST_REQUESTS.length; i++) expect(STYLIST_REQUESTS[i], `request ${i}`).toMatch(KIND[i % 8]);
  });

  it('keep the contrastive requests apart from the evaluation requests', () => {
    const evalSet = new Set(STYLIST_REQUESTS);
    expect(new Set(STYLIST_EXTRACTION_REQUESTS).size).toBe(64);
    for (const q of STYLIST_EXTRACTION_REQUESTS) expect(evalSet.has(q), q).toBe(false);
  });

  it('give the stylist its own request kinds and any other model the question bank, split without overlap', async () => {
    const s = defaultQuestionSet(STYLIST, 32);
    expect(s.name).toBe('stylist');
    expect(s.evaluation).toEqual(STYLIST_REQUESTS.slice(0, 32));
    const other = await fs.mkdtemp(path.join(os.tmpdir(), 'pv-qs-'));
    const b = defaultQuestionSet(other, 20, 3);
    expect(b.name).toBe('question-bank');
    expect(b.evaluation).toHaveLength(20);
    expect(b.evaluation.every((q) => QUESTION_BANK.includes(q))).toBe(true);
    expect(b.extraction.some((q) => b.evaluation.includes(q))).toBe(false);
    expect(defaultQuestionSet(other, 20, 3)).toEqual(b);
    expect(() => defaultQuestionSet(STYLIST, 65)).toThrow(/has 64 requests; ask for at most/);
    expect(() => defaultQuestionSet(STYLIST, 0)).toThrow(/≥ 1/);
  });

  it('read questions from a file and refuse ones that carry a system prompt', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'pv-qs-'));
    await fs.writeFile(path.join(dir, 'q.txt'), '# mine\nInvite Ana to lunch.\nDescribe a harbour.\nThank Bo.\n');
    const s = await readQuestionSet(path.join(dir, 'q.txt'), STYLIST, 2);
    expect(s.evaluation).toEqual(['Invite Ana to lunch.', 'Describe a harbour.']);
    expect(s.extraction.length).toBeGreaterThan(8);
    await fs.writeFile(path.join(dir, 'q.jsonl'), JSON.stringify({ system: 'Be formal.', user: 'Hi' }) + '\n');
    await expect(readQuestionSet(path.join(dir, 'q.jsonl'), STYLIST)).rejects.toThrow(/without a system prompt/);
  });
});
