import { InvalidArgumentError } from '../../errors.js';
import type { Positions } from '../../engine/generate/Intervention.js';
import type { Units } from '../../steering/resolveSteering.js';
import type { TraitScoring } from './traitScoring.js';
import { DEFAULTS } from '../../engine/defaults.js';

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

/**
 * How a sweep's answers were sampled, every default filled in: recorded in each report's `settings`.
 *
 * @example const s: SweepSettings = sweepSettings({}); // { maxNewTokens: 48, temperature: 0.8, topK: 50, seed: 0, units: 'gap', positions: 'all' }
 */
export type SweepSettings = Required<Omit<SweepOptions, 'traitScoring'>>;

/**
 * The sweep options with their defaults filled in (48 tokens, T = 0.8, top-k 50, seed 0, gap units,
 * all positions), checked.
 *
 * @example const { maxNewTokens, temperature, topK, seed, units, positions } = sweepSettings(o);
 */
export function sweepSettings(o: SweepOptions): SweepSettings {
  const maxNewTokens = o.maxNewTokens ?? DEFAULTS.sweep.maxNewTokens;
  if (!(Number.isInteger(maxNewTokens) && maxNewTokens >= 1)) throw new InvalidArgumentError(`max new tokens must be an integer ≥ 1; got ${maxNewTokens}.`);
  return {
    maxNewTokens,
    temperature: o.temperature ?? DEFAULTS.sampling.temperature,
    topK: o.topK ?? DEFAULTS.sampling.topK,
    seed: o.seed ?? DEFAULTS.sampling.seed,
    units: o.units ?? 'gap',
    positions: o.positions ?? 'all',
  };
}
