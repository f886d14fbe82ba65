import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { modelSpecFromFlags } from '../../src/cli/common.js';
import { generateBatch } from '../../src/engine/generate/generateBatch.js';
import { KVCache } from '../../src/engine/KVCache.js';
import { loadModel } from '../../src/engine/LanguageModel.js';
import { openDecoder } from '../../src/engine/openDecoder.js';
import { defaultQuestionSet } from '../../src/eval/evaluate/questionSets.js';
import { SafetensorsFile } from '../../src/model/safetensors/index.js';
import { resolveSteering } from '../../src/steering/resolveSteering.js';
import { seededRandom } from '../../src/util/random.js';
import { GOLDENS } from '../helpers/paths.js';
import { STYLIST } from '../helpers/paths.js';
import { mean, shippedPersona, styleScore } from '../helpers/stylistModel.js';

/** Dequantized cached key and value of (layer, batch row, kv head, position), read back from the int8 layout. */
function readInt8(cache: KVCache, l: number, b: number, h: number, pos: number): { k: number[]; v: number[] } {
  const [D, C] = [cache.headDim, cache.capacity];
  const blk = b * cache.kvHeads + h;
  const k = Array.from({ length: D }, (_, d) => cache.k[l][(blk * D + d) * C + pos] * cache.kScale[l][blk * C + pos]);
  const v = Array.from({ length: D }, (_, d) => cache.v[l][(blk * C + pos) * D + d] * cache.vScale[l][blk * C + pos]);
  return { k, v };
}

describe('the int8 KV cache', () => {
  it('stores each row within half a step of its own scale, through growing, dropping rows and gathering', () => {
    const rand = seededRandom(5);
    const [L, B, H, D] = [2, 3, 2, 8];
    const rows = (t: number, b = B) => Array.from({ length: L }, () => Float32Array.from({ length: b * H * t * D }, () => (rand() - 0.5) * 6));
    // Every appended row as written: [layer][row][head][position] → values.
    const written: { k: number[]; v: number[] }[][][][] = Array.from({ length: L }, () => Array.from({ length: B }, () => [[], []]));
    const cache = new KVCache(L, B, H, D, 4, 20, { kind: 'int8' });
    const append = (t: number) => {
      const [nk, nv] = [rows(t, cache.batch), rows(t, cache.batch)];
      cache.append(nk, nv, t);
      for (let l = 0; l < L; l++)
        for (let b = 0; b < cache.batch; b++)
          for (let h = 0; h < H; h++)
            for (let j = 0; j < t; j++) {
              const at = ((b * H + h) * t + j) * D;
              written[l][b][h].push({ k: Array.from(nk[l].subarray(at, at + D)), v: Array.from(nv[l].subarray(at, at + D)) });
            }
    };
    const check = () => {
      for (let l = 0; l < L; l++)
        for (let b = 0; b < cache.batch; b++)
          for (let h = 0; h < H; h++)
            written[l][b][h].forEach((w, pos) => {
              const got = readInt8(cache, l, b, h, pos);
              for (const [x, y] of [
                [w.k, got.k],
                [w.v, got.v],
              ]) {
                const step = Math.max(...x.map(Math.abs)) / 127;
                x.forEach((xi, d) => expect(Math.abs(xi - y[d])).toBeLessThanOrEqual(step / 2 + 1e-6));
              }
            });
    };
    append(3); // a prompt
    for (let i = 0; i < 6; i++) append(1); // decode steps, growing 4 → 8 → 16 in place
    expect([cache.length, cache.capacity]).toEqual([9, 16]);
    expect(cache.k[0]).toBeInstanceOf(Int8Array);
    check();
    cache.keepRows([0, 2]);
    for (let l = 0; l < L; l++) written[l].splice(1, 1);
    check();
    append(1);
    check();
    const copy = cache.gather([1, 1, 0], 24);
    expect([copy.kind, copy.batch, copy.capacity, copy.length]).toEqual(['int8', 3, 24, 10]);
    for (let l = 0; l < L; l++)
      for (const [to, from] of [
        [0, 1],
        [1, 1],
        [2, 0],
      ])
        for (let h = 0; h < H; h++) for (let pos = 0; pos < 10; pos++) expect(readInt8(copy, l, to, h, pos)).toEqual(readInt8(cache, l, from, h, pos));
  });

  it.each(['qwen3', 'llama', 'qwen2', 'gemma3'])(
    'the %s golden read token by token through an int8 cache stays within 1% of transformers, greedy text unchanged',
    async (arch) => {
      const dir = path.join(GOLDENS, arch);
      const gold = await SafetensorsFile.open(path.join(dir, 'golden.safetensors'));
      const ids = async (k: string) => Array.from(new BigInt64Array((await gold.readBytes(k)).slice().buffer), Number);
      const input = await ids('single.input_ids');
      const ref = await gold.readFloat32('single.logits');
      const rel: Record<string, number> = {};
      for (const kind of ['f32', 'int8'] as const) {
        const { session, config } = await openDecoder(dir, { kvCache: kind });
        expect(session.kvCache).toBe(kind);
        const V = config.vocabSize;
        const cache = session.newCache(1, 2, 16);
        let [maxAbs, maxRef] = [0, 0];
        for (let t = 0; t < input.length; t++) {
          const res = await session.run({ inputIds: [input[t]], batch: 1, seq: 1, positions: [t], keyMask: new Uint8Array(t + 1).fill(1), cache });
          cache.append(res.newK, res.newV, 1);
          for (let i = 0; i < V; i++) {
            maxAbs = Math.max(maxAbs, Math.abs(res.logits![i] - ref[t * V + i]));
            maxRef = Math.max(maxRef, Math.abs(ref[t * V + i]));
          }
        }
        rel[kind] = maxAbs / maxRef;
        const expected = await ids('gen.plain');
        const [row] = await generateBatch(session, [{ promptIds: await ids('gen.prompt'), maxNewTokens: expected.length }], {
          stopTokenIds: [],
          padTokenId: 0,
        });
        expect(row.tokens, `${kind} greedy`).toEqual(expected);
        await session.release();
      }
      console.log(`${arch}: max relative logit error, token by token: f32 cache ${rel.f32.toExponential(2)}, int8 cache ${rel.int8.toExponential(2)}`);
      expect(rel.f32).toBeLessThan(1e-4);
      expect(rel.int8).toBeLessThan(1e-2);
      // The int8 cache is what moved the logits (the same reads through the f32 cache are exact).
      expect(rel.int8).toBeGreaterThan(rel.f32);
    },
  );

  it('is refused by a session that reads the other kind, and named by the --kv-cache flag', async () => {
    const { session, config } = await openDecoder(path.join(GOLDENS, 'qwen3'));
    const int8 = new KVCache(config.numHiddenLayers, 1, config.numKeyValueHeads, config.headDim, 4, 8, { kind: 'int8' });
    int8.length = 1;
    await expect(session.run({ inputIds: [1], batch: 1, seq: 1, positions: [1], keyMask: new Uint8Array(2).fill(1), cache: int8 })).rejects.toThrow(
      /cache holds int8 .* this session reads f32/,
    );
    await session.release();
    expect(modelSpecFromFlags({ model: 'm', precision: 'q4', device: 'cpu', kvCache: 'int8' })).toEqual({
      model: 'm',
      precision: 'q4',
      device: 'cpu',
      kvCache: 'int8',
    });
  });

  it("keeps the stylist's style scores within 0.1 of the f32 cache, unsteered and steered, at f32 and q4 weights (greedy, 32 held-out questions)", async () => {
    const questions = defaultQuestionSet(STYLIST, 32).evaluation;
    const formal = await shippedPersona('formal');
    for (const precision of ['f32', 'q4'] as const) {
      const scores: Record<string, number[]> = {};
      let [same, total] = [0, 0];
      const tokens: Record<string, number[][]> = {};
      for (const kvCache of ['f32', 'int8'] as const) {
        const m = await loadModel(STYLIST, { precision, kvCache });
        scores[kvCache] = [];
        tokens[kvCache] = [];
        for (const alpha of [0, 8, -8]) {
          const out = await m.generateRows(
            questions.map((prompt) => ({ prompt, maxNewTokens: 48, intervention: alpha ? resolveSteering(m, [{ persona: formal, alpha, layer: 3 }]) : null })),
          );
          scores[kvCache].push(mean(out.map((o) => styleScore(o.text).formality)));
          tokens[kvCache].push(...out.map((o) => o.tokens));
        }
        await m.dispose();
      }
      tokens.f32.forEach((t, i) => {
        total += t.length;
        same += t.filter((x, j) => x === tokens.int8[i][j]).length;
      });
      console.log(
        `stylist ${precision}: formality f32 cache ${scores.f32.map((x) => x.toFixed(3))}, int8 ${scores.int8.map((x) => x.toFixed(3))}; tokens agreeing ${same}/${total}`,
      );
      scores.f32.forEach((s, i) => expect(Math.abs(scores.int8[i] - s)).toBeLessThanOrEqual(0.1));
      expect(same / total).toBeGreaterThanOrEqual(0.9);
    }
  });
});
