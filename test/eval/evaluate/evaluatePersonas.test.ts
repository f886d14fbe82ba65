import { beforeAll, describe, expect, it } from 'vitest';
import { promises as fs, readFileSync } from 'node:fs';
import path from 'node:path';
import { evaluationReport } from '../../../src/eval/evaluate/evaluationReport.js';
import { evaluatePersonas, type EvaluationResult } from '../../../src/eval/evaluate/evaluatePersonas.js';
import { defaultQuestionSet } from '../../../src/eval/evaluate/questionSets.js';
import { buildTraitScoring, defaultScorerSpec } from '../../../src/eval/evaluate/traitScoring.js';
import { renderHtmlReport } from '../../../src/eval/report/htmlReport.js';
import { REFERENCE, ROOT, STYLIST } from '../../helpers/paths.js';
import { shippedPersona, stylist } from '../../helpers/stylistModel.js';

/** The PyTorch reference: the formal response-mean vector at layer 3, sampled, 64 held-out requests. */
const reference = JSON.parse(readFileSync(path.join(REFERENCE, 'stylist-steering-reference.json'), 'utf8'));
const REF_SWEEP: Record<string, { formality: number; ended: number }> = reference.sweep_no_system_prompt['formal|response_mean|L3|sampled'];
const REF_BASE: { formality: number; ended: number } = reference.baseline_no_system_prompt.sampled;
const refAt = (alpha: number) => (alpha === 0 ? REF_BASE : REF_SWEEP[alpha.toFixed(1)]);

let result: EvaluationResult;

beforeAll(async () => {
  const model = await stylist();
  const formal = await shippedPersona('formal');
  result = await evaluatePersonas(model, {
    personas: [{ persona: formal, file: 'personas/formal.persona.json' }],
    questions: defaultQuestionSet(STYLIST, 64).evaluation,
    alphas: [-8, -4, 0, 4, 8],
    layer: 3,
    traitScoring: await buildTraitScoring(defaultScorerSpec(STYLIST), [formal]),
    compare: true,
    batchSize: 256,
    seed: 0,
  });
});

describe('evaluate on the stylist with the shipped formal persona', () => {
  it('reproduces the direction and rough size of the PyTorch reference dose–response (layer 3, sampled, 64 held-out requests)', () => {
    const sweep = result.personas[0].sweep;
    const f = (a: number) => sweep.find((s) => s.alpha === a)!.metrics.formality.mean;
    const table = sweep.map((s) => `${s.alpha}: ${s.metrics.formality.mean.toFixed(2)} (reference ${refAt(s.alpha).formality})`).join(', ');
    // direction: falls as alpha goes negative, rises as it goes positive
    expect(f(-8), table).toBeLessThan(f(-4));
    expect(f(-4), table).toBeLessThan(f(0));
    expect(f(0), table).toBeLessThan(f(4));
    expect(f(4), table).toBeLessThan(f(8));
    expect(f(8) - f(-8), table).toBeGreaterThan(1);
    // rough size: every alpha within 0.25 of the reference
    for (const s of sweep) expect(Math.abs(s.metrics.formality.mean - refAt(s.alpha).formality), table).toBeLessThan(0.25);
  });

  it('sees answers stop ending their turn at large |alpha|, as the reference does', () => {
    const ended = (a: number) => result.personas[0].sweep.find((s) => s.alpha === a)!.ended.rate;
    const table = result.personas[0].sweep.map((s) => `${s.alpha}: ${s.ended.rate.toFixed(2)} (reference ${refAt(s.alpha).ended})`).join(', ');
    expect(Math.min(ended(-8), ended(8)), table).toBeLessThan(ended(0) - 0.2);
    expect(Math.max(ended(-8), ended(8)), table).toBeLessThanOrEqual(ended(0) + 0.02);
    expect((ended(-8) + ended(8)) / 2, table).toBeLessThan((ended(-4) + ended(0) + ended(4)) / 3);
  });

  it('reports a 95% interval for every metric at every alpha', () => {
    for (const s of result.personas[0].sweep) {
      expect(s.n).toBe(64);
      for (const m of ['formality', 'vivid', 'projection:formal', 'perplexity', 'distinct2']) {
        const x = s.metrics[m];
        expect(x.level).toBe(0.95);
        if (x.std > 0) {
          expect(x.lo, `${m} at ${s.alpha}`).toBeLessThan(x.mean);
          expect(x.hi, `${m} at ${s.alpha}`).toBeGreaterThan(x.mean);
        }
      }
      expect(s.ended.lo).toBeLessThanOrEqual(s.ended.rate);
      expect(s.ended.hi).toBeGreaterThanOrEqual(s.ended.rate);
      expect(s.ended.hi - s.ended.lo).toBeGreaterThan(0);
    }
  });

  it('shows in the entanglement table that the formal vector moves vividness', () => {
    const vivid = result.entanglement.find((e) => e.steered === 'formal' && e.metric === 'vivid')!;
    expect(vivid.own).toBe(false);
    const at8 = vivid.byAlpha.find((b) => b.alpha === 8)!;
    expect(at8.mean, JSON.stringify(vivid.byAlpha)).toBeLessThan(-0.5);
    expect(at8.hi, 'the interval excludes no change').toBeLessThan(0);
    const own = result.entanglement.find((e) => e.steered === 'formal' && e.metric === 'formality')!;
    expect(own.own).toBe(true);
    expect(own.byAlpha.find((b) => b.alpha === 8)!.lo).toBeGreaterThan(0);
    const html = renderHtmlReport(evaluationReport(result));
    expect(html).toContain('Entanglement: how each persona moves every trait');
    expect(html).toMatch(/<td>formal<\/td><td>vivid<\/td><td class="num"><span class="mean">-?\d\.\d\d<\/span> <span class="ci">\[/);
    expect(html).toContain('<td>formality (own)</td>');
  });

  it('moves the monitoring projection with alpha and pays in perplexity under the unsteered model', () => {
    const s = (a: number) => result.personas[0].sweep.find((x) => x.alpha === a)!.metrics;
    expect(s(-8)['projection:formal'].mean).toBeLessThan(s(0)['projection:formal'].mean);
    expect(s(8)['projection:formal'].mean).toBeGreaterThan(s(0)['projection:formal'].mean);
    expect(s(8).perplexity.mean).toBeGreaterThan(s(0).perplexity.mean);
    expect(s(0).perplexity.mean).toBeLessThan(3);
  });

  it("puts unsteered, steered and prompted side by side: the system prompts move formality as the reference's do", () => {
    const row = (label: (l: string) => boolean) => result.comparison.find((c) => label(c.label))!.summary.metrics.formality.mean;
    const unsteered = row((l) => l === 'unsteered');
    const prompted = row((l) => l === 'formal prompted');
    const opposite = row((l) => l === 'formal opposite prompted');
    expect(result.comparison.find((c) => c.label === 'formal prompted')!.system).toBe('You are a formal and professional assistant.');
    expect(prompted).toBeGreaterThan(unsteered + 0.4);
    expect(Math.abs(prompted - reference.baseline_by_system_prompt.formal_sys.formality)).toBeLessThan(0.5);
    expect(opposite).toBeLessThan(-0.8);
    expect(result.comparison.map((c) => c.condition)).toEqual(['unsteered', 'steered', 'steered', 'prompted', 'prompted-opposite']);
  });

  it('pairs answers across alphas by seed and writes every answer with its scores', async () => {
    expect(result.answers).toHaveLength(5 * 64 + 2 * 64);
    const q5 = result.answers.filter((a) => a.question === 5);
    expect(new Set(q5.map((a) => a.seed))).toEqual(new Set([5]));
    expect(result.answers.every((a) => typeof a.scores.formality === 'number')).toBe(true);
    expect(result.timing.generatedTokens).toBeGreaterThan(1000);
    const out = path.join(ROOT, 'test-output', 'eval', 'evaluate');
    await fs.mkdir(out, { recursive: true });
    await fs.writeFile(path.join(out, 'formal-evaluation.json'), JSON.stringify(result, null, 1));
  });
});
