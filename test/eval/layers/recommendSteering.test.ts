import { describe, expect, it } from 'vitest';
import { steeringSummary, withRecommendation, type SteeringRecommendation } from '../../../src/eval/layers/recommendSteering.js';
import { PersonaVector } from '../../../src/steering/PersonaVector.js';

const effect = { n: 32, mean: 0.41, lo: 0.15, hi: 0.67, level: 0.95, sd: 0.5, standardized: 0.8 };
const ended = { ended: 31, n: 32, rate: 0.97, lo: 0.84, hi: 0.99, level: 0.95 };
const steers: SteeringRecommendation = {
  verdict: 'steers',
  metric: 'formality',
  metricSource: 'scorer',
  layer: 4,
  alpha: 4,
  alphaRange: [-4, 4],
  effect,
  ended,
  reason: 'Layer 4 at alpha 4 moves formality …',
};
const none: SteeringRecommendation = {
  verdict: 'does-not-steer',
  metric: 'projection:cheerful',
  metricSource: 'projection',
  layer: null,
  alpha: null,
  alphaRange: null,
  effect: null,
  ended: null,
  reason: 'This vector does not measurably steer this model: …',
};

function persona(): PersonaVector {
  return new PersonaVector([new Float32Array([1, 0]), new Float32Array([0, 1])], {
    name: 'p',
    model: { id: 'm', modelType: 'qwen3', hiddenSize: 2, numLayers: 2 },
    method: 'mean-diff',
    read: 'response-mean',
    recommendedLayer: 1,
    alphaRange: [-4, 4],
    layers: [0, 1].map((layer) => ({ layer, norm: 1, residNorm: 2, separation: layer })),
    createdAt: '2026-01-01T00:00:00.000Z',
    toolVersion: 't',
  });
}

describe('the recommendation as every command prints and records it', () => {
  it('states layer, alpha, range and the effect with its interval, then a steer-with line', () => {
    const lines = steeringSummary(steers);
    expect(lines[0]).toBe('recommended: layer 4, alpha +4, coherent range [-4, +4]: formality +0.41 [0.15, 0.67] (95% CI), 97% of answers end their turn');
    expect(lines.at(-1)).toBe('steer with: --layer 4 --alpha 4');
  });

  it('says plainly that a vector does not steer, with no steer-with line, and that a projection is weaker evidence', () => {
    const lines = steeringSummary(none).join('\n');
    expect(lines).toContain('verdict: this vector does not measurably steer this model.');
    expect(lines).not.toMatch(/steer with/i);
    expect(lines).toContain("the only trait measure was the persona's own projection (projection:cheerful)");
  });

  it('records the verdict in the persona: layer and range when it steers, alpha range [0, 0] when it does not', () => {
    const check = (r: SteeringRecommendation) => ({ recommendation: r, layers: [], questions: ['a', 'b'], settings: { screenAlpha: 4, seed: 3 } });
    const s = withRecommendation(persona(), check(steers));
    expect(s.meta.recommendedLayer).toBe(4);
    expect(s.meta.alphaRange).toEqual([-4, 4]);
    expect(s.meta.steering).toMatchObject({
      verdict: 'steers',
      layer: 4,
      alpha: 4,
      effect: { mean: 0.41, lo: 0.15, hi: 0.67, level: 0.95 },
      ended: 0.97,
      questions: 2,
      seed: 3,
    });
    expect(steeringSummary(s.meta.steering!, s.meta.alphaRange)[0]).toBe(steeringSummary(steers)[0]);
    const n = withRecommendation(persona(), check(none));
    expect(n.meta.alphaRange).toEqual([0, 0]);
    expect(n.meta.steering?.verdict).toBe('does-not-steer');
    expect(n.meta.steering?.metricSource).toBe('projection');
  });
});
