/**
 * Float32 buffers for KV caches, handed back when a batch ends and reused by the next one.
 *
 * A batch's cache is large (64 rows × ~100 positions is 1.5 GB on Qwen3-0.6B's shape) and freshly
 * allocated memory is faulted in page by page as the batch first touches it: on this project's VM
 * (~4–11 µs per 4 KiB page) a new cache per batch of a sweep cost ~0.4–0.7 M faults, 2–3 s of a ~27 s
 * q4 batch. Until the garbage collector frees the previous batch's cache, a fresh one also doubles
 * the memory held. Buffers wait here only briefly: the pool empties itself after
 * {@link CACHE_POOL_IDLE_MS} without a take, so an idle process holds no finished batch's cache.
 */

/** How long released buffers are kept for the next batch before the pool lets them go. */
export const CACHE_POOL_IDLE_MS = 2000;

const free: Float32Array[] = [];
let idle: NodeJS.Timeout | undefined;

function touch(): void {
  if (idle) clearTimeout(idle);
  idle = free.length ? setTimeout(dropCacheBuffers, CACHE_POOL_IDLE_MS).unref() : undefined;
}

/**
 * A released buffer serves a take of at most this many times fewer floats: a small cache (an
 * evaluation's prompt cache of 32 rows) must not pin a large one (a batch's cache of 64 rows × its
 * answers) while the next large cache allocates anew — that held a second batch cache through
 * every evaluation's scoring (peak RSS 1.23 × generation's on Qwen3-0.6B's shape; 1.00 before the pool).
 */
const MAX_OVERSIZE = 2;

/**
 * A buffer of `n` floats: a view of the smallest released buffer that holds `n` and is at most
 * {@link MAX_OVERSIZE} times larger (reused memory), or a new one. Its first `zeroed` floats are zero
 * (a reused buffer holds an earlier batch's keys and values, NaN included; the cache zeroes the slots
 * it grows into itself). When none fits, the pool lets go of the buffers smaller than `n`, so growing
 * batches under steady load never pile up buffers too small for them; larger ones stay for a larger take.
 *
 * @example const k = takeCacheBuffer(blocks * capacity * D);
 */
export function takeCacheBuffer(n: number, zeroed = n): Float32Array {
  let best = -1;
  for (let i = 0; i < free.length; i++) {
    const len = free[i].length;
    if (len >= n && len <= MAX_OVERSIZE * n && (best < 0 || len < free[best].length)) best = i;
  }
  if (best < 0) {
    if (free.length) {
      free.splice(0, free.length, ...free.filter((b) => b.length >= n));
      touch();
    }
    return new Float32Array(n);
  }
  const [buf] = free.splice(best, 1);
  touch();
  const view = buf.subarray(0, n);
  view.fill(0, 0, zeroed);
  return view;
}

/**
 * Hands buffers back (views are returned whole: their underlying buffer, which an int8 view shares
 * with the float buffer it was taken as). A buffer must not be used after it is handed back.
 *
 * @example giveCacheBuffers([...cache.k, ...cache.v]);
 */
export function giveCacheBuffers(bufs: ReadonlyArray<Float32Array | Int8Array>): void {
  const seen = new Set(free.map((b) => b.buffer));
  for (const b of bufs) {
    if (b.buffer.byteLength === 0 || seen.has(b.buffer)) continue;
    seen.add(b.buffer);
    free.push(new Float32Array(b.buffer));
  }
  touch();
}

/** Lets every released buffer go (before measuring memory, or when nothing will be generated soon). */
export function dropCacheBuffers(): void {
  free.length = 0;
  touch();
}

/** Floats held for reuse (for tests and memory reports). */
export function pooledCacheFloats(): number {
  return free.reduce((n, b) => n + b.length, 0);
}
