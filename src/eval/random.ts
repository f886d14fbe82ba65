import { seededRandom } from '../engine/generate/sampling.js';
import { InvalidArgumentError } from '../errors.js';

/** A seeded source of uniform numbers in [0, 1). */
export type Random = () => number;

/**
 * mulberry32: a tiny, fast, seeded 32-bit PRNG (period 2^32), good enough for bootstrap resampling
 * and shuffling; the same seed gives the same sequence on every platform.
 *
 * @example const rand = mulberry32(42); const u = rand(); // 0 <= u < 1
 */
export function mulberry32(seed: number): Random {
  if (!Number.isFinite(seed)) throw new InvalidArgumentError(`seed must be a finite number, got ${seed}`);
  return seededRandom(Math.trunc(seed));
}

/**
 * A uniform integer in [0, n) drawn from `rand`.
 *
 * @example const i = randomInt(mulberry32(1), 10); // 0..9
 */
export function randomInt(rand: Random, n: number): number {
  return Math.min(n - 1, Math.floor(rand() * n));
}
