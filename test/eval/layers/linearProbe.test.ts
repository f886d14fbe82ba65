import { describe, expect, it } from 'vitest';
import { coherentRange } from '../../../src/eval/layers/analyzeLayers.js';
import { fitLogistic, probeAccuracy } from '../../../src/eval/layers/linearProbe.js';
import { seededRandom } from '../../../src/util/random.js';

function gaussian(rand: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
}

function cloud(n: number, H: number, shift: number, seed: number): Float32Array[] {
  const rand = seededRandom(seed);
  return Array.from({ length: n }, () => Float32Array.from({ length: H }, (_, j) => gaussian(rand) + (j === 3 ? shift : 0)));
}

describe('linear probe', () => {
  it('classifies held-out activations of separable classes perfectly', () => {
    const r = probeAccuracy(cloud(24, 32, 6, 1), cloud(24, 32, -6, 2), { folds: 4 });
    expect(r).toEqual({ accuracy: 1, n: 48, folds: 4 });
  });

  it('is at chance on classes that do not differ', () => {
    const r = probeAccuracy(cloud(40, 16, 0, 3), cloud(40, 16, 0, 4), { folds: 5 });
    expect(r.accuracy).toBeGreaterThan(0.25);
    expect(r.accuracy).toBeLessThan(0.75);
  });

  it('never tests on a pair it trained on: a probe that memorises questions gains nothing', () => {
    // pair i shares a question-specific offset on both sides; the class signal is tiny.
    const rand = seededRandom(9);
    const offsets = Array.from({ length: 16 }, () => Float32Array.from({ length: 8 }, () => 10 * gaussian(rand)));
    const pos = offsets.map((o) => o.map((x) => x + 0.01 * gaussian(rand)));
    const neg = offsets.map((o) => o.map((x) => x + 0.01 * gaussian(rand)));
    expect(probeAccuracy(pos, neg, { folds: 4 }).accuracy).toBeLessThan(0.8);
  });

  it('fits a logistic model whose probability follows the label', () => {
    const p = fitLogistic(
      [
        [2, 0],
        [1.5, 0.2],
        [-2, 0],
        [-1, 0.1],
      ],
      [1, 1, 0, 0],
    );
    expect(p([3, 0])).toBeGreaterThan(0.9);
    expect(p([-3, 0])).toBeLessThan(0.1);
    expect(() => probeAccuracy([new Float32Array(2)], [new Float32Array(2)])).toThrow(/at least two/);
  });
});

describe('coherent alpha range', () => {
  it('walks out from zero on each side and stops before the first incoherent alpha', () => {
    const cells = [-8, -4, -2, 2, 4, 8].map((alpha) => ({ alpha, coherent: alpha !== -8 && alpha !== 4 }));
    expect(coherentRange(cells)).toEqual([-4, 2]);
    expect(
      coherentRange([
        { alpha: -2, coherent: false },
        { alpha: 2, coherent: false },
      ]),
    ).toEqual([0, 0]);
    expect(
      coherentRange([
        { alpha: 8, coherent: true },
        { alpha: 2, coherent: true },
      ]),
    ).toEqual([0, 8]);
  });
});
