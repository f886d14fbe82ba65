import { InvalidArgumentError } from '../../errors.js';
import type { DecoderSession, ForwardResult } from '../DecoderSession.js';
import { leftPad, stackPhases, type SteerFeed } from './batchFeeds.js';
import { prefillChunkSize, reserveForChunk } from './prefillChunks.js';
import { splitsAtAnswer, type Intervention } from './Intervention.js';
import { seededRandom } from '../../util/random.js';
import { logSumExp, sampleAmongTop, sampleToken, topKIndices, validateSampling, type SamplingOptions } from './sampling.js';
import { DEFAULTS } from '../defaults.js';

export interface GenerationRequest {
  promptIds: number[];
  maxNewTokens?: number;
  sampling?: SamplingOptions;
  intervention?: Intervention | null;
}

export type FinishReason = 'eos' | 'length' | 'stop' | 'aborted';

export interface GeneratedRow {
  tokens: number[];
  finishReason: FinishReason;
  /** The row closed its turn (an end-of-turn / EOS token) — a coherence signal. */
  ended: boolean;
  /** Log-probability of each generated token under the (steered) model, when asked. */
  logprobs?: number[];
  topLogprobs?: { id: number; logprob: number }[][];
}

export interface TokenEvent {
  row: number;
  token: number;
  logprob?: number;
  top?: { id: number; logprob: number }[];
}

export interface GenerateOptions {
  stopTokenIds: number[];
  padTokenId: number;
  /** Tokens per prefill call (chunked prefill). */
  prefillChunk?: number;
  /** Recompute the whole sequence every step instead of using the cache (for checks). */
  noCache?: boolean;
  /** Called for every generated token, in order. Return true to stop that row ('stop' reason). */
  onToken?: (e: TokenEvent) => boolean | void;
  /** Number of top log-probabilities to report per token (0 = only the chosen token's). */
  logprobs?: number | null;
  signal?: AbortSignal;
  /**
   * Reads the residual stream after every block (steering included) at each row's newest position,
   * from the generation's own forward calls (pooled in the graph; no extra pass): `token` −1 is the
   * last prompt token (after prefill, before the first token is chosen), `token` i the i-th generated
   * token (read when it is fed back, before token i+1 is chosen). `resid` is [B,L,H]; rows without a
   * token i hold padding. Setting it adds one decode step at the end, so the last tokens are read too.
   */
  onResidual?: (e: { token: number; resid: Float32Array }) => void;
}

/**
 * Generates continuations for a batch of prompts in one set of forward calls: left padding, a JS-side
 * KV cache, chunked prefill, per-row sampling, seeds and steering; rows finish independently.
 *
 * @example
 * const [row] = await generateBatch(session, [{ promptIds, maxNewTokens: 32 }], { stopTokenIds: [2], padTokenId: 0 });
 */
export async function generateBatch(session: DecoderSession, requests: GenerationRequest[], opts: GenerateOptions): Promise<GeneratedRow[]> {
  const c = session.config;
  const B = requests.length;
  if (B === 0) return [];
  for (const r of requests) {
    if (r.promptIds.length === 0) throw new InvalidArgumentError('A prompt has zero tokens; give at least one token (e.g. apply the chat template).');
    if (r.sampling) validateSampling(r.sampling);
    const max = r.maxNewTokens ?? DEFAULTS.generation.maxNewTokens;
    if (!Number.isInteger(max) || max < 0) throw new InvalidArgumentError(`maxNewTokens must be an integer ≥ 0; got ${max}.`);
    if (r.promptIds.length + max > c.maxPositionEmbeddings) {
      throw new InvalidArgumentError(
        `Prompt (${r.promptIds.length} tokens) plus max new tokens (${max}) exceeds the model's context of ${c.maxPositionEmbeddings} tokens. Shorten the prompt or lower max new tokens.`,
      );
    }
  }
  const {
    ids,
    pads,
    length: T0,
  } = leftPad(
    requests.map((r) => r.promptIds),
    opts.padTokenId,
  );
  const maxNew = requests.map((r) => r.maxNewTokens ?? DEFAULTS.generation.maxNewTokens);
  const rands = requests.map((r) => seededRandom(r.sampling?.seed ?? 0));
  const stop = new Set(opts.stopTokenIds);
  const rows: GeneratedRow[] = requests.map(() => ({ tokens: [], finishReason: 'length', ended: false }));
  const done = requests.map((_, b) => maxNew[b] === 0);
  const history = ids.map((r) => [...r]);
  // Each row's steering before its last prompt position and from it on, stacked once per phase.
  const promptSteer = stackPhases(
    requests.map((r) => r.intervention?.prompt),
    c,
  );
  let answerSteer = stackPhases(
    requests.map((r) => r.intervention?.response),
    c,
  );
  const split = requests.some((r) => splitsAtAnswer(r.intervention));
  if (split && opts.noCache)
    throw new InvalidArgumentError('Recomputing without the cache (noCache) needs steering that is the same at every position (positions "all").');
  const wantLogprobs = opts.logprobs !== undefined && opts.logprobs !== null;
  if (wantLogprobs) rows.forEach((r) => ((r.logprobs = []), (r.topLogprobs = [])));
  // When every row's choice needs only its top-k logits, the graph's top-k output is fetched instead
  // of the [B,V] logits (same tokens: same values, ties to the lower id as in topKIndices).
  const rowK = requests.map((r) => rowTopK(r.sampling, c.vocabSize));
  const topK = wantLogprobs || !session.hasTopK || rowK.includes(null) ? null : Math.max(...(rowK as number[]));

  // The graph attends over the cache's whole capacity (masked beyond its length), so start small and
  // let it double as answers grow (never past what the rows can need): a 1,024-token budget would
  // otherwise make the first steps as slow as decoding at 1,024 tokens of context. A prompt longer
  // than one prefill chunk starts at one chunk and the cache grows as the prompt is read.
  const chunk = opts.prefillChunk ?? 256;
  const limit = T0 + Math.max(...maxNew) + 1;
  const decodeCapacity = T0 + Math.min(Math.max(...maxNew), 64) + 1;
  const longPrompt = T0 > chunk && !opts.noCache;
  // Pooled: the buffers go back for the next batch when this one ends (a fresh cache is faulted in page by page).
  const cache = session.newCache(B, longPrompt ? chunk : decodeCapacity, limit, { pooled: true });
  try {
    // keyMask per position: 1 for real tokens.
    const realMask: number[][] = pads.map((p) => [...new Array(p).fill(0), ...new Array(T0 - p).fill(1)]);

    // The rows in the forward batch, in batch order (original row indices): all of them until finished
    // rows are dropped (see `dropFinished`).
    let inBatch = requests.map((_, b) => b);
    // One forward call over positions [start, end). Its steering is one phase for every row: the
    // prompt phase before the last prompt position (T0 − 1, the same for every row under left
    // padding), the response phase from it on; prefill is split there when a row's phases differ.
    const run = async (start: number, end: number, steer: SteerFeed) => {
      const B = inBatch.length;
      const T = end - start;
      const S = end;
      const inputIds = new Array<number>(B * T);
      const positions = new Array<number>(B * T);
      const keyMask = new Uint8Array(B * S);
      inBatch.forEach((row, b) => {
        for (let t = 0; t < T; t++) {
          const pos = start + t;
          inputIds[b * T + t] = history[row][pos];
          positions[b * T + t] = Math.max(0, pos - pads[row]);
        }
        for (let s = 0; s < S; s++) keyMask[b * S + s] = realMask[row][s];
      });
      // With onResidual, pool each row's newest position (the last one of this call, weight 1): pooled [B,L,1,H].
      const read = opts.onResidual && end >= T0;
      const poolWeights = read ? new Float32Array(B).fill(1) : undefined;
      const res = await session.run({
        inputIds,
        batch: B,
        seq: T,
        positions,
        keyMask,
        cache: opts.noCache ? undefined : cache,
        steer,
        poolWeights,
        pools: read ? 1 : undefined,
        // Prefill calls before the last one: no logits are read.
        ...(end < T0 ? session.noLogits : topK !== null ? { topK } : {}),
      });
      if (!opts.noCache) cache.append(res.newK, res.newV, T);
      if (read) opts.onResidual!({ token: end - 1 - T0, resid: res.pooled! });
      return res;
    };

    let out: ForwardResult | undefined; // the latest forward call's result: its last-position logits or top-k
    // Positions [from, to) of the prompt in chunks; a long prompt's chunks keep one layer's attention
    // scores within PREFILL_SCORE_BYTES and attend over what has been read (the cache reserved as it goes).
    const prefill = async (from: number, to: number, steer: SteerFeed) => {
      for (let s = from; s < to;) {
        let e = Math.min(to, s + chunk);
        if (longPrompt) {
          reserveForChunk(cache, e, limit);
          e = Math.min(to, s + prefillChunkSize(c, B, cache.capacity, chunk));
        }
        out = await run(s, e, steer);
        s = e;
      }
    };
    if (opts.noCache) {
      out = await run(0, T0, answerSteer);
    } else {
      const answerFrom = split ? T0 - 1 : 0;
      await prefill(0, answerFrom, promptSteer);
      await prefill(answerFrom, T0, answerSteer);
      if (longPrompt) cache.reserve(decodeCapacity);
    }
    const V = c.vocabSize;
    // Finished rows leave the batch once a quarter of it has finished (rows are independent, so the
    // others' tokens do not change): the cache is compacted in place and the answer-phase steering
    // restacked. Not with onResidual (its readings are per original row) or without a cache.
    const dropFinished = () => {
      if (opts.noCache || opts.onResidual) return;
      const keep = inBatch.map((row, slot) => [row, slot] as const).filter(([row]) => !done[row]);
      if (keep.length === 0 || keep.length > 0.75 * inBatch.length) return;
      // The next forward call reads the kept rows only; the logits in hand are consumed already.
      cache.keepRows(keep.map(([, slot]) => slot));
      inBatch = keep.map(([row]) => row);
      answerSteer = stackPhases(
        inBatch.map((row) => requests[row].intervention?.response),
        c,
      );
    };
    let step = 0;
    while (!done.every(Boolean)) {
      if (opts.signal?.aborted) {
        rows.forEach((r, b) => {
          if (!done[b]) r.finishReason = 'aborted';
        });
        break;
      }
      for (let slot = 0; slot < inBatch.length; slot++) {
        const b = inBatch[slot];
        if (done[b]) {
          history[b].push(opts.padTokenId);
          continue;
        }
        const s = requests[b].sampling ?? {};
        let lp: { chosen: (id: number) => number; top: { id: number; logprob: number }[] } | undefined;
        let tok: number;
        const top = out!.top;
        if (top) {
          const k = rowK[b]!;
          const ids = Int32Array.from(top.ids.subarray(slot * top.k, slot * top.k + k), Number);
          tok = sampleAmongTop(ids, top.values.subarray(slot * top.k, slot * top.k + k), s, rands[b]);
        } else {
          // A view: nothing reads a row's logits after its sample, and the repetition penalty writes only this row's slots.
          const rowLogits = out!.logits!.subarray(slot * V, (slot + 1) * V);
          if (wantLogprobs) lp = logSoftmaxInfo(rowLogits, opts.logprobs ?? 0);
          tok = sampleToken(rowLogits, s, rands[b], s.repetitionPenalty && s.repetitionPenalty !== 1 ? history[b].slice(pads[b]) : []);
        }
        history[b].push(tok);
        rows[b].tokens.push(tok);
        const event: TokenEvent = { row: b, token: tok };
        if (lp) {
          event.logprob = lp.chosen(tok);
          event.top = lp.top;
          rows[b].logprobs!.push(event.logprob);
          rows[b].topLogprobs!.push(lp.top);
        }
        const stopRow = opts.onToken?.(event) === true;
        if (stop.has(tok)) {
          done[b] = true;
          rows[b].finishReason = 'eos';
          rows[b].ended = true;
        } else if (stopRow) {
          done[b] = true;
          rows[b].finishReason = 'stop';
        } else if (rows[b].tokens.length >= maxNew[b]) {
          done[b] = true;
          rows[b].finishReason = 'length';
        }
      }
      for (const m of realMask) m.push(1);
      step++;
      if (done.every(Boolean)) break;
      dropFinished();
      const len = T0 + step;
      out = opts.noCache ? await run(0, len, answerSteer) : await run(len - 1, len, answerSteer);
    }
    // The tokens chosen in the last step have not been fed back yet: one more call reads them.
    const len = T0 + step;
    if (opts.onResidual && step > 0 && !opts.signal?.aborted && len <= c.maxPositionEmbeddings) {
      if (opts.noCache) await run(0, len, answerSteer);
      else await run(len - 1, len, answerSteer);
    }
    return rows;
  } finally {
    cache.release();
  }
}

/** Largest candidate list a step fetches from the graph instead of the whole row of logits. */
export const MAX_GRAPH_TOP_K = 1024;

/** How many of its largest logits a row's choice needs, or null when it needs the whole row (repetition penalty, no top-k). */
function rowTopK(s: SamplingOptions | undefined, V: number): number | null {
  if (s?.repetitionPenalty !== undefined && s.repetitionPenalty !== 1) return null;
  if ((s?.temperature ?? 0) === 0) return 1;
  const k = s?.topK ?? 0;
  return k > 0 && k < V && k <= MAX_GRAPH_TOP_K ? k : null;
}

function logSoftmaxInfo(logits: Float32Array, topN: number) {
  const lse = logSumExp(logits);
  const top: { id: number; logprob: number }[] = [];
  if (topN > 0) {
    const idx = topKIndices(logits, topN);
    for (const i of idx) top.push({ id: i, logprob: logits[i] - lse });
  }
  return { chosen: (id: number) => logits[id] - lse, top };
}
