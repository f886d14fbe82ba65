import { describe, expect, it } from 'vitest';
import { promises as fs, readdirSync, readFileSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ensureConverted } from '../../src/engine/convert/convertWeights.js';
import { ARCHITECTURES, SUPPORTED_MODEL_TYPES, specOf } from '../../src/model/architectures/index.js';
import { LLAMA_TENSORS } from '../../src/model/architectures/common.js';
import { TENSOR_NAMES, tensorPlan } from '../../src/model/architectures/tensorPlan.js';
import { loadConfig } from '../../src/model/loadConfig.js';
import { ModelWeights } from '../../src/model/safetensors/ModelWeights.js';
import { GOLDENS, ROOT } from '../helpers/paths.js';

/** Every checkpoint module name an architecture's table holds, without its block prefix (`self_attn.q_proj`, `model.norm`). */
function checkpointModules(): string[] {
  const names = new Set<string>();
  for (const a of ARCHITECTURES) {
    const { block, ...top } = a.tensors;
    for (const t of [...Object.values(top), ...Object.values(block).flat()]) if (typeof t === 'string') names.add(t.split('{l}.').pop()!);
  }
  return [...names];
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = path.join(dir, f);
    return statSync(p).isDirectory() ? sourceFiles(p) : p.endsWith('.ts') ? [p] : [];
  });
}

describe('the architecture registry', () => {
  it('serves each model_type from one spec and names each spec once', () => {
    expect(new Set(SUPPORTED_MODEL_TYPES).size).toBe(SUPPORTED_MODEL_TYPES.length);
    expect(new Set(ARCHITECTURES.map((a) => a.name)).size).toBe(ARCHITECTURES.length);
  });

  it.each(ARCHITECTURES.map((a) => a.name))('plans exactly the tensors of the %s golden checkpoint', async (name) => {
    const dir = path.join(GOLDENS, name);
    const config = await loadConfig(dir);
    const weights = await ModelWeights.open(dir);
    const read = tensorPlan(config, specOf(config).tensors)
      .flatMap((t) => [...t.parts, ...t.biases].map((p) => p.name))
      .filter((n) => weights.has(n));
    expect(read.sort()).toEqual([...weights.tensors.keys()].sort());
  });

  it('plans a checkpoint that stores q/k/v and gate/up fused as one module each', async () => {
    const config = await loadConfig(path.join(GOLDENS, 'qwen2'));
    const fused = {
      ...LLAMA_TENSORS,
      block: { ...LLAMA_TENSORS.block, qkv: ['model.layers.{l}.self_attn.qkv_proj'], gateUp: ['model.layers.{l}.mlp.gate_up_proj'] },
    };
    const plan = tensorPlan(config, fused);
    const qkv = plan.find((t) => t.name === TENSOR_NAMES.block(1).qkv)!;
    const D = config.headDim;
    expect(qkv.parts).toEqual([
      { name: 'model.layers.1.self_attn.qkv_proj.weight', shape: [(config.numAttentionHeads + 2 * config.numKeyValueHeads) * D, config.hiddenSize] },
    ]);
    expect(qkv.biases.map((b) => b.name)).toEqual(['model.layers.1.self_attn.qkv_proj.bias']);
    expect(plan.find((t) => t.name === TENSOR_NAMES.block(0).gateUp)!.parts[0].shape).toEqual([2 * config.intermediateSize, config.hiddenSize]);
  });

  it('converts into the engine role names only (f32 and q4)', async () => {
    const cacheRoot = await fs.mkdtemp(path.join(os.tmpdir(), 'pv-arch-'));
    try {
      for (const name of ['qwen3', 'gemma3']) {
        const dir = path.join(GOLDENS, name);
        for (const precision of ['f32', 'q4'] as const) {
          const { manifest } = await ensureConverted(dir, await ModelWeights.open(dir), await loadConfig(dir), precision, { cacheRoot });
          const names = [...Object.keys(manifest.tensors), ...Object.keys(manifest.linears)];
          expect(names.filter((n) => !/^(embed|final_norm|lm_head|blocks\.\d+)\./.test(n) && n !== TENSOR_NAMES.lmHead)).toEqual([]);
          expect(names).toContain(`${TENSOR_NAMES.block(0).qkv}${precision === 'f32' ? '.weight' : '.qweight'}`);
        }
      }
    } finally {
      await fs.rm(cacheRoot, { recursive: true, force: true });
    }
  });

  it('leaves checkpoint tensor names to the specs: no file under src/engine names one', () => {
    const modules = checkpointModules();
    expect(modules).toContain('self_attn.q_proj');
    const named = sourceFiles(path.join(ROOT, 'src', 'engine')).flatMap((f) => {
      const text = readFileSync(f, 'utf8');
      return modules.filter((m) => text.includes(m)).map((m) => `${path.relative(ROOT, f)}: ${m}`);
    });
    expect(named).toEqual([]);
  });
});
