import os from 'node:os';
import path from 'node:path';

/**
 * The project's cache folder (converted weights, bench models, downloads): `PERSONA_CACHE`, else
 * `$XDG_CACHE_HOME/persona-vectors`, else `~/.cache/persona-vectors`.
 *
 * @example const root = personaCacheDir(); // '/home/me/.cache/persona-vectors'
 */
export function personaCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.PERSONA_CACHE) return env.PERSONA_CACHE;
  const base = env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache');
  return path.join(base, 'persona-vectors');
}
