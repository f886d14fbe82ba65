import type { Positions, RowIntervention } from '../engine/generate/Intervention.js';
import { POSITIONS } from '../engine/generate/Intervention.js';
import { InvalidArgumentError } from '../errors.js';
import { normalizeLayer, type PersonaVector } from './PersonaVector.js';

/**
 * Units of alpha: `gap` multiplies the raw positive−negative difference (alpha 1 moves the activation
 * by one gap, as the persona-vectors paper's coefficients do); `unit` the unit vector; `resid` a
 * fraction of the layer's mean residual norm (transfers between models).
 */
export type Units = 'gap' | 'unit' | 'resid';
export const UNITS: readonly Units[] = ['gap', 'unit', 'resid'];

export type Operator = 'add' | 'ablate' | 'cap';

export interface SteerOptions {
  alpha?: number;
  /** One layer (default: the persona's recommended layer) ... */
  layer?: number;
  /** ... or several. */
  layers?: number[];
  positions?: Positions;
  units?: Units;
  /** `add` (default) adds alpha·v; `ablate` removes the component along v; `cap` limits it to `cap`. */
  operator?: Operator;
  /** For `cap`: the largest projection allowed (in the raw units of the projection on the unit vector). */
  cap?: number;
}

export interface SteerSpec extends SteerOptions {
  persona: PersonaVector;
}

function checkAlpha(alpha: unknown): number {
  if (typeof alpha !== 'number' || !Number.isFinite(alpha)) throw new InvalidArgumentError(`alpha must be a finite number; got ${JSON.stringify(alpha)}.`);
  return alpha;
}

/**
 * Resolves one or several persona steering specs into one row intervention for a model of the
 * given shape (deltas summed per layer).
 *
 * @example const iv = resolveSteering(model, [{ persona: formal, alpha: 4, layer: 3 }]);
 */
export function resolveSteering(model: { numLayers: number; hiddenSize: number; id?: string }, specs: SteerSpec[]): RowIntervention | null {
  if (specs.length === 0) return null;
  const L = model.numLayers;
  const H = model.hiddenSize;
  const positions = specs[0].positions ?? 'all';
  let delta: Float32Array | undefined;
  let clamp: RowIntervention['clamp'];
  for (const s of specs) {
    s.persona.assertFits(model);
    const pos = s.positions ?? 'all';
    if (!POSITIONS.includes(pos)) throw new InvalidArgumentError(`positions must be one of ${POSITIONS.join(', ')}; got ${JSON.stringify(pos)}.`);
    if (pos !== positions) throw new InvalidArgumentError('All personas steered together must use the same positions mode.');
    const units = s.units ?? 'gap';
    if (!UNITS.includes(units)) throw new InvalidArgumentError(`units must be one of ${UNITS.join(', ')}; got ${JSON.stringify(units)}.`);
    const layers = (s.layers ?? [s.layer ?? s.persona.meta.recommendedLayer]).map((l) => normalizeLayer(l, L));
    const op = s.operator ?? 'add';
    for (const l of layers) {
      if (op === 'add') {
        const alpha = checkAlpha(s.alpha);
        const base = units === 'gap' ? s.persona.layer(l) : s.persona.unit(l);
        const k = units === 'resid' ? alpha * (s.persona.meta.layers.find((x) => x.layer === l)?.residNorm ?? 1) : alpha;
        delta ??= new Float32Array(L * H);
        for (let i = 0; i < H; i++) delta[l * H + i] += k * base[i];
      } else {
        clamp ??= { dir: new Float32Array(L * H), lo: new Float32Array(L), hi: new Float32Array(L) };
        clamp.dir.set(s.persona.unit(l), l * H);
        if (op === 'ablate') {
          clamp.lo[l] = 0;
          clamp.hi[l] = 0;
        } else {
          if (typeof s.cap !== 'number' || !Number.isFinite(s.cap)) throw new InvalidArgumentError('The cap operator needs a finite `cap` value.');
          clamp.lo[l] = -3e38;
          clamp.hi[l] = s.cap;
        }
      }
    }
  }
  return { positions, delta, clamp };
}
