import type { Clamp, Intervention, Positions } from '../engine/generate/Intervention.js';
import { interventionAt, POSITIONS, sumInterventions } from '../engine/generate/Intervention.js';
import { InvalidArgumentError } from '../errors.js';
import { normalizeLayer, type PersonaVector } from './PersonaVector.js';

/**
 * Units of alpha: `gap` multiplies the raw positive−negative difference (alpha 1 moves the activation
 * by one gap, as the persona-vectors paper's coefficients do); `unit` the unit vector; `resid` a
 * fraction of the layer's mean residual norm (transfers between models; needs the norm measured).
 */
export type Units = 'gap' | 'unit' | 'resid';
export const UNITS: readonly Units[] = ['gap', 'unit', 'resid'];

/**
 * What steering does along a persona's direction at each of its layers:
 * - `add` (default): resid += alpha·v;
 * - `ablate`: remove the component along v (projection clamped to 0);
 * - `cap`: limit the projection on the unit vector to at most `cap`;
 * - `ablate-add`: remove the component, then add alpha·v (the projection is set to alpha·‖v‖ in gap units).
 */
export type Operator = 'add' | 'ablate' | 'cap' | 'ablate-add';
export const OPERATORS: readonly Operator[] = ['add', 'ablate', 'cap', 'ablate-add'];

export interface SteerOptions {
  /** Steering strength (required for `add` and `ablate-add`; not taken by `ablate` and `cap`). */
  alpha?: number;
  /** One layer (default: the persona's recommended layer; negatives count from the end) ... */
  layer?: number;
  /** ... or several (not both). */
  layers?: number[];
  /** Where it applies (default `all`; see `Positions`). */
  positions?: Positions;
  units?: Units;
  operator?: Operator;
  /** For `cap`: the largest projection allowed, in raw units along the unit vector. */
  cap?: number;
}

export interface SteerSpec extends SteerOptions {
  persona: PersonaVector;
}

function finite(name: string, x: unknown): number {
  if (typeof x !== 'number' || !Number.isFinite(x)) throw new InvalidArgumentError(`${name} must be a finite number; got ${JSON.stringify(x)}.`);
  return x;
}

/**
 * The layers a spec steers, normalised to 0…L−1 (negatives count from the end), deduplicated.
 *
 * @example specLayers({ persona: formal, layers: [-1, 2] }, 6); // [5, 2]
 */
export function specLayers(s: SteerSpec, L: number): number[] {
  if (s.layer !== undefined && s.layers !== undefined) throw new InvalidArgumentError('Give `layer` or `layers`, not both.');
  const raw = s.layers ?? (s.layer !== undefined ? [s.layer] : defaultLayers(s.persona));
  if (raw.length === 0) throw new InvalidArgumentError('`layers` must name at least one layer.');
  return [...new Set(raw.map((l) => normalizeLayer(finite('layer', l), L)))];
}

/**
 * The layers a persona steers when none are given: its recommended layers (an imported multi-layer
 * control vector: every layer it holds) or its recommended layer.
 *
 * @example defaultLayers(formal); // [1]
 */
export function defaultLayers(p: PersonaVector): number[] {
  return p.meta.recommendedLayers?.length ? p.meta.recommendedLayers : [p.meta.recommendedLayer];
}

/** The scale of one layer's vector for `alpha` in `units` (gap: the raw difference; unit: the unit vector; resid: a fraction of the residual norm). */
function scaledVector(p: PersonaVector, l: number, alpha: number, units: Units): Float32Array {
  if (units === 'gap') return Float32Array.from(p.layer(l), (x) => alpha * x);
  const unit = p.unit(l);
  if (units === 'unit') return Float32Array.from(unit, (x) => alpha * x);
  const residNorm = p.meta.layers.find((x) => x.layer === l)?.residNorm ?? 0;
  if (!(residNorm > 0)) {
    throw new InvalidArgumentError(
      `Persona ${p.name} has no measured residual norm at layer ${l} (imported vectors carry none), so --units resid has nothing to scale by. ` +
        'Use --units gap or --units unit, or train the persona with this toolkit, which records the norm.',
    );
  }
  return Float32Array.from(unit, (x) => alpha * residNorm * x);
}

/**
 * One spec as a steering value: its operator at each of its layers, at its positions.
 *
 * @example const iv = specIntervention({ persona: formal, alpha: 4, layers: [1, 2], positions: 'response' }, 6, 256);
 */
export function specIntervention(s: SteerSpec, L: number, H: number): Intervention {
  const positions = s.positions ?? 'all';
  if (!POSITIONS.includes(positions)) throw new InvalidArgumentError(`positions must be one of ${POSITIONS.join(', ')}; got ${JSON.stringify(positions)}.`);
  const units = s.units ?? 'gap';
  if (!UNITS.includes(units)) throw new InvalidArgumentError(`units must be one of ${UNITS.join(', ')}; got ${JSON.stringify(units)}.`);
  const op = s.operator ?? 'add';
  if (!OPERATORS.includes(op)) throw new InvalidArgumentError(`operator must be one of ${OPERATORS.join(', ')}; got ${JSON.stringify(op)}.`);
  const adds = op === 'add' || op === 'ablate-add';
  if (adds) finite('alpha', s.alpha);
  else if (s.alpha !== undefined && s.alpha !== 0)
    throw new InvalidArgumentError(`The ${op} operator takes no alpha (got ${s.alpha}); use ablate-add to remove the direction and add alpha·v.`);
  if (op === 'cap') finite('cap', s.cap);
  else if (s.cap !== undefined) throw new InvalidArgumentError(`\`cap\` is only used by the cap operator; got operator ${op}.`);
  const layers = specLayers(s, L);
  let delta: Float32Array | null = null;
  const clamps: Clamp[] = [];
  for (const l of layers) {
    if (adds && s.alpha !== 0) {
      delta ??= new Float32Array(L * H);
      const v = scaledVector(s.persona, l, s.alpha!, units);
      for (let i = 0; i < H; i++) delta[l * H + i] += v[i];
    }
    if (op === 'ablate' || op === 'ablate-add') clamps.push({ layer: l, dir: s.persona.unit(l), lo: 0, hi: 0 });
    if (op === 'cap') clamps.push({ layer: l, dir: s.persona.unit(l), lo: -3e38, hi: s.cap! });
  }
  return interventionAt(positions, { delta, clamps });
}

/**
 * Resolves persona steering specs into one steering value for a model of the given shape: each spec
 * with its own layers, operator, units and positions, summed. Null when nothing steers.
 *
 * @example const iv = resolveSteering(model, [{ persona: formal, alpha: 4, layer: 3 }, { persona: vivid, operator: 'ablate' }]);
 */
export function resolveSteering(model: { numLayers: number; hiddenSize: number; id?: string }, specs: SteerSpec[]): Intervention | null {
  const L = model.numLayers;
  const H = model.hiddenSize;
  return sumInterventions(
    specs.map((s) => {
      s.persona.assertFits(model);
      return specIntervention(s, L, H);
    }),
    L * H,
  );
}
