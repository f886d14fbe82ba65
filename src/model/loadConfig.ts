import path from 'node:path';
import { ModelFileError, UnsupportedModelError } from '../errors.js';
import { readJsonFile } from '../util/readJsonFile.js';
import { SUPPORTED_MODEL_TYPES, architectureFor } from './architectures/index.js';
import { baseConfig, idList } from './architectures/common.js';
import { ConfigReader } from './config/ConfigReader.js';
import type { ModelConfig } from './config/ModelConfig.js';

/**
 * Normalises a parsed `config.json` (either rope layout) into a `ModelConfig`, checking every value
 * it reads: whole numbers where counts are meant, positive rope theta, factors and norm epsilon, and
 * sizes within `CONFIG_LIMITS`. A bad value is a `ModelFileError` naming the key and `source`.
 *
 * @example normalizeConfig(JSON.parse(fs.readFileSync('config.json', 'utf8')), 'config.json').headDim
 */
export function normalizeConfig(raw: Record<string, unknown>, source = 'config.json'): ModelConfig {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw new ModelFileError(`${source} is not a JSON object.`);
  let r = raw;
  // Multimodal wrappers keep the decoder's config under text_config.
  if (r.text_config && typeof r.text_config === 'object' && !r.hidden_size)
    r = { ...(r.text_config as object), model_type: (r.text_config as Record<string, unknown>).model_type ?? r.model_type };
  const modelType = r.model_type;
  if (typeof modelType !== 'string') throw new ModelFileError(`${source} has no "model_type".`);
  const spec = architectureFor(modelType);
  if (!spec) {
    throw new UnsupportedModelError(`${source}: model_type "${modelType}" is not supported. Supported model types: ${SUPPORTED_MODEL_TYPES.join(', ')}.`);
  }
  const reader = new ConfigReader(r, source);
  const c = baseConfig(reader, spec);
  spec.normalize?.(reader, c);
  if (c.layerTypes.includes('sliding_attention') && c.slidingWindow === null) {
    reader.fail('layer_types', 'has sliding_attention layers but there is no "sliding_window" (or use_sliding_window is off).');
  }
  return c;
}

/** Reads `config.json` (and `generation_config.json`'s end-of-sequence ids) from a model folder. */
export async function loadConfig(dir: string): Promise<ModelConfig> {
  const file = path.join(dir, 'config.json');
  const raw = await readJsonFile(file, { errorClass: ModelFileError, optional: true });
  if (raw === undefined) {
    throw new ModelFileError(
      `No config.json in ${dir}. A model folder needs config.json, tokenizer.json and the weights (model.safetensors, or shards listed in model.safetensors.index.json).`,
    );
  }
  const config = normalizeConfig(raw as Record<string, unknown>, file);
  // generation_config.json is optional; when present it must be a readable JSON file.
  const gen = (await readJsonFile(path.join(dir, 'generation_config.json'), { errorClass: ModelFileError, optional: true })) as
    Record<string, unknown> | null | undefined;
  if (gen && typeof gen === 'object') {
    config.eosTokenIds = [...new Set([...config.eosTokenIds, ...idList(gen.eos_token_id)])];
    if (config.padTokenId === null && typeof gen.pad_token_id === 'number' && Number.isInteger(gen.pad_token_id) && gen.pad_token_id >= 0)
      config.padTokenId = gen.pad_token_id;
  }
  return config;
}
