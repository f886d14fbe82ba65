import { promises as fs } from 'node:fs';
import path from 'node:path';
import { ModelFileError, UnsupportedModelError } from '../../errors.js';
import { SUPPORTED_MODEL_TYPES, architectureFor } from '../architectures/index.js';
import { idList } from '../architectures/common.js';
import type { ModelConfig } from './ModelConfig.js';

/**
 * Normalises a parsed `config.json` (either rope layout) into a `ModelConfig`.
 *
 * @example normalizeConfig(JSON.parse(fs.readFileSync('config.json', 'utf8'))).headDim
 */
export function normalizeConfig(raw: Record<string, unknown>): ModelConfig {
  let r = raw;
  // Multimodal wrappers keep the decoder's config under text_config.
  if (r.text_config && typeof r.text_config === 'object' && !r.hidden_size) r = { ...(r.text_config as object), model_type: (r.text_config as Record<string, unknown>).model_type ?? r.model_type };
  const modelType = r.model_type;
  if (typeof modelType !== 'string') throw new ModelFileError('config.json has no "model_type".');
  const spec = architectureFor(modelType);
  if (!spec) {
    throw new UnsupportedModelError(`model_type "${modelType}" is not supported. Supported model types: ${SUPPORTED_MODEL_TYPES.join(', ')}.`);
  }
  const c = spec.normalize(r);
  if (c.hiddenSize % 1 || c.numAttentionHeads % c.numKeyValueHeads !== 0) {
    throw new ModelFileError(`config.json: num_attention_heads (${c.numAttentionHeads}) must be a multiple of num_key_value_heads (${c.numKeyValueHeads}).`);
  }
  return c;
}

/** Reads `config.json` (and `generation_config.json`'s end-of-sequence ids) from a model folder. */
export async function loadConfig(dir: string): Promise<ModelConfig> {
  const file = path.join(dir, 'config.json');
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch {
    throw new ModelFileError(`No config.json in ${dir}. A model folder needs config.json, tokenizer.json and model.safetensors.`);
  }
  let raw: Record<string, unknown>;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new ModelFileError(`${file} is not valid JSON: ${(err as Error).message}`, { cause: err });
  }
  const config = normalizeConfig(raw);
  try {
    const gen = JSON.parse(await fs.readFile(path.join(dir, 'generation_config.json'), 'utf8'));
    config.eosTokenIds = [...new Set([...config.eosTokenIds, ...idList(gen.eos_token_id)])];
    if (config.padTokenId === null && typeof gen.pad_token_id === 'number') config.padTokenId = gen.pad_token_id;
  } catch {
    // generation_config.json is optional
  }
  return config;
}
