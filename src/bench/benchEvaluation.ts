import type { Precision } from '../engine/convert/Precision.js';
import { loadModel } from '../engine/LanguageModel.js';
import { copyChatTokenizer, measureEvaluationSpeed } from './measureEvaluationSpeed.js';
import { withPeakRss } from './peakRss.js';

/** `persona bench --evaluation`: an evaluation's throughput beside batched decode, and its peak RSS beside generation's, in one process. */
export interface EvaluationBench {
  /** 5 alphas × 32 questions × 1 sample, 48 new tokens, projection + perplexity + distinct-n scoring. */
  rows: number;
  /** Generated tokens over the whole evaluation (generation and scoring). */
  evaluation_tok_s: number;
  /** Generated tokens over the generation alone. */
  generation_tok_s: number;
  /** Batched decode (`decode_tok_s.ctx128_b8`), measured before and after in the same process; the better one. */
  decode_b8_tok_s: number;
  /** evaluation_tok_s / decode_b8_tok_s; the target is ≥ 0.5 (an evaluation, scoring included, at least half as fast as batched generation). */
  evaluation_over_decode_b8: number;
  /** Peak RSS of the same rows generated without the engine's scoring (projection, perplexity), run first in the same process. */
  generation_peak_rss_mib: number;
  /** Peak RSS of the evaluation (generation and scoring), on the same model right after. */
  evaluation_peak_rss_mib: number;
  /** evaluation_peak_rss_mib / generation_peak_rss_mib; the target is ≤ 1.2 (scoring holds no second copy of the weights). */
  evaluation_over_generation_peak_rss: number;
}

/**
 * Runs {@link measureEvaluationSpeed} on a bench folder of random weights: a chat tokenizer (the
 * embedded stylist's) is copied in so the evaluation can apply a chat template.
 *
 * @example const ev = await benchEvaluation(dir, 'f32', 2); ev.evaluation_over_decode_b8;
 */
export async function benchEvaluation(dir: string, precision: Precision, threads: number): Promise<EvaluationBench> {
  await copyChatTokenizer(dir);
  const model = await loadModel(dir, { precision, threads });
  try {
    // The same rows generated without the engine's scores first (each phase from a garbage collection, its own peak).
    const generation = await withPeakRss(() => measureEvaluationSpeed(model, { reference: false, engineScores: { projection: false, perplexity: false } }));
    const { value: s, peakMib } = await withPeakRss(() => measureEvaluationSpeed(model));
    return {
      generation_peak_rss_mib: generation.peakMib,
      evaluation_peak_rss_mib: peakMib,
      evaluation_over_generation_peak_rss: peakMib / generation.peakMib,
      rows: s.rows,
      evaluation_tok_s: s.tokensPerSecond,
      generation_tok_s: s.generationTokensPerSecond,
      decode_b8_tok_s: s.benchDecodeTokensPerSecond!,
      evaluation_over_decode_b8: s.ratioToBenchDecode!,
    };
  } finally {
    await model.dispose();
  }
}
