import { normalizeLayer, type PersonaVector } from './PersonaVector.js';

/**
 * Units of a projection on a persona direction:
 * - `gap` (what every command, report, the server and the web page show): h·v / ‖v‖², where v is the
 *   persona's raw positive − negative difference at the layer. The persona's two styles sit about 1
 *   apart, and steering with alpha (gap units) at that layer moves it by alpha.
 * - `unit`: h·v / ‖v‖, the length along the unit direction (residual-stream units).
 */
export type ProjectionUnits = 'gap' | 'unit';

/** How reports label projections in gap units. */
export const PROJECTION_UNITS_LABEL = "gap units (h·v/‖v‖²: the persona's two styles are about 1 apart; alpha at this layer moves it by alpha)";

/**
 * The projection of a residual-stream vector (one position's, or a mean over answer tokens) on a
 * persona's direction at one layer — the persona-vectors paper's monitoring readout (Chen et al.
 * 2025). 0 for a zero vector. The one projection used by evaluation, monitoring, chat and the server.
 *
 * @example
 * const { responseMean } = await extractActivations(model, [{ promptIds, answerIds }]);
 * project(responseMean[0][1], formal, 1);          // e.g. +0.26 for "Dear Sam, …", −0.78 for "hey!! …"
 * project(responseMean[0][1], formal, 1, 'unit');  // the same along the unit vector
 */
export function project(h: ArrayLike<number>, persona: PersonaVector, layer: number, units: ProjectionUnits = 'gap'): number {
  const v = persona.layer(normalizeLayer(layer, persona.numLayers));
  let dot = 0;
  let n2 = 0;
  for (let i = 0; i < v.length; i++) {
    dot += h[i] * v[i];
    n2 += v[i] * v[i];
  }
  if (!(n2 > 0)) return 0;
  return units === 'gap' ? dot / n2 : dot / Math.sqrt(n2);
}

/**
 * The direction d with h·d = `project(h, persona, layer, units)` for every h (v/‖v‖² in gap units,
 * v/‖v‖ in unit units; zeros for a zero vector), for reading many projections with one dot each.
 *
 * @example const d = projectionDirection(formal, 3); dot(h, d) === project(h, formal, 3);
 */
export function projectionDirection(persona: PersonaVector, layer: number, units: ProjectionUnits = 'gap'): Float32Array {
  const v = persona.layer(normalizeLayer(layer, persona.numLayers));
  let n2 = 0;
  for (const x of v) n2 += x * x;
  if (!(n2 > 0)) return new Float32Array(v.length);
  const k = units === 'gap' ? 1 / n2 : 1 / Math.sqrt(n2);
  return Float32Array.from(v, (x) => x * k);
}
