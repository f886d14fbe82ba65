/**
 * The llama.cpp side of `persona bench --vs llama.cpp`: GGUF files with random weights in a
 * config's shape, and llama.cpp's speed on them through node-llama-cpp 3.21.1.
 */
export { runLlamaCppComparison, type LlamaCppComparison, type LlamaCppComparisonOptions, type LlamaCppTypeResult } from './runLlamaCppComparison.js';
export { benchLlamaCpp, type LlamaCppBenchOptions, type LlamaCppBenchResult } from './llamaCppBench.js';
export { ensureNodeLlamaCpp, llamaCppCacheDir, NODE_LLAMA_CPP_VERSION, type EnsureNodeLlamaCppOptions, type NodeLlamaCppModule } from './nodeLlamaCpp.js';
export {
  GGUF_WEIGHT_TYPES,
  randomGgufBytes,
  randomGgufLayout,
  writeRandomGguf,
  type GgufWeightType,
  type RandomGgufInfo,
  type WriteRandomGgufOptions,
} from './writeRandomGguf.js';
export { GGML_BLOCK, ggmlTensorBytes, ggufFileSize, streamGguf, type StreamedGguf, type StreamedTensor } from './streamGguf.js';
