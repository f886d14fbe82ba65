import { DEFAULT_MODEL_DIR } from '../model/defaultModel.js';
import type { Precision } from './convert/Precision.js';
import type { KVCacheKind } from './KVCache.js';

export type { Precision } from './convert/Precision.js';

/** Execution providers a session can run on. */
export type Device = 'cpu' | 'cuda' | 'coreml';
export const DEVICES: readonly Device[] = ['cpu', 'cuda', 'coreml'];

/**
 * Which model to load and how to run it: built once (by the CLI from its flags, or by a caller) and
 * handed unchanged to `loadModel`, `EngineWorker.start` and `startServer`. Plain data, so it crosses
 * to the engine's worker thread as it is.
 *
 * @example const spec: ModelSpec = { model: 'Qwen/Qwen3-0.6B', revision: 'main', precision: 'q4', threads: 4 };
 */
export interface ModelSpec {
  /** A local model folder or a Hugging Face id (`org/name`, optionally `@revision`). */
  model: string;
  /** Branch, tag or commit of a hub model (the same as `@revision` in the id). */
  revision?: string;
  /** Weight precision (default f32). */
  precision?: Precision;
  /** Execution provider (default cpu). */
  device?: Device;
  /** onnxruntime intra-op threads (default: the machine's cores). */
  threads?: number;
  /** Root of the conversion cache (default: the per-user cache folder). */
  cacheRoot?: string;
  /** What the KV cache holds: f32 (default, exact) or int8 (a quarter of the attention's reads; see `KVCache`). */
  kvCache?: KVCacheKind;
}

/** The fields of a `ModelSpec`, for picking them out of a wider options object. */
const SPEC_KEYS = ['model', 'revision', 'precision', 'device', 'threads', 'cacheRoot', 'kvCache'] as const satisfies readonly (keyof ModelSpec)[];

/**
 * A model spec from a folder or hub id (the embedded stylist when none) and optional settings, or
 * from an object that carries the spec's fields among others (only those are kept).
 *
 * @example modelSpec('Qwen/Qwen3-0.6B', { precision: 'q4' }); // { model: 'Qwen/Qwen3-0.6B', precision: 'q4' }
 */
export function modelSpec(model: string | Partial<ModelSpec> = DEFAULT_MODEL_DIR, settings: Omit<Partial<ModelSpec>, 'model'> = {}): ModelSpec {
  const given: Partial<ModelSpec> = typeof model === 'string' ? { model } : model;
  const spec: Record<string, unknown> = { model: given.model ?? DEFAULT_MODEL_DIR };
  for (const k of SPEC_KEYS) {
    const v = given[k] ?? (settings as Partial<ModelSpec>)[k];
    if (k !== 'model' && v !== undefined) spec[k] = v;
  }
  return spec as unknown as ModelSpec;
}
