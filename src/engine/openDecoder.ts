import { loadConfig } from '../model/config/loadConfig.js';
import type { ModelConfig } from '../model/config/ModelConfig.js';
import { ModelWeights } from '../model/safetensors/ModelWeights.js';
import type { ProgressCallback } from '../util/progress.js';
import type { ConvertedWeights } from './convert/ConvertedWeights.js';
import { ensureConverted } from './convert/convertWeights.js';
import type { Precision } from './convert/Precision.js';
import { DecoderSession, type SessionOptions } from './DecoderSession.js';
import { GENERATION_GRAPH, type GraphOptions } from './graph/GraphOptions.js';

export interface OpenDecoderOptions extends SessionOptions {
  precision?: Precision;
  graph?: GraphOptions;
  onProgress?: ProgressCallback;
  cacheRoot?: string;
}

export interface OpenedDecoder {
  config: ModelConfig;
  session: DecoderSession;
  folder: string;
  manifest: ConvertedWeights;
}

/**
 * Reads a model folder's config and weights, converts them once into the cache, and opens a session.
 *
 * @example const { session, config } = await openDecoder('models/stylist', { precision: 'f32' });
 */
export async function openDecoder(dir: string, opts: OpenDecoderOptions = {}): Promise<OpenedDecoder> {
  const config = await loadConfig(dir);
  const weights = await ModelWeights.open(dir);
  const { folder, manifest } = await ensureConverted(dir, weights, config, opts.precision ?? 'f32', { onProgress: opts.onProgress, cacheRoot: opts.cacheRoot });
  const session = await DecoderSession.create(folder, manifest, config, opts.graph ?? GENERATION_GRAPH, opts);
  return { config, session, folder, manifest };
}
