import { describe, expect, it } from 'vitest';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runCli } from '../helpers/cli.js';

const json = (out: string) =>
  out
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));

describe('persona run steering flags', () => {
  it("reports each persona's own layer, by name from any folder, and normalises negative layers", async () => {
    const elsewhere = await fs.mkdtemp(path.join(os.tmpdir(), 'run-cwd-'));
    const two = runCli(
      ['run', '--persona', 'formal', '--alpha', '2', '--persona', 'vivid', '--alpha', '3', '--prompt', 'Hi', '--json', '--max-new-tokens', '4'],
      { cwd: elsewhere },
    );
    expect(two.code, two.err).toBe(0);
    const [row] = json(two.out);
    const shipped = async (n: string) =>
      JSON.parse(await fs.readFile(path.join(__dirname, '..', '..', 'personas', `${n}.persona.json`), 'utf8')).recommendedLayer;
    expect(row.layer).toEqual([await shipped('formal'), await shipped('vivid')]);
    expect(row.steering.map((s: { layers: number[] }) => s.layers)).toEqual([[await shipped('formal')], [await shipped('vivid')]]);
    const last = runCli(['run', '--persona', 'formal', '--alpha', '2', '--layer', '-1', '--prompt', 'Hi', '--json', '--max-new-tokens', '4']);
    expect(last.code, last.err).toBe(0);
    expect(json(last.out)[0].layer).toBe(5);
  });

  it('takes layer ranges, operators and JSONL prompt files with system and user fields', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'run-jsonl-'));
    const file = path.join(dir, 'requests.jsonl');
    await fs.writeFile(
      file,
      [
        JSON.stringify({ system: 'You are a formal and professional assistant.', user: 'Thank Sam for the flowers.' }),
        JSON.stringify({ user: 'Describe a harbour.' }),
      ].join('\n') + '\n',
    );
    const r = runCli(['run', '--persona', 'formal', '--alpha', '2', '--layers', '1-3', '--prompts-file', file, '--json', '--max-new-tokens', '6']);
    expect(r.code, r.err).toBe(0);
    const rows = json(r.out);
    expect(rows.map((x) => x.prompt)).toEqual(['Thank Sam for the flowers.', 'Describe a harbour.']);
    expect(rows[0].steering[0].layers).toEqual([1, 2, 3]);
    expect(rows.some((x) => x.text.includes('{'))).toBe(false);
    const ablate = runCli(['run', '--persona', 'formal', '--operator', 'ablate', '--prompt', 'Hi', '--json', '--max-new-tokens', '6']);
    expect(ablate.code, ablate.err).toBe(0);
    expect(json(ablate.out)[0].steering[0]).toMatchObject({ operator: 'ablate', alpha: null });
    const bad = runCli(['run', '--persona', 'formal', '--operator', 'ablate', '--alpha', '3', '--prompt', 'Hi']);
    expect(bad.code).not.toBe(0);
    expect(bad.err).toMatch(/--operator ablate takes no --alpha/);
    const both = runCli(['run', '--persona', 'formal', '--alpha', '1', '--layer', '1', '--layers', '2-3', '--prompt', 'Hi']);
    expect(both.err).toMatch(/--layer or --layers, not both/);
  });

  it('--kv-cache int8 runs every graph of the model on an int8 cache; an unknown kind is refused with the choices', async () => {
    const cache = await fs.mkdtemp(path.join(os.tmpdir(), 'run-kv8-'));
    const env = { ...process.env, PERSONA_CACHE: cache };
    const r = runCli(
      ['run', '--kv-cache', 'int8', '--persona', 'formal', '--alpha', '8', '--prompt', 'Write a note to Sam.', '--json', '--max-new-tokens', '12'],
      {
        env,
      },
    );
    expect(r.code, r.err).toBe(0);
    expect(json(r.out)[0].text.length).toBeGreaterThan(0);
    // The session's graph was built for an int8 cache (its file name says so) and no f32-cache graph was.
    const graphs = (await fs.readdir(cache, { recursive: true })).map(String).filter((f) => /graph-v\d+-.*\.onnx$/.test(f));
    expect(graphs.length).toBeGreaterThan(0);
    expect(graphs.every((f) => f.endsWith('-kv8.onnx'))).toBe(true);
    const bad = runCli(['run', '--kv-cache', 'f16', '--prompt', 'Hi'], { env });
    expect(bad.code).not.toBe(0);
    expect(bad.err).toMatch(/--kv-cache.*Allowed choices are f32, int8/);
  });
});
