import { spawn } from 'node:child_process';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runCliAsync, type ProcessResult } from '../helpers/cli.js';
import { writeDoesNotSteerPersona } from '../helpers/doesNotSteerPersona.js';
import { CLI, PERSONAS } from '../helpers/paths.js';

// Every command that steers with (or exports) a persona whose file records the steering check's
// does-not-steer verdict prints one plain warning line on stderr; the shipped formal persona (which
// steers) gets none.
const WARNING = /^warning: persona "nosteer" does not measurably steer this model: its file records the steering check's verdict/m;
const FORMAL = path.join(PERSONAS, 'formal.persona.json');

let dir: string;
let nosteer: string;
beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'pv-nosteer-cli-'));
  nosteer = await writeDoesNotSteerPersona(dir);
});

const warnings = (err: string) => err.split('\n').filter((l) => l.startsWith('warning:'));

/** `persona chat` with its input piped (the line-by-line chat). */
function chatWith(args: string[], input: string): Promise<ProcessResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, 'chat', ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (d) => (out += d));
    child.stderr.setEncoding('utf8').on('data', (d) => (err += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, out, err });
    });
    child.stdin.end(input);
  });
}

describe('a persona file that records the does-not-steer verdict', () => {
  it('run steers with it and warns once on stderr; the shipped formal persona gets no warning', async () => {
    const args = ['--prompt', 'Write a thank-you note to Sam.', '--max-new-tokens', '12', '--json'];
    const r = await runCliAsync(['run', '--persona', nosteer, '--alpha', '4', ...args]);
    expect(r.code, r.err).toBe(0);
    expect(r.err).toMatch(WARNING);
    expect(warnings(r.err)).toHaveLength(1);
    expect(r.out).not.toMatch(/warning/);
    const row = JSON.parse(r.out.trim());
    expect(row.persona).toBe('nosteer');
    const formal = await runCliAsync(['run', '--persona', FORMAL, '--alpha', '4', ...args]);
    expect(formal.code, formal.err).toBe(0);
    expect(warnings(formal.err)).toEqual([]);
    // same vectors, so the same steered answer: the warning changes nothing but the note
    expect(row.text).toBe(JSON.parse(formal.out.trim()).text);
  }, 180_000);

  it('export writes the file and warns on stderr', async () => {
    const out = path.join(dir, 'nosteer.gguf');
    const r = await runCliAsync(['export', nosteer, '--out', out]);
    expect(r.code, r.err).toBe(0);
    expect(r.err).toMatch(WARNING);
    expect(r.err).toContain('exporting it anyway');
    expect((await fs.stat(out)).size).toBeGreaterThan(0);
    const formal = await runCliAsync(['export', FORMAL, '--out', path.join(dir, 'formal.gguf')]);
    expect(formal.code, formal.err).toBe(0);
    expect(warnings(formal.err)).toEqual([]);
    // --scale keeps the verdict in the exported file: imported back, the vector still warns.
    const scaled = path.join(dir, 'nosteer-x2.gguf');
    expect((await runCliAsync(['export', nosteer, '--scale', '2', '--out', scaled])).code).toBe(0);
    const back = path.join(dir, 'nosteer-x2.persona.json');
    const imp = await runCliAsync(['import', scaled, '--out', back]);
    expect(imp.code, imp.err).toBe(0);
    expect(JSON.parse(await fs.readFile(back, 'utf8')).steering?.verdict).toBe('does-not-steer');
    const again = await runCliAsync(['export', back, '--out', path.join(dir, 'again.gguf')]);
    expect(again.err).toMatch(/^warning: persona "nosteer\*2" does not measurably steer this model: its file records the steering check's verdict/m);
  }, 180_000);

  it('evaluate evaluates it and warns on stderr', async () => {
    const r = await runCliAsync([
      'evaluate',
      '--persona',
      nosteer,
      '--out',
      path.join(dir, 'e.json'),
      '--alphas',
      '4',
      '--num-questions',
      '2',
      '--max-new-tokens',
      '8',
      '--no-perplexity',
      '--no-projection',
    ]);
    expect(r.code, r.err).toBe(0);
    expect(r.err).toMatch(WARNING);
    expect(r.err).toContain('evaluating it anyway');
    expect(JSON.parse(await fs.readFile(path.join(dir, 'e.json'), 'utf8')).personas[0].name).toBe('nosteer');
  }, 180_000);

  it('chat warns on stderr and says so in its welcome and its status line', async () => {
    const r = await chatWith(['--persona', nosteer, '--alpha', '4', '--max-new-tokens', '8'], 'Hi there.\n');
    expect(r.code, r.err).toBe(0);
    expect(r.err).toMatch(WARNING);
    const lines = r.out.split('\n');
    expect(lines.find((l) => l.startsWith('persona nosteer'))).toContain("does not measurably steer this model (its file records the steering check's verdict");
    // the status line after the answer
    expect(lines.find((l) => l.startsWith('nosteer │'))).toMatch(/^nosteer │ does not measurably steer │ alpha \+?4/);
    const formal = await chatWith(['--persona', FORMAL, '--alpha', '4', '--max-new-tokens', '8'], 'Hi there.\n');
    expect(formal.code, formal.err).toBe(0);
    expect(warnings(formal.err)).toEqual([]);
    expect(formal.out).not.toContain('does not measurably steer');
  }, 180_000);
});
