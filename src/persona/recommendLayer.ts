import type { LanguageModel, Prompt } from '../engine/LanguageModel.js';
import type { PersonaVector } from '../steering/PersonaVector.js';
import { resolveSteering } from '../steering/resolveSteering.js';
import type { ProgressCallback } from '../util/progress.js';
import { dot } from './aggregators.js';
import { extractActivations } from './extractActivations.js';

export interface LayerCheck {
  layer: number;
  /** Movement toward the persona per unit alpha (scorer units, or fraction of the neg→pos gap). */
  effect: number;
  /** Share of steered answers that still ended their turn. */
  ended: number;
}

export interface RecommendOptions {
  prompts: Prompt[];
  /** alpha used for the ± check, in gap units (default 4). */
  alpha?: number;
  layers?: number[];
  maxNewTokens?: number;
  coherenceFloor?: number;
  /** Scores an answer for the trait; when absent, the answers are re-read and projected. */
  score?: (answers: string[]) => Promise<number[]> | number[];
  seed?: number;
  onProgress?: ProgressCallback;
}

/**
 * Picks the layer where steering moves answers most toward the persona per unit alpha while they stay
 * coherent (still end their turn). For each layer, one batched run answers the held-out prompts at
 * +alpha and −alpha; the effect is the scorer's difference, or — with no scorer — how far the steered
 * answers, re-read without steering, move along the persona direction between the negative (0) and
 * positive (1) means. Separation is not steerability: the most separable layer often steers worst.
 *
 * @example const { layer, checks } = await recommendLayer(model, persona, { prompts: heldOut });
 */
export async function recommendLayer(model: LanguageModel, persona: PersonaVector, o: RecommendOptions): Promise<{ layer: number; alphaRange: [number, number]; checks: LayerCheck[] }> {
  const alpha = o.alpha ?? 4;
  const layers = o.layers ?? Array.from({ length: model.numLayers }, (_, l) => l);
  const floor = o.coherenceFloor ?? 0.7;
  const checks: LayerCheck[] = [];
  const n = o.prompts.length;
  const readLayer = persona.meta.layers.reduce((a, b) => (b.separation > a.separation ? b : a)).layer;
  for (const [i, l] of layers.entries()) {
    const plus = resolveSteering(model, [{ persona, alpha, layer: l }]);
    const minus = resolveSteering(model, [{ persona, alpha: -alpha, layer: l }]);
    const prompts = [...o.prompts, ...o.prompts];
    const rows = await model.generate(prompts, {
      maxNewTokens: o.maxNewTokens ?? 64,
      sampling: { temperature: 0.8, seed: o.seed ?? 1 },
      intervention: prompts.map((_, j) => (j < n ? plus : minus)),
      ignoreHooks: true,
      batchSize: 2 * n,
    });
    let effect: number;
    if (o.score) {
      const s = await o.score(rows.map((r) => r.text));
      const mean = (a: number[]) => a.reduce((x, y) => x + y, 0) / Math.max(1, a.length);
      effect = (mean(s.slice(0, n)) - mean(s.slice(n))) / (2 * alpha);
    } else {
      const acts = await extractActivations(
        model,
        rows.map((r) => ({ promptIds: r.promptIds, answerIds: r.tokens.length ? r.tokens : [model.stopTokenIds[0] ?? 0] })),
        { batchSize: 2 * n },
      );
      // Read at one fixed layer (the most separable one) so effects of different layers compare.
      const u = persona.unit(readLayer);
      const gap = persona.norm(readLayer) || 1;
      const proj = acts.responseMean.map((a) => dot(a[readLayer], u) / gap);
      const mean = (a: number[]) => a.reduce((x, y) => x + y, 0) / Math.max(1, a.length);
      effect = (mean(proj.slice(0, n)) - mean(proj.slice(n))) / (2 * alpha);
    }
    const ended = rows.filter((r) => r.ended).length / rows.length;
    checks.push({ layer: l, effect, ended });
    o.onProgress?.({ phase: 'layer check', done: i + 1, total: layers.length, unit: 'layers' });
  }
  const coherent = checks.filter((c) => c.ended >= floor);
  const pool = coherent.length ? coherent : checks;
  const best = pool.reduce((a, b) => (b.effect > a.effect ? b : a));
  return { layer: best.layer, alphaRange: [-2 * alpha, 2 * alpha], checks };
}
