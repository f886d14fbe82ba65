import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  MAX_TENSOR_ELEMENTS,
  ModelWeights,
  SafetensorsFile,
  encodeSafetensors,
  readTensorBytes,
  readTensorFloat32,
} from '../../src/model/safetensors/index.js';
import { normalizeConfig } from '../../src/model/loadConfig.js';
import { ModelFileError } from '../../src/errors.js';
import { GOLDENS, STYLIST } from '../helpers/paths.js';

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
    await fs.writeFile(
      path.join(dir, 'model.safetensors.index.json'),
      JSON.stringify({ weight_map: { a: 'model-00001-of-00002.safetensors', b: 'model-00002-of-00002.safetensors' } }),
    );
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

  it('refuses a FIFO or a folder named model.safetensors instead of waiting on it', async () => {
    const dir = await tmpdir();
    execFileSync('mkfifo', [path.join(dir, 'model.safetensors')]);
    await expect(ModelWeights.open(dir)).rejects.toThrow(/model.safetensors is not a regular file; a safetensors file was expected/);
    await fs.rm(path.join(dir, 'model.safetensors'));
    await fs.mkdir(path.join(dir, 'model.safetensors'));
    await expect(SafetensorsFile.open(path.join(dir, 'model.safetensors'))).rejects.toThrow(/is not a regular file/);
  });

  it('says what is missing when a folder has no weights', async () => {
    const dir = await tmpdir();
    await expect(ModelWeights.open(dir)).rejects.toThrow(/expected model.safetensors or model.safetensors.index.json/);
  });

  it('reads tensors beyond the 2 GiB mark of a sparse 2.3 GiB file by range and in chunks, without reading the rest', async () => {
    const dir = await tmpdir();
    const file = path.join(dir, 'big.safetensors');
    const big = 2.25 * 2 ** 30; // one U8 tensor of 2.25 GiB, then a small BF16 one after it
    const json = Buffer.from(
      JSON.stringify({ big: { dtype: 'U8', shape: [big], data_offsets: [0, big] }, tail: { dtype: 'BF16', shape: [4], data_offsets: [big, big + 8] } }),
    );
    const head = Buffer.alloc(8 + json.length);
    head.writeBigUInt64LE(BigInt(json.length));
    json.copy(head, 8);
    await fs.writeFile(file, head);
    await fs.truncate(file, 8 + json.length + big + 8);
    const h = await fs.open(file, 'r+');
    const dataStart = 8 + json.length;
    await h.write(Buffer.from([1, 2, 3]), 0, 3, dataStart + big - 3);
    await h.write(Buffer.from(new Uint16Array([0x3f80, 0x4000, 0xc040, 0x0000]).buffer), 0, 8, dataStart + big); // 1, 2, -3, 0 in bf16
    await h.close();
    try {
      const f = await SafetensorsFile.open(file);
      expect(f.info('big').byteLength).toBe(big);
      expect(f.info('tail').offset).toBeGreaterThan(2 ** 31);
      expect(Array.from(await f.readBytes('big', { start: big - 4, length: 4 }))).toEqual([0, 1, 2, 3]);
      expect(Array.from(await f.readFloat32('tail'))).toEqual([1, 2, -3, 0]);
      expect(Array.from(await readTensorFloat32(f.info('tail'), 3))).toEqual([1, 2, -3, 0]); // 2-byte chunks
      await expect(f.readBytes('big', { start: big - 2, length: 4 })).rejects.toThrow(/Byte range .* is outside tensor big/);
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  });

  it('converts in chunks exactly as in one piece, for every float dtype', async () => {
    const dir = await tmpdir();
    for (const arch of ['qwen3', 'llama', 'qwen2']) {
      const w = await ModelWeights.open(path.join(GOLDENS, arch));
      for (const [name, chunks] of [
        ['model.norm.weight', [1, 6, 10]],
        ['model.embed_tokens.weight', [4099, 65536]],
      ] as const) {
        const info = w.info(name);
        const whole = await readTensorFloat32(info);
        for (const chunk of chunks) expect(Array.from(await readTensorFloat32(info, chunk))).toEqual(Array.from(whole));
        expect(Buffer.from(await readTensorBytes(info, undefined, 4099)).equals(Buffer.from(await readTensorBytes(info)))).toBe(true);
      }
    }
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('refuses a tensor of more than 2^32 elements in a sparse 8 GiB file before allocating it', async () => {
    const dir = await tmpdir();
    const file = path.join(dir, 'huge.safetensors');
    const n = MAX_TENSOR_ELEMENTS + 4;
    const json = Buffer.from(JSON.stringify({ huge: { dtype: 'BF16', shape: [n], data_offsets: [0, 2 * n] } }));
    const head = Buffer.alloc(8 + json.length);
    head.writeBigUInt64LE(BigInt(json.length));
    json.copy(head, 8);
    await fs.writeFile(file, head);
    await fs.truncate(file, 8 + json.length + 2 * n);
    try {
      const f = await SafetensorsFile.open(file);
      await expect(f.readFloat32('huge')).rejects.toThrow(/huge in huge.safetensors has 4294967300 elements; this toolkit holds at most 4294967296/);
      await expect(f.readBytes('huge')).rejects.toThrow(/is 8.00 GiB; one read can return at most 4.00 GiB. Read it by ranges/);
      expect(Array.from(await f.readBytes('huge', { start: 2 * n - 2, length: 2 }))).toEqual([0, 0]);
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  });

  it('refuses overlapping tensors, gaps between them and bytes after the last one, as the reference library does', async () => {
    const dir = await tmpdir();
    const f = (n: string) => path.join(dir, n);
    await fs.writeFile(
      f('overlap.safetensors'),
      header({ a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, b: { dtype: 'F32', shape: [2], data_offsets: [4, 12] } }, 12),
    );
    await expect(SafetensorsFile.open(f('overlap.safetensors'))).rejects.toThrow(
      /overlap.safetensors is corrupt: tensor b \(bytes 4–12 of the data\) overlaps a, which ends at 8/,
    );
    await fs.writeFile(
      f('gap.safetensors'),
      header({ a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, b: { dtype: 'F32', shape: [1], data_offsets: [12, 16] } }, 16),
    );
    await expect(SafetensorsFile.open(f('gap.safetensors'))).rejects.toThrow(/gap.safetensors is corrupt: a gap of 4 bytes before tensor b \(after a\)/);
    await fs.writeFile(f('lead.safetensors'), header({ a: { dtype: 'F32', shape: [1], data_offsets: [4, 8] } }, 8));
    await expect(SafetensorsFile.open(f('lead.safetensors'))).rejects.toThrow(/a gap of 4 bytes before tensor a;/);
    await fs.writeFile(f('tail.safetensors'), header({ a: { dtype: 'F32', shape: [1], data_offsets: [0, 4] } }, 12));
    await expect(SafetensorsFile.open(f('tail.safetensors'))).rejects.toThrow(
      /tail.safetensors is corrupt: its tensors end at byte \d+ but the file has \d+ bytes \(8 bytes that no tensor describes\)/,
    );
    await fs.writeFile(
      f('same.safetensors'),
      header({ a: { dtype: 'F32', shape: [1], data_offsets: [0, 4] }, b: { dtype: 'F32', shape: [1], data_offsets: [0, 4] } }, 4),
    );
    await expect(SafetensorsFile.open(f('same.safetensors'))).rejects.toThrow(/overlaps/);
    await fs.writeFile(f('null.safetensors'), header({ a: null }));
    await expect(SafetensorsFile.open(f('null.safetensors'))).rejects.toThrow(/null.safetensors: tensor a has a malformed header entry null/);
    await fs.writeFile(f('meta.safetensors'), header({ __metadata__: { n: 1 } }));
    await expect(SafetensorsFile.open(f('meta.safetensors'))).rejects.toThrow(/__metadata__ must map names to strings/);
    const ok = encodeSafetensors({ a: { shape: [2], data: Float32Array.from([1, 2]) }, b: { shape: [0], data: new Float32Array(0) } });
    await fs.writeFile(f('ok.safetensors'), ok);
    expect((await SafetensorsFile.open(f('ok.safetensors'))).tensors.size).toBe(2);
  });

  it('refuses shard names that leave the model folder', async () => {
    const dir = await tmpdir();
    await fs.mkdir(path.join(dir, 'model'));
    await fs.writeFile(path.join(dir, 'outside.safetensors'), encodeSafetensors({ a: { shape: [1], data: Float32Array.from([1]) } }));
    const index = path.join(dir, 'model', 'model.safetensors.index.json');
    for (const shard of ['../outside.safetensors', path.join(dir, 'outside.safetensors'), 'sub/x.safetensors', '..']) {
      await fs.writeFile(index, JSON.stringify({ weight_map: { a: shard } }));
      await expect(ModelWeights.open(path.join(dir, 'model'))).rejects.toThrow(
        /is not a file in the model folder; shard names may not contain directories or "\.\."/,
      );
    }
    await fs.writeFile(index, JSON.stringify({ weight_map: { a: 7 } }));
    await expect(ModelWeights.open(path.join(dir, 'model'))).rejects.toThrow(/weight_map gives tensor a the shard 7; a file name was expected/);
  });

  it('checks every tensor shape in the header against config.json before reading any data', async () => {
    const raw = JSON.parse(await fs.readFile(path.join(STYLIST, 'config.json'), 'utf8'));
    const w = await ModelWeights.open(STYLIST);
    w.checkShapes(normalizeConfig(raw));
    expect(() => w.checkShapes(normalizeConfig({ ...raw, intermediate_size: raw.intermediate_size * 2 }))).toThrow(
      new RegExp(
        `model.safetensors: tensor model.layers.0.mlp.gate_proj.weight has shape \\[${raw.intermediate_size}, ${raw.hidden_size}\\] but config.json implies \\[${raw.intermediate_size * 2}, ${raw.hidden_size}\\]`,
      ),
    );
    expect(() => w.checkShapes(normalizeConfig({ ...raw, vocab_size: raw.vocab_size + 1 }))).toThrow(/tensor model.embed_tokens.weight has shape/);
    expect(() =>
      w.checkShapes(
        normalizeConfig({
          ...raw,
          num_hidden_layers: raw.num_hidden_layers + 1,
          ...(raw.layer_types ? { layer_types: [...raw.layer_types, 'full_attention'] } : {}),
        }),
      ),
    ).toThrow(new RegExp(`has no tensor model.layers.${raw.num_hidden_layers}.input_layernorm.weight, which its config.json`));
  });
});
