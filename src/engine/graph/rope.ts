import type { RopeParams } from '../../model/config/ModelConfig.js';

const f = Math.fround;

/**
 * Inverse frequencies of the rotary embedding [D/2], computed in float32 as transformers does,
 * with linear and llama3 scaling.
 */
export function ropeInvFreq(p: RopeParams, headDim: number): Float32Array {
  const half = headDim / 2;
  const inv = new Float32Array(half);
  for (let i = 0; i < half; i++) inv[i] = f(1 / f(Math.pow(p.theta, f((2 * i) / headDim))));
  if (p.type === 'linear') for (let i = 0; i < half; i++) inv[i] = f(inv[i] / p.factor);
  if (p.type === 'llama3') {
    const lowWavelen = p.originalMaxPositionEmbeddings / p.lowFreqFactor;
    const highWavelen = p.originalMaxPositionEmbeddings / p.highFreqFactor;
    for (let i = 0; i < half; i++) {
      const wavelen = (2 * Math.PI) / inv[i];
      const scaled = wavelen > lowWavelen ? inv[i] / p.factor : inv[i];
      if (wavelen < highWavelen || wavelen > lowWavelen) {
        inv[i] = f(scaled);
      } else {
        const smooth = (p.originalMaxPositionEmbeddings / wavelen - p.lowFreqFactor) / (p.highFreqFactor - p.lowFreqFactor);
        inv[i] = f((1 - smooth) * (scaled / p.factor) + smooth * scaled);
      }
    }
  }
  return inv;
}

/** cos/sin tables [N, D/2] for the given positions (float32 angles, as transformers computes them). */
export function ropeTables(invFreq: Float32Array, positions: ArrayLike<number>, scaling = 1): { cos: Float32Array; sin: Float32Array } {
  const half = invFreq.length;
  const cos = new Float32Array(positions.length * half);
  const sin = new Float32Array(positions.length * half);
  for (let n = 0; n < positions.length; n++) {
    const pos = positions[n];
    for (let i = 0; i < half; i++) {
      const angle = f(pos * invFreq[i]);
      cos[n * half + i] = Math.cos(angle) * scaling;
      sin[n * half + i] = Math.sin(angle) * scaling;
    }
  }
  return { cos, sin };
}
