import { describe, expect, it } from 'vitest';
import { loadModel } from '../../src/engine/LanguageModel.js';
import { generateBatch } from '../../src/engine/generate/generateBatch.js';
import { openDecoder } from '../../src/engine/openDecoder.js';
import { STYLIST } from '../helpers/paths.js';
import { buildDecoderGraph } from '../../src/engine/graph/buildDecoderGraph.js';
import { GENERATION_GRAPH } from '../../src/engine/graph/GraphOptions.js';
import { TENSOR_NAMES } from '../../src/model/architectures/tensorPlan.js';

describe('one copy of the weights per model', () => {
  it('scores answers on the session that generates them: no second session is opened', async () => {
    const model = await loadModel(STYLIST);
    try {
      expect(await model.scoringSession()).toBe(model.session);
    } finally {
      await model.dispose();
    }
  });

  it('generates on the scoring-capable graph exactly what the last-logits graph generates (no positions scored)', async () => {
    const last = await openDecoder(STYLIST, { graph: { logits: 'last', hiddenStates: false, pooling: true, projectionClamp: false } });
    const model = await loadModel(STYLIST);
    try {
      const reqs = [5, 9, 33].map((seed, i) => ({ promptIds: [5 + i, 9, 33, 2, 7, 11].slice(i), maxNewTokens: 12, sampling: { temperature: 0.8, seed } }));
      const opts = { stopTokenIds: model.stopTokenIds, padTokenId: model.padTokenId, logprobs: 0 };
      const a = await generateBatch(last.session, reqs, opts);
      const b = await generateBatch(model.session, reqs, opts);
      expect(b.map((r) => r.tokens)).toEqual(a.map((r) => r.tokens));
      expect(b.map((r) => r.logprobs)).toEqual(a.map((r) => r.logprobs));
    } finally {
      await last.session.release();
      await model.dispose();
    }
  });
});

describe('the f32 embedding lookup beside a tied output layer', () => {
  it('reads the same bytes of the weights file through an initializer of its own, so the output layer’s prepacked table is not held twice', async () => {
    const { session, config: c, manifest: m } = await openDecoder(STYLIST, { precision: 'f32', threads: 1 });
    await session.release();
    expect(c.tieWordEmbeddings).toBe(true);
    const g = buildDecoderGraph(c, m, m.weightsFile, GENERATION_GRAPH);
    const gather = g.nodes.find((n) => n.op === 'Gather' && n.inputs[1] === 'input_ids')!;
    const gemm = g.nodes.find((n) => n.op === 'Gemm')!;
    expect(gather.inputs[0]).not.toBe(gemm.inputs[1]);
    const init = (name: string) => g.initializers.find((i) => i.name === name)!;
    expect(init(gather.inputs[0]).external).toEqual(init(gemm.inputs[1]).external);
    expect(init(gather.inputs[0]).dims).toEqual(init(gemm.inputs[1]).dims);
    // Quantized output layers read their own packed matrix: the lookup keeps the one table.
    const q8 = await openDecoder(STYLIST, { precision: 'q8', threads: 1 });
    await q8.session.release();
    const gq = buildDecoderGraph(q8.config, q8.manifest, q8.manifest.weightsFile, GENERATION_GRAPH);
    expect(gq.nodes.find((n) => n.op === 'Gather' && n.inputs[1] === 'input_ids')!.inputs[0]).toBe(`${TENSOR_NAMES.embed}.weight`);
  });
});
