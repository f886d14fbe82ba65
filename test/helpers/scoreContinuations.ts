import type { DecoderSession } from '../../src/engine/DecoderSession.js';
import { KVCache } from '../../src/engine/KVCache.js';
import { leftPad, stackPhases, type SteerFeed } from '../../src/engine/generate/batchFeeds.js';
import { splitsAtAnswer, type Intervention } from '../../src/engine/generate/Intervention.js';
import { logSumExp } from '../../src/engine/generate/sampling.js';

export interface ContinuationScore {
  /** Σ log p(answer token | prefix) under the model. */
  sumLogProb: number;
  tokens: number;
}

/**
 * Log-probability of given answers after their prompts (teacher forcing), batched: the prompts are
 * prefilled, then the answer tokens are fed one position at a time through the cache, reading the
 * last-position logits. The reference the scoring graph (`extractActivations`' log-probabilities,
 * which read every answer position in one prefill) is tested against; nothing in src/ uses it.
 *
 * @example const [s] = await scoreContinuations(session, [{ promptIds, answerIds }], { padTokenId: 0 });
 */
export async function scoreContinuations(
  session: DecoderSession,
  items: { promptIds: number[]; answerIds: number[] }[],
  opts: { padTokenId: number; intervention?: Intervention | null; batchSize?: number },
): Promise<ContinuationScore[]> {
  const c = session.config;
  const V = c.vocabSize;
  const out: ContinuationScore[] = [];
  const bs = opts.batchSize ?? 16;
  for (let start = 0; start < items.length; start += bs) {
    const batch = items.slice(start, start + bs);
    const B = batch.length;
    const {
      ids,
      pads,
      length: T0,
    } = leftPad(
      batch.map((b) => b.promptIds),
      opts.padTokenId,
    );
    const maxA = Math.max(...batch.map((b) => b.answerIds.length));
    const cache = new KVCache(c.numHiddenLayers, B, c.numKeyValueHeads, c.headDim, T0 + maxA + 1);
    const promptSteer = stackPhases(
      batch.map(() => opts.intervention?.prompt),
      c,
    );
    const answerSteer = stackPhases(
      batch.map(() => opts.intervention?.response),
      c,
    );
    const mask: number[][] = pads.map((p) => [...new Array(p).fill(0), ...new Array(T0 - p).fill(1)]);
    const sums = new Array(B).fill(0);
    const step = async (inputIds: number[], T: number, positions: number[], steer: SteerFeed) => {
      const S = cache.length + T;
      const keyMask = new Uint8Array(B * S);
      for (let b = 0; b < B; b++) for (let s = 0; s < S; s++) keyMask[b * S + s] = mask[b][s];
      const res = await session.run({ inputIds, batch: B, seq: T, positions, keyMask, cache, steer });
      cache.append(res.newK, res.newV, T);
      return res.logits;
    };
    // The prompt phase before the last prompt position, the response phase from it on.
    const cut = splitsAtAnswer(opts.intervention) ? T0 - 1 : 0;
    const part = (from: number, to: number) => ids.flatMap((r) => r.slice(from, to));
    const partPos = (from: number, to: number) => ids.flatMap((r, b) => r.slice(from, to).map((_, t) => Math.max(0, from + t - pads[b])));
    if (cut > 0) await step(part(0, cut), cut, partPos(0, cut), promptSteer);
    let logits = await step(part(cut, T0), T0 - cut, partPos(cut, T0), answerSteer);
    for (let j = 0; j < maxA; j++) {
      const next: number[] = [];
      for (let b = 0; b < B; b++) {
        const a = batch[b].answerIds;
        const tok = j < a.length ? a[j] : opts.padTokenId;
        if (j < a.length) {
          const row = logits!.subarray(b * V, (b + 1) * V);
          sums[b] += row[tok] - logSumExp(row);
        }
        next.push(tok);
        mask[b].push(1);
      }
      if (j === maxA - 1) break;
      logits = await step(
        next,
        1,
        batch.map((it) => it.promptIds.length + j),
        answerSteer,
      );
    }
    batch.forEach((it, b) => out.push({ sumLogProb: sums[b], tokens: it.answerIds.length }));
  }
  return out;
}
