import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { InvalidArgumentError, PersonaError } from '../../errors.js';
import type { ProgressCallback } from '../../util/progress.js';
import { benchLlamaCpp, type LlamaCppBenchOptions, type LlamaCppBenchResult } from './llamaCppBench.js';
import { ensureNodeLlamaCpp, NODE_LLAMA_CPP_VERSION } from './nodeLlamaCpp.js';
import { GGUF_WEIGHT_TYPES, randomGgufBytes, writeRandomGguf, type GgufWeightType, type RandomGgufInfo } from './writeRandomGguf.js';

/** Options of `runLlamaCppComparison`. */
export interface LlamaCppComparisonOptions {
  /** A Hugging Face `config.json` object (qwen3, qwen2, llama or mistral); its shape is benchmarked. */
  config: Record<string, unknown>;
  /** GGUF weight types to measure, in order (default all: f32, f16, q8_0, q4_0). */
  types?: GgufWeightType[];
  /** Threads for llama.cpp (default 2). */
  threads?: number;
  /** Folder for the temporary GGUF files (default the OS temp folder); each is deleted after its run. */
  workDir?: string;
  /** Keep the GGUF files instead of deleting them (default false). */
  keepFiles?: boolean;
  /** Seed of the random weights and token ids (default 1). */
  seed?: number;
  prefillLengths?: number[];
  decodeContexts?: number[];
  decodeTokens?: number;
  repeats?: number;
  flashAttention?: 'auto' | boolean;
  isolate?: LlamaCppBenchOptions['isolate'];
  /** Progress of writing each GGUF file (phase `write <type> GGUF`, bytes). */
  onProgress?: ProgressCallback;
  /** Progress lines: install, load, each measurement. */
  onLog?: (line: string) => void;
  nodeLlamaCpp?: LlamaCppBenchOptions['nodeLlamaCpp'];
}

/**
 * One weight type's llama.cpp measurement, with the file it was made from.
 *
 * @example const r: LlamaCppTypeResult = comparison.results.q4_0!; r.decode_tok_s[128];
 */
export interface LlamaCppTypeResult extends LlamaCppBenchResult {
  gguf: Omit<RandomGgufInfo, 'file'> & { write_ms: number };
}

/**
 * What `runLlamaCppComparison` measured: results by weight type, and the error of any type that
 * could not be measured (the others still are).
 *
 * @example const { results, errors } = await runLlamaCppComparison({ config, types: ['q4_0'] });
 */
export interface LlamaCppComparison {
  engine: string;
  threads: number;
  results: Partial<Record<GgufWeightType, LlamaCppTypeResult>>;
  errors: Partial<Record<GgufWeightType, string>>;
}

async function freeBytes(dir: string): Promise<number | undefined> {
  try {
    const s = await fs.statfs(dir);
    return s.bavail * s.bsize;
  } catch {
    return undefined;
  }
}

/**
 * The llama.cpp side of `persona bench --vs llama.cpp`: for each weight type, writes a GGUF with
 * random weights in the config's exact shape (`writeRandomGguf`), measures it with llama.cpp
 * (`benchLlamaCpp`: load, RSS, prefill and decode tok/s), and deletes the file. node-llama-cpp
 * 3.21.1 is found or installed first, so a failed install fails fast, before any file is written.
 * Files are written one at a time into `workDir`, after checking it has room (a Qwen3-0.6B f32
 * file is ~3 GB). A type that fails is reported in `errors` and the others still run.
 *
 * @example
 * const config = JSON.parse(await fs.readFile('qwen3-0.6b.config.json', 'utf8'));
 * const cmp = await runLlamaCppComparison({ config, types: ['f32', 'q4_0'], threads: 2, onLog: console.error });
 * cmp.results.q4_0?.decode_tok_s[128]; // tok/s
 */
export async function runLlamaCppComparison(options: LlamaCppComparisonOptions): Promise<LlamaCppComparison> {
  const types = options.types ?? [...GGUF_WEIGHT_TYPES];
  for (const t of types) {
    if (!GGUF_WEIGHT_TYPES.includes(t)) throw new InvalidArgumentError(`Unknown llama.cpp weight type "${String(t)}"; use ${GGUF_WEIGHT_TYPES.join(', ')}.`);
  }
  const threads = options.threads ?? 2;
  const log = options.onLog ?? (() => undefined);
  const workDir = path.resolve(options.workDir ?? os.tmpdir());
  await fs.mkdir(workDir, { recursive: true });
  // Sizes first: this also validates the config before anything is installed or written.
  const sizes = new Map(types.map((t) => [t, randomGgufBytes(options.config, t)]));
  await ensureNodeLlamaCpp({ ...options.nodeLlamaCpp, onLog: log });

  const out: LlamaCppComparison = { engine: `llama.cpp via node-llama-cpp ${NODE_LLAMA_CPP_VERSION} (prebuilt CPU)`, threads, results: {}, errors: {} };
  for (const type of types) {
    const file = path.join(workDir, `persona-bench-${type}-${process.pid}.gguf`);
    try {
      const need = sizes.get(type)!;
      const free = await freeBytes(workDir);
      if (free !== undefined && free < need + (256 << 20)) {
        throw new PersonaError(
          `${workDir} has ${(free / 2 ** 30).toFixed(1)} GiB free; the ${type} GGUF needs ${(need / 2 ** 30).toFixed(1)} GiB. Pass another work folder.`,
        );
      }
      log(`llama.cpp: writing ${type} GGUF (${(need / 2 ** 30).toFixed(2)} GiB) ...`);
      const t0 = performance.now();
      const info = await writeRandomGguf(file, options.config, type, { seed: options.seed, onProgress: options.onProgress });
      const writeMs = Math.round(performance.now() - t0);
      const r = await benchLlamaCpp({
        ggufFile: file,
        threads,
        prefillLengths: options.prefillLengths,
        decodeContexts: options.decodeContexts,
        decodeTokens: options.decodeTokens,
        repeats: options.repeats,
        flashAttention: options.flashAttention,
        seed: options.seed,
        isolate: options.isolate,
        onLog: log,
        nodeLlamaCpp: options.nodeLlamaCpp,
      });
      const { file: _file, ...gguf } = info;
      out.results[type] = { ...r, gguf: { ...gguf, write_ms: writeMs } };
    } catch (err) {
      out.errors[type] = (err as Error).message;
      log(`llama.cpp: ${type} failed: ${(err as Error).message}`);
    } finally {
      if (!options.keepFiles) await fs.rm(file, { force: true });
    }
  }
  return out;
}
