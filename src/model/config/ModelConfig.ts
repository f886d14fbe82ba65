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
 * What a decoder does beyond the plain Llama block. An architecture spec declares the ones it
 * always has (`features`); the rest are read from config.json. The graph builder and the converter
 * read them from the resolved `ModelConfig`.
 */
export interface BlockFeatures {
  /** RMSNorm over each head of q and k (Qwen3, Gemma 3): the `qNorm`/`kNorm` tensors. */
  qkNorm: boolean;
  /** Gemma 3 block: norms after attention and MLP as well as before (`attnOutNorm`, `mlpOutNorm`). */
  sandwichNorms: boolean;
  /** Norm weights are stored as w - 1 (Gemma): the converter adds this to every norm weight. */
  normWeightOffset: 0 | 1;
  hiddenAct: 'silu' | 'gelu_tanh' | 'gelu';
  /** Bias on the q/k/v projections (Qwen2; Llama with attention_bias). Biases load wherever the checkpoint has them. */
  attentionBias: boolean;
  tieWordEmbeddings: boolean;
  /** Embedding output multiplier (Gemma: sqrt(hidden_size)). */
  embeddingScale: number;
  /** Multiplier on q·k (1/sqrt(head_dim), or Gemma's query_pre_attn_scalar^-0.5). */
  attentionScale: number;
  attnLogitSoftcapping: number | null;
  finalLogitSoftcapping: number | null;
}

/**
 * A decoder's config, normalised from Hugging Face `config.json` into one shape for every supported
 * architecture. Field names are HF's, in camelCase.
 */
export interface ModelConfig extends BlockFeatures {
  /** The checkpoint's `model_type` as written (`qwen3`, `mistral`, ...). */
  modelType: string;
  /** The architecture spec that serves it (its `name`). */
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
  layerTypes: LayerType[];
  slidingWindow: number | null;
  rope: Record<LayerType, RopeParams>;
  eosTokenIds: number[];
  bosTokenId: number | null;
  padTokenId: number | null;
}
