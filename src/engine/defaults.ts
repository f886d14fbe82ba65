import type { Device, Precision } from './ModelSpec.js';

/**
 * Every default the library and the CLI share, declared once: the library falls back to these, and
 * the CLI shows and applies the same values for its flags.
 *
 * @example new Option('--top-k <k>', 'top-k sampling').default(DEFAULTS.sampling.topK);
 */
export const DEFAULTS = Object.freeze({
  /** How a model is run. */
  model: Object.freeze({ precision: 'f32' as Precision, device: 'cpu' as Device }),
  /** `LanguageModel.generate` and the engine worker. */
  generation: Object.freeze({
    maxNewTokens: 64,
    /** Rows per forward batch (the worker's batch too). */
    batchSize: 16,
  }),
  /** How answers are sampled when a persona is trained or swept: T = 0.8 and top-k 50 (transformers' default), as the reference. */
  sampling: Object.freeze({ temperature: 0.8, topK: 50, seed: 0 }),
  /**
   * Training a persona (`trainPersona`, `persona train`, `persona create`): answer length, and rows
   * per batch of its answers and activation reads. The batch size changes speed and memory only:
   * each row samples with its own seed, so the answers are the same at any batch size (tested).
   */
  train: Object.freeze({ maxNewTokens: 48, batchSize: 32 }),
  /** Contrastive pairs built for a one-line description (`createPromptSet`, `persona create`). */
  prompts: Object.freeze({ numPrompts: 64 }),
  /** `persona chat`: most tokens per answer. */
  chat: Object.freeze({ maxNewTokens: 128 }),
  /** `screenDataset` and `persona screen`: the model's own answers are greedy by default. */
  screen: Object.freeze({ maxNewTokens: 64, temperature: 0, seed: 1, batchSize: 16 }),
  /** `calibrateMonitor` and `persona monitor --calibrate`. */
  calibrate: Object.freeze({ maxNewTokens: 48, temperature: 0.8, seed: 1, batchSize: 16 }),
  /** An alpha sweep (`evaluatePersonas`, `analyzeLayers`). */
  sweep: Object.freeze({
    alphas: Object.freeze([-8, -4, -2, 0, 2, 4, 8]) as readonly number[],
    maxNewTokens: 48,
    numQuestions: 32,
    batchSize: 64,
  }),
  /** `startServer` and `persona serve`. */
  server: Object.freeze({
    host: '127.0.0.1',
    port: 8080,
    /** Rows generated together in one batch. */
    maxBatch: 16,
    /** Rows that may wait for a batch before requests get 429. */
    maxQueue: 64,
    /** Largest `max_tokens` a request may ask (never past the model's context). */
    maxTokens: 4096,
    /** `max_tokens` when a request gives none. */
    defaultMaxTokens: 256,
    /** Largest chat/projection request body in bytes. */
    maxBodyBytes: 1 << 20,
    /** Largest persona upload in bytes. */
    maxUploadBytes: 32 << 20,
    /** Milliseconds a client may take to send its whole request. */
    requestTimeoutMs: 30_000,
    reportsDir: 'results',
  }),
});
