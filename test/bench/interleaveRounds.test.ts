import { readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { decode } from '../../src/bench/decodeTiming.js';
import { interleaveRounds, spreadOf } from '../../src/bench/interleaveRounds.js';
import { checkpointTensors } from '../../src/bench/randomCheckpoint.js';
import { openDecoder } from '../../src/engine/openDecoder.js';
import { CLI, ROOT, STYLIST } from '../helpers/paths.js';

describe('interleaved rounds', () => {
  it('runs our f32 engine and our q4 engine in turn, a b a b a b, and divides within each round', async () => {
    const f32 = await openDecoder(STYLIST, { precision: 'f32', threads: 1 });
    const q4 = await openDecoder(STYLIST, { precision: 'q4', threads: 1 });
    try {
      const seen: string[] = [];
      const side = (name: string, s: typeof f32.session) => async (round: number) => {
        seen.push(`${name}${round}`);
        return { decode_ctx32: 1 / (await decode(s, 32, 1, 3)), only_here: 1 };
      };
      const r = await interleaveRounds(side('a', f32.session), async (round) => ({ decode_ctx32: (await side('b', q4.session)(round)).decode_ctx32 }), 3);
      expect(r.order).toEqual(['a0', 'b0', 'a1', 'b1', 'a2', 'b2']);
      expect(seen).toEqual(r.order);
      const x = r.ratios.decode_ctx32;
      expect(x.rounds).toHaveLength(3);
      x.rounds.forEach((ratio, i) => expect(ratio).toBeCloseTo(r.a[i].decode_ctx32 / r.b[i].decode_ctx32, 12));
      expect(x.min).toBeLessThanOrEqual(x.median);
      expect(x.median).toBeLessThanOrEqual(x.max);
      // A figure only one side measures has no ratio.
      expect(r.ratios.only_here).toBeUndefined();
    } finally {
      await f32.session.release();
      await q4.session.release();
    }
  });

  it('reports the median of the per-round ratios with their range', () => {
    expect(spreadOf([1.3, 0.9, 1.1])).toEqual({ median: 1.1, min: 0.9, max: 1.3, rounds: [1.3, 0.9, 1.1] });
    expect(spreadOf([2, 1, 4, 3]).median).toBe(2.5);
    expect(() => spreadOf([])).toThrow(RangeError);
  });

  it('refuses zero rounds', async () => {
    await expect(
      interleaveRounds(
        async () => ({}),
        async () => ({}),
        0,
      ),
    ).rejects.toThrow(/rounds must be a positive integer/);
  });

  it('persona bench refuses --rounds without --vs before writing anything', () => {
    const r = spawnSync(process.execPath, [CLI, 'bench', '--config', path.join(STYLIST, 'config.json'), '--rounds', '3'], {
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/--rounds .* needs --vs llama\.cpp/);
  });
});

describe('shipped model-size configs', () => {
  const params = (file: string) =>
    checkpointTensors(JSON.parse(readFileSync(path.join(ROOT, 'data', 'configs', file), 'utf8'))).reduce((n, t) => n + t.shape.reduce((a, b) => a * b, 1), 0);
  it('have the parameter counts of Qwen3 0.6B, 1.7B, 4B and 8B', () => {
    expect(params('qwen3-0.6b.json') / 1e9).toBeCloseTo(0.596, 2);
    expect(params('qwen3-1.7b.json') / 1e9).toBeCloseTo(1.72, 2);
    expect(params('qwen3-4b.json') / 1e9).toBeCloseTo(4.02, 2);
    expect(params('qwen3-8b.json') / 1e9).toBeCloseTo(8.19, 2);
  });

  it('untie the output layer only for 8B', () => {
    const tied = (file: string) => JSON.parse(readFileSync(path.join(ROOT, 'data', 'configs', file), 'utf8')).tie_word_embeddings;
    expect(['qwen3-1.7b.json', 'qwen3-4b.json', 'qwen3-8b.json'].map(tied)).toEqual([true, true, false]);
  });
});
