import { describe, expect, it } from 'vitest';
import { loadModel } from '../../src/engine/LanguageModel.js';
import { parsePrecision } from '../../src/engine/convert/Precision.js';
import { dequantizeMatrix, quantizeMatrix } from '../../src/engine/convert/quantize.js';
import { STYLIST } from '../helpers/paths.js';

const PROMPTS = ['Write a short note thanking Reese for the gift.', 'Describe a quiet harbour at night.', 'Decline an invitation to dinner.', 'Give advice about saving money.'];

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

  it('q8 and q4 stylists load through MatMulNBits and stay close to f32 (greedy agreement reported)', async () => {
    const f32 = await loadModel(STYLIST);
    const base = await f32.generate(PROMPTS, { maxNewTokens: 24 });
    const agreement: Record<string, number> = {};
    for (const precision of ['q8', 'q4'] as const) {
      const m = await loadModel(STYLIST, { precision });
      const out = await m.generate(PROMPTS, { maxNewTokens: 24 });
      let same = 0;
      let total = 0;
      out.forEach((r, i) => r.tokens.forEach((t, j) => { total++; if (t === base[i].tokens[j]) same++; }));
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

  it('rejects an unknown precision with the list of valid ones', () => {
    expect(() => parsePrecision('q3')).toThrow(/Unknown precision "q3". Use one of: f32, q8, q4/);
  });
});
