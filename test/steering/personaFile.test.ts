import { afterEach, describe, expect, it } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { promises as fs, mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { OutputFileError, PersonaFileError } from '../../src/errors.js';
import { encodeSafetensors } from '../../src/model/safetensors/writeSafetensors.js';
import { PERSONA_FORMAT, loadPersona, personaLockPath, savePersona } from '../../src/steering/personaFile.js';
import { PersonaVector, type PersonaMeta } from '../../src/steering/PersonaVector.js';
import { PERSONAS, ROOT } from '../helpers/paths.js';

const dirs: string[] = [];
const tmp = () => {
  const d = mkdtempSync(path.join(os.tmpdir(), 'pv-pfile-'));
  dirs.push(d);
  return d;
};
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((d) => fs.rm(d, { recursive: true, force: true })));
});

const LAYERS = 3;
const HIDDEN = 8;

/** A small persona whose every value is `value` (so a mix of two is easy to see). */
function persona(name: string, value: number): PersonaVector {
  const meta: PersonaMeta = {
    name,
    model: { id: 'test/tiny', modelType: 'qwen3', hiddenSize: HIDDEN, numLayers: LAYERS },
    method: 'mean-diff',
    read: 'response-mean',
    recommendedLayer: 1,
    alphaRange: [-4, 4],
    layers: Array.from({ length: LAYERS }, (_, l) => ({ layer: l, norm: Math.abs(value) * Math.sqrt(HIDDEN), residNorm: 1, separation: value })),
    createdAt: '2026-01-01T00:00:00.000Z',
    toolVersion: 'test',
  };
  return new PersonaVector(
    Array.from({ length: LAYERS }, () => new Float32Array(HIDDEN).fill(value)),
    meta,
  );
}

/** The name and the vector values agree: the JSON describes the vectors it sits beside. */
function expectConsistent(p: PersonaVector): void {
  const value = p.vectors[0][0];
  expect(p.name).toBe(value > 0 ? 'formal' : 'vivid');
  expect(p.meta.layers[0].separation).toBe(value);
  for (const v of p.vectors) expect([...v].every((x) => x === value)).toBe(true);
}

/** Writes a persona the way the toolkit did before hashes: fixed sidecar name, no sha256 in the JSON. */
async function writeLegacy(p: PersonaVector, jsonPath: string): Promise<void> {
  const side = jsonPath.replace(/\.json$/, '.safetensors');
  const tensors = Object.fromEntries(p.vectors.map((v, l) => [`layers.${l}`, { shape: [v.length], data: v }]));
  await fs.writeFile(side, encodeSafetensors(tensors, { format: PERSONA_FORMAT, name: p.name }));
  await fs.writeFile(jsonPath, JSON.stringify({ format: PERSONA_FORMAT, ...p.meta, vectors: path.basename(side) }));
}

/** A node process that saves persona `name`/`value` to `out` with the built toolkit; `mode` picks what it does around the commit. */
function childSave(out: string, name: string, value: number, mode: 'crash-before-commit' | 'loop' | 'hold', times = 1) {
  const script = `
    const { savePersona, loadPersona } = await import(${JSON.stringify(path.join(ROOT, 'dist/steering/personaFile.js'))});
    const { PersonaVector } = await import(${JSON.stringify(path.join(ROOT, 'dist/steering/PersonaVector.js'))});
    const [out, name, value, mode, times] = process.argv.slice(1);
    const v = Number(value);
    const meta = ${JSON.stringify(persona('NAME', 0).meta)};
    meta.name = name;
    meta.layers = meta.layers.map((l) => ({ ...l, norm: Math.abs(v) * Math.sqrt(${HIDDEN}), separation: v }));
    const p = new PersonaVector(Array.from({ length: ${LAYERS} }, () => new Float32Array(${HIDDEN}).fill(v)), meta);
    const pause = (ms) => new Promise((r) => setTimeout(r, ms));
    if (mode === 'crash-before-commit') await savePersona(p, out, { beforeCommit: () => process.kill(process.pid, 'SIGKILL') });
    if (mode === 'hold') await savePersona(p, out, { beforeCommit: async () => { process.stdout.write('holding\\n'); await pause(60_000); } });
    if (mode === 'loop') for (let i = 0; i < Number(times); i++) await savePersona(p, out, { beforeCommit: () => pause(Math.random() * 10) });
  `;
  return spawn(process.execPath, ['--input-type=module', '-e', script, out, name, String(value), mode, String(times)], { stdio: ['ignore', 'pipe', 'pipe'] });
}

const exited = (child: ReturnType<typeof spawn>) =>
  new Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>((resolve) => {
    let stderr = '';
    child.stderr!.on('data', (d) => (stderr += d));
    child.on('exit', (code, signal) => resolve({ code, signal, stderr }));
  });

describe('persona files', () => {
  it('carry the sidecar’s sha256 and size, under a content-addressed sidecar name, and load back the same vectors', async () => {
    const out = path.join(tmp(), 'formal.persona.json');
    await savePersona(persona('formal', 0.5), out);
    const doc = JSON.parse(await fs.readFile(out, 'utf8'));
    const bytes = await fs.readFile(path.join(path.dirname(out), doc.vectors));
    expect(doc.vectorsSha256).toBe(createHash('sha256').update(bytes).digest('hex'));
    expect(doc.vectorsBytes).toBe(bytes.length);
    expect(doc.vectors).toBe(`formal.persona.${doc.vectorsSha256.slice(0, 16)}.safetensors`);
    expectConsistent(await loadPersona(out));
    await expect(fs.stat(personaLockPath(out))).rejects.toThrow();
  });

  it('refuse a JSON whose sidecar holds other vectors (a mixed pair), naming both hashes', async () => {
    const dir = tmp();
    const out = path.join(dir, 'formal.persona.json');
    await savePersona(persona('formal', 0.5), out);
    const other = path.join(dir, 'other.persona.json');
    await savePersona(persona('vivid', -0.5), other);
    const doc = JSON.parse(await fs.readFile(out, 'utf8'));
    const otherDoc = JSON.parse(await fs.readFile(other, 'utf8'));
    // The formal JSON over the vivid vectors: same size, other bytes.
    await fs.copyFile(path.join(dir, otherDoc.vectors), path.join(dir, doc.vectors));
    const load = loadPersona(out);
    await expect(load).rejects.toThrow(PersonaFileError);
    await expect(load).rejects.toThrow(new RegExp(`sha256 of .* is ${otherDoc.vectorsSha256}, the persona says ${doc.vectorsSha256}.*save the persona again`));
    await fs.truncate(path.join(dir, doc.vectors), 10);
    await expect(loadPersona(out)).rejects.toThrow(/has 10 bytes, the persona says \d+/);
  });

  it('still load when written before the hash existed (the shipped personas, and the old fixed sidecar name)', async () => {
    const shipped = await loadPersona(path.join(PERSONAS, 'formal.persona.json'));
    expect(shipped.numLayers).toBeGreaterThan(0);
    const out = path.join(tmp(), 'formal.persona.json');
    await writeLegacy(persona('formal', 0.25), out);
    expectConsistent(await loadPersona(out));
  });

  it('read a record that stored the reading under its old name `positions` as `read`, and write it back as `read`', async () => {
    const out = path.join(tmp(), 'formal.persona.json');
    await savePersona(persona('formal', 0.25), out);
    const doc = JSON.parse(await fs.readFile(out, 'utf8'));
    const { read, ...rest } = doc;
    await fs.writeFile(out, JSON.stringify({ ...rest, positions: read }));
    const p = await loadPersona(out);
    expect(p.meta.read).toBe('response-mean');
    expect('positions' in p.meta).toBe(false);
    await savePersona(p, out);
    const again = JSON.parse(await fs.readFile(out, 'utf8'));
    expect(again.read).toBe('response-mean');
    expect(again.positions).toBeUndefined();
  });

  it('name the persona file when its vectors hold a NaN', async () => {
    const dir = tmp();
    const out = path.join(dir, 'formal.persona.json');
    await writeLegacy(persona('formal', 0.5), out);
    const side = out.replace(/\.json$/, '.safetensors');
    const bytes = await fs.readFile(side);
    bytes.writeFloatLE(NaN, bytes.length - 4); // the last value of the last layer
    await fs.writeFile(side, bytes);
    await expect(loadPersona(out)).rejects.toThrow(
      new RegExp(`^Persona file ${out.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} \\(vectors in .*\\) is unusable: .*NaN`),
    );
  });

  it('survive a crash between the sidecar and the JSON: the old persona loads as it was, and the next save removes the orphan', async () => {
    for (const old of ['hashed', 'legacy'] as const) {
      const dir = tmp();
      const out = path.join(dir, 'formal.persona.json');
      if (old === 'hashed') await savePersona(persona('formal', 0.5), out);
      else await writeLegacy(persona('formal', 0.5), out);
      const before = await fs.readdir(dir);
      const r = await exited(childSave(out, 'vivid', -0.5, 'crash-before-commit'));
      expect(r.signal, r.stderr).toBe('SIGKILL');
      const after = await fs.readdir(dir);
      // The crash left the new sidecar (and the lock), yet the JSON still describes the old vectors.
      expect(after.filter((f) => !before.includes(f) && f.endsWith('.safetensors'))).toHaveLength(1);
      const loaded = await loadPersona(out);
      expectConsistent(loaded);
      expect(loaded.name).toBe('formal');

      await savePersona(persona('formal', 0.75), out);
      const doc = JSON.parse(await fs.readFile(out, 'utf8'));
      expect((await fs.readdir(dir)).sort()).toEqual(['formal.persona.json', doc.vectors].sort());
      expect((await loadPersona(out)).vectors[2][3]).toBe(0.75);
    }
  });

  it('are written by one process at a time when two save to one file at once: every load sees a matching pair', async () => {
    const dir = tmp();
    const out = path.join(dir, 'p.persona.json');
    const a = exited(childSave(out, 'formal', 0.5, 'loop', 25));
    const b = exited(childSave(out, 'vivid', -0.5, 'loop', 25));
    let done = false;
    let loads = 0;
    let refused = 0;
    const reader = (async () => {
      while (!done) {
        try {
          expectConsistent(await loadPersona(out));
          loads++;
        } catch (err) {
          // Before the first commit there is no file; a sidecar removed under a slow reader is refused, never mixed.
          if (/are missing/.test((err as Error).message)) refused++;
          else if (!/not found/.test((err as Error).message)) throw err;
        }
        await new Promise((r) => setTimeout(r, 2));
      }
    })();
    const results = await Promise.all([a, b]);
    done = true;
    await reader;
    for (const r of results) expect(r.code, r.stderr).toBe(0);
    expect(loads).toBeGreaterThan(refused);
    expectConsistent(await loadPersona(out));
    const doc = JSON.parse(await fs.readFile(out, 'utf8'));
    expect((await fs.readdir(dir)).sort()).toEqual([doc.vectors, 'p.persona.json'].sort());
  });

  it('wait for a live writer’s lock and give up after the timeout naming its pid; a dead writer’s lock is taken over', async () => {
    const dir = tmp();
    const out = path.join(dir, 'p.persona.json');
    const holder = childSave(out, 'vivid', -0.5, 'hold');
    const holderExit = exited(holder);
    try {
      await new Promise<void>((resolve) => holder.stdout!.on('data', (d) => String(d).includes('holding') && resolve()));
      const save = savePersona(persona('formal', 0.5), out, { lockTimeoutMs: 300 });
      await expect(save).rejects.toThrow(OutputFileError);
      await expect(save).rejects.toThrow(new RegExp(`being written by another process \\(pid ${holder.pid}`));
    } finally {
      holder.kill('SIGKILL');
    }
    await holderExit;
    // The killed holder's lock is still there, naming a pid that is gone.
    expect(Number(await fs.readFile(personaLockPath(out), 'utf8'))).toBe(holder.pid);
    await savePersona(persona('formal', 0.5), out, { lockTimeoutMs: 300 });
    expectConsistent(await loadPersona(out));
    await expect(fs.stat(personaLockPath(out))).rejects.toThrow();
    const dead = spawnSync(process.execPath, ['-e', '']).pid;
    await fs.writeFile(personaLockPath(out), String(dead));
    await savePersona(persona('vivid', -0.5), out, { lockTimeoutMs: 300 });
    expect((await loadPersona(out)).name).toBe('vivid');
  });

  it('refuse vectors named outside the persona’s folder (../, an absolute path, a link out) without quoting the file', async () => {
    const root = tmp();
    const dir = path.join(root, 'personas');
    await fs.mkdir(dir);
    const secret = path.join(root, 'secret.txt');
    await fs.writeFile(secret, 'TOPSECRET-api-key-1234567890');
    const out = path.join(dir, 'p.persona.json');
    await savePersona(persona('formal', 0.5), out);
    const doc = JSON.parse(await fs.readFile(out, 'utf8'));
    await fs.symlink(secret, path.join(dir, 'link.safetensors'));
    for (const [vectors, why] of [
      ['../secret.txt', /outside its folder/],
      [secret, /not a file name beside it/],
      ['link.safetensors', /link that points outside its folder/],
      ['sub/../../secret.txt', /outside its folder/],
    ] as const) {
      const { vectorsSha256: _s, vectorsBytes: _b, ...legacy } = doc;
      await fs.writeFile(out, JSON.stringify({ ...legacy, vectors }));
      const err = await loadPersona(out).then(
        () => undefined,
        (e: Error) => e,
      );
      expect(err, vectors).toBeInstanceOf(PersonaFileError);
      expect(err!.message, vectors).toMatch(why);
      expect(err!.message).not.toMatch(/TOPSECRET|api-key/);
    }
    // A link to a FIFO inside the folder is refused too (opening it would block).
    spawnSync('mkfifo', [path.join(dir, 'pipe.safetensors')]);
    await fs.writeFile(out, JSON.stringify({ ...doc, vectors: 'pipe.safetensors', vectorsSha256: undefined, vectorsBytes: undefined }));
    await expect(loadPersona(out)).rejects.toThrow(/not a regular file/);
  });

  it('never replace a FIFO, folder or link, and leave no orphan sidecar when the JSON cannot be committed', async () => {
    const dir = tmp();
    const fifo = path.join(dir, 'fifo.persona.json');
    spawnSync('mkfifo', [fifo]);
    await expect(savePersona(persona('formal', 0.5), fifo)).rejects.toThrow(/named pipe/);
    await fs.mkdir(path.join(dir, 'folder.persona.json'));
    await expect(savePersona(persona('formal', 0.5), path.join(dir, 'folder.persona.json'))).rejects.toThrow(/is a folder/);
    await fs.symlink(path.join(dir, 'elsewhere.json'), path.join(dir, 'link.persona.json'));
    await expect(savePersona(persona('formal', 0.5), path.join(dir, 'link.persona.json'))).rejects.toThrow(/symbolic link/);
    expect((await fs.lstat(fifo)).isFIFO()).toBe(true);
    expect((await fs.lstat(path.join(dir, 'link.persona.json'))).isSymbolicLink()).toBe(true);
    const out = path.join(dir, 'late.persona.json');
    // The target turns into a folder after the checks: the JSON write fails, and its sidecar goes.
    await expect(savePersona(persona('formal', 0.5), out, { beforeCommit: () => fs.mkdir(out) })).rejects.toThrow(OutputFileError);
    expect((await fs.readdir(dir)).filter((f) => f.endsWith('.safetensors'))).toEqual([]);
  });
});
