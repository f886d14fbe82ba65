import { promises as fs } from 'node:fs';
import path from 'node:path';
import { PersonaFileError } from '../errors.js';
import { DEFAULT_PERSONAS_DIR } from '../model/defaultModel.js';
import { listPersonaFiles, type PersonaEntry } from '../util/listPersonaFiles.js';

export type { PersonaEntry } from '../util/listPersonaFiles.js';

/**
 * The folders a persona name is looked up in, in order: the given ones, then each folder of
 * `$PERSONA_PATH` (separated like `PATH`), then the personas shipped with the package.
 *
 * @example personaSearchDirs(['./my-personas']);   // ['./my-personas', …, '<package>/personas']
 */
export function personaSearchDirs(dirs: string[] = []): string[] {
  const env = (process.env.PERSONA_PATH ?? '').split(path.delimiter).filter(Boolean);
  return [...new Set([...dirs, ...env, DEFAULT_PERSONAS_DIR].map((d) => path.resolve(d)))];
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
  for (const dir of dirs) for (const e of await listPersonaFiles(dir)) if (!seen.has(e.name)) seen.set(e.name, e);
  return [...seen.values()];
}

/** True when `ref` names a file rather than a persona in a folder. */
export function looksLikePersonaPath(ref: string): boolean {
  return ref.includes('/') || ref.includes(path.sep) || ref.endsWith('.json');
}

async function isFile(p: string): Promise<boolean> {
  try {
    return (await fs.stat(p)).isFile();
  } catch {
    return false;
  }
}

/**
 * Turns a persona reference into a file path: a path is returned as it is (the loader reports a
 * missing file); a bare name (`formal`) is looked up as `formal.persona.json` in `dirs`, then in
 * `$PERSONA_PATH`, then among the shipped personas, so names work from any folder. A file of that
 * name in the current folder wins over the folders. An unknown name is an error listing the names
 * there are.
 *
 * @example
 * await locatePersona('formal');                      // '<package>/personas/formal.persona.json'
 * await locatePersona('./mine.persona.json');          // './mine.persona.json'
 */
export async function locatePersona(ref: string, dirs: string[] = []): Promise<string> {
  const name = ref.trim();
  if (looksLikePersonaPath(name) || (await isFile(name))) return name;
  const entries = await findPersonaFiles(personaSearchDirs(dirs));
  const hit = entries.find((e) => e.name === name) ?? entries.find((e) => e.name.toLowerCase() === name.toLowerCase());
  if (hit) return hit.file;
  const known = entries.map((e) => e.name);
  throw new PersonaFileError(
    `No persona "${name}". ${known.length ? `Available: ${known.join(', ')}` : 'No persona files were found'}; or give a persona file path (….persona.json).`,
  );
}
