import type { Positions } from '../../engine/generate/Intervention.js';
import type { Units } from '../../steering/resolveSteering.js';
import type { TraitScoring } from './traitScoring.js';

/**
 * How the steered answers of a sweep are sampled and scored: shared by `evaluatePersonas` and
 * `analyzeLayers`.
 *
 * @example const o: SweepOptions = { maxNewTokens: 48, temperature: 0.8, topK: 50, seed: 0 };
 */
export interface SweepOptions {
  /** Answer length (default 48). */
  maxNewTokens?: number;
  /** Sampling temperature (default 0.8, as the reference sweep; 0 = greedy). */
  temperature?: number;
  /** Top-k of the sampling (default 50, transformers' default). */
  topK?: number;
  /** Base seed (default 0): the answer to question q, sample s has seed `seed + s·Q + q` at every alpha. */
  seed?: number;
  units?: Units;
  positions?: Positions;
  /** Trait scorers (markers or judge); without one, projections and coherence proxies stand in. */
  traitScoring?: TraitScoring;
}
