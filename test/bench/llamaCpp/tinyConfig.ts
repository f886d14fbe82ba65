/** 2 layers, hidden 64, vocab 300: the smallest qwen3 shape that still has every tensor llama.cpp loads. */
export const TINY_QWEN3 = {
  model_type: 'qwen3',
  hidden_size: 64,
  intermediate_size: 128,
  num_hidden_layers: 2,
  num_attention_heads: 4,
  num_key_value_heads: 2,
  head_dim: 16,
  vocab_size: 300,
  rms_norm_eps: 1e-6,
  rope_theta: 1000000,
  max_position_embeddings: 512,
  tie_word_embeddings: true,
  bos_token_id: 297,
  eos_token_id: 299,
};
