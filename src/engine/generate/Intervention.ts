import { InvalidArgumentError } from '../../errors.js';

/**
 * Where a steering intervention applies, as in persona_vectors' steering modes:
 * - `all`: every position;
 * - `response`: the last prompt position (the one that predicts the first answer token) and every
 *   generated one;
 * - `prompt`: the prompt positions before that last one.
 * `prompt` and `response` together are `all`.
 */
export type Positions = 'all' | 'prompt' | 'response';
export const POSITIONS: readonly Positions[] = ['all', 'prompt', 'response'];

/**
 * A limit on the projection of the residual stream onto a unit direction at one layer:
 * `p = resid·dir` is clipped to [lo, hi] (ablate: [0, 0]; cap: [−∞, c]).
 *
 * @example const ablate: Clamp = { layer: 2, dir: formal.unit(2), lo: 0, hi: 0 };
 */
export interface Clamp {
  layer: number;
  /** Unit direction [H]. */
  dir: Float32Array;
  lo: number;
  hi: number;
}

/**
 * What steering does in one phase of a row: deltas added after each block ([L·H], layer-major;
 * null when none) and any number of clamps. Within a block the clamps apply first, then the delta
 * (so ablate + add at one layer is ablate-then-add).
 *
 * @example const s: SteerPhase = { delta: null, clamps: [{ layer: 1, dir, lo: 0, hi: 0 }] };
 */
export interface SteerPhase {
  delta: Float32Array | null;
  clamps: Clamp[];
}

/**
 * The one steering value: what one row of a batch does to the residual stream before the answer
 * (`prompt`: every prompt position but the last) and from the last prompt position on
 * (`response`). Values sum (`sumInterventions`); the engine applies the right phase per row and per
 * forward call. `null` everywhere means "not steered".
 *
 * @example
 * const iv = resolveSteering(model, [{ persona: formal, alpha: 4, positions: 'response' }]);
 * iv.prompt;   // null
 * iv.response; // { delta: Float32Array(L·H), clamps: [] }
 */
export interface Intervention {
  prompt: SteerPhase | null;
  response: SteerPhase | null;
}

function isEmptyPhase(p: SteerPhase | null | undefined): boolean {
  return !p || (p.delta === null && p.clamps.length === 0);
}

/**
 * The value for one phase applied at some positions (the phase object is shared, not copied, so
 * `all` uses one object for both phases).
 *
 * @example interventionAt('response', { delta, clamps: [] }); // { prompt: null, response: {…} }
 */
export function interventionAt(positions: Positions, phase: SteerPhase): Intervention {
  if (!POSITIONS.includes(positions)) throw new InvalidArgumentError(`positions must be one of ${POSITIONS.join(', ')}; got ${JSON.stringify(positions)}.`);
  return { prompt: positions === 'response' ? null : phase, response: positions === 'prompt' ? null : phase };
}

function sumPhases(phases: (SteerPhase | null)[], LH: number): SteerPhase | null {
  const real = phases.filter((p): p is SteerPhase => !isEmptyPhase(p));
  if (real.length === 0) return null;
  if (real.length === 1) return real[0];
  const deltas = real.map((p) => p.delta).filter((d): d is Float32Array => d !== null);
  let delta: Float32Array | null = null;
  if (deltas.length === 1) delta = deltas[0];
  else if (deltas.length > 1) {
    delta = new Float32Array(LH);
    for (const d of deltas) {
      if (d.length !== LH) throw new InvalidArgumentError(`Cannot sum steering values for models of different shapes (${d.length} vs ${LH} values).`);
      for (let i = 0; i < LH; i++) delta[i] += d[i];
    }
  }
  return { delta, clamps: real.flatMap((p) => p.clamps) };
}

/**
 * Sums steering values: deltas add per phase, clamps accumulate. Null and empty values drop out;
 * the result is null when nothing steers. Summing is how hooks and per-call steering combine.
 *
 * @example const both = sumInterventions([formalAt4, vividAtMinus2], model.numLayers * model.hiddenSize);
 */
export function sumInterventions(values: (Intervention | null | undefined)[], LH: number): Intervention | null {
  const real = values.filter((v): v is Intervention => !!v && !(isEmptyPhase(v.prompt) && isEmptyPhase(v.response)));
  if (real.length === 0) return null;
  if (real.length === 1) return real[0];
  const prompt = sumPhases(
    real.map((v) => v.prompt),
    LH,
  );
  // Keep one shared object when every value uses one object for both phases (`all` positions).
  const response = real.every((v) => v.prompt === v.response)
    ? prompt
    : sumPhases(
        real.map((v) => v.response),
        LH,
      );
  return { prompt, response };
}

/** True when a value clamps anything (only the clamp graph can apply it). */
export function hasClamps(v: Intervention | null | undefined): boolean {
  return !!v && ((v.prompt?.clamps.length ?? 0) > 0 || (v.response?.clamps.length ?? 0) > 0);
}

/** True when the value does something different before the last prompt position than from it on. */
export function splitsAtAnswer(v: Intervention | null | undefined): boolean {
  return !!v && v.prompt !== v.response && !(isEmptyPhase(v.prompt) && isEmptyPhase(v.response));
}
