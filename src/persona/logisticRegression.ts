import { InvalidArgumentError } from '../errors.js';

/**
 * Options of {@link fitLogistic}.
 *
 * @example const o: LogisticOptions = { l2: 0.1, iterations: 500 };
 */
export interface LogisticOptions {
  /** L2 penalty on the weights of the centred, scaled features (default 0.01). */
  l2?: number;
  /** Gradient steps (default 300). */
  iterations?: number;
  /** Step size (default 0.5). */
  learningRate?: number;
}

/**
 * A fitted logistic regression: P(positive | x) = σ(w·(x − mu)/sd + b), with `direction` = w/sd the
 * weight vector in the features' own coordinates (the linear probe's direction).
 *
 * @example const { predict, direction } = fitLogistic(xs, ys); predict(xs[0]);
 */
export interface LogisticModel {
  predict: (x: ArrayLike<number>) => number;
  direction: Float64Array;
}

/**
 * Fits logistic regression w·x + b on centred features scaled by one common factor (from the
 * training data): full-batch gradient descent on the mean log-loss plus (l2/2)·‖w‖². Per-feature
 * standardisation would blow quiet noise dimensions up to the size of the signal, so one scale is used.
 *
 * @example const p = fitLogistic([[1, 0], [0, 1]], [1, 0]).predict([1, 0]); // > 0.5
 */
export function fitLogistic(xs: ArrayLike<number>[], ys: number[], o: LogisticOptions = {}): LogisticModel {
  const n = xs.length;
  if (n === 0 || n !== ys.length) throw new InvalidArgumentError(`a probe needs as many labels as activations (≥ 1); got ${n} and ${ys.length}`);
  const H = xs[0].length;
  const mu = new Float64Array(H);
  for (const x of xs) for (let j = 0; j < H; j++) mu[j] += x[j] / n;
  let v = 0;
  for (const x of xs) for (let j = 0; j < H; j++) v += (x[j] - mu[j]) ** 2 / (n * H);
  const sd = Math.sqrt(v) || 1;
  const z = xs.map((x) => Float64Array.from({ length: H }, (_, j) => (x[j] - mu[j]) / sd)); // [n, H]
  const w = new Float64Array(H);
  let b = 0;
  const l2 = o.l2 ?? 0.01;
  const lr = o.learningRate ?? 0.5;
  const gw = new Float64Array(H);
  for (let it = 0; it < (o.iterations ?? 300); it++) {
    gw.fill(0);
    let gb = 0;
    for (let i = 0; i < n; i++) {
      let s = b;
      const zi = z[i];
      for (let j = 0; j < H; j++) s += w[j] * zi[j];
      const err = 1 / (1 + Math.exp(-s)) - ys[i];
      for (let j = 0; j < H; j++) gw[j] += (err * zi[j]) / n;
      gb += err / n;
    }
    for (let j = 0; j < H; j++) w[j] -= lr * (gw[j] + l2 * w[j]);
    b -= lr * gb;
  }
  return {
    predict: (x) => {
      let s = b;
      for (let j = 0; j < H; j++) s += (w[j] * (x[j] - mu[j])) / sd;
      return 1 / (1 + Math.exp(-s));
    },
    direction: w.map((x) => x / sd),
  };
}
