import { describe, expect, it } from 'vitest';
import { stylist } from '../helpers/stylistModel.js';

describe('pooling over the last P new positions', () => {
  it('equals pooling every position with zero weight before them, and a length that fits no P is an error naming it', async () => {
    const model = await stylist();
    const s = model.session;
    const { numHiddenLayers: L, hiddenSize: H } = model.config;
    const B = 2;
    const T = 9;
    const inputIds = Array.from({ length: B * T }, (_, i) => 5 + ((i * 7) % 50));
    const positions = Array.from({ length: B * T }, (_, i) => i % T);
    const keyMask = new Uint8Array(B * T).fill(1);
    const base = { inputIds, batch: B, seq: T, positions, keyMask, pools: 2, ...s.noLogits };
    // Two pools per row: the mean of the last 3 positions, and the newest one alone.
    const P = 3;
    const tail = new Float32Array(B * 2 * P);
    const full = new Float32Array(B * 2 * T);
    for (let b = 0; b < B; b++) {
      for (let p = 0; p < P; p++) {
        tail[(b * 2 + 0) * P + p] = 1 / P;
        full[(b * 2 + 0) * T + T - P + p] = 1 / P;
      }
      tail[(b * 2 + 1) * P + P - 1] = 1;
      full[(b * 2 + 1) * T + T - 1] = 1;
    }
    const a = (await s.run({ ...base, poolWeights: tail })).pooled!;
    const want = (await s.run({ ...base, poolWeights: full })).pooled!;
    expect(a.length).toBe(B * L * 2 * H);
    let worst = 0;
    for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - want[i]));
    expect(worst).toBeLessThan(1e-5);
    // The pooled positions are the last ones: a call pooling the first position differs.
    const first = new Float32Array(B * 2 * T);
    for (let b = 0; b < B; b++) first[(b * 2 + 1) * T] = 1;
    const other = (await s.run({ ...base, poolWeights: first })).pooled!;
    expect(Math.abs(other[H] - want[H]) + Math.abs(other[H + 1] - want[H + 1])).toBeGreaterThan(1e-3);
    // No pooling asked: nothing pooled, the logits unchanged.
    const plain = await s.run({ inputIds, batch: B, seq: T, positions, keyMask });
    const pooledToo = await s.run({ inputIds, batch: B, seq: T, positions, keyMask, poolWeights: tail, pools: 2 });
    expect(plain.pooled).toBeUndefined();
    expect(Array.from(plain.logits!.subarray(0, 50))).toEqual(Array.from(pooledToo.logits!.subarray(0, 50)));
    await expect(s.run({ ...base, poolWeights: new Float32Array(B * 2 * T + 2) })).rejects.toThrow(/poolWeights has 38 weights/);
    await expect(s.run({ ...base, poolWeights: new Float32Array(B * 2 * (T + 1)) })).rejects.toThrow(/1 ≤ P ≤ 9/);
  }, 120_000);
});
