import { loadPersona } from '../steering/personaFile.js';
import type { PersonaVector } from '../steering/PersonaVector.js';
import { locatePersona } from '../steering/locatePersona.js';

export { findPersonaFiles, type PersonaEntry } from '../steering/locatePersona.js';

/**
 * Loads a persona given as a name from the folders (`formal` → `formal.persona.json`; then
 * `$PERSONA_PATH` and the shipped personas) or as a file path. An unknown name is an error that
 * lists the names there are.
 *
 * @example
 * const vivid = await resolvePersonaRef('vivid', [DEFAULT_PERSONAS_DIR]);
 * const mine = await resolvePersonaRef('./my.persona.json', [DEFAULT_PERSONAS_DIR]);
 */
export async function resolvePersonaRef(ref: string, dirs: string[]): Promise<PersonaVector> {
  return loadPersona(await locatePersona(ref, dirs));
}
