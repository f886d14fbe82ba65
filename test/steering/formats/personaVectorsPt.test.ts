import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InvalidArgumentError, PersonaFileError } from '../../../src/errors.js';
import { writeSafetensors } from '../../../src/model/safetensors/writeSafetensors.js';
import { SafetensorsFile } from '../../../src/model/safetensors/SafetensorsFile.js';
import { PV_TENSOR_NAME, encodePvSafetensors, readPvSafetensors, writePvSafetensors } from '../../../src/steering/formats/personaVectorsPt.js';

const L = 4;
const H = 6;

/** Per-block vectors that are zero everywhere except block `hot`. */
function oneHotLayer(hot: number): Float32Array[] {
  return Array.from({ length: L }, (_, l) => (l === hot ? Float32Array.from({ length: H }, (_, i) => i + 1) : new Float32Array(H)));
}

describe('persona_vectors [L+1, H] layout', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'pvst-'));
  });
  afterAll(async () => {
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('writes one [L+1, H] tensor with row 0 zero and row l+1 holding block l', async () => {
    const file = path.join(dir, 'hot2.safetensors');
    await writePvSafetensors(file, oneHotLayer(2), { trait: 'formal' });
    const st = await SafetensorsFile.open(file);
    expect([...st.tensors.keys()]).toEqual([PV_TENSOR_NAME]);
    expect(st.info(PV_TENSOR_NAME).shape).toEqual([L + 1, H]);
    expect(st.metadata).toMatchObject({ trait: 'formal', layout: 'hidden_states', num_layers: '4', hidden_size: '6' });
    const flat = await st.readFloat32(PV_TENSOR_NAME);
    const row = (r: number) => Array.from(flat.subarray(r * H, (r + 1) * H));
    expect(row(0)).toEqual([0, 0, 0, 0, 0, 0]);
    expect(row(3)).toEqual([1, 2, 3, 4, 5, 6]); // block 2 → hidden_states row 3
    for (const r of [1, 2, 4]) expect(row(r)).toEqual([0, 0, 0, 0, 0, 0]);
  });

  it('round-trips to identical per-block Float32Arrays', async () => {
    const vectors = Array.from({ length: L }, (_, l) => Float32Array.from({ length: H }, (_, i) => Math.cos(l * 3 + i) * 1e-3));
    const file = path.join(dir, 'rt.safetensors');
    await writePvSafetensors(file, vectors);
    const back = await readPvSafetensors(file, { hiddenSize: H, numLayers: L });
    expect(back.numLayers).toBe(L);
    expect(back.hiddenSize).toBe(H);
    expect(back.vectors).toEqual(vectors);
    const hot = await readPvSafetensors(await writeTo('hot0.safetensors', encodePvSafetensors(oneHotLayer(0))));
    expect(hot.vectors[0]).toEqual(Float32Array.from([1, 2, 3, 4, 5, 6]));
    expect(hot.vectors.slice(1).every((v) => v.every((x) => x === 0))).toBe(true);
  });

  it('reads a converted persona_vectors file with another tensor name and drops its non-zero row 0', async () => {
    const data = Float32Array.from({ length: (L + 1) * H }, (_, i) => i); // row 0 = embedding diff, non-zero
    const file = path.join(dir, 'converted.safetensors');
    await writeSafetensors(file, { vector: { shape: [L + 1, H], data } });
    const { vectors } = await readPvSafetensors(file);
    expect(vectors).toHaveLength(L);
    expect(Array.from(vectors[0])).toEqual([6, 7, 8, 9, 10, 11]);
  });

  it('refuses a file made for another model and a file that is not this layout', async () => {
    const file = await writeTo('model.safetensors', encodePvSafetensors(oneHotLayer(1)));
    await expect(readPvSafetensors(file, { hiddenSize: 8 })).rejects.toThrow(/hidden size 6 but the model's is 8/);
    await expect(readPvSafetensors(file, { numLayers: 5 })).rejects.toThrow(/5 rows \(4 blocks \+ embedding\) but the model has 5 blocks/);
    const other = path.join(dir, 'other.safetensors');
    await writeSafetensors(other, { a: { shape: [3], data: new Float32Array(3) } });
    await expect(readPvSafetensors(other)).rejects.toThrow(PersonaFileError);
    const cut = await writeTo('cut.safetensors', encodePvSafetensors(oneHotLayer(1)).subarray(0, 100));
    await expect(readPvSafetensors(cut)).rejects.toThrow(PersonaFileError);
  });

  it('refuses ragged vectors, NaN and reserved metadata keys on export', () => {
    expect(() => encodePvSafetensors([new Float32Array(3), new Float32Array(4)])).toThrow(InvalidArgumentError);
    expect(() => encodePvSafetensors([Float32Array.from([NaN])])).toThrow(/NaN/);
    expect(() => encodePvSafetensors(oneHotLayer(0), { layout: 'x' })).toThrow(/reserved/);
  });

  async function writeTo(name: string, bytes: Uint8Array): Promise<string> {
    const file = path.join(dir, name);
    await fs.writeFile(file, bytes);
    return file;
  }
});
