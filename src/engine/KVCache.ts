import { giveCacheBuffers, takeCacheBuffer } from './cacheBuffers.js';

/**
 * The key/value cache, kept in JS so the graph never returns it whole (onnxruntime-node copies every
 * output). Layout per layer: [B, kvH, capacity, D] — the graph reads the whole buffer as its past
 * (zero-copy; slots at and beyond `length` are masked out by the attention bias) and returns only
 * the new rows [B, kvH, T, D], which `append` writes into place.
 *
 * @example const cache = new KVCache(layers, batch, kvHeads, headDim, promptLen + maxNew);
 */
export class KVCache {
  readonly k: Float32Array[];
  readonly v: Float32Array[];
  length = 0;
  capacity: number;
  /**
   * With a finite `maxCapacity`: one buffer per layer of that size, `k[l]`/`v[l]` being its first
   * [B,kvH,capacity,D]; growing re-strides it in place. Pages are only resident once written, so this
   * costs no memory up front, and growing frees nothing (replaced buffers freed into the allocator's
   * heap stayed resident: a long prompt's cache grown by copies left ~0.9 GiB behind at 8,192 tokens).
   */
  private store: { k: Float32Array[]; v: Float32Array[] } | null = null;

  /** Buffers come from (and `release` returns them to) the cache buffer pool. */
  private readonly pooled: boolean;
  private released = false;

  /**
   * `maxCapacity` caps the doubling of `append` (the most positions the cache will hold, e.g. prompt +
   * answer budget): a cache never holds more than it can be asked for.
   */
  constructor(
    readonly numLayers: number,
    /** Rows held; `keepRows` lowers it. */
    public batch: number,
    readonly kvHeads: number,
    readonly headDim: number,
    capacity = 64,
    readonly maxCapacity = Infinity,
    /** `pooled`: take the buffers from the pool of released caches (`cacheBuffers`); call `release` when done. */
    opts: { pooled?: boolean } = {},
  ) {
    this.capacity = Math.max(1, capacity);
    this.pooled = opts.pooled ?? false;
    const blocks = batch * kvHeads;
    const size = blocks * this.capacity * headDim;
    if (Number.isFinite(maxCapacity) && maxCapacity > this.capacity) {
      // Only the first `size` floats need to be zero: growing zeroes the slots it adds.
      const full = blocks * maxCapacity * headDim;
      this.store = { k: Array.from({ length: numLayers }, () => this.alloc(full, size)), v: Array.from({ length: numLayers }, () => this.alloc(full, size)) };
      this.k = this.store.k.map((a) => a.subarray(0, size));
      this.v = this.store.v.map((a) => a.subarray(0, size));
    } else {
      this.k = Array.from({ length: numLayers }, () => this.alloc(size));
      this.v = Array.from({ length: numLayers }, () => this.alloc(size));
    }
  }

  private alloc(n: number, zeroed = n): Float32Array {
    return this.pooled ? takeCacheBuffer(n, zeroed) : new Float32Array(n);
  }

  /**
   * Hands a pooled cache's buffers back for the next batch; the cache is unusable after. No-op for a
   * cache that was not pooled (the garbage collector frees it).
   *
   * @example try { ... } finally { cache.release(); }
   */
  release(): void {
    if (this.released || !this.pooled) return;
    this.released = true;
    giveCacheBuffers(this.store ? [...this.store.k, ...this.store.v] : [...this.k, ...this.v]);
    this.store = null;
    this.k.length = 0;
    this.v.length = 0;
    this.length = 0;
  }

  private checkLive(): void {
    if (this.released) throw new Error('This KV cache was released; its buffers belong to another batch now.');
  }

  private grow(needed: number): void {
    if (needed <= this.capacity) return;
    let cap = this.capacity;
    while (cap < needed) cap *= 2;
    this.reserve(Math.max(needed, Math.min(cap, this.maxCapacity)));
  }

  /**
   * Grows the buffers to exactly `capacity` positions (no-op when they hold that many already): the
   * graph attends over the whole capacity, so a long prompt's prefill reserves as it goes instead of
   * attending over the final size from its first chunk.
   */
  reserve(capacity: number): void {
    this.checkLive();
    if (capacity <= this.capacity) return;
    const cap = capacity;
    const D = this.headDim;
    const blocks = this.batch * this.kvHeads;
    const n = this.length * D;
    if (this.store && cap <= this.maxCapacity) {
      // In place, last block first (each moves to a higher offset than any block not yet moved).
      for (const [arr, full] of [
        [this.k, this.store.k],
        [this.v, this.store.v],
      ] as const) {
        for (let l = 0; l < this.numLayers; l++) {
          const a = full[l];
          for (let i = blocks - 1; i >= 0; i--) {
            if (i > 0) a.copyWithin(i * cap * D, i * this.capacity * D, i * this.capacity * D + n);
            a.fill(0, i * cap * D + n, (i + 1) * cap * D);
          }
          arr[l] = a.subarray(0, blocks * cap * D);
        }
      }
      this.capacity = cap;
      return;
    }
    this.store = null;
    for (const arr of [this.k, this.v]) {
      for (let l = 0; l < this.numLayers; l++) {
        const old = arr[l];
        const next = this.alloc(blocks * cap * D);
        for (let i = 0; i < blocks; i++) next.set(old.subarray(i * this.capacity * D, (i * this.capacity + this.length) * D), i * cap * D);
        arr[l] = next;
        if (this.pooled) giveCacheBuffers([old]);
      }
    }
    this.capacity = cap;
  }

  /** Appends T new positions; newK[l]/newV[l] are [B, kvH, T, D]. */
  append(newK: Float32Array[], newV: Float32Array[], t: number): void {
    this.checkLive();
    this.grow(this.length + t);
    const D = this.headDim;
    const blocks = this.batch * this.kvHeads;
    for (let l = 0; l < this.numLayers; l++) {
      const k = this.k[l];
      const v = this.v[l];
      const nk = newK[l];
      const nv = newV[l];
      const n = t * D;
      for (let i = 0; i < blocks; i++) {
        const dst = (i * this.capacity + this.length) * D;
        const src = i * n;
        if (n >= 4096) {
          k.set(nk.subarray(src, src + n), dst);
          v.set(nv.subarray(src, src + n), dst);
        } else {
          // A decode step's rows are one head vector each (128 floats): a plain loop, since a
          // subarray per block cost ~2 µs apiece (8% of a q4 batch-64 step on Qwen3-0.6B's shape).
          for (let j = 0; j < n; j++) {
            k[dst + j] = nk[src + j];
            v[dst + j] = nv[src + j];
          }
        }
      }
    }
    this.length += t;
  }

  /**
   * Keeps only `rows` (ascending row indices), moved down in place to rows 0…n−1: a batch whose
   * finished rows leave it stops computing them, with no second buffer (a batch of 64 at a few
   * hundred positions holds gigabytes of cache on a 0.6B model).
   *
   * @example cache.keepRows([0, 2, 5]); // cache.batch === 3; old row 2 is row 1
   */
  keepRows(rows: number[]): void {
    for (let i = 1; i < rows.length; i++) if (!(rows[i] > rows[i - 1])) throw new RangeError(`keepRows takes ascending row indices; got [${rows.join(', ')}].`);
    if (rows.length && (rows[0] < 0 || rows[rows.length - 1] >= this.batch)) throw new RangeError(`keepRows: rows must lie in 0..${this.batch - 1}.`);
    const D = this.headDim;
    const H = this.kvHeads;
    const span = this.capacity * D;
    for (const arr of [this.k, this.v]) {
      for (let l = 0; l < this.numLayers; l++) {
        const a = arr[l];
        // rows[i] ≥ i: moving the rows in order never overwrites one not yet moved.
        rows.forEach((src, i) => {
          if (src !== i) for (let h = 0; h < H; h++) a.copyWithin((i * H + h) * span, (src * H + h) * span, (src * H + h) * span + this.length * D);
        });
        arr[l] = a.subarray(0, rows.length * H * span);
      }
    }
    this.batch = rows.length;
  }

  /**
   * A new cache whose row b is a copy of this cache's row `rows[b]` (its `length` filled slots), with
   * the given capacity: one prompt read once, continued by several answers. Pooled when this cache is.
   *
   * @example const perAnswer = promptCache.gather([0, 0, 1], promptLen + answerLen);
   */
  gather(rows: number[], capacity = this.capacity): KVCache {
    this.checkLive();
    const out = new KVCache(this.numLayers, rows.length, this.kvHeads, this.headDim, Math.max(capacity, this.length), Infinity, { pooled: this.pooled });
    const D = this.headDim;
    const n = this.length * D;
    for (const [from, to] of [
      [this.k, out.k],
      [this.v, out.v],
    ] as const) {
      for (let l = 0; l < this.numLayers; l++) {
        rows.forEach((src, b) => {
          for (let h = 0; h < this.kvHeads; h++) {
            const s = (src * this.kvHeads + h) * this.capacity * D;
            to[l].set(from[l].subarray(s, s + n), (b * this.kvHeads + h) * out.capacity * D);
          }
        });
      }
    }
    out.length = this.length;
    return out;
  }

  /** Bytes held. */
  get bytes(): number {
    return this.k.reduce((a, x) => a + x.byteLength, 0) * 2;
  }
}
