import { promises as fs } from 'node:fs';
import path from 'node:path';
import { normalizeConfig } from '../model/config/loadConfig.js';
import { atomicWrite, tempPathFor } from '../util/atomicWrite.js';
import type { ProgressCallback } from '../util/progress.js';
import { seededWords } from '../util/random.js';

/** The tensors of a Llama-family checkpoint for a config, with their HF names and shapes. */
export function checkpointTensors(raw: Record<string, unknown>): { name: string; shape: number[]; norm: boolean }[] {
  const c = normalizeConfig(raw);
  const H = c.hiddenSize;
  const q = c.numAttentionHeads * c.headDim;
  const kv = c.numKeyValueHeads * c.headDim;
  const I = c.intermediateSize;
  const t: { name: string; shape: number[]; norm: boolean }[] = [{ name: 'model.embed_tokens.weight', shape: [c.vocabSize, H], norm: false }];
  for (let l = 0; l < c.numHiddenLayers; l++) {
    const p = `model.layers.${l}`;
    t.push({ name: `${p}.input_layernorm.weight`, shape: [H], norm: true });
    t.push({ name: `${p}.post_attention_layernorm.weight`, shape: [H], norm: true });
    if (c.sandwichNorms) {
      t.push({ name: `${p}.pre_feedforward_layernorm.weight`, shape: [H], norm: true });
      t.push({ name: `${p}.post_feedforward_layernorm.weight`, shape: [H], norm: true });
    }
    if (c.qkNorm) {
      t.push({ name: `${p}.self_attn.q_norm.weight`, shape: [c.headDim], norm: true });
      t.push({ name: `${p}.self_attn.k_norm.weight`, shape: [c.headDim], norm: true });
    }
    t.push({ name: `${p}.self_attn.q_proj.weight`, shape: [q, H], norm: false });
    t.push({ name: `${p}.self_attn.k_proj.weight`, shape: [kv, H], norm: false });
    t.push({ name: `${p}.self_attn.v_proj.weight`, shape: [kv, H], norm: false });
    if (c.attentionBias) for (const [n, d] of [['q', q], ['k', kv], ['v', kv]] as const) t.push({ name: `${p}.self_attn.${n}_proj.bias`, shape: [d], norm: false });
    t.push({ name: `${p}.self_attn.o_proj.weight`, shape: [H, q], norm: false });
    t.push({ name: `${p}.mlp.gate_proj.weight`, shape: [I, H], norm: false });
    t.push({ name: `${p}.mlp.up_proj.weight`, shape: [I, H], norm: false });
    t.push({ name: `${p}.mlp.down_proj.weight`, shape: [H, I], norm: false });
  }
  t.push({ name: 'model.norm.weight', shape: [H], norm: true });
  if (!c.tieWordEmbeddings) t.push({ name: 'lm_head.weight', shape: [c.vocabSize, H], norm: false });
  return t;
}

/**
 * Writes a model folder with random bf16 weights in a config's exact shape (config.json +
 * model.safetensors), streamed to disk — for benchmarks, where speed does not depend on values.
 * Reused when already present for the same config.
 *
 * @example await writeRandomCheckpoint('/tmp/qwen3-0.6b-random', qwen3Config);
 */
export async function writeRandomCheckpoint(dir: string, raw: Record<string, unknown>, opts: { seed?: number; onProgress?: ProgressCallback } = {}): Promise<string> {
  await fs.mkdir(dir, { recursive: true });
  const configText = JSON.stringify({ ...raw, torch_dtype: 'bfloat16' }, null, 1);
  const weights = path.join(dir, 'model.safetensors');
  try {
    if ((await fs.readFile(path.join(dir, 'config.json'), 'utf8')) === configText && (await fs.stat(weights)).size > 0) return dir;
  } catch {
    // not there yet
  }
  const tensors = checkpointTensors(raw);
  const header: Record<string, unknown> = { __metadata__: { format: 'pt', note: 'random weights for benchmarks' } };
  let offset = 0;
  for (const t of tensors) {
    const bytes = t.shape.reduce((a, b) => a * b, 1) * 2;
    header[t.name] = { dtype: 'BF16', shape: t.shape, data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  let json = JSON.stringify(header);
  while ((8 + json.length) % 8) json += ' ';
  const tmp = tempPathFor(weights);
  const fh = await fs.open(tmp, 'w');
  try {
    const lenBuf = Buffer.alloc(8);
    lenBuf.writeBigUInt64LE(BigInt(json.length));
    await fh.write(lenBuf);
    await fh.write(Buffer.from(json));
    const next = seededWords(opts.seed ?? 1);
    const chunk = new Uint16Array(1 << 20);
    let done = 0;
    for (const t of tensors) {
      let left = t.shape.reduce((a, b) => a * b, 1);
      while (left > 0) {
        const n = Math.min(left, chunk.length);
        for (let i = 0; i < n; i++) {
          if (t.norm) {
            chunk[i] = 0x3f80; // 1.0
          } else {
            const s = next();
            // sign, exponent 2^-7..2^-6, random mantissa: |w| in [0.008, 0.03)
            chunk[i] = ((s >>> 31) << 15) | ((0x78 + ((s >>> 7) & 1)) << 7) | (s & 0x7f);
          }
        }
        await fh.write(new Uint8Array(chunk.buffer, 0, n * 2));
        left -= n;
        done += n * 2;
        opts.onProgress?.({ phase: 'random weights', done, total: offset, unit: 'bytes' });
      }
    }
    await fh.close();
    await fs.rename(tmp, weights);
  } catch (err) {
    await fh.close().catch(() => {});
    await fs.rm(tmp, { force: true });
    throw err;
  }
  await atomicWrite(path.join(dir, 'config.json'), configText);
  return dir;
}
