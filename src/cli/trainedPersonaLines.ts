import { steeringSummary } from '../eval/layers/recommendSteering.js';
import { pairFilterSummary } from '../persona/pairFilter.js';
import type { PersonaVector } from '../steering/PersonaVector.js';

/**
 * What `train` and `create` print about a persona they wrote: the judge filter's count (when pairs
 * were filtered), then the steering check's recommendation or verdict, or that no check ran.
 *
 * @example process.stdout.write(`wrote ${out}\n${trainedPersonaLines(persona).join('\n')}\n`);
 */
export function trainedPersonaLines(persona: PersonaVector): string[] {
  const v = persona.meta.steering;
  const lines = v
    ? steeringSummary(v, persona.meta.alphaRange)
    : [`no steering check (--no-check): layer ${persona.meta.recommendedLayer} is only the most separable one, not a measured recommendation`];
  const filtered = persona.meta.prompts?.filter;
  return [...(filtered ? [pairFilterSummary(filtered)] : []), ...lines];
}
