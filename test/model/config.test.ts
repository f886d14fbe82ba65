import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ModelFileError } from '../../src/errors.js';
import { loadConfig, normalizeConfig } from '../../src/model/loadConfig.js';
import { GOLDENS, REFERENCE } from '../helpers/paths.js';

const read = async (p: string) => JSON.parse(await fs.readFile(p, 'utf8'));

describe('config normalisation', () => {
  it("reads Qwen3-0.6B's published config (rope_theta layout)", async () => {
    const c = normalizeConfig(await read(path.join(REFERENCE, 'qwen3-0.6b.config.json')));
    expect(c).toMatchObject({
      architecture: 'qwen3',
      hiddenSize: 1024,
      numHiddenLayers: 28,
      headDim: 128,
      numKeyValueHeads: 8,
      qkNorm: true,
      tieWordEmbeddings: true,
    });
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
    const m = normalizeConfig({
      model_type: 'mistral',
      hidden_size: 64,
      intermediate_size: 128,
      num_hidden_layers: 2,
      num_attention_heads: 4,
      num_key_value_heads: 2,
      vocab_size: 10,
      rope_theta: 1e6,
      sliding_window: 4096,
    });
    expect(m.architecture).toBe('llama');
    expect(m.layerTypes).toEqual(['sliding_attention', 'sliding_attention']);
    const g = normalizeConfig({
      model_type: 'gemma3_text',
      hidden_size: 64,
      intermediate_size: 128,
      num_hidden_layers: 6,
      num_attention_heads: 4,
      num_key_value_heads: 1,
      head_dim: 16,
      vocab_size: 10,
      rope_theta: 1e6,
      rope_local_base_freq: 1e4,
      sliding_window: 512,
      sliding_window_pattern: 6,
      rope_scaling: { rope_type: 'linear', factor: 8 },
    });
    expect(g.layerTypes).toEqual(['sliding_attention', 'sliding_attention', 'sliding_attention', 'sliding_attention', 'sliding_attention', 'full_attention']);
    expect(g.rope.full_attention).toMatchObject({ type: 'linear', factor: 8, theta: 1e6 });
    expect(g.rope.sliding_attention).toMatchObject({ type: 'default', theta: 1e4 });
  });

  it('rejects an unsupported model_type and lists the supported ones', () => {
    expect(() => normalizeConfig({ model_type: 'gpt2' })).toThrow(
      /model_type "gpt2" is not supported. Supported model types: qwen3, qwen2, llama, mistral, gemma3_text/,
    );
  });
});

describe('config validation', () => {
  const base = {
    model_type: 'qwen3',
    hidden_size: 64,
    intermediate_size: 128,
    num_hidden_layers: 2,
    num_attention_heads: 4,
    num_key_value_heads: 2,
    head_dim: 16,
    vocab_size: 100,
    max_position_embeddings: 256,
    rope_theta: 1e6,
    rms_norm_eps: 1e-6,
  };
  const bad: [string, Record<string, unknown>, RegExp][] = [
    ['num_hidden_layers 1e9', { num_hidden_layers: 1e9 }, /"num_hidden_layers" is 1000000000; this toolkit accepts at most 1024/],
    ['max_position_embeddings 1e9', { max_position_embeddings: 1e9 }, /"max_position_embeddings" is 1000000000; this toolkit accepts at most/],
    ['head_dim 127.5', { head_dim: 127.5 }, /"head_dim" is 127.5; a whole number was expected/],
    ['an odd head_dim', { head_dim: 15 }, /"head_dim" is 15; rotary embeddings need an even head size/],
    ['rope factor 0', { rope_scaling: { rope_type: 'linear', factor: 0 } }, /"rope_scaling.factor" is 0; it must be greater than 0/],
    ['rope_theta 0', { rope_theta: 0 }, /"rope_theta" is 0; it must be greater than 0/],
    ['a negative rope_theta', { rope_theta: -5 }, /"rope_theta" is -5; it must be greater than 0/],
    ['a negative rms_norm_eps', { rms_norm_eps: -1e-6 }, /"rms_norm_eps" is -0.000001; it must be greater than 0/],
    ['zero layers', { num_hidden_layers: 0 }, /"num_hidden_layers" is 0; it must be at least 1/],
    ['a string vocab size', { vocab_size: '100' }, /"vocab_size" is "100"; a whole number was expected/],
    [
      'a hidden size that heads do not divide (no head_dim)',
      { hidden_size: 66, head_dim: undefined },
      /"hidden_size" \(66\) is not a multiple of num_attention_heads \(4\)/,
    ],
    ['more kv heads than heads', { num_key_value_heads: 8 }, /"num_key_value_heads" is 8; this toolkit accepts at most 4/],
    [
      'heads not a multiple of kv heads',
      { num_attention_heads: 6, num_key_value_heads: 4, hidden_size: 96 },
      /num_attention_heads" \(6\) must be a multiple of num_key_value_heads \(4\)/,
    ],
    [
      'llama3 high_freq_factor below low_freq_factor',
      { rope_scaling: { rope_type: 'llama3', factor: 8, low_freq_factor: 4, high_freq_factor: 4 } },
      /"rope_scaling.high_freq_factor" is 4; it must be greater than 4/,
    ],
    ['a fractional eos id', { eos_token_id: [1, 2.5] }, /"eos_token_id" holds 2.5/],
    ['layer_types of the wrong length', { layer_types: ['full_attention'] }, /"layer_types" lists 1 layers but num_hidden_layers is 2/],
    [
      'an unknown layer type',
      { layer_types: ['full_attention', 'linear_attention'] },
      /"layer_types\[1\]" is "linear_attention"; supported: full_attention, sliding_attention/,
    ],
    [
      'sliding layers without a window',
      { layer_types: ['sliding_attention', 'full_attention'] },
      /"layer_types" has sliding_attention layers but there is no "sliding_window"/,
    ],
  ];
  for (const [what, patch, message] of bad) {
    it(`refuses ${what} with an error naming the key and the file`, () => {
      const raw = { ...base, ...patch };
      expect(() => normalizeConfig(raw, '/models/x/config.json')).toThrow(ModelFileError);
      expect(() => normalizeConfig(raw, '/models/x/config.json')).toThrow(new RegExp(`^/models/x/config\\.json: .*${message.source}`));
    });
  }

  it('names a value nested 100,000 deep without overflowing the stack', () => {
    let deep: unknown = 1;
    for (let i = 0; i < 100_000; i++) deep = [deep];
    expect(() => normalizeConfig({ ...base, hidden_size: deep }, 'deep/config.json')).toThrow(
      /^deep\/config\.json: "hidden_size" is an array of 1 item; a whole number was expected/,
    );
    expect(() => normalizeConfig({ ...base, rope_scaling: { rope_type: deep } }, 'deep/config.json')).toThrow(
      /deep\/config.json: rope type "an array of 1 item" is not supported/,
    );
  });

  it('accepts the valid base config', () => {
    expect(normalizeConfig(base).numHiddenLayers).toBe(2);
  });

  it('loadConfig names the file it read, and says why it could not read it', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'pv-cfg-'));
    await fs.writeFile(path.join(dir, 'config.json'), JSON.stringify({ ...base, head_dim: 127.5 }));
    await expect(loadConfig(dir)).rejects.toThrow(`${path.join(dir, 'config.json')}: "head_dim" is 127.5`);
    await fs.rm(path.join(dir, 'config.json'));
    await fs.mkdir(path.join(dir, 'config.json'));
    await expect(loadConfig(dir)).rejects.toThrow(/config\.json is not a regular file/);
    await fs.rm(path.join(dir, 'config.json'), { recursive: true });
    await fs.writeFile(path.join(dir, 'config.json'), JSON.stringify(base));
    await fs.writeFile(path.join(dir, 'generation_config.json'), '{not json');
    await expect(loadConfig(dir)).rejects.toThrow(/generation_config\.json is not valid JSON/);
    await fs.rm(path.join(dir, 'generation_config.json'));
    execFileSync('mkfifo', [path.join(dir, 'generation_config.json')]);
    await expect(loadConfig(dir)).rejects.toThrow(/generation_config\.json is not a regular file/);
    await fs.rm(path.join(dir, 'config.json'));
    execFileSync('mkfifo', [path.join(dir, 'config.json')]);
    await expect(loadConfig(dir)).rejects.toThrow(/config\.json is not a regular file/);
  });
});
