import type { ConvertedWeights } from '../engine/convert/ConvertedWeights.js';
import type { Precision } from '../engine/convert/Precision.js';
import { DecoderSession } from '../engine/DecoderSession.js';
import { generateBatch } from '../engine/generate/generateBatch.js';
import { CLAMP_GRAPH, GENERATION_GRAPH, type GraphOptions } from '../engine/graph/GraphOptions.js';
import type { KVCacheKind } from '../engine/KVCache.js';
import { openDecoder } from '../engine/openDecoder.js';
import type { ModelConfig } from '../model/config/ModelConfig.js';
import type { ProgressCallback } from '../util/progress.js';
import type { EvaluationBench } from './benchEvaluation.js';
import type { TrainBench } from './benchTrain.js';
import { median } from '../util/numerics.js';
import { decode, decoder, enginePrefill, prefill, randomIds } from './decodeTiming.js';
import { withPeakRss } from './peakRss.js';
import { spreadOf, type RatioSpread } from './interleaveRounds.js';
import { convertForBench } from './convertForBench.js';
import type { MachineBounds } from './machineBounds.js';
import { profileSteering } from './steeringProfile.js';

export interface PrecisionResult {
  precision: Precision;
  load_ms: number;
  rss_mib: number;
  /** Bytes of weights read per decoded token (matrices; the tied output layer counted once). */
  bytes_per_token: number;
  /** Prompts of 128 and 512 tokens read through the engine's prompt path (`enginePrefill`). */
  prefill_tok_s: Record<string, number>;
  decode_tok_s: Record<string, number>;
  bound_decode_tok_s: number;
  bound_prefill_tok_s: number;
  /** decode at 128 context, batch 1, over its bound. */
  decode_share_of_bound: number;
  prefill_share_of_bound: number;
  /** Steered decode step over the same step in a graph without the steering add, minus 1 (median of interleaved pairs). */
  steering_overhead: number;
  /** The same paired measurement split into 3 rounds (one median per round): the method's own run-to-run spread. */
  steering_overhead_rounds: number[];
  /**
   * The steering nodes' share of a steered decode step's kernel time at 128 context, from
   * onnxruntime's per-node profile (median and range of 3 fresh sessions): the steering add per
   * block, and, in the clamp graph (ablate / cap), every clamp op plus the add.
   */
  steering_profile_share: { add: RatioSpread; clamp: RatioSpread };
  /** Bytes of the converted weights (MiB). */
  weights_mib: number;
  /**
   * The highest RSS of load and of each prefill and decode measurement, each measured from a garbage
   * collection (Linux's high-water mark reset before it). onnxruntime's arena keeps what the largest
   * call grew it to (~290 MiB after a 512-token prefill on the Qwen3-0.6B shape at q4), so later
   * measurements carry it: this is what a session that has run all of them holds at most.
   */
  peak_rss_mib: number;
  /** Batch-8 decode over batch-1 decode at 128 context: with `--vs`, the median over the interleaved rounds (see the spread). */
  batch8_over_batch1: number;
  /** With `--vs`: the batch-8 / batch-1 ratio of every round of ours (each round a fresh process), median and range. */
  batch8_over_batch1_spread?: RatioSpread;
  /** The answer phase of `train` (batched sampled generation) and its activation pass. */
  train_answer_tok_s: number;
  train_activation_tok_s: number;
  /** train_answer_tok_s / decode_tok_s.ctx128_b8; the target is ≥ 0.5 (train's sampled answers at least half as fast as batched greedy decode). */
  train_answer_over_decode_b8: number;
  /** train_activation_tok_s / prefill_tok_s['128']; the target is ≥ 0.6 (the pooled activation pass costs little more than a plain prefill). */
  train_activation_over_prefill: number;
  /** Decode (batch 1) after each context of `--contexts`, with the process's RSS. */
  context_sweep?: ContextSweepPoint[];
  /** With `--train`: one whole `train` and its phases. */
  train?: TrainBench;
  /** With `--evaluation`. */
  evaluation?: EvaluationBench;
}

/** One context length of the sweep. */
export interface ContextSweepPoint {
  requested: number;
  /** The context measured: `requested`, capped by the model's positions. */
  ctx: number;
  decode_tok_s: number;
  /** One prompt of `ctx` tokens read the way the engine reads a prompt (chunked, the cache growing), for contexts of 4,096 and more. */
  prefill_tok_s?: number;
  /** prefill_tok_s over the same engine path's rate on a 512-token prompt, measured in the same process (#16 asks ≥ 0.6 at 4,096). */
  prefill_over_512?: number;
  /** Peak RSS while that prompt was read (garbage collected and the high-water mark reset first). */
  prefill_peak_rss_mib?: number;
  /** Peak RSS over the decode steps at this context (after the cache was filled; collected and reset first). */
  decode_peak_rss_mib: number;
  /** decode_peak_rss_mib / (weights + this KV cache) (#16 asks ≤ 1.25 at 8,192). */
  decode_peak_over_weights_and_cache: number;
  /** The process's RSS right after this point's decode (and prefill), its cache not yet collected. */
  rss_mib: number;
  /** The process's peak RSS so far (monotonic; includes the untimed conversion pass at the start, so it is an upper bound). */
  process_peak_rss_mib: number;
  /** What the cache held in this point's measurements. */
  kv_cache: KVCacheKind;
  /** The KV cache of the decode measurement (int8: its values and their per-position scales). */
  kv_cache_mib: number;
  /** Bytes of the converted weights. */
  weights_mib: number;
}

export interface BenchOptions {
  threads: number;
  decodeSteps: number;
  reps: number;
  /** Also measure decode through an int8 KV cache (`decode_tok_s.*_kv8`, in a session of its own). */
  int8Cache?: boolean;
  /** Only load, RSS, prefill and decode (a later round of an interleaved comparison): no steering or train phases. */
  figuresOnly?: boolean;
  onProgress?: ProgressCallback;
  log?: (line: string) => void;
}

/** Bytes of matrix weights read to decode one token. */
export function bytesPerToken(m: ConvertedWeights): number {
  let bytes = 0;
  for (const lin of Object.values(m.linears)) {
    if (lin.kind === 'f32') bytes += m.tensors[lin.weight].length;
    else bytes += m.tensors[lin.b].length + m.tensors[lin.scales].length;
  }
  if (!m.linears.lm_head) bytes += m.tensors['lm_head.weight']?.length ?? m.tensors['embed.weight'].length;
  return bytes;
}

/** Bytes of the converted weights, in MiB. */
function weightsMib(m: ConvertedWeights): number {
  return Object.values(m.tensors).reduce((n, t) => n + t.length, 0) / (1 << 20);
}

/** FLOPs per prompt token in prefill at length T: the block matmuls plus causal attention. */
export function prefillFlopsPerToken(c: ModelConfig, m: ConvertedWeights, T: number): number {
  let params = 0;
  for (const [name, lin] of Object.entries(m.linears)) if (name !== 'lm_head') params += lin.in * lin.out;
  const attn = c.numHiddenLayers * 2 * 2 * (T / 2) * c.numAttentionHeads * c.headDim;
  return 2 * params + attn;
}

/**
 * Measures one precision of a model folder: load, RSS, prefill at 128/512, decode at 128/1024 context
 * (batch 1 and 8), steering overhead against a graph without the steering add, and the two phases of
 * `train`; bounds from `measureMachineBounds` measured in the same run.
 */
export async function benchPrecision(dir: string, precision: Precision, bounds: MachineBounds, o: BenchOptions): Promise<PrecisionResult> {
  const log = o.log ?? (() => {});
  // Convert once, untimed, without opening a session (a released session's memory would count in the peak RSS below).
  await convertForBench(dir, precision, o.onProgress);
  // The highest RSS of any one measurement below (load, each prefill, each decode), each after a
  // garbage collection: what an earlier measurement left for the collector does not count.
  let peak = 0;
  const tracked = async <T>(phase: () => Promise<T>): Promise<T> => {
    const { value, peakMib } = await withPeakRss(phase);
    peak = Math.max(peak, peakMib);
    return value;
  };
  let load_ms = 0;
  const {
    session,
    config: c,
    manifest,
    folder,
  } = await tracked(async () => {
    const t0 = performance.now();
    const opened = await openDecoder(dir, { precision, threads: o.threads });
    load_ms = performance.now() - t0;
    return opened;
  });
  const rss_mib = process.memoryUsage().rss / (1 << 20);
  log(`${precision}: loaded in ${load_ms.toFixed(0)} ms, RSS ${rss_mib.toFixed(0)} MiB`);

  const prefill_tok_s: Record<string, number> = {};
  const fit = contextFit(c, o.decodeSteps);
  for (const T0 of [128, 512]) {
    const T = Math.min(T0, c.maxPositionEmbeddings);
    // Through the engine's own prompt path (chunks of 256, the cache growing as it is read): what a
    // user's prompt of T tokens costs, and the same path the context sweep's 4,096 and 8,192 take.
    await enginePrefill(session, Math.min(T, 16));
    const times: number[] = [];
    for (let r = 0; r < o.reps; r++) times.push(await tracked(() => enginePrefill(session, T)));
    prefill_tok_s[String(T0)] = T / median(times);
    log(`${precision}: prefill ${T}: ${prefill_tok_s[String(T0)].toFixed(1)} tok/s`);
  }
  const decode_tok_s: Record<string, number> = {};
  // Decode at 128 and 1,024 tokens of context (batch 1) and at 128 (batch 8); `suffix` names the cache kind.
  const decodeFigures = async (s: DecoderSession, suffix: string, measure: <T>(f: () => Promise<T>) => Promise<T>) => {
    for (const [name, ctx, B] of [
      ['ctx128_b1', 128, 1],
      ['ctx1024_b1', 1024, 1],
      ['ctx128_b8', 128, 8],
    ] as const) {
      decode_tok_s[name + suffix] = B / (await measure(() => decode(s, fit(ctx), B, o.decodeSteps)));
      log(`${precision}: decode ${name + suffix}: ${decode_tok_s[name + suffix].toFixed(2)} tok/s`);
    }
  };
  await decodeFigures(session, '', tracked);
  if (o.int8Cache) {
    // The same decode measurements through an int8 KV cache, in a session of its own (released before
    // the rest; outside the highest-RSS figure, which is the f32 cache's).
    const int8 = await DecoderSession.create(folder, manifest, c, { ...GENERATION_GRAPH, kvCache: 'int8' }, { threads: o.threads });
    await decodeFigures(int8, '_kv8', (f) => f());
    await int8.release();
  }

  const bpt = bytesPerToken(manifest);
  const bound_decode_tok_s = bounds.readBandwidth / bpt;
  const bound_prefill_tok_s = bounds.matmulFlops / prefillFlopsPerToken(c, manifest, 128);
  const figures = {
    precision,
    load_ms,
    rss_mib,
    bytes_per_token: bpt,
    prefill_tok_s,
    decode_tok_s,
    bound_decode_tok_s,
    bound_prefill_tok_s,
    decode_share_of_bound: decode_tok_s.ctx128_b1 / bound_decode_tok_s,
    prefill_share_of_bound: prefill_tok_s['128'] / bound_prefill_tok_s,
    batch8_over_batch1: decode_tok_s.ctx128_b8 / decode_tok_s.ctx128_b1,
    weights_mib: weightsMib(manifest),
    peak_rss_mib: peak,
  };
  if (o.figuresOnly) {
    await session.release();
    const nan = Number.NaN;
    const none = { median: nan, min: nan, max: nan, rounds: [] };
    return {
      ...figures,
      steering_overhead: nan,
      steering_overhead_rounds: [],
      steering_profile_share: { add: none, clamp: none },
      train_answer_tok_s: nan,
      train_activation_tok_s: nan,
      train_answer_over_decode_b8: nan,
      train_activation_over_prefill: nan,
    };
  }

  // Steering overhead: the steered graph with a non-zero vector vs a graph built without the add,
  // both opened fresh: the session above has served every prefill and batch size by now (its memory
  // arena grown with them), and against a fresh plain session its q4 steps read 1.4–8% slower in
  // three runs while an onnxruntime profile put the steering ops at ~1% of the step.
  const steered = await DecoderSession.create(folder, manifest, c, GENERATION_GRAPH, { threads: o.threads });
  const plain = await DecoderSession.create(folder, manifest, c, { ...GENERATION_GRAPH, steering: false, projectionClamp: false }, { threads: o.threads });
  const steer = new Float32Array(c.numHiddenLayers * c.hiddenSize).fill(0.01);
  const n = 5 * o.decodeSteps;
  const stepOn = await decoder(steered, fit(128), 1, n, steer);
  const stepOff = await decoder(plain, fit(128), 1, n);
  // Median of the paired ratios (steered step / plain step right after it): drift in machine load
  // cancels within a pair.
  const ratios: number[] = [];
  for (let r = 0; r < n; r++) {
    const on = await stepOn();
    ratios.push(on / (await stepOff()));
  }
  const steering_overhead = median(ratios) - 1;
  const third = Math.ceil(n / 3);
  const steering_overhead_rounds = [0, 1, 2]
    .map((k) => ratios.slice(k * third, (k + 1) * third))
    .filter((x) => x.length)
    .map((x) => median(x) - 1);
  await plain.release();
  await steered.release();
  log(
    `${precision}: steering overhead ${(steering_overhead * 100).toFixed(2)}% (rounds ${steering_overhead_rounds.map((x) => (x * 100).toFixed(2)).join(', ')}%)`,
  );
  const profiled = async (graph: GraphOptions): Promise<RatioSpread> => {
    const shares: number[] = [];
    for (let r = 0; r < 3; r++)
      shares.push((await profileSteering(folder, manifest, c, graph, { threads: o.threads, ctx: fit(128), steps: o.decodeSteps })).share);
    return spreadOf(shares);
  };
  const steering_profile_share = { add: await profiled(GENERATION_GRAPH), clamp: await profiled(CLAMP_GRAPH) };
  const pct = (x: RatioSpread) => `${(x.median * 100).toFixed(2)}% (${(x.min * 100).toFixed(2)}–${(x.max * 100).toFixed(2)})`;
  log(
    `${precision}: steering ops in the onnxruntime profile: add ${pct(steering_profile_share.add)}, clamp graph ${pct(steering_profile_share.clamp)} of a step`,
  );

  // train phases: sampled answers for 8 prompts of 64 tokens, then the pooled activation pass.
  const prompts = Array.from({ length: 8 }, (_, b) => randomIds(64, c.vocabSize, 100 + b));
  const newTokens = Math.min(48, c.maxPositionEmbeddings - 66); // train's default answer length
  let t = performance.now();
  await generateBatch(
    session,
    prompts.map((p, b) => ({ promptIds: p, maxNewTokens: newTokens, sampling: { temperature: 0.8, seed: b } })),
    { stopTokenIds: [], padTokenId: 0 },
  );
  const genSecs = (performance.now() - t) / 1000;
  // Generated tokens over the whole phase's time, the prompts' prefill included.
  const train_answer_tok_s = (8 * newTokens) / genSecs;
  t = performance.now();
  await prefill(session, 64 + newTokens, 8, true);
  const train_activation_tok_s = (8 * (64 + newTokens)) / ((performance.now() - t) / 1000);
  log(`${precision}: train answers ${train_answer_tok_s.toFixed(1)} tok/s, activations ${train_activation_tok_s.toFixed(1)} tok/s`);

  await session.release();

  return {
    ...figures,
    steering_overhead,
    steering_overhead_rounds,
    steering_profile_share,
    train_answer_tok_s,
    train_activation_tok_s,
    train_answer_over_decode_b8: train_answer_tok_s / decode_tok_s.ctx128_b8,
    train_activation_over_prefill: train_activation_tok_s / prefill_tok_s['128'],
  };
}

/**
 * The context sweep, in a process of its own (`runBench` starts one per precision: what the other
 * measurements leave resident — released sessions' memory, onnxruntime's arena — would otherwise
 * count in its peak RSS): decode after each context at batch 1, capped by the model's positions, with
 * the peak RSS over the decode steps; from 4,096 tokens, the prefill of one prompt that long through
 * the engine's prompt path against the same path's 512-token rate.
 *
 * @example const points = await benchContextSweep(dir, 'q4', { threads: 2, decodeSteps: 16, reps: 3, contexts: [128, 8192] });
 */
export async function benchContextSweep(
  dir: string,
  precision: Precision,
  o: { threads: number; decodeSteps: number; reps: number; contexts: number[]; kvCache?: KVCacheKind; log?: (line: string) => void },
): Promise<ContextSweepPoint[]> {
  const log = o.log ?? (() => {});
  const kv_cache = o.kvCache ?? 'f32';
  const { session, config: c, manifest } = await openDecoder(dir, { precision, threads: o.threads, kvCache: kv_cache });
  // Bytes per cached position and kv head: D values (4 bytes each in f32, 1 in int8 plus a 4-byte scale).
  const perHeadPosition = kv_cache === 'int8' ? c.headDim + 4 : 4 * c.headDim;
  const fit = contextFit(c, o.decodeSteps);
  const context_sweep: ContextSweepPoint[] = [];
  const weights_mib = weightsMib(manifest);
  // The reference for long prompts: a 512-token prompt through the same engine path, in this process.
  const engine512 = o.contexts.some((x) => x >= 4096) ? await enginePrefillRate(session, fit(512), o.reps) : NaN;
  for (const requested of o.contexts) {
    const ctx = fit(requested);
    const kv_cache_mib = (2 * c.numHiddenLayers * c.numKeyValueHeads * perHeadPosition * (ctx + o.decodeSteps + 1)) / (1 << 20);
    let step: (() => Promise<number>) | undefined = await decoder(session, ctx, 1, o.decodeSteps);
    const decoded = await withPeakRss(async () => {
      const times: number[] = [];
      for (let i = 0; i < o.decodeSteps; i++) times.push(await step!());
      return median(times);
    });
    step = undefined; // the cache goes before the prefill below
    const point: ContextSweepPoint = {
      requested,
      ctx,
      decode_tok_s: 1 / decoded.value,
      decode_peak_rss_mib: decoded.peakMib,
      decode_peak_over_weights_and_cache: decoded.peakMib / (weights_mib + kv_cache_mib),
      rss_mib: 0,
      process_peak_rss_mib: 0,
      kv_cache,
      kv_cache_mib,
      weights_mib,
    };
    if (requested >= 4096) {
      const read = await withPeakRss(() => enginePrefill(session, ctx));
      point.prefill_tok_s = ctx / read.value;
      point.prefill_over_512 = point.prefill_tok_s / engine512;
      point.prefill_peak_rss_mib = read.peakMib;
    }
    point.rss_mib = process.memoryUsage().rss / (1 << 20);
    point.process_peak_rss_mib = process.resourceUsage().maxRSS / 1024;
    context_sweep.push(point);
    log(
      `${precision}, ${kv_cache} cache: context ${ctx}: decode ${point.decode_tok_s.toFixed(2)} tok/s, peak RSS ${decoded.peakMib.toFixed(0)} MiB = ${point.decode_peak_over_weights_and_cache.toFixed(2)} × (weights ${weights_mib.toFixed(0)} + KV cache ${kv_cache_mib.toFixed(0)} MiB)` +
        (point.prefill_tok_s
          ? `; prefill ${point.prefill_tok_s.toFixed(1)} tok/s = ${point.prefill_over_512!.toFixed(2)} × the 512-token rate (${engine512.toFixed(1)}), peak RSS ${point.prefill_peak_rss_mib!.toFixed(0)} MiB`
          : ''),
    );
  }
  await session.release();
  return context_sweep;
}

/** Lengths capped by the model's context (tiny test models have 128 positions; the steering check runs 5 × steps). */
function contextFit(c: ModelConfig, decodeSteps: number): (n: number) => number {
  return (n) => Math.min(n, c.maxPositionEmbeddings - decodeSteps * 5 - 2);
}

/** Tokens/s of the engine's prompt read (`enginePrefill`) on a T-token prompt: median of `reps` after one warm-up. */
async function enginePrefillRate(session: DecoderSession, T: number, reps: number): Promise<number> {
  await enginePrefill(session, T);
  const times: number[] = [];
  for (let r = 0; r < Math.max(1, reps); r++) times.push(await enginePrefill(session, T));
  return T / median(times);
}
