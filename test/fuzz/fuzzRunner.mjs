// Runs the seeded fuzz suite: for each target, `cases` mutated inputs in a child process, each case
// bounded by `timeoutMs`. Used by test/fuzz/parsers.test.ts (a bounded run in CI) and by
// scripts/fuzz.mjs (a nightly-size run).
import { fork } from 'node:child_process';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { TARGETS } from './fuzzTargets.mjs';

const CHILD = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fuzzChild.mjs');

/** The parsers under test, by name. */
export const TARGET_NAMES = Object.keys(TARGETS).filter((t) => !t.startsWith('_'));

/**
 * Fuzzes one target. Returns counts by outcome and every failure: `crash` (the child died),
 * `hang` (a case ran past `timeoutMs`), `unclean` (an error that is not a project error, or one
 * that names no file), `leak` (a message showed text of a file outside the persona's folder),
 * `generator` (the case generator itself failed).
 */
export async function fuzzTarget({ root, target, cases, seed = 1, timeoutMs = 10_000, failDir, memoryMb = 1024, onResult }) {
  const scratch = await fs.mkdtemp(path.join(os.tmpdir(), `pv-fuzz-${target}-`));
  const summary = { target, cases, ok: 0, refused: 0, failures: [], maxMs: 0, restarts: 0 };
  let next = 0;
  let failedStarts = 0;
  try {
    while (next < cases) {
      const from = next;
      next = await runChild(from);
      if (next === from && ++failedStarts >= 3) throw new Error(`The ${target} fuzz child failed to start three times: ${summary.startError}`);
      if (next < cases) summary.restarts++;
    }
  } finally {
    await fs.rm(scratch, { recursive: true, force: true });
  }
  return summary;

  function runChild(from) {
    return new Promise((resolve) => {
      const child = fork(CHILD, [], {
        execArgv: [`--max-old-space-size=${memoryMb}`],
        stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
        env: { ...process.env, NODE_OPTIONS: '' },
      });
      let current = -1;
      let finished = from - 1;
      let stderr = '';
      let timer = null;
      let settled = false;
      const fail = async (kind, message) => {
        summary.failures.push({ i: current, kind, message });
        if (failDir) await fs.cp(path.join(scratch, 'case'), path.join(failDir, `${target}-${seed}-${current}`), { recursive: true }).catch(() => {});
      };
      const done = (nextCase) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve(nextCase);
      };
      child.stderr.on('data', (d) => (stderr = (stderr + d).slice(-2000)));
      child.stdout.on('data', () => {});
      child.on('message', (m) => {
        if (m.type === 'start') {
          current = m.i;
          clearTimeout(timer);
          timer = setTimeout(async () => {
            child.kill('SIGKILL');
            await fail('hang', `case ${current} ran for more than ${timeoutMs} ms`);
            done(current + 1);
          }, timeoutMs);
        } else if (m.type === 'result') {
          clearTimeout(timer);
          finished = m.i;
          summary.maxMs = Math.max(summary.maxMs, m.ms);
          if (m.outcome === 'ok') summary.ok++;
          else if (m.outcome === 'refused') summary.refused++;
          else summary.failures.push({ i: m.i, kind: m.outcome, message: m.message });
          onResult?.(target, m);
        } else if (m.type === 'done') {
          done(cases);
        }
      });
      child.on('exit', async (code, signal) => {
        if (settled) return;
        if (current < from) {
          summary.startError = `${signal ?? `exit code ${code}`}: ${stderr.trim().split('\n').slice(-5).join(' | ')}`;
          done(from);
        } else if (current > finished) {
          await fail(
            'crash',
            `the process ended (${signal ?? `exit code ${code}`}) during case ${current}: ${stderr.trim().split('\n').slice(-3).join(' | ')}`,
          );
          done(current + 1);
        } else done(finished + 1 >= cases ? cases : finished + 1);
      });
      child.send({ root, target, seed, from, to: cases, scratch, failDir });
    });
  }
}
