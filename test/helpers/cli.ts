import { spawnSync } from 'node:child_process';
import { CLI } from './paths.js';

/** Runs the real `persona` binary in a child process (optionally in another folder). */
export function runCli(args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv; timeout?: number } = {}) {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: opts.timeout ?? 180_000, cwd: opts.cwd, env: opts.env ?? process.env });
  return { code: r.status, out: r.stdout, err: r.stderr };
}
