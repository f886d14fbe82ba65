/** Which positions a steering intervention touches: every token, the prompt only, or generated tokens only. */
export type Positions = 'all' | 'prompt' | 'response';
export const POSITIONS: readonly Positions[] = ['all', 'prompt', 'response'];

/**
 * What one row of a batch does to the residual stream, already resolved into per-layer arrays
 * (L layers × H). `delta` is added after each block; `clamp` limits the projection onto a unit
 * direction to [lo, hi] (ablate: [0, 0]).
 */
export interface RowIntervention {
  positions: Positions;
  delta?: Float32Array;
  clamp?: { dir: Float32Array; lo: Float32Array; hi: Float32Array };
}

export function steersPrompt(p: Positions): boolean {
  return p === 'all' || p === 'prompt';
}

export function steersResponse(p: Positions): boolean {
  return p === 'all' || p === 'response';
}
