import { describe, expect, it } from 'vitest';
import path from 'node:path';
import { openDecoder } from '../../src/engine/openDecoder.js';
import { DEBUG_GRAPH } from '../../src/engine/graph/GraphOptions.js';
import { verifyGolden } from '../../src/engine/verify/verifyGolden.js';
import { generateBatch } from '../../src/engine/generate/generateBatch.js';
import { GOLDENS } from '../helpers/paths.js';

const ARCHS = ['qwen3', 'llama', 'qwen2', 'gemma3'];

describe.each(ARCHS)('the %s golden', (arch) => {
  const dir = path.join(GOLDENS, arch);

  it('matches transformers on logits, every layer, steering and greedy text within 1e-4', async () => {
    const { session, config } = await openDecoder(dir, { graph: DEBUG_GRAPH });
    const report = await verifyGolden(session, path.join(dir, 'golden.safetensors'));
    const failed = report.tensors.filter((t) => !t.ok).map((t) => `${t.name} ${t.maxRel}`);
    expect(failed).toEqual([]);
    // every layer's residual stream was compared, for single, batch and steer
    expect(report.tensors.filter((t) => t.name.startsWith('single.hidden')).length).toBe(config.numHiddenLayers + 1);
    expect(report.tensors.some((t) => t.name.startsWith('batch.'))).toBe(true);
    expect(report.tensors.some((t) => t.name.startsWith('steer.'))).toBe(true);
    expect(report.greedy.map((g) => `${g.name}:${g.agree}/${g.expected.length}`)).toEqual(report.greedy.map((g) => `${g.name}:${g.expected.length}/${g.expected.length}`));
    expect(report.greedy.length).toBe(4);
    await session.release();
  });

  it('gives the same tokens batched (left-padded) as one by one, with and without the cache', async () => {
    const { session } = await openDecoder(dir);
    const prompts = [[5, 17, 42, 9, 100, 3], [7, 8], [300, 12, 13, 14]];
    const opts = { stopTokenIds: [], padTokenId: 0 };
    const batched = await generateBatch(session, prompts.map((p) => ({ promptIds: p, maxNewTokens: 8 })), opts);
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
});
