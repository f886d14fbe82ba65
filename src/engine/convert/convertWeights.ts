import { createHash, type Hash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { personaCacheDir } from '../../util/personaCacheDir.js';
import { isMainThread } from 'node:worker_threads';
import { specOf } from '../../model/architectures/index.js';
import { tensorPlan, type PlannedTensor } from '../../model/architectures/tensorPlan.js';
import type { ModelConfig } from '../../model/config/ModelConfig.js';
import type { ModelWeights } from '../../model/safetensors/ModelWeights.js';
import { atomicWrite, tempPathFor } from '../../util/atomicWrite.js';
import type { ProgressCallback } from '../../util/progress.js';
import { DataType, type DataTypeId } from '../onnx/onnxProto.js';
import { PersonaError } from '../../errors.js';
import { ConversionInterruptedError } from './ConversionInterruptedError.js';
import type { ConvertedSource, ConvertedWeights, StoredLinear, StoredTensor } from './ConvertedWeights.js';
import { hashFile, readConvertedManifest, stampOf, sameStamp } from './convertedManifest.js';
import { sweepStaleTempFiles } from './sweepStaleTempFiles.js';
import { toFloat16 } from './float16.js';
import type { Precision } from './Precision.js';
import { quantizeMatrix } from './quantize.js';

/** Bump when the converted layout changes, so old caches are rebuilt. */
export const CONVERTER_VERSION = 4;
const ALIGN = 4096;
/** Bytes per write of the converted weights. */
const WRITE_CHUNK_BYTES = 64 * 1024 * 1024;

async function sourceKey(dir: string, weights: ModelWeights, config: ModelConfig, precision: Precision): Promise<string> {
  const h = createHash('sha256');
  h.update(`v${CONVERTER_VERSION}|${precision}|${precision === 'f32' ? '' : BLOCK_SIZE[precision]}|${JSON.stringify(config)}`);
  for (const f of weights.files) {
    const real = await fs.realpath(f);
    const st = await fs.stat(real);
    h.update(`|${real}|${st.size}|${st.mtimeMs}`);
  }
  return h.digest('hex').slice(0, 16);
}

/** Where the converted weights of a model folder live. */
export async function convertedDir(
  dir: string,
  weights: ModelWeights,
  config: ModelConfig,
  precision: Precision,
  cacheRoot = personaCacheDir(),
): Promise<{ folder: string; key: string }> {
  const key = await sourceKey(dir, weights, config, precision);
  const name = path
    .basename(path.resolve(dir))
    .replace(/[^A-Za-z0-9._-]/g, '_')
    .slice(0, 60);
  return { folder: path.join(cacheRoot, 'converted', `${name}-${key}`, precision), key };
}

/** The converted source's identity for the manifest: a hub snapshot's id and commit, or the folder. */
async function describeSource(dir: string, weights: ModelWeights): Promise<ConvertedSource> {
  const resolved = path.resolve(dir);
  const hub = /(?:^|[/\\])models--([^/\\]+?)--([^/\\]+)[/\\]snapshots[/\\]([^/\\]+)$/.exec(resolved);
  const files = [];
  for (const f of weights.files) {
    const st = await fs.stat(f);
    files.push({ path: path.resolve(f), size: st.size, mtimeMs: st.mtimeMs });
  }
  return { dir: resolved, model: hub ? `${hub[1]}/${hub[2]}` : resolved, revision: hub ? hub[3] : null, files };
}

/** Stops a conversion between tensors once `stop.reason` is set (Ctrl-C or an abort signal). */
interface StopFlag {
  reason: string | null;
}

function checkStop(stop: StopFlag): void {
  if (stop.reason)
    throw new ConversionInterruptedError(`Weight conversion stopped (${stop.reason}); nothing was left in the cache. Run again to convert from the start.`);
}

class WeightsWriter {
  tensors: Record<string, StoredTensor> = {};
  offset = 0;
  /** sha256 of the file as written: padding (zeros) and data in order. */
  readonly hash: Hash = createHash('sha256');
  constructor(
    private handle: fs.FileHandle,
    private stop: StopFlag,
  ) {}

  async put(name: string, type: DataTypeId, dims: number[], data: ArrayBufferView): Promise<string> {
    checkStop(this.stop);
    const pad = (ALIGN - (this.offset % ALIGN)) % ALIGN;
    if (pad) this.hash.update(new Uint8Array(pad));
    this.offset += pad;
    const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    // In pieces: one write (or hash update) of 2 GiB or more hits Node's int32 length limit.
    let done = 0;
    while (done < bytes.length) {
      const n = Math.min(WRITE_CHUNK_BYTES, bytes.length - done);
      this.hash.update(bytes.subarray(done, done + n));
      let written = 0;
      while (written < n) {
        const { bytesWritten } = await this.handle.write(bytes, done + written, n - written, this.offset + done + written);
        written += bytesWritten;
      }
      done += n;
    }
    this.tensors[name] = { type, dims, offset: this.offset, length: bytes.length };
    this.offset += bytes.length;
    return name;
  }
}

/**
 * Weights per scale in MatMulNBits blocks, by precision. q4 uses blocks of 128 (0.53 bytes per
 * weight with f32 scales, against 0.625 with blocks of 32): on Qwen3-0.6B's shape, 2 cores, decode
 * went from 22–24 to 18.4 ms per token and batch-8 steps from 84 to 70 ms, while greedy agreement
 * with f32 on the stylist's 32 held-out questions was no worse (0.75 at 32, 0.82 at 64, 0.88 at 128).
 * q8 uses blocks of 128 too (1.03 bytes per weight against 1.125): on the same shape, interleaved in one
 * process, batch-1 steps took 0.86× and batch-8 steps 0.87× the time of blocks of 32 (6 rounds), with
 * the stylist's greedy agreement with f32 at 0.98 (0.99 at 32) and its style scores within 0.1 of f32.
 */
export const BLOCK_SIZE: Record<'q4' | 'q8', number> = { q4: 128, q8: 128 };

async function putQuantized(
  w: WeightsWriter,
  name: string,
  m: Float32Array,
  rows: number,
  cols: number,
  precision: 'q4' | 'q8',
): Promise<{ b: string; scales: string; bits: 4 | 8; blockSize: number }> {
  const bits = precision === 'q4' ? 4 : 8;
  const blockSize = BLOCK_SIZE[precision];
  const q = quantizeMatrix(m, rows, cols, bits, blockSize);
  const kBlocks = Math.ceil(cols / blockSize);
  const b = await w.put(`${name}.qweight`, DataType.UINT8, [rows, kBlocks, (blockSize * bits) / 8], q.b);
  const scales = await w.put(`${name}.scales`, DataType.FLOAT, [rows * kBlocks], q.scales);
  return { b, scales, bits, blockSize };
}

function transpose(w: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(w.length);
  for (let r = 0; r < rows; r++) {
    const ro = r * cols;
    for (let c = 0; c < cols; c++) out[c * rows + r] = w[ro + c];
  }
  return out;
}

function concatRows(parts: Float32Array[]): Float32Array {
  const out = new Float32Array(parts.reduce((a, p) => a + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** Options of `ensureConverted`. */
export interface EnsureConvertedOptions {
  onProgress?: ProgressCallback;
  /** The cache folder (default `personaCacheDir()`). */
  cacheRoot?: string;
  /** Stops the conversion between tensors; the temp file is removed. */
  signal?: AbortSignal;
  /** Told when a cache entry does not verify and is rebuilt (default: a `warning:` line on stderr). */
  onWarning?: (message: string) => void;
}

const warnOnStderr = (message: string) => {
  process.stderr.write(`warning: ${message}\n`);
};

/**
 * Converts a checkpoint once into the engine's layout (the architecture's tensor plan under the
 * engine's names: fused qkv and gate/up, f32 transposed or MatMulNBits blocks, Gemma norms as
 * 1+w) in the project cache, and returns its manifest. Later loads reuse it. The checkpoint's
 * tensor shapes are checked against its config first. The weights go to a temp file renamed into
 * place, and the manifest (with the file's sha256) is written last, so an interrupted conversion
 * never leaves a cache that is taken for complete. A cached file that no longer verifies
 * (truncated, or bytes changed since it was written) is rebuilt with a warning. Ctrl-C stops the
 * conversion between tensors, removes the temp file and then ends the process as Ctrl-C would
 * (when nothing else listens for SIGINT). Stale temp files of killed conversions are swept once
 * per process.
 *
 * @example const { folder, manifest } = await ensureConverted(dir, weights, config, 'q4', { onProgress });
 */
export async function ensureConverted(
  dir: string,
  weights: ModelWeights,
  config: ModelConfig,
  precision: Precision,
  opts: EnsureConvertedOptions = {},
): Promise<{ folder: string; manifest: ConvertedWeights }> {
  weights.checkShapes(config);
  const cacheRoot = opts.cacheRoot ?? personaCacheDir();
  await sweepOnce(cacheRoot);
  const warn = opts.onWarning ?? warnOnStderr;
  const { folder, key } = await convertedDir(dir, weights, config, precision, cacheRoot);
  const manifestPath = path.join(folder, 'manifest.json');
  const found = await readConvertedManifest(manifestPath, CONVERTER_VERSION);
  if (found.manifest) {
    const problem = await verifyWeights(folder, found.manifest, manifestPath);
    if (!problem) return { folder, manifest: found.manifest };
    warn(`The conversion cache in ${folder} does not verify (${problem}); converting again.`);
    await fs.rm(manifestPath, { force: true }).catch(() => {});
  } else if (found.problem) {
    warn(`The conversion cache manifest ${manifestPath} ${found.problem}; converting again.`);
    await fs.rm(manifestPath, { force: true }).catch(() => {});
  }
  return convert(dir, weights, config, precision, folder, key, opts);
}

const swept = new Set<string>();
async function sweepOnce(cacheRoot: string): Promise<void> {
  if (swept.has(cacheRoot)) return;
  swept.add(cacheRoot);
  await sweepStaleTempFiles(cacheRoot).catch(() => {});
}

/** Null when the weights file is the one the manifest describes, else what is wrong with it. */
async function verifyWeights(folder: string, m: ConvertedWeights, manifestPath: string): Promise<string | null> {
  const file = path.join(folder, m.weightsFile);
  let st;
  try {
    st = await fs.stat(file);
  } catch {
    return `${m.weightsFile} is missing`;
  }
  if (st.size !== m.totalBytes) return `${m.weightsFile} has ${st.size} bytes, the manifest says ${m.totalBytes}`;
  const now = new Date();
  if (sameStamp(stampOf(st), m.weightsStamp)) {
    await fs.utimes(manifestPath, now, now).catch(() => {}); // last used, for `persona cache`
    return null;
  }
  // Written to, copied or restored since it was verified: read it all once.
  const digest = await hashFile(file);
  if (digest !== m.sha256) return `the sha256 of ${m.weightsFile} is ${digest.slice(0, 12)}…, the manifest says ${m.sha256.slice(0, 12)}…`;
  m.weightsStamp = stampOf(await fs.stat(file));
  await atomicWrite(manifestPath, JSON.stringify(m)).catch(() => {});
  return null;
}

async function convert(
  dir: string,
  weights: ModelWeights,
  config: ModelConfig,
  precision: Precision,
  folder: string,
  key: string,
  opts: EnsureConvertedOptions,
): Promise<{ folder: string; manifest: ConvertedWeights }> {
  const manifestPath = path.join(folder, 'manifest.json');
  const source = await describeSource(dir, weights);
  const weightsPath = path.join(folder, 'weights.bin');
  const tmp = tempPathFor(weightsPath);
  let handle: fs.FileHandle;
  try {
    await fs.mkdir(folder, { recursive: true });
    handle = await fs.open(tmp, 'w');
  } catch (err) {
    throw new PersonaError(
      `Cannot write converted weights into the cache folder ${folder}: ${(err as Error).message}. Set PERSONA_CACHE to a writable folder.`,
      { cause: err },
    );
  }
  const stop: StopFlag = { reason: null };
  let bySignal = false;
  const onSignal = () => {
    bySignal = true;
    stop.reason = 'Ctrl-C';
  };
  const onAbort = () => {
    stop.reason ??= 'aborted';
  };
  // Signals reach the main thread only; a worker's conversion ends with its process.
  if (isMainThread) process.once('SIGINT', onSignal);
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  if (opts.signal?.aborted) onAbort();
  try {
    const w = new WeightsWriter(handle, stop);
    const linears = await writeAll(w, weights, config, precision, stop, opts.onProgress);
    checkStop(stop);
    await handle.sync();
    await handle.close();
    await fs.rename(tmp, weightsPath);
    const manifest: ConvertedWeights = {
      formatVersion: CONVERTER_VERSION,
      precision,
      sourceKey: key,
      weightsFile: 'weights.bin',
      totalBytes: w.offset,
      sha256: w.hash.digest('hex'),
      weightsStamp: stampOf(await fs.stat(weightsPath)),
      source,
      createdAt: new Date().toISOString(),
      tensors: w.tensors,
      linears,
    };
    await atomicWrite(manifestPath, JSON.stringify(manifest));
    return { folder, manifest };
  } catch (err) {
    await handle.close().catch(() => {});
    await fs.rm(tmp, { force: true }).catch(() => {});
    if (bySignal && process.listenerCount('SIGINT') === 0) {
      // Nothing else handles Ctrl-C: end the process as the default handler would have.
      process.kill(process.pid, 'SIGINT');
    }
    const code = (err as NodeJS.ErrnoException).code;
    if (!(err instanceof PersonaError) && typeof code === 'string') {
      const hint = code === 'ENOSPC' ? ' The disk is full: free some space or set PERSONA_CACHE to a folder on another disk.' : '';
      throw new PersonaError(`Writing converted weights into ${folder} failed (${code}): ${(err as Error).message}.${hint} Nothing was left in the cache.`, {
        cause: err,
      });
    }
    throw err;
  } finally {
    if (isMainThread) process.removeListener('SIGINT', onSignal);
    opts.signal?.removeEventListener('abort', onAbort);
  }
}

/**
 * Writes the tensors of the architecture's plan under the engine's names: norms as stored (plus the
 * norm offset), linears fused, transposed to [in, out] in f32 or quantised, the embedding in f32
 * (f16 beside quantised linears), the output layer untied only when the checkpoint has one.
 */
async function writeAll(
  w: WeightsWriter,
  weights: ModelWeights,
  c: ModelConfig,
  precision: Precision,
  stop: StopFlag,
  onProgress?: ProgressCallback,
): Promise<Record<string, StoredLinear>> {
  const linears: Record<string, StoredLinear> = {};
  const total = [...weights.tensors.values()].reduce((a, t) => a + t.byteLength, 0);
  let done = 0;
  const read = async (name: string) => {
    checkStop(stop);
    const info = weights.info(name);
    const data = await weights.readFloat32(name);
    done += info.byteLength;
    onProgress?.({ phase: `convert to ${precision}`, done, total, unit: 'bytes' });
    return data;
  };

  const linear = async (t: PlannedTensor): Promise<void> => {
    const name = t.name;
    const mats = await Promise.all(t.parts.map((p) => read(p.name)));
    const inDim = weights.info(t.parts[0].name).shape[1];
    const outDim = t.parts.reduce((a, p) => a + weights.info(p.name).shape[0], 0);
    const full = concatRows(mats); // [out, in]
    let bias: string | undefined;
    if (t.biases.every((b) => weights.has(b.name))) {
      bias = await w.put(`${name}.bias`, DataType.FLOAT, [outDim], concatRows(await Promise.all(t.biases.map((b) => read(b.name)))));
    }
    if (precision === 'f32') {
      const weight = await w.put(`${name}.weight`, DataType.FLOAT, [inDim, outDim], transpose(full, outDim, inDim));
      linears[name] = { kind: 'f32', weight, bias, in: inDim, out: outDim };
    } else {
      const { b, scales, bits, blockSize } = await putQuantized(w, name, full, outDim, inDim, precision);
      linears[name] = { kind: 'nbits', b, scales, bias, in: inDim, out: outDim, bits, blockSize };
    }
  };

  let embed: Float32Array | undefined; // [V, H]
  for (const t of tensorPlan(c, specOf(c).tensors)) {
    switch (t.kind) {
      case 'embedding':
        embed = await read(t.parts[0].name);
        if (precision === 'f32') await w.put(`${t.name}.weight`, DataType.FLOAT, [c.vocabSize, c.hiddenSize], embed);
        else await w.put(`${t.name}.weight`, DataType.FLOAT16, [c.vocabSize, c.hiddenSize], toFloat16(embed));
        break;
      case 'norm': {
        const v = await read(t.parts[0].name);
        if (c.normWeightOffset) for (let i = 0; i < v.length; i++) v[i] += c.normWeightOffset;
        await w.put(`${t.name}.weight`, DataType.FLOAT, [v.length], v);
        break;
      }
      case 'linear':
        await linear(t);
        break;
      case 'output': {
        // [V, H] as stored (Gemm with transB in f32; MatMulNBits' own layout when quantised).
        const stored = t.parts[0].name;
        const head = c.tieWordEmbeddings || !weights.has(stored) ? embed! : await read(stored);
        if (precision === 'f32') {
          if (head !== embed) await w.put(`${t.name}.weight`, DataType.FLOAT, [c.vocabSize, c.hiddenSize], head);
        } else {
          const { b, scales, bits, blockSize } = await putQuantized(w, t.name, head, c.vocabSize, c.hiddenSize, precision);
          linears[t.name] = { kind: 'nbits', b, scales, in: c.hiddenSize, out: c.vocabSize, bits, blockSize };
        }
        break;
      }
    }
  }
  onProgress?.({ phase: `convert to ${precision}`, done: total, total, unit: 'bytes' });
  return linears;
}
