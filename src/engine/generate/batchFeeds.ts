import { InvalidArgumentError } from '../../errors.js';
import type { ModelConfig } from '../../model/config/ModelConfig.js';
import { CLAMP_SLOTS } from '../graph/GraphOptions.js';
import type { Clamp, SteerPhase } from './Intervention.js';

/**
 * The steering inputs of one forward call: deltas [B·L·H] (absent when no row adds anything) and
 * clamps [B·L·K·H] / [B·L·K] with K = CLAMP_SLOTS (absent when no row clamps).
 *
 * @example const feed: SteerFeed = stackPhases([iv.response, null], config);
 */
export interface SteerFeed {
  delta?: Float32Array;
  clamp?: { dir: Float32Array; lo: Float32Array; hi: Float32Array };
}

/**
 * One layer's clamps of one row in the order the graph applies them: ablations first, made
 * orthonormal (Gram–Schmidt), so ablating several directions removes their whole span and leaves
 * ≈ 0 projection on each; then caps as given.
 */
export function orderClamps(clamps: Clamp[]): Clamp[] {
  const ablations = clamps.filter((c) => c.lo === 0 && c.hi === 0);
  const rest = clamps.filter((c) => !(c.lo === 0 && c.hi === 0));
  const basis: Clamp[] = [];
  for (const a of ablations) {
    const v = Float64Array.from(a.dir);
    for (const b of basis) {
      let dot = 0;
      for (let i = 0; i < v.length; i++) dot += v[i] * b.dir[i];
      for (let i = 0; i < v.length; i++) v[i] -= dot * b.dir[i];
    }
    let n = 0;
    for (const x of v) n += x * x;
    n = Math.sqrt(n);
    if (n < 1e-6) continue; // already in the span
    basis.push({ layer: a.layer, dir: Float32Array.from(v, (x) => x / n), lo: 0, hi: 0 });
  }
  return [...basis, ...rest];
}

/** Stacks each row's phase into the graph's steering inputs for one forward call. */
export function stackPhases(rows: (SteerPhase | null | undefined)[], c: ModelConfig): SteerFeed {
  const B = rows.length;
  const L = c.numHiddenLayers;
  const H = c.hiddenSize;
  const K = CLAMP_SLOTS;
  let delta: Float32Array | undefined;
  let clamp: SteerFeed['clamp'];
  rows.forEach((r, b) => {
    if (!r) return;
    if (r.delta) {
      delta ??= new Float32Array(B * L * H);
      delta.set(r.delta, b * L * H);
    }
    if (r.clamps.length === 0) return;
    clamp ??= { dir: new Float32Array(B * L * K * H), lo: new Float32Array(B * L * K), hi: new Float32Array(B * L * K) };
    for (let l = 0; l < L; l++) {
      const here = orderClamps(r.clamps.filter((x) => x.layer === l));
      if (here.length > K) throw new InvalidArgumentError(`At most ${K} ablate/cap directions can act on one layer of one row; layer ${l} has ${here.length}.`);
      here.forEach((x, k) => {
        const at = (b * L + l) * K + k;
        clamp!.dir.set(x.dir, at * H);
        clamp!.lo[at] = x.lo;
        clamp!.hi[at] = x.hi;
      });
    }
  });
  return { delta, clamp };
}

/** Left-pads rows to a common length: ids, per-row pad counts. */
export function leftPad(rows: number[][], padId: number): { ids: number[][]; pads: number[]; length: number } {
  const length = Math.max(...rows.map((r) => r.length));
  const pads = rows.map((r) => length - r.length);
  return { ids: rows.map((r, b) => [...new Array(pads[b]).fill(padId), ...r]), pads, length };
}
