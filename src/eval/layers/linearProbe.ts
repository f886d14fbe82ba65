import { InvalidArgumentError } from '../../errors.js';
import { fitLogistic as fitLogisticModel } from '../../persona/logisticRegression.js';

/**
 * Options of {@link probeAccuracy}.
 *
 * @example probeAccuracy(pos, neg, { folds: 5, l2: 0.1 } satisfies ProbeOptions);
 */
export interface ProbeOptions {
  /** Cross-validation folds (default 4); pairs are assigned round-robin, pair i to fold i mod k. */
  folds?: number;
  /** L2 penalty on the weights of the centred, scaled features (default 0.01). */
  l2?: number;
  /** Gradient steps (default 300). */
  iterations?: number;
  /** Step size (default 0.5). */
  learningRate?: number;
}

/**
 * Held-out accuracy of a linear probe.
 *
 * @example const { accuracy }: ProbeResult = probeAccuracy(pos, neg);
 */
export interface ProbeResult {
  /** Share of held-out activations classified correctly, over all folds. */
  accuracy: number;
  /** Held-out activations classified (2 per pair). */
  n: number;
  folds: number;
}

/**
 * Fits logistic regression (see `persona/logisticRegression`) and returns its classifier, P(positive).
 *
 * @example const p = fitLogistic([[1, 0], [0, 1]], [1, 0])([1, 0]); // > 0.5
 */
export function fitLogistic(xs: ArrayLike<number>[], ys: number[], o: ProbeOptions = {}): (x: ArrayLike<number>) => number {
  return fitLogisticModel(xs, ys, o).predict;
}

/**
 * Held-out accuracy of a linear probe telling positive from negative activations: k-fold
 * cross-validation where pair i (`pos[i]`, `neg[i]`, usually one question under the two system
 * prompts) stays in one fold, so the probe is never tested on a question it was trained on.
 *
 * @example const { accuracy } = probeAccuracy(posActs, negActs, { folds: 4 }); // 1 = perfectly separable on held-out pairs
 */
export function probeAccuracy(pos: ArrayLike<number>[], neg: ArrayLike<number>[], o: ProbeOptions = {}): ProbeResult {
  const P = Math.min(pos.length, neg.length);
  const k = Math.min(o.folds ?? 4, P);
  if (P < 2) throw new InvalidArgumentError(`a held-out probe needs at least two positive/negative pairs; got ${P}`);
  let correct = 0;
  let n = 0;
  for (let f = 0; f < k; f++) {
    const trainX: ArrayLike<number>[] = [];
    const trainY: number[] = [];
    for (let i = 0; i < P; i++) {
      if (i % k === f) continue;
      trainX.push(pos[i], neg[i]);
      trainY.push(1, 0);
    }
    const predict = fitLogistic(trainX, trainY, o);
    for (let i = f; i < P; i += k) {
      correct += (predict(pos[i]) > 0.5 ? 1 : 0) + (predict(neg[i]) <= 0.5 ? 1 : 0);
      n += 2;
    }
  }
  return { accuracy: correct / n, n, folds: k };
}
