import type { ModelConfig } from '../config/ModelConfig.js';

/**
 * Where each tensor the engine reads sits in the checkpoint: module names as the checkpoint spells
 * them (`.weight` and `.bias` are appended), `{l}` standing for the block index. A list is fused by
 * the converter (rows stacked in order): q, k, v into one projection and gate, up into another; a
 * checkpoint that stores them fused already names one module. Optional roles are read only when a
 * feature asks for them (`qNorm`/`kNorm` with `qkNorm`, `attnOutNorm`/`mlpOutNorm` with
 * `sandwichNorms`).
 */
export interface TensorTable {
  embed: string;
  finalNorm: string;
  /** The output layer; absent from the checkpoint (or tied) means the embedding table. */
  lmHead: string;
  block: {
    /** Before attention. */
    attnNorm: string;
    qNorm?: string;
    kNorm?: string;
    /** q, k, v (fused), or one fused qkv module. */
    qkv: string[];
    o: string;
    /** On the attention output, before its residual add. */
    attnOutNorm?: string;
    /** Before the MLP. */
    mlpNorm: string;
    /** gate, up (fused), or one fused gate_up module. */
    gateUp: string[];
    down: string;
    /** On the MLP output, before its residual add. */
    mlpOutNorm?: string;
  };
}

type BlockRole = keyof TensorTable['block'];

/**
 * The engine's names for the tensors it reads, the same for every architecture: the converter
 * writes them, the graph builder reads them, and only the spec's `TensorTable` knows the
 * checkpoint's names. Stored tensors are `${name}.weight` (and `.bias`; `.qweight`/`.scales` when
 * quantised).
 *
 * @example TENSOR_NAMES.block(3).qkv; // 'blocks.3.attn.qkv'
 */
export const TENSOR_NAMES = {
  embed: 'embed',
  finalNorm: 'final_norm',
  lmHead: 'lm_head',
  block: (l: number): Record<BlockRole, string> => ({
    attnNorm: `blocks.${l}.attn_norm`,
    qNorm: `blocks.${l}.attn.q_norm`,
    kNorm: `blocks.${l}.attn.k_norm`,
    qkv: `blocks.${l}.attn.qkv`,
    o: `blocks.${l}.attn.o`,
    attnOutNorm: `blocks.${l}.attn_out_norm`,
    mlpNorm: `blocks.${l}.mlp_norm`,
    gateUp: `blocks.${l}.mlp.gate_up`,
    down: `blocks.${l}.mlp.down`,
    mlpOutNorm: `blocks.${l}.mlp_out_norm`,
  }),
} as const;

/** A checkpoint tensor and the shape its config implies (HF layout, [out, in] for matrices). */
export interface CheckpointTensor {
  name: string;
  shape: number[];
}

/** One tensor the engine reads, and the checkpoint tensors it is made of. */
export interface PlannedTensor {
  /** The engine's name (`TENSOR_NAMES`). */
  name: string;
  /** `linear`: y = x·Wᵀ + b, parts stacked by rows (fused); `output`: the output layer, the embedding when absent or tied. */
  kind: 'embedding' | 'norm' | 'linear' | 'output';
  parts: CheckpointTensor[];
  /** Read (stacked like the parts) when the checkpoint has every one of them. */
  biases: CheckpointTensor[];
  /** A checkpoint without the parts is refused (all but the output layer). */
  required: boolean;
}

/**
 * Every tensor a decoder with this config reads, in order (embedding, each block's, final norm,
 * output layer), from its architecture's tensor table (`specOf(config).tensors`) and features. The
 * converter converts these, `expectedTensorShapes` checks a checkpoint's header against them.
 *
 * @example tensorPlan(config, LLAMA_TENSORS).find((t) => t.name === 'blocks.0.attn.qkv')!.parts.map((p) => p.name);
 * // ['model.layers.0.self_attn.q_proj.weight', 'model.layers.0.self_attn.k_proj.weight', 'model.layers.0.self_attn.v_proj.weight']
 */
export function tensorPlan(c: ModelConfig, t: TensorTable): PlannedTensor[] {
  const H = c.hiddenSize;
  const D = c.headDim;
  const q = c.numAttentionHeads * D;
  const kv = c.numKeyValueHeads * D;
  const I = c.intermediateSize;
  const plan: PlannedTensor[] = [];
  const at = (template: string, l: number) => template.replaceAll('{l}', String(l));
  const tensor = (module: string, suffix: string, shape: number[]): CheckpointTensor => ({ name: `${module}.${suffix}`, shape });
  const norm = (name: string, module: string, size: number) =>
    plan.push({ name, kind: 'norm', parts: [tensor(module, 'weight', [size])], biases: [], required: true });
  /** A linear layer of `rows` output rows per module (one fused module: their sum). */
  const linear = (name: string, modules: string[], rows: number[], inDim: number) => {
    const split = modules.length === rows.length ? rows : modules.length === 1 ? [rows.reduce((a, b) => a + b, 0)] : null;
    if (!split) throw new Error(`The tensor table names ${modules.length} modules for ${name}; it takes ${rows.length} (or 1, fused).`);
    plan.push({
      name,
      kind: 'linear',
      parts: modules.map((m, i) => tensor(m, 'weight', [split[i], inDim])),
      biases: modules.map((m, i) => tensor(m, 'bias', [split[i]])),
      required: true,
    });
  };
  const optional = (role: BlockRole, feature: string): string => {
    const template = t.block[role];
    if (typeof template !== 'string') throw new Error(`Architecture ${c.architecture} has ${feature} but its tensor table names no ${role}.`);
    return template;
  };

  plan.push({ name: TENSOR_NAMES.embed, kind: 'embedding', parts: [tensor(t.embed, 'weight', [c.vocabSize, H])], biases: [], required: true });
  for (let l = 0; l < c.numHiddenLayers; l++) {
    const n = TENSOR_NAMES.block(l);
    const b = (template: string) => at(template, l);
    norm(n.attnNorm, b(t.block.attnNorm), H);
    if (c.qkNorm) {
      norm(n.qNorm, b(optional('qNorm', 'qkNorm')), D);
      norm(n.kNorm, b(optional('kNorm', 'qkNorm')), D);
    }
    linear(n.qkv, t.block.qkv.map(b), [q, kv, kv], H);
    linear(n.o, [b(t.block.o)], [H], q);
    if (c.sandwichNorms) norm(n.attnOutNorm, b(optional('attnOutNorm', 'sandwichNorms')), H);
    norm(n.mlpNorm, b(t.block.mlpNorm), H);
    linear(n.gateUp, t.block.gateUp.map(b), [I, I], H);
    linear(n.down, [b(t.block.down)], [H], I);
    if (c.sandwichNorms) norm(n.mlpOutNorm, b(optional('mlpOutNorm', 'sandwichNorms')), H);
  }
  norm(TENSOR_NAMES.finalNorm, t.finalNorm, H);
  plan.push({ name: TENSOR_NAMES.lmHead, kind: 'output', parts: [tensor(t.lmHead, 'weight', [c.vocabSize, H])], biases: [], required: false });
  return plan;
}
