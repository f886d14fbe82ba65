import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { CLI, GOLDENS, PERSONAS } from '../helpers/paths.js';

/** Runs the real `persona` binary in a child process. */
function persona(args: string[]) {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 120_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

describe('the persona command line', () => {
  it('quick-start explains, lists the shipped personas and answers one request at several alphas', () => {
    const r = persona(['quick-start']);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/formal/);
    expect(r.out).toMatch(/vivid/);
    const rows = r.out.split('\n').filter((l) => /^alpha\s+-?\d/.test(l));
    expect(rows.length).toBe(5);
    expect(new Set(rows.map((l) => l.split('│')[1])).size).toBeGreaterThan(2);
  });

  it('run --json writes one object per prompt with prompt, text, alpha and persona', () => {
    const formal = path.join(PERSONAS, 'formal.persona.json');
    const r = persona(['run', '--persona', formal, '--alpha', '-4', '--prompt', 'Thank Sam for the flowers.', '--json', '--max-new-tokens', '24']);
    expect(r.code, r.err).toBe(0);
    const obj = JSON.parse(r.out.trim());
    expect(obj).toMatchObject({ prompt: 'Thank Sam for the flowers.', alpha: -4, persona: 'formal' });
    expect(obj.text.length).toBeGreaterThan(0);
    const two = persona([
      'run',
      '--persona',
      formal,
      '--alpha',
      '2',
      '--persona',
      path.join(PERSONAS, 'vivid.persona.json'),
      '--alpha',
      '3',
      '--prompt',
      'Hi',
      '--json',
      '--max-new-tokens',
      '8',
    ]);
    expect(two.code, two.err).toBe(0);
    expect(JSON.parse(two.out.trim())).toMatchObject({ alpha: [2, 3], persona: ['formal', 'vivid'] });
  });

  it('says clearly what is wrong with a non-numeric alpha, a layer out of range and a missing model', () => {
    const formal = path.join(PERSONAS, 'formal.persona.json');
    const a = persona(['run', '--persona', formal, '--alpha', 'lots', '--prompt', 'Hi']);
    expect(a.code).not.toBe(0);
    expect(a.err).toMatch(/--alpha must be a number; got "lots"/);
    const l = persona(['run', '--persona', formal, '--alpha', '1', '--layer', '9', '--prompt', 'Hi']);
    expect(l.code).not.toBe(0);
    expect(l.err).toMatch(/Layer 9 is out of range: the model has 6 decoder layers/);
    const m = persona(['run', '--model', '/nonexistent/model', '--prompt', 'Hi']);
    expect(m.code).not.toBe(0);
    expect(m.err).toMatch(/neither an existing folder nor a hub id/);
  });

  it('verify passes on a golden and exits non-zero when the tolerance cannot be met', () => {
    const dir = path.join(GOLDENS, 'qwen3');
    const ok = persona(['verify', dir, '--reference', path.join(dir, 'golden.safetensors')]);
    expect(ok.code, ok.err).toBe(0);
    expect(ok.out).toMatch(/single\.logits/);
    expect(ok.out).toMatch(/verified/);
    const strict = persona(['verify', dir, '--reference', path.join(dir, 'golden.safetensors'), '--tolerance', '1e-12']);
    expect(strict.code).toBe(1);
    expect(strict.out).toMatch(/FAILED/);
  });
});

describe('export and import of control vectors', () => {
  it('round-trips a persona through GGUF and through the persona_vectors layout with the same vectors', async () => {
    const { mkdtempSync } = await import('node:fs');
    const os = await import('node:os');
    const { loadPersona } = await import('../../src/steering/personaFile.js');
    const dir = mkdtempSync(path.join(os.tmpdir(), 'pv-cli-'));
    const formalFile = path.join(PERSONAS, 'formal.persona.json');
    const formal = await loadPersona(formalFile);
    expect(persona(['export', formalFile, '--format', 'gguf', '--all-layers', '--out', path.join(dir, 'f.gguf')]).code).toBe(0);
    const imp = persona(['import', path.join(dir, 'f.gguf'), '--out', path.join(dir, 'g.persona.json')]);
    expect(imp.code, imp.err).toBe(0);
    const back = await loadPersona(path.join(dir, 'g.persona.json'));
    for (let l = 1; l < 6; l++) expect(Array.from(back.layer(l))).toEqual(Array.from(formal.layer(l)));
    expect(back.norm(0)).toBe(0); // llama.cpp never steers block 0
    expect(persona(['export', formalFile, '--format', 'pv', '--out', path.join(dir, 'f.safetensors')]).code).toBe(0);
    expect(persona(['import', path.join(dir, 'f.safetensors'), '--out', path.join(dir, 'h.persona.json')]).code).toBe(0);
    const pv = await loadPersona(path.join(dir, 'h.persona.json'));
    for (let l = 0; l < 6; l++) expect(Array.from(pv.layer(l))).toEqual(Array.from(formal.layer(l)));
    const wrong = persona(['import', path.join(dir, 'f.gguf'), '--model', path.join(GOLDENS, 'qwen3'), '--out', path.join(dir, 'x.persona.json')]);
    expect(wrong.code).not.toBe(0);
    expect(wrong.err).toMatch(/hidden size|256|64/);
  });
});

describe('models from the hub, from the command line', () => {
  it('says clearly when offline without a cached model and when the hub cannot be reached', async () => {
    const os = await import('node:os');
    const { mkdtempSync } = await import('node:fs');
    const cache = mkdtempSync(path.join(os.tmpdir(), 'pv-hub-'));
    const run = (env: Record<string, string>) =>
      spawnSync(process.execPath, [CLI, 'run', '--model', 'Qwen/Qwen3-0.6B', '--prompt', 'hi'], {
        encoding: 'utf8',
        env: { ...process.env, HF_HUB_CACHE: cache, ...env },
      });
    const off = run({ HF_HUB_OFFLINE: '1' });
    expect(off.status).not.toBe(0);
    expect(off.stderr).toMatch(/Offline \(HF_HUB_OFFLINE is set\).*config\.json of Qwen\/Qwen3-0\.6B.*not in the cache/);
    const down = run({ HF_ENDPOINT: 'http://127.0.0.1:9' });
    expect(down.status).not.toBe(0);
    expect(down.stderr).toMatch(/Cannot reach the Hugging Face hub at http:\/\/127\.0\.0\.1:9.*HF_HUB_OFFLINE=1/);
  });
});
