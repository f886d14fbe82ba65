import { promises as fs } from 'node:fs';
import path from 'node:path';
import { PersonaFileError } from '../errors.js';
import { loadPersona } from '../steering/personaFile.js';
import type { PersonaVector } from '../steering/PersonaVector.js';

const SUFFIX = '.persona.json';

/**
 * One persona file found in a folder: its name (the file name without `.persona.json`) and path.
 *
 * @example const [first]: PersonaEntry[] = await findPersonaFiles([DEFAULT_PERSONAS_DIR]);   // { name: 'formal', file: '…' }
 */
export interface PersonaEntry {
  name: string;
  file: string;
}

/**
 * The persona files in some folders, by name; a name found in an earlier folder wins. Missing
 * folders are skipped.
 *
 * @example
 * await findPersonaFiles([DEFAULT_PERSONAS_DIR]);   // [{ name: 'formal', file: '…/formal.persona.json' }, { name: 'vivid', … }]
 */
export async function findPersonaFiles(dirs: string[]): Promise<PersonaEntry[]> {
  const seen = new Map<string, PersonaEntry>();
  for (const dir of dirs) {
    let files: string[];
    try {
      files = (await fs.readdir(dir)).filter((f) => f.endsWith(SUFFIX)).sort();
    } catch {
      continue;
    }
    for (const f of files) {
      const name = f.slice(0, -SUFFIX.length);
      if (!seen.has(name)) seen.set(name, { name, file: path.join(dir, f) });
    }
  }
  return [...seen.values()];
}

/** True when `ref` names a file rather than a persona in a folder. */
function looksLikePath(ref: string): boolean {
  return ref.includes('/') || ref.includes(path.sep) || ref.endsWith('.json');
}

/**
 * Loads a persona given as a name from the folders (`formal` → `formal.persona.json`) or as a file
 * path. An unknown name is an error that lists the names there are.
 *
 * @example
 * const vivid = await resolvePersonaRef('vivid', [DEFAULT_PERSONAS_DIR]);
 * const mine = await resolvePersonaRef('./my.persona.json', [DEFAULT_PERSONAS_DIR]);
 */
export async function resolvePersonaRef(ref: string, dirs: string[]): Promise<PersonaVector> {
  const name = ref.trim();
  if (looksLikePath(name)) return loadPersona(name);
  const entries = await findPersonaFiles(dirs);
  const hit = entries.find((e) => e.name === name) ?? entries.find((e) => e.name.toLowerCase() === name.toLowerCase());
  if (hit) return loadPersona(hit.file);
  try {
    await fs.access(name);
    return await loadPersona(name);
  } catch (err) {
    if (err instanceof PersonaFileError && !/not found/.test(err.message)) throw err;
  }
  const known = entries.map((e) => e.name);
  throw new PersonaFileError(`No persona "${name}". ${known.length ? `Available: ${known.join(', ')}` : 'No persona files were found'}; or give a persona file path (….persona.json).`);
}
