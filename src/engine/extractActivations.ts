import { PersonaError } from '../errors.js';
import type { LanguageModel } from './LanguageModel.js';
import type { DecoderSession } from './DecoderSession.js';
import { logSumExp } from './generate/sampling.js';
import type { KVCache } from './KVCache.js';
import type { ProgressCallback } from '../util/progress.js';
import { DEFAULTS } from './defaults.js';

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
 * last prompt token, `promptMean[l]` the mean over the prompt's tokens (template included). Each is
 * [L][H] per sequence.
 *
 * @example const { responseMean, promptMean, promptLast }: PooledActivations = await extractActivations(model, seqs);
 */
export interface PooledActivations {
  responseMean: Float32Array[][];
  promptLast: Float32Array[][];
  promptMean: Float32Array[][];
  /** Mean ‖residual‖ over the answer tokens, per layer, averaged over sequences. */
  residNorm: number[];
  /** With `answerLogProbs`: Σ log p(answer token | prefix) over every answer token, per sequence. */
  answerLogProbs?: { sumLogProb: number; tokens: number }[];
}

/** Bytes of output-layer logits one scoring call may hold ([scored positions, vocab] floats): 128 MiB is ~220 positions of a 152k vocabulary, enough rows for the matmuls while an evaluation's peak memory stays near generation's. */
const SCORING_LOGITS_BYTES = 128 * 2 ** 20;

/**
 * Reads activations in one batched extra pass over prompt+answer (chunked, cached), pooling in the
 * graph so only [B,L,2,H] leaves it. Steering is off. Rows that share a prompt are batched together
 * and their prompt is read once, its cache copied to each row (an evaluation answers every question
 * at several alphas). With `answerLogProbs`, the same pass (on the model's scoring graph) also
 * returns each answer's log-probability under the model, teacher-forced: the perplexity and the
 * projection of an answer cost one prefill together.
 *
 * @example const acts = await extractActivations(model, [{ promptIds, answerIds }]);
 * @example const { responseMean, answerLogProbs } = await extractActivations(model, seqs, { answerLogProbs: true });
 */
export async function extractActivations(
  model: LanguageModel,
  seqs: ActivationSequence[],
  opts: { batchSize?: number; chunk?: number; answerLogProbs?: boolean; onProgress?: ProgressCallback; signal?: AbortSignal } = {},
): Promise<PooledActivations> {
  const L = model.config.numHiddenLayers;
  const bs = opts.batchSize ?? DEFAULTS.generation.batchSize;
  const session = opts.answerLogProbs ? await model.scoringSession() : model.session;
  // Scored positions need [N,V] logits: keep N·V within the budget by shortening the chunk.
  const maxChunk = opts.answerLogProbs
    ? Math.max(1, Math.floor(SCORING_LOGITS_BYTES / 4 / model.config.vocabSize / Math.min(bs, Math.max(1, seqs.length))))
    : Infinity;
  const chunk = Math.min(opts.chunk ?? 256, maxChunk);
  const responseMean: Float32Array[][] = new Array(seqs.length);
  const promptLast: Float32Array[][] = new Array(seqs.length);
  const promptMean: Float32Array[][] = new Array(seqs.length);
  const sums = opts.answerLogProbs ? seqs.map((s) => ({ sumLogProb: 0, tokens: s.answerIds.length })) : undefined;
  const residSum = new Float64Array(L);
  // Same prompt, same batch: rows ordered by the first appearance of their prompt.
  const firstSeen = new Map<string, number>();
  const key = (i: number) => seqs[i].promptIds.join(',');
  seqs.forEach((_, i) => firstSeen.has(key(i)) || firstSeen.set(key(i), i));
  const order = seqs.map((_, i) => i).sort((a, b) => firstSeen.get(key(a))! - firstSeen.get(key(b))! || a - b);
  let done = 0;
  for (let start = 0; start < order.length; start += bs) {
    if (opts.signal?.aborted) throw new PersonaError('Interrupted while reading activations; nothing was written.');
    const rows = order.slice(start, start + bs);
    const r = await readBatch(
      model,
      session,
      rows.map((i) => seqs[i]),
      chunk,
      !!sums,
    );
    rows.forEach((i, b) => {
      responseMean[i] = r.responseMean[b];
      promptLast[i] = r.promptLast[b];
      promptMean[i] = r.promptMean[b];
      for (let l = 0; l < L; l++) residSum[l] += Math.hypot(...r.responseMean[b][l]);
      if (sums) sums[i].sumLogProb = r.logProbs![b];
    });
    done += rows.length;
    opts.onProgress?.({ phase: 'activations', done, total: seqs.length, unit: 'sequences' });
  }
  return {
    responseMean,
    promptLast,
    promptMean,
    residNorm: Array.from(residSum, (s) => s / Math.max(1, seqs.length)),
    ...(sums ? { answerLogProbs: sums } : {}),
  };
}

/**
 * One batch, laid out [pad | prompt | answer | pad]: prompts left-padded to the longest (P0), answers
 * right-padded to the longest (A0), so every row's prompt fills the same slots. The distinct prompts
 * are read first (their last-token residual pooled, their last logits giving the first answer
 * token's log-probability), their cache rows copied to the rows that share them, then the answers.
 */
async function readBatch(model: LanguageModel, session: DecoderSession, batch: ActivationSequence[], chunk: number, scored: boolean) {
  const c = model.config;
  const L = c.numHiddenLayers;
  const H = c.hiddenSize;
  const B = batch.length;
  const pad = model.padTokenId;
  const uniq: number[][] = [];
  const index = new Map<string, number>();
  const rowPrompt = batch.map((s) => {
    const k = s.promptIds.join(',');
    if (!index.has(k)) index.set(k, uniq.push(s.promptIds) - 1);
    return index.get(k)!;
  });
  const U = uniq.length;
  const P0 = Math.max(...uniq.map((p) => p.length));
  const A0 = Math.max(...batch.map((s) => s.answerIds.length));
  const padsP = uniq.map((p) => P0 - p.length);

  // 1) The distinct prompts: pool the mean over the prompt's tokens (pool 0) and its last token (pool 1, slot P0−1 in every row).
  const promptCache = session.newCache(U, P0, Infinity, { pooled: true });
  const lastPooled = new Float32Array(U * L * 2 * H);
  let lastLogits: Float32Array | undefined;
  let cache: KVCache;
  try {
    for (let s0 = 0; s0 < P0; s0 += chunk) {
      const s1 = Math.min(P0, s0 + chunk);
      const T = s1 - s0;
      const inputIds: number[] = [];
      const positions: number[] = [];
      const keyMask = new Uint8Array(U * s1);
      const pw = new Float32Array(U * 2 * T);
      for (let u = 0; u < U; u++) {
        for (let t = s0; t < s1; t++) {
          inputIds.push(t < padsP[u] ? pad : uniq[u][t - padsP[u]]);
          positions.push(Math.max(0, t - padsP[u]));
        }
        for (let s = 0; s < s1; s++) keyMask[u * s1 + s] = s >= padsP[u] ? 1 : 0;
        for (let t = Math.max(s0, padsP[u]); t < s1; t++) pw[(u * 2 + 0) * T + t - s0] = 1 / uniq[u].length;
        if (s1 === P0) pw[(u * 2 + 1) * T + T - 1] = 1;
      }
      // Only the last chunk's logits are read, and only when the answers are scored.
      const logits = scored && s1 === P0 ? {} : session.noLogits;
      const res = await session.run({ inputIds, batch: U, seq: T, positions, keyMask, cache: promptCache, poolWeights: pw, pools: 2, ...logits });
      promptCache.append(res.newK, res.newV, T);
      // Pool 1 has weight only in the last chunk, pool 0 in every chunk: sum the chunks.
      const p = res.pooled!;
      for (let i = 0; i < p.length; i++) lastPooled[i] += p[i];
      if (s1 === P0) lastLogits = res.logits;
    }

    // 2) The answers, after a copy of each row's prompt cache.
    cache = promptCache.gather(rowPrompt, P0 + A0);
  } finally {
    promptCache.release();
  }
  const pooled = new Float32Array(B * L * 2 * H);
  const logProbs = new Array<number>(B).fill(0);
  try {
    if (scored) {
      // The first answer token's log-probability, from its prompt's last logits (one normaliser per prompt).
      const V = c.vocabSize;
      const lse = uniq.map((_, u) => logSumExp(lastLogits!.subarray(u * V, (u + 1) * V)));
      batch.forEach((s, b) => {
        if (s.answerIds.length) logProbs[b] += lastLogits![rowPrompt[b] * V + s.answerIds[0]] - lse[rowPrompt[b]];
      });
    }
    for (let s0 = 0; s0 < A0; s0 += chunk) {
      const s1 = Math.min(A0, s0 + chunk);
      const T = s1 - s0;
      const S = P0 + s1;
      const inputIds: number[] = [];
      const positions: number[] = [];
      const keyMask = new Uint8Array(B * S);
      const pw = new Float32Array(B * 2 * T);
      const score = scored ? { index: [] as number[], token: [] as number[], row: [] as number[] } : undefined;
      batch.forEach((sq, b) => {
        const n = sq.answerIds.length;
        const promptLen = sq.promptIds.length;
        const pooledN = Math.min(n, sq.pooledAnswerTokens ?? Infinity);
        for (let j = s0; j < s1; j++) {
          inputIds.push(j < n ? sq.answerIds[j] : pad);
          positions.push(promptLen + j);
          if (j < pooledN) pw[(b * 2 + 0) * T + j - s0] = 1 / pooledN;
          // Answer slot j predicts answer token j+1.
          if (score && j + 1 < n) {
            score.index.push(b * T + j - s0);
            score.token.push(sq.answerIds[j + 1]);
            score.row.push(b);
          }
        }
        const pads = padsP[rowPrompt[b]];
        for (let s = 0; s < S; s++) keyMask[b * S + s] = s < P0 ? (s >= pads ? 1 : 0) : s - P0 < n ? 1 : 0;
      });
      const res = await session.run({ inputIds, batch: B, seq: T, positions, keyMask, cache, poolWeights: pw, pools: 2, score, ...session.noLogits });
      cache.append(res.newK, res.newV, T);
      if (score) score.row.forEach((b, i) => (logProbs[b] += res.scoreLogProbs![i]));
      const p = res.pooled!;
      for (let i = 0; i < p.length; i++) pooled[i] += p[i];
    }
  } finally {
    cache.release();
  }
  const slice = (from: Float32Array, row: number, l: number, k: number) => from.slice(((row * L + l) * 2 + k) * H, ((row * L + l) * 2 + k + 1) * H);
  return {
    responseMean: batch.map((_, b) => Array.from({ length: L }, (_, l) => slice(pooled, b, l, 0))),
    promptLast: batch.map((_, b) => Array.from({ length: L }, (_, l) => slice(lastPooled, rowPrompt[b], l, 1))),
    promptMean: batch.map((_, b) => Array.from({ length: L }, (_, l) => slice(lastPooled, rowPrompt[b], l, 0))),
    logProbs: scored ? logProbs : undefined,
  };
}
