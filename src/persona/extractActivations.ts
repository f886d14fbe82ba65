import { PersonaError } from '../errors.js';
import type { LanguageModel } from '../engine/LanguageModel.js';
import { leftPad } from '../engine/generate/batchFeeds.js';
import { KVCache } from '../engine/KVCache.js';
import type { ProgressCallback } from '../util/progress.js';

/** One prompt+answer sequence to read activations from. */
export interface ActivationSequence {
  promptIds: number[];
  answerIds: number[];
  /** Pool only the first n answer tokens (default all), e.g. to leave out a closing end-of-turn token that is still scored. */
  pooledAnswerTokens?: number;
}

/**
 * Per-sequence activations of every layer, pooled inside the graph: `responseMean[l]` is the mean
 * of the residual stream after block l over the answer tokens, `promptLast[l]` the residual at the
 * last prompt token. Each is [L][H] per sequence.
 */
export interface PooledActivations {
  responseMean: Float32Array[][];
  promptLast: Float32Array[][];
  /** Mean ‖residual‖ over the answer tokens, per layer, averaged over sequences. */
  residNorm: number[];
  /** With `answerLogProbs`: Σ log p(answer token | prefix) over every answer token, per sequence. */
  answerLogProbs?: { sumLogProb: number; tokens: number }[];
}

/** Bytes of output-layer logits one scoring pass may hold ([scored positions, vocab] floats). */
const SCORING_LOGITS_BYTES = 512 * 2 ** 20;

/**
 * Reads activations in one batched extra pass over prompt+answer (chunked, cached), pooling in the
 * graph so only [B,L,2,H] leaves it. Steering is off. With `answerLogProbs`, the same pass (on the
 * model's scoring graph) also returns each answer's log-probability under the model, teacher-forced:
 * the perplexity and the projection of an answer cost one prefill together.
 *
 * @example const acts = await extractActivations(model, [{ promptIds, answerIds }]);
 * @example const { responseMean, answerLogProbs } = await extractActivations(model, seqs, { answerLogProbs: true });
 */
export async function extractActivations(
  model: LanguageModel,
  seqs: ActivationSequence[],
  opts: { batchSize?: number; chunk?: number; answerLogProbs?: boolean; onProgress?: ProgressCallback; signal?: AbortSignal } = {},
): Promise<PooledActivations> {
  const c = model.config;
  const L = c.numHiddenLayers;
  const H = c.hiddenSize;
  const bs = opts.batchSize ?? 16;
  const session = opts.answerLogProbs ? await model.scoringSession() : model.session;
  const sums = opts.answerLogProbs ? seqs.map((s) => ({ sumLogProb: 0, tokens: s.answerIds.length })) : undefined;
  // Scored positions need [N,V] logits: keep N·V within the budget by shortening the chunk.
  const maxChunk = opts.answerLogProbs ? Math.max(1, Math.floor(SCORING_LOGITS_BYTES / 4 / c.vocabSize / Math.min(bs, Math.max(1, seqs.length)))) : Infinity;
  const chunk = Math.min(opts.chunk ?? 256, maxChunk);
  const responseMean: Float32Array[][] = [];
  const promptLast: Float32Array[][] = [];
  const residSum = new Float64Array(L);
  let done = 0;
  for (let start = 0; start < seqs.length; start += bs) {
    if (opts.signal?.aborted) throw new PersonaError('Interrupted while reading activations; nothing was written.');
    const batch = seqs.slice(start, start + bs);
    const B = batch.length;
    const full = batch.map((s) => [...s.promptIds, ...s.answerIds]);
    const { ids, pads, length: T0 } = leftPad(full, model.padTokenId);
    // pool weights [B,2,T0]: row 0 = mean over answer tokens, row 1 = last prompt token.
    const weights = new Float32Array(B * 2 * T0);
    batch.forEach((s, b) => {
      const a0 = pads[b] + s.promptIds.length;
      const n = Math.min(s.answerIds.length, s.pooledAnswerTokens ?? Infinity);
      for (let t = a0; t < a0 + n; t++) weights[(b * 2 + 0) * T0 + t] = 1 / Math.max(1, n);
      weights[(b * 2 + 1) * T0 + a0 - 1] = 1;
    });
    const pooled = new Float32Array(B * L * 2 * H);
    const cache = new KVCache(L, B, c.numKeyValueHeads, c.headDim, T0);
    for (let s0 = 0; s0 < T0; s0 += chunk) {
      const s1 = Math.min(T0, s0 + chunk);
      const T = s1 - s0;
      const inputIds: number[] = [];
      const positions: number[] = [];
      const keyMask = new Uint8Array(B * s1);
      const pw = new Float32Array(B * 2 * T);
      for (let b = 0; b < B; b++) {
        for (let t = s0; t < s1; t++) {
          inputIds.push(ids[b][t]);
          positions.push(Math.max(0, t - pads[b]));
        }
        for (let s = 0; s < s1; s++) keyMask[b * s1 + s] = s >= pads[b] ? 1 : 0;
        for (let k = 0; k < 2; k++) pw.set(weights.subarray((b * 2 + k) * T0 + s0, (b * 2 + k) * T0 + s1), (b * 2 + k) * T);
      }
      // Position t predicts token t+1: score it where t+1 is an answer token.
      const score = sums ? { index: [] as number[], token: [] as number[], row: [] as number[] } : undefined;
      if (score) {
        batch.forEach((sq, b) => {
          const a0 = pads[b] + sq.promptIds.length;
          for (let t = Math.max(s0, a0 - 1); t < Math.min(s1, a0 + sq.answerIds.length - 1); t++) {
            score.index.push(b * T + t - s0);
            score.token.push(ids[b][t + 1]);
            score.row.push(start + b);
          }
        });
      }
      const res = await session.run({ inputIds, batch: B, seq: T, positions, keyMask, cache, poolWeights: pw, pools: 2, score });
      cache.append(res.newK, res.newV, T);
      if (score) score.row.forEach((r, i) => (sums![r].sumLogProb += res.scoreLogProbs![i]));
      const p = res.pooled!;
      for (let i = 0; i < p.length; i++) pooled[i] += p[i];
    }
    for (let b = 0; b < B; b++) {
      const rm: Float32Array[] = [];
      const pl: Float32Array[] = [];
      for (let l = 0; l < L; l++) {
        const base = ((b * L + l) * 2) * H;
        const r = pooled.slice(base, base + H);
        rm.push(r);
        pl.push(pooled.slice(base + H, base + 2 * H));
        residSum[l] += Math.hypot(...r);
      }
      responseMean.push(rm);
      promptLast.push(pl);
    }
    done += B;
    opts.onProgress?.({ phase: 'activations', done, total: seqs.length, unit: 'sequences' });
  }
  return { responseMean, promptLast, residNorm: Array.from(residSum, (s) => s / Math.max(1, seqs.length)), ...(sums ? { answerLogProbs: sums } : {}) };
}
