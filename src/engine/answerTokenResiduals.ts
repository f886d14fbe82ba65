import { InvalidArgumentError } from '../errors.js';
import type { LanguageModel } from './LanguageModel.js';

/**
 * The residual stream after each of `layers` at every answer token's position, from one unsteered
 * pass over prompt + answer: `[answer token][k]` is the [H] residual after block `layers[k]`. The
 * prompt is read in chunks into the cache, then the answer in chunks whose pools are one-hot per
 * token (the graph's pooled output [1, L, T, H]), so the work grows with the sequence's length
 * once, not once per answer token.
 *
 * @example const rs = await answerTokenResiduals(model, promptIds, answerIds, [3]); // rs[i][0]: token i after block 3
 */
export async function answerTokenResiduals(
  model: LanguageModel,
  promptIds: number[],
  answerIds: number[],
  layers: number[],
  opts: { chunk?: number } = {},
): Promise<Float32Array[][]> {
  const c = model.config;
  const L = c.numHiddenLayers;
  const H = c.hiddenSize;
  for (const l of layers)
    if (!(Number.isInteger(l) && l >= 0 && l < L)) throw new InvalidArgumentError(`layer ${l} is not a block of this model (0..${L - 1}).`);
  if (promptIds.length === 0) throw new InvalidArgumentError('answerTokenResiduals needs a prompt of at least one token.');
  if (answerIds.length === 0) return [];
  const chunk = opts.chunk ?? 256;
  const P = promptIds.length;
  const N = answerIds.length;
  const session = model.session;
  const cache = session.newCache(1, P + N);
  const out: Float32Array[][] = [];
  // Positions [s0, s1) of prompt + answer; pools one-hot on the answer tokens among them (none while reading the prompt).
  for (let s0 = 0; s0 < P + N;) {
    const s1 = s0 < P ? Math.min(P, s0 + chunk) : Math.min(P + N, s0 + chunk);
    const T = s1 - s0;
    const inputIds = Array.from({ length: T }, (_, t) => (s0 + t < P ? promptIds[s0 + t] : answerIds[s0 + t - P]));
    const positions = Array.from({ length: T }, (_, t) => s0 + t);
    const keyMask = new Uint8Array(s1).fill(1);
    const answerSlots = s0 >= P ? T : 0;
    const pools = Math.max(1, answerSlots);
    const pw = new Float32Array(pools * T);
    for (let k = 0; k < answerSlots; k++) pw[k * T + k] = 1;
    const res = await session.run({ inputIds, batch: 1, seq: T, positions, keyMask, cache, poolWeights: pw, pools, ...session.noLogits });
    cache.append(res.newK, res.newV, T);
    const pooled = res.pooled!; // [1, L, pools, H]
    for (let k = 0; k < answerSlots; k++) out.push(layers.map((l) => pooled.slice((l * pools + k) * H, (l * pools + k + 1) * H)));
    s0 = s1;
  }
  return out;
}
