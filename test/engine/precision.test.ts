import { describe, expect, it } from 'vitest';
import { loadModel } from '../../src/engine/LanguageModel.js';
import { parsePrecision } from '../../src/engine/convert/Precision.js';
import { dequantizeMatrix, quantizeMatrix } from '../../src/engine/convert/quantize.js';
import { STYLIST } from '../helpers/paths.js';
import { defaultQuestionSet } from '../../src/eval/evaluate/questionSets.js';
import { resolveSteering } from '../../src/steering/resolveSteering.js';
import { mean, shippedPersona, styleScore } from '../helpers/stylistModel.js';

const PROMPTS = [
  'Write a short note thanking Reese for the gift.',
  'Describe a quiet harbour at night.',
  'Decline an invitation to dinner.',
  'Give advice about saving money.',
];

describe('quantised precisions', () => {
  it('quantise blocks of 32 within one step of the original weights (half a step except at the clamped q4_0 extreme)', () => {
    const w = Float32Array.from({ length: 8 * 64 }, (_, i) => Math.sin(i * 0.37) * (1 + (i % 7)));
    for (const bits of [4, 8] as const) {
      const q = quantizeMatrix(w, 8, 64, bits);
      const back = dequantizeMatrix(q);
      for (let i = 0; i < w.length; i++) {
        const scale = Math.abs(q.scales[Math.floor(i / 64) * 2 + Math.floor((i % 64) / 32)]);
        expect(Math.abs(back[i] - w[i])).toBeLessThanOrEqual(scale * (bits === 8 ? 0.5 : 1) + 1e-5);
      }
    }
  });

  it('quantise q4 in the blocks the converter uses (128), with a padded last block when a row is not a multiple', () => {
    const k = 200; // one full block of 128 and one of 72 padded with zeros
    const w = Float32Array.from({ length: 3 * k }, (_, i) => Math.cos(i * 0.11) * (1 + (i % 5)));
    const q = quantizeMatrix(w, 3, k, 4, 128);
    expect(q.scales.length).toBe(3 * 2);
    const back = dequantizeMatrix(q);
    expect(back.length).toBe(w.length);
    for (let i = 0; i < w.length; i++) {
      const scale = Math.abs(q.scales[Math.floor(i / k) * 2 + Math.floor((i % k) / 128)]);
      expect(Math.abs(back[i] - w[i])).toBeLessThanOrEqual(scale + 1e-5);
    }
  });

  it('q8 and q4 stylists load through MatMulNBits and stay close to f32 (greedy agreement reported)', async () => {
    const f32 = await loadModel(STYLIST);
    const base = await f32.generate(PROMPTS, { maxNewTokens: 24 });
    const agreement: Record<string, number> = {};
    for (const precision of ['q8', 'q4'] as const) {
      const m = await loadModel(STYLIST, { precision });
      const out = await m.generate(PROMPTS, { maxNewTokens: 24 });
      let same = 0;
      let total = 0;
      out.forEach((r, i) =>
        r.tokens.forEach((t, j) => {
          total++;
          if (t === base[i].tokens[j]) same++;
        }),
      );
      agreement[precision] = same / total;
      // the first tokens of every answer agree with f32 (the first token; later ones may flip where two logits nearly tie)
      const n = 1;
      out.forEach((r, i) => expect(r.tokens.slice(0, n)).toEqual(base[i].tokens.slice(0, n)));
      await m.dispose();
    }
    console.log(`greedy agreement with f32 over ${PROMPTS.length}×24 tokens: q8 ${agreement.q8.toFixed(2)}, q4 ${agreement.q4.toFixed(2)}`);
    expect(agreement.q8).toBeGreaterThanOrEqual(0.9);
    expect(agreement.q4).toBeGreaterThanOrEqual(0.6);
  });

  it("q8 and q4 keep the stylist's style scores: mean formality within 0.1 of f32, unsteered and steered (greedy, 32 held-out questions)", async () => {
    const questions = defaultQuestionSet(STYLIST, 32).evaluation;
    const formal = await shippedPersona('formal');
    const vivid = await shippedPersona('vivid');
    const conditions = [
      ['unsteered', null, 0],
      ['formal +8', formal, 8],
      ['formal −8', formal, -8],
      ['vivid +8', vivid, 8],
    ] as const;
    const scores: Record<string, Record<string, { formality: number; vivid: number }>> = {};
    for (const precision of ['f32', 'q8', 'q4'] as const) {
      const m = await loadModel(STYLIST, { precision });
      scores[precision] = {};
      for (const [name, persona, alpha] of conditions) {
        const out = await m.generateRows(
          questions.map((prompt) => ({ prompt, maxNewTokens: 48, intervention: persona ? resolveSteering(m, [{ persona, alpha, layer: 3 }]) : null })),
        );
        const s = out.map((o) => styleScore(o.text));
        scores[precision][name] = { formality: mean(s.map((x) => x.formality)), vivid: mean(s.map((x) => x.vivid)) };
      }
      await m.dispose();
    }
    console.log(JSON.stringify(scores));
    for (const precision of ['q8', 'q4'])
      for (const [name] of conditions) {
        expect(Math.abs(scores[precision][name].formality - scores.f32[name].formality), `${precision} ${name} formality`).toBeLessThanOrEqual(0.1);
        // vivid is a count of markers per answer (about 0–3): within half a marker
        expect(Math.abs(scores[precision][name].vivid - scores.f32[name].vivid), `${precision} ${name} vivid`).toBeLessThanOrEqual(0.5);
      }
    // and the steering still steers in every precision
    for (const p of ['f32', 'q8', 'q4']) expect(scores[p]['formal +8'].formality - scores[p]['formal −8'].formality).toBeGreaterThan(1);
  });

  it('rejects an unknown precision with the list of valid ones', () => {
    expect(() => parsePrecision('q3')).toThrow(/Unknown precision "q3". Use one of: f32, q8, q4/);
  });
});
