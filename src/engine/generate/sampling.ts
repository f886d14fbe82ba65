import { InvalidArgumentError } from '../../errors.js';

/** How the next token is chosen. temperature 0 (default) is greedy. Sampling stays out of the graph. */
export interface SamplingOptions {
  temperature?: number;
  topK?: number;
  topP?: number;
  minP?: number;
  repetitionPenalty?: number;
  seed?: number;
}

/** A small seeded PRNG (mulberry32): the same seed gives the same text. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function validateSampling(s: SamplingOptions): void {
  const check = (name: string, v: number | undefined, ok: (v: number) => boolean, what: string) => {
    if (v !== undefined && (!Number.isFinite(v) || !ok(v))) throw new InvalidArgumentError(`${name} must be ${what}; got ${v}.`);
  };
  check('temperature', s.temperature, (v) => v >= 0, 'a number ≥ 0');
  check('topK', s.topK, (v) => Number.isInteger(v) && v >= 0, 'an integer ≥ 0');
  check('topP', s.topP, (v) => v > 0 && v <= 1, 'in (0, 1]');
  check('minP', s.minP, (v) => v >= 0 && v < 1, 'in [0, 1)');
  check('repetitionPenalty', s.repetitionPenalty, (v) => v > 0, 'a number > 0');
}

/**
 * Picks the next token from one row's logits (modified in place by the repetition penalty).
 * Order as in transformers: repetition penalty, temperature, top-k, top-p, min-p.
 */
export function sampleToken(logits: Float32Array, s: SamplingOptions, rand: () => number, previous: Iterable<number> = []): number {
  const rp = s.repetitionPenalty ?? 1;
  if (rp !== 1) {
    for (const id of new Set(previous)) {
      const v = logits[id];
      logits[id] = v > 0 ? v / rp : v * rp;
    }
  }
  const temp = s.temperature ?? 0;
  if (temp === 0) return argmax(logits);

  const V = logits.length;
  // Candidates: the top-k (sorted), or every token (unsorted: no O(V log V) sort per step).
  const cand: number[] = s.topK && s.topK > 0 && s.topK < V ? topKIndices(logits, s.topK) : Array.from({ length: V }, (_, i) => i);
  let max = -Infinity;
  for (const i of cand) if (logits[i] > max) max = logits[i];
  let w = cand.map((i) => Math.exp((logits[i] - max) / temp)); // relative to the most likely: max weight 1
  let ids = cand;
  if (s.minP !== undefined && s.minP > 0) {
    const keep = w.map((x, j) => j).filter((j) => w[j] >= s.minP!);
    ids = keep.map((j) => ids[j]);
    w = keep.map((j) => w[j]);
  }
  if (s.topP !== undefined && s.topP < 1) {
    // The nucleus: the most likely tokens whose mass reaches topP. Sort only tokens above a
    // threshold that is lowered until they hold that mass.
    const total = w.reduce((a, b) => a + b, 0);
    const target = s.topP * total;
    let theta = 1e-3;
    let sel: number[] = [];
    for (;;) {
      sel = [];
      let mass = 0;
      for (let j = 0; j < w.length; j++) if (w[j] >= theta) (sel.push(j), (mass += w[j]));
      if (mass >= target || theta < 1e-30) break;
      theta /= 1000;
    }
    sel.sort((a, b) => w[b] - w[a] || ids[a] - ids[b]);
    let acc = 0;
    let n = sel.length;
    for (let k = 0; k < sel.length; k++) {
      acc += w[sel[k]];
      if (acc >= target) {
        n = k + 1;
        break;
      }
    }
    sel = sel.slice(0, n);
    ids = sel.map((j) => ids[j]);
    w = sel.map((j) => w[j]);
  }
  let sum = 0;
  for (const x of w) sum += x;
  let r = rand() * sum;
  for (let j = 0; j < w.length; j++) {
    r -= w[j];
    if (r <= 0) return ids[j];
  }
  return ids[ids.length - 1];
}

export function argmax(x: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < x.length; i++) if (x[i] > x[best]) best = i;
  return best;
}

/** Indices of the k largest values, sorted descending. */
export function topKIndices(x: Float32Array, k: number): number[] {
  // Keep a sorted list of the k largest; fine for k up to a few hundred.
  const top: number[] = [];
  for (let i = 0; i < x.length; i++) {
    const v = x[i];
    if (top.length < k) {
      top.push(i);
      if (top.length === k) top.sort((a, b) => x[b] - x[a]);
      continue;
    }
    if (v <= x[top[k - 1]]) continue;
    let j = k - 1;
    while (j > 0 && x[top[j - 1]] < v) {
      top[j] = top[j - 1];
      j--;
    }
    top[j] = i;
  }
  if (top.length < k) top.sort((a, b) => x[b] - x[a]);
  return top;
}
