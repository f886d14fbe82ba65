import type { ConfigReader } from '../config/ConfigReader.js';
import type { ModelConfig } from '../config/ModelConfig.js';

export type RawConfig = Record<string, unknown>;

/**
 * A decoder architecture as a small declarative spec: the `model_type`s it serves and how its
 * config normalises. Tensor names are the checkpoint's own (`model.layers.{l}.self_attn.q_proj.weight`),
 * shared by every Llama-family model, so no key map is needed.
 */
export interface ArchitectureSpec {
  name: string;
  modelTypes: string[];
  /** Normalises and validates a config; `r` reads range-checked values and names the file in errors. */
  normalize(r: ConfigReader): ModelConfig;
}
