import type { Precision } from '../engine/convert/Precision.js';
import type { PrecisionResult } from './benchEngine.js';
import type { LlamaCppComparison } from './llamaCpp/runLlamaCppComparison.js';

/** Which llama.cpp weight type stands beside each of our precisions. */
export const LLAMA_CPP_TYPE: Record<Precision, 'f32' | 'q8_0' | 'q4_0'> = { f32: 'f32', q8: 'q8_0', q4: 'q4_0' };

/** Our speed over llama.cpp's for one precision pair, measured in the same run (> 1: we are faster). */
export interface EngineRatio {
  ours: Precision;
  theirs: 'f32' | 'q8_0' | 'q4_0';
  /** Decode at 128 tokens of context, batch 1. */
  decode_ctx128: { ours_tok_s: number; theirs_tok_s: number; ratio: number };
  /** Prefill of 128 and of 512 tokens. */
  prefill: Record<'128' | '512', { ours_tok_s: number; theirs_tok_s: number; ratio: number }>;
  rss_mib: { ours: number; theirs: number };
}

const pair = (ours: number, theirs: number) => ({ ours_tok_s: ours, theirs_tok_s: theirs, ratio: ours / theirs });

/**
 * Pairs our results with llama.cpp's (f32↔f32, q8↔q8_0, q4↔q4_0) and divides: the "ours over theirs"
 * table of `persona bench --vs llama.cpp`. Pairs that either side lacks are left out.
 *
 * @example const [q4] = compareEngines({ q4: ours }, comparison); q4.decode_ctx128.ratio; // ≥ 1: our q4 decodes faster than q4_0
 */
export function compareEngines(ours: Partial<Record<Precision, PrecisionResult>>, theirs: LlamaCppComparison): EngineRatio[] {
  const out: EngineRatio[] = [];
  for (const [p, r] of Object.entries(ours) as [Precision, PrecisionResult][]) {
    const t = theirs.results[LLAMA_CPP_TYPE[p]];
    if (!t) continue;
    out.push({
      ours: p,
      theirs: LLAMA_CPP_TYPE[p],
      decode_ctx128: pair(r.decode_tok_s.ctx128_b1, t.decode_tok_s[128]),
      prefill: { '128': pair(r.prefill_tok_s['128'], t.prefill_tok_s[128]), '512': pair(r.prefill_tok_s['512'], t.prefill_tok_s[512]) },
      rss_mib: { ours: r.rss_mib, theirs: t.rss_mib },
    });
  }
  return out;
}

/**
 * The figures an interleaved round compares (tok/s; higher is better). `_kv8`: our decode through the
 * int8 KV cache against llama.cpp's same decode (its default cache, f16).
 */
export type EngineFigure = 'decode_ctx128' | 'decode_ctx1024' | 'prefill_128' | 'prefill_512' | 'decode_ctx128_kv8' | 'decode_ctx1024_kv8';

/**
 * Our figures of one round, named as {@link llamaCppFigures} names theirs.
 *
 * @example interleaveRounds(async () => ourFigures(await oursOnce()), async () => llamaCppFigures(await theirsOnce()), 3);
 */
export function ourFigures(r: PrecisionResult): Partial<Record<EngineFigure, number>> {
  return {
    decode_ctx128: r.decode_tok_s.ctx128_b1,
    decode_ctx1024: r.decode_tok_s.ctx1024_b1,
    prefill_128: r.prefill_tok_s['128'],
    prefill_512: r.prefill_tok_s['512'],
    // Measured only when the bench's cache kinds include int8.
    ...(r.decode_tok_s.ctx128_b1_kv8 ? { decode_ctx128_kv8: r.decode_tok_s.ctx128_b1_kv8, decode_ctx1024_kv8: r.decode_tok_s.ctx1024_b1_kv8 } : {}),
  };
}

/**
 * llama.cpp's figures of one round (decode after 128 / 1,024 tokens, prefill of 128 / 512).
 *
 * @example llamaCppFigures(comparison.results.q4_0!).decode_ctx128;
 */
export function llamaCppFigures(t: { decode_tok_s: Record<number, number>; prefill_tok_s: Record<number, number> }): Record<EngineFigure, number> {
  const decode = { decode_ctx128: t.decode_tok_s[128], decode_ctx1024: t.decode_tok_s[1024] };
  // Their one decode stands beside both of ours (f32 and int8 cache): ours over theirs per cache kind.
  return {
    ...decode,
    prefill_128: t.prefill_tok_s[128],
    prefill_512: t.prefill_tok_s[512],
    decode_ctx128_kv8: decode.decode_ctx128,
    decode_ctx1024_kv8: decode.decode_ctx1024,
  };
}
