import type { LanguageModel } from '../engine/LanguageModel.js';
import type { PersonaVector } from './PersonaVector.js';
import { resolveSteering, type SteerOptions } from './resolveSteering.js';

/**
 * An installed persona hook. `remove()` takes it off (calling the handle itself does the same, as
 * earlier versions returned a plain function); removing twice is harmless.
 *
 * @example const hook = addPersonaHook(model, formal, { alpha: 4 }); hook.remove();
 */
export interface PersonaHook {
  (): void;
  remove(): void;
}

/**
 * Steers every later generation of `model` with `alpha · v` at the chosen layer(s) until the returned
 * handle's `remove()` is called (persona_vectors' `add_persona_hook`). Several hooks add up.
 *
 * @example
 * const hook = addPersonaHook(model, formal, { alpha: 4, layer: 3 });
 * await model.generate(['Invite Jo to lunch.']);
 * hook.remove();
 */
export function addPersonaHook(model: LanguageModel, persona: PersonaVector, opts: SteerOptions = {}): PersonaHook {
  const iv = resolveSteering(model, [{ persona, ...opts }]);
  if (iv) model.hooks.add(iv);
  const remove = () => {
    if (iv) model.hooks.delete(iv);
  };
  return Object.assign(remove, { remove });
}

/**
 * Runs `fn` with a persona hook installed and removes it afterwards, even when `fn` throws.
 *
 * @example const out = await withPersonaHook(model, formal, { alpha: 4 }, () => model.generate(['Hi']));
 */
export async function withPersonaHook<T>(model: LanguageModel, persona: PersonaVector, opts: SteerOptions, fn: () => Promise<T>): Promise<T> {
  const hook = addPersonaHook(model, persona, opts);
  try {
    return await fn();
  } finally {
    hook.remove();
  }
}
