import type { Precision } from '../engine/convert/Precision.js';
import { loadModel } from '../engine/LanguageModel.js';
import { copyChatTokenizer, measureEvaluationSpeed } from './measureEvaluationSpeed.js';

/** `persona bench --evaluation`: an evaluation's throughput beside batched decode, in one process. */
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
    const s = await measureEvaluationSpeed(model);
    return {
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
