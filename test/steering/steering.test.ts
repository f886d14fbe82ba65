import { describe, expect, it } from 'vitest';
import { addPersonaHook, withPersonaHook } from '../../src/steering/addPersonaHook.js';
import { resolveSteering } from '../../src/steering/resolveSteering.js';
import { extractActivations } from '../../src/persona/extractActivations.js';
import { dot } from '../../src/persona/aggregators.js';
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
    const steered = (await model.generate(PROMPTS, { maxNewTokens: 24, intervention: resolveSteering(model, [{ persona: formal, alpha: -4, layer: 2 }]) })).map((r) => r.text);
    expect(steered).not.toEqual(base);
  });

  it('installs a hook until it is removed, and the scoped form removes it even on error', async () => {
    const model = await stylist();
    const formal = await shippedPersona('formal');
    const base = (await model.generate(PROMPTS, { maxNewTokens: 20 })).map((r) => r.text);
    const explicit = (await model.generate(PROMPTS, { maxNewTokens: 20, intervention: resolveSteering(model, [{ persona: formal, alpha: -4, layer: 2 }]) })).map((r) => r.text);
    const remove = addPersonaHook(model, formal, { alpha: -4, layer: 2 });
    expect((await model.generate(PROMPTS, { maxNewTokens: 20 })).map((r) => r.text)).toEqual(explicit);
    remove();
    expect((await model.generate(PROMPTS, { maxNewTokens: 20 })).map((r) => r.text)).toEqual(base);
    await expect(withPersonaHook(model, formal, { alpha: -4 }, async () => { throw new Error('boom'); })).rejects.toThrow('boom');
    expect(model.hooks.size).toBe(0);
  });

  it('runs an alpha sweep in one batch equal to one call per alpha', async () => {
    const model = await stylist();
    const formal = await shippedPersona('formal');
    const alphas = [-4, 0, 4];
    const swept = await model.generate(alphas.map(() => PROMPTS[0]), { maxNewTokens: 20, intervention: alphas.map((alpha) => resolveSteering(model, [{ persona: formal, alpha, layer: 2 }])) });
    for (const [i, alpha] of alphas.entries()) {
      const [one] = await model.generate([PROMPTS[0]], { maxNewTokens: 20, intervention: resolveSteering(model, [{ persona: formal, alpha, layer: 2 }]) });
      expect(swept[i].text).toBe(one.text);
    }
  });

  it('steers only the prompt with positions "prompt" and only generated tokens with "response" (read on activations)', async () => {
    const model = await stylist();
    const formal = await shippedPersona('formal');
    const L = 2;
    const promptIds = model.encodePrompt(PROMPTS[0]);
    const run = async (positions: 'prompt' | 'response' | null) => {
      const c = model.config;
      const T = promptIds.length;
      const iv = positions ? resolveSteering(model, [{ persona: formal, alpha: 6, layer: L, positions }]) : null;
      const mask = new Float32Array(T).fill(positions === 'prompt' ? 1 : 0); // response mode: prompt positions unsteered
      const res = await model.session.run({
        inputIds: promptIds, batch: 1, seq: T, positions: promptIds.map((_, i) => i), keyMask: new Uint8Array(T).fill(1),
        steerDelta: iv?.delta, steerMask: iv ? mask : undefined, poolWeights: new Float32Array(T).fill(1 / T), pools: 1,
      });
      return res.pooled!.slice(L * c.hiddenSize, (L + 1) * c.hiddenSize);
    };
    const base = await run(null);
    const prompt = await run('prompt');
    const response = await run('response');
    const u = formal.unit(L);
    expect(dot(prompt, u) - dot(base, u)).toBeCloseTo(6 * formal.norm(L), 3);
    expect(Array.from(response)).toEqual(Array.from(base));
    // And in generation: 'prompt' leaves the generated tokens' own steering off, 'response' the prompt.
    const gen = async (positions: 'prompt' | 'response' | 'all') => (await model.generate([PROMPTS[0]], { maxNewTokens: 16, intervention: resolveSteering(model, [{ persona: formal, alpha: -6, layer: L, positions }]) }))[0].text;
    const [pAll, pPrompt, pResp] = [await gen('all'), await gen('prompt'), await gen('response')];
    expect(new Set([pAll, pPrompt, pResp]).size).toBeGreaterThan(1);
  });

  it('ablation leaves about zero projection on the vector at that layer; cap limits it', async () => {
    const model = await stylist();
    const formal = await shippedPersona('formal');
    const L = 3;
    const seq = { promptIds: model.encodePrompt(PROMPTS[1]), answerIds: model.tokenizer.encode('Dear Sir, kindly accept my regards.') };
    const read = async (iv: ReturnType<typeof resolveSteering>) => {
      const T = seq.promptIds.length + seq.answerIds.length;
      const res = await (await model.sessionFor([iv])).run({
        inputIds: [...seq.promptIds, ...seq.answerIds], batch: 1, seq: T, positions: Array.from({ length: T }, (_, i) => i), keyMask: new Uint8Array(T).fill(1),
        steerMask: new Float32Array(T).fill(1), steerDelta: iv?.delta, clamp: iv?.clamp, poolWeights: new Float32Array(T).fill(1 / T), pools: 1,
      });
      return dot(res.pooled!.slice(L * 256, (L + 1) * 256), formal.unit(L));
    };
    const base = await read(null);
    expect(Math.abs(base)).toBeGreaterThan(1);
    expect(Math.abs(await read(resolveSteering(model, [{ persona: formal, operator: "ablate", layer: L }])))).toBeLessThan(1e-3);
    const capped = await read(resolveSteering(model, [{ persona: formal, operator: 'cap', cap: base - 1, layer: L }]));
    expect(capped).toBeLessThanOrEqual(base - 1 + 1e-3);
    void extractActivations;
  });

  it('rejects a layer out of range, alpha that is not a number and a persona for another model', async () => {
    const model = await stylist();
    const formal = await shippedPersona('formal');
    expect(() => resolveSteering(model, [{ persona: formal, alpha: 1, layer: 6 }])).toThrow(/Layer 6 is out of range: the model has 6 decoder layers/);
    expect(() => resolveSteering(model, [{ persona: formal, alpha: Number('x') }])).toThrow(/alpha must be a finite number/);
    expect(() => resolveSteering({ numLayers: 28, hiddenSize: 1024, id: 'Qwen/Qwen3-0.6B' }, [{ persona: formal, alpha: 1 }])).toThrow(/was made for stylist \(6 layers × hidden 256\), but the model Qwen\/Qwen3-0.6B has 28 layers × hidden 1024/);
  });
});
