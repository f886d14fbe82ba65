import type { ConfigReader } from '../config/ConfigReader.js';
import type { BlockFeatures, ModelConfig } from '../config/ModelConfig.js';
import type { TensorTable } from './tensorPlan.js';

export type RawConfig = Record<string, unknown>;

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
  /** Checkpoint module names per tensor role. */
  tensors: TensorTable;
  /** Reads the keys only this architecture has into `c` (already read: the shared Llama-family keys and `features`). */
  normalize?(r: ConfigReader, c: ModelConfig): void;
}
