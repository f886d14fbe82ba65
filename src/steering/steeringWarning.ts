import type { PersonaVector } from './PersonaVector.js';

/**
 * Whether a persona's file records the steering check's `does-not-steer` verdict (`meta.steering.verdict`,
 * written by `train`, `create`, `analyze-layers --personality` and `evaluate --personality`).
 *
 * @example recordsDoesNotSteer(await loadPersona('cheerful.persona.json')); // true
 */
export function recordsDoesNotSteer(persona: Pick<PersonaVector, 'meta'>): boolean {
  return persona.meta.steering?.verdict === 'does-not-steer';
}

/**
 * The one-line warning every command that steers with (or exports) a persona prints when its file
 * records the `does-not-steer` verdict; null when it does not. `doing` says what happens anyway.
 *
 * @example steeringWarning(cheerful); // 'persona "cheerful" does not measurably steer this model: its file records the steering check's verdict (no layer's effect interval excluded zero on 32 held-out requests); steering with it anyway'
 */
export function steeringWarning(persona: Pick<PersonaVector, 'meta'>, doing = 'steering with it anyway'): string | null {
  const v = persona.meta.steering;
  if (v?.verdict !== 'does-not-steer') return null;
  return `persona "${persona.meta.name}" does not measurably steer this model: its file records the steering check's verdict (no layer's effect interval excluded zero on ${v.questions} held-out requests, measured on ${persona.meta.model.id}); ${doing}`;
}
