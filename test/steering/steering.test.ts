import { describe, expect, it } from 'vitest';
import { addPersonaHook, withPersonaHook } from '../../src/steering/addPersonaHook.js';
import { resolveSteering } from '../../src/steering/resolveSteering.js';
import { PersonaVector } from '../../src/steering/PersonaVector.js';
import { generateBatch } from '../../src/engine/generate/generateBatch.js';
import { stackPhases } from '../../src/engine/generate/batchFeeds.js';
import { defaultQuestionSet } from '../../src/eval/evaluate/questionSets.js';
import { dot } from '../../src/util/numerics.js';
import { shippedPersona, stylist } from '../helpers/stylistModel.js';

const PROMPTS = ['Write a short note thanking Reese for the gift.', 'Describe a quiet harbour at night.', 'Decline an invitation to dinner.'];

describe('steering the stylist', () => {
  it('gives exactly the unsteered text at alpha 0, with v·0 and with v − v', async () => {
    const model = await stylist();
    const formal = await shippedPersona('formal');
    const base = (await model.generate(PROMPTS, { maxNewTokens: 24 })).map((r) => r.text);
    for (const iv of [
      resolveSteering(model, [{ persona: formal, alpha: 0 }]),
      resolveSteering(model, [{ persona: formal.scale(0), alpha: 5 }]),
      resolveSteering(model, [{ persona: formal.sub(formal), alpha: 5 }]),
    ]) {
      expect((await model.generate(PROMPTS, { maxNewTokens: 24, intervention: iv })).map((r) => r.text)).toEqual(base);
    }
    const steered = (await model.generate(PROMPTS, { maxNewTokens: 24, intervention: resolveSteering(model, [{ persona: formal, alpha: -4, layer: 2 }]) })).map(
      (r) => r.text,
    );
    expect(steered).not.toEqual(base);
  });

  it('installs a hook until it is removed, and the scoped form removes it even on error', async () => {
    const model = await stylist();
    const formal = await shippedPersona('formal');
    const base = (await model.generate(PROMPTS, { maxNewTokens: 20 })).map((r) => r.text);
    const explicit = (
      await model.generate(PROMPTS, { maxNewTokens: 20, intervention: resolveSteering(model, [{ persona: formal, alpha: -4, layer: 2 }]) })
    ).map((r) => r.text);
    const hook = addPersonaHook(model, formal, { alpha: -4, layer: 2 });
    expect((await model.generate(PROMPTS, { maxNewTokens: 20 })).map((r) => r.text)).toEqual(explicit);
    hook.remove();
    hook.remove();
    expect((await model.generate(PROMPTS, { maxNewTokens: 20 })).map((r) => r.text)).toEqual(base);
    await expect(
      withPersonaHook(model, formal, { alpha: -4 }, async () => {
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(model.hooks.size).toBe(0);
  });

  it('runs an alpha sweep in one batch equal to one call per alpha', async () => {
    const model = await stylist();
    const formal = await shippedPersona('formal');
    const alphas = [-4, 0, 4];
    const swept = await model.generate(
      alphas.map(() => PROMPTS[0]),
      { maxNewTokens: 20, intervention: alphas.map((alpha) => resolveSteering(model, [{ persona: formal, alpha, layer: 2 }])) },
    );
    for (const [i, alpha] of alphas.entries()) {
      const [one] = await model.generate([PROMPTS[0]], { maxNewTokens: 20, intervention: resolveSteering(model, [{ persona: formal, alpha, layer: 2 }]) });
      expect(swept[i].text).toBe(one.text);
    }
  });

  it('response steers the last prompt position and every answer token, prompt only the positions before it (read on activations)', async () => {
    const model = await stylist();
    const formal = await shippedPersona('formal');
    const L = 2;
    const H = model.hiddenSize;
    const ids = model.encodePrompt(PROMPTS[0]);
    const T = ids.length;
    // Every position's residual after block L, read through the engine's own generation path: the
    // session records the per-position pooled streams of each forward call generateBatch makes.
    const read = async (positions: 'prompt' | 'response' | null) => {
      const iv = positions ? resolveSteering(model, [{ persona: formal, alpha: 6, layer: L, positions }]) : null;
      const session = model.session;
      const streams: Float32Array[] = [];
      const calls: { from: number; steered: boolean }[] = [];
      let seen = 0;
      const spy = Object.create(session) as typeof session;
      spy.run = async (req) => {
        const t = req.seq;
        const pool = new Float32Array(t * t);
        for (let i = 0; i < t; i++) pool[i * t + i] = 1;
        const res = await session.run({ ...req, poolWeights: pool, pools: t });
        for (let i = 0; i < t; i++) streams.push(res.pooled!.slice((L * t + i) * H, (L * t + i + 1) * H));
        calls.push({ from: seen, steered: !!req.steer?.delta });
        seen += t;
        return res;
      };
      const [row] = await generateBatch(spy, [{ promptIds: ids, maxNewTokens: 3, intervention: iv }], {
        stopTokenIds: [],
        padTokenId: model.padTokenId,
        logprobs: 5,
      });
      return { streams, calls, first: row.topLogprobs![0] };
    };
    const base = await read(null);
    const resp = await read('response');
    const prompt = await read('prompt');
    const u = formal.unit(L);
    const shift = (a: Float32Array, b: Float32Array) => dot(a, u) - dot(b, u);
    for (let p = 0; p < T - 1; p++) expect(Array.from(resp.streams[p])).toEqual(Array.from(base.streams[p]));
    expect(shift(resp.streams[T - 1], base.streams[T - 1])).toBeCloseTo(6 * formal.norm(L), 2);
    expect(resp.first).not.toEqual(base.first);
    expect(resp.calls.filter((c) => c.from >= T - 1).every((c) => c.steered)).toBe(true);
    expect(resp.calls.filter((c) => c.from < T - 1).some((c) => c.steered)).toBe(false);
    for (let p = 0; p < T - 1; p++) expect(shift(prompt.streams[p], base.streams[p])).toBeCloseTo(6 * formal.norm(L), 2);
    expect(prompt.calls.filter((c) => c.from >= T - 1).some((c) => c.steered)).toBe(false);
    expect(prompt.calls.filter((c) => c.from < T - 1).every((c) => c.steered)).toBe(true);
  });

  it('steers the first answer token with positions "response" (the old engine changed none of them)', async () => {
    const model = await stylist();
    const formal = await shippedPersona('formal');
    const prompts = defaultQuestionSet(model.dir, 32).evaluation;
    const first = async (iv: ReturnType<typeof resolveSteering>) =>
      (await model.generate(prompts, { maxNewTokens: 1, intervention: iv })).map((r) => r.tokens[0]);
    const base = await first(null);
    const resp = await first(resolveSteering(model, [{ persona: formal, alpha: -8, layer: 1, positions: 'response' }]));
    expect(resp.filter((t, i) => t !== base[i]).length).toBeGreaterThan(0);
  });

  it('ablation leaves about zero projection on the vector at that layer; two ablations at one layer leave about zero on both; cap limits it', async () => {
    const model = await stylist();
    const formal = await shippedPersona('formal');
    const vivid = await shippedPersona('vivid');
    const L = 3;
    const seq = {
      promptIds: model.encodePrompt(PROMPTS[1]),
      answerIds: model.tokenizer.encode('Dear Sir, kindly accept my regards, bright as a summer moon.'),
    };
    const read = async (iv: ReturnType<typeof resolveSteering>) => {
      const T = seq.promptIds.length + seq.answerIds.length;
      const res = await (
        await model.sessionFor([iv])
      ).run({
        inputIds: [...seq.promptIds, ...seq.answerIds],
        batch: 1,
        seq: T,
        positions: Array.from({ length: T }, (_, i) => i),
        keyMask: new Uint8Array(T).fill(1),
        steer: stackPhases([iv?.response], model.config),
        poolWeights: new Float32Array(T).fill(1 / T),
        pools: 1,
      });
      const h = res.pooled!.slice(L * 256, (L + 1) * 256);
      return { formal: dot(h, formal.unit(L)), vivid: dot(h, vivid.unit(L)) };
    };
    const base = await read(null);
    expect(Math.abs(base.formal)).toBeGreaterThan(1);
    expect(Math.abs((await read(resolveSteering(model, [{ persona: formal, operator: 'ablate', layer: L }]))).formal)).toBeLessThan(1e-3);
    const both = await read(
      resolveSteering(model, [
        { persona: formal, operator: 'ablate', layer: L },
        { persona: vivid, operator: 'ablate', layer: L },
      ]),
    );
    expect(Math.abs(both.formal)).toBeLessThan(1e-3);
    expect(Math.abs(both.vivid)).toBeLessThan(1e-3);
    const capped = await read(resolveSteering(model, [{ persona: formal, operator: 'cap', cap: base.formal - 1, layer: L }]));
    expect(capped.formal).toBeLessThanOrEqual(base.formal - 1 + 1e-3);
    const set = await read(resolveSteering(model, [{ persona: formal, operator: 'ablate-add', alpha: 2, layer: L }]));
    expect(set.formal).toBeCloseTo(2 * formal.norm(L), 2);
  });

  it('steering with a + b equals steering with a and b together, and scale and neg are exact', async () => {
    const model = await stylist();
    const formal = await shippedPersona('formal');
    const vivid = await shippedPersona('vivid');
    const text = async (iv: ReturnType<typeof resolveSteering>) => (await model.generate(PROMPTS, { maxNewTokens: 20, intervention: iv })).map((r) => r.text);
    const together = await text(
      resolveSteering(model, [
        { persona: formal, alpha: 3, layer: 2 },
        { persona: vivid, alpha: 3, layer: 2 },
      ]),
    );
    expect(await text(resolveSteering(model, [{ persona: formal.add(vivid), alpha: 3, layer: 2 }]))).toEqual(together);
    const a = resolveSteering(model, [{ persona: formal.scale(2), alpha: 1.5, layer: 2 }])!;
    const b = resolveSteering(model, [{ persona: formal, alpha: 3, layer: 2 }])!;
    expect(Array.from(a.response!.delta!)).toEqual(Array.from(b.response!.delta!));
    const n = resolveSteering(model, [{ persona: formal.neg(), alpha: 3, layer: 2 }])!;
    const m = resolveSteering(model, [{ persona: formal, alpha: -3, layer: 2 }])!;
    expect(Array.from(n.response!.delta!)).toEqual(Array.from(m.response!.delta!));
  });

  it('arithmetic recomputes or drops derived metadata instead of copying it', async () => {
    const formal = await shippedPersona('formal');
    const vivid = await shippedPersona('vivid');
    const half = formal.scale(0.5);
    for (const s of half.meta.layers) expect(s.norm).toBeCloseTo(formal.norm(s.layer) / 2, 4);
    expect(half.meta.alphaRange).toEqual([formal.meta.alphaRange[0] * 2, formal.meta.alphaRange[1] * 2]);
    const sum = formal.add(vivid);
    for (const s of sum.meta.layers) expect(s.norm).toBeCloseTo(sum.norm(s.layer), 4);
    expect(sum.meta.steering).toBeUndefined();
    // k > 0 keeps the verdict (export --scale writes it), its alpha divided by k; k < 0 drops it (the opposite direction was not measured).
    expect(half.meta.steering).toMatchObject({
      verdict: formal.meta.steering!.verdict,
      layer: formal.meta.steering!.layer,
      alpha: formal.meta.steering!.alpha! * 2,
    });
    expect(half.meta.steering!.reason).toContain('scaled by 0.5');
    expect(formal.scale(-1).meta.steering).toBeUndefined();
    expect(formal.neg().meta.alphaRange).toEqual([-formal.meta.alphaRange[1], -formal.meta.alphaRange[0]]);
  });

  it('gives each spec its own layers, units and positions, and refuses contradictory or silent settings', async () => {
    const model = await stylist();
    const formal = await shippedPersona('formal');
    const iv = resolveSteering(model, [{ persona: formal, alpha: 1, layers: [1, -1], positions: 'response' }])!;
    const H = model.hiddenSize;
    expect(iv.prompt).toBeNull();
    const nz = (l: number) => iv.response!.delta!.subarray(l * H, (l + 1) * H).some((x) => x !== 0);
    expect([0, 1, 2, 3, 4, 5].map(nz)).toEqual([false, true, false, false, false, true]);
    expect(() => resolveSteering(model, [{ persona: formal, alpha: 1, layer: 1, layers: [2] }])).toThrow(/`layer` or `layers`, not both/);
    expect(() => resolveSteering(model, [{ persona: formal, operator: 'ablate', alpha: 3 }])).toThrow(/takes no alpha/);
    expect(() => resolveSteering(model, [{ persona: formal, alpha: 3, cap: 1 }])).toThrow(/only used by the cap operator/);
    const imported = new PersonaVector(formal.vectors, { ...formal.meta, layers: formal.meta.layers.map((s) => ({ ...s, residNorm: 0 })) });
    expect(() => resolveSteering(model, [{ persona: imported, alpha: -30, units: 'resid' }])).toThrow(/no measured residual norm/);
  });

  it('rejects a layer out of range, alpha that is not a number and a persona for another model', async () => {
    const model = await stylist();
    const formal = await shippedPersona('formal');
    expect(() => resolveSteering(model, [{ persona: formal, alpha: 1, layer: 6 }])).toThrow(/Layer 6 is out of range: the model has 6 decoder layers/);
    expect(() => resolveSteering(model, [{ persona: formal, alpha: Number('x') }])).toThrow(/alpha must be a finite number/);
    expect(() => resolveSteering({ numLayers: 28, hiddenSize: 1024, id: 'Qwen/Qwen3-0.6B' }, [{ persona: formal, alpha: 1 }])).toThrow(
      /was made for stylist \(6 layers × hidden 256\), but the model Qwen\/Qwen3-0.6B has 28 layers × hidden 1024/,
    );
  });
});
