import { describe, expect, it } from 'vitest';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ModelWeights, SafetensorsFile, encodeSafetensors } from '../../src/model/safetensors/index.js';
import { ModelFileError } from '../../src/errors.js';
import { GOLDENS } from '../helpers/paths.js';

async function tmpdir() {
  return fs.mkdtemp(path.join(os.tmpdir(), 'pv-st-'));
}

function header(obj: unknown, dataBytes = 0): Uint8Array {
  const json = Buffer.from(JSON.stringify(obj));
  const out = new Uint8Array(8 + json.length + dataBytes);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  return out;
}

describe('the safetensors reader', () => {
  it('reads bf16, f16 and f32 checkpoints by tensor', async () => {
    for (const arch of ['qwen3', 'llama', 'qwen2']) {
      const w = await ModelWeights.open(path.join(GOLDENS, arch));
      const v = await w.readFloat32('model.norm.weight');
      expect(v.length).toBe(64);
      expect(v.every(Number.isFinite)).toBe(true);
    }
  });

  it('round-trips what it writes', async () => {
    const dir = await tmpdir();
    const data = Float32Array.from({ length: 12 }, (_, i) => i * 0.5 - 3);
    await fs.writeFile(path.join(dir, 'x.safetensors'), encodeSafetensors({ a: { shape: [3, 4], data } }, { k: 'v' }));
    const f = await SafetensorsFile.open(path.join(dir, 'x.safetensors'));
    expect(f.metadata.k).toBe('v');
    expect(Array.from(await f.readFloat32('a'))).toEqual(Array.from(data));
  });

  it('reads a sharded checkpoint through model.safetensors.index.json and names a missing shard', async () => {
    const dir = await tmpdir();
    const a = Float32Array.from([1, 2]);
    const b = Float32Array.from([3, 4, 5]);
    await fs.writeFile(path.join(dir, 'model-00001-of-00002.safetensors'), encodeSafetensors({ a: { shape: [2], data: a } }));
    await fs.writeFile(path.join(dir, 'model-00002-of-00002.safetensors'), encodeSafetensors({ b: { shape: [3], data: b } }));
    await fs.writeFile(path.join(dir, 'model.safetensors.index.json'), JSON.stringify({ weight_map: { a: 'model-00001-of-00002.safetensors', b: 'model-00002-of-00002.safetensors' } }));
    const w = await ModelWeights.open(dir);
    expect(Array.from(await w.readFloat32('b'))).toEqual([3, 4, 5]);
    await fs.rm(path.join(dir, 'model-00002-of-00002.safetensors'));
    await expect(ModelWeights.open(dir)).rejects.toThrow(/Shard model-00002-of-00002.safetensors .* is missing/);
  });

  it('rejects a short file, a header past the end, offsets out of range and an unknown dtype with clear errors', async () => {
    const dir = await tmpdir();
    const f = (n: string) => path.join(dir, n);
    await fs.writeFile(f('short.safetensors'), new Uint8Array(3));
    await expect(SafetensorsFile.open(f('short.safetensors'))).rejects.toThrow(/truncated/);
    const past = header({});
    new DataView(past.buffer).setBigUint64(0, 10_000n, true);
    await fs.writeFile(f('past.safetensors'), past);
    await expect(SafetensorsFile.open(f('past.safetensors'))).rejects.toThrow(/header claims 10000 bytes/);
    await fs.writeFile(f('range.safetensors'), header({ w: { dtype: 'F32', shape: [4], data_offsets: [0, 16] } }, 8));
    await expect(SafetensorsFile.open(f('range.safetensors'))).rejects.toThrow(/truncated or corrupt: tensor w ends at byte/);
    await fs.writeFile(f('dtype.safetensors'), header({ w: { dtype: 'F8_E9', shape: [1], data_offsets: [0, 1] } }, 1));
    await expect(SafetensorsFile.open(f('dtype.safetensors'))).rejects.toThrow(/unknown dtype "F8_E9"/);
    await expect(SafetensorsFile.open(f('dtype.safetensors'))).rejects.toBeInstanceOf(ModelFileError);
  });

  it('says what is missing when a folder has no weights', async () => {
    const dir = await tmpdir();
    await expect(ModelWeights.open(dir)).rejects.toThrow(/expected model.safetensors or model.safetensors.index.json/);
  });
});
