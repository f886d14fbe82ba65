import { describe, expect, it } from 'vitest';
import { spawnAsync } from '../helpers/cli.js';
import path from 'node:path';
import { CLI, GOLDENS, STYLIST } from '../helpers/paths.js';
import { checkpointTensors } from '../../src/bench/randomCheckpoint.js';
import { readFileSync } from 'node:fs';

describe('persona bench', () => {
  it('measures every precision against bounds measured in the same run and prints the required fields', async () => {
    const config = path.join(GOLDENS, 'qwen3', 'config.json');
    const r = await spawnAsync(process.execPath, [CLI, 'bench', '--config', config, '--precision', 'f32,q4', '--steps', '2', '--reps', '1', '--json'], {
      encoding: 'utf8',
      timeout: 300_000,
    });
    expect(r.status, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout);
    const config_max = JSON.parse(readFileSync(config, 'utf8')).max_position_embeddings;
    expect(report.bounds.read_bandwidth_GBps).toBeGreaterThan(0);
    expect(report.bounds.matmul_GFLOPs).toBeGreaterThan(0);
    for (const p of ['f32', 'q4']) {
      const x = report.results[p];
      for (const k of ['decode_tok_s', 'prefill_tok_s']) expect(Object.values(x[k]).every((v) => (v as number) > 0)).toBe(true);
      expect(x.bound_decode_tok_s).toBeGreaterThan(0);
      expect(x.bound_prefill_tok_s).toBeGreaterThan(0);
      expect(Number.isFinite(x.steering_overhead)).toBe(true);
      expect(x.steering_overhead_rounds).toHaveLength(3);
      // The profile's share of the steering ops: the add alone is a small part of a step, the clamp graph's ops a larger one.
      const { add, clamp } = x.steering_profile_share;
      expect(add.rounds).toHaveLength(3);
      expect(add.median).toBeGreaterThan(0);
      expect(add.median).toBeLessThan(0.2);
      expect(add.min).toBeLessThanOrEqual(add.median);
      expect(add.max).toBeGreaterThanOrEqual(add.median);
      expect(clamp.median).toBeGreaterThan(add.median);
      // The context sweep, once per cache kind (each in its own process), capped by the model's positions,
      // with the process's peak RSS rising (never falling) along it.
      type Point = { requested: number; kv_cache: string; kv_cache_mib: number; process_peak_rss_mib: number; rss_mib: number };
      const all: Point[] = x.context_sweep;
      expect(all.map((p) => `${p.kv_cache} ${p.requested}`)).toEqual(['f32', 'int8'].flatMap((k) => [128, 1024, 4096, 8192].map((n) => `${k} ${n}`)));
      // The int8 cache holds a byte per value and a 4-byte scale per position and head: (D + 4) / 4D of the f32 one.
      const D = 32;
      all.slice(4).forEach((p, i) => expect(p.kv_cache_mib / all[i].kv_cache_mib).toBeCloseTo((D + 4) / (4 * D), 6));
      // Decode through an int8 cache beside the f32 figures.
      for (const k of ['ctx128_b1_kv8', 'ctx1024_b1_kv8', 'ctx128_b8_kv8']) expect(x.decode_tok_s[k]).toBeGreaterThan(0);
      for (const sweep of [all.slice(0, 4), all.slice(4)]) {
        const peaks = sweep.map((p) => p.process_peak_rss_mib);
        for (const p of sweep) expect(p.rss_mib).toBeLessThanOrEqual(p.process_peak_rss_mib + 1);
        expect([...peaks].sort((a, b) => a - b)).toEqual(peaks);
      }
      x.context_sweep = all.slice(0, 4);
      for (const p of x.context_sweep) {
        expect(p.ctx).toBeLessThanOrEqual(Math.min(p.requested, config_max));
        expect(p.decode_tok_s).toBeGreaterThan(0);
        expect(p.kv_cache_mib).toBeGreaterThan(0);
        // The decode steps' own peak RSS, beside the weights and the cache it holds.
        expect(p.decode_peak_rss_mib).toBeGreaterThan(0);
        expect(p.decode_peak_over_weights_and_cache).toBeCloseTo(p.decode_peak_rss_mib / (p.weights_mib + p.kv_cache_mib), 6);
      }
      expect(x.context_sweep[3].prefill_tok_s).toBeGreaterThan(0);
      expect(x.context_sweep[3].prefill_over_512).toBeGreaterThan(0);
      expect(x.context_sweep[3].prefill_peak_rss_mib).toBeGreaterThan(0);
      expect(x.context_sweep[0].prefill_tok_s).toBeUndefined();
      expect(x.rss_mib).toBeGreaterThan(10);
    }
    // q4 reads fewer bytes per token than f32
    expect(report.results.q4.bytes_per_token).toBeLessThan(report.results.f32.bytes_per_token / 3);
  });

  it('with --evaluation, times a scored 5 × 32 evaluation and the train phases against batched decode and prefill of the same run', async () => {
    const config = path.join(STYLIST, 'config.json');
    const r = await spawnAsync(
      process.execPath,
      [CLI, 'bench', '--config', config, '--precision', 'f32', '--steps', '2', '--reps', '1', '--evaluation', '--json'],
      { encoding: 'utf8', timeout: 300_000 },
    );
    expect(r.status, r.stderr).toBe(0);
    const x = JSON.parse(r.stdout).results.f32;
    expect(x.evaluation.rows).toBe(160);
    expect(x.evaluation.evaluation_tok_s).toBeGreaterThan(0);
    expect(x.evaluation.generation_tok_s).toBeGreaterThan(x.evaluation.evaluation_tok_s);
    expect(x.evaluation.evaluation_over_decode_b8).toBeCloseTo(x.evaluation.evaluation_tok_s / x.evaluation.decode_b8_tok_s, 6);
    expect(x.train_answer_over_decode_b8).toBeCloseTo(x.train_answer_tok_s / x.decode_tok_s.ctx128_b8, 6);
    expect(x.train_activation_over_prefill).toBeCloseTo(x.train_activation_tok_s / x.prefill_tok_s['128'], 6);
    expect(r.stderr).toMatch(/f32: evaluation [\d.]+ tok\/s = [\d.]+ × batched decode/);
    // Peak RSS of the evaluation beside the same rows generated without the engine's scores, same model.
    const ev = x.evaluation;
    expect(ev.generation_peak_rss_mib).toBeGreaterThan(10);
    expect(ev.evaluation_over_generation_peak_rss).toBeCloseTo(ev.evaluation_peak_rss_mib / ev.generation_peak_rss_mib, 9);
    expect(ev.evaluation_over_generation_peak_rss).toBeLessThan(1.2);
  });

  it('with --train, times one whole train with its layer check and splits the time into the phases train reported; with --analyze-layers, an analyze-layers run too', async () => {
    const config = path.join(STYLIST, 'config.json');
    const r = await spawnAsync(
      process.execPath,
      [
        CLI,
        'bench',
        '--config',
        config,
        '--precision',
        'f32,q4',
        '--steps',
        '2',
        '--reps',
        '1',
        '--contexts',
        '',
        '--train',
        'q4',
        '--analyze-layers',
        '--json',
      ],
      { encoding: 'utf8', timeout: 600_000 },
    );
    expect(r.status, r.stderr).toBe(0);
    const { results } = JSON.parse(r.stdout);
    // --train q4: the train is timed at q4 only.
    expect(results.f32.train).toBeUndefined();
    const t = results.q4.train;
    expect([t.positive_prompts, t.negative_prompts, t.max_new_tokens]).toEqual([20, 20, 64]);
    const names = t.phases.map((p: { phase: string }) => p.phase);
    expect(names).toContain('answers');
    expect(names).toContain('steering check');
    // Each generation phase says how much it generated (its answer-token budget): work, which load does not move.
    expect(t.phases.find((p: { phase: string }) => p.phase === 'answers')).toMatchObject({ work: 40 * 64, unit: 'tokens' });
    const shares = t.phases.reduce((n: number, p: { share: number }) => n + p.share, 0);
    expect(shares).toBeCloseTo(1, 6);
    expect(Number.isInteger(t.recommended_layer)).toBe(true);
    // analyze-layers on the persona train made: every layer's separation, the screen, the grid.
    const a = t.analyze_layers;
    expect(a.layers).toBe(6);
    expect(a.screened_layers).toBe(6);
    expect(a.grid_layers).toBeGreaterThanOrEqual(1);
    expect(a.generated_tokens).toBeGreaterThan(0);
    expect(['steers', 'does-not-steer']).toContain(a.verdict);
    const aNames = a.phases.map((p: { phase: string }) => p.phase);
    expect(aNames).toContain('contrastive answers');
    expect(a.phases.reduce((n: number, p: { share: number }) => n + p.share, 0)).toBeCloseTo(1, 6);
    // Without a timed train there is no persona to analyse: an error, not a silent no-op.
    const alone = await spawnAsync(process.execPath, [CLI, 'bench', '--config', config, '--precision', 'q4', '--contexts', '', '--analyze-layers'], {
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(alone.status).not.toBe(0);
    expect(alone.stderr).toMatch(/--analyze-layers .*add --train/);
  }, 900_000);

  it('with --sizes, converts and measures each shape in fresh processes: load, RSS and decode against its own bound', async () => {
    const qwen3 = path.join(GOLDENS, 'qwen3', 'config.json');
    const stylist = path.join(STYLIST, 'config.json');
    const r = await spawnAsync(
      process.execPath,
      [CLI, 'bench', '--config', stylist, '--precision', 'q4', '--steps', '2', '--reps', '1', '--contexts', '', '--sizes', `${qwen3},${stylist}`, '--json'],
      { encoding: 'utf8', timeout: 300_000 },
    );
    expect(r.status, r.stderr).toBe(0);
    const sweep = JSON.parse(r.stdout).size_sweep;
    expect(sweep.map((x: { config: string }) => x.config)).toEqual(['config.json', 'config.json']);
    for (const [i, file] of [qwen3, stylist].entries()) {
      const x = sweep[i];
      const raw = JSON.parse(readFileSync(file, 'utf8'));
      expect([x.layers, x.hidden, x.precision]).toEqual([raw.num_hidden_layers, raw.hidden_size, 'q4']);
      expect(x.conversion.seconds).toBeGreaterThan(0);
      expect(x.conversion.peak_rss_mib).toBeGreaterThan(10);
      expect(typeof x.conversion.converted).toBe('boolean');
      expect(x.load_ms).toBeGreaterThan(0);
      expect(x.weights_mib).toBeGreaterThan(0);
      expect(x.peak_rss_mib).toBeGreaterThanOrEqual(x.rss_after_load_mib - 1);
      expect(x.decode_tok_s.ctx128_b1).toBeGreaterThan(0);
      expect(x.decode_share_of_bound).toBeCloseTo(x.decode_tok_s.ctx128_b1 / x.bound_decode_tok_s, 9);
    }
    // The two shapes differ, and so do their weights.
    expect(sweep[0].weights_mib).not.toBe(sweep[1].weights_mib);
    // A shape that is neither a file nor a shipped config is named in the error.
    const bad = await spawnAsync(process.execPath, [CLI, 'bench', '--config', stylist, '--precision', 'q4', '--contexts', '', '--sizes', 'qwen3-99b'], {
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(bad.status).not.toBe(0);
    expect(bad.stderr).toMatch(/qwen3-99b/);
  }, 300_000);

  it('lays out a random checkpoint with exactly the tensors of the config', async () => {
    const raw = JSON.parse(readFileSync(path.join(GOLDENS, 'qwen3', 'config.json'), 'utf8'));
    const names = checkpointTensors(raw).map((t) => t.name);
    expect(names).toContain('model.layers.2.self_attn.q_norm.weight');
    expect(names).not.toContain('lm_head.weight'); // tied
    expect(names.length).toBe(1 + 3 * 11 + 1);
  });
});
