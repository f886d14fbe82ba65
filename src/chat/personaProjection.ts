import type { PersonaVector } from '../steering/PersonaVector.js';
import { project } from '../steering/project.js';

/**
 * How strongly an answer reads as the persona: the mean residual over the answer's tokens at
 * `layer` projected on the persona's direction, in gap units (`project`), so answers in the
 * persona's two styles differ by about 1.
 *
 * @example
 * const { responseMean } = await engine.activations([{ promptIds, answerIds }]);
 * personaProjection(responseMean[0][1], formal, 1);   // e.g. +0.26 for "Dear Sam, …", −0.78 for "hey!! …"
 */
export function personaProjection(meanResidual: Float32Array, persona: PersonaVector, layer: number): number {
  return project(meanResidual, persona, layer);
}
