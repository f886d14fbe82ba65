import type { ModelConfig } from '../../model/config/ModelConfig.js';
import type { Prompt } from '../LanguageModel.js';
import type { ModelSpec, Precision } from '../ModelSpec.js';
import type { Intervention } from '../generate/Intervention.js';
import type { SamplingOptions } from '../generate/sampling.js';
import type { FinishReason } from '../generate/generateBatch.js';

/** Messages between the main thread and the engine worker (structured-clone friendly). */
export interface WorkerInit {
  /** The model to load, as the caller gave it. */
  spec: ModelSpec;
  /** Most rows run in one batch (default `DEFAULTS.generation.batchSize`). */
  maxBatchRows?: number;
}

export interface WorkerRow {
  prompt: Prompt;
  maxNewTokens?: number;
  sampling?: SamplingOptions;
  intervention?: Intervention | null;
  /** Render the chat template with thinking on (`enable_thinking`). */
  thinking?: boolean;
  /**
   * Directions to read this row's residual stream on as it generates (the server's per-request
   * monitor): for each, h·direction with h the stream after block `layer` — at the last prompt token
   * and at every generated token — sent as `monitor` messages.
   */
  monitor?: { layer: number; direction: Float32Array }[];
}

export interface ModelInfo {
  id: string;
  dir: string;
  revision?: string;
  config: ModelConfig;
  stopTokenIds: number[];
  numLayers: number;
  hiddenSize: number;
  precision: Precision;
}

export interface RowResult {
  text: string;
  tokens: number[];
  promptTokens: number;
  finishReason: FinishReason | 'cancelled';
  ended: boolean;
  logprobs?: number[];
  topLogprobs?: { id: number; token: string; logprob: number }[][];
  /** Token strings of the answer, for per-token display. */
  tokenTexts: string[];
}

export type ToWorker =
  | { type: 'generate'; id: number; rows: WorkerRow[]; logprobs?: number | null }
  | { type: 'cancel'; id: number; row?: number }
  | { type: 'activations'; id: number; seqs: { promptIds: number[]; answerIds: number[] }[] }
  | { type: 'tokenResiduals'; id: number; promptIds: number[]; answerIds: number[]; layers: number[] }
  | { type: 'encode'; id: number; prompt: Prompt }
  | { type: 'close' };

export type FromWorker =
  | { type: 'ready'; info: ModelInfo }
  | { type: 'token'; id: number; row: number; token: number; text: string; logprob?: number }
  /** A monitored row's readings (`WorkerRow.monitor`) at generated token `token` (−1: the last prompt token). */
  | { type: 'monitor'; id: number; row: number; token: number; values: number[] }
  | { type: 'done'; id: number; results: RowResult[] }
  | { type: 'activations'; id: number; responseMean: Float32Array[][]; residNorm: number[] }
  | { type: 'tokenResiduals'; id: number; residuals: Float32Array[][] }
  | { type: 'encoded'; id: number; ids: number[] }
  | { type: 'error'; id: number | null; message: string; name: string }
  | { type: 'closed' };
