import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { generateBatch, MAX_GRAPH_TOP_K, type GenerationRequest } from '../../src/engine/generate/generateBatch.js';
import { sampleAmongTop, sampleToken, topKIndices, type SamplingOptions } from '../../src/engine/generate/sampling.js';
import { GraphBuilder } from '../../src/engine/onnx/GraphBuilder.js';
import { DataType, encodeModel } from '../../src/engine/onnx/onnxProto.js';
import { seededRandom } from '../../src/util/random.js';
import { stylist, STYLIST_HELD_OUT } from '../helpers/stylistModel.js';

const SETTINGS: SamplingOptions[] = [
  { temperature: 0 },
  { temperature: 0.8, topK: 50 },
  { temperature: 1.3, topK: 5 },
  { temperature: 1, topK: 40, topP: 0.7 },
  { temperature: 0.9, topK: 30, minP: 0.05 },
  { temperature: 1.1, topK: 20, topP: 0.9, minP: 0.02 },
];

describe('sampling among the top-k', () => {
  it('picks exactly the token sampleToken picks from the whole row, for every setting and seed (ties included)', () => {
    const gen = seededRandom(11);
    for (let trial = 0; trial < 40; trial++) {
      // Coarse values, so equal logits are common, also at the k-th place.
      const row = Float32Array.from({ length: 500 }, () => Math.round(gen() * 24) / 4 - 3);
      for (const s of SETTINGS) {
        const k = s.topK ?? 1;
        const ids = Int32Array.from(topKIndices(row, k));
        const values = Float32Array.from(ids, (i) => row[i]);
        for (const seed of [1, 2, 3]) {
          const full = seededRandom(seed);
          const top = seededRandom(seed);
          for (let draw = 0; draw < 5; draw++) expect(sampleAmongTop(ids, values, s, top)).toBe(sampleToken(row.slice(), s, full));
        }
      }
    }
  });
});

describe("the graph's top-k output", () => {
  it('onnxruntime TopK (as the graph builds it) orders ties by the lower index, as topKIndices does', async () => {
    const g = new GraphBuilder();
    const x = g.input('x', DataType.FLOAT, ['b', 'v']);
    const [values, ids] = g.opMulti('TopK', [x, g.input('k', DataType.INT64, [1])], 2, { axis: -1, largest: 1, sorted: 1 });
    g.output(values, 'values', DataType.FLOAT, ['b', 'k']);
    g.output(ids, 'ids', DataType.INT64, ['b', 'k']);
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'topk-'));
    const file = path.join(dir, 'topk.onnx');
    await fs.writeFile(file, encodeModel(g.build('topk')));
    const session = await ort.InferenceSession.create(file);
    const rand = seededRandom(5);
    for (const [B, V, k] of [
      [3, 2000, 50],
      [2, 300, 1],
      [1, 64, 64],
    ]) {
      const data = Float32Array.from({ length: B * V }, () => Math.floor(rand() * 30) - 15);
      const out = await session.run({ x: new ort.Tensor('float32', data, [B, V]), k: new ort.Tensor('int64', BigInt64Array.of(BigInt(k)), [1]) });
      for (let b = 0; b < B; b++) {
        const got = Array.from((out.ids.data as BigInt64Array).subarray(b * k, (b + 1) * k), Number);
        expect(got).toEqual(topKIndices(data.subarray(b * V, (b + 1) * V), k));
      }
    }
    await session.release();
    await fs.rm(dir, { recursive: true, force: true });
  });

  it("returns each row's k largest logits (bit-identical to the logits output) and their ids; topK 0 fetches no logits", async () => {
    const model = await stylist();
    const s = model.session;
    expect(s.hasTopK).toBe(true);
    const ids = ['Invite Jo to a picnic.', 'Describe the sea.', 'Say hello.'].map((p) => model.encodePrompt(p));
    const T = Math.max(...ids.map((r) => r.length));
    const req = {
      inputIds: ids.flatMap((r) => [...new Array(T - r.length).fill(model.padTokenId), ...r]),
      batch: 3,
      seq: T,
      positions: ids.flatMap((r) => Array.from({ length: T }, (_, t) => Math.max(0, t - (T - r.length)))),
      keyMask: Uint8Array.from(ids.flatMap((r) => Array.from({ length: T }, (_, t) => (t >= T - r.length ? 1 : 0)))),
    };
    const V = model.config.vocabSize;
    const full = await s.run(req);
    const k = 7;
    const top = await s.run({ ...req, topK: k });
    expect(top.logits).toBeUndefined();
    expect(top.top!.k).toBe(k);
    for (let b = 0; b < 3; b++) {
      const row = full.logits!.subarray(b * V, (b + 1) * V);
      const want = topKIndices(row, k);
      expect(Array.from(top.top!.ids.subarray(b * k, (b + 1) * k), Number)).toEqual(want);
      expect(Array.from(top.top!.values.subarray(b * k, (b + 1) * k))).toEqual(want.map((i) => row[i]));
    }
    const none = await s.run({ ...req, topK: 0 });
    expect(none.logits).toBeUndefined();
    expect(none.top).toBeUndefined();
    await expect(s.run({ ...req, topK: V + 1 })).rejects.toThrow(/topK must be an integer in 0\.\./);
    await expect(s.run({ ...req, topK: 1.5 })).rejects.toThrow(/topK/);
  });

  it('generation samples from it when every row allows, with the same tokens as from the whole logits; otherwise it fetches the logits', async () => {
    const model = await stylist();
    const s = model.session;
    const fetched: string[][] = [];
    const ortRun = s.session.run.bind(s.session);
    const spy = (async (feeds: ort.InferenceSession.FeedsType, fetches: string[]) => {
      fetched.push(fetches.filter((f) => f === 'logits' || f === 'top_logits'));
      return ortRun(feeds, fetches);
    }) as typeof s.session.run;
    const requests = (settings: SamplingOptions[]): GenerationRequest[] =>
      STYLIST_HELD_OUT.slice(0, settings.length).map((q, i) => ({
        promptIds: model.encodePrompt(q),
        maxNewTokens: 24,
        sampling: { ...settings[i], seed: 100 + i },
      }));
    const gen = (reqs: GenerationRequest[], logprobs?: number) =>
      generateBatch(s, reqs, { stopTokenIds: model.stopTokenIds, padTokenId: model.padTokenId, logprobs });
    s.session.run = spy;
    try {
      const reqs = requests(SETTINGS);
      fetched.length = 0;
      const viaTop = await gen(reqs);
      // Every forward call fetched the top-k, none the [B,V] logits.
      expect(fetched.length).toBeGreaterThan(1);
      expect(fetched.every((f) => f.length === 1 && f[0] === 'top_logits')).toBe(true);
      fetched.length = 0;
      // Asking for log-probabilities needs the whole row: the logits path, the same tokens.
      const viaLogits = await gen(reqs, 0);
      expect(fetched.every((f) => f.length === 1 && f[0] === 'logits')).toBe(true);
      expect(viaTop.map((r) => r.tokens)).toEqual(viaLogits.map((r) => r.tokens));
      expect(new Set(viaTop.map((r) => r.tokens.join(','))).size).toBeGreaterThan(2);
      // One row with a repetition penalty, or a top-k of 0 or above the cap, and the batch reads whole rows.
      for (const odd of [{ temperature: 0.8, topK: 50, repetitionPenalty: 1.2 }, { temperature: 0.8 }, { temperature: 0.8, topK: MAX_GRAPH_TOP_K + 1 }]) {
        fetched.length = 0;
        await gen(requests([SETTINGS[1], odd]));
        expect(fetched.every((f) => f.length === 1 && f[0] === 'logits')).toBe(true);
      }
    } finally {
      s.session.run = ortRun;
    }
  });
});
