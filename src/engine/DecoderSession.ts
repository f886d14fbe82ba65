import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { InvalidArgumentError, PersonaError } from '../errors.js';
import type { ModelConfig } from '../model/config/ModelConfig.js';
import { atomicWrite } from '../util/atomicWrite.js';
import type { ConvertedWeights } from './convert/ConvertedWeights.js';
import { buildDecoderGraph } from './graph/buildDecoderGraph.js';
import type { SteerFeed } from './generate/batchFeeds.js';
import { CLAMP_SLOTS, graphKey, type GraphOptions } from './graph/GraphOptions.js';
import { KVCache, type KVCacheKind } from './KVCache.js';
import type { Device } from './ModelSpec.js';
import { encodeModel } from './onnx/onnxProto.js';

export type { Device } from './ModelSpec.js';

export interface SessionOptions {
  threads?: number;
  device?: Device;
}

/** One forward call. B rows of T new tokens each, after `cache.length` cached positions. */
export interface ForwardRequest {
  inputIds: ArrayLike<number>; // [B·T]
  batch: number;
  seq: number;
  /** Rope position of every new token [B·T] (left padding: positions start at 0 after the pads). */
  positions: ArrayLike<number>;
  /** 1 where a key position holds a real token, over all S = P+T positions [B·S]. */
  keyMask: Uint8Array;
  cache?: KVCache;
  /**
   * This call's steering, already the right phase of each row's intervention (see `stackPhases`):
   * deltas [B·L·H] added after each block, clamps [B·L·K·H] / [B·L·K] (zero direction = off).
   * A row's steering holds for all of its tokens in the call. The session keeps the layer-major form
   * of each delta array it is fed (steps reuse it): do not change a delta array after feeding it.
   */
  steer?: SteerFeed;
  /**
   * [B·K·P] pooling weights over the last P of the T new positions (P = T: all of them; 1: the newest);
   * the pooled output is [B,L,K,H].
   */
  poolWeights?: Float32Array;
  pools?: number;
  /** Scoring graph only: read log p(token) at these flat positions (into the B·T new positions). */
  score?: { index: ArrayLike<number>; token: ArrayLike<number> };
  /**
   * Fetch the last position's `topK` largest logits per row (`top`) instead of the [B·V] `logits`;
   * 0 fetches neither (a call whose logits nothing reads). Unset: `logits`. A sampled step needs only
   * its candidates, and copying [B,V] out of onnxruntime costs more than the top-k (on Qwen3's
   * vocabulary 39 MiB per step at 64 rows, each page freshly faulted).
   */
  topK?: number;
  /** Extra outputs to fetch (hidden_i, final_norm), for the debug graph. */
  extraOutputs?: string[];
}

export interface ForwardResult {
  /** Last-position logits [B·V] (unless the request asked for `topK`). */
  logits?: Float32Array;
  /** With `topK` k > 0: each row's k largest last-position logits [B·k], sorted descending (ties: lower id first), and their ids. */
  top?: { k: number; values: Float32Array; ids: BigInt64Array };
  /** Every position's logits [B·T·V] (debug graph only). */
  allLogits?: Float32Array;
  newK: Float32Array[];
  newV: Float32Array[];
  pooled?: Float32Array;
  /** log p(score.token[n]) at score.index[n] (scoring graph only). */
  scoreLogProbs?: Float32Array;
  extra: Record<string, Float32Array>;
}

const NEG = -1e30;

/**
 * Bump when the graph builder's output changes, so cached graph files are rebuilt. Bump past any
 * number an experiment may have used locally (session 5 found a stale `graph-v9` file from one).
 * Naming the file by a digest of its bytes instead would cost a build per session open (~0.4 s on
 * Qwen3-0.6B's shape: the rope tables for 40,960 positions are 21 MB of the graph).
 */
export const GRAPH_BUILDER_VERSION = 14;

/**
 * An onnxruntime session over one variant of the decoder graph. It turns a `ForwardRequest`
 * (token ids, positions, key mask, cache, steering) into graph feeds: rope tables, the additive
 * attention bias (causal, padding, sliding window) and zero-filled steering when off.
 */
export class DecoderSession {
  private readonly hasSlidingBias: boolean;
  /** The graph outputs the last position's top-k logits (`ForwardRequest.topK`): the generation and clamp graphs. */
  readonly hasTopK: boolean;
  private readonly inputs: Set<string>;
  private readonly inFlight = new Set<Promise<ForwardResult>>();
  /**
   * Feeds that stay the same from step to step, kept instead of rebuilt per call (at 64 rows the
   * steering input alone is 7 MiB on Qwen3-0.6B's shape, each fresh allocation faulting in its pages):
   * each row-major delta's layer-major form, and zero-filled inputs by length (steering off, clamp
   * slots unused, pooling not asked). onnxruntime does not
   * write to its inputs.
   */
  private readonly layerMajor = new WeakMap<Float32Array, Float32Array>();
  private readonly zeros = new Map<number, Float32Array>();
  private released = false;

  private constructor(
    readonly session: ort.InferenceSession,
    readonly config: ModelConfig,
    readonly options: GraphOptions,
  ) {
    this.hasSlidingBias = session.inputNames.includes('attn_bias_sliding');
    this.inputs = new Set(session.inputNames);
    this.hasTopK = this.inputs.has('top_k');
  }

  /** What this session's cache inputs hold (`GraphOptions.kvCache`). */
  get kvCache(): KVCacheKind {
    return this.options.kvCache ?? 'f32';
  }

  /**
   * A cache of the kind this session reads (`KVCache`'s arguments after the model's layer, head and
   * head-size counts).
   *
   * @example const cache = session.newCache(B, promptLength + 64, promptLength + maxNew + 1, { pooled: true });
   */
  newCache(batch: number, capacity?: number, maxCapacity?: number, opts: { pooled?: boolean } = {}): KVCache {
    const c = this.config;
    return new KVCache(c.numHiddenLayers, batch, c.numKeyValueHeads, c.headDim, capacity, maxCapacity, { ...opts, kind: this.kvCache });
  }

  /** The request field that fetches no logits where the graph allows it (a call whose logits nothing reads). */
  get noLogits(): { topK?: number } {
    return this.hasTopK ? { topK: 0 } : {};
  }

  /** Builds (or reuses) the graph file beside the converted weights and opens a session on it. */
  static async create(
    folder: string,
    manifest: ConvertedWeights,
    config: ModelConfig,
    graph: GraphOptions,
    opts: SessionOptions = {},
  ): Promise<DecoderSession> {
    const file = path.join(folder, `graph-v${GRAPH_BUILDER_VERSION}-${graphKey(graph)}.onnx`);
    try {
      await fs.access(file);
    } catch {
      const g = buildDecoderGraph(config, manifest, manifest.weightsFile, graph);
      await atomicWrite(file, encodeModel(g.build('decoder')));
    }
    const device = opts.device ?? 'cpu';
    const threads = opts.threads ?? defaultThreads();
    let session: ort.InferenceSession;
    try {
      session = await ort.InferenceSession.create(file, {
        executionProviders: [device === 'cpu' ? 'cpu' : device],
        intraOpNumThreads: threads,
        interOpNumThreads: 1,
        // 'extended', not 'all': with 'all', the per-block steering add made f32 decode 3× slower (215 vs 87 ms/token on Qwen3-0.6B's shape).
        graphOptimizationLevel: 'extended',
        enableCpuMemArena: true,
        // A developer's switch: PERSONA_ORT_PROFILE=prefix writes onnxruntime's per-node profile (JSON) when the session is released.
        ...(process.env.PERSONA_ORT_PROFILE ? { enableProfiling: true, profileFilePrefix: process.env.PERSONA_ORT_PROFILE } : {}),
      });
    } catch (err) {
      const msg = (err as Error).message;
      if (device !== 'cpu' && /provider|EP|not (found|supported|available)|cuda|coreml/i.test(msg)) {
        throw new PersonaError(
          `The ${device} execution provider is not available in this onnxruntime-node install (${msg.split('\n')[0]}). ` +
            (device === 'cuda'
              ? 'Reinstall with CUDA binaries: ONNXRUNTIME_NODE_INSTALL=cuda12 npm rebuild onnxruntime-node (needs CUDA 12 and cuDNN 9), or use --device cpu.'
              : 'CoreML runs on macOS only; use --device cpu elsewhere.'),
          { cause: err },
        );
      }
      throw new PersonaError(`onnxruntime could not load the model graph ${file}: ${msg}`, { cause: err });
    }
    return new DecoderSession(session, config, graph);
  }

  /**
   * Runs one forward pass. Runs still in flight when the session is released finish first: releasing
   * an onnxruntime session under a running call aborts the process.
   */
  async run(req: ForwardRequest): Promise<ForwardResult> {
    if (this.released) throw new PersonaError('This model has been disposed; load it again to run it.');
    const p = this.forward(req);
    this.inFlight.add(p);
    try {
      return await p;
    } finally {
      this.inFlight.delete(p);
    }
  }

  private async forward(req: ForwardRequest): Promise<ForwardResult> {
    const c = this.config;
    const { batch: B, seq: T } = req;
    const L = c.numHiddenLayers;
    const H = c.hiddenSize;
    const kvH = c.numKeyValueHeads;
    const D = c.headDim;
    const G = c.numAttentionHeads / kvH;
    const P = req.cache?.length ?? 0;
    const S = P + T;
    if (req.cache && P > 0 && req.cache.batch !== B) throw new InvalidArgumentError(`The cache holds ${req.cache.batch} rows, the request ${B}.`);
    if (req.inputIds.length !== B * T) throw new InvalidArgumentError(`inputIds has ${req.inputIds.length} ids, expected ${B}×${T}.`);
    if (req.keyMask.length !== B * S) throw new InvalidArgumentError(`keyMask has ${req.keyMask.length} entries, expected ${B}×${S}.`);
    if (S > c.maxPositionEmbeddings) {
      throw new InvalidArgumentError(
        `The context (${S} tokens) is longer than the model's maximum of ${c.maxPositionEmbeddings} positions. Shorten the prompt or lower max new tokens.`,
      );
    }

    const feeds: Record<string, ort.Tensor> = {};
    const ids = new BigInt64Array(B * T);
    for (let i = 0; i < ids.length; i++) ids[i] = BigInt(req.inputIds[i]);
    feeds.input_ids = new ort.Tensor('int64', ids, [B, T]);
    if (this.options.logits === 'targets') {
      // N may be 0 (generation on the scoring-capable graph): the scored gather and output layer then run on no rows.
      const n = req.score?.index.length ?? 0;
      if (req.score && req.score.token.length !== req.score.index.length)
        throw new InvalidArgumentError('score.index and score.token must have the same length.');
      const index = new BigInt64Array(n),
        token = new BigInt64Array(n);
      for (let i = 0; i < (req.score?.index.length ?? 0); i++) {
        if (!(req.score!.index[i] >= 0 && req.score!.index[i] < B * T))
          throw new InvalidArgumentError(`score.index ${req.score!.index[i]} is outside the ${B}×${T} positions.`);
        index[i] = BigInt(req.score!.index[i]);
        token[i] = BigInt(req.score!.token[i]);
      }
      feeds.score_index = new ort.Tensor('int64', index, [n]);
      feeds.score_target = new ort.Tensor('int64', token, [n]);
    }

    const pos = new BigInt64Array(B * T);
    for (let i = 0; i < pos.length; i++) pos[i] = BigInt(req.positions[i]);
    feeds.position_ids = new ort.Tensor('int64', pos, [B, T]);

    // The cache is fed whole (capacity C); with nothing cached yet, an empty past — for an int8 cache
    // one masked zero slot instead (onnxruntime's DynamicQuantizeMatMul leaves its output unwritten
    // when the inner dimension is 0).
    const cached = req.cache !== undefined && P > 0;
    const int8 = this.kvCache === 'int8';
    const C = cached ? req.cache!.capacity : int8 ? 1 : 0;
    feeds.attn_bias = new ort.Tensor('float32', attentionBias(req.keyMask, B, T, P, C, G, null), [B, 1, G * T, C + T]);
    if (this.hasSlidingBias)
      feeds.attn_bias_sliding = new ort.Tensor('float32', attentionBias(req.keyMask, B, T, P, C, G, c.slidingWindow), [B, 1, G * T, C + T]);

    if (req.cache && req.cache.kind !== this.kvCache)
      throw new InvalidArgumentError(`The cache holds ${req.cache.kind} keys and values; this session reads ${this.kvCache} (make it with session.newCache).`);
    if (int8) {
      const [noInts, noScales] = [new Int8Array(B * kvH * D), this.zeroInput(B * kvH)];
      for (let l = 0; l < L; l++) {
        feeds[`past_k_${l}`] = new ort.Tensor('int8', cached ? (req.cache!.k[l] as Int8Array) : noInts, [B, kvH, D, C]);
        feeds[`past_k_scale_${l}`] = new ort.Tensor('float32', cached ? req.cache!.kScale[l] : noScales, [B, kvH, 1, C]);
        feeds[`past_v_${l}`] = new ort.Tensor('int8', cached ? (req.cache!.v[l] as Int8Array) : noInts, [B, kvH, C, D]);
        feeds[`past_v_scale_${l}`] = new ort.Tensor('float32', cached ? req.cache!.vScale[l] : noScales, [B, kvH, 1, C]);
      }
    } else {
      const empty = new Float32Array(0);
      for (let l = 0; l < L; l++) {
        feeds[`past_k_${l}`] = new ort.Tensor('float32', C ? (req.cache!.k[l] as Float32Array) : empty, [B, kvH, C, D]);
        feeds[`past_v_${l}`] = new ort.Tensor('float32', C ? (req.cache!.v[l] as Float32Array) : empty, [B, kvH, C, D]);
      }
    }
    if (req.steer?.delta && !this.inputs.has('steer'))
      throw new InvalidArgumentError('This session was built without steering; it cannot add a persona vector.');
    if (this.inputs.has('steer')) feeds.steer = new ort.Tensor('float32', this.steerInput(req.steer?.delta, B), [L * B, 1, H]);
    const clamp = req.steer?.clamp;
    if (clamp && !this.options.projectionClamp) {
      throw new InvalidArgumentError('This session was built without the projection clamp (ablate/cap); open one with CLAMP_GRAPH.');
    }
    if (this.options.projectionClamp) {
      const K = CLAMP_SLOTS;
      feeds.clamp_dir = new ort.Tensor('float32', clamp?.dir ?? this.zeroInput(B * L * K * H), [B, L, K, H]);
      feeds.clamp_lo = new ort.Tensor('float32', clamp?.lo ?? this.zeroInput(B * L * K), [B, L, K]);
      feeds.clamp_hi = new ort.Tensor('float32', clamp?.hi ?? this.zeroInput(B * L * K), [B, L, K]);
    }
    if (req.poolWeights && !this.options.pooling) throw new InvalidArgumentError('This session was built without pooling; it cannot read pooled residuals.');
    if (this.options.pooling) {
      // Nothing to pool: an empty [B,1,0], so the graph stacks no positions.
      const K = req.poolWeights ? (req.pools ?? 1) : 1;
      const P = req.poolWeights ? req.poolWeights.length / (B * K) : 0;
      if (req.poolWeights && !(Number.isInteger(K) && K >= 1 && Number.isInteger(P) && P >= 1 && P <= T))
        throw new InvalidArgumentError(
          `poolWeights has ${req.poolWeights.length} weights: expected ${B}×${K}×P for the last P of the ${T} new positions (1 ≤ P ≤ ${T}).`,
        );
      feeds.pool_weights = new ort.Tensor('float32', req.poolWeights ?? new Float32Array(0), [B, K, P]);
    }

    const topK = req.topK;
    if (topK !== undefined) {
      if (!this.hasTopK) throw new InvalidArgumentError(`This session's graph (logits "${this.options.logits}") has no top-k output.`);
      if (!Number.isInteger(topK) || topK < 0 || topK > c.vocabSize)
        throw new InvalidArgumentError(`topK must be an integer in 0..${c.vocabSize}; got ${topK}.`);
    }
    if (this.hasTopK) feeds.top_k = new ort.Tensor('int64', BigInt64Array.of(BigInt(topK ?? 0)), [1]);
    const fetches = topK === undefined ? ['logits'] : topK > 0 ? ['top_logits', 'top_ids'] : [];
    for (let l = 0; l < L; l++) fetches.push(`new_k_${l}`, `new_v_${l}`);
    if (req.poolWeights) fetches.push('pooled');
    if (this.options.logits === 'targets') fetches.push('score_logprobs');
    if (req.extraOutputs) fetches.push(...req.extraOutputs);
    const out = await this.session.run(feeds, fetches);
    const f = (name: string) => out[name].data as Float32Array;
    const extra: Record<string, Float32Array> = {};
    for (const n of req.extraOutputs ?? []) extra[n] = f(n);
    let logits = topK === undefined ? f('logits') : undefined;
    let allLogits: Float32Array | undefined;
    if (this.options.logits === 'all') {
      allLogits = logits!;
      const V = c.vocabSize;
      logits = new Float32Array(B * V);
      for (let b = 0; b < B; b++) logits.set(allLogits.subarray((b * T + T - 1) * V, (b * T + T) * V), b * V);
    }
    return {
      logits,
      top: topK ? { k: topK, values: f('top_logits'), ids: out.top_ids.data as BigInt64Array } : undefined,
      allLogits,
      newK: Array.from({ length: L }, (_, l) => f(`new_k_${l}`)),
      newV: Array.from({ length: L }, (_, l) => f(`new_v_${l}`)),
      pooled: req.poolWeights ? f('pooled') : undefined,
      scoreLogProbs: this.options.logits === 'targets' ? f('score_logprobs').subarray(0, req.score?.index.length ?? 0) : undefined,
      extra,
    };
  }

  /** The steering input [L·B,1,H] for per-row deltas [B·L·H] (zeros when none), built once per delta array. */
  private steerInput(delta: Float32Array | undefined, B: number): Float32Array {
    const { numHiddenLayers: L, hiddenSize: H } = this.config;
    if (!delta) return this.zeroInput(L * B * H);
    let feed = this.layerMajor.get(delta);
    if (!feed) this.layerMajor.set(delta, (feed = steeringFeed(delta, B, L, H)));
    return feed;
  }

  /** An all-zero input of n floats, shared by the calls that feed one of that length. */
  private zeroInput(n: number): Float32Array {
    let z = this.zeros.get(n);
    if (!z) {
      if (this.zeros.size >= 16) this.zeros.clear();
      this.zeros.set(n, (z = new Float32Array(n)));
    }
    return z;
  }

  /** Waits for the runs in flight, then frees the session; later runs fail with a clear error. */
  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    await Promise.allSettled([...this.inFlight]);
    await this.session.release();
  }
}

/** Threads for onnxruntime: the cores available (2 on the reference machine). */
export function defaultThreads(): number {
  return Math.max(1, typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length);
}

/**
 * The steering input [L·B,1,H] (layer-major, so the graph splits it into one [B,1,H] per block) from
 * per-row deltas [B·L·H]; zeros when nothing is added.
 */
export function steeringFeed(delta: Float32Array | undefined, B: number, L: number, H: number): Float32Array {
  if (!delta) return new Float32Array(L * B * H);
  if (B === 1) return delta;
  const out = new Float32Array(L * B * H);
  for (let l = 0; l < L; l++) for (let b = 0; b < B; b++) out.set(delta.subarray((b * L + l) * H, (b * L + l + 1) * H), (l * B + b) * H);
  return out;
}

/**
 * Additive attention bias [B,1,G·T,C+T] (rows g-major). Columns 0..C−1 are cache slots (slot s holds
 * position s when s < P; later slots are unused), then the T new positions. 0 where query t (at
 * position P+t) may see the key — a real token, not in the future, inside the sliding window if
 * any — else −1e30 (finite, so fully masked padding rows give no NaN). `keyMask` is [B·(P+T)].
 */
export function attentionBias(keyMask: Uint8Array, B: number, T: number, P: number, C: number, G: number, window: number | null): Float32Array {
  const S = P + T;
  const W = C + T;
  const out = new Float32Array(B * G * T * W);
  const row = new Float32Array(W);
  for (let b = 0; b < B; b++) {
    for (let t = 0; t < T; t++) {
      const qi = P + t;
      row.fill(NEG);
      for (let s = 0; s < Math.min(P, C); s++) {
        if (keyMask[b * S + s] === 1 && (window === null || qi - s < window)) row[s] = 0;
      }
      for (let j = 0; j <= t; j++) {
        const pos = P + j;
        if (keyMask[b * S + pos] === 1 && (window === null || qi - pos < window)) row[C + j] = 0;
      }
      for (let gi = 0; gi < G; gi++) out.set(row, ((b * G + gi) * T + t) * W);
    }
  }
  return out;
}
