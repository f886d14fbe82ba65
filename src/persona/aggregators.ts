/**
 * Aggregators turn per-sample activations of the positive and negative sets into one direction per
 * layer. Each returns the raw direction (not normalised).
 */
export type Aggregator = (pos: Float32Array[], neg: Float32Array[]) => Float32Array;

/** mean(pos) − mean(neg): the persona-vectors paper's `response_avg_diff` (Chen et al. 2025, §3). */
export const meanDifference: Aggregator = (pos, neg) => {
  const H = pos[0].length;
  const out = new Float32Array(H);
  for (const v of pos) for (let i = 0; i < H; i++) out[i] += v[i] / pos.length;
  for (const v of neg) for (let i = 0; i < H; i++) out[i] -= v[i] / neg.length;
  return out;
};

/**
 * First principal component of the paired differences pos_i − neg_i (repeng's `pca_diff`, centred),
 * signed so that positives project above negatives on average, and scaled to the mean projected gap
 * so alpha keeps "gap" units.
 */
export const pcaOfDifferences: Aggregator = (pos, neg) => {
  const n = Math.min(pos.length, neg.length);
  const H = pos[0].length;
  const diffs = Array.from({ length: n }, (_, j) => pos[j].map((x, i) => x - neg[j][i]));
  const mean = new Float64Array(H);
  for (const d of diffs) for (let i = 0; i < H; i++) mean[i] += d[i] / n;
  const centred = diffs.map((d) => Float64Array.from(d, (x, i) => x - mean[i]));
  // Power iteration on the covariance, implicitly: v ← Σ_j (c_j·v) c_j.
  let v = Float64Array.from({ length: H }, (_, i) => Math.sin(i + 1));
  for (let it = 0; it < 200; it++) {
    const next = new Float64Array(H);
    for (const c of centred) {
      let dot = 0;
      for (let i = 0; i < H; i++) dot += c[i] * v[i];
      for (let i = 0; i < H; i++) next[i] += dot * c[i];
    }
    const norm = Math.hypot(...next);
    if (norm === 0) {
      // All differences equal: the direction is the mean difference itself.
      v = Float64Array.from(mean);
      break;
    }
    v = next.map((x) => x / norm);
  }
  const nv = Math.hypot(...v) || 1;
  v = v.map((x) => x / nv);
  // Sign: most pairs should project positive above negative.
  let gap = 0;
  let agree = 0;
  for (const d of diffs) {
    let dot = 0;
    for (let i = 0; i < H; i++) dot += d[i] * v[i];
    gap += dot / n;
    if (dot > 0) agree++;
  }
  const sign = agree >= n / 2 ? 1 : -1;
  const scale = Math.abs(gap);
  return Float32Array.from(v, (x) => sign * scale * x);
};

export function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}
