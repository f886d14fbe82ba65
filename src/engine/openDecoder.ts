import { loadConfig } from '../model/loadConfig.js';
import type { KVCacheKind } from './KVCache.js';
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
  /** What every session's KV cache holds (default f32; see `KVCache`). */
  kvCache?: KVCacheKind;
  onProgress?: ProgressCallback;
  cacheRoot?: string;
}

/** Opens another session over the same converted weights, on another variant of the graph. */
export type SessionFactory = (graph: GraphOptions) => Promise<DecoderSession>;

export interface OpenedDecoder {
  config: ModelConfig;
  session: DecoderSession;
  folder: string;
  manifest: ConvertedWeights;
  /** Opens a session on another graph variant (clamp, scoring) with the same weights and session options. */
  openSession: SessionFactory;
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
  const sessionOptions: SessionOptions = { device: opts.device, threads: opts.threads };
  // Every graph variant of one model reads the same kind of cache.
  const openSession: SessionFactory = (graph) =>
    DecoderSession.create(folder, manifest, config, { ...graph, kvCache: opts.kvCache ?? graph.kvCache }, sessionOptions);
  const session = await openSession(opts.graph ?? GENERATION_GRAPH);
  return { config, session, folder, manifest, openSession };
}
