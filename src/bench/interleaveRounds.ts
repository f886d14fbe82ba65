import { median } from '../util/numerics.js';

/** The spread of a ratio over rounds: the median and the range of the per-round ratios. */
export interface RatioSpread {
  median: number;
  min: number;
  max: number;
  /** Every round's ratio, in round order. */
  rounds: number[];
}

/** One side of an interleaved comparison: measures every figure once per call (figure name → value, higher is better). */
export type BenchSide = (round: number) => Promise<Record<string, number>>;

/** What {@link interleaveRounds} measured: each side's figures per round, the ratio a / b per figure, and the order things ran in. */
export interface InterleavedResult {
  a: Record<string, number>[];
  b: Record<string, number>[];
  /** a / b per figure present on both sides. */
  ratios: Record<string, RatioSpread>;
  /** `a0 b0 a1 b1 …`: the order the sides were run in. */
  order: string[];
}

/**
 * The median and range of per-round ratios.
 *
 * @example spreadOf([1.1, 0.9, 1.3]); // { median: 1.1, min: 0.9, max: 1.3, rounds: [1.1, 0.9, 1.3] }
 */
export function spreadOf(ratios: number[]): RatioSpread {
  if (ratios.length === 0) throw new RangeError('spreadOf needs at least one ratio.');
  return { median: median(ratios), min: Math.min(...ratios), max: Math.max(...ratios), rounds: ratios };
}

/**
 * Runs two sides in alternation, A B A B …, `rounds` times, and divides A's figures by B's within
 * each round, so drift in the machine's load lands on both sides of a ratio instead of on one. Each
 * figure's ratio is reported as the median over rounds with its min–max.
 *
 * @example
 * const r = await interleaveRounds(() => oursOnce(), () => llamaCppOnce(), 3);
 * r.ratios.decode_ctx128.median; // ours / theirs
 */
export async function interleaveRounds(a: BenchSide, b: BenchSide, rounds: number): Promise<InterleavedResult> {
  if (!Number.isInteger(rounds) || rounds < 1) throw new RangeError(`rounds must be a positive integer, got ${rounds}.`);
  const out: InterleavedResult = { a: [], b: [], ratios: {}, order: [] };
  for (let r = 0; r < rounds; r++) {
    out.order.push(`a${r}`);
    out.a.push(await a(r));
    out.order.push(`b${r}`);
    out.b.push(await b(r));
  }
  for (const key of Object.keys(out.a[0])) {
    if (!out.b.every((x) => key in x) || !out.a.every((x) => key in x)) continue;
    out.ratios[key] = spreadOf(out.a.map((x, r) => x[key] / out.b[r][key]));
  }
  return out;
}
