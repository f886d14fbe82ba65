import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { InvalidArgumentError, UnsupportedModelError } from '../../../src/errors.js';
import {
  GGML_BLOCK,
  ggmlTensorBytes,
  ggufFileSize,
  randomGgufBytes,
  streamGguf,
  writeRandomGguf,
  type GgufWeightType,
} from '../../../src/bench/llamaCpp/index.js';
import { GGML_TYPE, alignOffset, decodeGguf, ggufTensorFloat32, type GgufFile, type GgufValue } from '../../../src/gguf/index.js';
import { REFERENCE } from '../../helpers/paths.js';
import { TINY_QWEN3 } from './tinyConfig.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'persona-gguf-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const GGML_ID: Record<GgufWeightType, number> = { f32: GGML_TYPE.F32, f16: GGML_TYPE.F16, q8_0: GGML_TYPE.Q8_0, q4_0: GGML_TYPE.Q4_0 };

function meta(g: GgufFile, key: string): unknown {
  const v = g.metadata.get(key);
  if (!v) return undefined;
  return v.type === 'array' ? v.value.map((x: GgufValue) => x.value) : v.value;
}

function expectedTensors(layers: number, opts: { qkNorm: boolean; bias: boolean; tied: boolean }, H = 64, D = 16, heads = 4, kvHeads = 2, I = 128, V = 300) {
  const q = heads * D;
  const kv = kvHeads * D;
  const t: { name: string; dims: number[]; matrix: boolean }[] = [{ name: 'token_embd.weight', dims: [H, V], matrix: true }];
  for (let l = 0; l < layers; l++) {
    const b = `blk.${l}`;
    t.push({ name: `${b}.attn_norm.weight`, dims: [H], matrix: false });
    t.push(
      { name: `${b}.attn_q.weight`, dims: [H, q], matrix: true },
      { name: `${b}.attn_k.weight`, dims: [H, kv], matrix: true },
      { name: `${b}.attn_v.weight`, dims: [H, kv], matrix: true },
    );
    if (opts.bias)
      t.push(
        { name: `${b}.attn_q.bias`, dims: [q], matrix: false },
        { name: `${b}.attn_k.bias`, dims: [kv], matrix: false },
        { name: `${b}.attn_v.bias`, dims: [kv], matrix: false },
      );
    t.push({ name: `${b}.attn_output.weight`, dims: [q, H], matrix: true });
    if (opts.qkNorm) t.push({ name: `${b}.attn_q_norm.weight`, dims: [D], matrix: false }, { name: `${b}.attn_k_norm.weight`, dims: [D], matrix: false });
    t.push({ name: `${b}.ffn_norm.weight`, dims: [H], matrix: false });
    t.push(
      { name: `${b}.ffn_gate.weight`, dims: [H, I], matrix: true },
      { name: `${b}.ffn_up.weight`, dims: [H, I], matrix: true },
      { name: `${b}.ffn_down.weight`, dims: [I, H], matrix: true },
    );
  }
  t.push({ name: 'output_norm.weight', dims: [H], matrix: false });
  if (!opts.tied) t.push({ name: 'output.weight', dims: [H, V], matrix: true });
  return t;
}

describe('writeRandomGguf', () => {
  for (const type of ['f32', 'f16', 'q8_0', 'q4_0'] as const) {
    it(`writes a tiny qwen3 ${type} GGUF that the project's decoder parses, with llama.cpp's tensor names, shapes, types and sizes`, async () => {
      const file = path.join(dir, `tiny-${type}.gguf`);
      const info = await writeRandomGguf(file, TINY_QWEN3, type, { seed: 3 });
      const bytes = readFileSync(file);
      expect(info.bytes).toBe(bytes.byteLength);
      expect(randomGgufBytes(TINY_QWEN3, type)).toBe(bytes.byteLength);
      const g = decodeGguf(bytes, path.basename(file));
      expect(g.version).toBe(3);

      // Architecture metadata llama.cpp's qwen3 loader reads.
      expect(meta(g, 'general.architecture')).toBe('qwen3');
      expect(meta(g, 'general.file_type')).toBe({ f32: 0, f16: 1, q4_0: 2, q8_0: 7 }[type]);
      expect(meta(g, 'qwen3.block_count')).toBe(2);
      expect(meta(g, 'qwen3.context_length')).toBe(512);
      expect(meta(g, 'qwen3.embedding_length')).toBe(64);
      expect(meta(g, 'qwen3.feed_forward_length')).toBe(128);
      expect(meta(g, 'qwen3.attention.head_count')).toBe(4);
      expect(meta(g, 'qwen3.attention.head_count_kv')).toBe(2);
      expect(meta(g, 'qwen3.attention.key_length')).toBe(16);
      expect(meta(g, 'qwen3.attention.value_length')).toBe(16);
      expect(meta(g, 'qwen3.rope.freq_base')).toBe(1000000);
      expect(meta(g, 'qwen3.attention.layer_norm_rms_epsilon')).toBeCloseTo(1e-6, 12);
      expect(meta(g, 'qwen3.vocab_size')).toBe(300);

      // A gpt2 (byte-level BPE) tokenizer of exactly vocab_size tokens.
      expect(meta(g, 'tokenizer.ggml.model')).toBe('gpt2');
      const tokens = meta(g, 'tokenizer.ggml.tokens') as string[];
      const types = meta(g, 'tokenizer.ggml.token_type') as number[];
      expect(tokens).toHaveLength(300);
      expect(new Set(tokens).size).toBe(300);
      expect(types).toHaveLength(300);
      expect(tokens[0x41]).toBe('A');
      expect(tokens[0x20]).toBe('Ġ'); // GPT-2's byte alphabet: space is U+0120
      const merges = meta(g, 'tokenizer.ggml.merges') as string[];
      expect(merges.length).toBeGreaterThan(0);
      for (const m of merges) {
        const [a, b] = m.split(' ');
        expect(tokens).toContain(a);
        expect(tokens).toContain(a + b);
      }
      expect(meta(g, 'tokenizer.ggml.bos_token_id')).toBe(297);
      expect(meta(g, 'tokenizer.ggml.eos_token_id')).toBe(299);
      expect(types[297]).toBe(3);
      expect(types[299]).toBe(3);
      expect(tokens[299]).toBe('<|im_end|>');

      // Tensors: llama.cpp's names and ggml-order shapes; tied embeddings have no output.weight.
      const want = expectedTensors(2, { qkNorm: true, bias: false, tied: true });
      expect(g.tensors.map((t) => t.name)).toEqual(want.map((t) => t.name));
      let offset = 0;
      for (const [i, t] of g.tensors.entries()) {
        expect(t.dims, t.name).toEqual(want[i].dims);
        expect(t.type, t.name).toBe(want[i].matrix ? GGML_ID[type] : GGML_TYPE.F32);
        expect(t.offset, t.name).toBe(offset);
        const size = ggmlTensorBytes(t.type, t.dims);
        if (t.byteLength !== undefined) expect(size).toBe(t.byteLength);
        offset = alignOffset(offset + size, g.alignment);
      }
      expect(g.dataOffset + offset).toBe(bytes.byteLength);

      // Values: norms are 1; F32 matrices small, finite and of both signs.
      const norm = ggufTensorFloat32(
        g,
        g.tensors.find((t) => t.name === 'blk.1.attn_q_norm.weight')!,
      );
      expect(Array.from(norm)).toEqual(new Array(16).fill(1));
      const embd = g.tensors[0];
      const start = g.dataOffset + embd.offset;
      if (type === 'f32') {
        const v = ggufTensorFloat32(g, embd);
        expect(v.every((x) => Math.abs(x) >= 2 ** -7 && Math.abs(x) < 2 ** -6)).toBe(true);
        expect(v.some((x) => x < 0) && v.some((x) => x > 0)).toBe(true);
      } else if (type === 'f16') {
        const h = new Uint16Array(bytes.buffer.slice(bytes.byteOffset + start, bytes.byteOffset + start + 64 * 300 * 2));
        expect(h.every((x) => ((x >> 10) & 0x1f) === 8)).toBe(true); // exponent -7: |x| in [2^-7, 2^-6)
      } else {
        // Each block starts with its f16 scale: 0.02/127 (q8_0) or 0.02/8 (q4_0).
        const block = GGML_BLOCK[GGML_ID[type]]!;
        const dv = new DataView(bytes.buffer, bytes.byteOffset + start);
        const scale = type === 'q8_0' ? 0.02 / 127 : 0.02 / 8;
        const blocks = (64 * 300) / 32;
        const f16 = (h: number): number => 2 ** (((h >> 10) & 0x1f) - 15) * (1 + (h & 0x3ff) / 1024);
        for (let b = 0; b < blocks; b++) expect(Math.abs(f16(dv.getUint16(b * block.bytes, true)) / scale - 1)).toBeLessThan(1e-3);
        const quants = bytes.subarray(start + 2, start + block.bytes);
        expect(new Set(quants).size).toBeGreaterThan(4);
      }
    });
  }

  it('gives the same bytes for the same seed and different bytes for another', async () => {
    const hash = (f: string): string => createHash('sha256').update(readFileSync(f)).digest('hex');
    const a = path.join(dir, 'seed-a.gguf');
    const b = path.join(dir, 'seed-b.gguf');
    const c = path.join(dir, 'seed-c.gguf');
    await writeRandomGguf(a, TINY_QWEN3, 'q4_0', { seed: 9 });
    await writeRandomGguf(b, TINY_QWEN3, 'q4_0', { seed: 9 });
    await writeRandomGguf(c, TINY_QWEN3, 'q4_0', { seed: 10 });
    expect(hash(a)).toBe(hash(b));
    expect(hash(a)).not.toBe(hash(c));
  });

  it('writes qwen2 (attention biases) and llama (untied output) layouts', async () => {
    const qwen2 = { ...TINY_QWEN3, model_type: 'qwen2', head_dim: undefined, num_attention_heads: 4, tie_word_embeddings: true };
    const f2 = path.join(dir, 'tiny-qwen2.gguf');
    await writeRandomGguf(f2, qwen2, 'q8_0');
    const g2 = decodeGguf(readFileSync(f2));
    expect(meta(g2, 'general.architecture')).toBe('qwen2');
    expect(g2.tensors.map((t) => t.name)).toEqual(expectedTensors(2, { qkNorm: false, bias: true, tied: true }).map((t) => t.name));
    expect(g2.tensors.find((t) => t.name === 'blk.0.attn_k.bias')!.dims).toEqual([32]);

    const llama = { ...TINY_QWEN3, model_type: 'llama', head_dim: undefined, tie_word_embeddings: false };
    const f3 = path.join(dir, 'tiny-llama.gguf');
    await writeRandomGguf(f3, llama, 'f16');
    const g3 = decodeGguf(readFileSync(f3));
    expect(meta(g3, 'general.architecture')).toBe('llama');
    expect(meta(g3, 'llama.rope.dimension_count')).toBe(16);
    const names = g3.tensors.map((t) => t.name);
    expect(names).toEqual(expectedTensors(2, { qkNorm: false, bias: false, tied: false }).map((t) => t.name));
    expect(g3.tensors.at(-1)!.dims).toEqual([64, 300]);
  });

  it('sizes the Qwen3-0.6B files without writing them', () => {
    const config = JSON.parse(readFileSync(path.join(REFERENCE, 'qwen3-0.6b.config.json'), 'utf8'));
    const matrices = 595_984_384; // the reference file's count (tied embedding once)
    const f32 = randomGgufBytes(config, 'f32');
    const q4 = randomGgufBytes(config, 'q4_0');
    expect(f32).toBeGreaterThan(matrices * 4);
    expect(f32).toBeLessThan(matrices * 4 + 8e6);
    expect(q4).toBeGreaterThan((matrices / 32) * 18);
    expect(q4).toBeLessThan((matrices / 32) * 18 + 8e6);
  });

  it('refuses unknown types, unsupported architectures and shapes a quantised type cannot store', async () => {
    const f = path.join(dir, 'bad.gguf');
    await expect(writeRandomGguf(f, TINY_QWEN3, 'q5_k' as GgufWeightType)).rejects.toThrow(InvalidArgumentError);
    await expect(writeRandomGguf(f, { ...TINY_QWEN3, model_type: 'gemma3' }, 'f32')).rejects.toThrow(UnsupportedModelError);
    await expect(writeRandomGguf(f, { ...TINY_QWEN3, intermediate_size: 100 }, 'q4_0')).rejects.toThrow(/multiple of 32/);
    await expect(writeRandomGguf(f, { ...TINY_QWEN3, vocab_size: 200 }, 'f32')).rejects.toThrow(/too small/);
    expect(readdirSync(dir).filter((n) => n.startsWith('bad') || n.startsWith('.bad'))).toEqual([]);
  });
});

describe('streamGguf', () => {
  it('leaves no file, not even a temp file, when writing fails part way', async () => {
    const sub = mkdtempSync(path.join(dir, 'fail-'));
    const target = path.join(sub, 'broken.gguf');
    let calls = 0;
    const file = {
      metadata: new Map<string, GgufValue>([['general.architecture', { type: 'string', value: 'x' }]]),
      tensors: [
        {
          name: 'big',
          dims: [1 << 20],
          type: GGML_TYPE.F32,
          fill: () => {
            if (++calls === 2) throw new Error('disk on fire');
          },
        },
      ],
    };
    await expect(streamGguf(target, file, { chunkBytes: 1 << 16 })).rejects.toThrow('disk on fire');
    expect(readdirSync(sub)).toEqual([]);
  });

  it('streams in chunks that hold whole blocks and reports byte progress up to the file size', async () => {
    const target = path.join(dir, 'chunks.gguf');
    const seen: number[] = [];
    const tensor = {
      name: 'q',
      dims: [32 * 1000, 3],
      type: GGML_TYPE.Q8_0,
      fill: (buf: Uint8Array, at: number) => {
        expect(at % 34).toBe(0);
        seen.push(buf.byteLength);
        buf.fill(0);
      },
    };
    const file = { metadata: new Map<string, GgufValue>(), tensors: [tensor] };
    const done: number[] = [];
    const { bytes } = await streamGguf(target, file, { chunkBytes: 1 << 16, onProgress: (e) => done.push(e.done) });
    expect(seen.slice(0, -1).every((n) => n % 34 === 0 && n % 4 === 0)).toBe(true);
    expect(seen.reduce((a, b) => a + b, 0)).toBe(34 * 1000 * 3);
    expect(done.at(-1)).toBe(bytes);
    expect(bytes).toBe(ggufFileSize(file));
    expect(readFileSync(target).byteLength).toBe(bytes);
    const g = decodeGguf(readFileSync(target));
    expect(g.tensors[0]).toMatchObject({ name: 'q', dims: [32000, 3], type: GGML_TYPE.Q8_0, offset: 0 });
  });
});
