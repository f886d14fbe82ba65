import type { ConfigReader } from '../config/ConfigReader.js';
import type { BlockFeatures, ModelConfig } from '../config/ModelConfig.js';

export type RawConfig = Record<string, unknown>;

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

/**
 * A decoder architecture as a small declarative spec: the `model_type`s it serves, the block
 * features it always has, and its tensor names as in the checkpoint. Config keys only this
 * architecture has are read in `normalize`.
 *
 * @example
 * export const qwen3: ArchitectureSpec = { name: 'qwen3', modelTypes: ['qwen3'], features: { qkNorm: true }, tensors: LLAMA_TENSORS };
 */
export interface ArchitectureSpec {
  name: string;
  modelTypes: string[];
  /** Set over what config.json says (absent: as config.json says, else the plain Llama block). */
  features: Partial<BlockFeatures>;
  tensors: TensorTable;
  /** Reads the keys only this architecture has into `c` (already read: the shared Llama-family keys and `features`). */
  normalize?(r: ConfigReader, c: ModelConfig): void;
}
