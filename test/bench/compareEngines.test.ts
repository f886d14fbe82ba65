import { describe, expect, it } from 'vitest';
import type { PrecisionResult } from '../../src/bench/benchEngine.js';
import { compareEngines, llamaCppFigures, ourFigures } from '../../src/bench/compareEngines.js';
import { interleaveRounds } from '../../src/bench/interleaveRounds.js';
import type { LlamaCppComparison } from '../../src/bench/llamaCpp/runLlamaCppComparison.js';

const ours = (precision: 'f32' | 'q4', decode: number, prefill: number): PrecisionResult =>
  ({
    precision,
    rss_mib: 500,
    decode_tok_s: { ctx128_b1: decode, ctx1024_b1: decode / 2, ctx128_b8: decode * 3 },
    prefill_tok_s: { '128': prefill, '512': prefill * 0.8 },
  }) as unknown as PrecisionResult;

const theirs = (results: Record<string, { decode: number; prefill: number }>): LlamaCppComparison =>
  ({
    engine: 'llama.cpp',
    threads: 2,
    errors: {},
    results: Object.fromEntries(
      Object.entries(results).map(([t, r]) => [
        t,
        { rss_mib: 900, decode_tok_s: { 128: r.decode, 1024: r.decode / 2 }, prefill_tok_s: { 128: r.prefill, 512: r.prefill * 0.9 } },
      ]),
    ),
  }) as unknown as LlamaCppComparison;

describe('ours over llama.cpp', () => {
  it('pairs f32 with f32 and q4 with q4_0 and divides our speed by theirs', () => {
    const [f32, q4] = compareEngines(
      { f32: ours('f32', 11, 180), q4: ours('q4', 60, 320) },
      theirs({ f32: { decode: 12, prefill: 80 }, q4_0: { decode: 40, prefill: 260 } }),
    );
    expect(f32.theirs).toBe('f32');
    expect(f32.decode_ctx128.ratio).toBeCloseTo(11 / 12, 10);
    expect(f32.prefill['128'].ratio).toBeCloseTo(180 / 80, 10);
    expect(f32.prefill['512'].ratio).toBeCloseTo((180 * 0.8) / (80 * 0.9), 10);
    expect(q4.theirs).toBe('q4_0');
    expect(q4.decode_ctx128).toEqual({ ours_tok_s: 60, theirs_tok_s: 40, ratio: 1.5 });
    expect(q4.rss_mib).toEqual({ ours: 500, theirs: 900 });
  });

  it('leaves out a precision llama.cpp could not measure', () => {
    const rows = compareEngines({ f32: ours('f32', 11, 180), q4: ours('q4', 60, 320) }, theirs({ q4_0: { decode: 40, prefill: 260 } }));
    expect(rows.map((r) => r.ours)).toEqual(['q4']);
  });

  it('sets our int8-cache decode beside the same llama.cpp decode, only when it was measured', async () => {
    const plain = ours('q4', 60, 320);
    const withInt8 = { ...plain, decode_tok_s: { ...plain.decode_tok_s, ctx128_b1_kv8: 58, ctx1024_b1_kv8: 45 } } as PrecisionResult;
    const t = theirs({ q4_0: { decode: 40, prefill: 260 } }).results.q4_0!;
    expect(ourFigures(plain)).not.toHaveProperty('decode_ctx1024_kv8');
    expect(ourFigures(withInt8)).toMatchObject({ decode_ctx128_kv8: 58, decode_ctx1024_kv8: 45 });
    const r = await interleaveRounds(
      async () => ourFigures(withInt8) as Record<string, number>,
      async () => llamaCppFigures(t),
      1,
    );
    expect(r.ratios.decode_ctx1024_kv8.median).toBeCloseTo(45 / 20, 10);
    expect(r.ratios.decode_ctx1024.median).toBeCloseTo(30 / 20, 10);
    const without = await interleaveRounds(
      async () => ourFigures(plain) as Record<string, number>,
      async () => llamaCppFigures(t),
      1,
    );
    expect(without.ratios.decode_ctx1024_kv8).toBeUndefined();
  });
});
