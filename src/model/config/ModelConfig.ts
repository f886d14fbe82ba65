/** Rotary embedding parameters of one attention kind, normalised from either config layout. */
export interface RopeParams {
  theta: number;
  type: 'default' | 'linear' | 'llama3';
  /** Scaling factor for `linear` and `llama3`. */
  factor: number;
  lowFreqFactor: number;
  highFreqFactor: number;
  originalMaxPositionEmbeddings: number;
  /** Multiplies cos/sin (1 for the types supported here). */
  attentionScaling: number;
}

export type LayerType = 'full_attention' | 'sliding_attention';

/**
 * A decoder's config, normalised from Hugging Face `config.json` into one shape for every supported
 * architecture. Field names are HF's, in camelCase.
 */
export interface ModelConfig {
  /** The checkpoint's `model_type` as written (`qwen3`, `mistral`, ...). */
  modelType: string;
  /** The architecture spec that serves it. */
  architecture: string;
  hiddenSize: number;
  intermediateSize: number;
  numHiddenLayers: number;
  numAttentionHeads: number;
  numKeyValueHeads: number;
  headDim: number;
  vocabSize: number;
  rmsNormEps: number;
  maxPositionEmbeddings: number;
  tieWordEmbeddings: boolean;
  /** Bias on q/k/v projections (Qwen2). */
  attentionBias: boolean;
  /** Bias on the output projection (Llama with attention_bias). */
  outputBias: boolean;
  mlpBias: boolean;
  /** RMSNorm over each head of q and k (Qwen3, Gemma 3). */
  qkNorm: boolean;
  hiddenAct: 'silu' | 'gelu_tanh' | 'gelu';
  /** Norm weights are stored as w - 1 (Gemma): the norm multiplies by (1 + w). */
  normWeightOffset: 0 | 1;
  /** Embedding output multiplier (Gemma: sqrt(hidden_size)). */
  embeddingScale: number;
  /** Gemma 3 block: norms after attention and MLP as well as before. */
  sandwichNorms: boolean;
  /** Multiplier on q·k (1/sqrt(head_dim), or Gemma's query_pre_attn_scalar^-0.5). */
  attentionScale: number;
  layerTypes: LayerType[];
  slidingWindow: number | null;
  rope: Record<LayerType, RopeParams>;
  attnLogitSoftcapping: number | null;
  finalLogitSoftcapping: number | null;
  eosTokenIds: number[];
  bosTokenId: number | null;
  padTokenId: number | null;
}
