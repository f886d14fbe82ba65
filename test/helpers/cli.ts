import { spawn, spawnSync } from 'node:child_process';
import { CLI } from './paths.js';

export interface ProcessResult {
  code: number | null;
  out: string;
  err: string;
}

/** Runs the real `persona` binary in a child process (optionally in another folder). For short commands. */
export function runCli(args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv; timeout?: number } = {}): ProcessResult {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: opts.timeout ?? 180_000, cwd: opts.cwd, env: opts.env ?? process.env });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

/**
 * Runs a command without blocking the test worker (a long synchronous child stalls vitest's own
 * messages and fails the run), killed after `timeout` ms.
 */
export function runProcess(cmd: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv; timeout?: number } = {}): Promise<ProcessResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: opts.cwd, env: opts.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (d) => (out += d));
    child.stderr.setEncoding('utf8').on('data', (d) => (err += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeout ?? 300_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, out, err });
    });
  });
}

/** `runCli` without blocking the test worker. */
export function runCliAsync(args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv; timeout?: number } = {}): Promise<ProcessResult> {
  return runProcess(process.execPath, [CLI, ...args], opts);
}

/**
 * `spawnSync`'s result shape without blocking the test worker (for commands that may run longer
 * than vitest's 60 s RPC window). `input` is not supported; `env`, `cwd` and `timeout` are.
 */
export async function spawnAsync(
  cmd: string,
  args: string[],
  opts: { cwd?: string; env?: NodeJS.ProcessEnv; timeout?: number; encoding?: string } = {},
): Promise<{ status: number | null; stdout: string; stderr: string }> {
  const r = await runProcess(cmd, args, opts);
  return { status: r.code, stdout: r.out, stderr: r.err };
}
