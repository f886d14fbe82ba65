import type { Intervention } from '../engine/generate/Intervention.js';
import type { EngineWorker } from '../engine/worker/EngineWorker.js';
import { PersonaError } from '../errors.js';
import { normalizeLayer } from '../steering/PersonaVector.js';
import { resolveSteering, type SteerSpec } from '../steering/resolveSteering.js';
import { steeringWarning } from '../steering/steeringWarning.js';
import { ApiError } from './ApiError.js';
import type { SteerEntry } from './chatRequestSchema.js';
import type { PersonaStore } from './PersonaStore.js';

/** What resolving a request's steering needs: the model's shape and the server's personas. */
export interface RequestSteeringContext {
  engine: Pick<EngineWorker, 'info'>;
  personas: PersonaStore;
}

/**
 * The steering a completion ran with, defaults filled in (echoed as `persona_steering`).
 *
 * @example const echo: SteeringEcho = { persona: 'formal', alpha: 4, layer: 1, positions: 'all', units: 'gap' };
 */
export interface SteeringEcho {
  persona: string;
  /** null for ablate and cap, which take no alpha. */
  alpha: number | null;
  /** The first of `layers` (kept for clients of the one-layer form). */
  layer: number;
  layers: number[];
  positions: string;
  units: string;
  operator: 'add' | 'ablate' | 'cap';
  cap?: number;
}

/**
 * Turns a request's steering fields into one row intervention (personas by name from the store;
 * layer defaults to each persona's recommended layer). Bad layers, units or positions are 400s.
 *
 * @example const { intervention, echo } = await resolveRequestSteering(ctx, [{ persona: 'formal', alpha: 4 }]);
 */
export async function resolveRequestSteering(
  ctx: RequestSteeringContext,
  entries: SteerEntry[],
  opts: { list?: boolean } = {},
): Promise<{ intervention: Intervention | null; echo: SteeringEcho[]; warnings: string[] }> {
  if (entries.length === 0) return { intervention: null, echo: [], warnings: [] };
  const isList = opts.list === true;
  const specs: SteerSpec[] = [];
  const echo: SteeringEcho[] = [];
  const warnings: string[] = [];
  for (const [i, e] of entries.entries()) {
    const persona = await ctx.personas.forSteering(e.persona);
    const warning = steeringWarning(persona);
    if (warning && !warnings.includes(warning)) warnings.push(warning);
    const param = (field: string) => (entries.length > 1 || isList ? `steering.${i}.${field}` : field);
    let layers: number[];
    try {
      layers = [...new Set((e.layers ?? [e.layer ?? persona.meta.recommendedLayer]).map((l) => normalizeLayer(l, ctx.engine.info.numLayers)))];
    } catch (err) {
      const field = e.layers ? 'layers' : 'layer';
      throw new ApiError(400, `${param(field)}: ${(err as Error).message}`, 'invalid_request_error', { param: param(field) });
    }
    const operator = e.operator ?? 'add';
    if (operator === 'add' && e.units === 'resid' && layers.some((l) => !persona.meta.layers.find((x) => x.layer === l)?.residNorm)) {
      throw new ApiError(
        400,
        `${param('units')}: the persona "${e.persona}" has no residual norm at layer ${layers.join(', ')}, so units "resid" cannot scale it; use "gap" or "unit".`,
        'invalid_request_error',
        { param: param('units') },
      );
    }
    specs.push({ persona, alpha: e.alpha ?? 0, layers, positions: e.positions, units: e.units, operator, cap: e.cap });
    echo.push({
      persona: e.persona,
      alpha: operator === 'add' ? e.alpha! : null,
      layer: layers[0],
      layers,
      positions: e.positions ?? 'all',
      units: e.units ?? 'gap',
      operator,
      ...(e.cap !== undefined ? { cap: e.cap } : {}),
    });
  }
  try {
    return { intervention: resolveSteering(ctx.engine.info, specs), echo, warnings };
  } catch (err) {
    if (err instanceof PersonaError) throw new ApiError(400, err.message, 'invalid_request_error', { param: 'steering' });
    throw err;
  }
}
