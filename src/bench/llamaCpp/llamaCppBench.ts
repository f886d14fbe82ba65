import { spawn } from 'node:child_process';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { InvalidArgumentError, PersonaError } from '../../errors.js';
import { median } from '../../util/numerics.js';
import { randomInt, seededRandom } from '../../util/random.js';
import { ensureNodeLlamaCpp, type EnsureNodeLlamaCppOptions, type LlamaSequenceLike } from './nodeLlamaCpp.js';

export { ensureNodeLlamaCpp, NODE_LLAMA_CPP_VERSION } from './nodeLlamaCpp.js';

/** Options of `benchLlamaCpp`. */
export interface LlamaCppBenchOptions {
  ggufFile: string;
  /** Threads llama.cpp computes with (default 2). */
  threads?: number;
  /** Prompt lengths whose prefill is timed (default [128, 512]). */
  prefillLengths?: number[];
  /** Context lengths after which decoding is timed (default [128, 1024]). */
  decodeContexts?: number[];
  /** Tokens decoded per decode measurement (default 128). */
  decodeTokens?: number;
  /** Measurements of each kind; the median is reported (default 3). */
  repeats?: number;
  /** llama.cpp's flash attention setting (default 'auto', node-llama-cpp's default). */
  flashAttention?: 'auto' | boolean;
  /** Seed of the random token ids fed in (default 1). */
  seed?: number;
  /**
   * Run in a child Node process (default 'auto': yes when running from compiled JavaScript).
   * A child keeps llama.cpp's memory out of the caller's RSS and a llama.cpp abort out of the
   * caller; `rss_mib` is then the child's own.
   */
  isolate?: boolean | 'auto';
  /** Progress lines. */
  onLog?: (line: string) => void;
  /** How node-llama-cpp is found or installed. */
  nodeLlamaCpp?: Pick<EnsureNodeLlamaCppOptions, 'cacheDir' | 'install'>;
}

/**
 * llama.cpp's speed on one GGUF file, measured as node-llama-cpp measures it (docs/bench.md).
 *
 * @example const r: LlamaCppBenchResult = await benchLlamaCpp({ ggufFile }); r.decode_tok_s[128];
 */
export interface LlamaCppBenchResult {
  /** Model load plus context creation (until tokens can be evaluated), in ms. */
  load_ms: number;
  model_load_ms: number;
  context_ms: number;
  /** Resident memory of the process that ran llama.cpp, at the end, in MiB. */
  rss_mib: number;
  /** Growth of that RSS from before the model was loaded to the end, in MiB. */
  rss_growth_mib: number;
  /** Prompt tokens per second by prompt length (median): all prompt tokens plus the last token's logits and its greedy sample. */
  prefill_tok_s: Record<number, number>;
  /** Decoded tokens per second by context length before decoding (median): one token per step with logits and a greedy sample. */
  decode_tok_s: Record<number, number>;
  /** Every measurement, tok/s, by kind and length. */
  runs: { prefill: Record<number, number[]>; decode: Record<number, number[]> };
  setup: {
    gguf_file: string;
    gguf_bytes: number;
    threads: number;
    context_threads: number;
    context_size: number;
    batch_size: number;
    flash_attention: 'auto' | boolean;
    decode_tokens: number;
    repeats: number;
    node_llama_cpp: string;
    llama_cpp_release: string;
    build: string;
    isolated: boolean;
    system_info: string;
    /**
     * The machine's 1-minute load average before loading and at the end. Well above `threads`,
     * other processes competed for the cores and the speeds are understated.
     */
    load_avg_1m: [number, number];
  };
}

function positiveInts(xs: unknown, what: string): number[] {
  if (!Array.isArray(xs) || xs.length === 0 || !xs.every((x) => Number.isInteger(x) && x > 0)) {
    throw new InvalidArgumentError(`${what} must be a non-empty list of positive integers, got ${JSON.stringify(xs)}.`);
  }
  return xs as number[];
}

type Resolved = Required<Omit<LlamaCppBenchOptions, 'onLog' | 'nodeLlamaCpp' | 'isolate'>> & Pick<LlamaCppBenchOptions, 'nodeLlamaCpp'>;

function resolveOptions(o: LlamaCppBenchOptions): Resolved {
  const threads = o.threads ?? 2;
  const decodeTokens = o.decodeTokens ?? 128;
  const repeats = o.repeats ?? 3;
  if (!Number.isInteger(threads) || threads < 1) throw new InvalidArgumentError(`threads must be a positive integer, got ${threads}.`);
  if (!Number.isInteger(decodeTokens) || decodeTokens < 1) throw new InvalidArgumentError(`decodeTokens must be a positive integer, got ${decodeTokens}.`);
  if (!Number.isInteger(repeats) || repeats < 1) throw new InvalidArgumentError(`repeats must be a positive integer, got ${repeats}.`);
  return {
    ggufFile: path.resolve(o.ggufFile),
    threads,
    prefillLengths: positiveInts(o.prefillLengths ?? [128, 512], 'prefillLengths'),
    decodeContexts: positiveInts(o.decodeContexts ?? [128, 1024], 'decodeContexts'),
    decodeTokens,
    repeats,
    flashAttention: o.flashAttention ?? 'auto',
    seed: o.seed ?? 1,
    nodeLlamaCpp: o.nodeLlamaCpp,
  };
}

/** Deterministic token ids among the byte tokens (0–255), which every vocabulary written here has. */
function tokenStream(seed: number): (n: number) => number[] {
  const rand = seededRandom(seed);
  return (n) => Array.from({ length: n }, () => randomInt(rand, 256));
}

const mib = (bytes: number): number => Math.round(bytes / (1 << 20));

/** Feeds `tokens` and returns the ms until the first sampled token (prefill with last-token logits). */
async function timePrefill(seq: LlamaSequenceLike, tokens: number[]): Promise<number> {
  await seq.clearHistory();
  const gen = seq.evaluate(tokens, { temperature: 0, yieldEogToken: true });
  const t0 = performance.now();
  const first = await gen.next();
  const ms = performance.now() - t0;
  await gen.return();
  if (first.done) throw new PersonaError('llama.cpp returned no token after the prompt.');
  return ms;
}

/** Fills the context with `context` tokens, then returns the ms to decode `n` more tokens one by one. */
async function timeDecode(seq: LlamaSequenceLike, tokens: number[], n: number): Promise<number> {
  await seq.clearHistory();
  const gen = seq.evaluate(tokens, { temperature: 0, yieldEogToken: true });
  const first = await gen.next();
  if (first.done) throw new PersonaError('llama.cpp returned no token after the prompt.');
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    const r = await gen.next();
    if (r.done) throw new PersonaError(`llama.cpp stopped after ${i} of ${n} decoded tokens.`);
  }
  const ms = performance.now() - t0;
  await gen.return();
  return ms;
}

/** The measurement itself, in this process. */
async function benchInProcess(o: Resolved, log: (line: string) => void): Promise<LlamaCppBenchResult> {
  const stat = await fs.stat(o.ggufFile).catch(() => undefined);
  if (!stat?.isFile()) throw new InvalidArgumentError(`GGUF file ${o.ggufFile} does not exist.`);
  const llamaCpp = await ensureNodeLlamaCpp({ ...o.nodeLlamaCpp, onLog: log });
  const llama = await llamaCpp.getLlama({ gpu: false, build: 'never', logLevel: 'error', maxThreads: o.threads, progressLogs: false, skipDownload: true });
  const nextTokens = tokenStream(o.seed);
  const maxPrefill = Math.max(...o.prefillLengths);
  const contextSize = Math.max(maxPrefill, Math.max(...o.decodeContexts) + o.decodeTokens + 1);
  const batchSize = Math.min(maxPrefill, contextSize);
  const rss0 = process.memoryUsage.rss();
  const load0 = os.loadavg()[0];
  try {
    const t0 = performance.now();
    const model = await llama.loadModel({ modelPath: o.ggufFile, gpuLayers: 0 });
    const t1 = performance.now();
    try {
      const context = await model.createContext({
        contextSize,
        batchSize,
        sequences: 1,
        threads: { ideal: o.threads, min: o.threads },
        flashAttention: o.flashAttention,
      });
      const t2 = performance.now();
      try {
        const seq = context.getSequence();
        log(
          `llama.cpp: ${path.basename(o.ggufFile)} loaded in ${Math.round(t2 - t0)} ms; ${context.currentThreads} threads, context ${context.contextSize}, batch ${context.batchSize}`,
        );
        // Warm-up: page the weights in and build the graphs once.
        await timeDecode(seq, nextTokens(Math.min(16, contextSize - 4)), 2);

        const runs: LlamaCppBenchResult['runs'] = { prefill: {}, decode: {} };
        for (const n of o.prefillLengths) {
          runs.prefill[n] = [];
          for (let r = 0; r < o.repeats; r++) runs.prefill[n].push(n / ((await timePrefill(seq, nextTokens(n))) / 1000));
          log(`llama.cpp: prefill ${n}: ${median(runs.prefill[n]).toFixed(1)} tok/s`);
        }
        for (const c of o.decodeContexts) {
          runs.decode[c] = [];
          for (let r = 0; r < o.repeats; r++) runs.decode[c].push(o.decodeTokens / ((await timeDecode(seq, nextTokens(c), o.decodeTokens)) / 1000));
          log(`llama.cpp: decode after ${c}: ${median(runs.decode[c]).toFixed(2)} tok/s`);
        }
        const rss = process.memoryUsage.rss();
        const round = (x: number): number => Math.round(x * 100) / 100;
        const med = (rec: Record<number, number[]>): Record<number, number> => Object.fromEntries(Object.entries(rec).map(([k, v]) => [k, round(median(v))]));
        return {
          load_ms: round(t2 - t0),
          model_load_ms: round(t1 - t0),
          context_ms: round(t2 - t1),
          rss_mib: mib(rss),
          rss_growth_mib: mib(rss - rss0),
          prefill_tok_s: med(runs.prefill),
          decode_tok_s: med(runs.decode),
          runs: {
            prefill: Object.fromEntries(Object.entries(runs.prefill).map(([k, v]) => [k, v.map(round)])),
            decode: Object.fromEntries(Object.entries(runs.decode).map(([k, v]) => [k, v.map(round)])),
          },
          setup: {
            gguf_file: path.basename(o.ggufFile),
            gguf_bytes: stat.size,
            threads: o.threads,
            context_threads: context.currentThreads,
            context_size: context.contextSize,
            batch_size: context.batchSize,
            flash_attention: context.flashAttention,
            decode_tokens: o.decodeTokens,
            repeats: o.repeats,
            node_llama_cpp: await llamaCpp.getModuleVersion(),
            llama_cpp_release: `${llama.llamaCppRelease.repo}@${llama.llamaCppRelease.release}`,
            build: `${llama.buildType}, gpu ${String(llama.gpu)}`,
            isolated: false,
            system_info: llama.systemInfo,
            load_avg_1m: [round(load0), round(os.loadavg()[0])],
          },
        };
      } finally {
        await context.dispose();
      }
    } finally {
      await model.dispose();
    }
  } finally {
    await llama.dispose();
  }
}

const CHILD_FLAG = '--persona-llama-cpp-bench';
const RESULT_MARK = '@@persona-llama-cpp-result ';
const thisFile = fileURLToPath(import.meta.url);

/** Runs `benchInProcess` in a child Node process running this compiled module. */
async function benchInChild(o: Resolved, log: (line: string) => void): Promise<LlamaCppBenchResult> {
  // Install (or find) node-llama-cpp here, so its progress and errors come from this process.
  await ensureNodeLlamaCpp({ ...o.nodeLlamaCpp, onLog: log });
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [thisFile, CHILD_FLAG, JSON.stringify(o)], { stdio: ['ignore', 'pipe', 'pipe'], env: process.env });
    let result: LlamaCppBenchResult | undefined;
    let error: string | undefined;
    const tail: string[] = [];
    const onLine = (line: string): void => {
      if (line.startsWith(RESULT_MARK)) {
        const msg = JSON.parse(line.slice(RESULT_MARK.length)) as { result?: LlamaCppBenchResult; error?: string };
        result = msg.result;
        error = msg.error;
      } else if (line.trim()) {
        tail.push(line);
        if (tail.length > 30) tail.shift();
        if (line.startsWith('llama.cpp:')) log(line);
      }
    };
    let buffered = '';
    child.stdout.on('data', (chunk: Buffer) => {
      buffered += chunk.toString('utf8');
      const lines = buffered.split('\n');
      buffered = lines.pop()!;
      lines.forEach(onLine);
    });
    let errText = '';
    child.stderr.on('data', (chunk: Buffer) => {
      errText = (errText + chunk.toString('utf8')).slice(-4000);
    });
    child.on('error', reject);
    child.on('close', (code, signal) => {
      if (buffered) onLine(buffered);
      if (result) return resolve({ ...result, setup: { ...result.setup, isolated: true } });
      if (error) return reject(new PersonaError(error));
      reject(
        new PersonaError(
          `llama.cpp's benchmark process ended (${signal ? `signal ${signal}` : `exit ${code}`}) without a result for ${path.basename(o.ggufFile)}.\n${[...tail.slice(-8), errText.trim().split('\n').slice(-8).join('\n')].join('\n')}`,
        ),
      );
    });
  });
}

/**
 * Measures llama.cpp (node-llama-cpp 3.21.1's prebuilt CPU binaries) on a GGUF file the way
 * the project's llama.cpp reference figures were measured: `getLlama({gpu: false,
 * build: 'never'})`, a context with `threads` threads, flash attention 'auto', and
 * `sequence.evaluate()`, which computes the last token's logits and samples (greedily) at every
 * step. Prefill: prompt tokens / time to the first sampled token. Decode: after a context of
 * `c` tokens, `decodeTokens` single-token steps / their time. Each is the median of `repeats`,
 * after one warm-up. Load time is model load plus context creation; RSS is the process's at the
 * end (a child process unless `isolate` is false; see `LlamaCppBenchOptions.isolate`).
 * node-llama-cpp is installed on demand (`ensureNodeLlamaCpp`).
 *
 * @example
 * const r = await benchLlamaCpp({ ggufFile: '/tmp/qwen3-q4_0.gguf', threads: 2 });
 * console.log(r.decode_tok_s[128], r.prefill_tok_s[512], r.rss_mib);
 */
export async function benchLlamaCpp(options: LlamaCppBenchOptions): Promise<LlamaCppBenchResult> {
  const o = resolveOptions(options);
  const log = options.onLog ?? (() => undefined);
  const canIsolate = thisFile.endsWith('.js');
  const isolate = options.isolate === 'auto' || options.isolate === undefined ? canIsolate : options.isolate;
  if (isolate && !canIsolate) throw new InvalidArgumentError('isolate needs the compiled JavaScript build (run from dist/), not TypeScript sources.');
  return isolate ? benchInChild(o, log) : benchInProcess(o, log);
}

// Child-process entry: `node llamaCppBench.js --persona-llama-cpp-bench '<options JSON>'`.
if (process.argv[2] === CHILD_FLAG && process.argv[1] && pathToFileURL(path.resolve(process.argv[1])).href === import.meta.url) {
  const o = JSON.parse(process.argv[3] ?? '{}') as Resolved;
  const print = (line: string): void => void process.stdout.write(`${line}\n`);
  benchInProcess(o, print)
    .then((result) => print(RESULT_MARK + JSON.stringify({ result })))
    .catch((err: Error) => print(RESULT_MARK + JSON.stringify({ error: err.message })))
    .finally(() => process.exit(0));
}
