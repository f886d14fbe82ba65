/**
 * Block quantisation into ONNX Runtime's `MatMulNBits` layout: a weight W [N, K] (HF Linear layout,
 * out × in) becomes `B` uint8 [N, kBlocks, blockSize·bits/8], `scales` float32 [N·kBlocks], with the
 * default zero point 2^(bits−1), so w ≈ (q − zp) · scale. Symmetric, like llama.cpp's q4_0 / q8_0.
 */
export interface QuantizedMatrix {
  b: Uint8Array;
  scales: Float32Array;
  n: number;
  k: number;
  bits: 4 | 8;
  blockSize: number;
}

export function quantizeMatrix(w: Float32Array, n: number, k: number, bits: 4 | 8, blockSize = 32): QuantizedMatrix {
  const kBlocks = Math.ceil(k / blockSize);
  const blob = (blockSize * bits) / 8;
  const b = new Uint8Array(n * kBlocks * blob);
  const scales = new Float32Array(n * kBlocks);
  const zp = bits === 4 ? 8 : 128;
  const qmax = bits === 4 ? 15 : 255;
  for (let row = 0; row < n; row++) {
    const rowOff = row * k;
    for (let blk = 0; blk < kBlocks; blk++) {
      const start = blk * blockSize;
      const end = Math.min(start + blockSize, k);
      // Signed value of largest magnitude maps to -zp (q4_0 style), using the full range.
      let maxAbs = 0;
      let maxSigned = 0;
      for (let i = start; i < end; i++) {
        const v = w[rowOff + i];
        const a = Math.abs(v);
        if (a > maxAbs) {
          maxAbs = a;
          maxSigned = v;
        }
      }
      const d = bits === 4 ? maxSigned / -8 : maxAbs / 127;
      const inv = d !== 0 ? 1 / d : 0;
      const sIdx = row * kBlocks + blk;
      scales[sIdx] = d;
      const out = sIdx * blob;
      for (let i = 0; i < blockSize; i++) {
        const v = start + i < end ? w[rowOff + start + i] : 0;
        let q = Math.round(v * inv) + zp;
        if (q < 0) q = 0;
        else if (q > qmax) q = qmax;
        if (bits === 8) b[out + i] = q;
        else if (i % 2 === 0) b[out + (i >> 1)] = q;
        else b[out + (i >> 1)] |= q << 4;
      }
    }
  }
  return { b, scales, n, k, bits, blockSize };
}

/** Dequantises back to [N, K] float32 (for tests and error checks). */
export function dequantizeMatrix(q: QuantizedMatrix): Float32Array {
  const { n, k, bits, blockSize } = q;
  const kBlocks = Math.ceil(k / blockSize);
  const blob = (blockSize * bits) / 8;
  const zp = bits === 4 ? 8 : 128;
  const out = new Float32Array(n * k);
  for (let row = 0; row < n; row++) {
    for (let col = 0; col < k; col++) {
      const blk = Math.floor(col / blockSize);
      const i = col % blockSize;
      const base = (row * kBlocks + blk) * blob;
      const raw = bits === 8 ? q.b[base + i] : (q.b[base + (i >> 1)] >> ((i & 1) * 4)) & 0xf;
      out[row * k + col] = (raw - zp) * q.scales[row * kBlocks + blk];
    }
  }
  return out;
}
