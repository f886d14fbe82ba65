import { promises as fs } from 'node:fs';
import { spawnAsync } from '../helpers/cli.js';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadModel } from '../../src/engine/LanguageModel.js';
import { readQuestionSet } from '../../src/eval/evaluate/questionSets.js';
import { buildTraitScoring, parseScorerSpec } from '../../src/eval/evaluate/traitScoring.js';
import { renderPrompt } from '../../src/eval/scorers/judgePrompts.js';
import { loadMarkersScorer, scoreMarkers } from '../../src/eval/scorers/markersScorer.js';
import { computePersonaVector } from '../../src/persona/computePersonaVector.js';
import {
  artifactContrastiveSet,
  isPersonaVectorsArtifact,
  parsePersonaVectorsArtifact,
  personaVectorsSystemPrompt,
  readArtifactSet,
  readPersonaVectorsArtifact,
} from '../../src/persona/prompts/personaVectorsArtifact.js';
import { loadPersona } from '../../src/steering/personaFile.js';
import { CLI, FIXTURES, PERSONAS, STYLIST } from '../helpers/paths.js';

const DIR = path.join(FIXTURES, 'persona_vectors');
const EXTRACT = path.join(DIR, 'trait_data_extract', 'formal.json');
const EVAL = path.join(DIR, 'trait_data_eval', 'formal.json');

describe("persona_vectors' trait artefact files", () => {
  it('builds the system prompts as persona_vectors does: the trait for pos, "helpful" for neg, a/an by the first letter', async () => {
    expect(personaVectorsSystemPrompt('evil', 'pos', 'Be cruel.')).toBe('You are an evil assistant. Be cruel.');
    expect(personaVectorsSystemPrompt('evil', 'neg', 'Be kind.')).toBe('You are a helpful assistant. Be kind.');
    expect(personaVectorsSystemPrompt('sycophantic', 'pos', 'Flatter.')).toBe('You are a sycophantic assistant. Flatter.');
  });

  it('maps the extract file to questions × instruction pairs, row-aligned, and the eval file to held-out questions and the judge prompt', async () => {
    const extract = await readPersonaVectorsArtifact(EXTRACT);
    const evalArt = await readPersonaVectorsArtifact(EVAL);
    const set = await readArtifactSet(EXTRACT, EVAL);
    expect(set.positive).toHaveLength(extract.questions.length * extract.instruction.length); // 20 × 5
    expect(set.negative).toHaveLength(set.positive.length);
    set.positive.forEach((p, i) => expect(p.user).toBe(set.negative[i].user));
    expect(set.positive[6]).toEqual({ system: `You are a formal assistant. ${extract.instruction[1].pos}`, user: extract.questions[1] });
    expect(set.negative[6]).toEqual({ system: `You are a helpful assistant. ${extract.instruction[1].neg}`, user: extract.questions[1] });
    expect(set.questionsHeldOut).toEqual(evalArt.questions);
    expect(set.evalPrompt).toBe(evalArt.eval_prompt);
    expect(set.name).toBe('formal');
    const alone = artifactContrastiveSet(extract, { trait: 'formal' });
    expect(alone.questionsHeldOut).toBeUndefined();
    expect(alone.evalPrompt).toBe(extract.eval_prompt);
  });

  it('tells a prompt file from an artefact and names the file and field of a malformed one', async () => {
    expect(isPersonaVectorsArtifact(JSON.parse(await fs.readFile(EXTRACT, 'utf8')))).toBe(true);
    expect(isPersonaVectorsArtifact({ user: 'Hi' })).toBe(false);
    expect(() => parsePersonaVectorsArtifact({ instruction: [{ pos: 'x' }], questions: ['q'], eval_prompt: '{question}{answer}' }, 'evil.json')).toThrow(
      /^evil\.json is not a persona_vectors trait file: instruction\[0\] needs non-empty "pos" and "neg"/,
    );
    expect(() => parsePersonaVectorsArtifact({ instruction: [{ pos: 'x', neg: 'y' }], questions: [], eval_prompt: '{question}{answer}' }, 'evil.json')).toThrow(
      /"questions" is not a non-empty array/,
    );
    expect(() => parsePersonaVectorsArtifact({ instruction: [{ pos: 'x', neg: 'y' }], questions: ['q'], eval_prompt: 'no placeholders' }, 'evil.json')).toThrow(
      /"eval_prompt" has no \{question\} placeholder/,
    );
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'pva-'));
    await fs.writeFile(path.join(dir, 'bad.json'), '{"instruction": ');
    await expect(readPersonaVectorsArtifact(path.join(dir, 'bad.json'))).rejects.toThrow(/bad\.json is not valid JSON/);
  });

  it('trains a formal persona on the stylist from the artefact pair that matches the shipped one', async () => {
    const model = await loadModel(STYLIST);
    try {
      const set = await readArtifactSet(EXTRACT, EVAL);
      const { persona } = await computePersonaVector({
        model,
        positivePrompts: set.positive,
        negativePrompts: set.negative,
        name: 'formal-pv',
        maxNewTokens: 32,
        sampling: { temperature: 0.8, topK: 50, seed: 1 },
        batchSize: 32,
      });
      const shipped = await loadPersona(path.join(PERSONAS, 'formal.persona.json'));
      const cos = (l: number) => {
        const a = persona.unit(l),
          b = shipped.unit(l);
        return a.reduce((s, x, i) => s + x * b[i], 0);
      };
      const best = Math.max(...Array.from({ length: 6 }, (_, l) => cos(l)));
      console.log(`artefact-trained formal vs shipped formal: cosine per layer ${Array.from({ length: 6 }, (_, l) => cos(l).toFixed(2)).join(' ')}`);
      expect(best).toBeGreaterThan(0.7);
      // and the answers under the artefact's two sides differ in formality as the trait says
      const spec = (await loadMarkersScorer(path.join(STYLIST, 'style_markers.json'))).spec;
      const pick = (side: typeof set.positive) => side.filter((_, i) => i % 5 === 0).slice(0, 16);
      const answer = async (side: typeof set.positive) =>
        (
          await model.generate(
            pick(side).map((p) => ({ system: p.system, user: p.user })),
            { maxNewTokens: 32 },
          )
        ).map((o) => scoreMarkers(spec, o.text).formality);
      const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
      expect(mean(await answer(set.positive))).toBeGreaterThan(mean(await answer(set.negative)) + 0.5);
    } finally {
      await model.dispose();
    }
  }, 300_000);

  it("gives the judge the eval file's eval_prompt (scorer judge:URL,trait-data=FILE) over the OpenAI protocol", async () => {
    const prompts: string[] = [];
    const server = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        prompts.push(JSON.parse(body).messages[0].content);
        res.setHeader('content-type', 'application/json');
        res.end(
          JSON.stringify({
            choices: [
              {
                index: 0,
                finish_reason: 'stop',
                message: { role: 'assistant', content: '85' },
                logprobs: { content: [{ token: '85', logprob: 0, top_logprobs: [{ token: '85', logprob: 0 }] }] },
              },
            ],
          }),
        );
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
      const spec = parseScorerSpec(`judge:${url},model=judge,trait-data=${EVAL}`);
      expect(spec).toMatchObject({ kind: 'judge', traitData: EVAL });
      const formal = await loadPersona(path.join(PERSONAS, 'formal.persona.json'));
      const ts = await buildTraitScoring(spec, [formal]);
      expect(ts.description).toMatch(/with the eval_prompt of formal\.json/);
      const [row] = await ts.scorers[0].score([{ question: 'Invite Sam to lunch.', answer: 'Dear Sam, you are cordially invited.' }]);
      expect(row['judge:formal']).toBe(85);
      const evalPrompt = (await readPersonaVectorsArtifact(EVAL)).eval_prompt;
      expect(prompts).toContain(renderPrompt(evalPrompt, { question: 'Invite Sam to lunch.', answer: 'Dear Sam, you are cordially invited.' }));
    } finally {
      server.close();
    }
  });

  it('persona train --trait-data takes the published pair of files and says where a trait file given as a prompt file belongs', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'pvtrain-'));
    const out = path.join(dir, 'formal-pv.persona.json');
    const run = (args: string[]) => spawnAsync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 300_000 });
    const r = await run(['train', '--trait-data', `${EXTRACT},${EVAL}`, '--out', out, '--no-check', '--max-new-tokens', '24']);
    expect(r.status, r.stderr).toBe(0);
    const p = await loadPersona(out);
    expect(p.meta.prompts?.positive).toBe(100); // 20 questions × 5 instruction pairs
    expect(p.meta.prompts?.systemPositive?.[0]).toMatch(/^You are a formal assistant\. /);
    const shipped = await loadPersona(path.join(PERSONAS, 'formal.persona.json'));
    const cos = Math.max(...Array.from({ length: 6 }, (_, l) => p.unit(l).reduce((s, x, i) => s + x * shipped.unit(l)[i], 0)));
    expect(cos).toBeGreaterThan(0.7);
    const wrong = await run(['train', '--positive-prompts', EXTRACT, '--negative-prompts', EXTRACT, '--out', out]);
    expect(wrong.status).not.toBe(0);
    expect(wrong.stderr).toMatch(/is a persona_vectors trait file, not a prompt file: pass it as --trait-data/);
    const neither = await run(['train', '--out', out]);
    expect(neither.stderr).toMatch(/Give --positive-prompts and --negative-prompts \(prompt files\), or --trait-data/);
  }, 300_000);

  it("asks the eval file's questions when evaluate or analyze-layers get it as --questions", async () => {
    const q = await readQuestionSet(EVAL, STYLIST);
    expect(q.evaluation).toEqual((await readPersonaVectorsArtifact(EVAL)).questions);
    expect(q.extraction.some((x) => q.evaluation.includes(x))).toBe(false);
  });
});
