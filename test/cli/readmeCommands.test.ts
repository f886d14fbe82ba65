import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runCliAsync } from '../helpers/cli.js';
import { ROOT } from '../helpers/paths.js';

/** The `npx persona-vectors …` commands of the README's Commands block, continuation lines joined, comments dropped. */
function readmeCommands(): string[][] {
  const readme = readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  const block = /## Commands\n+```sh\n([\s\S]*?)```/.exec(readme)![1];
  const lines = block
    .replace(/\\\n\s*/g, ' ')
    .split('\n')
    .map((l) => l.replace(/\s+#.*$/, '').trim())
    .filter((l) => l.startsWith('npx persona-vectors'));
  return lines.map((l) => [...l.matchAll(/"([^"]*)"|(\S+)/g)].map((m) => m[1] ?? m[2]).slice(2));
}

/** Commands run as written here; the others need a terminal, a server, the hub, or minutes (each has its own test). */
const RUN = new Set(['quick-start', 'run', 'generate-prompts', 'train', 'export', 'import', '--help']);
const needsHub = (args: string[]) => args.some((a) => /^Qwen\//.test(a) || a.startsWith('Qwen3-4B/') || a === 'path/to/model');

describe("the README's commands", () => {
  it('run as written in a new folder and print no npm warning', async () => {
    const cwd = mkdtempSync(path.join(os.tmpdir(), 'readme-'));
    writeFileSync(path.join(cwd, 'requests.txt'), 'Thank Sam for the flowers.\nDescribe a quiet harbour.\n');
    const commands = readmeCommands().filter((a) => RUN.has(a[0]) && !needsHub(a));
    expect(commands.map((a) => a[0])).toEqual(expect.arrayContaining(['quick-start', 'run', 'generate-prompts', 'train', 'export', 'import']));
    for (const args of commands) {
      const r = await runCliAsync(args, { cwd, timeout: 300_000 });
      expect(r.code, `persona-vectors ${args.join(' ')}\n${r.err}`).toBe(0);
      expect(r.out.trim().length).toBeGreaterThan(0);
      expect(`${r.out}${r.err}`).not.toMatch(/npm warn/i);
    }
  });
});
