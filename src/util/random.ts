/**
 * The project's one seeded PRNG (mulberry32) and what is drawn from it: the same seed gives the same
 * sequence on every platform and Node version, so sampled text, bootstrap intervals, shuffled
 * question banks and random benchmark weights are reproducible.
 */
import { InvalidArgumentError } from '../errors.js';

/** A seeded source of uniform numbers in [0, 1). */
export type Random = () => number;

function checkSeed(seed: number): void {
  if (!Number.isFinite(seed)) throw new InvalidArgumentError(`seed must be a finite number, got ${seed}.`);
}

/**
 * Seeded 32-bit words (mulberry32, period 2^32), for filling buffers with random bits.
 *
 * @example const next = seededWords(1); const w = next(); // 0 <= w < 2 ** 32, an integer
 */
export function seededWords(seed: number): () => number {
  checkSeed(seed);
  let a = Math.trunc(seed) >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
}

/**
 * Seeded uniform numbers in [0, 1) (mulberry32): the same seed gives the same text, interval or order.
 *
 * @example const rand = seededRandom(42); const u = rand(); // 0 <= u < 1
 */
export function seededRandom(seed: number): Random {
  const next = seededWords(seed);
  return () => next() / 4294967296;
}

/**
 * A uniform integer in [0, n) drawn from `rand`.
 *
 * @example const i = randomInt(seededRandom(1), 10); // 0..9
 */
export function randomInt(rand: Random, n: number): number {
  return Math.min(n - 1, Math.floor(rand() * n));
}

/**
 * A copy of `items` in a seeded random order (Fisher–Yates): the same seed gives the same order.
 *
 * @example seededShuffle(['a', 'b', 'c', 'd'], 42) // the same permutation every run
 */
export function seededShuffle<T>(items: readonly T[], seed: number): T[] {
  const rand = seededRandom(seed);
  const out = items.slice();
  for (let i = out.length - 1; i > 0; i--) {
    const j = randomInt(rand, i + 1);
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}
