import { describe, expect, it } from 'vitest';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { normalizeConfig } from '../../src/model/config/loadConfig.js';
import { GOLDENS, REFERENCE } from '../helpers/paths.js';

const read = async (p: string) => JSON.parse(await fs.readFile(p, 'utf8'));

describe('config normalisation', () => {
  it("reads Qwen3-0.6B's published config (rope_theta layout)", async () => {
    const c = normalizeConfig(await read(path.join(REFERENCE, 'qwen3-0.6b.config.json')));
    expect(c).toMatchObject({ architecture: 'qwen3', hiddenSize: 1024, numHiddenLayers: 28, headDim: 128, numKeyValueHeads: 8, qkNorm: true, tieWordEmbeddings: true });
    expect(c.rope.full_attention).toMatchObject({ theta: 1_000_000, type: 'default' });
  });

  it('reads the transformers-5 rope_parameters layout, llama3 scaling and Gemma 3 per-layer-type rope', async () => {
    const llama = normalizeConfig(await read(path.join(GOLDENS, 'llama', 'config.json')));
    expect(llama.rope.full_attention).toMatchObject({ type: 'llama3', factor: 8, originalMaxPositionEmbeddings: 16, theta: 10000 });
    const gemma = normalizeConfig(await read(path.join(GOLDENS, 'gemma3', 'config.json')));
    expect(gemma).toMatchObject({ normWeightOffset: 1, embeddingScale: 8, sandwichNorms: true, slidingWindow: 4, hiddenAct: 'gelu_tanh' });
    expect(gemma.rope.sliding_attention.theta).toBe(10000);
    expect(gemma.rope.full_attention.theta).toBe(1_000_000);
    expect(gemma.attentionScale).toBeCloseTo(32 ** -0.5);
  });

  it('treats mistral as llama and reads the old Gemma 3 layout', () => {
    const m = normalizeConfig({ model_type: 'mistral', hidden_size: 64, intermediate_size: 128, num_hidden_layers: 2, num_attention_heads: 4, num_key_value_heads: 2, vocab_size: 10, rope_theta: 1e6, sliding_window: 4096 });
    expect(m.architecture).toBe('llama');
    expect(m.layerTypes).toEqual(['sliding_attention', 'sliding_attention']);
    const g = normalizeConfig({ model_type: 'gemma3_text', hidden_size: 64, intermediate_size: 128, num_hidden_layers: 6, num_attention_heads: 4, num_key_value_heads: 1, head_dim: 16, vocab_size: 10, rope_theta: 1e6, rope_local_base_freq: 1e4, sliding_window: 512, sliding_window_pattern: 6, rope_scaling: { rope_type: 'linear', factor: 8 } });
    expect(g.layerTypes).toEqual(['sliding_attention', 'sliding_attention', 'sliding_attention', 'sliding_attention', 'sliding_attention', 'full_attention']);
    expect(g.rope.full_attention).toMatchObject({ type: 'linear', factor: 8, theta: 1e6 });
    expect(g.rope.sliding_attention).toMatchObject({ type: 'default', theta: 1e4 });
  });

  it('rejects an unsupported model_type and lists the supported ones', () => {
    expect(() => normalizeConfig({ model_type: 'gpt2' })).toThrow(/model_type "gpt2" is not supported. Supported model types: qwen3, qwen2, llama, mistral, gemma3_text/);
  });
});
