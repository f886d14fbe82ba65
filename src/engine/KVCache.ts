/**
 * The key/value cache, kept in JS so the graph never returns it whole (onnxruntime-node copies every
 * output). Layout per layer: [P, B, kvH, D], sequence-major, so the first P positions are one
 * contiguous prefix that is passed to the graph with no copy, and new rows are appended at the end.
 */
export class KVCache {
  readonly k: Float32Array[];
  readonly v: Float32Array[];
  length = 0;
  private capacity: number;

  constructor(readonly numLayers: number, readonly batch: number, readonly rowSize: number, capacity = 64) {
    this.capacity = capacity;
    this.k = Array.from({ length: numLayers }, () => new Float32Array(capacity * batch * rowSize));
    this.v = Array.from({ length: numLayers }, () => new Float32Array(capacity * batch * rowSize));
  }

  /** Floats per cached position (all rows of the batch). */
  get stride(): number {
    return this.batch * this.rowSize;
  }

  pastK(l: number): Float32Array {
    return this.k[l].subarray(0, this.length * this.stride);
  }

  pastV(l: number): Float32Array {
    return this.v[l].subarray(0, this.length * this.stride);
  }

  private grow(needed: number): void {
    if (needed <= this.capacity) return;
    let cap = this.capacity;
    while (cap < needed) cap *= 2;
    for (let l = 0; l < this.numLayers; l++) {
      const k = new Float32Array(cap * this.stride);
      k.set(this.pastK(l));
      this.k[l] = k;
      const v = new Float32Array(cap * this.stride);
      v.set(this.pastV(l));
      this.v[l] = v;
    }
    this.capacity = cap;
  }

  /** Appends T new positions; newK[l]/newV[l] are [T, B, kvH, D]. */
  append(newK: Float32Array[], newV: Float32Array[], t: number): void {
    this.grow(this.length + t);
    const off = this.length * this.stride;
    for (let l = 0; l < this.numLayers; l++) {
      this.k[l].set(newK[l], off);
      this.v[l].set(newV[l], off);
    }
    this.length += t;
  }

  /** Drops positions after `length` (e.g. to re-run a suffix). */
  truncate(length: number): void {
    this.length = Math.min(this.length, length);
  }

  /** Bytes held. */
  get bytes(): number {
    return this.k.reduce((a, x) => a + x.byteLength, 0) * 2;
  }
}
