import { describe, expect, it } from 'vitest';
import path from 'node:path';
import { openDecoder } from '../../src/engine/openDecoder.js';
import { DEBUG_GRAPH } from '../../src/engine/graph/GraphOptions.js';
import { verifyGolden } from '../../src/engine/verify/verifyGolden.js';
import { generateBatch } from '../../src/engine/generate/generateBatch.js';
import { readdirSync } from 'node:fs';
import { seededRandom } from '../../src/util/random.js';
import { PersonaVector } from '../../src/steering/PersonaVector.js';
import { resolveSteering } from '../../src/steering/resolveSteering.js';
import type { ModelConfig } from '../../src/model/config/ModelConfig.js';
import { ARCHITECTURES } from '../../src/model/architectures/index.js';
import { GOLDENS } from '../helpers/paths.js';

/** Every registered architecture: each has a golden in the fixtures, in a folder named after it. */
const ARCHS = ARCHITECTURES.map((a) => a.name);

it('has a transformers golden for every registered architecture, and none for an unregistered one', () => {
  const folders = readdirSync(GOLDENS, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => d.name);
  expect(folders.sort()).toEqual([...ARCHS].sort());
});

/** A random persona vector in a model's shape (seeded), for steering properties that hold for any vector. */
function randomPersona(c: ModelConfig, seed: number, name: string): PersonaVector {
  const rand = seededRandom(seed);
  const vectors = Array.from({ length: c.numHiddenLayers }, () => Float32Array.from({ length: c.hiddenSize }, () => rand() * 2 - 1));
  return new PersonaVector(vectors, {
    name,
    model: { id: 'golden', modelType: c.modelType, hiddenSize: c.hiddenSize, numLayers: c.numHiddenLayers },
    method: 'mean-diff',
    read: 'response-mean',
    recommendedLayer: 0,
    alphaRange: [-1, 1],
    layers: vectors.map((v, layer) => ({ layer, norm: Math.hypot(...v), residNorm: 1, separation: 0 })),
    createdAt: '2026-01-01T00:00:00Z',
    toolVersion: 'test',
  });
}

describe.each(ARCHS)('the %s golden', (arch) => {
  const dir = path.join(GOLDENS, arch);

  it('matches transformers on logits, every layer, steering and greedy text within 1e-4', async () => {
    const { session, config } = await openDecoder(dir, { graph: DEBUG_GRAPH });
    expect(config.architecture).toBe(arch);
    const report = await verifyGolden(session, path.join(dir, 'golden.safetensors'));
    const failed = report.tensors.filter((t) => !t.ok).map((t) => `${t.name} ${t.maxRel}`);
    expect(failed).toEqual([]);
    // every layer's residual stream was compared, for single, batch and steer
    expect(report.tensors.filter((t) => t.name.startsWith('single.hidden')).length).toBe(config.numHiddenLayers + 1);
    expect(report.tensors.some((t) => t.name.startsWith('batch.'))).toBe(true);
    expect(report.tensors.some((t) => t.name.startsWith('steer.'))).toBe(true);
    expect(report.greedy.map((g) => `${g.name}:${g.agree}/${g.expected.length}`)).toEqual(
      report.greedy.map((g) => `${g.name}:${g.expected.length}/${g.expected.length}`),
    );
    expect(report.greedy.length).toBe(4);
    await session.release();
  });

  it('gives the same tokens batched (left-padded) as one by one, with and without the cache', async () => {
    const { session } = await openDecoder(dir);
    const prompts = [
      [5, 17, 42, 9, 100, 3],
      [7, 8],
      [300, 12, 13, 14],
    ];
    const opts = { stopTokenIds: [], padTokenId: 0 };
    const batched = await generateBatch(
      session,
      prompts.map((p) => ({ promptIds: p, maxNewTokens: 8 })),
      opts,
    );
    for (const [i, p] of prompts.entries()) {
      const [single] = await generateBatch(session, [{ promptIds: p, maxNewTokens: 8 }], opts);
      const [recomputed] = await generateBatch(session, [{ promptIds: p, maxNewTokens: 8 }], { ...opts, noCache: true });
      expect(batched[i].tokens).toEqual(single.tokens);
      expect(recomputed.tokens).toEqual(single.tokens);
    }
    // chunked prefill (2-token chunks) changes nothing
    const [chunked] = await generateBatch(session, [{ promptIds: prompts[0], maxNewTokens: 8 }], { ...opts, prefillChunk: 2 });
    expect(chunked.tokens).toEqual(batched[0].tokens);
    await session.release();
  });

  it('steers exactly the baseline with v − v, 0·v and alpha 0, and a + b steers as a and b together', async () => {
    const { session, config } = await openDecoder(dir);
    const model = { numLayers: config.numHiddenLayers, hiddenSize: config.hiddenSize };
    const prompts = [
      [5, 17, 42, 9, 100, 3],
      [7, 8],
    ];
    const opts = { stopTokenIds: [], padTokenId: 0, logprobs: 3 };
    const gen = (iv: ReturnType<typeof resolveSteering>) =>
      generateBatch(
        session,
        prompts.map((p) => ({ promptIds: p, maxNewTokens: 6, intervention: iv })),
        opts,
      );
    const a = randomPersona(config, 1, 'a');
    const b = randomPersona(config, 2, 'b');
    const layers = [0, config.numHiddenLayers - 1];
    const base = await gen(null);
    for (const iv of [
      resolveSteering(model, [{ persona: a.sub(a), alpha: 5, layers }]),
      resolveSteering(model, [{ persona: a.scale(0), alpha: 5, layers }]),
      resolveSteering(model, [{ persona: a, alpha: 0, layers }]),
    ]) {
      const out = await gen(iv);
      expect(out.map((r) => r.tokens)).toEqual(base.map((r) => r.tokens));
      expect(out.map((r) => r.logprobs)).toEqual(base.map((r) => r.logprobs));
    }
    const alpha = 40 / Math.max(a.norm(0), 1e-6);
    const together = await gen(
      resolveSteering(model, [
        { persona: a, alpha, layers },
        { persona: b, alpha, layers },
      ]),
    );
    const summed = await gen(resolveSteering(model, [{ persona: a.add(b), alpha, layers }]));
    expect(summed.map((r) => r.tokens)).toEqual(together.map((r) => r.tokens));
    summed.forEach((r, i) => r.logprobs!.forEach((lp, j) => expect(lp).toBeCloseTo(together[i].logprobs![j], 4)));
    expect(together.map((r) => r.logprobs)).not.toEqual(base.map((r) => r.logprobs)); // it does steer
    await session.release();
  });
});
