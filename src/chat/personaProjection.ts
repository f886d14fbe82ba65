import type { PersonaVector } from '../steering/PersonaVector.js';

/**
 * How strongly an answer reads as the persona: the mean residual over the answer's tokens at
 * `layer` projected on the persona's unit vector, divided by the persona's gap there
 * (‖positive mean − negative mean‖) — so answers in the persona's two styles differ by about 1.
 * The projection the persona-vectors paper monitors traits with (Chen et al. 2025), in gap units.
 *
 * @example
 * const { responseMean } = await engine.activations([{ promptIds, answerIds }]);
 * personaProjection(responseMean[0][1], formal, 1);   // e.g. +0.26 for "Dear Sam, …", −0.78 for "hey!! …"
 */
export function personaProjection(meanResidual: Float32Array, persona: PersonaVector, layer: number): number {
  const v = persona.layer(layer); // [H]
  const gap = persona.norm(layer);
  if (!(gap > 0)) return 0;
  let dot = 0;
  for (let i = 0; i < v.length; i++) dot += meanResidual[i] * v[i];
  return dot / (gap * gap);
}
