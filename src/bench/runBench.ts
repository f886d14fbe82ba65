import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import type { Precision } from '../engine/convert/Precision.js';
import { personaCacheDir } from '../util/personaCacheDir.js';
import type { ProgressCallback } from '../util/progress.js';
import { benchPrecision, type PrecisionResult } from './benchEngine.js';
import { benchEvaluation } from './benchEvaluation.js';
import { benchTrain, type PhaseTimes } from './benchTrain.js';
import { sizeSweepPoint, type SizeSweepPoint } from './benchSizes.js';
import type { ConversionCost } from './convertForBench.js';
import type { KVCacheKind } from '../engine/KVCache.js';
import { LLAMA_CPP_TYPE, llamaCppFigures, ourFigures } from './compareEngines.js';
import { interleaveRounds, spreadOf, type InterleavedResult } from './interleaveRounds.js';
import { runLlamaCppComparison, type LlamaCppComparison } from './llamaCpp/runLlamaCppComparison.js';
import { measureMachineBounds, type MachineBounds } from './machineBounds.js';
import { writeRandomCheckpoint } from './randomCheckpoint.js';

/**
 * The folder the bench writes a config's random checkpoint into: under the persona cache, named by
 * the model type and a hash of the config.
 *
 * @example const dir = benchCheckpointDir(JSON.parse(await fs.readFile('qwen3-0.6b.json', 'utf8')));
 */
export function benchCheckpointDir(config: Record<string, unknown>): string {
  const key = createHash('sha256').update(JSON.stringify(config)).digest('hex').slice(0, 12);
  return path.join(personaCacheDir(), 'bench', `${config.model_type}-${key}`);
}

/**
 * What one bench measurement process (`persona bench --child`) measures for its one precision.
 *
 * @example const opts: BenchChildOptions = { threads: 2, decodeSteps: 16, reps: 3, evaluation: true, log: console.error };
 */
export interface BenchChildOptions {
  threads: number;
  /** Decode steps per measurement. */
  decodeSteps: number;
  /** Repetitions of each prefill measurement (median). */
  reps: number;
  /** Also decode through an int8 KV cache (`decode_tok_s.*_kv8`). */
  int8Cache?: boolean;
  /** Only load, RSS, prefill and decode (a later round of an interleaved comparison). */
  figuresOnly?: boolean;
  /** Also time an evaluation (5 alphas × 32 questions, scored) against batched decode. */
  evaluation?: boolean;
  /** Also time one whole train with its layer check, and the share of each phase. */
  train?: boolean;
  /** With `train`: also time analyze-layers on the persona the train made. */
  analyzeLayers?: boolean;
  log: (line: string) => void;
  onProgress?: ProgressCallback;
}

/**
 * One precision of the random checkpoint in `dir`, measured in this process against the given
 * machine bounds: the engine figures (`benchPrecision`), then the evaluation and train timings when
 * asked for. The bench runs this once per precision and round in a process of its own.
 *
 * @example const r = await benchOnePrecision(dir, 'q4', bounds, { threads: 2, decodeSteps: 16, reps: 3, log });
 */
export async function benchOnePrecision(dir: string, precision: Precision, bounds: MachineBounds, o: BenchChildOptions): Promise<PrecisionResult> {
  const { log } = o;
  const r: PrecisionResult = await benchPrecision(dir, precision, bounds, {
    threads: o.threads,
    decodeSteps: o.decodeSteps,
    reps: o.reps,
    figuresOnly: o.figuresOnly,
    int8Cache: o.int8Cache,
    log,
    onProgress: o.onProgress,
  });
  if (o.evaluation) {
    log(`${precision}: evaluation (5 alphas × 32 questions × 48 tokens, scored)…`);
    r.evaluation = await benchEvaluation(dir, precision, o.threads);
    log(
      `${precision}: evaluation ${r.evaluation.evaluation_tok_s.toFixed(1)} tok/s = ${r.evaluation.evaluation_over_decode_b8.toFixed(2)} × batched decode; peak RSS ${r.evaluation.evaluation_peak_rss_mib.toFixed(0)} MiB = ${r.evaluation.evaluation_over_generation_peak_rss.toFixed(2)} × generation-only (${r.evaluation.generation_peak_rss_mib.toFixed(0)} MiB)`,
    );
  }
  if (o.train) {
    log(`${precision}: train (20 + 20 prompts, 64-token answers, layer check)…`);
    r.train = await benchTrain(dir, precision, o.threads, { analyzeLayers: o.analyzeLayers });
    const shares = (t: PhaseTimes) => t.phases.map((x) => `${x.phase} ${(x.share * 100).toFixed(0)}%`).join(', ');
    log(`${precision}: train ${r.train.total_s.toFixed(1)} s: ${shares(r.train)}`);
    const a = r.train.analyze_layers;
    if (a) log(`${precision}: analyze-layers ${a.total_s.toFixed(1)} s (${a.generated_tokens} tokens generated): ${shares(a)}`);
  }
  return r;
}

/**
 * What `runBench` measures and how it starts its measurement processes.
 *
 * @example
 * const opts: RunBenchOptions = {
 *   configFile: 'data/configs/qwen3-0.6b.json', config, precisions: ['f32', 'q4'], threads: 2, decodeSteps: 16, reps: 3,
 *   contexts: [128, 1024], childCommand: [process.execPath, 'bin/persona.js', 'bench'], log: console.error,
 * };
 */
export interface RunBenchOptions {
  /** The config.json file giving the shape; each measurement process reads it again. */
  configFile: string;
  /** Its parsed contents. */
  config: Record<string, unknown>;
  precisions: Precision[];
  threads: number;
  /** Decode steps per measurement (and llama.cpp's decode tokens). */
  decodeSteps: number;
  /** Repetitions of each prefill measurement (and llama.cpp's repeats). */
  reps: number;
  /** Contexts of the decode sweep. */
  contexts: number[];
  /** KV cache kinds: the context sweep runs once per kind, and with int8 the figures include decode through an int8 cache (default f32 only). */
  kvCaches?: KVCacheKind[];
  /** Also time an evaluation in each precision's first measurement. */
  evaluation?: boolean;
  /** Also time one whole train in the first measurement of these precisions. */
  train?: Precision[];
  /** With `train`: also time analyze-layers on each timed train's persona. */
  analyzeLayers?: boolean;
  /** Run the same shape through llama.cpp too, interleaved with ours. */
  vs?: 'llama.cpp';
  /** With `vs`: interleaved rounds per precision (default 3). */
  rounds?: number;
  /** The model-size sweep: more shapes, each converted and measured (load, RSS, decode against its bound) at `sizePrecision`. */
  sizes?: { configFile: string; config: Record<string, unknown> }[];
  /** The size sweep's precision (default q4). */
  sizePrecision?: Precision;
  /**
   * How to start one measurement process: the program and its leading arguments, to which the bench
   * flags and `--child <bounds JSON>` are appended; it must print `benchOnePrecision`'s result as the
   * last line of its stdout (the CLI passes itself: `[node, persona.js, 'bench']`).
   */
  childCommand: string[];
  log: (line: string) => void;
  /** Makes the progress callback of one step (the checkpoint, each llama.cpp run), e.g. `() => progressBar()`. */
  progress?: () => ProgressCallback;
}

/**
 * The bench's report, as `persona bench --json` prints it.
 *
 * @example const { results, bounds }: BenchReport = await runBench(opts);
 */
export interface BenchReport {
  machine: { cpus: string | undefined; cores: number; memory_gib: number; node: string; date: string };
  shape: { config: string; model_type: unknown; layers: unknown; hidden: unknown };
  bounds: { read_bandwidth_GBps: number; matmul_GFLOPs: number; threads: number };
  results: Partial<Record<Precision, PrecisionResult>>;
  vs_llama_cpp?: LlamaCppComparison;
  rounds?: number;
  /** Per precision: our figures over llama.cpp's, median and range over the interleaved rounds. */
  ours_over_llama_cpp?: Partial<Record<Precision, InterleavedResult & { theirs: string }>>;
  /** With `sizes`: each shape's conversion, load, RSS and decode against its own bandwidth bound. */
  size_sweep?: SizeSweepPoint[];
}

/**
 * The whole bench: writes the config's random checkpoint, measures the machine's bounds, then
 * measures each precision in a process of its own (so RSS is that precision's own), and with `vs`
 * interleaves those processes with llama.cpp runs of the same shape (ours, theirs, ours, theirs …;
 * the first round of ours is the full measurement, later ones only the compared figures).
 *
 * @example const report = await runBench({ ...opts, vs: 'llama.cpp', rounds: 3 });
 */
export async function runBench(o: RunBenchOptions): Promise<BenchReport> {
  const { log, config: raw } = o;
  const rounds = o.rounds ?? 3;
  const dir = benchCheckpointDir(raw);
  await writeRandomCheckpoint(dir, raw, { onProgress: o.progress?.() });
  log(`measuring the machine's bounds (${o.threads} threads)…`);
  const bounds: MachineBounds = await measureMachineBounds(o.threads);
  log(`read bandwidth ${(bounds.readBandwidth / 1e9).toFixed(1)} GB/s, f32 matmul ${(bounds.matmulFlops / 1e9).toFixed(0)} GFLOP/s`);
  // One process per precision and round, so RSS is that precision's own.
  const kvCaches = o.kvCaches ?? ['f32'];
  const child = <T>(configFile: string, p: Precision, mode: 'full' | 'figures' | 'contexts' | 'convert', kv = kvCaches): T => {
    const figuresOnly = mode === 'figures';
    const [program, ...lead] = o.childCommand;
    const args = [
      ...lead,
      '--config',
      configFile,
      '--precision',
      p,
      '--threads',
      String(o.threads),
      '--steps',
      String(o.decodeSteps),
      '--reps',
      String(o.reps),
      '--contexts',
      o.contexts.join(','),
      '--kv-cache',
      kv.join(','),
    ];
    if (mode === 'full' && o.evaluation) args.push('--evaluation');
    if (mode === 'full' && o.train?.includes(p)) args.push('--train', ...(o.analyzeLayers ? ['--analyze-layers'] : []));
    if (figuresOnly) args.push('--figures-only');
    if (mode === 'contexts') args.push('--contexts-only');
    if (mode === 'convert') args.push('--convert-only');
    const r = spawnSync(program, [...args, '--child', JSON.stringify(bounds)], {
      stdio: ['ignore', 'pipe', 'inherit'],
      encoding: 'utf8',
      maxBuffer: 1 << 24,
    });
    if (r.status !== 0) throw new Error(`bench of ${p} failed (exit ${r.status})`);
    return JSON.parse(r.stdout.trim().split('\n').pop()!);
  };
  const ours = (p: Precision, mode: 'full' | 'figures' | 'contexts', kv?: KVCacheKind[]) => child<PrecisionResult>(o.configFile, p, mode, kv);
  // The first measurement of a precision, then its context sweep in a fresh process per cache kind (its peak RSS is its own).
  const full = (p: Precision): PrecisionResult => {
    const r = ours(p, 'full');
    if (o.contexts.length) r.context_sweep = kvCaches.flatMap((kv) => ours(p, 'contexts', [kv]).context_sweep!);
    return r;
  };
  const results: Partial<Record<Precision, PrecisionResult>> = {};
  let vs: LlamaCppComparison | undefined;
  const interleaved: Partial<Record<Precision, InterleavedResult & { theirs: string }>> = {};
  if (!o.vs) {
    for (const p of o.precisions) results[p] = full(p);
  } else {
    vs = { engine: '', threads: o.threads, results: {}, errors: {} };
    for (const p of o.precisions) {
      const type = LLAMA_CPP_TYPE[p];
      const batchRatios: number[] = [];
      const run = await interleaveRounds(
        async (round) => {
          log(`round ${round + 1}/${rounds}: ours ${p}`);
          const r = round > 0 ? ours(p, 'figures') : full(p);
          if (round === 0) results[p] = r;
          batchRatios.push(r.batch8_over_batch1);
          return ourFigures(r);
        },
        async (round) => {
          log(`round ${round + 1}/${rounds}: llama.cpp ${type}`);
          const c = await runLlamaCppComparison({
            config: raw,
            types: [type],
            threads: o.threads,
            repeats: o.reps,
            decodeTokens: o.decodeSteps,
            seed: round + 1,
            workDir: path.join(personaCacheDir(), 'bench'),
            onProgress: o.progress?.(),
          });
          vs!.engine = c.engine;
          const t = c.results[type];
          if (!t) throw new Error(`llama.cpp ${type} failed in round ${round + 1}: ${c.errors[type]}`);
          if (round === 0) vs!.results[type] = t;
          return llamaCppFigures(t);
        },
        rounds,
      );
      interleaved[p] = { theirs: type, ...run };
      // Every round measured batch 8 and batch 1 in its own process: report their median, not round 1's.
      const batch = spreadOf(batchRatios);
      results[p]!.batch8_over_batch1 = batch.median;
      results[p]!.batch8_over_batch1_spread = batch;
    }
  }
  // The model-size sweep: per shape, its conversion in one fresh process, then its figures in another.
  let size_sweep: SizeSweepPoint[] | undefined;
  if (o.sizes?.length) {
    const p = o.sizePrecision ?? 'q4';
    size_sweep = [];
    for (const { configFile, config } of o.sizes) {
      log(`size sweep: ${path.basename(configFile)} at ${p}`);
      await writeRandomCheckpoint(benchCheckpointDir(config), config, { onProgress: o.progress?.() });
      const conversion = child<ConversionCost>(configFile, p, 'convert');
      size_sweep.push(sizeSweepPoint(configFile, config, conversion, child<PrecisionResult>(configFile, p, 'figures', ['f32'])));
    }
  }
  return {
    machine: {
      cpus: os.cpus()[0]?.model,
      cores: os.availableParallelism?.() ?? os.cpus().length,
      memory_gib: +(os.totalmem() / 2 ** 30).toFixed(1),
      node: process.version,
      date: new Date().toISOString(),
    },
    shape: { config: path.basename(o.configFile), model_type: raw.model_type, layers: raw.num_hidden_layers, hidden: raw.hidden_size },
    bounds: { read_bandwidth_GBps: bounds.readBandwidth / 1e9, matmul_GFLOPs: bounds.matmulFlops / 1e9, threads: bounds.threads },
    results,
    ...(vs ? { vs_llama_cpp: vs, rounds, ours_over_llama_cpp: interleaved } : {}),
    ...(size_sweep ? { size_sweep } : {}),
  };
}
