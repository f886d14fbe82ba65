import { InvalidArgumentError } from '../../errors.js';

/** How the next token is chosen. temperature 0 (default) is greedy. The draw is in JS; the graph at most picks a row's top-k candidates. */
export interface SamplingOptions {
  temperature?: number;
  topK?: number;
  topP?: number;
  minP?: number;
  repetitionPenalty?: number;
  seed?: number;
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
  if (s.topK && s.topK > 0 && s.topK < V) {
    const ids = Int32Array.from(topKIndices(logits, s.topK));
    return sampleAmongTop(
      ids,
      Float32Array.from(ids, (i) => logits[i]),
      s,
      rand,
    );
  }
  // Every token in id order (no index array, no sort). Typed arrays throughout: over Qwen3's 151,936
  // tokens, boxed arrays cost milliseconds per row and step.
  const w = new Float64Array(V); // relative to the most likely: max weight 1
  let max = -Infinity;
  for (let j = 0; j < V; j++) if (logits[j] > max) max = logits[j];
  // Weights below e^-50 stay 0: with the largest weight 1, their total (< V·e^-50 ≈ 3e-17) is
  // below a double's resolution of the sum, so skipping their exp changes no draw.
  const floor = max - 50 * temp;
  for (let j = 0; j < V; j++) if (logits[j] > floor) w[j] = Math.exp((logits[j] - max) / temp);
  return draw(null, w, s, rand);
}

/**
 * Picks the next token among a row's top-k candidates — ids with their logits, sorted descending
 * (ties: lower id first), as `topKIndices` or the graph's `top_logits`/`top_ids` give them — exactly
 * as `sampleToken` does after its top-k step (temperature, top-p, min-p; greedy at temperature 0).
 * No repetition penalty: it needs the whole row.
 *
 * @example sampleAmongTop(Int32Array.of(7, 3), Float32Array.of(2.5, 1.0), { temperature: 0.8, topK: 2 }, seededRandom(0));
 */
export function sampleAmongTop(ids: Int32Array, logits: Float32Array, s: SamplingOptions, rand: () => number): number {
  const temp = s.temperature ?? 0;
  if (temp === 0) return ids[argmax(logits)];
  const w = new Float64Array(ids.length); // relative to the most likely: max weight 1
  let max = -Infinity;
  for (let j = 0; j < ids.length; j++) if (logits[j] > max) max = logits[j];
  for (let j = 0; j < ids.length; j++) w[j] = Math.exp((logits[j] - max) / temp);
  return draw(ids, w, s, rand);
}

/** Min-p, then top-p, then one draw over the candidates' weights (`ids` null: candidate j is token j). */
function draw(candidates: Int32Array | null, weights: Float64Array, s: SamplingOptions, rand: () => number): number {
  let ids = candidates;
  let w = weights;
  let n = w.length;
  const id = (j: number) => (ids ? ids[j] : j);
  const keepOnly = (keep: ArrayLike<number>) => {
    const nextIds = new Int32Array(keep.length);
    const nextW = new Float64Array(keep.length);
    for (let k = 0; k < keep.length; k++) {
      nextIds[k] = id(keep[k]);
      nextW[k] = w[keep[k]];
    }
    ids = nextIds;
    w = nextW;
    n = keep.length;
  };
  if (s.minP !== undefined && s.minP > 0) {
    const keep: number[] = [];
    for (let j = 0; j < n; j++) if (w[j] >= s.minP) keep.push(j);
    keepOnly(keep);
  }
  if (s.topP !== undefined && s.topP < 1) {
    // The nucleus: the most likely tokens whose mass reaches topP. Sort only tokens above a
    // threshold that is lowered until they hold that mass.
    let total = 0;
    for (let j = 0; j < n; j++) total += w[j];
    const target = s.topP * total;
    let theta = 1e-3;
    let sel: number[] = [];
    for (;;) {
      sel = [];
      let mass = 0;
      for (let j = 0; j < n; j++) {
        if (!(w[j] >= theta)) continue;
        sel.push(j);
        mass += w[j];
      }
      if (mass >= target || theta < 1e-30) break;
      theta /= 1000;
    }
    sel.sort((a, b) => w[b] - w[a] || id(a) - id(b));
    let acc = 0;
    let m = sel.length;
    for (let k = 0; k < sel.length; k++) {
      acc += w[sel[k]];
      if (acc >= target) {
        m = k + 1;
        break;
      }
    }
    keepOnly(sel.slice(0, m));
  }
  let sum = 0;
  for (let j = 0; j < n; j++) sum += w[j];
  let r = rand() * sum;
  for (let j = 0; j < n; j++) {
    r -= w[j];
    if (r <= 0) return id(j);
  }
  return id(n - 1);
}

/**
 * log Σ exp(x), computed stably (max + log Σ exp(x − max)) in float64: the normaliser of a
 * log-softmax over a row of logits.
 *
 * @example logits[token] - logSumExp(logits); // log p(token)
 */
export function logSumExp(x: ArrayLike<number>): number {
  let max = -Infinity;
  for (let i = 0; i < x.length; i++) if (x[i] > max) max = x[i];
  let sum = 0;
  for (let i = 0; i < x.length; i++) sum += Math.exp(x[i] - max);
  return max + Math.log(sum);
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
  // The smallest value kept, once k are kept: the scan over the vocabulary compares against it alone.
  let floor = -Infinity;
  for (let i = 0; i < x.length; i++) {
    const v = x[i];
    if (top.length < k) {
      top.push(i);
      if (top.length === k) {
        top.sort((a, b) => x[b] - x[a]);
        floor = x[top[k - 1]];
      }
      continue;
    }
    if (!(v > floor)) continue;
    let j = k - 1;
    while (j > 0 && x[top[j - 1]] < v) {
      top[j] = top[j - 1];
      j--;
    }
    top[j] = i;
    floor = x[top[k - 1]];
  }
  if (top.length < k) top.sort((a, b) => x[b] - x[a]);
  return top;
}
