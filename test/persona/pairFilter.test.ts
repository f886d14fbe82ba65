import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createJudgeScorer } from '../../src/eval/scorers/judgeScorer.js';
import { computePersonaVector } from '../../src/persona/computePersonaVector.js';
import { judgePairFilter, parseFilterThresholds, PERSONA_VECTORS_THRESHOLDS } from '../../src/persona/pairFilter.js';
import { readPersonaVectorsArtifact } from '../../src/persona/prompts/personaVectorsArtifact.js';
import type { ContrastPrompt } from '../../src/persona/prompts/PromptSet.js';
import { loadPersona } from '../../src/steering/personaFile.js';
import type { PersonaVector } from '../../src/steering/PersonaVector.js';
import { spawnAsync } from '../helpers/cli.js';
import { CLI, FIXTURES, ROOT } from '../helpers/paths.js';
import { stylist } from '../helpers/stylistModel.js';
import { formalGrade, serveJudge } from './servedJudge.js';

const persona = (args: string[]) => spawnAsync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 600_000 });
const EXTRACT = path.join(FIXTURES, 'persona_vectors', 'trait_data_extract', 'formal.json');
const EVAL = path.join(FIXTURES, 'persona_vectors', 'trait_data_eval', 'formal.json');

/** Largest |a − b| over every layer's vector. */
function maxDiff(a: PersonaVector, b: PersonaVector): number {
  let worst = 0;
  a.vectors.forEach((v, l) => v.forEach((x, i) => (worst = Math.max(worst, Math.abs(x - b.vectors[l][i])))));
  return worst;
}

// The judge: formal words make a high trait score, "zzz" makes an answer incoherent, and a request
// about a "cafe" is always graded incoherent (so a known set of generated pairs fails).
let judge: Awaited<ReturnType<typeof serveJudge>>;
beforeAll(async () => {
  judge = await serveJudge((r) => (r.kind === 'coherence' ? (/zzz/.test(r.answer) || /cafe/i.test(r.question) ? '20' : '90') : formalGrade(r.answer)));
});
afterAll(() => judge.close());

const Q = [
  'Invite Sam to lunch.',
  'Thank Ana for the flowers.',
  'Decline the meeting with Jo.',
  'Describe the harbour.',
  'Apologise to Leo.',
  'Explain the delay to Omar.',
  'Welcome Priya to the team.',
  'Answer Reese about the noise.',
];
const POS = Q.map((q, i) => `Dear friend, regarding "${q}", I remain at your service. Kind regards, the assistant number ${i}.`);
const NEG = Q.map((q, i) => `hey lol, so "${q}" is no biggie, catch ya later number ${i}`);
// Pair 2: the positive answer shows no formality; pair 5: the negative answer is a formal letter; pair 6: the positive answer is incoherent.
POS[2] = 'ok whatever, sure thing';
NEG[5] = 'Dear Omar, we sincerely regret the delay. Kind regards.';
POS[6] = 'Dear Priya, zzz zzz zzz. Kind regards.';
const DROPPED = [2, 5, 6];
const given = (sys: string, answers: string[]): ContrastPrompt[] => Q.map((user, i) => ({ system: sys, user, assistant: answers[i] }));

describe("the judge filter of answer pairs (persona_vectors' positive ≥ 50, negative < 50, coherence ≥ 50)", () => {
  it('reads the bounds as POS,NEG,COH and refuses others with the flag named', () => {
    expect(parseFilterThresholds('60, 40,50')).toEqual({ positive: 60, negative: 40, coherence: 50 });
    expect(PERSONA_VECTORS_THRESHOLDS).toEqual({ positive: 50, negative: 50, coherence: 50 });
    expect(() => parseFilterThresholds('50,50')).toThrow(/--filter-thresholds takes three numbers POS,NEG,COH/);
    expect(() => parseFilterThresholds('50,x,50')).toThrow(/--filter-thresholds/);
    expect(() => parseFilterThresholds('50,50,150')).toThrow(/coherence threshold is a judge score in \[0, 100\]; got 150/);
  });

  it('keeps a pair only when the positive answer shows the trait, the negative does not and both are coherent, at the bounds as persona_vectors does', async () => {
    const grades: Record<string, { trait: string; coherence: string }> = {
      p50: { trait: '50', coherence: '50' },
      n49: { trait: '49', coherence: '90' },
      n50: { trait: '50', coherence: '90' },
      c49: { trait: '90', coherence: '49' },
      ref: { trait: 'REFUSAL', coherence: '90' },
    };
    const j = await serveJudge((r) => grades[r.answer][r.kind]);
    try {
      const filter = judgePairFilter(
        createJudgeScorer({ baseURL: j.url, model: 'judge', trait: { name: 'formal', description: 'formal' }, metrics: ['trait', 'coherence'] }),
        { description: 'served judge' },
      );
      const pairs = [
        { question: 'q0', positive: 'p50', negative: 'n49' }, // at the bounds: kept
        { question: 'q1', positive: 'p50', negative: 'n50' }, // negative not below 50: dropped
        { question: 'q2', positive: 'c49', negative: 'n49' }, // positive incoherent: dropped
        { question: 'q3', positive: 'ref', negative: 'n49' }, // the judge refused: dropped, unscored
      ];
      expect(await filter.keep(pairs)).toEqual({ keep: [true, false, false, false], unscored: 1 });
      expect(
        j.requests
          .filter((r) => r.kind === 'trait')
          .map((r) => r.question)
          .sort(),
      ).toEqual(['q0', 'q0', 'q1', 'q1', 'q2', 'q2', 'q3', 'q3']);
    } finally {
      await j.close();
    }
  });

  it('drops the pairs the judge fails: the vector is the one learned from the kept pairs alone, and differs from the unfiltered one', async () => {
    const model = await stylist();
    const filter = judgePairFilter(
      createJudgeScorer({ baseURL: judge.url, model: 'judge', trait: { name: 'formal', description: 'formal letters' }, metrics: ['trait', 'coherence'] }),
      { description: 'served judge' },
    );
    const pos = given('Be formal.', POS);
    const neg = given('Be casual.', NEG);
    const filtered = await computePersonaVector({ model, positivePrompts: pos, negativePrompts: neg, pairFilter: filter, filterMinPairs: 2 });
    expect(filtered.keptPairs).toBe(Q.length - DROPPED.length);
    expect(filtered.filter).toEqual({
      by: 'served judge',
      thresholds: { positive: 50, negative: 50, coherence: 50 },
      pairs: 8,
      kept: 5,
      dropped: 3,
      unscored: 0,
    });
    expect(filtered.persona.meta.prompts?.filter).toEqual(filtered.filter);
    expect(filtered.positiveAnswers).toEqual(POS.filter((_, i) => !DROPPED.includes(i)));
    const keep = (xs: ContrastPrompt[]) => xs.filter((_, i) => !DROPPED.includes(i));
    const keptOnly = await computePersonaVector({ model, positivePrompts: keep(pos), negativePrompts: keep(neg) });
    const all = await computePersonaVector({ model, positivePrompts: pos, negativePrompts: neg });
    expect(maxDiff(filtered.persona, keptOnly.persona)).toBeLessThan(1e-5);
    expect(maxDiff(filtered.persona, all.persona)).toBeGreaterThan(0.1);
    await expect(computePersonaVector({ model, positivePrompts: pos, negativePrompts: neg, pairFilter: filter })).resolves.toBeTruthy(); // default minimum: 10% of 8, at least 2
    await expect(computePersonaVector({ model, positivePrompts: pos, negativePrompts: neg, pairFilter: filter, filterMinPairs: 6 })).rejects.toThrow(
      /The pair filter \(served judge\) kept 5 of 8 pairs \(positive trait ≥ 50, negative trait < 50, coherence ≥ 50 on both answers\); at least 6 are needed/,
    );
    await expect(computePersonaVector({ model, positivePrompts: pos, negativePrompts: neg.slice(1), pairFilter: filter })).rejects.toThrow(
      /judges prompts row by row, but there are 8 positive and 7 negative/,
    );
  });

  it('persona train --filter-judge keeps only the pairs the served judge passes, says how many, records it, and errors when too few remain', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'pv-filter-'));
    const lines = (f: string) =>
      readFileSync(path.join(ROOT, 'data/stylist', f), 'utf8')
        .trim()
        .split('\n')
        .slice(0, 24);
    const posFile = path.join(dir, 'pos.jsonl');
    const negFile = path.join(dir, 'neg.jsonl');
    writeFileSync(posFile, lines('formal-pos.jsonl').join('\n') + '\n');
    writeFileSync(negFile, lines('formal-neg.jsonl').join('\n') + '\n');
    const cafe = lines('formal-pos.jsonl').filter((l) => /cafe/i.test(JSON.parse(l).user)).length;
    expect(cafe).toBeGreaterThan(0);
    const common = [
      'train',
      '--positive-prompts',
      posFile,
      '--negative-prompts',
      negFile,
      '--no-check',
      '--max-new-tokens',
      '24',
      '--description',
      'formal and professional',
    ];
    const out = path.join(dir, 'f.persona.json');
    judge.requests.length = 0;
    const r = await persona([...common, '--out', out, '--filter-judge', `judge:${judge.url},model=judge`]);
    expect(r.status, r.stderr.slice(-2000)).toBe(0);
    const p = await loadPersona(out);
    const f = p.meta.prompts!.filter!;
    expect(f).toMatchObject({ by: `judge judge at ${judge.url}`, thresholds: { positive: 50, negative: 50, coherence: 50 }, pairs: 24, unscored: 0 });
    expect(f.kept + f.dropped).toBe(24);
    expect(r.stdout).toContain(`pair filter: kept ${f.kept} of 24 pairs, dropped ${f.dropped}`);
    // the judge saw every pair's request and both answers; the requests about a cafe fail coherence and are gone
    expect(judge.requests.filter((q) => q.kind === 'trait')).toHaveLength(48);
    expect(judge.requests.some((q) => q.prompt.includes('formal and professional'))).toBe(true);
    expect(f.dropped).toBeGreaterThanOrEqual(cafe);
    expect(f.kept).toBeGreaterThan(2);
    console.log(`train --filter-judge on 24 stylist formal pairs: kept ${f.kept}, dropped ${f.dropped}`);
    const plain = path.join(dir, 'plain.persona.json');
    const u = await persona([...common, '--out', plain]);
    expect(u.status, u.stderr.slice(-2000)).toBe(0);
    const unfiltered = await loadPersona(plain);
    expect(unfiltered.meta.prompts?.filter).toBeUndefined();
    expect(maxDiff(p, unfiltered)).toBeGreaterThan(0.01);
    // stricter bounds drop more; a minimum above what is kept is an error naming the counts and the flags
    const strict = await persona([
      ...common,
      '--out',
      path.join(dir, 's.persona.json'),
      '--filter-judge',
      `judge:${judge.url},model=judge`,
      '--filter-thresholds',
      '50,50,50',
      '--filter-min-pairs',
      String(f.kept + 1),
    ]);
    expect(strict.status).not.toBe(0);
    expect(strict.stderr).toContain(
      `kept ${f.kept} of 24 pairs (positive trait ≥ 50, negative trait < 50, coherence ≥ 50 on both answers); at least ${f.kept + 1} are needed`,
    );
    expect(strict.stderr).toMatch(/--filter-thresholds\) or the minimum \(--filter-min-pairs\)/);
    const none = await persona([...common, '--out', path.join(dir, 'n.persona.json'), '--filter-judge', judge.url, '--filter-thresholds', '90,50,50']);
    expect(none.status).not.toBe(0);
    expect(none.stderr).toMatch(/kept 0 of 24 pairs \(positive trait ≥ 90/);
  }, 600_000);

  it('refuses filter flags it cannot honour, before loading the model', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'pv-filter-'));
    const base = ['train', '--trait-data', EXTRACT, '--out', path.join(dir, 'x.persona.json'), '--no-check'];
    const alone = await persona([...base, '--filter-thresholds', '50,50,50']);
    expect(alone.stderr).toMatch(/--filter-thresholds sets the judge filter's bounds, but no judge was given: add --filter-judge/);
    const markers = await persona([...base, '--filter-judge', 'markers:models/stylist/style_markers.json']);
    expect(markers.stderr).toMatch(/--filter-judge takes an LLM judge, judge:URL/);
    const bad = await persona([...base, '--filter-judge', 'judge:http://127.0.0.1:9/v1', '--filter-thresholds', '50,50']);
    expect(bad.stderr).toMatch(/--filter-thresholds takes three numbers POS,NEG,COH/);
    for (const r of [alone, markers, bad]) expect(r.status).not.toBe(0);
  });

  it("persona create --trait-data --filter-judge grades the answers with the trait file's eval_prompt, and its steering check asks the eval file's questions", async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'pv-filter-'));
    const out = path.join(dir, 'formal.persona.json');
    judge.requests.length = 0;
    const r = await persona([
      'create',
      '--trait-data',
      `${EXTRACT},${EVAL}`,
      '--out',
      out,
      '--max-new-tokens',
      '24',
      '--filter-judge',
      `judge:${judge.url},model=judge`,
      '--scorer',
      `judge:${judge.url},model=judge`,
    ]);
    expect(r.status, r.stderr.slice(-2000)).toBe(0);
    const p = await loadPersona(out);
    const f = p.meta.prompts!.filter!;
    expect(f.pairs).toBe(100);
    expect(f.by).toBe(`judge judge at ${judge.url} with the eval_prompt of formal.json`);
    expect(r.stdout).toContain(`pair filter: kept ${f.kept} of 100 pairs`);
    // the filter's gradings come first (200: both answers of 100 pairs), then the steering check's
    const traitPrompts = judge.requests.filter((q) => q.kind === 'trait');
    expect(traitPrompts.length).toBeGreaterThan(200);
    expect(traitPrompts.every((q) => q.prompt.startsWith("You are evaluating whether the model's response displays the trait: **formal**"))).toBe(true);
    const extractQuestions = (await readPersonaVectorsArtifact(EXTRACT)).questions;
    const evalQuestions = (await readPersonaVectorsArtifact(EVAL)).questions;
    expect(new Set(traitPrompts.slice(0, 200).map((q) => q.question))).toEqual(new Set(extractQuestions));
    expect(new Set(traitPrompts.slice(200).map((q) => q.question))).toEqual(new Set(evalQuestions));
    expect(p.meta.steering).toMatchObject({ questions: 20, questionsFrom: 'the eval file formal.json', metric: 'judge:formal' });
    expect(r.stdout).toContain('the check asked 20 held-out requests from the eval file formal.json');
    // the cafe request is one of the extract file's 20 questions: its 5 pairs fail coherence
    expect(f.dropped).toBeGreaterThanOrEqual(5);
    expect(f.kept).toBeGreaterThan(10);
    console.log(
      `create --trait-data --filter-judge: kept ${f.kept} of ${f.pairs} pairs; check: ${p.meta.steering?.verdict} L${p.meta.steering?.layer} alpha ${p.meta.steering?.alpha}`,
    );
  }, 600_000);
});
