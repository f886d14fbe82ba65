/** Safetensors dtypes this toolkit reads, with their byte sizes. */
export const DTYPE_BYTES = { F32: 4, F16: 2, BF16: 2, F64: 8, I64: 8, I32: 4, I16: 2, I8: 1, U8: 1, BOOL: 1 } as const;
export type SafetensorsDtype = keyof typeof DTYPE_BYTES;

/** Dtypes whose values can be converted to float32. */
export const FLOAT_DTYPES: readonly SafetensorsDtype[] = ['F32', 'F16', 'BF16', 'F64'];

export function isKnownDtype(d: string): d is SafetensorsDtype {
  return Object.prototype.hasOwnProperty.call(DTYPE_BYTES, d);
}

/** IEEE half → float32, exact. */
export function f16ToF32(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 31) return frac ? NaN : sign * Infinity;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

const F16_TABLE = (() => {
  const t = new Float32Array(65536);
  for (let i = 0; i < 65536; i++) t[i] = f16ToF32(i);
  return t;
})();

/**
 * Converts little-endian raw tensor bytes of a float dtype into a Float32Array.
 *
 * @example const f = toFloat32(bytes, 'BF16');
 */
export function toFloat32(bytes: Uint8Array, dtype: SafetensorsDtype): Float32Array {
  const out = new Float32Array(bytes.byteLength / DTYPE_BYTES[dtype]);
  toFloat32Into(bytes, dtype, out, 0);
  return out;
}

/**
 * Converts raw float bytes into `out` starting at element `at` (the chunked reader's step: a chunk
 * of a multi-GB tensor goes straight into its destination).
 *
 * @example toFloat32Into(chunk, 'F16', out, 1024);
 */
export function toFloat32Into(bytes: Uint8Array, dtype: SafetensorsDtype, out: Float32Array, at: number): void {
  const n = bytes.byteLength / DTYPE_BYTES[dtype];
  switch (dtype) {
    case 'F32': {
      if (bytes.byteOffset % 4 === 0) out.set(new Float32Array(bytes.buffer, bytes.byteOffset, n), at);
      else out.set(new Float32Array(bytes.slice().buffer), at);
      return;
    }
    case 'BF16': {
      const u32 = new Uint32Array(out.buffer, out.byteOffset + at * 4, n);
      for (let i = 0; i < n; i++) u32[i] = (bytes[2 * i] | (bytes[2 * i + 1] << 8)) << 16;
      return;
    }
    case 'F16': {
      for (let i = 0; i < n; i++) out[at + i] = F16_TABLE[bytes[2 * i] | (bytes[2 * i + 1] << 8)];
      return;
    }
    case 'F64': {
      const src = bytes.byteOffset % 8 === 0 ? new Float64Array(bytes.buffer, bytes.byteOffset, n) : new Float64Array(bytes.slice().buffer);
      for (let i = 0; i < n; i++) out[at + i] = src[i];
      return;
    }
    default:
      throw new Error(`dtype ${dtype} is not a float type`);
  }
}
