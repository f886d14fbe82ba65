// The fuzz suite's child process: runs cases [from, to) of one target and reports each over IPC.
// A crash (native abort, out of memory) or a hang ends only this process; fuzzRunner.mjs notes the
// case and starts a new child after it.
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { caseSeed, seededRng } from './mutate.mjs';
import { SECRET, TARGETS } from './fuzzTargets.mjs';

process.once('message', async ({ root, target, seed, from, to, scratch, failDir }) => {
  const { PersonaError } = await import(pathToFileURL(path.join(root, 'dist', 'errors.js')).href);
  const t = TARGETS[target];
  const seeds = await t.seeds(root);
  const caseDir = path.join(scratch, 'case');
  for (let i = from; i < to; i++) {
    await fs.rm(caseDir, { recursive: true, force: true });
    await fs.mkdir(caseDir, { recursive: true });
    const rng = seededRng(caseSeed(target, seed, i));
    process.send({ type: 'start', i });
    const started = performance.now();
    let outcome = 'ok';
    let message = '';
    try {
      const c = await t.make(rng, seeds, caseDir);
      try {
        await c.run();
      } catch (err) {
        message = err instanceof Error ? err.message : String(err);
        if (!(err instanceof PersonaError)) {
          outcome = 'unclean';
          const where =
            err instanceof Error && err.stack
              ? err.stack
                  .split('\n')
                  .slice(1, 4)
                  .map((l) => l.trim().replace(root, ''))
                  .join(' < ')
              : '';
          message = `${err instanceof Error ? err.name : typeof err}: ${message} (${where})`;
        } else if (message.includes(SECRET)) {
          outcome = 'leak';
        } else if (!c.files.some((f) => message.includes(f) || message.includes(path.basename(f)))) {
          outcome = 'unclean';
          message = `the message names no file: ${message}`;
        } else {
          outcome = 'refused';
        }
      }
    } catch (err) {
      outcome = 'generator';
      message = `the case generator failed: ${err instanceof Error ? err.stack : err}`;
    }
    const ms = performance.now() - started;
    if (outcome !== 'ok' && outcome !== 'refused' && failDir) {
      await fs.cp(caseDir, path.join(failDir, `${target}-${seed}-${i}`), { recursive: true }).catch(() => {});
    }
    process.send({ type: 'result', i, outcome, message: message.slice(0, 600), ms });
  }
  process.send({ type: 'done' });
  process.disconnect();
});
