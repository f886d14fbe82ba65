import { seededRandom } from '../../engine/generate/sampling.js';
import { InvalidArgumentError } from '../../errors.js';

/**
 * A copy of `items` in a seeded random order (Fisher–Yates driven by mulberry32): the same seed
 * gives the same order on every platform and Node version.
 *
 * @example seededShuffle(['a', 'b', 'c', 'd'], 42) // the same permutation every run
 */
export function seededShuffle<T>(items: readonly T[], seed: number): T[] {
  if (!Number.isFinite(seed)) throw new InvalidArgumentError(`seed must be a finite number, got ${seed}.`);
  const rand = seededRandom(Math.trunc(seed));
  const out = items.slice();
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.min(i, Math.floor(rand() * (i + 1)));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}
