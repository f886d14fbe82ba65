import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { PersonaError } from '../../errors.js';
import { PACKAGE_ROOT } from '../../model/defaultModel.js';
import type { Prompt } from '../LanguageModel.js';
import { modelSpec, type ModelSpec } from '../ModelSpec.js';
import type { FromWorker, ModelInfo, RowResult, ToWorker, WorkerInit, WorkerRow } from './protocol.js';

export type { ModelInfo, RowResult, WorkerRow } from './protocol.js';

/** The compiled worker script (dist/), also when this file runs from src/ under a test runner. */
function workerScript(): string {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const sibling = path.join(here, 'engineWorkerMain.js');
  if (existsSync(sibling)) return sibling;
  const built = path.join(PACKAGE_ROOT, 'dist', 'engine', 'worker', 'engineWorkerMain.js');
  if (existsSync(built)) return built;
  throw new PersonaError(`The engine worker script is not built (${built}). Run npm run build.`);
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

/** Streams one token of a row: the row's index in the job, its text piece, the token id, its log-probability when asked for. */
export type OnWorkerToken = (row: number, text: string, token: number, logprob?: number) => void;

/**
 * A generation job in the engine: its id, its rows' results, and a way to stop it.
 *
 * @example const job = engine.generate(rows); job.cancel(1); const results = await job.result;
 */
export interface GenerationHandle {
  /** The job's number in this engine. */
  readonly id: number;
  /** One result per row, in order; stopped rows end with finishReason `cancelled`. */
  readonly result: Promise<RowResult[]>;
  /** Stops one row of the job (at its next token), or all of them. */
  cancel(row?: number): void;
}

interface Pending {
  resolve: (v: never) => void;
  reject: (e: Error) => void;
  onToken?: (row: number, text: string, token: number, logprob?: number) => void;
  onMonitor?: (row: number, token: number, values: number[]) => void;
}

/**
 * The model in a worker thread, so generation never blocks the caller's event loop (server, chat).
 * Requests sent while a batch runs are batched together next.
 *
 * @example
 * const engine = await EngineWorker.start({ model: 'models/stylist' });
 * const [r] = await engine.generate([{ prompt: 'Hi', maxNewTokens: 16 }], { onToken: (row, text) => process.stdout.write(text) }).result;
 * await engine.close();
 */
export class EngineWorker {
  private nextId = 1;
  private pending = new Map<number, Pending>();
  private closed = false;

  private constructor(
    private readonly worker: Worker,
    readonly info: ModelInfo,
  ) {
    worker.on('message', (m: FromWorker) => this.onMessage(m));
    worker.on('error', (err) => this.failAll(err));
    worker.on('exit', () => this.failAll(new PersonaError('The engine worker stopped.')));
  }

  /** Loads the model a spec names in a new worker thread; `maxBatchRows` bounds one batch (default `DEFAULTS.generation.batchSize`). */
  static start(spec: ModelSpec, opts: { maxBatchRows?: number } = {}): Promise<EngineWorker> {
    const init: WorkerInit = { spec: modelSpec(spec), maxBatchRows: opts.maxBatchRows };
    const worker = new Worker(workerScript(), { workerData: init });
    return new Promise((resolve, reject) => {
      const onMsg = (m: FromWorker) => {
        if (m.type === 'ready') {
          worker.off('message', onMsg);
          resolve(new EngineWorker(worker, m.info));
        } else if (m.type === 'error' && m.id === null) {
          worker.off('message', onMsg);
          void worker.terminate();
          reject(new PersonaError(m.message));
        }
      };
      worker.on('message', onMsg);
      worker.once('error', reject);
    });
  }

  private failAll(err: Error): void {
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
  }

  private onMessage(m: FromWorker): void {
    if (m.type === 'ready' || m.type === 'closed') return;
    const p = m.id === null ? undefined : this.pending.get(m.id);
    if (!p) return;
    switch (m.type) {
      case 'token':
        p.onToken?.(m.row, m.text, m.token, m.logprob);
        return;
      case 'monitor':
        p.onMonitor?.(m.row, m.token, m.values);
        return;
      case 'done':
        this.pending.delete(m.id);
        p.resolve(m.results as never);
        return;
      case 'activations':
        this.pending.delete(m.id);
        p.resolve({ responseMean: m.responseMean, residNorm: m.residNorm } as never);
        return;
      case 'tokenResiduals':
        this.pending.delete(m.id);
        p.resolve(m.residuals as never);
        return;
      case 'encoded':
        this.pending.delete(m.id);
        p.resolve(m.ids as never);
        return;
      case 'error':
        this.pending.delete(m.id!);
        p.reject(new PersonaError(m.message));
    }
  }

  private request<T>(
    msg: DistributiveOmit<Extract<ToWorker, { id: number }>, 'id'>,
    onToken?: Pending['onToken'],
    onMonitor?: Pending['onMonitor'],
  ): { id: number; promise: Promise<T> } {
    if (this.closed) throw new PersonaError('The engine is closed.');
    const id = this.nextId++;
    const promise = new Promise<T>((resolve, reject) => this.pending.set(id, { resolve: resolve as never, reject, onToken, onMonitor }));
    this.worker.postMessage({ ...msg, id } as ToWorker);
    return { id, promise };
  }

  /**
   * Generates rows (batched with other callers' rows); the handle's `cancel` stops one row or all,
   * and aborting the signal stops all. Rows with
   * `monitor` directions report their readings through `onMonitor` (token −1: the prompt's end),
   * each before the next token is chosen.
   */
  generate(
    rows: WorkerRow[],
    opts: {
      logprobs?: number | null;
      signal?: AbortSignal;
      onToken?: (row: number, text: string, token: number, logprob?: number) => void;
      onMonitor?: (row: number, token: number, values: number[]) => void;
    } = {},
  ): GenerationHandle {
    const { id, promise } = this.request<RowResult[]>({ type: 'generate', rows, logprobs: opts.logprobs }, opts.onToken, opts.onMonitor);
    if (opts.signal) {
      const cancel = () => this.cancel(id);
      if (opts.signal.aborted) cancel();
      else opts.signal.addEventListener('abort', cancel, { once: true });
      void promise.finally(() => opts.signal!.removeEventListener('abort', cancel)).catch(() => {});
    }
    return { id, result: promise, cancel: (row?: number) => this.cancel(id, row) };
  }

  private cancel(id: number, row?: number): void {
    if (!this.closed) this.worker.postMessage({ type: 'cancel', id, row } as ToWorker);
  }

  /** Mean residual over the answer tokens per layer, for each prompt+answer. */
  activations(seqs: { promptIds: number[]; answerIds: number[] }[]): Promise<{ responseMean: Float32Array[][]; residNorm: number[] }> {
    return this.request<{ responseMean: Float32Array[][]; residNorm: number[] }>({ type: 'activations', seqs }).promise;
  }
  /**
   * The unsteered residual after each of `layers` at every answer token, from one pass over prompt +
   * answer (`answerTokenResiduals`): `[token][k]` is [H] after block `layers[k]`.
   *
   * @example const rs = await worker.tokenResiduals(promptIds, answerIds, [3]);
   */
  tokenResiduals(promptIds: number[], answerIds: number[], layers: number[]): Promise<Float32Array[][]> {
    return this.request<Float32Array[][]>({ type: 'tokenResiduals', promptIds, answerIds, layers }).promise;
  }

  /** Token ids of a prompt with the chat template applied. */
  encode(prompt: Prompt): Promise<number[]> {
    return this.request<number[]>({ type: 'encode', prompt }).promise;
  }

  /**
   * Cancels every job, waits until the worker has freed the model (a forward pass in flight ends
   * first), then stops the thread. Terminating it under a running onnxruntime call would abort the
   * whole process.
   */
  async close(timeoutMs = 60_000): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    let timer: NodeJS.Timeout | undefined;
    const done = new Promise<void>((resolve) => {
      this.worker.on('message', (m: FromWorker) => m.type === 'closed' && resolve());
      this.worker.once('exit', () => resolve());
      timer = setTimeout(resolve, timeoutMs);
    });
    this.worker.postMessage({ type: 'close' } as ToWorker);
    await done;
    clearTimeout(timer);
    await this.worker.terminate();
  }
}
