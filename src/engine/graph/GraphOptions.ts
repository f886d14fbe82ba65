import type { KVCacheKind } from '../KVCache.js';

/** Ablate/cap directions the clamp graph applies per layer and row (applied in turn, then the delta). */
export const CLAMP_SLOTS = 4;

/** Which variant of the decoder graph to build. One graph serves plain, steered and swept runs. */
export interface GraphOptions {
  /**
   * `last`: logits of the last position only [B,V] (generation); `all`: [B,T,V] (verification);
   * `targets`: last-position logits plus `score_logprobs [N]`, the log-probability of token
   * `score_target[n]` at flat position `score_index[n]` of the B·T new positions (teacher-forced
   * scoring in one pass; the output layer runs only at those positions).
   */
  logits: 'last' | 'all' | 'targets';
  /** Output every residual stream `hidden_{i}` [B,T,H] (i = 0 embedding, l+1 after block l) and `final_norm`. */
  hiddenStates: boolean;
  /** Per-layer pooled activations `pooled [B,L,K,H]` from a `pool_weights [B,K,P]` input (over the last P new positions). */
  pooling: boolean;
  /** Inputs that clamp the projection onto a direction per layer (ablate / cap). */
  projectionClamp: boolean;
  /** Build the per-block steering add (default true; false only to measure its cost). */
  steering?: boolean;
  /** What the cache inputs hold (default f32; `int8`: see `KVCache`). */
  kvCache?: KVCacheKind;
}

/**
 * Generation, extraction and scoring in one graph (so one session, one copy of the weights): steering
 * add per block, pooling, last-position logits and — only where `score_index` names positions —
 * answer log-probabilities; no projection clamp (its ops cost ~5% of a decode step).
 */
export const GENERATION_GRAPH: GraphOptions = { logits: 'targets', hiddenStates: false, pooling: true, projectionClamp: false };
/** Generation with the ablate / cap operators; opened only when a row asks for them. */
export const CLAMP_GRAPH: GraphOptions = { logits: 'last', hiddenStates: false, pooling: true, projectionClamp: true };
/** Reading answers back (steering fed as zeros): pooled activations and answer log-probabilities in one pass — the generation graph itself. */
export const SCORING_GRAPH: GraphOptions = GENERATION_GRAPH;
export const DEBUG_GRAPH: GraphOptions = { logits: 'all', hiddenStates: true, pooling: true, projectionClamp: true };

export function graphKey(o: GraphOptions): string {
  return `${o.logits}-${o.hiddenStates ? 'h' : ''}${o.pooling ? 'p' : ''}${o.projectionClamp ? 'c' : ''}${o.steering === false ? '-nosteer' : ''}${o.kvCache === 'int8' ? '-kv8' : ''}`;
}
