import type { LanguageModel } from '../engine/LanguageModel.js';
import type { PersonaVector } from './PersonaVector.js';
import { resolveSteering, type SteerOptions } from './resolveSteering.js';

/**
 * Steers every later generation of `model` with `alpha · v` at the chosen layer(s) until the returned
 * function is called (the seed's `add_persona_hook`). Several hooks add up.
 *
 * @example
 * const remove = addPersonaHook(model, formal, { alpha: 4, layer: 3 });
 * await model.generate(['Invite Jo to lunch.']);
 * remove();
 */
export function addPersonaHook(model: LanguageModel, persona: PersonaVector, opts: SteerOptions = {}): () => void {
  const iv = resolveSteering(model, [{ persona, ...opts }])!;
  const hook = { delta: iv.delta, clamp: iv.clamp, positions: iv.positions };
  model.hooks.add(hook);
  return () => {
    model.hooks.delete(hook);
  };
}

/**
 * Runs `fn` with a persona hook installed and removes it afterwards, even when `fn` throws.
 *
 * @example const out = await withPersonaHook(model, formal, { alpha: 4 }, () => model.generate(['Hi']));
 */
export async function withPersonaHook<T>(model: LanguageModel, persona: PersonaVector, opts: SteerOptions, fn: () => Promise<T>): Promise<T> {
  const remove = addPersonaHook(model, persona, opts);
  try {
    return await fn();
  } finally {
    remove();
  }
}
