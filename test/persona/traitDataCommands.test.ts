import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { steeringCheckFrom } from '../../src/cli/promptSourceOptions.js';
import { readPersonaVectorsArtifact, readTraitData } from '../../src/persona/prompts/personaVectorsArtifact.js';
import { loadPersona } from '../../src/steering/personaFile.js';
import type { PersonaVector } from '../../src/steering/PersonaVector.js';
import { spawnAsync } from '../helpers/cli.js';
import { CLI, FIXTURES } from '../helpers/paths.js';
import { formalGrade, serveJudge } from './servedJudge.js';

const persona = (args: string[]) => spawnAsync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 600_000 });
const EXTRACT = path.join(FIXTURES, 'persona_vectors', 'trait_data_extract', 'formal.json');
const EVAL = path.join(FIXTURES, 'persona_vectors', 'trait_data_eval', 'formal.json');
const PAIR = `${EXTRACT},${EVAL}`;

function maxDiff(a: PersonaVector, b: PersonaVector): number {
  let worst = 0;
  a.vectors.forEach((v, l) => v.forEach((x, i) => (worst = Math.max(worst, Math.abs(x - b.vectors[l][i])))));
  return worst;
}

let judge: Awaited<ReturnType<typeof serveJudge>>;
beforeAll(async () => {
  judge = await serveJudge((r) => (r.kind === 'coherence' ? '90' : formalGrade(r.answer)));
});
afterAll(() => judge.close());

describe("persona_vectors' trait files in train, create and generate-prompts", () => {
  it('one mapping: the eval file gives the held-out questions and the judge prompt, the extract file alone gives neither questions', async () => {
    const pair = await readTraitData(PAIR);
    const evalQuestions = (await readPersonaVectorsArtifact(EVAL)).questions;
    expect(pair.set.positive).toHaveLength(100);
    expect(pair).toMatchObject({ extractFile: EXTRACT, evalFile: EVAL, judgeFile: EVAL, heldOutFile: EVAL });
    const check = steeringCheckFrom(`judge:${judge.url},model=judge`, pair);
    expect(check).toEqual({
      spec: { kind: 'judge', baseURL: judge.url, model: 'judge', traitData: EVAL },
      questions: evalQuestions,
      questionsFrom: 'the eval file formal.json',
    });
    // a judge that names its own trait file keeps it
    expect(steeringCheckFrom(`judge:${judge.url},trait-data=${EXTRACT}`, pair).spec).toMatchObject({ traitData: EXTRACT });
    const alone = await readTraitData(EXTRACT);
    expect(alone.judgeFile).toBe(EXTRACT);
    expect(alone.heldOutFile).toBeUndefined();
    expect(steeringCheckFrom(undefined, alone)).toEqual({ spec: undefined });
    await expect(readTraitData(`${EXTRACT},${EVAL},${EVAL}`)).rejects.toThrow(/--trait-data takes extract\.json or extract\.json,eval\.json/);
  });

  it("train's steering check asks the eval file's questions and its judge grades with the eval file's eval_prompt; the persona file and the output say so", async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'pv-tdcheck-'));
    const out = path.join(dir, 'formal.persona.json');
    judge.requests.length = 0;
    const r = await persona(['train', '--trait-data', PAIR, '--out', out, '--max-new-tokens', '24', '--scorer', `judge:${judge.url},model=judge`]);
    expect(r.status, r.stderr.slice(-2000)).toBe(0);
    const evalArt = await readPersonaVectorsArtifact(EVAL);
    const extractQuestions = (await readPersonaVectorsArtifact(EXTRACT)).questions;
    const trait = judge.requests.filter((q) => q.kind === 'trait');
    expect(trait.length).toBeGreaterThan(0);
    // every grading request used the eval_prompt, and asked only (and all) the eval file's questions
    const head = evalArt.eval_prompt.slice(0, evalArt.eval_prompt.indexOf('{question}'));
    expect(trait.every((q) => q.prompt.startsWith(head))).toBe(true);
    expect([...new Set(trait.map((q) => q.question))].sort()).toEqual([...evalArt.questions].sort());
    expect(trait.some((q) => extractQuestions.includes(q.question))).toBe(false);
    const p = await loadPersona(out);
    const v = p.meta.steering!;
    expect(v.questions).toBe(20);
    expect(v.questionsFrom).toBe('the eval file formal.json');
    expect(v.metric).toBe('judge:formal');
    expect(v.metricSource).toBe('scorer');
    expect(r.stdout).toContain('the check asked 20 held-out requests from the eval file formal.json');
    console.log(
      `train --trait-data with the served judge: ${v.verdict} ${v.layer ?? ''} ${v.alpha ?? ''} ${v.effect ? `${v.effect.mean.toFixed(1)} [${v.effect.lo.toFixed(1)}, ${v.effect.hi.toFixed(1)}]` : ''}; ${trait.length} trait gradings`,
    );
  }, 600_000);

  it('create --trait-data, generate-prompts --trait-data and train learn the same vector; --samples-per-question N samples N answers per prompt in each', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'pv-tdsame-'));
    const common = ['--no-check', '--max-new-tokens', '12', '--samples-per-question', '2'];
    const c = await persona(['create', '--trait-data', PAIR, '--out', path.join(dir, 'c.persona.json'), '--batch-size', '16', ...common]);
    expect(c.status, c.stderr.slice(-2000)).toBe(0);
    const t = await persona(['train', '--trait-data', PAIR, '--out', path.join(dir, 't.persona.json'), '--batch-size', '16', ...common]);
    expect(t.status, t.stderr.slice(-2000)).toBe(0);
    const g = await persona(['generate-prompts', '--trait-data', PAIR, '--samples-per-question', '2', '--out-dir', path.join(dir, 'gp')]);
    expect(g.status, g.stderr.slice(-2000)).toBe(0);
    expect(g.stdout).toContain('wrote 200 pairs (100 pairs × 2 samples)');
    const lines = (f: string) =>
      readFileSync(path.join(dir, 'gp', f), 'utf8')
        .trim()
        .split('\n');
    const pos = lines('positive.jsonl').map((l) => JSON.parse(l));
    expect(pos).toHaveLength(200);
    expect(pos.slice(100)).toEqual(pos.slice(0, 100)); // block after block, as the sampled rows are
    expect(pos[0]).toEqual({
      system: `You are a formal assistant. ${(await readPersonaVectorsArtifact(EXTRACT)).instruction[0].pos}`,
      user: (await readPersonaVectorsArtifact(EXTRACT)).questions[0],
    });
    expect(lines('questions-heldout.txt').slice(1)).toEqual((await readPersonaVectorsArtifact(EVAL)).questions);
    expect(JSON.parse(readFileSync(path.join(dir, 'gp', 'persona.json'), 'utf8'))).toMatchObject({
      name: 'formal',
      evalPrompt: (await readPersonaVectorsArtifact(EVAL)).eval_prompt,
      pairs: 200,
      heldOut: 20,
    });
    const f = await persona([
      'train',
      '--positive-prompts',
      path.join(dir, 'gp', 'positive.jsonl'),
      '--negative-prompts',
      path.join(dir, 'gp', 'negative.jsonl'),
      '--out',
      path.join(dir, 'f.persona.json'),
      '--no-check',
      '--max-new-tokens',
      '12',
      '--batch-size',
      '16',
    ]);
    expect(f.status, f.stderr.slice(-2000)).toBe(0);
    const [created, trained, fromFiles] = await Promise.all(['c', 't', 'f'].map((n) => loadPersona(path.join(dir, `${n}.persona.json`))));
    expect(maxDiff(created, trained)).toBe(0);
    expect(maxDiff(created, fromFiles)).toBe(0);
    expect(created.meta.prompts).toMatchObject({ positive: 100, negative: 100, samplesPerQuestion: 2 });
    expect(created.meta).toMatchObject({ name: 'formal', description: 'formal' });
    expect(fromFiles.meta.prompts?.positive).toBe(200);
    // one sample per prompt is another vector
    const one = await persona(['create', '--trait-data', PAIR, '--out', path.join(dir, 'one.persona.json'), '--no-check', '--max-new-tokens', '12']);
    expect(one.status, one.stderr.slice(-2000)).toBe(0);
    const single = await loadPersona(path.join(dir, 'one.persona.json'));
    expect(single.meta.prompts?.samplesPerQuestion).toBeUndefined();
    expect(maxDiff(created, single)).toBeGreaterThan(0);
  }, 600_000);

  it('create and generate-prompts take a description or trait files, and refuse the description-only flags beside trait files', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'pv-tdflags-'));
    const neither = await persona(['create', '--out', path.join(dir, 'x.persona.json')]);
    expect(neither.stderr).toMatch(
      /Give --personality "a one-line description", --trait-data extract\.json\[,eval\.json\] \(persona_vectors' trait files\) or --positive-prompts FILE --negative-prompts FILE, one of the three/,
    );
    const both = await persona(['generate-prompts', '--personality', 'formal', '--trait-data', EXTRACT, '--out-dir', dir]);
    expect(both.stderr).toMatch(/one of the two/);
    const numPrompts = await persona(['generate-prompts', '--trait-data', EXTRACT, '--num-prompts', '8', '--generator', 'local', '--out-dir', dir]);
    expect(numPrompts.stderr).toMatch(
      /--num-prompts, --generator shape the prompts built from --personality; with --trait-data the trait files give the prompts/,
    );
    const zero = await persona(['generate-prompts', '--trait-data', EXTRACT, '--samples-per-question', '0', '--out-dir', dir]);
    expect(zero.stderr).toMatch(/--samples-per-question must be at least 1; got 0/);
    for (const r of [neither, both, numPrompts, zero]) expect(r.status).not.toBe(0);
    // the extract file alone: its prompts, no held-out questions
    const alone = await persona(['generate-prompts', '--trait-data', EXTRACT, '--out-dir', path.join(dir, 'alone')]);
    expect(alone.status, alone.stderr).toBe(0);
    expect(
      readFileSync(path.join(dir, 'alone', 'positive.jsonl'), 'utf8')
        .trim()
        .split('\n'),
    ).toHaveLength(100);
    expect(
      readFileSync(path.join(dir, 'alone', 'questions-heldout.txt'), 'utf8')
        .trim()
        .split('\n'),
    ).toHaveLength(1);
  });
});
