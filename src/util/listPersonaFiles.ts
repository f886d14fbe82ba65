import { promises as fs } from 'node:fs';
import path from 'node:path';

/** The file name ending of a persona's JSON: `<name>.persona.json` (+ its sidecar beside it). */
export const PERSONA_SUFFIX = '.persona.json';

/**
 * One persona file found in a folder: its name (the file name without `.persona.json`) and path.
 *
 * @example const [first]: PersonaEntry[] = await listPersonaFiles('personas');   // { name: 'formal', file: 'personas/formal.persona.json' }
 */
export interface PersonaEntry {
  name: string;
  file: string;
}

/**
 * The persona files of one folder, sorted by name; a missing or unreadable folder has none.
 *
 * @example (await listPersonaFiles('personas')).map((e) => e.name);   // ['formal', 'vivid']
 */
export async function listPersonaFiles(dir: string): Promise<PersonaEntry[]> {
  let names: string[];
  try {
    names = await fs.readdir(dir);
  } catch {
    return [];
  }
  return names
    .filter((f) => f.endsWith(PERSONA_SUFFIX))
    .sort()
    .map((f) => ({ name: f.slice(0, -PERSONA_SUFFIX.length), file: path.join(dir, f) }));
}
