import path from 'node:path';
import type { PrecisionResult } from './benchEngine.js';
import type { ConversionCost } from './convertForBench.js';

/**
 * One model shape of the size sweep (`persona bench --sizes`): its conversion, then load, RSS and
 * decode against that shape's bandwidth bound, each in a fresh process.
 */
export type SizeSweepPoint = {
  config: string;
  layers: number;
  hidden: number;
  conversion: ConversionCost;
  rss_after_load_mib: number;
  /** The highest RSS of load, prefill (512 tokens) and decode (1,024 tokens of context; 8 rows at 128), each from a garbage collection; the conversion ran in its own process. */
  peak_rss_mib: number;
} & Pick<
  PrecisionResult,
  // decode_share_of_bound (decode at 128 context, batch 1, over its bound) is the figure that should not fall as models grow.
  'precision' | 'weights_mib' | 'load_ms' | 'bytes_per_token' | 'prefill_tok_s' | 'decode_tok_s' | 'bound_decode_tok_s' | 'decode_share_of_bound'
>;

/**
 * One row of the size sweep from its conversion and its measurement process's figures.
 *
 * @example sizeSweepPoint('qwen3-4b.json', raw, cost, figures).decode_share_of_bound;
 */
export function sizeSweepPoint(configFile: string, raw: Record<string, unknown>, conversion: ConversionCost, r: PrecisionResult): SizeSweepPoint {
  return {
    config: path.basename(configFile),
    layers: Number(raw.num_hidden_layers),
    hidden: Number(raw.hidden_size),
    precision: r.precision,
    conversion,
    weights_mib: r.weights_mib,
    load_ms: r.load_ms,
    rss_after_load_mib: r.rss_mib,
    peak_rss_mib: r.peak_rss_mib,
    bytes_per_token: r.bytes_per_token,
    prefill_tok_s: r.prefill_tok_s,
    decode_tok_s: r.decode_tok_s,
    bound_decode_tok_s: r.bound_decode_tok_s,
    decode_share_of_bound: r.decode_share_of_bound,
  };
}
