import type { ModelConfig } from '../../model/config/ModelConfig.js';
import type { RowIntervention } from './Intervention.js';

/** Stacks per-row interventions into the graph's [B,L,H] / [B,L] steering inputs (undefined when none). */
export function stackInterventions(rows: (RowIntervention | null | undefined)[], c: ModelConfig) {
  const B = rows.length;
  const LH = c.numHiddenLayers * c.hiddenSize;
  const L = c.numHiddenLayers;
  let delta: Float32Array | undefined;
  let clamp: { dir: Float32Array; lo: Float32Array; hi: Float32Array } | undefined;
  rows.forEach((r, b) => {
    if (r?.delta) {
      delta ??= new Float32Array(B * LH);
      delta.set(r.delta, b * LH);
    }
    if (r?.clamp) {
      clamp ??= { dir: new Float32Array(B * LH), lo: new Float32Array(B * L), hi: new Float32Array(B * L) };
      clamp.dir.set(r.clamp.dir, b * LH);
      clamp.lo.set(r.clamp.lo, b * L);
      clamp.hi.set(r.clamp.hi, b * L);
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
