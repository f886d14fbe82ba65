/**
 * Aggregators turn per-sample activations of the positive and negative sets into one direction per
 * layer. Each returns the raw direction (not normalised), signed so that positive alpha steers toward
 * the positive set, and — apart from mean-diff, which is the gap itself — scaled to the mean projected
 * gap between the sets, so alpha keeps "gap" units whatever the aggregator.
 */
import { fitLogistic } from './logisticRegression.js';

export type Aggregator = (pos: Float32Array[], neg: Float32Array[]) => Float32Array;

/** mean(pos) − mean(neg): the persona-vectors paper's `response_avg_diff` (Chen et al. 2025, §3), CAA's mean difference (Rimsky et al. 2024). */
export const meanDifference: Aggregator = (pos, neg) => {
  const H = pos[0].length;
  const out = new Float32Array(H);
  for (const v of pos) for (let i = 0; i < H; i++) out[i] += v[i] / pos.length;
  for (const v of neg) for (let i = 0; i < H; i++) out[i] -= v[i] / neg.length;
  return out;
};

/** Pair differences pos_i − neg_i (pairs by row). */
function differences(pos: Float32Array[], neg: Float32Array[]): Float64Array[] {
  const n = Math.min(pos.length, neg.length);
  return Array.from({ length: n }, (_, j) => Float64Array.from(pos[j], (x, i) => x - neg[j][i]));
}

/** The top eigenvector of Σ_j r_j r_jᵀ by power iteration (start: `start`, else a fixed vector). */
function topEigenvector(rows: Float64Array[], start?: Float64Array): Float64Array {
  const H = rows[0].length;
  let v = start && Math.hypot(...start) > 0 ? Float64Array.from(start) : Float64Array.from({ length: H }, (_, i) => Math.sin(i + 1));
  let nv = Math.hypot(...v);
  v = v.map((x) => x / nv);
  for (let it = 0; it < 300; it++) {
    const next = new Float64Array(H);
    for (const r of rows) {
      let d = 0;
      for (let i = 0; i < H; i++) d += r[i] * v[i];
      for (let i = 0; i < H; i++) next[i] += d * r[i];
    }
    nv = Math.hypot(...next);
    if (nv === 0) return v;
    const moved = next.reduce((s, x, i) => s + Math.abs(x / nv - v[i]), 0);
    v = next.map((x) => x / nv);
    if (moved < 1e-10) break;
  }
  return v;
}

/** Signs a unit direction toward the positive set (mean pair difference projects ≥ 0) and scales it to that mean projected gap. */
function signedToGap(u: ArrayLike<number>, pos: Float32Array[], neg: Float32Array[]): Float32Array {
  const nu = Math.hypot(...Array.from(u)) || 1;
  const md = meanDifference(pos, neg);
  let gap = 0;
  for (let i = 0; i < md.length; i++) gap += (md[i] * u[i]) / nu;
  const sign = gap >= 0 ? 1 : -1;
  return Float32Array.from(u, (x) => (sign * Math.abs(gap) * x) / nu);
}

/**
 * `pca`: the first principal component of the pair differences pos_i − neg_i, uncentred (the top
 * eigenvector of Σ d dᵀ): steering-vectors' `pca_aggregator` (which runs uncentred PCA on the
 * differences and their negatives) and llama.cpp's `cvector-generator` (PCA of the differences by
 * power iteration). Centring each pair on its own mean first (repeng's `pca_center`) gives the same
 * direction, since the centred points are ±d/2. Signed toward the positive set and scaled to the mean
 * projected gap.
 */
export const pcaOfDifferences: Aggregator = (pos, neg) => {
  const d = differences(pos, neg);
  return signedToGap(topEigenvector(d, Float64Array.from(meanDifference(pos, neg))), pos, neg);
};

/**
 * `pca-centred`: the first principal component of the pair differences after subtracting their mean
 * (repeng's `pca_diff`, which fits scikit-learn's centring PCA to the differences). Centring removes
 * the mean difference — the trait itself when every pair differs the same way — so this direction is
 * the main variation *around* the trait; kept for comparison (docs/methods.md has its numbers on the
 * stylist). Signed toward the positive set and scaled to the mean projected gap, which is small when
 * the component is nearly orthogonal to the mean difference.
 */
export const pcaOfCentredDifferences: Aggregator = (pos, neg) => {
  const d = differences(pos, neg);
  const H = d[0].length;
  const mean = new Float64Array(H);
  for (const x of d) for (let i = 0; i < H; i++) mean[i] += x[i] / d.length;
  const centred = d.map((x) => x.map((v, i) => v - mean[i]));
  return signedToGap(topEigenvector(centred), pos, neg);
};

/**
 * `probe`: the weight vector of a logistic regression telling positive from negative activations
 * (a linear probe, as in Alain & Bengio 2016 and the probe baselines of Rimsky et al. 2024 / Chen et
 * al. 2025), in the activations' own coordinates; signed toward the positive set and scaled to the
 * mean projected gap.
 */
export const probeDirection: Aggregator = (pos, neg) => {
  const { direction } = fitLogistic([...pos, ...neg], [...pos.map(() => 1), ...neg.map(() => 0)], { l2: 0.01, iterations: 300 });
  return signedToGap(direction, pos, neg);
};

/**
 * The aggregators by the name `--method` takes.
 *
 * @example AGGREGATORS['pca'](pos, neg);
 */
export const AGGREGATORS = { 'mean-diff': meanDifference, pca: pcaOfDifferences, 'pca-centred': pcaOfCentredDifferences, probe: probeDirection } as const;
