import type { GenerationHandle, RowResult, WorkerRow } from '../engine/worker/EngineWorker.js';
import { ApiError } from './ApiError.js';

type OnToken = (row: number, text: string, token: number, logprob?: number) => void;
type OnMonitor = (row: number, token: number, values: number[]) => void;

/**
 * What the queue needs of an engine (an `EngineWorker` is one).
 *
 * @example const engine: GeneratingEngine = await EngineWorker.start({ model: 'models/stylist' });
 */
export interface GeneratingEngine {
  generate(
    rows: WorkerRow[],
    opts: { logprobs?: number | null; signal?: AbortSignal; onToken?: OnToken; onMonitor?: OnMonitor },
  ): Pick<GenerationHandle, 'result' | 'cancel'>;
}

/**
 * Per-request options of `GenerationQueue.submit`.
 *
 * @example const opts: SubmitOptions = { logprobs: 3, signal: req.signal, onToken: (row, text) => send(row, text) };
 */
export interface SubmitOptions {
  /** Log-probabilities of this many top tokens per step (null/undefined: none). */
  logprobs?: number | null;
  /** Aborting drops the request while it waits, or stops its rows while they generate. */
  signal?: AbortSignal;
  onToken?: OnToken;
  /** Readings of rows with `monitor` directions (`EngineWorker.generate`). */
  onMonitor?: OnMonitor;
}

/**
 * The queue's bounds and batching waits.
 *
 * @example const limits: QueueLimits = { maxBatch: 16, maxQueue: 64 };
 */
export interface QueueLimits {
  /** Rows generated together in one engine batch (`--max-batch`). */
  maxBatch: number;
  /** Rows that may wait for a batch (`--max-queue`); a request beyond that is refused with 429. */
  maxQueue: number;
  /**
   * Between batches, how long the queue may wait for the clients of the last batch to come back
   * before it starts a smaller batch (default 50 ms) ...
   */
  gatherMs?: number;
  /**
   * ... and, once that many are back, how long it waits for one more arrival (default 2 ms; each
   * arrival restarts it), so a burst of new clients also starts as one batch.
   */
  quietMs?: number;
}

interface Waiting {
  rows: WorkerRow[];
  /** Other engine work (activation reads) charged as `rows.length` rows; runs alone, as its own job. */
  work?: () => Promise<unknown>;
  opts: SubmitOptions;
  resolve: (r: RowResult[] | unknown) => void;
  reject: (e: unknown) => void;
  onAbort: () => void;
  /** The client left (or was answered) while its rows were generating. */
  gone?: boolean;
  arrived: number;
}

const cancelledRows = (n: number): RowResult[] =>
  Array.from({ length: n }, () => ({ text: '', tokens: [], promptTokens: 0, finishReason: 'cancelled', ended: false, tokenTexts: [] }));

/**
 * Admission and batching in front of the engine. At most `maxBatch + maxQueue` rows are accepted at
 * once (429 beyond). The engine runs one batch at a time; when it is free, the queue gathers the
 * requests arriving within a few milliseconds of each other (clients served by the last batch come
 * back together) and starts them as the next batch — one engine job of up to `maxBatch` rows, in
 * arrival order — so concurrent requests, whatever their steering, share forward passes, and the
 * batches stay full instead of splitting into a few early and many late arrivals. A request whose
 * client leaves while it waits is dropped; one already generating has its rows cancelled.
 *
 * @example
 * const queue = new GenerationQueue(engine, { maxBatch: 16, maxQueue: 64 });
 * const [row] = await queue.submit([{ prompt: 'Hi', maxNewTokens: 16 }], { signal });
 */
export class GenerationQueue {
  private waiting: Waiting[] = [];
  /** Rows of the job in the engine (0: the engine is free). */
  private dispatchedRows = 0;
  /** Rows of that job whose requests are already answered or abandoned. */
  private settledRows = 0;
  private gather: ReturnType<typeof setTimeout> | null = null;
  private lastArrival = 0;
  /** Rows of the last batch: how many clients may be about to come back. */
  private lastBatchRows = 1;
  /** When the engine last became free. */
  private freeSince = -Infinity;

  constructor(
    private readonly engine: GeneratingEngine,
    readonly limits: QueueLimits,
  ) {}

  /** Rows accepted and not answered: generating, and waiting here. */
  get load(): { dispatched: number; waiting: number } {
    return { dispatched: this.dispatchedRows - this.settledRows, waiting: this.waiting.reduce((n, w) => n + w.rows.length, 0) };
  }

  /**
   * Generates rows in a coming batch. Throws at once (before anything is queued) a 429 `ApiError`
   * when the queue is full, or a 400 when the request alone exceeds a batch. Aborting `opts.signal`
   * drops or cancels the request (the promise then resolves with `cancelled` rows).
   */
  submit(rows: WorkerRow[], opts: SubmitOptions = {}): Promise<RowResult[]> {
    return this.enqueue(rows, opts) as Promise<RowResult[]>;
  }

  /**
   * Runs other engine work (e.g. reading activations for `/v1/projections`) in its turn, charged as
   * `rows` rows: it counts against the queue's bounds (429 when full) and runs alone between batches,
   * so one such request cannot hold the engine while generation requests wait unaccounted.
   *
   * @example const values = await queue.runExclusive(2, () => engine.tokenResiduals(promptIds, answerIds, [3]));
   */
  runExclusive<T>(rows: number, work: () => Promise<T>, opts: { signal?: AbortSignal } = {}): Promise<T> {
    const charged = Array.from({ length: Math.max(1, Math.min(rows, this.limits.maxBatch)) }, () => ({ prompt: '' }) as WorkerRow);
    return this.enqueue(charged, opts, work) as Promise<T>;
  }

  private enqueue(rows: WorkerRow[], opts: SubmitOptions, work?: () => Promise<unknown>): Promise<unknown> {
    const { dispatched, waiting } = this.load;
    if (rows.length > this.limits.maxBatch) {
      throw new ApiError(
        400,
        `This request needs ${rows.length} rows but a batch holds at most ${this.limits.maxBatch} (--max-batch).`,
        'invalid_request_error',
        { param: 'n' },
      );
    }
    if (dispatched + waiting + rows.length > this.limits.maxBatch + this.limits.maxQueue) {
      throw new ApiError(
        429,
        `The server is busy: ${dispatched + waiting} rows are generating or waiting (limit ${this.limits.maxBatch} + ${this.limits.maxQueue} queued). Retry shortly.`,
        'rate_limit_error',
        { code: 'queue_full' },
      );
    }
    return new Promise<unknown>((resolve, reject) => {
      const w: Waiting = {
        rows,
        work,
        opts,
        arrived: performance.now(),
        resolve,
        reject,
        onAbort: () => {
          const i = this.waiting.indexOf(w);
          if (i < 0) return;
          this.waiting.splice(i, 1);
          if (work) reject(new ApiError(400, 'The client left before its request ran.', 'invalid_request_error', { code: 'client_gone' }));
          else resolve(cancelledRows(rows.length));
        },
      };
      if (opts.signal?.aborted) return w.onAbort();
      opts.signal?.addEventListener('abort', w.onAbort, { once: true });
      this.waiting.push(w);
      this.lastArrival = performance.now();
      this.pump();
    });
  }

  /**
   * Starts the next batch when the engine is free. A full batch starts at once. Otherwise the queue
   * waits for as many rows as the last batch had — closed-loop clients that a batch served come
   * back within milliseconds of each other — for at most `gatherMs` after the engine became free;
   * once that many are there, it still waits while requests keep arriving (`quietMs` apart), so a
   * burst of new clients is one batch too. The target follows the load down as clients leave.
   */
  private pump(): void {
    if (this.gather) clearTimeout(this.gather);
    this.gather = null;
    if (this.dispatchedRows > 0 || this.waiting.length === 0) return;
    const now = performance.now();
    const waiting = this.load.waiting;
    const gatherMs = this.limits.gatherMs ?? 50;
    const oldest = this.waiting[0].arrived;
    const capLeft = gatherMs - (now - Math.max(this.freeSince, oldest));
    const quietLeft = (this.limits.quietMs ?? 2) - (now - this.lastArrival);
    if (waiting >= this.limits.maxBatch || capLeft <= 0) return this.dispatch();
    // Clients of the last batch come back within the gathering time, or not at all.
    const target = oldest - this.freeSince <= gatherMs ? Math.min(this.limits.maxBatch, this.lastBatchRows) : 1;
    const left = waiting >= target ? Math.min(quietLeft, capLeft) : capLeft;
    if (left <= 0) return this.dispatch();
    this.gather = setTimeout(() => ((this.gather = null), this.pump()), left);
  }

  /**
   * Sends the waiting requests, up to `maxBatch` rows, to the engine as one job: one batch for sure
   * (separate jobs posted to an idle worker can split, the first starting alone).
   */
  private dispatch(): void {
    if (this.gather) clearTimeout(this.gather);
    this.gather = null;
    if (this.dispatchedRows > 0 || this.waiting.length === 0) return;
    if (this.waiting[0].work) return this.dispatchWork(this.waiting.shift()!);
    const batch: Waiting[] = [];
    let rows = 0;
    while (this.waiting.length && !this.waiting[0].work && rows + this.waiting[0].rows.length <= this.limits.maxBatch) {
      const w = this.waiting.shift()!;
      w.opts.signal?.removeEventListener('abort', w.onAbort);
      batch.push(w);
      rows += w.rows.length;
    }
    this.dispatchedRows = rows;
    this.settledRows = 0;
    this.lastBatchRows = rows;
    const owners = batch.flatMap((w) => w.rows.map((_, row) => ({ w, row })));
    const first = new Map(batch.map((w) => [w, owners.findIndex((o) => o.w === w)]));
    const logprobs = batch.reduce<number | null>(
      (m, w) => (w.opts.logprobs === undefined || w.opts.logprobs === null ? m : Math.max(m ?? 0, w.opts.logprobs)),
      null,
    );
    const job = new AbortController();
    let handle: Pick<GenerationHandle, 'cancel'> | undefined;
    const leave = (w: Waiting) => {
      if (w.gone) return;
      w.gone = true;
      this.settledRows += w.rows.length;
      if (batch.every((x) => x.gone)) return job.abort();
      w.rows.forEach((_, r) => handle?.cancel(first.get(w)! + r));
    };
    let p: Promise<RowResult[]>;
    try {
      const started = this.engine.generate(
        owners.map((o) => o.w.rows[o.row]),
        {
          logprobs,
          signal: job.signal,
          onToken: (row, ...rest) => {
            const o = owners[row];
            if (!o.w.gone) o.w.opts.onToken?.(o.row, ...rest);
          },
          onMonitor: (row, ...rest) => {
            const o = owners[row];
            if (!o.w.gone) o.w.opts.onMonitor?.(o.row, ...rest);
          },
        },
      );
      handle = started;
      p = started.result;
    } catch (err) {
      p = Promise.reject(err);
    }
    const listeners = batch.map((w) => {
      const on = () => leave(w);
      if (w.opts.signal?.aborted) leave(w);
      else w.opts.signal?.addEventListener('abort', on, { once: true });
      return on;
    });
    // Free the engine before the callers hear back, so clients that send their next request at once are gathered.
    const settle = () => {
      batch.forEach((w, i) => w.opts.signal?.removeEventListener('abort', listeners[i]));
      this.dispatchedRows = 0;
      this.settledRows = 0;
      this.freeSince = performance.now();
      queueMicrotask(() => this.pump());
    };
    p.then(
      (results) => {
        settle();
        for (const w of batch) {
          const mine = results.slice(first.get(w)!, first.get(w)! + w.rows.length);
          w.resolve(w.gone ? mine.map((r) => ({ ...r, finishReason: 'cancelled' })) : mine);
        }
      },
      (err) => {
        settle();
        for (const w of batch) w.reject(err);
      },
    );
  }

  /** Runs one piece of exclusive work with the engine otherwise idle, its rows charged meanwhile. */
  private dispatchWork(w: Waiting): void {
    w.opts.signal?.removeEventListener('abort', w.onAbort);
    this.dispatchedRows = w.rows.length;
    this.settledRows = 0;
    const settle = () => {
      this.dispatchedRows = 0;
      this.settledRows = 0;
      this.freeSince = performance.now();
      queueMicrotask(() => this.pump());
    };
    let p: Promise<unknown>;
    try {
      p = w.work!();
    } catch (err) {
      p = Promise.reject(err);
    }
    p.then(
      (r) => (settle(), w.resolve(r as RowResult[])),
      (err) => (settle(), w.reject(err)),
    );
  }
}
