import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InvalidArgumentError, PersonaFileError } from '../../../src/errors.js';
import {
  decodeControlVectorGguf,
  encodeControlVectorGguf,
  readControlVectorGguf,
  writeControlVectorGguf,
  type ControlVectorDirections,
} from '../../../src/steering/formats/controlVectorGguf.js';
import { encodeGguf } from '../../../src/gguf/encodeGguf.js';
import { GGML_TYPE, type GgufValue } from '../../../src/gguf/ggufTypes.js';

// ---------------------------------------------------------------------------------------------
// An independent GGUF reader, written from ggml-org/ggml docs/gguf.md for this test only (it does
// not import the project's reader). It also checks what ggml's own loader demands of the data
// section: tensors laid out in order, each at the running sum of padded sizes, and the file long
// enough for the padded total (ggml reads that many bytes).
// ---------------------------------------------------------------------------------------------
interface SpecKv {
  key: string;
  type: number;
  value: unknown;
}
interface SpecTensor {
  name: string;
  dims: bigint[];
  type: number;
  offset: bigint;
}
interface SpecFile {
  magic: string;
  version: number;
  kvs: SpecKv[];
  tensors: SpecTensor[];
  dataStart: number;
  view: DataView;
}

function specRead(bytes: Uint8Array): SpecFile {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let p = 0;
  const u32 = () => ((p += 4), view.getUint32(p - 4, true));
  const u64 = () => ((p += 8), view.getBigUint64(p - 8, true));
  const str = () => {
    const n = Number(u64());
    p += n;
    return new TextDecoder().decode(bytes.subarray(p - n, p));
  };
  const val = (t: number): unknown => {
    switch (t) {
      case 4:
        return u32();
      case 5:
        return ((p += 4), view.getInt32(p - 4, true));
      case 6:
        return ((p += 4), view.getFloat32(p - 4, true));
      case 7:
        return ((p += 1), view.getUint8(p - 1) === 1);
      case 8:
        return str();
      case 9: {
        const it = u32();
        const n = Number(u64());
        return Array.from({ length: n }, () => val(it));
      }
      default:
        throw new Error(`spec reader: value type ${t} not needed by this test`);
    }
  };
  const magic = new TextDecoder().decode(bytes.subarray(0, 4));
  p = 4;
  const version = u32();
  const nTensors = Number(u64());
  const nKv = Number(u64());
  const kvs: SpecKv[] = [];
  for (let i = 0; i < nKv; i++) {
    const key = str();
    const type = u32();
    kvs.push({ key, type, value: val(type) });
  }
  const tensors: SpecTensor[] = [];
  for (let i = 0; i < nTensors; i++) {
    const name = str();
    const nd = u32();
    const dims = Array.from({ length: nd }, () => u64());
    const type = u32();
    tensors.push({ name, dims, type, offset: u64() });
  }
  const align = Number((kvs.find((k) => k.key === 'general.alignment')?.value as number | undefined) ?? 32);
  const dataStart = p + ((align - (p % align)) % align);
  // ggml's gguf loader: offset of tensor i == sum of padded sizes of tensors 0..i-1.
  let expected = 0n;
  for (const t of tensors) {
    expect(t.offset).toBe(expected);
    const bytesOf = t.dims.reduce((a, b) => a * b, 1n) * 4n;
    expected += ((bytesOf + BigInt(align) - 1n) / BigInt(align)) * BigInt(align);
  }
  expect(bytes.byteLength).toBe(dataStart + Number(expected));
  return { magic, version, kvs, tensors, dataStart, view };
}

function specTensorValues(f: SpecFile, t: SpecTensor): Float32Array {
  const n = Number(t.dims[0]);
  return Float32Array.from({ length: n }, (_, i) => f.view.getFloat32(f.dataStart + Number(t.offset) + 4 * i, true));
}

// ---------------------------------------------------------------------------------------------

const H = 12; // 48 bytes per direction: not a multiple of 32, so padding between tensors is exercised

function ramp(seed: number, n = H): Float32Array {
  return Float32Array.from({ length: n }, (_, i) => Math.sin(seed * 7.1 + i) * (seed + 1) + 0.125 * i);
}

function cvOf(blocks: number[], hiddenSize = H): ControlVectorDirections {
  return { modelHint: 'qwen3', hiddenSize, directions: new Map(blocks.map((b) => [b, ramp(b, hiddenSize)])) };
}

/** A control-vector-shaped file with arbitrary tensors, for the reader's error paths. */
function rawCvFile(tensors: { name: string; dims?: number[]; type?: number; data: Float32Array | Uint8Array }[], meta?: Map<string, GgufValue>): Uint8Array {
  const metadata =
    meta ??
    new Map<string, GgufValue>([
      ['general.architecture', { type: 'string', value: 'controlvector' }],
      ['controlvector.model_hint', { type: 'string', value: 'qwen3' }],
      ['controlvector.layer_count', { type: 'int32', value: tensors.length }],
    ]);
  return encodeGguf({
    metadata,
    tensors: tensors.map((t) => ({ ...t, dims: t.dims ?? [t.data instanceof Float32Array ? t.data.length : t.data.byteLength / 2] })),
  });
}

describe('control vector GGUF export', () => {
  it('writes a GGUF v3 file an independent spec reader parses: magic, kv types, tensor infos, aligned offsets, values', () => {
    const cv = cvOf([1, 2, 5]);
    const f = specRead(encodeControlVectorGguf(cv));
    expect(f.magic).toBe('GGUF');
    expect(f.version).toBe(3);
    expect(f.kvs).toEqual([
      { key: 'general.architecture', type: 8, value: 'controlvector' },
      { key: 'controlvector.model_hint', type: 8, value: 'qwen3' },
      { key: 'controlvector.layer_count', type: 4, value: 3 },
    ]);
    expect(f.dataStart % 32).toBe(0);
    expect(f.tensors.map((t) => t.name)).toEqual(['direction.1', 'direction.2', 'direction.5']);
    for (const t of f.tensors) {
      expect(t.dims).toEqual([BigInt(H)]);
      expect(t.type).toBe(0);
      expect(Number(t.offset) % 32).toBe(0);
      const block = Number(t.name.split('.')[1]);
      expect(specTensorValues(f, t)).toEqual(cv.directions.get(block));
    }
  });

  it('names the tensor after the 0-based block: a vector non-zero only at block 3 becomes direction.3 and nothing else', () => {
    const v = ramp(3);
    const f = specRead(encodeControlVectorGguf({ modelHint: 'qwen3', hiddenSize: H, directions: new Map([[3, v]]) }));
    expect(f.tensors.map((t) => t.name)).toEqual(['direction.3']);
    expect(specTensorValues(f, f.tensors[0])).toEqual(v);
    expect(f.kvs.find((k) => k.key === 'controlvector.layer_count')?.value).toBe(1);
  });

  it('drops an all-zero block-0 direction, which llama.cpp could not hold', () => {
    const cv = cvOf([2]);
    cv.directions.set(0, new Float32Array(H));
    const f = specRead(encodeControlVectorGguf(cv));
    expect(f.tensors.map((t) => t.name)).toEqual(['direction.2']);
  });

  it('refuses a non-zero block-0 direction because llama.cpp never steers block 0', () => {
    expect(() => encodeControlVectorGguf(cvOf([0, 1]))).toThrow(InvalidArgumentError);
    expect(() => encodeControlVectorGguf(cvOf([0, 1]))).toThrow(/never steers block 0/);
  });

  it('refuses directions of the wrong length, NaN values, and a vector with no block ≥ 1', () => {
    const cv = cvOf([1]);
    cv.directions.set(2, new Float32Array(H + 1));
    expect(() => encodeControlVectorGguf(cv)).toThrow(/block 2 has 13 values; hiddenSize is 12/);
    const nan = cvOf([1]);
    nan.directions.get(1)![4] = NaN;
    expect(() => encodeControlVectorGguf(nan)).toThrow(/NaN/);
    expect(() => encodeControlVectorGguf({ modelHint: 'x', hiddenSize: H, directions: new Map() })).toThrow(InvalidArgumentError);
  });
});

describe('control vector GGUF import', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'cvgguf-'));
  });
  afterAll(async () => {
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('round-trips export → import to identical Float32Arrays, blocks and model hint', async () => {
    const cv = cvOf([1, 4, 9, 27], 1024);
    const file = path.join(dir, 'rt.gguf');
    await writeControlVectorGguf(file, cv);
    const back = await readControlVectorGguf(file, { hiddenSize: 1024, numLayers: 28 });
    expect(back.modelHint).toBe('qwen3');
    expect(back.hiddenSize).toBe(1024);
    expect([...back.directions.keys()]).toEqual([1, 4, 9, 27]);
    for (const [b, v] of cv.directions) {
      expect(back.directions.get(b)).toBeInstanceOf(Float32Array);
      expect(back.directions.get(b)).toEqual(v);
    }
  });

  it('reads a cvector-generator style file (int32 layer_count) and one without model_hint as "unknown"', () => {
    const data = ramp(1);
    expect(decodeControlVectorGguf(rawCvFile([{ name: 'direction.1', data }])).directions.get(1)).toEqual(data);
    const noHint = rawCvFile([{ name: 'direction.1', data }], new Map([['general.architecture', { type: 'string', value: 'controlvector' }]]));
    expect(decodeControlVectorGguf(noHint).modelHint).toBe('unknown');
  });

  it('refuses a direction whose length is not the model hidden size', () => {
    const bytes = encodeControlVectorGguf(cvOf([1, 2]));
    expect(() => decodeControlVectorGguf(bytes, { hiddenSize: 1024 })).toThrow(PersonaFileError);
    expect(() => decodeControlVectorGguf(bytes, { hiddenSize: 1024 })).toThrow(/12 values but the model's hidden size is 1024/);
  });

  it('refuses direction.0, as llama.cpp does', () => {
    const bytes = rawCvFile([{ name: 'direction.0', data: ramp(0) }]);
    expect(() => decodeControlVectorGguf(bytes)).toThrow(PersonaFileError);
    expect(() => decodeControlVectorGguf(bytes)).toThrow(/direction\.0.*never steers/);
  });

  it('refuses a direction beyond the last block of the model', () => {
    const bytes = encodeControlVectorGguf(cvOf([1, 28]));
    expect(() => decodeControlVectorGguf(bytes, { numLayers: 28 })).toThrow(/steers block 28, but the model has 28 blocks \(0–27\)/);
    expect(decodeControlVectorGguf(bytes, { numLayers: 29 }).directions.size).toBe(2);
  });

  it('refuses an F16 direction and names its type', () => {
    const bytes = rawCvFile([{ name: 'direction.1', type: GGML_TYPE.F16, dims: [H], data: new Uint8Array(2 * H) }]);
    expect(() => decodeControlVectorGguf(bytes)).toThrow(/direction\.1 is F16; control vector directions must be F32/);
  });

  it('refuses tensors not named direction.N, 2-D directions, mixed lengths and a model file', () => {
    expect(() => decodeControlVectorGguf(rawCvFile([{ name: 'token_embd.weight', data: ramp(1) }]))).toThrow(/not named direction\.N/);
    expect(() => decodeControlVectorGguf(rawCvFile([{ name: 'direction.1', dims: [6, 2], data: ramp(1) }]))).toThrow(/must be 1-D/);
    expect(decodeControlVectorGguf(rawCvFile([{ name: 'direction.1', dims: [H, 1], data: ramp(1) }])).directions.get(1)).toEqual(ramp(1));
    expect(() =>
      decodeControlVectorGguf(
        rawCvFile([
          { name: 'direction.1', data: ramp(1) },
          { name: 'direction.2', data: ramp(2, H + 4) },
        ]),
      ),
    ).toThrow(/16 values but earlier directions have 12/);
    const model = rawCvFile([{ name: 'direction.1', data: ramp(1) }], new Map([['general.architecture', { type: 'string', value: 'qwen3' }]]));
    expect(() => decodeControlVectorGguf(model)).toThrow(/not a control vector file/);
  });

  it('refuses a truncated file and a file with bad magic', async () => {
    const bytes = encodeControlVectorGguf(cvOf([1, 2, 3]));
    // The last direction's 48 bytes are followed by 16 bytes of padding; cutting 17 cuts into its data.
    for (const cut of [2, 20, 60, bytes.byteLength - 40, bytes.byteLength - 17]) {
      expect(() => decodeControlVectorGguf(bytes.subarray(0, cut))).toThrow(/truncated/);
    }
    const bad = bytes.slice();
    bad.set([0x47, 0x47, 0x4d, 0x4c]); // "GGML"
    expect(() => decodeControlVectorGguf(bad)).toThrow(/not a GGUF file/);
    const file = path.join(dir, 'cut.gguf');
    await fs.writeFile(file, bytes.subarray(0, bytes.byteLength - 20));
    await expect(readControlVectorGguf(file)).rejects.toThrow(/cut\.gguf: file is truncated/);
    await expect(readControlVectorGguf(path.join(dir, 'absent.gguf'))).rejects.toThrow(PersonaFileError);
  });
});
