import { beforeAll, describe, expect, it } from 'vitest';
import path from 'node:path';
import { buildTraitScoring, defaultScorerSpec } from '../../src/eval/evaluate/traitScoring.js';
import { recommendSteering, type SteeringCheck } from '../../src/eval/layers/recommendSteering.js';
import { meanDifference, pcaOfCentredDifferences, pcaOfDifferences, probeDirection } from '../../src/persona/aggregators.js';
import { computePersonaVector, type PersonaComputation } from '../../src/persona/computePersonaVector.js';
import { readContrastiveFiles } from '../../src/persona/promptFiles.js';
import type { ContrastPrompt } from '../../src/persona/prompts/PromptSet.js';
import type { ExtractionMethod, PersonaVector, Reading } from '../../src/steering/PersonaVector.js';
import { ROOT, STYLIST } from '../helpers/paths.js';
import { stylist } from '../helpers/stylistModel.js';
import { cosine } from '../../src/util/numerics.js';

const BASE = { name: 'formal', maxNewTokens: 48, sampling: { temperature: 0.8, topK: 50, seed: 0 }, batchSize: 32 };
let positive: ContrastPrompt[];
let negative: ContrastPrompt[];
let generated: PersonaComputation;
let givenPos: ContrastPrompt[];
let givenNeg: ContrastPrompt[];

beforeAll(async () => {
  const model = await stylist();
  ({ positive, negative } = await readContrastiveFiles(path.join(ROOT, 'data/stylist/formal-pos.jsonl'), path.join(ROOT, 'data/stylist/formal-neg.jsonl')));
  generated = await computePersonaVector({ model, ...BASE, positivePrompts: positive, negativePrompts: negative });
  givenPos = positive.map((p, i) => ({ ...p, assistant: generated.positiveAnswers[i] }));
  givenNeg = negative.map((p, i) => ({ ...p, assistant: generated.negativeAnswers[i] }));
}, 600_000);

const check = async (persona: PersonaVector): Promise<SteeringCheck> => {
  const model = await stylist();
  return recommendSteering(model, persona, { traitScoring: await buildTraitScoring(defaultScorerSpec(STYLIST), [persona]) });
};
const describeCheck = (c: SteeringCheck) =>
  c.layers
    .filter((l) => l.measured)
    .map((l) => `L${l.layer}: ${l.cells.map((x) => `${x.alpha}→${x.effect.mean.toFixed(2)}[${x.effect.lo.toFixed(2)}]`).join(' ')}`)
    .join('; ');

describe('aggregators', () => {
  const pos = [Float32Array.from([2, 1, 0]), Float32Array.from([3, -1, 0]), Float32Array.from([2.5, 0.2, 1])];
  const neg = [Float32Array.from([0, 1, 0]), Float32Array.from([0, -1, 0.1]), Float32Array.from([0.5, 0, 1])];

  it('sign every direction toward the positive set and scale all but mean-diff to the mean projected gap', () => {
    const md = meanDifference(pos, neg);
    for (const agg of [pcaOfDifferences, pcaOfCentredDifferences, probeDirection]) {
      const v = agg(pos, neg);
      const n = Math.hypot(...v);
      const gap = md.reduce((s, x, i) => s + (x * v[i]) / n, 0);
      expect(gap).toBeGreaterThanOrEqual(0);
      expect(n).toBeCloseTo(gap, 5);
    }
    // flipping the sets flips the direction
    expect(cosine(pcaOfDifferences(neg, pos), pcaOfDifferences(pos, neg))).toBeCloseTo(-1, 5);
  });

  it('uncentred PCA follows the shared difference while centred PCA (repeng pca_diff) is orthogonal to it', () => {
    // every pair differs by the same (4, 0, 0) plus a spread along the second axis
    const p = [Float32Array.from([4, 1, 0]), Float32Array.from([4, -1, 0]), Float32Array.from([4, 0.5, 0]), Float32Array.from([4, -0.5, 0])];
    const n = p.map(() => Float32Array.from([0, 0, 0]));
    expect(cosine(pcaOfDifferences(p, n), [1, 0, 0])).toBeGreaterThan(0.99);
    // centring removed the shared difference: the component lies along the spread, orthogonal to
    // the trait, so scaled to its projected gap the vector is zero
    expect(Math.hypot(...pcaOfCentredDifferences(p, n))).toBeLessThan(1e-6);
    expect(Math.hypot(...pcaOfDifferences(p, n))).toBeCloseTo(4, 3);
  });
});

describe('extraction methods on the stylist (formal prompts)', () => {
  it('given-text training reproduces the generated-answer vector when fed the same answers (cos ≥ 0.999 at every layer)', async () => {
    const model = await stylist();
    const given = await computePersonaVector({ model, ...BASE, positivePrompts: givenPos, negativePrompts: givenNeg });
    expect(given.persona.meta.prompts?.positive).toBe(64);
    for (let l = 0; l < 6; l++) expect(cosine(given.persona.layer(l), generated.persona.layer(l)), `layer ${l}`).toBeGreaterThanOrEqual(0.999);
  });

  it('refuse a file that mixes given answers and prompts without them, and answer-token without prefixes', async () => {
    const model = await stylist();
    await expect(computePersonaVector({ model, ...BASE, positivePrompts: [givenPos[0], positive[1]], negativePrompts: givenNeg.slice(0, 2) })).rejects.toThrow(
      /1 of 4 have none/,
    );
    await expect(
      computePersonaVector({ model, ...BASE, positivePrompts: positive.slice(0, 2), negativePrompts: negative.slice(0, 2), read: 'answer-token' }),
    ).rejects.toThrow(/assistant prefixes/);
  });

  // Measured with this same check (docs/methods.md): which methods and readings steer formality at their recommended setting.
  const steers: Array<[string, ExtractionMethod, Reading, 'given' | 'generated' | 'ab']> = [
    ['pca (uncentred)', 'pca', 'response-mean', 'given'],
    ['probe', 'probe', 'response-mean', 'given'],
    ['prompt_avg_diff (prompt-mean)', 'mean-diff', 'prompt-mean', 'generated'],
    ['CAA (answer-token on the A/B set)', 'mean-diff', 'answer-token', 'ab'],
  ];
  for (const [label, method, read, source] of steers) {
    it(`${label} steers formality at its recommended layer and alpha, with an interval above zero`, async () => {
      const model = await stylist();
      const ab =
        source === 'ab'
          ? await readContrastiveFiles(path.join(ROOT, 'data/stylist/formal-ab-pos.jsonl'), path.join(ROOT, 'data/stylist/formal-ab-neg.jsonl'))
          : undefined;
      const [pp, nn] = ab ? [ab.positive, ab.negative] : source === 'given' ? [givenPos, givenNeg] : [positive, negative];
      const { persona } = await computePersonaVector({ model, ...BASE, method, read, positivePrompts: pp, negativePrompts: nn });
      const c = await check(persona);
      expect(c.recommendation.verdict, describeCheck(c)).toBe('steers');
      expect(c.recommendation.effect!.lo, describeCheck(c)).toBeGreaterThan(0);
    }, 600_000);
  }

  it('pca-centred (repeng pca_diff) has cosine under 0.3 with mean-diff and does not measurably steer formality', async () => {
    const model = await stylist();
    const { persona } = await computePersonaVector({ model, ...BASE, method: 'pca-centred', positivePrompts: givenPos, negativePrompts: givenNeg });
    for (let l = 0; l < 6; l++) expect(Math.abs(cosine(persona.layer(l), generated.persona.layer(l))), `layer ${l}`).toBeLessThan(0.3);
    const c = await check(persona);
    expect(c.recommendation.verdict, describeCheck(c)).toBe('does-not-steer');
  }, 600_000);

  it('prompt_last_diff (prompt-last) does not measurably steer formality (its coherent cells never clear zero)', async () => {
    const model = await stylist();
    const { persona } = await computePersonaVector({ model, ...BASE, read: 'prompt-last', positivePrompts: positive, negativePrompts: negative });
    const c = await check(persona);
    expect(c.recommendation.verdict, describeCheck(c)).toBe('does-not-steer');
  }, 600_000);

  it('CAA reads the answer token of the stylist A/B set (one read position per row, the prefix letter)', async () => {
    const model = await stylist();
    const ab = await readContrastiveFiles(path.join(ROOT, 'data/stylist/formal-ab-pos.jsonl'), path.join(ROOT, 'data/stylist/formal-ab-neg.jsonl'));
    expect(ab.positive.every((p, i) => p.user === ab.negative[i].user && p.assistant !== ab.negative[i].assistant)).toBe(true);
    const { persona } = await computePersonaVector({ model, ...BASE, read: 'answer-token', positivePrompts: ab.positive, negativePrompts: ab.negative });
    expect(persona.meta.read).toBe('answer-token');
    // the two sides differ only in the letter, so the vector is the difference between reading "A" and "B" where they stand for the formal and casual reply
    for (let l = 0; l < 6; l++) expect(persona.norm(l)).toBeGreaterThan(0);
  }, 600_000);
});
