import os from 'node:os';
import { InvalidArgumentError, UnsupportedModelError } from '../../errors.js';
import { normalizeConfig } from '../../model/loadConfig.js';
import type { ModelConfig } from '../../model/config/ModelConfig.js';
import { GGML_TYPE, type GgufValue } from '../../gguf/ggufTypes.js';
import type { ProgressCallback } from '../../util/progress.js';
import { streamGguf, ggufFileSize, type StreamedGguf, type StreamedTensor } from './streamGguf.js';
import { seededWords } from '../../util/random.js';

/**
 * The weight formats a benchmark GGUF can be written in. Matrices take the type; norm weights
 * and biases stay F32, as llama.cpp's own converter leaves them.
 *
 * @example const t: GgufWeightType = 'q4_0';
 */
export type GgufWeightType = 'f32' | 'f16' | 'q8_0' | 'q4_0';

/**
 * Every weight type `writeRandomGguf` can write.
 *
 * @example GGUF_WEIGHT_TYPES.includes('q8_0'); // true
 */
export const GGUF_WEIGHT_TYPES: readonly GgufWeightType[] = ['f32', 'f16', 'q8_0', 'q4_0'];

const GGML_OF: Record<GgufWeightType, number> = { f32: GGML_TYPE.F32, f16: GGML_TYPE.F16, q8_0: GGML_TYPE.Q8_0, q4_0: GGML_TYPE.Q4_0 };
/** llama.cpp's `llama_ftype` for a file whose matrices are all of one type (`general.file_type`). */
const FILE_TYPE_OF: Record<GgufWeightType, number> = { f32: 0, f16: 1, q4_0: 2, q8_0: 7 };

/** The llama.cpp architecture that runs a Hugging Face `model_type`, where this writer supports it. */
const LLAMA_CPP_ARCH: Record<string, 'qwen3' | 'qwen2' | 'llama'> = { qwen3: 'qwen3', qwen2: 'qwen2', llama: 'llama', mistral: 'llama' };

/**
 * What `writeRandomGguf` wrote.
 *
 * @example const { bytes, tensors } = await writeRandomGguf('m.gguf', config, 'q4_0');
 */
export interface RandomGgufInfo {
  file: string;
  /** The `general.architecture` written (`qwen3`, `qwen2` or `llama`). */
  architecture: string;
  type: GgufWeightType;
  bytes: number;
  tensors: number;
  /** Values in the matrices (embedding counted once even when tied). */
  matrixParameters: number;
}

/** Options of `writeRandomGguf`. */
export interface WriteRandomGgufOptions {
  /** Seed of the generator that fills the weights (default 1); the same seed gives the same file. */
  seed?: number;
  onProgress?: ProgressCallback;
}

/** A filler of random 32-bit words (the project's seeded PRNG), enough for weights whose values do not matter (only their count and layout do). */
class Words {
  private readonly next: () => number;
  constructor(seed: number) {
    this.next = seededWords(seed);
  }
  /** Fills `out` with random words. */
  fill(out: Uint32Array): void {
    for (let i = 0; i < out.length; i++) out[i] = this.next();
  }
}

/** Random words over `buf` (whose byteOffset is a multiple of 4); a trailing partial word too. */
function fillWords(buf: Uint8Array, words: Words, map?: (w: Uint32Array) => void): void {
  const n = buf.byteLength >>> 2;
  if (n > 0) {
    const w = new Uint32Array(buf.buffer, buf.byteOffset, n);
    words.fill(w);
    map?.(w);
  }
  const tail = buf.byteLength & 3;
  if (tail) {
    const w = new Uint32Array(1);
    words.fill(w);
    map?.(w);
    buf.set(new Uint8Array(w.buffer, 0, tail), n * 4);
  }
}

/**
 * F32 words with a random sign and mantissa and exponent −7: values uniform in ±[2⁻⁷, 2⁻⁶),
 * that is |x| in [0.0078, 0.0156) — small, like trained weights, and never NaN or subnormal.
 */
function f32Weights(w: Uint32Array): void {
  for (let i = 0; i < w.length; i++) w[i] = (w[i] & 0x807fffff) | 0x3c000000;
}

/** Two F16 values per word, each with random sign and mantissa and exponent −7 (as `f32Weights`). */
function f16Weights(w: Uint32Array): void {
  for (let i = 0; i < w.length; i++) w[i] = (w[i] & 0x83ff83ff) | 0x20002000;
}

/** IEEE half bits of a positive normal float (enough for the block scales written here). */
function halfBits(x: number): number {
  const e = Math.floor(Math.log2(x));
  const mant = Math.round((x / 2 ** e - 1) * 1024);
  return ((e + 15) << 10) + mant;
}

/** A tensor whose data is random words, mapped by `map`, with each block's f16 scale set to `scale`. */
function randomTensor(name: string, dims: number[], type: GgufWeightType, seed: number): StreamedTensor {
  const words = new Words(seed);
  const ggmlType = GGML_OF[type];
  if (type === 'f32') return { name, dims, type: ggmlType, fill: (buf) => fillWords(buf, words, f32Weights) };
  if (type === 'f16') return { name, dims, type: ggmlType, fill: (buf) => fillWords(buf, words, f16Weights) };
  // Quantised blocks: random quants and one sane scale, so values are about ±0.02 like the others
  // (q8_0: int8 × 0.02/127; q4_0: (nibble − 8) × 0.02/8).
  const blockBytes = type === 'q8_0' ? 34 : 18;
  const scale = halfBits(type === 'q8_0' ? 0.02 / 127 : 0.02 / 8);
  return {
    name,
    dims,
    type: ggmlType,
    fill: (buf, offset) => {
      fillWords(buf, words);
      // Chunks hold whole blocks, so block starts are at multiples of blockBytes from the chunk start.
      if (offset % blockBytes !== 0) throw new Error('internal error: a chunk does not start on a block.');
      for (let p = 0; p + 1 < buf.byteLength; p += blockBytes) {
        buf[p] = scale & 0xff;
        buf[p + 1] = scale >>> 8;
      }
    },
  };
}

/** An F32 tensor of one constant value (norm weights: 1). */
function constantTensor(name: string, dims: number[], value: number): StreamedTensor {
  return {
    name,
    dims,
    type: GGML_TYPE.F32,
    fill: (buf) => {
      const n = buf.byteLength >>> 2;
      new Float32Array(buf.buffer, buf.byteOffset, n).fill(value);
    },
  };
}

/** GPT-2's byte-level alphabet: the printable character each byte is written as in a BPE vocab. */
function byteAlphabet(): string[] {
  const direct: number[] = [];
  for (let b = 0x21; b <= 0x7e; b++) direct.push(b);
  for (let b = 0xa1; b <= 0xac; b++) direct.push(b);
  for (let b = 0xae; b <= 0xff; b++) direct.push(b);
  const chars: string[] = new Array(256);
  let extra = 0;
  for (let b = 0; b < 256; b++) chars[b] = direct.includes(b) ? String.fromCharCode(b) : String.fromCharCode(256 + extra++);
  return chars;
}

/**
 * A minimal but valid byte-level BPE vocabulary (llama.cpp `tokenizer.ggml.model = "gpt2"`) of
 * exactly `vocabSize` tokens: the 256 byte tokens (so any text tokenizes), merges of pairs of
 * lowercase letters, unique filler tokens, and control tokens at the config's bos/eos ids.
 */
function tokenizer(c: ModelConfig, arch: string): [string, GgufValue][] {
  const vocab = c.vocabSize;
  const specialsWanted = 3;
  if (vocab < 256 + specialsWanted + 1)
    throw new InvalidArgumentError(`vocab_size ${vocab} is too small for a byte-level vocabulary; it needs at least ${256 + specialsWanted + 1}.`);
  const tokens: (string | undefined)[] = new Array(vocab);
  const types: number[] = new Array(vocab).fill(1); // LLAMA_TOKEN_TYPE_NORMAL
  const inRange = (id: number | null | undefined): id is number => typeof id === 'number' && Number.isInteger(id) && id >= 256 && id < vocab;
  // Control tokens where the config puts bos/eos, the rest at the end of the vocabulary.
  const eos = c.eosTokenIds.find(inRange) ?? vocab - 1;
  const bos = inRange(c.bosTokenId) && c.bosTokenId !== eos ? c.bosTokenId : eos === vocab - 2 ? vocab - 3 : vocab - 2;
  tokens[bos] = '<|endoftext|>';
  tokens[eos] = '<|im_end|>';
  types[bos] = 3; // LLAMA_TOKEN_TYPE_CONTROL
  types[eos] = 3;
  const imStart = [eos - 1, eos + 1, vocab - 1, vocab - 2, vocab - 3].find((id) => id >= 256 && id < vocab && tokens[id] === undefined)!;
  tokens[imStart] = '<|im_start|>';
  types[imStart] = 3;

  const alphabet = byteAlphabet();
  for (let b = 0; b < 256; b++) tokens[b] = alphabet[b];
  const free: number[] = [];
  for (let id = 256; id < vocab; id++) if (tokens[id] === undefined) free.push(id);
  const merges: GgufValue[] = [];
  const letters = 'abcdefghijklmnopqrstuvwxyz';
  let f = 0;
  for (let i = 0; i < letters.length && f < free.length; i++) {
    for (let j = 0; j < letters.length && f < free.length; j++) {
      merges.push({ type: 'string', value: `${letters[i]} ${letters[j]}` });
      tokens[free[f++]] = letters[i] + letters[j];
    }
  }
  for (; f < free.length; f++) tokens[free[f]] = `<|filler_${free[f]}|>`;

  const str = (value: string): GgufValue => ({ type: 'string', value });
  const u32 = (value: number): GgufValue => ({ type: 'uint32', value });
  return [
    ['tokenizer.ggml.model', str('gpt2')],
    ['tokenizer.ggml.pre', str(arch === 'llama' ? 'llama-bpe' : 'qwen2')],
    ['tokenizer.ggml.tokens', { type: 'array', itemType: 'string', value: tokens.map((t) => str(t!)) }],
    ['tokenizer.ggml.token_type', { type: 'array', itemType: 'int32', value: types.map((value) => ({ type: 'int32', value })) }],
    ['tokenizer.ggml.merges', { type: 'array', itemType: 'string', value: merges }],
    ['tokenizer.ggml.bos_token_id', u32(bos)],
    ['tokenizer.ggml.eos_token_id', u32(eos)],
    ['tokenizer.ggml.padding_token_id', u32(eos)],
    ['tokenizer.ggml.add_bos_token', { type: 'bool', value: false }],
  ];
}

/**
 * The GGUF (metadata and tensors) `writeRandomGguf` writes for a config, without writing it.
 *
 * @example const { gguf, architecture } = randomGgufLayout(config, 'q8_0');
 */
export function randomGgufLayout(
  config: Record<string, unknown>,
  type: GgufWeightType,
  seed = 1,
): { gguf: StreamedGguf; architecture: string; matrixParameters: number } {
  if (!GGUF_WEIGHT_TYPES.includes(type))
    throw new InvalidArgumentError(`Unknown GGUF weight type "${String(type)}"; use one of ${GGUF_WEIGHT_TYPES.join(', ')}.`);
  const c = normalizeConfig(config);
  const arch = LLAMA_CPP_ARCH[c.modelType];
  if (!arch) {
    throw new UnsupportedModelError(
      `A llama.cpp GGUF can be written for model_type ${Object.keys(LLAMA_CPP_ARCH).join(', ')}; this config is "${c.modelType}".`,
    );
  }
  if (arch === 'qwen3' && !c.qkNorm) throw new UnsupportedModelError('a qwen3 config without q/k norms cannot be written as a qwen3 GGUF.');
  const H = c.hiddenSize;
  const D = c.headDim;
  const q = c.numAttentionHeads * D;
  const kv = c.numKeyValueHeads * D;
  const I = c.intermediateSize;
  const V = c.vocabSize;
  if (type !== 'f32' && type !== 'f16') {
    for (const [what, n] of [
      ['hidden_size', H],
      ['intermediate_size', I],
      ['num_attention_heads × head_dim', q],
    ] as const) {
      if (n % 32 !== 0) throw new InvalidArgumentError(`${type} stores blocks of 32 values along each row, so ${what} (${n}) must be a multiple of 32.`);
    }
  }

  const a = (k: string): string => `${arch}.${k}`;
  const u32 = (value: number): GgufValue => ({ type: 'uint32', value });
  const f32 = (value: number): GgufValue => ({ type: 'float32', value });
  const tok = tokenizer(c, arch);
  const metadata = new Map<string, GgufValue>([
    ['general.architecture', { type: 'string', value: arch }],
    ['general.name', { type: 'string', value: `random ${c.modelType} (persona bench)` }],
    ['general.file_type', u32(FILE_TYPE_OF[type])],
    ['general.quantization_version', u32(2)],
    [a('vocab_size'), u32(V)],
    [a('context_length'), u32(c.maxPositionEmbeddings)],
    [a('embedding_length'), u32(H)],
    [a('block_count'), u32(c.numHiddenLayers)],
    [a('feed_forward_length'), u32(I)],
    [a('attention.head_count'), u32(c.numAttentionHeads)],
    [a('attention.head_count_kv'), u32(c.numKeyValueHeads)],
    [a('attention.key_length'), u32(D)],
    [a('attention.value_length'), u32(D)],
    [a('rope.dimension_count'), u32(D)],
    [a('rope.freq_base'), f32(c.rope.full_attention.theta)],
    [a('attention.layer_norm_rms_epsilon'), f32(c.rmsNormEps)],
    ...tok,
  ]);

  let seq = 0;
  const weight = (name: string, dims: number[]): StreamedTensor => randomTensor(name, dims, type, ((seed >>> 0) * 1_000_003 + ++seq) >>> 0);
  const bias = (name: string, n: number): StreamedTensor => randomTensor(name, [n], 'f32', ((seed >>> 0) * 1_000_003 + ++seq) >>> 0);
  // Shapes in ggml order: {input, output} for a matrix, as llama.cpp's create_tensor checks them.
  const tensors: StreamedTensor[] = [weight('token_embd.weight', [H, V])];
  let matrixParameters = H * V;
  for (let l = 0; l < c.numHiddenLayers; l++) {
    const b = `blk.${l}`;
    tensors.push(constantTensor(`${b}.attn_norm.weight`, [H], 1));
    tensors.push(weight(`${b}.attn_q.weight`, [H, q]), weight(`${b}.attn_k.weight`, [H, kv]), weight(`${b}.attn_v.weight`, [H, kv]));
    if (arch === 'qwen2') tensors.push(bias(`${b}.attn_q.bias`, q), bias(`${b}.attn_k.bias`, kv), bias(`${b}.attn_v.bias`, kv));
    tensors.push(weight(`${b}.attn_output.weight`, [q, H]));
    if (arch === 'qwen3') tensors.push(constantTensor(`${b}.attn_q_norm.weight`, [D], 1), constantTensor(`${b}.attn_k_norm.weight`, [D], 1));
    tensors.push(constantTensor(`${b}.ffn_norm.weight`, [H], 1));
    tensors.push(weight(`${b}.ffn_gate.weight`, [H, I]), weight(`${b}.ffn_up.weight`, [H, I]), weight(`${b}.ffn_down.weight`, [I, H]));
    matrixParameters += H * q + 2 * H * kv + q * H + 3 * H * I;
  }
  tensors.push(constantTensor('output_norm.weight', [H], 1));
  // Tied embeddings: llama.cpp uses token_embd.weight as the output layer when output.weight is absent.
  if (!c.tieWordEmbeddings) {
    tensors.push(weight('output.weight', [H, V]));
    matrixParameters += H * V;
  }
  return { gguf: { metadata, tensors }, architecture: arch, matrixParameters };
}

/**
 * Writes a complete GGUF file that llama.cpp loads, for a Hugging Face `config.json` of a qwen3,
 * qwen2 or llama (mistral) model, with random weights in `type`: the architecture metadata
 * llama.cpp's loader reads, a minimal byte-level BPE tokenizer of exactly `vocab_size` tokens, and
 * every tensor in llama.cpp's names and shapes (`output.weight` omitted when the embeddings are
 * tied). Matrices hold small random values (|x| ≈ 0.01; quantised blocks get random quants and a
 * fixed scale), norm weights 1. Nothing is held in memory: the data streams to a temp file that
 * is renamed into place when complete (a 0.6B f32 model is 2.4 GB).
 *
 * @example
 * const config = JSON.parse(await fs.readFile('qwen3-0.6b.config.json', 'utf8'));
 * const info = await writeRandomGguf('/tmp/qwen3-q4_0.gguf', config, 'q4_0', { seed: 7 });
 * info.bytes; // ~ 0.45 GB
 */
export async function writeRandomGguf(
  file: string,
  config: Record<string, unknown>,
  type: GgufWeightType,
  options: WriteRandomGgufOptions = {},
): Promise<RandomGgufInfo> {
  if (os.endianness() !== 'LE') throw new UnsupportedModelError('GGUF benchmark files can only be written on a little-endian machine.');
  const { gguf, architecture, matrixParameters } = randomGgufLayout(config, type, options.seed ?? 1);
  const { bytes } = await streamGguf(file, gguf, { onProgress: options.onProgress, phase: `write ${type} GGUF` });
  return { file, architecture, type, bytes, tensors: gguf.tensors.length, matrixParameters };
}

/**
 * Bytes of the GGUF `writeRandomGguf` would write, to check free disk space before writing.
 *
 * @example randomGgufBytes(config, 'f32'); // 3_000_000_000-ish for Qwen3-0.6B
 */
export function randomGgufBytes(config: Record<string, unknown>, type: GgufWeightType): number {
  return ggufFileSize(randomGgufLayout(config, type).gguf);
}
