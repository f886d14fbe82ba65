import { giveCacheBuffers, takeCacheBuffer } from './cacheBuffers.js';

/**
 * What a KV cache stores per cached position: `f32` keys and values as the graph computed them, or
 * `int8` keys and values with one f32 scale per position and head (symmetric, absmax / 127): a
 * quarter of the bytes the attention reads per step, at a measured cost in accuracy (docs/bench.md).
 */
export type KVCacheKind = 'f32' | 'int8';
export const KV_CACHE_KINDS: readonly KVCacheKind[] = ['f32', 'int8'];

type Buf = Float32Array | Int8Array;

/**
 * One array per layer holding, for each of the batch's `rowsPerBatch`-row groups, rows of
 * `capacity × width` elements whose first `length × width` are filled: every layout below is this
 * shape, so growing, compacting and copying rows is one piece of code.
 */
interface Plane {
  rowsPerBatch: number;
  width: number;
  int8: boolean;
  /** Per layer: the first [batch · rowsPerBatch · capacity · width] elements of `full` (or the whole buffer). */
  views: Buf[];
  /** Per layer: a buffer sized for `maxCapacity`, grown into in place; null once grown past it. */
  full: Buf[] | null;
}

/**
 * The key/value cache, kept in JS so the graph never returns it whole (onnxruntime-node copies every
 * output). The graph reads the whole buffer as its past (zero-copy; slots at and beyond `length` are
 * masked out by the attention bias) and returns only the new rows [B, kvH, T, D], which `append`
 * writes into place. Layouts per layer (C = capacity):
 * - `f32`: `k`, `v` [B, kvH, C, D];
 * - `int8`: `k` [B, kvH, D, C] (keys transposed: the int8 matmul reads them as [D, C]), `v`
 *   [B, kvH, C, D], and their per-position scales `kScale`, `vScale` [B, kvH, 1, C].
 *
 * @example const cache = new KVCache(layers, batch, kvHeads, headDim, promptLen + maxNew);
 */
export class KVCache {
  readonly k: Buf[];
  readonly v: Buf[];
  /** int8 only: the scale of each cached key / value row, [B, kvH, 1, C] per layer. */
  readonly kScale: Float32Array[] = [];
  readonly vScale: Float32Array[] = [];
  length = 0;
  capacity: number;
  readonly kind: KVCacheKind;
  private readonly planes: Plane[];

  /** Buffers come from (and `release` returns them to) the cache buffer pool. */
  private readonly pooled: boolean;
  private released = false;

  /**
   * `maxCapacity` caps the doubling of `append` (the most positions the cache will hold, e.g. prompt +
   * answer budget): a cache never holds more than it can be asked for. With a finite `maxCapacity`,
   * each layer gets one buffer of that size, the cache being its first part; growing re-strides it in
   * place. Pages are only resident once written, so this costs no memory up front, and growing frees
   * nothing (replaced buffers freed into the allocator's heap stayed resident: a long prompt's cache
   * grown by copies left ~0.9 GiB behind at 8,192 tokens).
   */
  constructor(
    readonly numLayers: number,
    /** Rows held; `keepRows` lowers it. */
    public batch: number,
    readonly kvHeads: number,
    readonly headDim: number,
    capacity = 64,
    readonly maxCapacity = Infinity,
    /** `pooled`: take the buffers from the pool of released caches (`cacheBuffers`); call `release` when done. `kind`: f32 (default) or int8. */
    opts: { pooled?: boolean; kind?: KVCacheKind } = {},
  ) {
    this.capacity = Math.max(1, capacity);
    this.pooled = opts.pooled ?? false;
    this.kind = opts.kind ?? 'f32';
    const D = headDim;
    const int8 = this.kind === 'int8';
    const layout = int8
      ? [
          { rowsPerBatch: kvHeads * D, width: 1, int8 },
          { rowsPerBatch: kvHeads, width: D, int8 },
          { rowsPerBatch: kvHeads, width: 1, int8: false },
          { rowsPerBatch: kvHeads, width: 1, int8: false },
        ]
      : [
          { rowsPerBatch: kvHeads, width: D, int8 },
          { rowsPerBatch: kvHeads, width: D, int8 },
        ];
    const grows = Number.isFinite(maxCapacity) && maxCapacity > this.capacity;
    this.planes = layout.map((p) => {
      const size = batch * p.rowsPerBatch * this.capacity * p.width;
      if (!grows) return { ...p, views: Array.from({ length: numLayers }, () => this.alloc(size, size, p.int8)), full: null };
      // Only the first `size` elements need to be zero: growing zeroes the slots it adds.
      const full = Array.from({ length: numLayers }, () => this.alloc(batch * p.rowsPerBatch * maxCapacity * p.width, size, p.int8));
      return { ...p, full, views: full.map((a) => a.subarray(0, size)) };
    });
    this.k = this.planes[0].views;
    this.v = this.planes[1].views;
    if (int8) {
      this.kScale = this.planes[2].views as Float32Array[];
      this.vScale = this.planes[3].views as Float32Array[];
    }
  }

  /** `n` elements, the first `zeroed` of them zero; int8 buffers are views of float buffers (so the pool serves both). */
  private alloc(n: number, zeroed: number, int8: boolean): Buf {
    if (!int8) return this.pooled ? takeCacheBuffer(n, zeroed) : new Float32Array(n);
    const f = this.pooled ? takeCacheBuffer(Math.ceil(n / 4), Math.ceil(zeroed / 4)) : new Float32Array(Math.ceil(n / 4));
    return new Int8Array(f.buffer, f.byteOffset, n);
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
    giveCacheBuffers(this.planes.flatMap((p) => p.full ?? p.views));
    for (const p of this.planes) {
      p.full = null;
      p.views.length = 0;
    }
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
    for (const p of this.planes) {
      const w = p.width;
      const rows = this.batch * p.rowsPerBatch;
      const n = this.length * w;
      const [from, to] = [this.capacity * w, cap * w];
      const inPlace = p.full !== null && cap <= this.maxCapacity;
      for (let l = 0; l < this.numLayers; l++) {
        if (inPlace) {
          // In place, last row first (each moves to a higher offset than any row not yet moved).
          const a = p.full![l];
          for (let i = rows - 1; i >= 0; i--) {
            if (i > 0) a.copyWithin(i * to, i * from, i * from + n);
            a.fill(0, i * to + n, (i + 1) * to);
          }
          p.views[l] = a.subarray(0, rows * to);
        } else {
          const old = p.views[l];
          const next = this.alloc(rows * to, rows * to, p.int8);
          for (let i = 0; i < rows; i++) next.set(old.subarray(i * from, i * from + n) as ArrayLike<number>, i * to);
          p.views[l] = next;
          if (this.pooled) giveCacheBuffers([old]);
        }
      }
      if (!inPlace) p.full = null;
    }
    this.capacity = cap;
  }

  /** Appends T new positions; newK[l]/newV[l] are [B, kvH, T, D] (f32, as the graph returns them). */
  append(newK: Float32Array[], newV: Float32Array[], t: number): void {
    this.checkLive();
    this.grow(this.length + t);
    if (this.kind === 'int8') return this.appendInt8(newK, newV, t);
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

  /** int8: each new key and value row quantized on its own (scale = absmax / 127), keys written transposed. */
  private appendInt8(newK: Float32Array[], newV: Float32Array[], t: number): void {
    const D = this.headDim;
    const C = this.capacity;
    const blocks = this.batch * this.kvHeads;
    for (let l = 0; l < this.numLayers; l++) {
      const [k, v, ks, vs] = [this.k[l], this.v[l], this.kScale[l], this.vScale[l]];
      const nk = newK[l];
      const nv = newV[l];
      for (let i = 0; i < blocks; i++) {
        for (let j = 0; j < t; j++) {
          const src = (i * t + j) * D;
          const pos = this.length + j;
          const sk = rowScale(nk, src, D);
          const sv = rowScale(nv, src, D);
          ks[i * C + pos] = sk;
          vs[i * C + pos] = sv;
          const ik = sk > 0 ? 1 / sk : 0;
          const iv = sv > 0 ? 1 / sv : 0;
          const kBase = i * D * C + pos;
          const vBase = (i * C + pos) * D;
          for (let d = 0; d < D; d++) {
            k[kBase + d * C] = Math.round(nk[src + d] * ik);
            v[vBase + d] = Math.round(nv[src + d] * iv);
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
    for (const p of this.planes) {
      const span = this.capacity * p.width;
      const n = this.length * p.width;
      const R = p.rowsPerBatch;
      for (let l = 0; l < this.numLayers; l++) {
        const a = p.views[l];
        // rows[i] ≥ i: moving the rows in order never overwrites one not yet moved.
        rows.forEach((src, i) => {
          if (src === i) return;
          // A row group whose slots are one element wide is moved whole (one copy instead of one per row).
          if (p.width === 1 && R > 1) a.copyWithin(i * R * span, src * R * span, (src + 1) * R * span);
          else for (let h = 0; h < R; h++) a.copyWithin((i * R + h) * span, (src * R + h) * span, (src * R + h) * span + n);
        });
        p.views[l] = a.subarray(0, rows.length * R * span);
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
    const out = new KVCache(this.numLayers, rows.length, this.kvHeads, this.headDim, Math.max(capacity, this.length), Infinity, {
      pooled: this.pooled,
      kind: this.kind,
    });
    this.planes.forEach((p, j) => {
      const q = out.planes[j];
      const [from, to] = [this.capacity * p.width, out.capacity * p.width];
      const n = this.length * p.width;
      const R = p.rowsPerBatch;
      for (let l = 0; l < this.numLayers; l++) {
        rows.forEach((src, b) => {
          // Same stride: the row group in one copy (an int8 key plane has kvH · D rows per batch row).
          if (from === to) return q.views[l].set(p.views[l].subarray(src * R * from, (src + 1) * R * from) as ArrayLike<number>, b * R * to);
          for (let h = 0; h < R; h++) {
            const s = (src * R + h) * from;
            q.views[l].set(p.views[l].subarray(s, s + n) as ArrayLike<number>, (b * R + h) * to);
          }
        });
      }
    });
    out.length = this.length;
    return out;
  }

  /** Bytes held. */
  get bytes(): number {
    return this.planes.reduce((sum, p) => sum + p.views.reduce((a, x) => a + x.byteLength, 0), 0);
  }
}

/** absmax / 127 of `n` values from `at`: the scale that maps a row onto int8 without clipping. */
function rowScale(a: Float32Array, at: number, n: number): number {
  let m = 0;
  for (let i = at; i < at + n; i++) {
    const x = a[i] < 0 ? -a[i] : a[i];
    if (x > m) m = x;
  }
  return m / 127;
}
