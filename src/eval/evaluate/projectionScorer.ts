import type { LanguageModel } from '../../engine/LanguageModel.js';
import { InvalidArgumentError } from '../../errors.js';
import { extractActivations } from '../../engine/extractActivations.js';
import type { PersonaVector } from '../../steering/PersonaVector.js';
import { normalizeLayer } from '../../steering/PersonaVector.js';
import { project } from '../../steering/project.js';
import type { Scorer, ScoreItem } from '../scorers/Scorer.js';
import { contentIds, itemIds } from './tokenizedItems.js';
import type { UnsteeredReader } from './unsteeredReader.js';

/**
 * A direction to project on: a persona's unit vector at one layer.
 *
 * @example const t: ProjectionTarget = { persona: formal, layer: formal.meta.recommendedLayer };
 */
export interface ProjectionTarget {
  persona: PersonaVector;
  layer: number;
}

/**
 * The persona-vectors paper's monitoring signal as a scorer: the mean over the answer's tokens of the
 * residual stream after block `layer`, projected on the persona's direction there in gap units
 * (`project`; Chen et al. 2025, "Persona Vectors", §monitoring). The answer is re-read by the unsteered model (one pooled
 * pass, no hooks), so the number says how much the text itself expresses the persona, not how much
 * was added. One metric per target, `projection:NAME`. Given an `unsteeredReader`, it shares that
 * reader's pass (e.g. with the perplexity scorer).
 *
 * @example const proj = projectionScorer(model, [{ persona: formal, layer: 1 }]); // metric 'projection:formal'
 */
export function projectionScorer(model: LanguageModel, targets: ProjectionTarget[], opts: { batchSize?: number; reader?: UnsteeredReader } = {}): Scorer {
  const names = targets.map((t) => `projection:${t.persona.name}`);
  if (new Set(names).size !== names.length) throw new InvalidArgumentError(`projection targets need distinct persona names; got ${names.join(', ')}`);
  const dirs = targets.map((t) => {
    t.persona.assertFits(model);
    const layer = normalizeLayer(t.layer, model.numLayers);
    return { layer, persona: t.persona };
  });
  return {
    name: 'projection',
    metrics: names,
    async score(items: ScoreItem[]) {
      if (items.length === 0) return [];
      const means = opts.reader ? (await opts.reader.read(items)).responseMean : await readAlone(items);
      return means.map((perLayer) => Object.fromEntries(dirs.map((d, k) => [names[k], project(perLayer[d.layer], d.persona, d.layer)])));
    },
  };

  async function readAlone(items: ScoreItem[]): Promise<Float32Array[][]> {
    const seqs = items.map((it) => {
      const { promptIds, answerIds } = itemIds(model, it);
      return { promptIds, answerIds: contentIds(model, answerIds) };
    });
    return (await extractActivations(model, seqs, { batchSize: opts.batchSize ?? 128 })).responseMean;
  }
}
