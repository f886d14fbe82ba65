import { promises as fs } from 'node:fs';
import path from 'node:path';
import { specOf } from '../model/architectures/index.js';
import { tensorPlan } from '../model/architectures/tensorPlan.js';
import { normalizeConfig } from '../model/loadConfig.js';
import { atomicWrite, tempPathFor } from '../util/atomicWrite.js';
import type { ProgressCallback } from '../util/progress.js';
import { seededWords } from '../util/random.js';

/**
 * The tensors of a checkpoint for a config, with their checkpoint names and shapes: its
 * architecture's tensor plan (q/k/v biases when the config has attention biases, no output layer
 * when tied).
 */
export function checkpointTensors(raw: Record<string, unknown>): { name: string; shape: number[]; norm: boolean }[] {
  const c = normalizeConfig(raw);
  return tensorPlan(c, specOf(c).tensors).flatMap((t) => {
    if (t.kind === 'output' && c.tieWordEmbeddings) return [];
    const biases = c.attentionBias && t.name.endsWith('.attn.qkv') ? t.biases : [];
    return [...t.parts, ...biases].map((p) => ({ name: p.name, shape: p.shape, norm: t.kind === 'norm' }));
  });
}

/**
 * Writes a model folder with random bf16 weights in a config's exact shape (config.json +
 * model.safetensors), streamed to disk — for benchmarks, where speed does not depend on values.
 * Reused when already present for the same config.
 *
 * @example await writeRandomCheckpoint('/tmp/qwen3-0.6b-random', qwen3Config);
 */
export async function writeRandomCheckpoint(
  dir: string,
  raw: Record<string, unknown>,
  opts: { seed?: number; onProgress?: ProgressCallback } = {},
): Promise<string> {
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
